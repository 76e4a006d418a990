#include "store/rows.h"

#include <cstring>

namespace zenfs {

Text TextArena::Keep(std::string_view s) {
  if (s.empty()) return Text();
  char* at;
  if (s.size() > kBlock / 4) {
    // A large text gets a block of its own; the current block keeps filling.
    large_.push_back(std::make_unique_for_overwrite<char[]>(s.size()));
    at = large_.back().get();
  } else {
    if (capacity_ - used_ < s.size()) {
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlock));
      used_ = 0;
      capacity_ = kBlock;
    }
    at = blocks_.back().get() + used_;
    used_ += s.size();
  }
  std::memcpy(at, s.data(), s.size());
  return Text(std::string_view(at, s.size()));
}

Text TextInterner::Keep(std::string_view s) {
  if (s.empty()) return Text();
  auto it = kept_.find(s);
  if (it != kept_.end()) return it->second;
  const Text kept = arena_.Keep(s);
  kept_.emplace(std::string_view(kept), kept);
  return kept;
}

}  // namespace zenfs
