// Throughput of the node-wide block cache (store/block_cache.h) with 1 MiB blocks on one
// disk: what a warm-cache read of an S3 artifact can reach before FUSE is added. A program
// that prints figures, never a test; scripts/bench-cache.sh builds and runs it.
//
//   zenfs_cache_bench [--dir DIR] [--blocks N] [--rounds R]
//
// DIR (default: a fresh folder under /var/tmp, removed at the end) is the cache folder;
// N blocks (default 512: 512 MiB) are put, then read back warm (in the page cache) and
// cold (each block file dropped from the page cache with posix_fadvise after a syncfs,
// so that nothing else on the machine loses its cache). Each figure is the median of R
// rounds (default 3). The checksums alone (XXH3-64 as the cache uses it, CRC-32 and
// SHA-256 for comparison) are measured over the same bytes in memory.
#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "store/block_cache.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBlock = zenfs::BlockCache::kBlockSize;

// The median MiB/s of `rounds` runs of fn, which moves `bytes` bytes; a run returning
// false aborts the program.
double MedianMibPerSecond(int rounds, std::uint64_t bytes, const std::function<bool()>& fn,
                          const std::function<void()>& before = [] {}) {
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    before();
    const auto start = Clock::now();
    if (!fn()) std::exit(1);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(static_cast<double>(bytes) / (1 << 20) / seconds);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

// Writes dirty pages of the folder's file system and drops every block file's pages.
void DropBlocks(const std::string& dir) {
  const int d = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    syncfs(d);
    close(d);
  }
  for (const auto& e : fs::recursive_directory_iterator(dir + "/blocks")) {
    if (!e.is_regular_file()) continue;
    const int fd = open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::uint64_t blocks = 512;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir") dir = argv[i + 1];
    else if (a == "--blocks") blocks = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else {
      std::cerr << "usage: zenfs_cache_bench [--dir DIR] [--blocks N] [--rounds R]\n";
      return 2;
    }
  }
  if (blocks == 0 || rounds < 1) {
    std::cerr << "--blocks and --rounds must be at least 1\n";
    return 2;
  }
  bool temporary = false;
  if (dir.empty()) {
    char tmpl[] = "/var/tmp/zenfs-cache-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = std::string(tmpl) + "/cache";
    temporary = true;
  }
  auto opened = zenfs::BlockCache::Open({dir, ~0ull, 0});
  if (!opened.ok()) {
    std::cerr << opened.status().ToString() << "\n";
    return 1;
  }
  zenfs::BlockCache& cache = **opened;
  const zenfs::CachedObject object{"http://127.0.0.1:9000", "bench", "model.bin", "\"bench-etag\""};
  std::string data(kBlock, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::string buf(kBlock, '\0');
  const std::uint64_t bytes = blocks * kBlock;

  auto put_all = [&] {
    for (std::uint64_t b = 0; b < blocks; ++b) {
      if (zenfs::Status s = cache.Put(object, b, data); !s.ok()) {
        std::cerr << "put: " << s.ToString() << "\n";
        return false;
      }
    }
    return true;
  };
  auto get_all = [&] {
    for (std::uint64_t b = 0; b < blocks; ++b) {
      auto n = cache.Get(object, b, buf.data());
      if (!n.ok() || *n != kBlock) {
        std::cerr << "get " << b << ": " << (n.ok() ? "short" : n.status().ToString()) << "\n";
        return false;
      }
    }
    return true;
  };
  auto sync = [&] {
    const int d = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool ok = d >= 0 && syncfs(d) == 0;
    if (d >= 0) close(d);
    return ok;
  };
  auto clean = [&] { (void)cache.Clean(); };

  std::printf("block cache, %llu blocks of 1 MiB, median of %d rounds, folder %s\n",
              static_cast<unsigned long long>(blocks), rounds, dir.c_str());
  const double put = MedianMibPerSecond(rounds, bytes, put_all, [&] { clean(); sync(); });
  const double put_sync = MedianMibPerSecond(
      rounds, bytes, [&] { return put_all() && sync(); }, [&] { clean(); sync(); });
  const double warm = MedianMibPerSecond(rounds, bytes, get_all);
  const double cold = MedianMibPerSecond(rounds, bytes, get_all, [&] { DropBlocks(dir); });
  std::uint64_t xxh = 0;
  const double xxh_rate = MedianMibPerSecond(rounds, bytes, [&] {
    for (std::uint64_t b = 0; b < blocks; ++b) xxh += XXH3_64bits(data.data(), data.size());
    return true;
  });
  std::uint64_t crc = 0;
  const double crc_rate = MedianMibPerSecond(rounds, bytes, [&] {
    for (std::uint64_t b = 0; b < blocks; ++b) crc += crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    return true;
  });
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const double sha_rate = MedianMibPerSecond(rounds, bytes, [&] {
    for (std::uint64_t b = 0; b < blocks; ++b) {
      SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    }
    return true;
  });
  std::printf("  put (into the page cache)      %8.0f MiB/s\n", put);
  std::printf("  put + syncfs (to the disk)     %8.0f MiB/s\n", put_sync);
  std::printf("  get, warm (page cache)         %8.0f MiB/s\n", warm);
  std::printf("  get, cold (from the disk)      %8.0f MiB/s\n", cold);
  std::printf("  XXH3-64 alone (the cache's)    %8.0f MiB/s  (%016llx)\n", xxh_rate, static_cast<unsigned long long>(xxh));
  std::printf("  CRC-32 alone (zlib)            %8.0f MiB/s  (%016llx)\n", crc_rate, static_cast<unsigned long long>(crc));
  std::printf("  SHA-256 alone (OpenSSL)        %8.0f MiB/s  (%02x...)\n", sha_rate, digest[0]);
  clean();
  if (temporary) {
    std::error_code ec;
    fs::remove_all(fs::path(dir).parent_path(), ec);
  }
  return 0;
}
