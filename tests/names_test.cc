// Case tables for fs/names.h (SPEC §2). Expected SHA-256 values were computed with
// `printf ... | sha256sum`, never with the code under test.
#include "fs/names.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace zenfs::names {
namespace {

using namespace std::string_literals;

std::string Rep(char c, std::size_t n) { return std::string(n, c); }

// ---------------------------------------------------------------------------------------
// Escape / Unescape

struct EscapeCase {
  std::string raw;
  std::string encoded;
};

const std::vector<EscapeCase>& EscapeCases() {
  static const std::vector<EscapeCase> cases = {
      {"", "%"},
      {".", "%2E"},
      {"..", "%2E%2E"},
      {"...", "..."},
      {".hidden", ".hidden"},
      {"a.", "a."},
      {"plain", "plain"},
      {"a/b", "a%2Fb"},
      {"/", "%2F"},
      {"//", "%2F%2F"},
      {"%", "%25"},
      {"%%", "%25%25"},
      {"100%", "100%25"},
      {"%2F", "%252F"},
      {"%25", "%2525"},
      {"%2E", "%252E"},
      {"a\0b"s, "a%00b"},
      {"\0"s, "%00"},
      {"./", ".%2F"},
      {"../x", "..%2Fx"},
      {"~", "~"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},                // UTF-8 kept
      {"\xFF\xFE", "\xFF\xFE"},                      // invalid UTF-8 kept byte for byte
      {"tab\there", "tab\there"},                    // control characters kept
      {"sp ace\n", "sp ace\n"},
      {"%unlisted", "%25unlisted"},                  // never the reserved "%unlisted"
  };
  return cases;
}

TEST(EscapeTest, Table) {
  for (const EscapeCase& c : EscapeCases()) {
    EXPECT_EQ(Escape(c.raw), c.encoded) << "raw=" << c.raw;
  }
}

TEST(UnescapeTest, AcceptsWhatEscapeProduces) {
  for (const EscapeCase& c : EscapeCases()) {
    const std::optional<std::string> raw = Unescape(c.encoded);
    ASSERT_TRUE(raw.has_value()) << "encoded=" << c.encoded;
    EXPECT_EQ(*raw, c.raw) << "encoded=" << c.encoded;
  }
}

TEST(UnescapeTest, RefusesWhatEscapeNeverProduces) {
  const std::vector<std::string> refused = {
      "",            // the empty name is "%"
      ".",           // "." is "%2E"
      "..",          // ".." is "%2E%2E"
      "a/b",         // a slash is always escaped
      "/",
      "a\0b"s,       // so is a NUL
      "\0"s,
      "a%",          // a bare "%" inside a longer name
      "%%",
      "%2",          // a cut-off escape
      "a%2",
      "%41",         // an escape Escape never writes
      "%2f",         // lower case
      "%2e",
      "%0",
      "%ZZ",
      "a%2E",        // "%2E" only as a whole name
      "%2Ea",
      "%2E%2E%2E",   // "..." is written as is
      "%2E.",
      ".%2E",
      "%2E%2E%2F",
      "%unlisted",   // SPEC: a name the escaping can never produce
  };
  for (const std::string& e : refused) {
    EXPECT_FALSE(Unescape(e).has_value()) << "encoded=" << e;
  }
}

// A random byte string over an alphabet rich in the bytes that matter.
std::string RandomBytes(std::mt19937& rng, std::size_t max_len, bool full_range) {
  static const std::string kAlphabet = "/%.\0002EF5a~"s;
  std::uniform_int_distribution<std::size_t> len_dist(0, max_len);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string s(len_dist(rng), '\0');
  for (char& c : s) {
    c = full_range && byte_dist(rng) < 128 ? static_cast<char>(byte_dist(rng))
                                           : kAlphabet[pick(rng)];
  }
  return s;
}

TEST(EscapeTest, RoundTripsRandomBytes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    const std::string raw = RandomBytes(rng, 12, /*full_range=*/true);
    const std::string enc = Escape(raw);
    EXPECT_EQ(enc.find('/'), std::string::npos);
    EXPECT_EQ(enc.find('\0'), std::string::npos);
    EXPECT_FALSE(enc.empty());
    EXPECT_NE(enc, ".");
    EXPECT_NE(enc, "..");
    const std::optional<std::string> back = Unescape(enc);
    ASSERT_TRUE(back.has_value()) << "raw=" << raw;
    EXPECT_EQ(*back, raw);
  }
}

TEST(UnescapeTest, AcceptsOnlyCanonicalEncodings) {
  // Whatever Unescape accepts, Escape maps back to the same string: one name, one path.
  std::mt19937 rng(54321);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string enc = RandomBytes(rng, 9, /*full_range=*/false);
    const std::optional<std::string> raw = Unescape(enc);
    if (!raw.has_value()) continue;
    ++accepted;
    EXPECT_EQ(Escape(*raw), enc);
  }
  EXPECT_GT(accepted, 1000);  // the table above is not vacuous
}

// ---------------------------------------------------------------------------------------
// Cut

struct CutCase {
  const char* what;
  std::string raw;        // escaped with Escape for the call
  std::string expected;
};

TEST(CutTest, Table) {
  const std::string a239 = Rep('a', 239), b20 = Rep('b', 20);
  const std::vector<CutCase> cases = {
      {"short", "abc", "abc"},
      {"exactly 255 bytes untouched", Rep('a', 255), Rep('a', 255)},
      {"256 bytes cut", Rep('a', 256), Rep('a', 240) + "~02d7160d77e18c"},
      {"300 bytes cut", Rep('a', 300), Rep('a', 240) + "~9835fa6bf4e20a"},
      {"2-byte char at bytes 239-240 dropped whole", a239 + "\xC3\xA9" + b20,
       a239 + "~4fee9a81b1d8bd"},
      {"2-byte char ending at byte 240 kept", Rep('a', 238) + "\xC3\xA9" + b20,
       Rep('a', 238) + "\xC3\xA9~2d68f6fd3d0baa"},
      {"2-byte char right after byte 240", Rep('a', 240) + "\xC3\xA9" + b20,
       Rep('a', 240) + "~74cfec91b2a55c"},
      {"4-byte char at bytes 238-241 dropped whole", Rep('a', 238) + "\xF0\x9F\x98\x80" + b20,
       Rep('a', 238) + "~cf3472a39b4744"},
      {"%2F at bytes 239-241 dropped whole", a239 + "/" + b20, a239 + "~1810a4c548b52a"},
      {"%2F at bytes 238-240 dropped whole", Rep('a', 238) + "/" + b20,
       Rep('a', 238) + "~2cb7379e0cc2a7"},
      {"%2F ending at byte 240 kept", Rep('a', 237) + "/" + b20,
       Rep('a', 237) + "%2F~411afc889bf84f"},
      {"run of %25 cut between escapes", "a" + Rep('%', 100),
       "a" + [] { std::string s; for (int i = 0; i < 79; ++i) s += "%25"; return s; }() +
           "~a0ea02fc98d5fc"},
      {"ill-formed byte is one character", a239 + "\xC3" + b20,
       a239 + "\xC3~e9e0e69dcac57d"},
      {"truncated 3-byte sequence: single bytes", a239 + "\xE2\x82" + b20,
       a239 + "\xE2~c9cbd61d5c0af9"},
  };
  for (const CutCase& c : cases) {
    const std::string got = Cut(Escape(c.raw), c.raw);
    EXPECT_LE(got.size(), kMaxName) << c.what;
    EXPECT_EQ(got, c.expected) << c.what;
  }
}

TEST(CutTest, HashIsOfTheRawName) {
  // Two raw names whose escaped forms share the first 240 bytes get different hashes.
  const std::string x = Rep('a', 250) + "/x", y = Rep('a', 250) + "/y";
  EXPECT_NE(Cut(Escape(x), x), Cut(Escape(y), y));
  EXPECT_EQ(Cut(Escape(x), x).substr(0, 240), Cut(Escape(y), y).substr(0, 240));
}

TEST(CutTest, RandomNamesStayWithinLimitAndBoundaries) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  const std::string pieces[] = {"a", "/", "%", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                "\xFF", "\xE2\x82", "\0"s};
  std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
  for (int i = 0; i < 2000; ++i) {
    std::string raw;
    const int n = 60 + byte_dist(rng);
    for (int k = 0; k < n; ++k) raw += pieces[pick(rng)];
    const std::string enc = Escape(raw);
    const std::string got = Cut(enc, raw);
    ASSERT_LE(got.size(), kMaxName);
    if (enc.size() <= kMaxName) {
      EXPECT_EQ(got, enc);
      continue;
    }
    const std::size_t tilde = got.size() - 15;
    ASSERT_EQ(got[tilde], '~');
    EXPECT_EQ(got.substr(tilde + 1), Sha256Hex(raw).substr(0, 14));
    const std::string kept = got.substr(0, tilde);
    EXPECT_LE(kept.size(), kCutTo);
    EXPECT_GE(kept.size(), kCutTo - 3);  // no character is longer than 4 bytes
    EXPECT_EQ(enc.compare(0, kept.size(), kept), 0);
    // The kept part is itself a whole escaped name: it unescapes (no half "%XX")...
    EXPECT_TRUE(Unescape(kept).has_value()) << kept;
    // ...and it ends on a character boundary: if the name is valid UTF-8, so is the cut.
    if (IsValidUtf8(raw)) {
      EXPECT_TRUE(IsValidUtf8(kept));
    }
  }
}

// ---------------------------------------------------------------------------------------
// UTF-8

TEST(Utf8Test, ValidAndInvalid) {
  const std::vector<std::string> valid = {
      "", "abc", "\0"s, "\x7F",
      "\xC2\x80",                      // U+0080
      "\xC3\xA9",                      // é
      "\xDF\xBF",                      // U+07FF
      "\xE0\xA0\x80",                  // U+0800
      "\xE2\x82\xAC",                  // €
      "\xED\x9F\xBF",                  // U+D7FF, last before the surrogates
      "\xEE\x80\x80",                  // U+E000, first after them
      "\xEF\xBF\xBD",                  // U+FFFD
      "\xF0\x90\x80\x80",              // U+10000
      "\xF0\x9F\x98\x80",              // 😀
      "\xF4\x8F\xBF\xBF",              // U+10FFFF
  };
  const std::vector<std::string> invalid = {
      "\x80",                          // lone continuation byte
      "\xBF",
      "\xC0\x80",                      // overlong NUL
      "\xC1\xBF",                      // overlong
      "\xC3",                          // truncated
      "\xC3" "a",
      "\xE0\x80\x80",                  // overlong
      "\xE0\x9F\xBF",                  // overlong
      "\xED\xA0\x80",                  // U+D800, a surrogate
      "\xED\xBF\xBF",                  // U+DFFF
      "\xE2\x82",                      // truncated
      "\xF0\x80\x80\x80",              // overlong
      "\xF0\x8F\xBF\xBF",              // overlong
      "\xF4\x90\x80\x80",              // U+110000
      "\xF5\x80\x80\x80",
      "\xF8\x88\x80\x80\x80",          // old 5-byte form
      "\xFE", "\xFF",
      "abc\xFF",
  };
  for (const std::string& s : valid) EXPECT_TRUE(IsValidUtf8(s)) << s;
  for (const std::string& s : invalid) EXPECT_FALSE(IsValidUtf8(s)) << s;
}

TEST(Utf8Test, ToValidReplacesMaximalSubparts) {
  const std::string R = "\xEF\xBF\xBD";  // U+FFFD
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"a\xFF" "b", "a" + R + "b"},
      {"\xE2\x82", R},                          // one truncated sequence: one U+FFFD
      {"\xE2\x82" "x", R + "x"},
      {"\xF0\x9F\x98", R},
      {"\xED\xA0\x80", R + R + R},              // ED A0 is no prefix of anything valid
      {"\xC0\x80", R + R},
      {"\x80\x80", R + R},
      {"\xF4\x90\x80\x80", R + R + R + R},
      {"\xC3\xC3\xA9", R + "\xC3\xA9"},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(ToValidUtf8(in), out) << in;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(in)));
  }
}

TEST(Sha256Test, KnownValues) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(Rep('a', 256)),
            "02d7160d77e18c6447be80c2e355c7ed4388545271702c50253b0914c65ce5fe");
}

// ---------------------------------------------------------------------------------------
// AssignNames

const std::string kId1 = "11111111aaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kId2 = "22222222bbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kId3 = "33333333cccccccccccccccccccccccc";
const std::string kId4 = "44444444dddddddddddddddddddddddd";
const std::vector<std::string> kStepReserved = {"meta.json", "output", "outputs", "logs"};

void ExpectWellFormed(const std::vector<Child>& in, const std::vector<std::string>& out,
                      const std::vector<std::string>& reserved) {
  ASSERT_EQ(out.size(), in.size());
  std::unordered_set<std::string> seen(reserved.begin(), reserved.end());
  for (const std::string& n : out) {
    EXPECT_TRUE(seen.insert(n).second) << "duplicate or reserved: " << n;
    EXPECT_LE(n.size(), kMaxName);
    EXPECT_FALSE(n.empty());
    EXPECT_EQ(n.find('/'), std::string::npos);
    EXPECT_EQ(n.find('\0'), std::string::npos);
    EXPECT_NE(n, ".");
    EXPECT_NE(n, "..");
  }
}

struct AssignCase {
  const char* what;
  std::vector<Child> children;
  std::vector<std::string> reserved;
  std::vector<std::string> expected;
};

TEST(AssignNamesTest, Table) {
  const std::string l300 = Rep('a', 300);
  const std::string l300_cut = Rep('a', 240) + "~9835fa6bf4e20a";
  const std::string l250 = Rep('a', 250);
  const std::vector<AssignCase> cases = {
      {"no children", {}, kStepReserved, {}},
      {"distinct names kept",
       {{"b", kId1}, {"a", kId2}, {"a/b", kId3}, {"", kId4}},
       {},
       {"b", "a", "a%2Fb", "%"}},
      {"the older keeps the name",
       {{"a", kId1}, {"a", kId2}, {"a", kId3}},
       {},
       {"a", "a~22222222", "a~33333333"}},
      {"only the same escaped name clashes",
       {{"a/b", kId1}, {"a%2Fb", kId2}},
       {},
       {"a%2Fb", "a%252Fb"}},
      {"reserved names get the suffix",
       {{"meta.json", kId1}, {"logs", kId2}, {"output", kId3}, {"runs", kId4}},
       kStepReserved,
       {"meta.json~11111111", "logs~22222222", "output~33333333", "runs"}},
      {"reserved and duplicated",
       {{"logs", kId1}, {"logs", kId2}},
       kStepReserved,
       {"logs~11111111", "logs~22222222"}},
      {"two empty names", {{"", kId1}, {"", kId2}}, {}, {"%", "%~22222222"}},
      {"dot and dotdot", {{".", kId1}, {"..", kId2}, {".", kId3}}, {},
       {"%2E", "%2E%2E", "%2E~33333333"}},
      {"UUID with dashes: its first 8 hex digits",
       {{"a", kId1}, {"a", "123e4567-e89b-12d3-a456-426614174000"}},
       {},
       {"a", "a~123e4567"}},
      {"id shorter than 8 digits: what there is",
       {{"a", kId1}, {"a", "7"}, {"a", "abc"}},
       {},
       {"a", "a~7", "a~abc"}},
      {"empty id: 8 digits of SHA-256(raw)",
       {{"a", kId1}, {"a", ""}},
       {},
       {"a", "a~ca978112"}},
      {"id that is not hex (a path): 8 digits of SHA-256(id)",
       {{"a", kId1}, {"a", "dir/file.txt"}},
       {},
       {"a", "a~781336c8"}},
      // Corner: the second child's suffixed name is the third child's natural name. The
      // third is newer, so it is the one that moves.
      {"suffixed name equals a newer natural name",
       {{"a", kId1}, {"a", kId2}, {"a~22222222", kId3}},
       {},
       {"a", "a~22222222", "a~22222222~33333333"}},
      // Corner: an older child already has the name the SPEC suffix would produce; the
      // fallback appends all of the id's digits.
      {"suffixed name already taken by an older child",
       {{"a~22222222", kId1}, {"a", kId3}, {"a", kId2}},
       {},
       {"a~22222222", "a", "a~" + kId2}},
      // Corner: same 8-digit prefix, then the same full id (a cached step's copy).
      {"ids agree on 8 digits, then in full",
       {{"a", kId1}, {"a", "11111111ffffffffffffffffffffffff"}, {"a", kId1}, {"a", kId1}},
       {},
       {"a", "a~11111111", "a~" + kId1, "a~" + kId1 + "~2"}},
      // Corner: identical names over 255 bytes. The cut drops the 8-digit suffix, so the
      // fallback keeps the whole id after the cut mark.
      {"identical long names",
       {{l300, kId1}, {l300, kId2}, {l300, kId3}, {l300, kId2}},
       {},
       {l300_cut, Rep('a', 207) + "~9835fa6bf4e20a~" + kId2,
        Rep('a', 207) + "~9835fa6bf4e20a~" + kId3,
        Rep('a', 205) + "~9835fa6bf4e20a~" + kId2 + "~2"}},
      // A 250-byte name is not cut, but with a suffix it is: SPEC order is suffix, then
      // cut, so the second copy is the cut form (the suffix falls off, the hash stays).
      {"identical 250-byte names",
       {{l250, kId1}, {l250, kId2}, {l250, kId3}},
       {},
       {l250, Rep('a', 240) + "~3f3e35e0a775d9", Rep('a', 207) + "~3f3e35e0a775d9~" + kId3}},
      // A short name that equals an older long name's cut form is a clash like any other.
  };
  for (const AssignCase& c : cases) {
    const std::vector<std::string> got = AssignNames(c.children, c.reserved);
    ExpectWellFormed(c.children, got, c.reserved);
    EXPECT_EQ(got, c.expected) << c.what;
  }
}

TEST(AssignNamesTest, RawNameEqualToAnOlderCutName) {
  // A name equal to an older long name's cut form clashes like any other. It is 255 bytes,
  // so with "~22222222" it is cut again, to 240 bytes + the hash of its own raw name.
  const std::string l300 = Rep('a', 300);
  const std::string l300_cut = Rep('a', 240) + "~9835fa6bf4e20a";
  const std::vector<Child> in = {{l300, kId1}, {l300_cut, kId2}, {l300_cut, kId3}};
  const std::vector<std::string> got = AssignNames(in, {});
  ExpectWellFormed(in, got, {});
  EXPECT_EQ(got[0], l300_cut);
  EXPECT_EQ(got[1], Rep('a', 240) + "~55e98abaafd932");  // sha256sum of l300_cut
  EXPECT_EQ(got[2], Rep('a', 207) + "~55e98abaafd932~" + kId3);
}

TEST(AssignNamesTest, NamesOfOlderChildrenDoNotChangeWhenNewerArrive) {
  // Few names and ids that share their first 8 digits (some share all 32), so that every
  // fallback is taken.
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> d(0, 3);
  std::vector<Child> children;
  for (int i = 0; i < 300; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%08d%024d", d(rng), d(rng) == 0 ? 0 : i);
    const std::string id8 = "~0000000" + std::to_string(d(rng));
    const std::string raws[] = {"x", "meta.json", "x" + id8, "meta.json" + id8,
                                "x" + id8 + "~00000000000000000000000000000000"};
    children.push_back({raws[std::uniform_int_distribution<int>(0, 4)(rng)], id});
  }
  const std::vector<std::string> all = AssignNames(children, kStepReserved);
  ExpectWellFormed(children, all, kStepReserved);
  for (std::size_t n : {1u, 50u, 150u, 299u}) {
    const std::vector<Child> prefix(children.begin(), children.begin() + n);
    const std::vector<std::string> got = AssignNames(prefix, kStepReserved);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), all.begin())) << n;
  }
}

TEST(AssignNamesTest, HundredThousandChildren) {
  // A sanity check that the work stays linear (a quadratic algorithm would take minutes);
  // no timing is asserted.
  std::vector<Child> children;
  constexpr int kN = 100000;
  children.reserve(kN);
  for (int i = 0; i < kN; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%032x", i);
    // Every tenth child repeats a name; every hundredth is "output" (reserved).
    std::string raw = i % 100 == 0 ? "output" : "run-" + std::to_string(i % 10 == 0 ? 0 : i);
    children.push_back({std::move(raw), id});
  }
  const std::vector<std::string> got = AssignNames(children, kStepReserved);
  ExpectWellFormed(children, got, kStepReserved);
  EXPECT_EQ(got[1], "run-1");
  EXPECT_EQ(got[10], "run-0");
}

TEST(AssignNamesTest, HundredThousandIdenticalChildrenWithoutIds) {
  // The worst case for the fallback: the same name and no id, so every child shares the
  // same suffix and only the counter tells them apart.
  for (const std::string& raw : {std::string("a"), Rep('b', 300)}) {
    const std::vector<Child> children(100000, Child{raw, ""});
    const std::vector<std::string> got = AssignNames(children, {});
    ExpectWellFormed(children, got, {});
  }
}

TEST(VisualizationFileNameTest, ExtensionFollowsZenmlsType) {
  EXPECT_EQ(VisualizationFileName(0, "html"), "0.html");
  EXPECT_EQ(VisualizationFileName(1, "image"), "1.png");
  EXPECT_EQ(VisualizationFileName(2, "markdown"), "2.md");
  EXPECT_EQ(VisualizationFileName(3, "csv"), "3.csv");
  EXPECT_EQ(VisualizationFileName(10, "json"), "10.json");
  // Types ZenML may add later keep a plain name; store text that is not one adds nothing.
  EXPECT_EQ(VisualizationFileName(4, "svg"), "4.svg");
  EXPECT_EQ(VisualizationFileName(5, ""), "5");
  EXPECT_EQ(VisualizationFileName(6, "../x"), "6");
  EXPECT_EQ(VisualizationFileName(7, "HTML"), "7");
  EXPECT_EQ(VisualizationFileName(8, std::string(17, 'a')), "8");
  EXPECT_EQ(VisualizationFileName(9, std::string("a\0b", 3)), "9");
}

}  // namespace
}  // namespace zenfs::names
