// Who may read what through the mount (SPEC §4): the owner, group and mode of every node,
// and the check of a caller against them at open. The rule never lets a user read through
// the mount what they could not read on disk; it may refuse more (see ChainMask).
// Pure functions, apart from StatAncestors and WorldReadable, which stat local paths.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "store/artifact_source.h"
#include "store/status.h"

namespace zenfs {

// What the mount was told about ownership (TreeOptions::perms). Immutable after mount.
struct PermissionOptions {
  // The mounting user: owns the tree's own folders and meta.json files, and objects that
  // have no owner on disk (object storage).
  uid_t uid = 0;
  gid_t gid = 0;
  // -o uid=N / gid=N: every node's owner, whatever the disk says (the admin's choice).
  std::optional<uid_t> uid_override;
  std::optional<gid_t> gid_override;
  // -o file_mode=M / dir_mode=M: every file's / folder's permission bits. Without them,
  // objects with no owner get kDefaultFileMode / kDefaultDirMode.
  std::optional<mode_t> file_mode;
  std::optional<mode_t> dir_mode;
  // Whether every user can read the store's database file (WorldReadable, at mount). If
  // not, the tree's own nodes lose their world bits: they hold what the store holds.
  bool store_world_readable = true;
  // allow_other / allow_root: other users reach the mount, so Tree::Open checks each
  // caller against the file actually opened (the kernel's cached attributes may be stale).
  bool check_callers = false;
};

inline constexpr mode_t kDefaultFileMode = 0444;
inline constexpr mode_t kDefaultDirMode = 0555;

// A node's owner and permission bits (07777 at most; the file type is the tree's).
struct Ownership {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
  bool operator==(const Ownership&) const = default;
};

// The permission bits (0777) the folders above an entry let each of its classes reach:
// reading needs search (x) on every folder from `/` down. Owner, group members and others
// of an entry may stand in any class of a folder owned by someone else, and zenfs does not
// know group memberships, so a class keeps its bits only if the folder lets through every
// user that class may hold:
//   - the entry's owner: the folder's u+x if it owns the folder too, else g+x and o+x;
//   - its group: u+x, and g+x if the folder has the same group, else g+x and o+x;
//   - others: u+x, g+x and o+x.
// Never wider than the disk; narrower in rare layouts (a 0750 folder of another group).
mode_t ChainMask(uid_t owner, gid_t group, const std::vector<FileInfo>& ancestors);

// The tree's own folders (0555) and meta.json files (0444), owned by the mounting user,
// less the world bits if the store is private; then the overrides.
Ownership TreeNodeOwnership(const PermissionOptions& opts, bool is_dir);

// An artifact or logs file or folder. With an owner on disk (`backing.has_owner`): the
// backing file's owner, group and read/execute bits (write, setuid, setgid and sticky
// cleared), masked by ChainMask over `ancestors` (the folders from `/` down to its parent,
// outermost first). Without: the mount's owner and default modes. Then the overrides.
Ownership BackedOwnership(const PermissionOptions& opts, const FileInfo& backing,
                          const std::vector<FileInfo>& ancestors);

// Who asks (from the FUSE request): user, primary group and supplementary groups.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// Whether `caller` may read a node with `own`, as the kernel decides it: root always; the
// owner by the owner bits alone; a member of the group by the group bits; others by theirs.
bool MayRead(const Caller& caller, const Ownership& own);

// The folders a local path's real location passes through, from `/` to its parent
// (symlinks resolved first, so they are the folders actually searched). IOError if the
// path does not resolve.
Result<std::vector<FileInfo>> StatAncestors(const std::string& path);
// StatAncestors, then the folder `path` itself: from `/` down to and including it.
Result<std::vector<FileInfo>> StatFolderChain(const std::string& path);

// Whether every user can read `path` on disk: o+r on it and search on every folder above
// (ChainMask). False if it cannot be stat'ed.
bool WorldReadable(const std::string& path);

// An octal mode from -o file_mode=/dir_mode= ("0444", "755"): at most 0777.
Result<mode_t> ParseMode(const std::string& text);

}  // namespace zenfs
