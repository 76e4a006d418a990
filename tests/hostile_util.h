// Helpers for the shared-node tests: unprivileged users created for the test, commands run
// as them, and a scratch folder every user can traverse (the checkout's own path may not
// be, and a root `allow_other` mount is only interesting when another user reads it).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/mount_util.h"

namespace zenfs::testing {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The system user `name`, created (no home, no login shell) if it does not exist yet.
// Needs root; fails the calling test through *why and returns false when it cannot.
bool EnsureUser(const std::string& name, TestUser* user, std::string* why);

// True when this process is root (the shared-node tests mount as root and read as others).
bool RunningAsRoot();

// Runs argv as `user` (setpriv: real and effective ids, no supplementary groups), with the
// same deadline and capture as RunCommand.
CommandResult RunAs(const TestUser& user, const std::vector<std::string>& argv,
                    double timeout_s = 30);

// A fresh folder under /var/tmp/zenfs-hostile-tests (mode 0755 all the way down, so every
// user can traverse it), removed with everything in it on destruction.
class WorldScratch {
 public:
  WorldScratch();
  ~WorldScratch();
  WorldScratch(const WorldScratch&) = delete;
  WorldScratch& operator=(const WorldScratch&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zenfs::testing
