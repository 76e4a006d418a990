// The node-wide disk cache of object-store blocks (issue 15, SPEC §5): fixed-size blocks
// of immutable objects, shared by every zenfs daemon on the node that uses the same folder,
// kept across remounts.
//
// A block is keyed by what the object store says, never by what a ZenML store says:
// endpoint, bucket, key and ETag (an artifact version id is store text; keying by it would
// let one store poison or read another's blocks). The ETag is the proof of access: a
// caller knows it only after its own credentials listed or HEADed the object, so a shared
// cache never lets a mount read an object its credentials could not.
//
// Blocks are written to a temporary file and renamed into place (atomic), carry their
// length and a checksum (a torn, truncated or corrupt block is detected, removed and
// reported as a miss), and are evicted least-recently-used when the cache exceeds its size
// or the disk's free space falls below its floor. Several processes may use one folder at
// once. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/status.h"

namespace zenfs {

struct CachedObject {
  std::string endpoint;  // the S3 endpoint URL, as the client uses it
  std::string bucket;
  std::string key;
  std::string etag;      // never empty: an object without an ETag is not cached
};

struct BlockCacheOptions {
  std::string dir;                          // created mode 0700 when missing
  std::uint64_t max_bytes = 10ull << 30;    // --cache-size
  std::uint64_t min_free_bytes = 1ull << 30;  // keep this much of the disk free
};

struct BlockCacheStats {
  std::uint64_t blocks = 0;
  std::uint64_t bytes = 0;
  std::uint64_t hits = 0, misses = 0, corrupt = 0, evicted = 0;  // this process's
};

class BlockCache {
 public:
  static constexpr std::size_t kBlockSize = 1u << 20;  // 1 MiB

  // Opens (creating) the folder; refuses one that is not a folder owned by this user
  // with mode 0700 (another user could plant blocks). InvalidArgument says why.
  static Result<std::unique_ptr<BlockCache>> Open(const BlockCacheOptions& options);
  virtual ~BlockCache() = default;

  // Block `index` (bytes [index*kBlockSize, ...)) of the object into buf (room for
  // kBlockSize): its length, or NotFound on a miss (also for a corrupt block, which is
  // removed).
  virtual Result<std::size_t> Get(const CachedObject& object, std::uint64_t index, char* buf) = 0;
  // Stores a block: kBlockSize bytes, or fewer for the object's last block. Failing to
  // store (disk full, permissions) is reported but harmless: the caller has the bytes.
  virtual Status Put(const CachedObject& object, std::uint64_t index, std::string_view data) = 0;

  virtual BlockCacheStats Stats() = 0;
  // Removes every block. 
  virtual Status Clean() = 0;
};

}  // namespace zenfs
