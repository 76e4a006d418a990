#include "fs/names.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace zenfs::names {

namespace {

constexpr std::size_t kHashDigits = 14;  // hex digits of SHA-256(raw) after a cut
constexpr std::size_t kIdDigits = 8;     // hex digits of the id in a clash suffix
// "~" + kHashDigits: what a cut appends. kCutTo + kCutSuffix == kMaxName.
constexpr std::size_t kCutSuffix = 1 + kHashDigits;
static_assert(kCutTo + kCutSuffix <= kMaxName);

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// One UTF-8 sequence starting at s[i] (i < s.size()): `len` bytes, well-formed or not.
// For an ill-formed sequence `len` is its maximal subpart (the longest prefix of a
// well-formed sequence, at least one byte), as Unicode §3.9 recommends for replacement.
struct Utf8Seq {
  std::size_t len;
  bool valid;
};

Utf8Seq NextUtf8(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {1, true};
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Table 3-7)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, false};  // continuation byte, C0, C1 or F5..FF
  }
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) return {k, false};
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80;
    const unsigned char h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return {k, false};
  }
  return {n, true};
}

// The longest prefix of the escaped name `s` of at most `limit` bytes that ends between
// two characters: a "%XX" escape, a well-formed UTF-8 sequence and (in ill-formed UTF-8)
// a single byte are each one character.
std::string_view TruncateAtBoundary(std::string_view s, std::size_t limit) {
  std::size_t end = 0;
  while (end < s.size()) {
    std::size_t len;
    if (s[end] == '%' && end + 2 < s.size() && IsHexDigit(s[end + 1]) &&
        IsHexDigit(s[end + 2])) {
      len = 3;
    } else {
      const Utf8Seq seq = NextUtf8(s, end);
      len = seq.valid ? seq.len : 1;
    }
    if (end + len > limit) break;
    end += len;
  }
  return s.substr(0, end);
}

// SHA-256(raw) in hex, computed at most once however often a name is tried.
class RawHash {
 public:
  explicit RawHash(std::string_view raw) : raw_(raw) {}
  const std::string& Hex() {
    if (hex_.empty()) hex_ = Sha256Hex(raw_);
    return hex_;
  }
  // "~" + the first kHashDigits hex digits: the mark of a cut name.
  std::string CutMark() { return "~" + Hex().substr(0, kHashDigits); }

 private:
  std::string_view raw_;
  std::string hex_;
};

// Cut, with the hash shared between the attempts of AssignNames.
std::string CutWith(std::string_view escaped, RawHash& hash) {
  if (escaped.size() <= kMaxName) return std::string(escaped);
  std::string out(TruncateAtBoundary(escaped, kCutTo));
  out += hash.CutMark();
  return out;
}

// `escaped` with `tag` appended, cut so that the tag survives: used only by the fallback
// of AssignNames, where the tag is what makes the name unique and Cut would drop it.
std::string PlaceTag(std::string_view escaped, std::string_view tag, RawHash& hash) {
  if (escaped.size() + tag.size() <= kMaxName) {
    std::string out(escaped);
    out += tag;
    return out;
  }
  std::string out(TruncateAtBoundary(escaped, kMaxName - kCutSuffix - tag.size()));
  out += hash.CutMark();
  out += tag;
  return out;
}

// The hex digits that identify a child in a suffix. A store id (32 hex digits, or a UUID
// with dashes) gives its own digits; an empty id gives SHA-256(raw); any other string
// (e.g. an artifact file's path, which may hold "/" or NUL) gives SHA-256(id), so that a
// suffix never adds bytes Escape would have had to escape. Never empty.
std::string IdDigits(const Child& c, RawHash& hash) {
  if (c.id.empty()) return hash.Hex();
  std::string digits;
  digits.reserve(c.id.size());
  for (const char ch : c.id) {
    if (IsHexDigit(ch)) {
      digits += ch;
    } else if (ch != '-') {
      return Sha256Hex(c.id);
    }
  }
  return digits.empty() ? Sha256Hex(c.id) : digits;
}

}  // namespace

std::string Escape(std::string_view raw) {
  if (raw.empty()) return "%";
  if (raw == ".") return "%2E";
  if (raw == "..") return "%2E%2E";
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    switch (c) {
      case '/': out += "%2F"; break;
      case '%': out += "%25"; break;
      case '\0': out += "%00"; break;
      default: out += c; break;
    }
  }
  return out;
}

std::optional<std::string> Unescape(std::string_view encoded) {
  if (encoded == "%") return std::string();
  if (encoded == "%2E") return std::string(".");
  if (encoded == "%2E%2E") return std::string("..");
  if (encoded.empty() || encoded == "." || encoded == "..") return std::nullopt;
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '/' || c == '\0') return std::nullopt;
    if (c != '%') {
      out += c;
      continue;
    }
    // Escape writes exactly these three escapes, in upper case, and no other.
    const std::string_view esc = encoded.substr(i, 3);
    if (esc == "%2F") {
      out += '/';
    } else if (esc == "%25") {
      out += '%';
    } else if (esc == "%00") {
      out += '\0';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string Cut(std::string_view escaped, std::string_view raw) {
  RawHash hash(raw);
  return CutWith(escaped, hash);
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const Utf8Seq seq = NextUtf8(s, i);
    if (!seq.valid) return false;
    i += seq.len;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const Utf8Seq seq = NextUtf8(s, i);
    if (seq.valid) {
      out.append(s.substr(i, seq.len));
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for the maximal subpart
    }
    i += seq.len;
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  // EVP_sha256() is a built-in, never-fetched digest: EVP_Digest fails only when out of
  // memory, where std::string would not get far either. Abort rather than hand back a
  // name that could collide.
  if (EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha256(), nullptr) != 1) {
    std::fputs("zenfs: SHA-256 failed (out of memory?)\n", stderr);
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * md_len);
  for (unsigned int i = 0; i < md_len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

// The names, child by child in the given order. A child's name depends only on itself,
// the reserved names and the children before it, so adding a newer child (the store
// appends in this order) never renames an older one.
//
// The SPEC rule (escape; "~" + 8 id digits if the name is taken or reserved; cut) leaves
// rare clashes: two identical raw names over 255 bytes (the cut drops the suffix and the
// hash of the raw name is the same), a suffixed name that another child has as its
// natural name ("a", "a", "a~<id8 of the second>"), or two children whose 8 id digits
// agree. Only then does a fallback apply, first candidate that is free wins:
//   1. "~" + all the id's digits (32 for a store id; see IdDigits), kept whole: if the
//      name gets too long, the escaped name is cut shorter to make room, still followed by
//      "~" + 14 hash digits as every cut name is;
//   2. "~" + all the id's digits + "~" + 2, 3, 4, ... (a counter per such base, so that a
//      directory of identical children stays linear).
// Every name stays within kMaxName bytes.
std::vector<std::string> AssignNames(const std::vector<Child>& children,
                                     const std::vector<std::string>& reserved) {
  std::vector<std::string> out;
  // No reallocation below: `used` holds views into `out` and `reserved`.
  out.reserve(children.size());
  std::unordered_set<std::string_view> used;
  used.reserve(children.size() + reserved.size());
  for (const std::string& r : reserved) used.insert(r);
  // Fallback 2: next counter to try per base (escaped name + "~" + id digits).
  std::unordered_map<std::string, std::uint64_t> next_counter;

  for (const Child& c : children) {
    const std::string escaped = Escape(c.raw);
    RawHash hash(c.raw);
    std::string name = CutWith(escaped, hash);
    if (used.count(name) != 0) {
      const std::string digits = IdDigits(c, hash);
      name = CutWith(escaped + "~" + digits.substr(0, kIdDigits), hash);
      if (used.count(name) != 0) {
        const std::string tag = "~" + digits;
        name = PlaceTag(escaped, tag, hash);
        if (used.count(name) != 0) {
          std::uint64_t& k = next_counter.try_emplace(escaped + tag, 2).first->second;
          do {
            name = PlaceTag(escaped, tag + "~" + std::to_string(k++), hash);
          } while (used.count(name) != 0);
        }
      }
    }
    out.push_back(std::move(name));
    used.insert(out.back());
  }
  return out;
}

std::string VisualizationFileName(std::size_t index, std::string_view type) {
  std::string name = std::to_string(index);
  if (type == "image") return name + ".png";
  if (type == "markdown") return name + ".md";
  const bool plain = !type.empty() && type.size() <= 16 &&
                     std::all_of(type.begin(), type.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                     });
  if (plain) name.append(".").append(type);
  return name;
}

}  // namespace zenfs::names
