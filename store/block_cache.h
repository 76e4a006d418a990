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
//
// On disk (block_cache.cc), below the folder:
//   blocks/<h[0..2]>/<h>.<index>   one block; h = hex SHA-256 of endpoint \0 bucket \0 key
//                                  \0 etag, index in decimal. A 64-byte header (magic
//                                  "zenfsblk", version, payload length, index, the key's
//                                  digest, an XXH3-64 checksum of header and payload) and
//                                  the payload. Written as blocks/<h[0..2]>/.tmp.* and
//                                  renamed into place, so a reader sees a whole block or none.
//   blocks.lock                    flock(2)ed by whichever process evicts or cleans.
// Recency is the block file's mtime: a hit older than a few seconds touches it. Every
// process keeps a running estimate of the folder's size (a scan at Open, plus what it
// puts) and scans again only when that estimate passes the size limit or after it has
// put a sixteenth of the limit; the scan evicts oldest first, down to 90% of the limit and
// above the free-space floor. One process evicts at a time (blocks.lock); others skip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/status.h"

namespace zenfs {

// The cache folder when none is given (SPEC §5): /var/cache/zenfs for root (euid 0),
// else $XDG_CACHE_HOME/zenfs when that is an absolute path, else $HOME/.cache/zenfs; ""
// when none applies. Pure, for tests; DefaultCacheDir() feeds it this process's values.
std::string DefaultCacheDirFor(unsigned euid, const char* xdg_cache_home, const char* home);
// This process's default cache folder (HOME from the password database when unset), or
// InvalidArgument when there is none.
Result<std::string> DefaultCacheDir();

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

  // Counts the folder's blocks (a scan: for `zenfs cache stats` and tests, not hot paths).
  virtual BlockCacheStats Stats() = 0;
  // Removes every block, waiting for an eviction in another process to finish.
  virtual Status Clean() = 0;
};

}  // namespace zenfs
