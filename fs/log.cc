#include "fs/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "fs/names.h"

namespace zenfs {

std::string EscapeLogText(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // The well-formed sequence starting here, if any (1 to 4 bytes).
      std::size_t n = 2;
      while (n <= 4 && i + n <= text.size() && !names::IsValidUtf8(text.substr(i, n))) ++n;
      if (n <= 4 && i + n <= text.size()) {
        const bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
        if (c1) {  // U+0080..U+009F: some terminals act on these (U+009B is a CSI)
          const unsigned char v = static_cast<unsigned char>(text[i + 1]);
          out += "\\u00";
          out += kHex[v >> 4];
          out += kHex[v & 15];
        } else {
          out.append(text.substr(i, n));
        }
        i += n;
        continue;
      }
    } else if (c >= 0x20 && c != 0x7f && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      default:
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    ++i;
  }
  return out;
}

namespace {

// True when fd 2 is the stream systemd announced in JOURNAL_STREAM ("DEV:INODE", both
// decimal, as sd-daemon(3) and systemd.exec(5) describe it). A stale variable inherited
// by a child whose stderr was redirected does not match, so that child logs plain lines.
bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  struct stat sb;
  if (env == nullptr || fstat(2, &sb) != 0) return false;
  unsigned long long dev = 0, ino = 0;
  char tail = 0;
  if (std::sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2) return false;
  return dev == static_cast<unsigned long long>(sb.st_dev) && ino == static_cast<unsigned long long>(sb.st_ino);
}

}  // namespace

Logger::Logger(Level level, bool use_syslog)
    : level_(level), use_syslog_(use_syslog && access("/dev/log", W_OK) == 0), journal_(StderrIsJournal()) {}

bool Logger::ParseLevel(std::string_view text, Level* out) {
  if (text == "error") *out = Level::kError;
  else if (text == "warning") *out = Level::kWarning;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "debug") *out = Level::kDebug;
  else return false;
  return true;
}

void Logger::Log(Level level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(level_)) return;
  static constexpr const char* kNames[] = {"error", "warning", "info", "debug"};
  const int lvl = static_cast<int>(level);
  // syslog(3)'s priorities are the journal's "<N>" prefixes too (sd-daemon(3)).
  static constexpr int kPriorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
  const std::string safe = EscapeLogText(message);
  message = safe;
  std::lock_guard<std::mutex> lock(mu_);
  if (use_syslog_) {
    syslog(kPriorities[lvl], "%.*s", static_cast<int>(message.size()), message.data());
  } else if (journal_) {
    // The journal keeps the time, the pid and the unit: the line carries its priority.
    std::fprintf(stderr, "<%d>%.*s\n", kPriorities[lvl], static_cast<int>(message.size()), message.data());
  } else {
    std::fprintf(stderr, "zenfs[%d] %s: %.*s\n", static_cast<int>(getpid()), kNames[lvl],
                 static_cast<int>(message.size()), message.data());
  }
}

void Logger::LogOnce(Level level, std::string_view key, std::string_view message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (once_.size() >= kMaxOnceKeys) once_.clear();
    if (!once_.emplace(key).second) return;
  }
  Log(level, message);
}

}  // namespace zenfs
