// Times as ZenML stores them and as zenfs shows them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zenfs {

// Microseconds since the Unix epoch, UTC.
using Micros = std::int64_t;

// Parses a stored time: "YYYY-MM-DD HH:MM:SS[.f{1,6}]" (UTC, ZenML's encoding), also with
// 'T' for the space and a trailing "Z" or "+00:00". Anything else, including impossible
// dates (month 13, Feb 30) and years outside 1..9999, is nullopt. Never throws.
std::optional<Micros> ParseStoreTime(std::string_view text);

// "YYYY-MM-DDTHH:MM:SS.ffffffZ", the form meta.json uses. Times outside years 1..9999 are
// clamped to that range.
std::string FormatIsoTime(Micros t);

// "YYYY-MM-DD HH:MM:SS.ffffff", the form ZenML writes into its database.
std::string FormatStoreTime(Micros t);

}  // namespace zenfs
