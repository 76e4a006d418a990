#include "src/options.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <string_view>

namespace zenfs {

namespace {

// Options fstab lines and systemd carry for mount(8) itself. mount.fuse3 already drops
// some of them (nofail, _netdev), but `zenfs STORE MP -o ...` may be run by hand or by
// another helper with the whole fstab list, so zenfs drops them too.
// x-* (x-systemd.automount, ...) and comment=* are dropped too.
constexpr std::array<std::string_view, 9> kMountFlags = {
    "nofail", "_netdev", "noauto", "auto", "user", "users", "owner", "group", "defaults"};

// FUSE and kernel mount options: flags...
constexpr std::array<std::string_view, 26> kFuseFlags = {
    "allow_other", "allow_root",  "auto_unmount", "default_permissions", "ro",
    "rw",          "dev",         "nodev",        "suid",                "nosuid",
    "exec",        "noexec",      "async",        "sync",                "dirsync",
    "atime",       "noatime",     "diratime",     "nodiratime",          "relatime",
    "norelatime",  "strictatime", "nostrictatime", "lazytime",           "nolazytime",
    "blkdev"};
// ... and options with a value. uid/gid/file_mode/dir_mode are read by zenfs itself
// (src/mount.cc); the others go to libfuse.
constexpr std::array<std::string_view, 12> kFuseValued = {
    "uid",     "gid",       "file_mode", "dir_mode",   "umask",      "fsname",
    "subtype", "max_read",  "blksize",   "context",    "fscontext",  "defcontext"};

template <std::size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

}  // namespace

Result<ExpandedOptions> ExpandMountOptions(const std::vector<std::string>& lists,
                                           const std::vector<LongOption>& long_options) {
  ExpandedOptions out;
  for (const std::string& list : lists) {
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
      if (item.empty()) continue;
      const std::size_t eq = item.find('=');
      const bool has_value = eq != std::string::npos;
      const std::string name = item.substr(0, eq);
      std::string dashed = name;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      auto own = std::find_if(long_options.begin(), long_options.end(),
                              [&](const LongOption& o) { return o.name == dashed; });
      if (!name.empty() && own != long_options.end()) {
        if (own->takes_value != has_value) {
          return Status::InvalidArgument("-o " + item + ": " + name +
                                         (own->takes_value ? " needs a value (" + name + "=...)"
                                                           : " takes no value"));
        }
        out.args.push_back("--" + own->name);
        if (has_value) out.args.push_back(item.substr(eq + 1));
        continue;
      }
      if ((!has_value && In(kMountFlags, name)) || name.rfind("x-", 0) == 0 ||
          (has_value && name == "comment")) {
        continue;
      }
      if ((!has_value && In(kFuseFlags, name)) || (has_value && In(kFuseValued, name))) {
        out.fuse.push_back(item);
        continue;
      }
      return Status::InvalidArgument("-o " + item + ": unknown mount option (zenfs(1) lists them)");
    }
  }
  return out;
}

}  // namespace zenfs
