// Mount tests of how admins run zenfs: `mount -t fuse.zenfs` and fstab lines, the
// background daemon's manners, systemd's readiness protocol and journal priorities.
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/hostile_util.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;

std::string Canonical(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? buf : path;
}

// A demo store, a mountpoint and an unprivileged reader, all under a world-traversable
// scratch folder: the shared-node setting (root mounts with allow_other, others read).
class MountHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    if (!RunningAsRoot()) GTEST_SKIP() << "mount(8) and a second user need root";
    std::string why;
    ASSERT_TRUE(EnsureUser("zenfs-ops-reader", &user_, &why)) << why;
    store_ = scratch_.path() + "/store";
    const CommandResult r = RunZenfs({"demo", store_, "--schema", "0.74", "--artifact-bytes", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    mnt_ = scratch_.path() + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    bin_ = scratch_.path() + "/bin";
    ASSERT_EQ(mkdir(bin_.c_str(), 0755), 0);
    fs::create_symlink(Canonical(ZenfsBinary()), bin_ + "/zenfs");
  }

  // mount(8) runs mount.fuse3 with a fixed PATH (/usr/local/bin, /usr/bin, /bin, ...),
  // and mount.fuse3 runs `zenfs STORE MOUNTPOINT -o OPTS` through /bin/sh with it, so the
  // binary under test must be found there. Rather than install it, `script` runs in a
  // private mount namespace (unshare -m) where /usr/local/bin is bind-mounted over by a
  // folder holding only a `zenfs` link to the binary under test: the machine sees no new
  // file and no mount, and every mount the script makes lives only in that namespace
  // (the script unmounts it on exit, whatever happened). $MP, $STORE, $READER (a setpriv
  // prefix that runs a command as the test user) are set for the script.
  CommandResult RunInNamespace(const std::string& script) {
    std::ostringstream full;
    full << "set -eu\n"
         << "MP='" << mnt_ << "'; STORE='" << store_ << "'\n"
         << "READER='setpriv --reuid=" << user_.uid << " --regid=" << user_.gid << " --clear-groups --'\n"
         << "mount --bind '" << bin_ << "' /usr/local/bin\n"
         << "trap 'umount -l \"$MP\" 2>/dev/null || true' EXIT\n"
         << script;
    return RunCommand({"unshare", "-m", "--propagation", "private", "sh", "-c", full.str()}, 120);
  }

  // Checks what a script that mounted, read as the reader and unmounted printed.
  void ExpectMountedReadAndUnmounted(const CommandResult& r) {
    ASSERT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    EXPECT_NE(r.out.find("fuse.zenfs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("allow_other"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("example_pipeline"), std::string::npos) << "the reader's listing:\n" << r.out;
    EXPECT_NE(r.out.find("META_READ"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("UNMOUNTED"), std::string::npos) << r.out;
  }

  // The part shared by both scripts, after the mount command.
  static constexpr const char* kReadAndUnmount =
      "grep \" $MP \" /proc/self/mountinfo\n"
      "$READER ls \"$MP\"\n"
      "$READER cat \"$MP/meta.json\" >/dev/null && echo META_READ\n"
      "umount \"$MP\"\n"
      "if grep -q \" $MP \" /proc/self/mountinfo; then echo STILL_MOUNTED; exit 1; fi\n"
      "echo UNMOUNTED\n";

  WorldScratch scratch_;
  TestUser user_;
  std::string store_, mnt_, bin_;
};

TEST_F(MountHelperTest, MountTypeFuseZenfsWithAllowOtherIsReadByAnotherUser) {
  // Options of every kind: FUSE's, zenfs's own in -o spelling, mount(8)'s and systemd's.
  const CommandResult r = RunInNamespace(
      "mount -t fuse.zenfs \"$STORE\" \"$MP\" "
      "-o allow_other,refresh=5,log_level=warning,nofail,_netdev,x-systemd.automount\n" +
      std::string(kReadAndUnmount));
  ExpectMountedReadAndUnmounted(r);
}

TEST_F(MountHelperTest, FstabLineMountsWithMountT) {
  // A temporary fstab file (`mount -T`): the machine's /etc/fstab is never touched.
  const std::string fstab = scratch_.path() + "/fstab";
  std::ofstream(fstab) << "# a comment line, as fstab files have\n"
                       << store_ << " " << mnt_
                       << " fuse.zenfs ro,allow_other,nofail,_netdev,noauto,refresh=10 0 0\n";
  const CommandResult r =
      RunInNamespace("mount -T '" + fstab + "' \"$MP\"\n" + std::string(kReadAndUnmount));
  ExpectMountedReadAndUnmounted(r);
  EXPECT_NE(r.out.find(" ro,"), std::string::npos) << "the mount is read-only:\n" << r.out;
}

TEST_F(MountHelperTest, UnknownMountOptionIsAUsageError) {
  // The form mount.fuse3 runs, by hand: nothing is mounted, exit 1, the item is named.
  for (const char* opts : {"allow_other,frobnicate", "refresh", "refresh=soon", "foreground=1"}) {
    const CommandResult r = RunZenfs({store_, mnt_, "-o", opts});
    EXPECT_EQ(r.exit_code, 1) << opts << ": " << r.err;
    EXPECT_FALSE(r.err.empty()) << opts;
    EXPECT_EQ(MountedFsType(Canonical(mnt_)), "") << opts;
  }
  const CommandResult r = RunZenfs({store_, mnt_, "-o", "allow_other,frobnicate"});
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------- the background daemon

// The pid of the zenfs process serving `mountpoint`, found by its command line.
std::optional<pid_t> DaemonServing(const std::string& mountpoint) {
  const std::string exe = Canonical(ZenfsBinary());
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec;
    if (fs::read_symlink(e.path() / "exe", ec).string() != exe) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    std::stringstream parts(cmdline);
    std::string arg;
    while (std::getline(parts, arg, '\0')) argv.push_back(arg);
    for (const std::string& a : argv) {
      if (a == mountpoint) return static_cast<pid_t>(std::stol(name));
    }
  }
  return std::nullopt;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    dir_ = std::make_unique<TempDir>(MountTestRoot());
    store_ = dir_->path() + "/store";
    const CommandResult r = RunZenfs({"demo", store_, "--schema", "0.74", "--artifact-bytes", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    mnt_ = dir_->path() + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    mnt_ = Canonical(mnt_);
  }
  void TearDown() override {
    if (!mnt_.empty() && !MountedFsType(mnt_).empty()) RunZenfs({"umount", mnt_});
  }

  std::unique_ptr<TempDir> dir_;
  std::string store_, mnt_;
};

TEST_F(DaemonTest, BackgroundDaemonLeavesTheCallersDirectoryUmaskAndDescriptors) {
  // Started from a folder of its own, with the folder and a file open as descriptor 9
  // (not close-on-exec, as a shell's redirection leaves it), and a umask of 0.
  const std::string cwd = dir_->path() + "/caller";
  ASSERT_EQ(mkdir(cwd.c_str(), 0755), 0);
  const std::string marker = cwd + "/inherited";
  std::ofstream(marker) << "x";
  // The store and mountpoint relative to the caller's folder: the daemon must still find
  // them after it left that folder.
  const CommandResult r = RunCommand(
      {"sh", "-c", "cd \"$1\" && umask 0 && exec \"$2\" mount ../store ../mnt 9<\"$3\"", "sh", cwd,
       Canonical(ZenfsBinary()), marker});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(MountedFsType(mnt_), "fuse.zenfs");
  const auto pid = DaemonServing("../mnt");
  ASSERT_TRUE(pid.has_value()) << "no zenfs process serves " << mnt_;
  const std::string proc = "/proc/" + std::to_string(*pid);
  EXPECT_EQ(fs::read_symlink(proc + "/cwd").string(), "/");
  for (const auto& e : fs::directory_iterator(proc + "/fd")) {
    std::error_code ec;
    const std::string target = fs::read_symlink(e.path(), ec).string();
    EXPECT_NE(target, marker) << "descriptor " << e.path().filename() << " was inherited";
    EXPECT_NE(e.path().filename().string(), "9") << "descriptor 9 -> " << target;
  }
  std::ifstream status(proc + "/status");
  std::string line, umask;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) umask = line.substr(6);
  }
  EXPECT_NE(umask.find("0027"), std::string::npos) << "Umask:" << umask;
  // And it serves the store it was pointed at relatively.
  EXPECT_TRUE(ListDir(mnt_ + "/example_pipeline").has_value()) << std::strerror(errno);
  EXPECT_EQ(RunZenfs({"umount", mnt_}).exit_code, 0);
}

// A unix datagram socket the test owns, as systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ok_ = fd_ >= 0 && path.size() < sizeof addr.sun_path &&
          bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool ok() const { return ok_; }

  // The next message, waiting at most timeout_s; nullopt on timeout.
  std::optional<std::string> Receive(double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n >= 0) return std::string(buf, static_cast<std::size_t>(n));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

// Sets an environment variable for one scope (the mount's daemon inherits it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

TEST_F(DaemonTest, NotifiesReadyOnlyOnceTheMountAnswersAndStoppingOnExit) {
  NotifySocket sock(dir_->path() + "/notify");
  ASSERT_TRUE(sock.ok()) << std::strerror(errno);
  std::optional<Mount> m;
  {
    ScopedEnv env("NOTIFY_SOCKET", dir_->path() + "/notify");
    m.emplace(Mount::Options{store_, mnt_, {}, /*foreground=*/true});
  }
  ASSERT_TRUE(m->ok()) << m->error();
  const auto ready = sock.Receive(60);
  ASSERT_TRUE(ready.has_value()) << "no READY=1 within 60 s; daemon log:\n" << m->DaemonLog();
  // When READY=1 arrives the mount is there and answers a statfs (never cached).
  EXPECT_NE(ready->find("READY=1"), std::string::npos) << *ready;
  struct statvfs vfs;
  EXPECT_EQ(statvfs(mnt_.c_str(), &vfs), 0) << std::strerror(errno);
  EXPECT_EQ(MountedFsType(mnt_), "fuse.zenfs");
  const auto status = m->SignalAndWait(SIGTERM);
  ASSERT_TRUE(status.has_value());
  std::string stopping;
  while (auto msg = sock.Receive(5)) stopping += *msg;
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << "after SIGTERM: " << stopping;
}

TEST_F(DaemonTest, LogLinesCarryJournalPrioritiesOnlyWhenStderrIsTheJournal) {
  // The foreground daemon with stderr on a file; JOURNAL_STREAM names that file's
  // device:inode (as systemd does for a journal stream), or another file's.
  for (const bool journal : {true, false}) {
    SCOPED_TRACE(journal ? "JOURNAL_STREAM matches stderr" : "JOURNAL_STREAM names another file");
    const std::string log = dir_->path() + (journal ? "/journal.log" : "/plain.log");
    const std::string script =
        "exec 2>\"$1\"\n"
        "JOURNAL_STREAM=$(stat -c %d:%i \"$" + std::string(journal ? "1" : "2") + "\"); export JOURNAL_STREAM\n"
        "\"$3\" mount -f --log-level debug \"$4\" \"$5\" & pid=$!\n"
        "i=0; until grep -q \" $5 \" /proc/self/mountinfo; do\n"
        "  i=$((i+1)); if [ $i -gt 600 ]; then kill -9 $pid; exit 7; fi; sleep 0.1; done\n"
        "ls \"$5\" >/dev/null\n"
        "kill -TERM $pid; wait $pid\n";
    const CommandResult r = RunCommand({"sh", "-c", script, "sh", log, store_,
                                        Canonical(ZenfsBinary()), store_, mnt_},
                                       120);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(r.exit_code, 0) << r.err << "\ndaemon log:\n" << text;
    EXPECT_EQ(MountedFsType(mnt_), "");
    if (journal) {
      EXPECT_NE(text.find("<6>serving "), std::string::npos) << text;
      EXPECT_EQ(text.find("zenfs["), std::string::npos) << text;
    } else {
      EXPECT_NE(text.find("] info: serving "), std::string::npos) << text;
      EXPECT_EQ(text.find("<6>"), std::string::npos) << text;
    }
  }
  // A foreground mount that cannot start says why at error priority.
  const std::string log = dir_->path() + "/failed.log";
  const CommandResult r = RunCommand(
      {"sh", "-c",
       "exec 2>\"$1\"; JOURNAL_STREAM=$(stat -c %d:%i \"$1\"); export JOURNAL_STREAM; "
       "exec \"$2\" mount -f \"$3\" \"$4\"",
       "sh", log, Canonical(ZenfsBinary()), dir_->path() + "/no-such-store", mnt_});
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(r.exit_code, 2) << text;
  EXPECT_EQ(text.rfind("<3>zenfs mount: ", 0), 0u) << text;
}

// ---------------------------------------------------------------- the systemd unit

TEST(SystemdUnitTest, TemplateUnitVerifies) {
  if (!RunningAsRoot()) GTEST_SKIP() << "the private mount namespace needs root";
  if (RunCommand({"systemd-analyze", "--version"}).exit_code != 0) {
    GTEST_FAIL() << "systemd-analyze is missing (scripts/deps.sh installs the systemd package)";
  }
  // `systemd-analyze verify` runs without systemd as PID 1, but checks that ExecStart's
  // /usr/bin/zenfs exists: in a private mount namespace an overlay puts a link to the
  // binary under test into /usr/bin, seen by nothing else on the machine. The man page
  // check is left to scripts/package.sh, which verifies the installed unit.
  TempDir dir(MountTestRoot());
  const std::string bin = dir.path() + "/bin";
  ASSERT_EQ(mkdir(bin.c_str(), 0755), 0);
  fs::create_symlink(Canonical(ZenfsBinary()), bin + "/zenfs");
  // An instance: the template with the instance of the mountpoint /mnt/zen.
  const std::string unit = dir.path() + "/zenfs@mnt-zen.service";
  fs::copy_file(std::string(ZENFS_SOURCE_DIR) + "/packaging/zenfs@.service", unit);
  const CommandResult r = RunCommand(
      {"unshare", "-m", "--propagation", "private", "sh", "-c",
       "mount -t overlay overlay -o lowerdir=\"$1\":/usr/bin /usr/bin && "
       "systemd-analyze --man=no verify \"$2\"",
       "sh", bin, unit},
      120);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "") << "systemd-analyze has remarks";
}

}  // namespace
}  // namespace zenfs::testing
