// AWS Signature Version 4 (header-based), over OpenSSL's SHA-256 and HMAC: pure
// functions from a request's parts to its canonical request, string to sign, signing key,
// signature and the headers to send. Proven against AWS's published test vectors
// (tests/sigv4_test.cc). No clock and no I/O here: the caller passes the time.
//
// Paths are canonicalized the way S3 wants them (and the way the test suite's
// "unnormalized" cases do): each byte percent-encoded once except the unreserved ones and
// '/', no "." or ".." folding, no merging of "//". Services that double-encode paths
// (everything but S3) are not signed with it for paths that need escaping.
// Thread-safe (no state).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/aws_credentials.h"
#include "store/http.h"

namespace zenfs::sigv4 {

// The payload hash S3 accepts instead of hashing the body (x-amz-content-sha256).
inline constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";
// sha256("") in hex: the payload hash of a request without a body.
inline constexpr char kEmptyPayloadHash[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// What is signed of a request. Names and values are raw (not escaped): the signer
// escapes them, and QueryString/EscapePath give the caller the same escaping for the URL.
struct Request {
  std::string method = "GET";
  std::string host;  // the Host header exactly as sent: "host" or "host:port"
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> query;
  http::Headers headers;  // other headers to sign and send (Range, Content-Type, ...)
  std::string payload_hash = kEmptyPayloadHash;  // hex sha256 of the body, or kUnsignedPayload
};

// Who signs, for which scope.
struct Scope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "sts", ...
};

// Lower-case hex of sha256(data).
std::string Sha256Hex(std::string_view data);
// Raw HMAC-SHA256 of data under key (32 bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of raw bytes.
std::string Hex(std::string_view bytes);

// "20150830T123600Z" (x-amz-date) and "20150830" of a time, in UTC.
std::string AmzDate(std::chrono::system_clock::time_point t);

// The path percent-encoded as it is signed and sent: "/a b/ሴ" -> "/a%20b/%E1%88%B4";
// "" -> "/".
std::string EscapePath(std::string_view path);
// The canonical query string: names and values encoded, sorted by name then value,
// "name=value" joined with '&' ("lifecycle" with no value gives "lifecycle="). The same
// string serves as the URL's query.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& query);

// The canonical request of `req` with `extra` headers (x-amz-date and the like) added to
// what is signed; *signed_headers receives "host;x-amz-date" etc. Header names are
// lower-cased, values trimmed with inner runs of spaces folded to one; repeated names
// are joined with ','.
std::string CanonicalRequest(const Request& req, const http::Headers& extra,
                             std::string* signed_headers);
// "20150830/us-east-1/service/aws4_request".
std::string CredentialScope(std::string_view date8, const Scope& scope);
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request);
// The derived key: HMAC chain of "AWS4"+secret over date, region, service, "aws4_request".
std::string SigningKey(std::string_view secret, std::string_view date8, const Scope& scope);
// Hex HMAC-SHA256 of the string to sign under the signing key.
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

// Everything a request must carry to be signed at `now`: the Host header, x-amz-date,
// x-amz-content-sha256 (when `content_sha256_header`: S3 requires it, the generic test
// suite has none), x-amz-security-token (when the credentials have a session token),
// req.headers themselves, and Authorization last. All but Authorization are signed.
http::Headers Sign(const Request& req, const AwsCredentials& creds, const Scope& scope,
                   std::chrono::system_clock::time_point now, bool content_sha256_header);

}  // namespace zenfs::sigv4
