// A guard for JSON text from the store before it reaches nlohmann::json, whose
// destructor and dump recurse once per nesting level: a hostile column nested 50,000 deep
// would overflow the stack.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace zenfs {

inline constexpr int kMaxJsonDepth = 256;

// True if `text` never nests arrays/objects deeper than `max_depth` (strings are skipped,
// escapes honoured). Linear; does not validate the JSON otherwise.
inline bool JsonDepthWithin(std::string_view text, int max_depth = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// Parses JSON text from the store; too deep or malformed text gives a discarded value
// (callers then show the text itself or nothing). Never throws.
template <typename Json>
Json ParseStoreJson(std::string_view text) {
  if (!JsonDepthWithin(text)) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, false);
}

}  // namespace zenfs
