#include "tests/hostile_util.h"

#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace zenfs::testing {

namespace {
constexpr const char* kScratchBase = "/var/tmp/zenfs-hostile-tests";
}  // namespace

bool RunningAsRoot() { return geteuid() == 0; }

bool EnsureUser(const std::string& name, TestUser* user, std::string* why) {
  if (getpwnam(name.c_str()) == nullptr) {
    const CommandResult r = RunCommand({"useradd", "--system", "--no-create-home", "--shell",
                                        "/usr/sbin/nologin", "--user-group", name});
    // Another test binary may have created it at the same moment (exit 9: name taken).
    if (r.exit_code != 0 && r.exit_code != 9) {
      *why = "useradd " + name + " failed (" + std::to_string(r.exit_code) + "): " + r.err;
      return false;
    }
  }
  const passwd* pw = getpwnam(name.c_str());
  if (pw == nullptr) {
    *why = "user " + name + " does not exist after useradd";
    return false;
  }
  *user = TestUser{name, pw->pw_uid, pw->pw_gid};
  return true;
}

CommandResult RunAs(const TestUser& user, const std::vector<std::string>& argv,
                    double timeout_s) {
  std::vector<std::string> full = {"setpriv", "--reuid=" + std::to_string(user.uid),
                                   "--regid=" + std::to_string(user.gid), "--clear-groups",
                                   "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full, timeout_s);
}

WorldScratch::WorldScratch() {
  std::filesystem::create_directories(kScratchBase);
  chmod(kScratchBase, 0755);
  std::string templ = std::string(kScratchBase) + "/t.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp under " << kScratchBase << ": " << std::strerror(errno);
    return;
  }
  chmod(templ.c_str(), 0755);
  path_ = templ;
}

WorldScratch::~WorldScratch() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace zenfs::testing
