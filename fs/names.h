// Path names for store names (SPEC §2): escaping, suffixes for clashes, cutting long
// names. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zenfs::names {

inline constexpr std::size_t kMaxName = 255;  // bytes in one path component
inline constexpr std::size_t kCutTo = 240;    // bytes kept of a name that was too long

// "/" -> "%2F", "%" -> "%25", NUL -> "%00"; the whole names "." -> "%2E", ".." -> "%2E%2E",
// "" -> "%". Every other byte is kept as it is.
std::string Escape(std::string_view raw);

// The inverse of Escape: nullopt for a string Escape can never produce (a bare "%" inside
// a longer name, "%41", a lone "/", ".", "..", ...).
std::optional<std::string> Unescape(std::string_view encoded);

// Cuts an escaped name longer than kMaxName bytes to at most kCutTo bytes, never inside a
// UTF-8 character or a "%XX" escape, then appends "~" and the first 14 hex digits of
// SHA-256(raw). Names of kMaxName bytes or fewer are returned unchanged.
std::string Cut(std::string_view escaped, std::string_view raw);

// True if s is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// s with each ill-formed sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view s);

// Lowercase hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);

// One child of a directory, as the store names it. `id` is the store id (32 hex digits)
// or, for things without one (artifact files), any stable string.
struct Child {
  std::string raw;
  std::string id;
};

// Path names for the children of one directory, in the order given (oldest first):
// escape, then "~" + first 8 hex digits of the id for a name already taken by an older
// child or equal to one of `reserved` (the directory's fixed entries), then cut. The
// result has one name per child, all distinct and none in `reserved`.
std::vector<std::string> AssignNames(const std::vector<Child>& children,
                                     const std::vector<std::string>& reserved);

// The name of an artifact version's visualization in its output's %visualizations folder:
// its index in ZenML's order and an extension from its type, the one a viewer opens it
// by: "html", "md" (markdown), "csv", "json", and "png" for "image" (ZenML's own
// materializers write PNG; a Pillow image keeps its format, which viewers sniff). Another
// type is its own extension when it is 1 to 16 lowercase letters or digits, else none.
std::string VisualizationFileName(std::size_t index, std::string_view type);

}  // namespace zenfs::names
