// Kernel cache invalidations: what a store change made wrong in what the kernel may have
// cached, found by comparing two snapshots (DiffSnapshots). Pure; Tree::Refresh sends them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/inodes.h"
#include "fs/snapshot.h"

namespace zenfs {

// Something the kernel may have cached that a store change made wrong: a name in a folder
// (kEntry: `parent` + `name`, also for names that are new, to drop negative entries) or
// a node's attributes, pages and listing (kInode: `ino`).
struct Invalidation {
  enum class Kind { kEntry, kInode } kind;
  std::uint64_t ino = 0;  // kInode: the node; kEntry: the parent folder
  std::string name;       // kEntry only
  bool operator==(const Invalidation&) const = default;
};

// What changed between two pictures of a store, as kernel cache invalidations. Pure;
// thread-safe. O(size of the store).
std::vector<Invalidation> DiffSnapshots(const Snapshot& before, const Snapshot& after,
                                        const InodeHash& ino_of = InodeOf);

}  // namespace zenfs
