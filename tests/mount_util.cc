#include "tests/mount_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/test_util.h"

extern char** environ;

namespace zenfs::testing {

namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point DeadlineAfter(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Milliseconds left until `deadline`, at least 0 and at most `cap`.
int MillisLeft(Clock::time_point deadline, int cap) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > cap ? cap : static_cast<int>(left);
}

// Undoes the \ooo escapes of /proc/self/mountinfo (space, tab, newline, backslash).
std::string Unoctal(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct MountLine {
  std::string point, options, fstype, super_options;
};

// The mount at `path` in a mountinfo text: the last line for it (the visible mount).
std::optional<MountLine> FindMount(const std::string& mountinfo, const std::string& path) {
  std::istringstream in(mountinfo);
  std::string line;
  std::optional<MountLine> found;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, opts, f;
    fields >> id >> parent >> dev >> root >> point >> opts;
    while (fields >> f && f != "-") {
    }
    MountLine m;
    std::string source;
    fields >> m.fstype >> source >> m.super_options;
    m.point = Unoctal(point);
    m.options = opts;
    if (m.point == path) found = m;
  }
  return found;
}

// The whole content of an open /proc file, read from its start.
std::string ReadFromStart(int fd) {
  std::string out;
  if (lseek(fd, 0, SEEK_SET) != 0) return out;
  char buf[16384];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

std::string MountInfoText() {
  const int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text = ReadFromStart(fd);
  close(fd);
  return text;
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    if (access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Appends what is available on a non-blocking fd; false at end of file or error.
bool Drain(int fd, std::string* out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out->append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// True if the filesystem at `dir` answers a request. stat() may be served from the
// kernel's attribute cache even by a dead mount, and zenfs declines OPENDIR; statfs always
// asks the daemon (a dead one fails with ENOTCONN).
bool Answers(const std::string& dir) {
  struct statvfs vfs;
  return statvfs(dir.c_str(), &vfs) == 0;
}

}  // namespace

std::string MountTestRoot() {
  const std::string root = ZENFS_TEST_MNT_ROOT;
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  char buf[PATH_MAX];
  return realpath(root.c_str(), buf) != nullptr ? std::string(buf) : root;
}

std::string ZenfsBinary() { return ZENFS_BINARY; }

bool FuseAvailable(std::string* why) {
  const int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    *why = std::string("/dev/fuse cannot be opened: ") + std::strerror(errno);
    return false;
  }
  close(fd);
  if (!OnPath("fusermount3")) {
    *why = "fusermount3 is not on PATH";
    return false;
  }
  return true;
}

bool FuseRequired() {
  const char* v = std::getenv("ZENFS_REQUIRE_FUSE");
  return v != nullptr && std::string(v) == "1";
}

int FreeLoopbackPort(std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return 0;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    *error = std::string("binding a loopback port: ") + std::strerror(errno);
  } else {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

pid_t SpawnLogged(const std::vector<std::string>& argv, const std::string& log, bool own_group,
                  std::string* error) {
  // Everything the child needs is built before fork: between fork and exec a
  // multi-threaded parent's child may call only async-signal-safe functions.
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *error = "cannot open " + log + ": " + std::strerror(errno);
    return -1;
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    if (own_group) setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  // Also from the parent: no window in which kill(-pid, ...) would miss the child.
  if (pid > 0 && own_group) setpgid(pid, pid);
  if (null_fd >= 0) close(null_fd);
  close(log_fd);
  if (pid < 0) *error = std::string("fork: ") + std::strerror(errno);
  return pid;
}

std::string FileTail(const std::string& path, std::size_t bytes) {
  const std::string text = ReadFile(path);
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::optional<int> WaitChild(pid_t pid, double timeout_s) {
  const auto deadline = DeadlineAfter(timeout_s);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (pidfd >= 0) close(pidfd);
      return status;
    }
    if (r < 0 && errno != EINTR) {
      if (pidfd >= 0) close(pidfd);
      return std::nullopt;  // not our child (already reaped)
    }
    const int left = MillisLeft(deadline, 1000);
    if (left == 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      poll(&p, 1, left);  // readable once the process has exited
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, 5)));
    }
  }
  if (pidfd >= 0) close(pidfd);
  return std::nullopt;
}

CommandResult RunCommand(const std::vector<std::string>& argv, double timeout_s) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    result.err = "pipe2 failed";
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    result.err = "pipe2 failed";
    return result;
  }
  // The child's ends must block like ordinary stdout/stderr.
  fcntl(out_pipe[1], F_SETFL, 0);
  fcntl(err_pipe[1], F_SETFL, 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> cargv = CArgv(argv);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  const auto deadline = DeadlineAfter(timeout_s);
  bool out_open = true, err_open = true;
  std::optional<int> status;
  // Collect output until the child exits. A grandchild (the background daemon) may keep
  // the pipes open, so the child's exit, not end of file, ends the wait.
  while (!status) {
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      status = st;
      break;
    }
    const int left = MillisLeft(deadline, 20);
    if (left == 0) break;
    pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0}, {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    if (!out_open && !err_open) {
      status = WaitChild(pid, std::chrono::duration<double>(deadline - Clock::now()).count());
      break;
    }
    poll(fds, 2, left);
    if (out_open && !Drain(out_pipe[0], &result.out)) out_open = false;
    if (err_open && !Drain(err_pipe[0], &result.err)) err_open = false;
  }
  if (!status) {
    kill(pid, SIGKILL);
    status = WaitChild(pid, 10);
    result.timed_out = true;
  }
  if (out_open) Drain(out_pipe[0], &result.out);
  if (err_open) Drain(err_pipe[0], &result.err);
  close(out_pipe[0]);
  close(err_pipe[0]);
  if (status && WIFEXITED(*status) && !result.timed_out) result.exit_code = WEXITSTATUS(*status);
  return result;
}

CommandResult RunZenfs(const std::vector<std::string>& args, double timeout_s) {
  std::vector<std::string> argv{ZenfsBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout_s);
}

std::string MountedFsType(const std::string& path) {
  auto m = FindMount(MountInfoText(), path);
  return m ? m->fstype : "";
}

std::string MountOptions(const std::string& path) {
  auto m = FindMount(MountInfoText(), path);
  return m ? m->options + "," + m->super_options : "";
}

std::optional<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int err = errno;
  closedir(d);
  if (err != 0) {
    errno = err;
    return std::nullopt;
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool ReadUpTo(int fd, std::string* out, std::size_t limit) {
  char buf[65536];
  for (std::size_t got = 0; got < limit;) {
    const ssize_t n = read(fd, buf, std::min(sizeof buf, limit - got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> ReadAll(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  const bool ok = ReadUpTo(fd, &out);
  const int err = errno;
  close(fd);
  errno = err;
  if (!ok) return std::nullopt;
  return out;
}

nlohmann::json ReadJson(const std::string& path) {
  auto text = ReadAll(path);
  if (!text) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(*text, nullptr, false);
}

std::optional<struct stat> Lstat(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

std::optional<std::string> ReadLink(const std::string& path) {
  char buf[PATH_MAX + 1];
  const ssize_t n = readlink(path.c_str(), buf, PATH_MAX);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

namespace {

void HashInto(const std::string& root, const std::string& rel, std::map<std::string, std::string>* out) {
  auto names = ListDir(rel.empty() ? root : root + "/" + rel);
  if (!names) {
    (*out)[rel] = std::string("unlistable: ") + std::strerror(errno);
    return;
  }
  for (const std::string& name : *names) {
    const std::string child = rel.empty() ? name : rel + "/" + name;
    const std::string full = root + "/" + child;
    auto st = Lstat(full);
    if (!st) {
      (*out)[child] = "unstattable";
    } else if (S_ISDIR(st->st_mode)) {
      (*out)[child] = "dir";
      HashInto(root, child, out);
    } else if (S_ISLNK(st->st_mode)) {
      (*out)[child] = "-> " + ReadLink(full).value_or("?");
    } else {
      (*out)[child] = FileSha256(full);
    }
  }
}

}  // namespace

std::map<std::string, std::string> HashTree(const std::string& root) {
  std::map<std::string, std::string> out;
  HashInto(root, "", &out);
  return out;
}

std::optional<std::int64_t> ParseUtcMicros(const std::string& text) {
  int y, mo, d, h, mi, s, consumed = 0;
  if (text.size() < 19) return std::nullopt;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*c%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6 ||
      consumed != 19 || (text[10] != 'T' && text[10] != ' ')) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t frac = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (digits == 6) return std::nullopt;
      frac = frac * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) frac *= 10;
  }
  if (i < text.size() && text[i] == 'Z') ++i;
  if (i != text.size()) return std::nullopt;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000000 + frac;
}

std::int64_t Micros(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000 + t.tv_nsec / 1000;
}

Mount::Mount(Options options) : options_(std::move(options)) {
  char buf[PATH_MAX];
  if (realpath(options_.mountpoint.c_str(), buf) == nullptr) {
    error_ = "mountpoint " + options_.mountpoint + ": " + std::strerror(errno);
    return;
  }
  path_ = buf;
  std::vector<std::string> argv{ZenfsBinary(), "mount"};
  if (!options_.store.empty()) argv.push_back(options_.store);
  argv.push_back(path_);
  argv.insert(argv.end(), options_.extra.begin(), options_.extra.end());

  if (!options_.foreground) {
    const CommandResult r = RunCommand(argv, options_.timeout_s + 10);
    if (r.exit_code != 0) {
      error_ = "zenfs mount exited with " + std::to_string(r.exit_code) + ": " + r.err;
      return;
    }
    // SPEC §4: in the background, zenfs mount returns only once the mount answers.
    if (MountedFsType(path_) != "fuse.zenfs") {
      error_ = "zenfs mount returned 0 but " + path_ + " is not a fuse.zenfs mount";
      return;
    }
    ok_ = true;
    return;
  }

  // A dead zenfs mount may be there for zenfs to replace; a live one may not.
  if (MountedFsType(path_) == "fuse.zenfs" && Answers(path_)) {
    error_ = "a live zenfs mount is already on " + path_;
    return;
  }
  argv.push_back("-f");
  log_path_ = path_ + ".zenfs.log";
  const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    error_ = "cannot create " + log_path_ + ": " + std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  std::vector<char*> cargv = CArgv(argv);
  const int rc = posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(log_fd);
  if (rc != 0) {
    pid_ = -1;
    error_ = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return;
  }

  // Wait for the mount table to show the mount. poll() on mountinfo wakes up on every
  // change of the table; the short timeout also notices a daemon that died.
  const int info_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  const auto deadline = DeadlineAfter(options_.timeout_s);
  for (;;) {
    const std::string text = info_fd >= 0 ? ReadFromStart(info_fd) : MountInfoText();
    auto m = FindMount(text, path_);
    // Mount ids may be reused, so a dead mount being replaced is told apart from the
    // new one by answering.
    if (m && m->fstype == "fuse.zenfs" && Answers(path_)) {
      ok_ = true;
      break;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "zenfs mount -f exited (" +
               (WIFEXITED(status) ? "code " + std::to_string(WEXITSTATUS(status))
                                  : "signal " + std::to_string(WTERMSIG(status))) +
               ") before mounting; its stderr:\n" + ReadFile(log_path_);
      break;
    }
    const int left = MillisLeft(deadline, 50);
    if (left == 0) {
      error_ = "no fuse.zenfs mount on " + path_ + " after " + std::to_string(options_.timeout_s) +
               " s; daemon stderr:\n" + ReadFile(log_path_);
      break;
    }
    if (info_fd >= 0) {
      pollfd p{info_fd, POLLPRI, 0};
      poll(&p, 1, left);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(left));
    }
  }
  if (info_fd >= 0) close(info_fd);
}

Mount::~Mount() { Unmount(); }

std::string Mount::DaemonLog() const { return log_path_.empty() ? "" : ReadFile(log_path_); }

std::optional<int> Mount::SignalAndWait(int sig, double timeout_s) {
  if (pid_ <= 0) return std::nullopt;
  if (kill(pid_, sig) != 0) return std::nullopt;
  auto status = WaitChild(pid_, timeout_s);
  if (status) pid_ = -1;
  return status;
}

bool Mount::Unmount() {
  if (path_.empty()) return true;
  // Only a mount this object made (or a daemon it started, which may have mounted after
  // the deadline) is taken down: a failed second mount must not unmount the first.
  if ((ok_ || pid_ > 0) && MountedFsType(path_) == "fuse.zenfs") {
    RunCommand({"fusermount3", "-u", path_}, 20);
    if (MountedFsType(path_) == "fuse.zenfs") RunCommand({"fusermount3", "-uz", path_}, 20);
  }
  if (pid_ > 0) {
    // Unmounting ends the session; the daemon then exits by itself.
    if (!WaitChild(pid_, 10)) {
      kill(pid_, SIGKILL);
      WaitChild(pid_, 10);
    }
    pid_ = -1;
  }
  ok_ = false;
  return MountedFsType(path_) != "fuse.zenfs";
}

}  // namespace zenfs::testing
