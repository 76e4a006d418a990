#include "fs/permissions.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace zenfs {

namespace {

constexpr mode_t kOwnerBits = 0700;
constexpr mode_t kGroupBits = 0070;
constexpr mode_t kOtherBits = 0007;

// The overrides of -o uid=/gid=/file_mode=/dir_mode=, last: they win over the disk.
Ownership Override(const PermissionOptions& opts, bool is_dir, Ownership own) {
  if (opts.uid_override) own.uid = *opts.uid_override;
  if (opts.gid_override) own.gid = *opts.gid_override;
  const std::optional<mode_t>& mode = is_dir ? opts.dir_mode : opts.file_mode;
  if (mode) own.mode = *mode;
  return own;
}

FileInfo InfoOf(const struct stat& sb) {
  FileInfo info;
  info.is_dir = S_ISDIR(sb.st_mode);
  info.has_owner = true;
  info.uid = sb.st_uid;
  info.gid = sb.st_gid;
  info.mode = sb.st_mode & 07777;
  return info;
}

}  // namespace

mode_t ChainMask(uid_t owner, gid_t group, const std::vector<FileInfo>& ancestors) {
  mode_t mask = 0777;
  for (const FileInfo& a : ancestors) {
    const bool ux = (a.mode & S_IXUSR) != 0;
    const bool gx = (a.mode & S_IXGRP) != 0;
    const bool ox = (a.mode & S_IXOTH) != 0;
    // Someone who does not own the folder is searched by its group or its other bits,
    // whichever applies to them: both must allow it.
    const bool any_non_owner = gx && ox;
    const bool owner_ok = a.uid == owner ? ux : any_non_owner;
    // A member of the entry's group (or anyone else) might own the folder: u+x too.
    const bool group_ok = ux && (a.gid == group ? gx : any_non_owner);
    const bool other_ok = ux && any_non_owner;
    if (!owner_ok) mask &= ~kOwnerBits;
    if (!group_ok) mask &= ~kGroupBits;
    if (!other_ok) mask &= ~kOtherBits;
  }
  return mask;
}

Ownership TreeNodeOwnership(const PermissionOptions& opts, bool is_dir) {
  Ownership own{opts.uid, opts.gid, is_dir ? kDefaultDirMode : kDefaultFileMode};
  if (!opts.store_world_readable) own.mode &= ~kOtherBits;
  return Override(opts, is_dir, own);
}

Ownership BackedOwnership(const PermissionOptions& opts, const FileInfo& backing,
                          const std::vector<FileInfo>& ancestors) {
  if (!backing.has_owner) {
    return Override(opts, backing.is_dir,
                    {opts.uid, opts.gid, backing.is_dir ? kDefaultDirMode : kDefaultFileMode});
  }
  // Read and execute only: the mount is read-only, and a setuid bit means nothing on a
  // nosuid FUSE mount but would still mislead whoever looks.
  const mode_t bits = backing.mode & 0555 & ChainMask(backing.uid, backing.gid, ancestors);
  return Override(opts, backing.is_dir, {backing.uid, backing.gid, bits});
}

bool MayRead(const Caller& caller, const Ownership& own) {
  if (caller.uid == 0) return true;
  if (caller.uid == own.uid) return (own.mode & S_IRUSR) != 0;
  const bool member = caller.gid == own.gid ||
                      std::find(caller.groups.begin(), caller.groups.end(), own.gid) != caller.groups.end();
  if (member) return (own.mode & S_IRGRP) != 0;
  return (own.mode & S_IROTH) != 0;
}

Result<std::vector<FileInfo>> StatAncestors(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> real(realpath(path.c_str(), nullptr), &std::free);
  if (!real) return Status::IOError(path + ": " + std::strerror(errno));
  const std::string full = real.get();
  std::vector<FileInfo> out;
  // "/a/b/c" passes through "/", "/a" and "/a/b".
  for (std::size_t end = 0; end != std::string::npos && end + 1 < full.size();
       end = full.find('/', end + 1)) {
    const std::string dir = end == 0 ? "/" : full.substr(0, end);
    struct stat sb;
    if (stat(dir.c_str(), &sb) != 0) return Status::IOError(dir + ": " + std::strerror(errno));
    out.push_back(InfoOf(sb));
  }
  return out;
}

Result<std::vector<FileInfo>> StatFolderChain(const std::string& path) {
  auto chain = StatAncestors(path);
  if (!chain.ok()) return chain;
  struct stat sb;
  if (stat(path.c_str(), &sb) != 0) return Status::IOError(path + ": " + std::strerror(errno));
  chain->push_back(InfoOf(sb));
  return chain;
}

bool WorldReadable(const std::string& path) {
  struct stat sb;
  if (stat(path.c_str(), &sb) != 0) return false;
  auto ancestors = StatAncestors(path);
  if (!ancestors.ok()) return false;
  return (sb.st_mode & ChainMask(sb.st_uid, sb.st_gid, *ancestors) & S_IROTH) != 0;
}

Result<mode_t> ParseMode(const std::string& text) {
  const bool octal = !text.empty() && text.size() <= 5 &&
                     std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  const unsigned long n = octal ? std::strtoul(text.c_str(), nullptr, 8) : 0;
  if (!octal || n > 0777) return Status::InvalidArgument("not an octal mode of at most 0777: " + text);
  return static_cast<mode_t>(n);
}

}  // namespace zenfs
