// Artifact and log bytes from S3 and S3-compatible object stores (issue 15): an
// ArtifactSource beside the local one, for `s3://bucket/key` URIs.
//
// Trust (SPEC §1, as for local roots). A URI is read only under a trusted root:
//  - every `--artifact-root s3://bucket[/prefix]` the admin gives (an allow-list, no
//    rewrite: the URI is read where it says);
//  - on a private mount only, the path (`s3://bucket/prefix`) of the artifact store
//    component that wrote it.
// A URI outside every trusted root is refused with the reason (meta.json's
// unavailable_reason) and never fetched: a store writer cannot make the daemon read any
// bucket the node's credentials reach.
//
// Endpoint and region (where the signed requests go). `--s3-endpoint`/`--s3-region`
// decide when given. Else, on a private mount, the component's client_kwargs
// (endpoint_url, region_name). Else what the daemon's environment says (AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION: S3SourceOptions::default_*), else AWS
// itself (us-east-1). On a shared (allow_other/allow_root) mount the store never picks the
// endpoint: a writer naming their own server would receive requests signed with the
// node's credentials, which replay against the real bucket for minutes.
//
// What is read. Folders come from ListObjectsV2 with a delimiter (every page); sizes and
// ETags from the listing, or from a HEAD for an artifact that is a single object. Both are
// kept for a while (artifact versions are immutable; a failure is kept briefly). ReadAt
// reads by 1 MiB blocks (BlockCache::kBlockSize), conditional on the ETag seen (If-Match:
// never bytes of two versions), through the node's BlockCache when there is one (Get, else
// a ranged GET and Put). A reader moving front to back (its reads near the end of its
// previous one) gets read-ahead: a window growing 1, 2, 4, 8, 16 blocks, fetched by a small
// pool of background threads, one GET for up to `max_request_blocks` consecutive blocks
// (one block a task while the cache serves the file), at most `max_in_flight_per_file`
// GETs per file, at most `max_readahead_bytes` held by all files. Other reads fetch exactly the range asked
// (from the cache when its blocks are there, never put in it: a random 4 KiB read costs 4
// KiB, not a megabyte), until the file's random reads have cost as much as the whole file
// would: then its blocks are filled into the cache while the reader goes on
// (S3SourceOptions::random_read_worth, a rent-or-buy rule: at most about twice the time
// of the better choice made in hindsight).
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/artifact_source.h"
#include "store/aws_credentials.h"
#include "store/block_cache.h"
#include "store/http.h"
#include "store/s3_client.h"

namespace zenfs {

// A trusted S3 root: everything in `bucket` whose key is `prefix` or lies below it.
struct S3Root {
  std::string bucket;
  std::string prefix;  // "" for the whole bucket; no leading or trailing '/'
  std::string ToString() const;  // "s3://bucket/prefix"
};

// "s3://bucket[/prefix][/]" as --artifact-root or a component's path gives it.
// InvalidArgument for anything else (another scheme, no bucket, "..", "." or empty segments).
Result<S3Root> ParseS3Root(std::string_view text);

struct S3SourceOptions {
  std::vector<S3Root> admin_roots;  // --artifact-root s3://...
  bool shared = false;              // allow_other / allow_root: the store's word makes no root
  std::string endpoint;             // --s3-endpoint ("" = not given)
  std::string region;               // --s3-region
  std::string default_endpoint;     // from the environment ("" = AWS's own)
  std::string default_region;       // from the environment ("" = us-east-1)
  // How long a folder listing or HEAD is kept (artifacts are immutable), and a failed one.
  std::chrono::seconds listing_ttl{600};
  std::chrono::seconds failure_ttl{5};
  // Read-ahead: background threads for all files, the largest window, the blocks one GET
  // fetches at most, GETs in flight per file, and the bytes all read-ahead blocks may hold
  // at once.
  int readahead_threads = 4;
  int max_window_blocks = 16;
  int max_request_blocks = 4;
  int max_in_flight_per_file = 4;
  std::uint64_t max_readahead_bytes = 64ull << 20;
  // Random reads fetch exactly their range, until a file's random reads have cost about
  // what fetching the whole file would (a ranged GET's round trip is worth
  // `random_read_worth` bytes of a transfer): from then on, while the reader goes on,
  // the file's blocks are fetched into the cache in the background, so a file read
  // densely at random (a table, an index) is soon read from the disk. Only with a cache,
  // and only for files of at most `max_fill_bytes` (0: never; a mount sets a quarter of
  // --cache-size, so one file cannot evict the rest of the cache).
  std::uint64_t random_read_worth = 512u << 10;
  std::uint64_t max_fill_bytes = 0;
  // Where a failing object is reported, once per key (the daemon's log). May be empty.
  std::function<void(const std::string& key, const std::string& message)> warn;
};

// Where requests for a component's objects go (pure; see the file comment for the order).
// InvalidArgument for an endpoint URL that is not http(s)://.
Result<S3Endpoint> ChooseS3Endpoint(const S3SourceOptions& options, const ArtifactStoreInfo& store);

// The trusted root `uri` lies under (pure; see the file comment). InvalidArgument, with a
// message fit for meta.json, when none does or the URI is malformed.
Result<S3Root> TrustedS3Root(const S3SourceOptions& options, std::string_view uri,
                             const ArtifactStoreInfo& store);

// How a file's reads are read ahead: fed each read's offset and length, it says whether
// the reader is sequential and how many blocks to keep ahead. Pure; not thread-safe.
class ReadAheadWindow {
 public:
  explicit ReadAheadWindow(int max_blocks) : max_(max_blocks) {}
  // Records a read; returns the blocks to keep ahead of it (0: a random read).
  int Next(std::uint64_t offset, std::size_t length);
  bool sequential() const { return window_ > 0; }

 private:
  int max_;
  int window_ = 0;
  std::uint64_t next_ = 0;  // where a sequential reader reads next
};

class S3ArtifactSource final : public ArtifactSource {
 public:
  // `cache` may be null (--no-cache). `http` serves S3 requests only (its own in-flight cap).
  S3ArtifactSource(S3SourceOptions options, std::shared_ptr<http::Client> http,
                   std::shared_ptr<AwsCredentialsProvider> credentials, std::shared_ptr<BlockCache> cache);
  ~S3ArtifactSource() override;
  S3ArtifactSource(const S3ArtifactSource&) = delete;
  S3ArtifactSource& operator=(const S3ArtifactSource&) = delete;

  Result<ArtifactRef> Locate(std::string_view uri, const ArtifactStoreInfo& store) override;
  Result<FileInfo> Stat(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::vector<DirEntryInfo>> List(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::unique_ptr<ArtifactFile>> Open(const ArtifactRef& ref, std::string_view rel) override;

  class Pool;     // the read-ahead threads
  struct Folder;  // one listed folder: its files and sub-folders
  struct Object;  // a file's size and ETag

 private:
  // The client for an endpoint (one per endpoint and region, kept).
  Result<std::shared_ptr<S3Client>> ClientFor(const S3Endpoint& endpoint);
  // What the key `key` of the located artifact is (cached).
  Result<FileInfo> StatKey(const ArtifactRef& ref, std::string_view rel, std::string* key, Object* object);
  Result<std::shared_ptr<const Folder>> ListFolder(S3Client& client, const std::string& bucket,
                                                   const std::string& prefix);
  Result<Object> HeadObject(S3Client& client, const std::string& bucket, const std::string& key);
  struct Cached;
  // The cached answer under `ck`, or `fetch`'s (kept listing_ttl, or failure_ttl if it failed).
  std::shared_ptr<const Cached> Remembered(const std::string& ck, const std::function<Status(Cached*)>& fetch);
  void Warn(const std::string& key, const std::string& message);

  S3SourceOptions options_;
  std::shared_ptr<http::Client> http_;
  std::shared_ptr<AwsCredentialsProvider> credentials_;
  std::shared_ptr<BlockCache> cache_;
  std::shared_ptr<Pool> pool_;
  std::shared_ptr<std::atomic<std::int64_t>> readahead_bytes_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<S3Client>> clients_;  // by endpoint; guarded by mu_
  std::map<std::string, std::shared_ptr<const Cached>> listings_;  // guarded by mu_; capped
};

}  // namespace zenfs
