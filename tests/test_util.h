// Helpers shared by the tests: temporary directories and file contents.
#pragma once

#include <cstdint>
#include <string>

namespace zenfs::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on
// destruction. Not thread-safe; one per test.
class TempDir {
 public:
  TempDir();
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

}  // namespace zenfs::testing
