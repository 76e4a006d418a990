#include "src/cache_command.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "src/mount.h"
#include "store/block_cache.h"

namespace zenfs {
namespace {

// "1.5 GiB (1610612736 bytes)": binary units, as --cache-size takes them.
std::string Bytes(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n);
  std::size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(n) + " bytes";
  char text[64];
  std::snprintf(text, sizeof text, "%.1f %s (%llu bytes)", v, kUnits[unit], static_cast<unsigned long long>(n));
  return text;
}

// The folder to use, or "" after printing why there is none.
std::string Folder(const std::string& given, const char* command) {
  if (!given.empty()) return given;
  auto dir = DefaultCacheDir();
  if (!dir.ok()) {
    std::cerr << "zenfs cache " << command << ": " << dir.status().message() << "\n";
    return "";
  }
  return *dir;
}

bool Exists(const std::string& dir) {
  struct stat st;
  return lstat(dir.c_str(), &st) == 0;
}

// Opens the cache (the folder checks of BlockCache::Open), or prints why not.
std::unique_ptr<BlockCache> Open(const std::string& dir, const char* command, int* code) {
  BlockCacheOptions options;
  options.dir = dir;
  auto cache = BlockCache::Open(options);
  if (!cache.ok()) {
    std::cerr << "zenfs cache " << command << ": " << cache.status().message() << "\n";
    *code = cache.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitStore;
    return nullptr;
  }
  return std::move(*cache);
}

}  // namespace

int CacheStatsCommand(const std::string& given) {
  const std::string dir = Folder(given, "stats");
  if (dir.empty()) return kExitUsage;
  BlockCacheStats stats;
  if (Exists(dir)) {
    int code = kExitOk;
    auto cache = Open(dir, "stats", &code);
    if (cache == nullptr) return code;
    stats = cache->Stats();
  }
  const BlockCacheOptions defaults;
  std::cout << "folder:     " << dir << (Exists(dir) ? "" : " (not created yet)") << "\n"
            << "blocks:     " << stats.blocks << "\n"
            << "bytes:      " << Bytes(stats.bytes) << "\n"
            << "size limit: " << Bytes(defaults.max_bytes) << " by default; each mount's --cache-size sets its own\n"
            << "free floor: " << Bytes(defaults.min_free_bytes) << " of the disk kept free\n";
  struct statvfs vfs;
  if (Exists(dir) && statvfs(dir.c_str(), &vfs) == 0) {
    std::cout << "disk free:  " << Bytes(static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize) << "\n";
  }
  return kExitOk;
}

int CacheCleanCommand(const std::string& given) {
  const std::string dir = Folder(given, "clean");
  if (dir.empty()) return kExitUsage;
  if (!Exists(dir)) {
    std::cout << "nothing to clean: " << dir << " does not exist\n";
    return kExitOk;
  }
  int code = kExitOk;
  auto cache = Open(dir, "clean", &code);
  if (cache == nullptr) return code;
  const BlockCacheStats before = cache->Stats();
  if (Status s = cache->Clean(); !s.ok()) {
    std::cerr << "zenfs cache clean: " << s.message() << "\n";
    return kExitStore;
  }
  std::cout << "removed " << before.blocks << " blocks (" << Bytes(before.bytes) << ") from " << dir << "\n";
  return kExitOk;
}

}  // namespace zenfs
