#include "fs/inodes.h"

#include <cstring>

namespace zenfs {

namespace {

std::uint64_t Fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // A separator byte keeps ("ab","c") and ("a","bc") apart.
  h ^= 0xff;
  h *= 1099511628211ull;
  return h;
}

constexpr char kHexId = 1;  // 16 bytes follow
constexpr char kRawId = 0;  // a 4-byte length and the bytes follow

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void PackId(std::string_view id, std::string* out) {
  bool hex = id.size() == 32;
  for (std::size_t i = 0; hex && i < id.size(); ++i) hex = HexValue(id[i]) >= 0;
  if (hex) {
    out->push_back(kHexId);
    for (std::size_t i = 0; i < 32; i += 2) {
      out->push_back(static_cast<char>(HexValue(id[i]) * 16 + HexValue(id[i + 1])));
    }
    return;
  }
  out->push_back(kRawId);
  const auto n = static_cast<std::uint32_t>(id.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(id);
}

// Reads one id at *pos; false if the bytes are not a packed id.
bool UnpackId(std::string_view in, std::size_t* pos, std::string* id) {
  if (*pos >= in.size()) return false;
  const char tag = in[(*pos)++];
  if (tag == kHexId) {
    if (in.size() - *pos < 16) return false;
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 16; ++i) {
      const auto b = static_cast<unsigned char>(in[*pos + i]);
      id->push_back(kDigits[b >> 4]);
      id->push_back(kDigits[b & 15]);
    }
    *pos += 16;
    return true;
  }
  std::uint32_t n = 0;
  if (tag != kRawId || in.size() - *pos < sizeof n) return false;
  std::memcpy(&n, in.data() + *pos, sizeof n);
  *pos += sizeof n;
  if (in.size() - *pos < n) return false;
  id->assign(in.substr(*pos, n));
  *pos += n;
  return true;
}

}  // namespace

std::string PackKey(const NodeKey& key) {
  std::string out(1, static_cast<char>(key.kind));
  PackId(key.id, &out);
  PackId(key.version, &out);
  out.append(key.rel);
  return out;
}

NodeKey UnpackKey(std::string_view packed) {
  NodeKey key;
  std::size_t pos = 1;
  if (packed.empty() || !UnpackId(packed, &pos, &key.id) || !UnpackId(packed, &pos, &key.version)) {
    return NodeKey{};  // only PackKey's output is ever stored
  }
  key.kind = static_cast<NodeKind>(packed[0]);
  key.rel.assign(packed.substr(pos));
  return key;
}

std::uint64_t InodeOf(const NodeKey& key) {
  if (key.kind == NodeKind::kRoot) return kRootIno;
  std::uint64_t h = 14695981039346656037ull;
  h = Fnv1a(h, std::string_view(reinterpret_cast<const char*>(&key.kind), 1));
  h = Fnv1a(h, key.id);
  h = Fnv1a(h, key.version);
  h = Fnv1a(h, key.rel);
  // Keep clear of 0 (invalid) and 1 (the root).
  if (h <= kRootIno) h += 2;
  return h;
}
}  // namespace zenfs
