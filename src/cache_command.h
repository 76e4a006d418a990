// `zenfs cache stats` and `zenfs cache clean`: show and empty the node-wide block cache
// (store/block_cache.h, SPEC §5) without mounting.
#pragma once

#include <string>

namespace zenfs {

// Prints the folder's blocks, bytes, size limit and free disk space. `dir` "" is
// DefaultCacheDir(). A folder that does not exist yet is shown empty, not created.
// Returns the exit code (src/mount.h).
int CacheStatsCommand(const std::string& dir);
// Removes every block (waiting for an eviction in a running daemon to finish); the
// daemons using the folder fetch what they miss again.
int CacheCleanCommand(const std::string& dir);

}  // namespace zenfs
