#include "fs/log.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>

namespace zenfs {

Logger::Logger(Level level, bool use_syslog) : level_(level), use_syslog_(use_syslog) {}

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
  std::lock_guard<std::mutex> lock(mu_);
  if (use_syslog_) {
    static constexpr int kPriorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    syslog(kPriorities[lvl], "%.*s", static_cast<int>(message.size()), message.data());
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
