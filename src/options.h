// `-o` lists of the mount command: zenfs's own options in their `-o` spelling, the
// options mount(8) and systemd leave in fstab lines, and the FUSE mount options.
#pragma once

#include <string>
#include <vector>

#include "store/status.h"

namespace zenfs {

// One long option of `zenfs mount`, as its `-o` form sees it.
struct LongOption {
  std::string name;          // without "--": "artifact-root"
  bool takes_value = false;  // false for flags such as --foreground
};

// What a set of `-o` lists means.
struct ExpandedOptions {
  // zenfs's own options, rewritten as command-line arguments in the order given:
  // `-o artifact_root=A=B` is {"--artifact-root", "A=B"}, `-o foreground` is
  // {"--foreground"}.
  std::vector<std::string> args;
  // The items left for the FUSE mount (allow_other, ro, uid=0, ...), in order.
  std::vector<std::string> fuse;
};

// Splits every list at commas and sorts each item. The rule, in this order:
//  1. `name` or `name=value` where `name`, with underscores read as dashes, is one of
//     `long_options`: that option (a flag takes no value, the others need one). So every
//     long option gets its `-o` spelling without code of its own.
//  2. Options of mount(8) and systemd that fstab lines carry (nofail, _netdev, noauto,
//     auto, user, users, owner, group, defaults, x-*, comment=*): accepted and dropped.
//  3. The FUSE and kernel mount options zenfs passes on or reads itself (allow_other,
//     allow_root, default_permissions, ro, rw, uid=, gid=, file_mode=, dir_mode=, ...).
//  4. Anything else: InvalidArgument naming the item (a usage error, exit code 1).
// Empty items (`a,,b`) are skipped. Pure: no I/O.
Result<ExpandedOptions> ExpandMountOptions(const std::vector<std::string>& lists,
                                           const std::vector<LongOption>& long_options);

}  // namespace zenfs
