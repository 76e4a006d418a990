// Case tables for store/timefmt.h. Expected epoch seconds were computed with
// `date -u -d '...' +%s`, never with the code under test.
#include "store/timefmt.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace zenfs {
namespace {

using namespace std::string_literals;

constexpr Micros kSec = 1000000;

struct ParseCase {
  std::string text;
  Micros expected;
};

TEST(ParseStoreTimeTest, Accepts) {
  const std::vector<ParseCase> cases = {
      // The forms: ZenML's own, ISO 'T', and the two UTC suffixes.
      {"2023-11-05 08:09:10", 1699171750 * kSec},
      {"2023-11-05T08:09:10", 1699171750 * kSec},
      {"2023-11-05 08:09:10Z", 1699171750 * kSec},
      {"2023-11-05T08:09:10Z", 1699171750 * kSec},
      {"2023-11-05 08:09:10+00:00", 1699171750 * kSec},
      {"2023-11-05T08:09:10.5+00:00", 1699171750 * kSec + 500000},
      {"2023-11-05T08:09:10.123456Z", 1699171750 * kSec + 123456},
      // 1 to 6 fractional digits, scaled to microseconds.
      {"2023-11-05 08:09:10.1", 1699171750 * kSec + 100000},
      {"2023-11-05 08:09:10.12", 1699171750 * kSec + 120000},
      {"2023-11-05 08:09:10.123", 1699171750 * kSec + 123000},
      {"2023-11-05 08:09:10.1234", 1699171750 * kSec + 123400},
      {"2023-11-05 08:09:10.12345", 1699171750 * kSec + 123450},
      {"2023-11-05 08:09:10.123456", 1699171750 * kSec + 123456},
      {"2023-11-05 08:09:10.000001", 1699171750 * kSec + 1},
      {"2023-11-05 08:09:10.0", 1699171750 * kSec},
      // Calendar edges.
      {"1970-01-01 00:00:00", 0},
      {"1970-01-01 00:00:01", 1 * kSec},
      {"1969-12-31 23:59:59", -1 * kSec},
      {"1969-12-31 23:59:59.5", -1 * kSec + 500000},
      {"2024-02-29 12:34:56", 1709210096 * kSec},  // leap year
      {"2024-02-29 00:00:00", 1709164800 * kSec},
      {"2024-03-01 00:00:00", 1709251200 * kSec},
      {"2000-02-29 23:59:59", 951868799 * kSec},   // divisible by 400: leap
      {"1600-02-29 00:00:00", -11670998400 * kSec},
      {"1900-03-01 00:00:00", -2203891200 * kSec},
      {"1999-12-31 23:59:59", 946684799 * kSec},
      {"2038-01-19 03:14:08", 2147483648 * kSec},  // past 32-bit time_t
      {"0001-01-01 00:00:00", -62135596800 * kSec},
      {"9999-12-31 23:59:59.999999", 253402300799 * kSec + 999999},
  };
  for (const ParseCase& c : cases) {
    const std::optional<Micros> got = ParseStoreTime(c.text);
    ASSERT_TRUE(got.has_value()) << c.text;
    EXPECT_EQ(*got, c.expected) << c.text;
  }
}

TEST(ParseStoreTimeTest, Refuses) {
  const std::vector<std::string> refused = {
      "",
      "2023",
      "2023-11-05",                      // a date alone
      "2023-11-05 08:09",                // no seconds
      "2023-11-05 08:09:10.",            // a dot without digits
      "2023-11-05 08:09:10.1234567",     // 7 fractional digits
      "2023-02-29 00:00:00",             // not a leap year
      "1900-02-29 00:00:00",             // divisible by 100, not by 400
      "2023-02-30 00:00:00",
      "2023-04-31 00:00:00",
      "2023-13-01 00:00:00",
      "2023-00-10 00:00:00",
      "2023-11-00 00:00:00",
      "0000-01-01 00:00:00",             // year 0
      "2023-11-05 24:00:00",
      "2023-11-05 23:60:00",
      "2023-11-05 23:59:60",             // leap second
      "2023-11-05 08:09:10+01:00",       // not UTC
      "2023-11-05 08:09:10-00:00",
      "2023-11-05 08:09:10+0000",
      "2023-11-05 08:09:10z",            // lower case
      "2023-11-05t08:09:10",
      "2023-11-05 08:09:10ZZ",
      "2023-11-05 08:09:10Z ",
      "2023-11-05 08:09:10 ",            // trailing space
      " 2023-11-05 08:09:10",            // leading space
      "2023-11-05  08:09:10",
      "2023/11/05 08:09:10",
      "2023-1-05 08:09:10",
      "2023-11-05 8:09:10",
      "-023-11-05 08:09:10",
      "+2023-11-05 08:09:10",
      "12023-11-05 08:09:10",
      "2023-11-05 08:09:1a",
      "2023-11-05 08:09:10\0"s,          // embedded NUL
      "2023-11-05 08:09:10.12\0"s,
      "2023-11-05_08:09:10",
      "1699171750",                      // epoch seconds are not a stored time
  };
  for (const std::string& t : refused) {
    EXPECT_FALSE(ParseStoreTime(t).has_value()) << t;
  }
}

struct FormatCase {
  Micros t;
  std::string iso;
  std::string store;
};

TEST(FormatTimeTest, Table) {
  const std::vector<FormatCase> cases = {
      {0, "1970-01-01T00:00:00.000000Z", "1970-01-01 00:00:00.000000"},
      {1699171750 * kSec + 123456, "2023-11-05T08:09:10.123456Z",
       "2023-11-05 08:09:10.123456"},
      {1709210096 * kSec, "2024-02-29T12:34:56.000000Z", "2024-02-29 12:34:56.000000"},
      {-1, "1969-12-31T23:59:59.999999Z", "1969-12-31 23:59:59.999999"},
      {-1 * kSec + 500000, "1969-12-31T23:59:59.500000Z", "1969-12-31 23:59:59.500000"},
      {-62135596800 * kSec, "0001-01-01T00:00:00.000000Z", "0001-01-01 00:00:00.000000"},
      {253402300799 * kSec + 999999, "9999-12-31T23:59:59.999999Z",
       "9999-12-31 23:59:59.999999"},
  };
  for (const FormatCase& c : cases) {
    EXPECT_EQ(FormatIsoTime(c.t), c.iso) << c.t;
    EXPECT_EQ(FormatStoreTime(c.t), c.store) << c.t;
  }
}

TEST(FormatTimeTest, RoundTripsThroughParse) {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<Micros> dist(-62135596800 * kSec, 253402300799 * kSec + 999999);
  for (int i = 0; i < 20000; ++i) {
    const Micros t = dist(rng);
    EXPECT_EQ(ParseStoreTime(FormatStoreTime(t)), t) << t;
    EXPECT_EQ(ParseStoreTime(FormatIsoTime(t)), t) << t;
  }
}

}  // namespace
}  // namespace zenfs
