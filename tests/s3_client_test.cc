// The S3 client (store/s3_client.h) against a real S3-protocol server with SigV4
// authentication on: moto (tests/moto_server.h), shared by the whole zenfs_s3_tests binary.
// Every test uses a bucket of its own.
#include "store/s3_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "store/aws_credentials.h"
#include "tests/moto_server.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

// The shared server, or null and a test failure (a missing server is never a skip:
// the harness says what to install).
MotoServer* Server() {
  std::string why;
  MotoServer* server = MotoEnvironment::Shared(&why);
  if (server == nullptr) ADD_FAILURE() << why;
  return server;
}

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

// Reads a whole object with ranged GETs of `chunk` bytes.
std::string ReadAll(S3Client& client, const std::string& bucket, const std::string& key,
                    std::size_t chunk, const std::string& etag = {}) {
  std::string out;
  std::vector<char> buf(chunk);
  for (;;) {
    auto n = client.GetRange(bucket, key, out.size(), chunk, buf.data(), etag);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

std::vector<std::string> Keys(const S3Listing& l) {
  std::vector<std::string> out;
  for (const auto& o : l.objects) out.push_back(o.key);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(S3ClientTest, PutListHeadAndRangeReadsRoundTrip) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  auto client = server->MakeClient();
  const std::string bucket = "zenfs-roundtrip";
  ASSERT_TRUE(client->CreateBucket(bucket).ok());
  ASSERT_TRUE(client->CreateBucket(bucket).ok()) << "an existing bucket of ours is fine";

  const std::string big = RandomBytes(300 * 1024 + 17, 1);
  const std::string small = "hello, S3\n";
  ASSERT_TRUE(client->Put(bucket, "run/model.bin", big).ok());
  ASSERT_TRUE(client->Put(bucket, "run/notes.txt", small).ok());
  ASSERT_TRUE(client->Put(bucket, "run/sub/deep.txt", "deep").ok());
  ASSERT_TRUE(client->Put(bucket, "run/a b+c&d.txt", "odd name").ok());
  ASSERT_TRUE(client->Put(bucket, "top.txt", "top").ok());
  ASSERT_TRUE(client->Put(bucket, "run/empty", "").ok());

  auto run = client->List(bucket, "run/");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(Keys(*run), (std::vector<std::string>{"run/a b+c&d.txt", "run/empty", "run/model.bin",
                                                  "run/notes.txt"}));
  EXPECT_EQ(run->prefixes, std::vector<std::string>{"run/sub/"});
  for (const auto& o : run->objects) {
    if (o.key == "run/model.bin") {
      EXPECT_EQ(o.size, big.size());
    }
    if (o.key == "run/notes.txt") {
      EXPECT_EQ(o.size, small.size());
    }
    EXPECT_FALSE(o.etag.empty());
    EXPECT_EQ(o.etag.find('"'), std::string::npos);
  }
  auto root = client->List(bucket, "");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(Keys(*root), std::vector<std::string>{"top.txt"});
  EXPECT_EQ(root->prefixes, std::vector<std::string>{"run/"});

  auto head = client->Head(bucket, "run/model.bin");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, big.size());
  EXPECT_FALSE(head->etag.empty());
  auto odd = client->Head(bucket, "run/a b+c&d.txt");
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  EXPECT_EQ(odd->size, 8u);

  // Whole objects by ranges of odd sizes, small (copied) and large (straight into the
  // buffer), conditional on the ETag or not: the bytes are the bytes uploaded.
  EXPECT_EQ(Sha256Hex(ReadAll(*client, bucket, "run/model.bin", 4093)), Sha256Hex(big));
  EXPECT_EQ(Sha256Hex(ReadAll(*client, bucket, "run/model.bin", 65536 + 3, head->etag)),
            Sha256Hex(big));
  EXPECT_EQ(ReadAll(*client, bucket, "run/notes.txt", 3), small);
  EXPECT_EQ(ReadAll(*client, bucket, "run/a b+c&d.txt", 100), "odd name");
  EXPECT_EQ(ReadAll(*client, bucket, "run/empty", 100), "");

  // A read at an odd offset, one across the end, one past it.
  std::vector<char> buf(20000);
  auto mid = client->GetRange(bucket, "run/model.bin", 12345, 10000, buf.data());
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  ASSERT_EQ(*mid, 10000u);
  EXPECT_EQ(std::string(buf.data(), 10000), big.substr(12345, 10000));
  auto tail = client->GetRange(bucket, "run/model.bin", big.size() - 5, 20000, buf.data());
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(std::string(buf.data(), *tail), big.substr(big.size() - 5));
  auto past = client->GetRange(bucket, "run/model.bin", big.size() + 10, 100, buf.data());
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_EQ(*past, 0u);
}

TEST(S3ClientTest, ListingFollowsEveryPageAndIsBounded) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  auto client = server->MakeClient({}, /*list_page_size=*/7);
  const std::string bucket = "zenfs-paging";
  ASSERT_TRUE(client->CreateBucket(bucket).ok());
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    const std::string key = "many/f" + std::to_string(1000 + i);
    ASSERT_TRUE(client->Put(bucket, key, std::to_string(i)).ok());
    expected.push_back(key);
  }
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(client->Put(bucket, "many/d" + std::to_string(i) + "/x", "x").ok());
  }
  auto all = client->List(bucket, "many/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Keys(*all), expected);
  EXPECT_EQ(all->prefixes.size(), 9u);
  // More names than the caller's bound: an error, not a truncated folder.
  auto bounded = client->List(bucket, "many/", 20);
  ASSERT_FALSE(bounded.ok());
  EXPECT_EQ(bounded.status().code(), Status::Code::kIOError);
  EXPECT_NE(bounded.status().message().find("more than 20"), std::string::npos);
}

TEST(S3ClientTest, WrongSecretAndUnsignedRequestsAreRefused) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  auto good = server->MakeClient();
  const std::string bucket = "zenfs-auth";
  ASSERT_TRUE(good->CreateBucket(bucket).ok());
  ASSERT_TRUE(good->Put(bucket, "k", "secret bytes").ok());

  AwsCredentials wrong = server->credentials();
  wrong.secret_access_key = "not-the-secret-" + wrong.secret_access_key.substr(0, 8);
  auto bad = server->MakeClient(wrong);
  char buf[64];
  auto get = bad->GetRange(bucket, "k", 0, sizeof(buf), buf);
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), Status::Code::kPermissionDenied) << get.status().ToString();
  EXPECT_NE(get.status().message().find("SignatureDoesNotMatch"), std::string::npos)
      << get.status().ToString();
  EXPECT_EQ(get.status().message().find(wrong.secret_access_key), std::string::npos);
  auto list = bad->List(bucket, "");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kPermissionDenied) << list.status().ToString();
  auto head = bad->Head(bucket, "k");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), Status::Code::kPermissionDenied) << head.status().ToString();

  AwsCredentials unknown{"AKIAUNKNOWNKEY000000", "whatever", "", std::nullopt};
  auto stranger = server->MakeClient(unknown);
  auto denied = stranger->List(bucket, "");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), Status::Code::kPermissionDenied) << denied.status().ToString();

  // No signature at all.
  http::Request unsigned_get;
  unsigned_get.url = server->endpoint() + "/" + bucket + "/k";
  auto resp = server->http()->Send(unsigned_get);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 403);
  EXPECT_EQ(resp->body.find("secret bytes"), std::string::npos);

  // The right key still works.
  auto ok = good->GetRange(bucket, "k", 0, sizeof(buf), buf);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(std::string(buf, *ok), "secret bytes");
}

TEST(S3ClientTest, MissingObjectsAndBucketsAreNotFound) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  auto client = server->MakeClient();
  const std::string bucket = "zenfs-missing";
  ASSERT_TRUE(client->CreateBucket(bucket).ok());
  char buf[16];
  auto get = client->GetRange(bucket, "no/such/key", 0, sizeof(buf), buf);
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), Status::Code::kNotFound) << get.status().ToString();
  EXPECT_NE(get.status().message().find("NoSuchKey"), std::string::npos);
  EXPECT_NE(get.status().message().find("s3://zenfs-missing/no/such/key"), std::string::npos);
  auto head = client->Head(bucket, "no/such/key");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), Status::Code::kNotFound) << head.status().ToString();
  auto list = client->List("zenfs-no-such-bucket", "");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kNotFound) << list.status().ToString();
  EXPECT_NE(list.status().message().find("NoSuchBucket"), std::string::npos);
  // An empty folder is an empty listing, not an error.
  auto empty = client->List(bucket, "nothing/here/");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_TRUE(empty->prefixes.empty());
}

TEST(S3ClientTest, StaleEtagIsRefusedNeverMixed) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  auto client = server->MakeClient();
  const std::string bucket = "zenfs-etag";
  ASSERT_TRUE(client->CreateBucket(bucket).ok());
  const std::string v1 = RandomBytes(50000, 2);
  const std::string v2 = RandomBytes(50000, 3);
  ASSERT_TRUE(client->Put(bucket, "obj", v1).ok());
  auto first = client->Head(bucket, "obj");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(client->Put(bucket, "obj", v2).ok());
  auto second = client->Head(bucket, "obj");
  ASSERT_TRUE(second.ok());
  ASSERT_NE(first->etag, second->etag);

  std::vector<char> buf(20000);
  for (std::size_t n : {std::size_t{100}, buf.size()}) {  // copied and direct reads
    auto stale = client->GetRange(bucket, "obj", 10, n, buf.data(), first->etag);
    ASSERT_FALSE(stale.ok()) << n;
    EXPECT_EQ(stale.status().code(), Status::Code::kStale) << stale.status().ToString();
    auto fresh = client->GetRange(bucket, "obj", 10, n, buf.data(), second->etag);
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    EXPECT_EQ(std::string(buf.data(), *fresh), v2.substr(10, n));
  }
}

// Virtual-hosted addressing (http://BUCKET.host/key): "BUCKET.localhost" is loopback
// to libcurl without DNS, and moto serves buckets by subdomain.
TEST(S3ClientTest, VirtualHostedAddressingRoundTrips) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  S3Endpoint ep{"http://localhost:" + std::to_string(server->port()), "us-east-1", false};
  S3Client client(server->http(), ep,
                  std::make_shared<StaticCredentialsProvider>(server->credentials()));
  const std::string bucket = "zenfs-vhost";
  ASSERT_TRUE(client.CreateBucket(bucket).ok());
  const std::string body = RandomBytes(20000, 4);
  ASSERT_TRUE(client.Put(bucket, "dir/a b.bin", body).ok());
  auto list = client.List(bucket, "dir/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(Keys(*list), std::vector<std::string>{"dir/a b.bin"});
  auto head = client.Head(bucket, "dir/a b.bin");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, body.size());
  EXPECT_EQ(Sha256Hex(ReadAll(client, bucket, "dir/a b.bin", 9000, head->etag)), Sha256Hex(body));
  // The path-style client sees the same object.
  auto path_style = server->MakeClient();
  auto same = path_style->Head(bucket, "dir/a b.bin");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->etag, head->etag);
}

// Web identity (store/aws_credentials.h): the chain exchanges a token file for temporary
// credentials with STS AssumeRoleWithWebIdentity; the session token is sent and signed,
// and a wrong one is refused.
TEST(S3ClientTest, SessionTokenCredentialsFromStsWebIdentityAreAccepted) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  TempDir home;
  WriteFile(home.path() + "/token", "a-token-moto-accepts\n");
  AwsChainOptions options;
  options.env = {{"HOME", home.path()},
                 {"AWS_WEB_IDENTITY_TOKEN_FILE", home.path() + "/token"},
                 {"AWS_ROLE_ARN", server->web_identity_role_arn()},
                 {"AWS_ROLE_SESSION_NAME", "zenfs-test"},
                 {"AWS_ENDPOINT_URL_STS", server->endpoint()},
                 {"AWS_EC2_METADATA_DISABLED", "true"}};
  options.http = server->http();
  auto chain = MakeAwsCredentialChain(options);
  ASSERT_TRUE(server->AllowUnsigned(1).ok());  // AWS serves this call unsigned
  auto temp = chain->Get();
  ASSERT_TRUE(server->AllowUnsigned(0).ok());
  ASSERT_TRUE(temp.ok()) << temp.status().ToString();
  ASSERT_FALSE(temp->session_token.empty());
  ASSERT_TRUE(temp->expires.has_value());
  // Kept, not asked for again (the server would refuse an unsigned call now).
  auto again = chain->Get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->access_key_id, temp->access_key_id);

  auto owner = server->MakeClient();
  const std::string bucket = "zenfs-sts";
  ASSERT_TRUE(owner->CreateBucket(bucket).ok());
  ASSERT_TRUE(owner->Put(bucket, "x", "via a role").ok());
  S3Endpoint ep{server->endpoint(), "us-east-1", true};
  S3Client client(server->http(), ep, chain);
  char buf[32];
  auto got = client.GetRange(bucket, "x", 0, sizeof(buf), buf);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::string(buf, *got), "via a role");

  AwsCredentials forged = *temp;
  forged.session_token = "forged-" + temp->session_token;
  auto refused = server->MakeClient(forged)->GetRange(bucket, "x", 0, sizeof(buf), buf);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
}

// IMDSv2 (store/aws_credentials.h) against moto's stand-in of the instance metadata
// service (it serves /latest/api/token and /latest/meta-data/ on any host): the token,
// the role and its credentials are read, and kept until they near their expiry. A node
// with no such service gives up within the short configured bound.
TEST(S3ClientTest, InstanceMetadataLinkReadsRoleCredentials) {
  MotoServer* server = Server();
  if (server == nullptr) return;
  TempDir home;
  AwsChainOptions options;
  options.env = {{"HOME", home.path()}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", server->endpoint()}};
  options.imds_timeout = std::chrono::milliseconds(10000);  // a loaded CI machine
  auto creds = MakeAwsCredentialChain(options)->Get();
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_FALSE(creds->access_key_id.empty());
  EXPECT_FALSE(creds->secret_access_key.empty());
  EXPECT_FALSE(creds->session_token.empty());
  EXPECT_TRUE(creds->expires.has_value());

  // Nothing listening there: refused at once, and said so.
  std::string error;
  const int port = FreeLoopbackPort(&error);
  ASSERT_NE(port, 0) << error;
  options.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(port);
  options.imds_timeout = std::chrono::milliseconds(500);
  auto chain = MakeAwsCredentialChain(options);
  const auto started = std::chrono::steady_clock::now();
  auto none = chain->Get();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(none.status().message().find("instance metadata"), std::string::npos)
      << none.status().message();
  // Asked again at once, it does not try again (the failure is remembered for a while).
  auto again = chain->Get();
  ASSERT_FALSE(again.ok());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 30.0)
      << "a liveness bound with generous slack";
}

}  // namespace
}  // namespace zenfs::testing
