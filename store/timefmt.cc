#include "store/timefmt.h"

#include <chrono>
#include <cstdio>

namespace zenfs {

namespace {

// Reads exactly n decimal digits at s[*pos]; false on anything else.
bool Digits(std::string_view s, std::size_t* pos, int n, int* out) {
  if (*pos + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[*pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<std::size_t>(n);
  *out = v;
  return true;
}

bool Expect(std::string_view s, std::size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

std::optional<Micros> ParseStoreTime(std::string_view s) {
  using namespace std::chrono;
  std::size_t p = 0;
  int y, mo, d, h, mi, sec;
  if (!Digits(s, &p, 4, &y) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &mo) ||
      !Expect(s, &p, '-') || !Digits(s, &p, 2, &d)) {
    return std::nullopt;
  }
  if (p >= s.size() || (s[p] != ' ' && s[p] != 'T')) return std::nullopt;
  ++p;
  if (!Digits(s, &p, 2, &h) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &mi) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &sec)) {
    return std::nullopt;
  }
  int frac = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9' && n < 6) {
      frac = frac * 10 + (s[p] - '0');
      ++p;
      ++n;
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) frac *= 10;
  }
  const std::string_view rest = s.substr(p);
  if (!rest.empty() && rest != "Z" && rest != "+00:00") return std::nullopt;
  if (y < 1 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  const auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + microseconds{frac};
  return duration_cast<microseconds>(tp.time_since_epoch()).count();
}

namespace {
std::string Format(Micros t, char sep, const char* suffix) {
  using namespace std::chrono;
  // Clamped to years 1..9999, the range ParseStoreTime accepts: a hostile value must not
  // overflow the calendar arithmetic below.
  constexpr Micros kMin = -62135596800LL * 1000000;  // 0001-01-01T00:00:00Z
  constexpr Micros kMax = 253402300799LL * 1000000 + 999999;  // 9999-12-31T23:59:59.999999Z
  t = t < kMin ? kMin : (t > kMax ? kMax : t);
  const sys_time<microseconds> tp{microseconds{t}};
  const auto day_point = floor<days>(tp);
  const year_month_day ymd{day_point};
  const hh_mm_ss<microseconds> tod{tp - day_point};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02d:%02d:%02d.%06lld%s",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), sep, static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                static_cast<long long>(tod.subseconds().count()), suffix);
  return buf;
}
}  // namespace

std::string FormatIsoTime(Micros t) { return Format(t, 'T', "Z"); }
std::string FormatStoreTime(Micros t) { return Format(t, ' ', ""); }

}  // namespace zenfs
