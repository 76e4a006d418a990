// An S3 client over the shared HTTP layer (store/http.h): the three calls the S3 artifact
// source needs (list a folder, HEAD an object, GET a byte range), every request signed
// with AWS Signature Version 4 (store/sigv4.h). Speaks to AWS and to S3-compatible servers
// (MinIO, Ceph, R2, moto), path-style or virtual-hosted.
//
// Errors: S3's error codes map to Status codes, with the S3 code and the bucket/key in the
// message (never a credential or a signature): NoSuchKey, NoSuchBucket -> kNotFound;
// AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken -> kPermissionDenied;
// PreconditionFailed (the object changed: its ETag is not the one asked for) -> kStale;
// anything else, and transport failures after the client's retries -> kIOError.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/aws_credentials.h"
#include "store/http.h"
#include "store/status.h"

namespace zenfs {

struct S3Endpoint {
  std::string url;        // "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region;     // "us-east-1" when nothing says otherwise
  bool path_style = true; // http://host/bucket/key; false: http://bucket.host/key
  // ListObjectsV2's max-keys: names per page (1000, S3's maximum; tests use small pages).
  std::size_t list_page_size = 1000;
};

struct S3Object {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // as the server sent it, quotes removed
};

struct S3Listing {
  std::vector<S3Object> objects;      // keys directly under the prefix
  std::vector<std::string> prefixes;  // "sub-folders": common prefixes, each ending in '/'
};

class S3Client {
 public:
  S3Client(std::shared_ptr<http::Client> http, S3Endpoint endpoint,
           std::shared_ptr<AwsCredentialsProvider> credentials);

  // Everything directly under `prefix` (which ends in '/', or is "" for the bucket), with
  // delimiter '/', every page of ListObjectsV2 followed. `max_keys` bounds the total (a
  // hostile bucket cannot make the daemon hold millions of names): more is kIOError.
  Result<S3Listing> List(const std::string& bucket, const std::string& prefix,
                         std::size_t max_keys = 100000);
  Result<S3Object> Head(const std::string& bucket, const std::string& key);
  // Reads up to `n` bytes at `offset` into `buf` with a ranged GET; fewer at the end of the
  // object, 0 past it. When `etag` is not empty the read is conditional on it (If-Match),
  // so bytes of two versions of an object are never mixed.
  Result<std::size_t> GetRange(const std::string& bucket, const std::string& key,
                               std::uint64_t offset, std::size_t n, char* buf,
                               const std::string& etag = {});

  // For `zenfs demo --artifact-store s3://...` and tests only (the mount never writes):
  // creates the bucket (an existing one of ours is fine) and uploads one object.
  Status CreateBucket(const std::string& bucket);
  Status Put(const std::string& bucket, const std::string& key, std::string_view body);

  const S3Endpoint& endpoint() const { return endpoint_; }
  http::Client& http() const { return *http_; }

  // Where a request for bucket/key goes: the Host header and the path, unescaped, as
  // sigv4::Request wants them, and the full escaped URL without query.
  struct Target {
    std::string host;
    std::string path;
    std::string url;
  };

 private:
  struct Call;
  Result<Target> Locate(const std::string& bucket, const std::string& key) const;
  // Signs and sends one request; any HTTP status comes back as a Response.
  Result<http::Response> Send(const Call& call);
  std::shared_ptr<http::Client> http_;
  S3Endpoint endpoint_;
  std::shared_ptr<AwsCredentialsProvider> credentials_;
};

// "s3://bucket/key/with/slashes" -> {bucket, key}; InvalidArgument for anything else
// (no bucket, another scheme, "..", NUL).
struct S3Uri {
  std::string bucket;
  std::string key;  // "" for the bucket itself; no leading '/'
};
Result<S3Uri> ParseS3Uri(std::string_view uri);

}  // namespace zenfs
