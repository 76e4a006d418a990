// Helpers for the real-mount tests: running the zenfs binary, watching the mount table,
// and a Mount that always comes off again, whatever happens to the test.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace zenfs::testing {

// The directory below which every mount test puts its mountpoints and scratch data
// (ZENFS_TEST_MNT_ROOT), created if missing. scripts/unmount-under.sh lazily unmounts
// whatever a crashed test left there.
std::string MountTestRoot();

// Path of the zenfs binary under test.
std::string ZenfsBinary();

// True if this process can mount a FUSE filesystem: /dev/fuse opens read-write and
// fusermount3 is on PATH. Otherwise false, with the reason in *why.
bool FuseAvailable(std::string* why);
// True when the environment says FUSE must be there (ZENFS_REQUIRE_FUSE=1, as in CI).
bool FuseRequired();

// What a finished command did. exit_code is -1 when it was killed by a signal or had to
// be killed because it overran its deadline (timed_out).
struct CommandResult {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is searched on PATH) with stdin from /dev/null, collects its stdout
// and stderr, and waits at most timeout_s for it to exit (then kills it).
CommandResult RunCommand(const std::vector<std::string>& argv, double timeout_s = 60);
// RunCommand with the zenfs binary and `args`.
CommandResult RunZenfs(const std::vector<std::string>& args, double timeout_s = 60);

// The filesystem type mounted exactly at `path` (absolute, canonical), as
// /proc/self/mountinfo shows it ("fuse.zenfs"), or "" when nothing is mounted there.
std::string MountedFsType(const std::string& path);
// The mount options (per-mount and superblock) of the mount at `path`, "" if none.
std::string MountOptions(const std::string& path);

// ---- Servers the tests run as children (mariadbd, the ZenML server)

// A TCP port on 127.0.0.1 that nothing was bound to a moment ago (the kernel's choice for
// port 0), or 0 with *error. Someone else may take it before the server binds it: callers
// try again with another port then.
int FreeLoopbackPort(std::string* error);
// Starts argv (argv[0] a path, not searched) as a child with stdin from /dev/null and
// stdout and stderr appended to `log`, that dies with the calling *thread*
// (PR_SET_PDEATHSIG(SIGKILL): start servers from the main thread, as a gtest Environment
// does). own_group: in its own process group (pid == pgid), so kill(-pid, ...) reaches
// whatever it starts. Returns the pid, or -1 with *error.
pid_t SpawnLogged(const std::vector<std::string>& argv, const std::string& log, bool own_group,
                  std::string* error);
// The last `bytes` of a file ("..." before when cut), for error messages.
std::string FileTail(const std::string& path, std::size_t bytes = 3000);

// Waits until `pid` (a child of this process) exits, at most timeout_s. Returns its wait
// status, or nullopt if it is still running at the deadline. Reaps the child.
std::optional<int> WaitChild(pid_t pid, double timeout_s);

// ---- POSIX views of a mounted tree

// The names in a directory (without "." and ".."), sorted; nullopt with errno set if it
// cannot be listed.
std::optional<std::vector<std::string>> ListDir(const std::string& path);
// A file's bytes read with open/read; nullopt with errno set on failure.
std::optional<std::string> ReadAll(const std::string& path);
// Appends to *out what `fd` reads from its offset, until end of file or `limit` bytes;
// false with errno set on a read error.
bool ReadUpTo(int fd, std::string* out, std::size_t limit = SIZE_MAX);
// A file parsed as JSON; a discarded value (is_discarded()) if it cannot be read or parsed.
nlohmann::json ReadJson(const std::string& path);
// lstat; nullopt with errno set on failure.
std::optional<struct stat> Lstat(const std::string& path);
// A symlink's target; nullopt with errno set on failure.
std::optional<std::string> ReadLink(const std::string& path);
// Every entry below `root` (relative paths, root itself excluded), for files their
// SHA-256, for symlinks "-> target", for directories "dir".
std::map<std::string, std::string> HashTree(const std::string& root);

// "YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z]" (UTC) as microseconds since the epoch.
std::optional<std::int64_t> ParseUtcMicros(const std::string& text);
// A stat time as microseconds since the epoch.
std::int64_t Micros(const struct timespec& t);

// One zenfs mount, started by the test and removed by the destructor: `fusermount3 -u`,
// then `-uz` if that fails (a test left a file open), then SIGKILL and reap the daemon if
// it is still alive. Not thread-safe; owned by one test.
class Mount {
 public:
  struct Options {
    std::string store;                // "" mounts the default store (no STORE argument)
    std::string mountpoint;           // an existing directory
    std::vector<std::string> extra;   // more arguments, e.g. {"-o", "ro"}
    bool foreground = true;           // -f: the test owns the daemon process
    double timeout_s = 20;            // how long to wait for the mount to answer
  };

  // Starts zenfs and waits until mountinfo shows fuse.zenfs on the mountpoint. Check
  // ok(); on failure error() says why, with the daemon's stderr.
  explicit Mount(Options options);
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  // The canonical mountpoint path.
  const std::string& path() const { return path_; }
  // The foreground daemon's pid (-1 in background mode or once it was reaped).
  pid_t pid() const { return pid_; }
  // What the foreground daemon wrote to stderr so far.
  std::string DaemonLog() const;

  // Sends `sig` to the foreground daemon and waits up to timeout_s for it to exit.
  // Returns its wait status, or nullopt if it did not exit in time.
  std::optional<int> SignalAndWait(int sig, double timeout_s = 20);
  // Unmounts (if still mounted) and reaps the daemon; idempotent. Returns false if
  // something stayed mounted.
  bool Unmount();
  // Forgets the mount without unmounting it (a test that wants a dead mount left behind).
  // The daemon must have been reaped already.
  void Disown() { ok_ = false; }

 private:
  Options options_;
  std::string path_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool ok_ = false;
  std::string error_;
};

}  // namespace zenfs::testing

// Skips the current test where FUSE cannot be used, or fails it when FUSE is required.
// Use at the start of a test body or SetUp().
#define ZENFS_SKIP_WITHOUT_FUSE()                                                  \
  do {                                                                             \
    std::string zenfs_why_;                                                        \
    if (!::zenfs::testing::FuseAvailable(&zenfs_why_)) {                           \
      if (::zenfs::testing::FuseRequired()) {                                      \
        FAIL() << "FUSE is required (ZENFS_REQUIRE_FUSE=1) but " << zenfs_why_;    \
      }                                                                            \
      GTEST_SKIP() << "no FUSE here (" << zenfs_why_                               \
                   << "); set ZENFS_REQUIRE_FUSE=1 to make this a failure";        \
    }                                                                              \
  } while (0)
