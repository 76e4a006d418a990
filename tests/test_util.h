// Helpers shared by the tests: temporary directories and file contents.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zenfs::testing {

// True in ASan/UBSan and TSan builds (CMake defines ZENFS_SANITIZED there): memory
// figures mean nothing under a sanitizer's allocator.
#ifdef ZENFS_SANITIZED
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// A fresh directory under $TMPDIR (or /tmp), or under `base` (created if missing),
// removed with everything in it on destruction. Not thread-safe; one per test.
class TempDir {
 public:
  TempDir();
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole content of a file; "" with *ok=false (when given) if it cannot be read.
std::string ReadFile(const std::string& path, bool* ok = nullptr);
void WriteFile(const std::string& path, const std::string& content);
// Lowercase hex SHA-256 of a file's bytes, read with plain read(2).
std::string FileSha256(const std::string& path);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);
// `text` as ZenML stores a long column: "\0zenml-compressed:zlib:v1:" + base64(zlib(text)),
// the base64 by a hand-written table, independent of the code under test.
std::string ZenmlCompressed(const std::string& text, int level = 6);

// The genuine ZenML stores named by ZENFS_ZENML_SAMPLE (config directories separated by
// ':'), in order; empty when it is unset. The first is the ZenML 0.74 sample.
std::vector<std::string> ZenmlSamples();

}  // namespace zenfs::testing
