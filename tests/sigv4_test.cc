// AWS Signature Version 4 (store/sigv4.h) against AWS's published vectors: the
// aws-sig-v4-test-suite (credentials AKIDEXAMPLE, service "service", us-east-1,
// 20150830T123600Z) and the worked examples of the S3 API reference ("Signature
// Calculations for the Authorization Header", bucket examplebucket, 20130524T000000Z).
// The expected values are AWS's published data, not computed here.
#include "store/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace zenfs::sigv4 {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kSuiteTime{seconds(1440938160)};  // 2015-08-30T12:36:00Z
const system_clock::time_point kS3Time{seconds(1369353600)};     // 2013-05-24T00:00:00Z

AwsCredentials SuiteCredentials() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};
}
AwsCredentials S3DocCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt};
}
const Scope kSuiteScope{"us-east-1", "service"};
const Scope kS3Scope{"us-east-1", "s3"};

std::string AuthorizationOf(const http::Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (name == "Authorization") return value;
  }
  return "";
}
std::string SignatureOf(const http::Headers& headers) {
  const std::string auth = AuthorizationOf(headers);
  const auto at = auth.find("Signature=");
  return at == std::string::npos ? "" : auth.substr(at + 10);
}

struct SuiteCase {
  const char* name;
  Request request;
  const char* signed_headers;
  const char* signature;
};

TEST(Sigv4Test, AwsTestSuite) {
  const std::string host = "example.amazonaws.com";
  const std::vector<SuiteCase> cases = {
      {"get-vanilla", {"GET", host, "/", {}, {}, kEmptyPayloadHash}, "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case",
       {"GET", host, "/", {{"Param2", "value2"}, {"Param1", "value1"}}, {}, kEmptyPayloadHash},
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-utf8", {"GET", host, "/\xe1\x88\xb4", {}, {}, kEmptyPayloadHash}, "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-space-unnormalized", {"GET", host, "/example space/", {}, {}, kEmptyPayloadHash},
       "host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-slashes-unnormalized", {"GET", host, "//example//", {}, {}, kEmptyPayloadHash},
       "host;x-amz-date", "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"},
      {"post-vanilla", {"POST", host, "/", {}, {}, kEmptyPayloadHash}, "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-x-www-form-urlencoded",
       {"POST", host, "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
        Sha256Hex("Param1=value1")},
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const http::Headers headers =
        Sign(c.request, SuiteCredentials(), kSuiteScope, kSuiteTime, /*content_sha256_header=*/false);
    EXPECT_EQ(AuthorizationOf(headers),
              std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                          "aws4_request, SignedHeaders=") +
                  c.signed_headers + ", Signature=" + c.signature);
  }
}

// The suite's intermediate values for get-vanilla and post-x-www-form-urlencoded: the
// canonical request text, the string to sign, and the hash chain between them.
TEST(Sigv4Test, AwsTestSuiteIntermediates) {
  Request get{"GET", "example.amazonaws.com", "/", {}, {}, kEmptyPayloadHash};
  std::string signed_headers;
  const std::string canonical =
      CanonicalRequest(get, {{"X-Amz-Date", "20150830T123600Z"}}, &signed_headers);
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(canonical),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(StringToSign("20150830T123600Z", kSuiteScope, canonical),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");

  Request post{"POST", "example.amazonaws.com", "/", {},
               {{"Content-Type", "application/x-www-form-urlencoded"}}, Sha256Hex("Param1=value1")};
  EXPECT_EQ(post.payload_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  const std::string post_canonical =
      CanonicalRequest(post, {{"X-Amz-Date", "20150830T123600Z"}}, &signed_headers);
  EXPECT_EQ(signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(StringToSign("20150830T123600Z", kSuiteScope, post_canonical),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
}

// The S3 API reference's worked examples (header-based authentication).
TEST(Sigv4Test, S3DocumentationExamples) {
  const std::string host = "examplebucket.s3.amazonaws.com";

  // GET Object with Range: the canonical request's hash and the signature.
  Request get{"GET", host, "/test.txt", {}, {{"Range", "bytes=0-9"}}, kEmptyPayloadHash};
  std::string signed_headers;
  const std::string canonical = CanonicalRequest(
      get, {{"x-amz-content-sha256", kEmptyPayloadHash}, {"x-amz-date", "20130524T000000Z"}},
      &signed_headers);
  EXPECT_EQ(canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign("20130524T000000Z", kS3Scope, canonical),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  const http::Headers get_headers = Sign(get, S3DocCredentials(), kS3Scope, kS3Time, true);
  EXPECT_EQ(AuthorizationOf(get_headers),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

  // PUT Object: a signed payload, a Date header and an x-amz- header; '$' in the key.
  Request put{"PUT", host, "/test$file.text", {},
              {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
              Sha256Hex("Welcome to Amazon S3.")};
  EXPECT_EQ(put.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const http::Headers put_headers = Sign(put, S3DocCredentials(), kS3Scope, kS3Time, true);
  EXPECT_NE(AuthorizationOf(put_headers)
                .find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"),
            std::string::npos);
  EXPECT_EQ(SignatureOf(put_headers),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");

  // GET Bucket Lifecycle: a query parameter without a value.
  Request lifecycle{"GET", host, "/", {{"lifecycle", ""}}, {}, kEmptyPayloadHash};
  EXPECT_EQ(SignatureOf(Sign(lifecycle, S3DocCredentials(), kS3Scope, kS3Time, true)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  // GET Bucket (List Objects): query parameters given out of order.
  Request list{"GET", host, "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, kEmptyPayloadHash};
  const std::string list_canonical = CanonicalRequest(
      list, {{"x-amz-content-sha256", kEmptyPayloadHash}, {"x-amz-date", "20130524T000000Z"}},
      &signed_headers);
  EXPECT_EQ(Sha256Hex(list_canonical),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(SignatureOf(Sign(list, S3DocCredentials(), kS3Scope, kS3Time, true)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(Sigv4Test, SessionTokenIsSentAndSigned) {
  AwsCredentials creds = SuiteCredentials();
  creds.session_token = "token/with+chars=";
  const Request req{"GET", "example.amazonaws.com", "/", {}, {}, kEmptyPayloadHash};
  const http::Headers headers = Sign(req, creds, kSuiteScope, kSuiteTime, false);
  bool token_sent = false;
  for (const auto& [name, value] : headers) {
    if (name == "x-amz-security-token") token_sent = value == creds.session_token;
  }
  EXPECT_TRUE(token_sent);
  EXPECT_NE(AuthorizationOf(headers).find("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  // The token is signed: another token gives another signature.
  creds.session_token = "other";
  EXPECT_NE(SignatureOf(Sign(req, creds, kSuiteScope, kSuiteTime, false)), SignatureOf(headers));
  // The secret never travels.
  for (const auto& [name, value] : headers) {
    EXPECT_EQ(value.find(creds.secret_access_key), std::string::npos) << name;
  }
}

TEST(Sigv4Test, UnsignedPayloadIsDeclaredAndSigned) {
  const Request req{"GET", "b.s3.amazonaws.com", "/k", {}, {}, kUnsignedPayload};
  const http::Headers headers = Sign(req, S3DocCredentials(), kS3Scope, kS3Time, true);
  bool declared = false;
  for (const auto& [name, value] : headers) {
    if (name == "x-amz-content-sha256") declared = value == "UNSIGNED-PAYLOAD";
  }
  EXPECT_TRUE(declared);
  std::string signed_headers;
  EXPECT_NE(CanonicalRequest(req, {}, &signed_headers).find("\nUNSIGNED-PAYLOAD"), std::string::npos);
}

TEST(Sigv4Test, CanonicalPieces) {
  // Paths: escaped once, slashes kept, nothing folded.
  EXPECT_EQ(EscapePath(""), "/");
  EXPECT_EQ(EscapePath("/a b/c+d/~x_y-z.0"), "/a%20b/c%2Bd/~x_y-z.0");
  EXPECT_EQ(EscapePath("/./../a//b"), "/./../a//b");
  EXPECT_EQ(EscapePath("/100%"), "/100%25");
  // Queries: encoded (slashes too), sorted by encoded name then value.
  EXPECT_EQ(QueryString({{"prefix", "a b+c/"}, {"list-type", "2"}, {"delimiter", "/"}}),
            "delimiter=%2F&list-type=2&prefix=a%20b%2Bc%2F");
  EXPECT_EQ(QueryString({{"b", "2"}, {"a", "1"}, {"A", "0"}, {"a", "0"}}), "A=0&a=0&a=1&b=2");
  EXPECT_EQ(QueryString({}), "");
  // Headers: names lower-cased and sorted, values trimmed and folded, repeats joined.
  const Request req{"GET", "h", "/", {}, {{"X-B", "  two   words \t"}, {"x-a", "1"}, {"X-b", "3"}},
                    kEmptyPayloadHash};
  std::string signed_headers;
  const std::string canonical = CanonicalRequest(req, {}, &signed_headers);
  EXPECT_EQ(signed_headers, "host;x-a;x-b");
  EXPECT_NE(canonical.find("host:h\nx-a:1\nx-b:two words,3\n\n"), std::string::npos);
  EXPECT_EQ(AmzDate(kSuiteTime), "20150830T123600Z");
  EXPECT_EQ(CredentialScope("20150830", kSuiteScope), "20150830/us-east-1/service/aws4_request");
}

}  // namespace
}  // namespace zenfs::sigv4
