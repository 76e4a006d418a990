// Limits on what the store can make zenfs hold: JSON nesting (nlohmann::json's destructor
// and dump recurse once per nesting level: a hostile column nested 50,000 deep would
// overflow the stack) and sizes (a compressed column of 82 KB inflates to hundreds of MB).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace zenfs {

inline constexpr int kMaxJsonDepth = 256;

// The largest value zenfs takes from one store column, stored or inflated from ZenML's
// compressed form. ZenML's own largest columns (a pipeline's configuration, a step's
// source code) stay far below it; a value beyond it is replaced by CutNote, never parsed.
inline constexpr std::size_t kMaxStoreValueBytes = 4u << 20;
// The largest meta.json document: beyond it the largest fields are replaced by notes
// (meta::Dump), so that many documents held by open files stay bounded.
inline constexpr std::size_t kMaxMetaDocumentBytes = 8u << 20;

// What stands for a value zenfs cut: one line of plain text (no quotes, backslashes or
// control characters, so it is safe in JSON and in a log line), naming the sizes.
// `size` is what the store holds; `inflated_over`, when nonzero, says its inflated form
// exceeded that many bytes.
inline std::string CutNote(std::size_t size, std::size_t inflated_over = 0) {
  std::string note = "(cut by zenfs: a stored value of " + std::to_string(size) + " bytes";
  if (inflated_over != 0) note += " inflating to more than " + std::to_string(inflated_over) + " bytes";
  return note + ", over the limit of " + std::to_string(kMaxStoreValueBytes) + " bytes)";
}

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
