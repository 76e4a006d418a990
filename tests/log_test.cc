// Log lines: store text is escaped so it can neither forge a line nor reach a terminal raw.
#include <gtest/gtest.h>

#include <string>

#include "fs/log.h"

namespace zenfs {
namespace {

TEST(EscapeLogText, Cases) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      // Kept as they are: printable ASCII and well-formed UTF-8.
      {"run 1 of pipe-line_x", "run 1 of pipe-line_x"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
      {"", ""},
      // Escaped: line breaks, tabs, the backslash itself (so an escape is never ambiguous).
      {"a\nzenfs[1] error: forged", "a\\nzenfs[1] error: forged"},
      {"a\r\tb", "a\\r\\tb"},
      {"back\\slash", "back\\\\slash"},
      // Terminal escapes: ESC, BEL, DEL, NUL and the C1 controls (U+009B is a CSI).
      {"\x1b[2J\x07", "\\x1b[2J\\x07"},
      {"x\x7fy", "x\\x7fy"},
      {std::string("a\0b", 3), "a\\x00b"},
      {"\xc2\x9b" "2J", "\\u009b2J"},
      {"\xc2\xa0", "\xc2\xa0"},  // U+00A0 is printable
      // Ill-formed UTF-8, byte by byte: a lone continuation, a bare CSI byte, a cut
      // sequence, an overlong, a surrogate.
      {"\x80", "\\x80"},
      {"\x9b" "2J", "\\x9b2J"},
      {"ab\xe2\x82", "ab\\xe2\\x82"},
      {"\xc0\xaf", "\\xc0\\xaf"},
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},
  };
  for (const Case& c : cases) EXPECT_EQ(EscapeLogText(c.in), c.out) << c.in;
}

// Whatever the input, the output holds no control byte and is well-formed UTF-8.
TEST(EscapeLogText, EveryByteValueIsSafe) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  const std::string out = EscapeLogText(all);
  for (unsigned char c : out) {
    EXPECT_FALSE(c < 0x20 || c == 0x7f) << static_cast<int>(c);
    EXPECT_LT(c, 0x80) << "every byte >= 0x80 is ill-formed alone";
  }
}

}  // namespace
}  // namespace zenfs
