// The pure parts of the S3 artifact source: which URIs are trusted, where requests go,
// how reads are read ahead, and how the dispatching source routes URIs. The source
// against a real S3 server is in s3_source_test.cc (zenfs_s3_tests).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/artifact_sources.h"
#include "store/local_artifact_source.h"
#include "store/s3_artifact_source.h"

namespace zenfs {
namespace {

TEST(ParseS3Root, AcceptsBucketsAndPrefixes) {
  struct Case {
    const char* text;
    const char* bucket;
    const char* prefix;
  };
  for (const Case& c : std::vector<Case>{{"s3://b", "b", ""},
                                         {"s3://b/", "b", ""},
                                         {"s3://b/p", "b", "p"},
                                         {"s3://b/p/q/", "b", "p/q"},
                                         {"s3://my-bucket/zenml/artifacts", "my-bucket", "zenml/artifacts"}}) {
    auto r = ParseS3Root(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().ToString();
    EXPECT_EQ(r->bucket, c.bucket) << c.text;
    EXPECT_EQ(r->prefix, c.prefix) << c.text;
  }
}

TEST(ParseS3Root, RefusesWhatIsNoPlainKey) {
  for (const char* text : {"", "s3://", "/local/path", "gs://b/p", "s3:/b/p", "s3://b/a//c", "s3://b/a/./c",
                           "s3://b/a/../c", "s3://b/.."}) {
    EXPECT_FALSE(ParseS3Root(text).ok()) << text;
  }
}

S3SourceOptions Private() { return S3SourceOptions{}; }
S3SourceOptions Shared() {
  S3SourceOptions o;
  o.shared = true;
  return o;
}
ArtifactStoreInfo S3Store(const char* path, const char* endpoint = "", const char* region = "") {
  return ArtifactStoreInfo{"s3", path, endpoint, region};
}

TEST(TrustedS3Root, ComponentPathOnlyOnAPrivateMount) {
  const ArtifactStoreInfo store = S3Store("s3://team/zenml");
  auto r = TrustedS3Root(Private(), "s3://team/zenml/step/out/1", store);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ToString(), "s3://team/zenml");
  auto shared = TrustedS3Root(Shared(), "s3://team/zenml/step/out/1", store);
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(shared.status().message().find("shared mount"), std::string::npos) << shared.status().message();
}

TEST(TrustedS3Root, OutsideTheComponentIsRefused) {
  const ArtifactStoreInfo store = S3Store("s3://team/zenml");
  for (const char* uri : {"s3://other/zenml/x", "s3://team/zenml2/x", "s3://team/x", "s3://team", "s3://team/zenml/../x"}) {
    auto r = TrustedS3Root(Private(), uri, store);
    EXPECT_FALSE(r.ok()) << uri;
  }
  // A local component names no S3 root at all.
  EXPECT_FALSE(TrustedS3Root(Private(), "s3://team/zenml/x", ArtifactStoreInfo{"local", "/srv/a", "", ""}).ok());
}

TEST(TrustedS3Root, AdminRootsAreAnAllowList) {
  S3SourceOptions o = Shared();
  o.admin_roots = {*ParseS3Root("s3://team/zenml"), *ParseS3Root("s3://whole")};
  EXPECT_TRUE(TrustedS3Root(o, "s3://team/zenml/a/b", {}).ok());
  EXPECT_TRUE(TrustedS3Root(o, "s3://team/zenml", {}).ok());
  EXPECT_TRUE(TrustedS3Root(o, "s3://whole/any/key", {}).ok());
  EXPECT_FALSE(TrustedS3Root(o, "s3://team/zenmlx/a", {}).ok());
  EXPECT_FALSE(TrustedS3Root(o, "s3://team/other/a", S3Store("s3://team/other")).ok())
      << "on a shared mount the component's path is no root";
  auto r = TrustedS3Root(o, "s3://secret/payroll.csv", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("s3://team/zenml"), std::string::npos) << r.status().message();
}

TEST(ChooseS3Endpoint, TheAdminDecidesThenTheStoreOnAPrivateMountThenTheEnvironment) {
  const ArtifactStoreInfo store = S3Store("s3://b/p", "http://127.0.0.1:9000/", "eu-west-1");
  auto e = ChooseS3Endpoint(Private(), store);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->url, "http://127.0.0.1:9000");
  EXPECT_EQ(e->region, "eu-west-1");
  EXPECT_TRUE(e->path_style);

  S3SourceOptions admin = Private();
  admin.endpoint = "https://minio.example:9000";
  admin.region = "us-west-2";
  e = ChooseS3Endpoint(admin, store);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->url, "https://minio.example:9000");
  EXPECT_EQ(e->region, "us-west-2");

  // A shared mount never sends requests where the store says.
  S3SourceOptions shared = Shared();
  e = ChooseS3Endpoint(shared, store);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->url, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(e->region, "us-east-1");
  EXPECT_FALSE(e->path_style);
  shared.default_endpoint = "http://10.0.0.5:9000";
  shared.default_region = "ap-south-1";
  e = ChooseS3Endpoint(shared, store);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->url, "http://10.0.0.5:9000");
  EXPECT_EQ(e->region, "ap-south-1");

  EXPECT_FALSE(ChooseS3Endpoint(Private(), S3Store("s3://b", "file:///etc/passwd")).ok());
  S3SourceOptions bad = Private();
  bad.endpoint = "ftp://x";
  EXPECT_FALSE(ChooseS3Endpoint(bad, {}).ok());
}

TEST(ReadAheadWindow, GrowsForASequentialReaderAndStopsForARandomOne) {
  ReadAheadWindow w(8);
  const std::size_t k = 128 * 1024;
  std::vector<int> seen;
  for (std::uint64_t off = 0; off < 6 * k; off += k) seen.push_back(w.Next(off, k));
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 4, 8, 8, 8}));
  EXPECT_EQ(w.Next(700ull << 20, 4096), 0) << "a jump far away is a random read";
  EXPECT_FALSE(w.sequential());
  EXPECT_EQ(w.Next(300ull << 20, 4096), 0);
  EXPECT_EQ(w.Next((300ull << 20) + 4096, 4096), 1) << "reading on from there is sequential again";
}

TEST(ReadAheadWindow, RequestsALittleOutOfOrderStaySequential) {
  ReadAheadWindow w(8);
  const std::size_t k = 128 * 1024;
  EXPECT_GT(w.Next(0, k), 0);
  EXPECT_GT(w.Next(2 * k, k), 0);
  EXPECT_GT(w.Next(k, k), 0);
  EXPECT_GT(w.Next(3 * k, k), 0);
}

TEST(ArtifactSources, S3UrisWithoutAnS3SourceAreUnavailableWithAReason) {
  ArtifactSources sources(std::make_unique<LocalArtifactSource>(UriResolver({}, "", false)), nullptr);
  auto r = sources.Locate("s3://b/k", S3Store("s3://b"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("s3://b/k"), std::string::npos);
  // Anything else is the local source's, with its own reasons.
  auto local = sources.Locate("relative/path", {});
  ASSERT_FALSE(local.ok());
  EXPECT_NE(local.status().message().find("not an absolute local path"), std::string::npos);
  EXPECT_TRUE(ArtifactSources::IsS3("s3://b"));
  EXPECT_FALSE(ArtifactSources::IsS3("/s3://b"));
  EXPECT_FALSE(ArtifactSources::IsS3("S3://b"));
}

}  // namespace
}  // namespace zenfs
