// Log lines of the daemon: stderr in the foreground (with sd-daemon(3) priority prefixes
// such as "<3>" when stderr is systemd's journal), syslog in the background when the
// machine has a log socket.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace zenfs {

// `text` made safe for one log line: control characters (C0, DEL and C1), backslashes
// and bytes of ill-formed UTF-8 become escapes ("\n", "\t", "\\", "\x1b", "\u009b"),
// so store text (a run name with a newline, a terminal escape) can neither forge a
// line nor reach the terminal raw. Well-formed UTF-8 otherwise stays as it is.
std::string EscapeLogText(std::string_view text);

// One sink for every log line. Thread-safe: any FUSE worker may log.
class Logger {
 public:
  enum class Level { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

  // use_syslog: the background daemon's wish; it gets syslog only where /dev/log exists
  // (without it, syslog(3) drops every line), else stderr.
  Logger(Level level, bool use_syslog);
  // "error", "warning", "info", "debug"; nullopt-like false for anything else.
  static bool ParseLevel(std::string_view text, Level* out);

  void Log(Level level, std::string_view message);
  // Logs `message` only the first time `key` is seen; remembers a bounded number of keys
  // (then it starts over), so a hostile store cannot grow memory through it.
  void LogOnce(Level level, std::string_view key, std::string_view message);

  void Error(std::string_view m) { Log(Level::kError, m); }
  // What starts a line written to stderr outside Log (a command's final error message):
  // the journal's error priority "<3>" when stderr is the journal, else nothing.
  const char* ErrorPrefix() const { return journal_ ? "<3>" : ""; }
  void Warning(std::string_view m) { Log(Level::kWarning, m); }
  void Info(std::string_view m) { Log(Level::kInfo, m); }

 private:
  static constexpr std::size_t kMaxOnceKeys = 10000;
  Level level_;
  bool use_syslog_;
  // stderr is the journal: JOURNAL_STREAM (set by systemd) names stderr's device:inode.
  bool journal_;
  std::mutex mu_;
  std::unordered_set<std::string> once_;  // guarded by mu_
};

}  // namespace zenfs
