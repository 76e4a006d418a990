// Serving a Tree on a FUSE mount. The one part of zenfs that talks to the kernel; its
// header keeps libfuse out of everything that includes it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fs/log.h"
#include "fs/tree.h"
#include "store/status.h"

namespace zenfs {

struct ServeOptions {
  std::string mountpoint;
  std::vector<std::string> fuse_options;  // passed as -o to libfuse (allow_other, ...)
  bool debug = false;                     // libfuse's request trace
  int max_threads = 8;                    // worker threads of the session loop
};

// Mounts `tree` on options.mountpoint and serves it until the mount is unmounted or the
// process gets SIGINT/SIGTERM/SIGHUP, then unmounts. `on_mounted` runs once the kernel
// mount exists (before serving starts), with Ok or the reason mounting failed. Returns Ok
// after a clean unmount.
Status ServeMount(Tree& tree, Logger& log, const ServeOptions& options,
                  const std::function<void(const Status&)>& on_mounted);

}  // namespace zenfs
