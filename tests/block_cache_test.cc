// Tests of the node-wide block cache (store/block_cache.h) on real folders: blocks come
// back as they were put, anything else is a miss, damaged block files are detected and
// removed, eviction keeps the budget and goes least recently used first, folders another
// user could write are refused, and two processes sharing a folder never read a torn block.
#include "store/block_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBlock = BlockCache::kBlockSize;
constexpr std::uint64_t kBlockFile = 64 + kBlock;  // a full block's file: header + payload

const CachedObject kObject{"http://127.0.0.1:9000", "bucket", "models/model.bin", "\"0123abcd\""};

// Deterministic bytes for block `index`, varying with `seed` and the offset.
std::string Pattern(std::uint64_t index, std::size_t size, unsigned seed = 0) {
  std::string s(size, '\0');
  std::uint32_t x = static_cast<std::uint32_t>(index * 2654435761u + seed * 40503u + 1);
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::unique_ptr<BlockCache> OpenCache(const std::string& dir, std::uint64_t max_bytes = 1ull << 30,
                                      std::uint64_t min_free = 0) {
  auto c = BlockCache::Open({dir, max_bytes, min_free});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// The block files (not temporary files) under a cache folder.
std::vector<std::string> BlockFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/blocks")) {
    if (e.is_regular_file() && e.path().filename().string().rfind(".tmp.", 0) != 0) out.push_back(e.path());
  }
  return out;
}

// The file of block `index` of kObject (the only block with that index in the folder).
std::string BlockFile(const std::string& dir, std::uint64_t index) {
  const std::string suffix = "." + std::to_string(index);
  for (const std::string& f : BlockFiles(dir)) {
    if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) return f;
  }
  return "";
}

// Blocks are compared by digest: a failure then prints 64 characters, not a megabyte.
std::string Digest(const std::string& bytes) { return Sha256Hex(bytes); }
const std::string kMiss = "miss";

// Gets block `index` of `object`: the digest of its bytes, or kMiss with *status set.
std::string GetBlock(BlockCache& c, std::uint64_t index, Status* status = nullptr,
                     const CachedObject& object = kObject) {
  std::string buf(kBlock, '\0');
  auto n = c.Get(object, index, buf.data());
  if (status != nullptr) *status = n.ok() ? Status::Ok() : n.status();
  if (!n.ok()) return kMiss;
  buf.resize(*n);
  return Digest(buf);
}

// Flips the lowest bit of the byte at `offset` of a file.
void FlipBit(const std::string& path, std::uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  const char c = static_cast<char>(f.get() ^ 0x01);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(c);
}

void SetMtime(const std::string& path, std::time_t t) {
  const struct timespec times[2] = {{t, 0}, {t, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

TEST(BlockCacheTest, PutThenGetReturnsTheBytesAndTheLastBlockIsShort) {
  TempDir tmp;
  auto c = OpenCache(tmp.path() + "/cache");
  ASSERT_NE(c, nullptr);
  const std::string full = Pattern(0, kBlock), last = Pattern(1, 12345);
  ASSERT_TRUE(c->Put(kObject, 0, full).ok());
  ASSERT_TRUE(c->Put(kObject, 1, last).ok());
  EXPECT_EQ(GetBlock(*c, 0), Digest(full));
  EXPECT_EQ(GetBlock(*c, 1), Digest(last));
  const BlockCacheStats s = c->Stats();
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.bytes, 2 * 64 + kBlock + 12345);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 0u);

  // Kept across reopening (a remount), and shared with another instance on the folder.
  c.reset();
  auto again = OpenCache(tmp.path() + "/cache");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(GetBlock(*again, 1), Digest(last));
}

TEST(BlockCacheTest, AnythingElseIsAMiss) {
  TempDir tmp;
  auto c = OpenCache(tmp.path() + "/cache");
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Put(kObject, 0, Pattern(0, 100)).ok());
  struct Case {
    const char* what;
    CachedObject object;
    std::uint64_t index;
  };
  const Case cases[] = {
      {"another index", kObject, 1},
      {"another ETag", {kObject.endpoint, kObject.bucket, kObject.key, "\"0123abce\""}, 0},
      {"another key", {kObject.endpoint, kObject.bucket, kObject.key + "2", kObject.etag}, 0},
      {"another bucket", {kObject.endpoint, "bucket2", kObject.key, kObject.etag}, 0},
      {"another endpoint", {"http://127.0.0.1:9001", kObject.bucket, kObject.key, kObject.etag}, 0},
      // The separators keep the parts apart: "bucket" + "/models" is not "bucket/" + "models".
      {"parts shifted", {kObject.endpoint, "bucket/models", "model.bin", kObject.etag}, 0},
  };
  for (const Case& k : cases) {
    Status s;
    EXPECT_EQ(GetBlock(*c, k.index, &s, k.object), kMiss) << k.what;
    EXPECT_EQ(s.code(), Status::Code::kNotFound) << k.what << ": " << s.ToString();
  }
  EXPECT_EQ(c->Stats().misses, std::size(cases));
  EXPECT_EQ(GetBlock(*c, 0), Digest(Pattern(0, 100)));
}

TEST(BlockCacheTest, RefusesWhatCannotBeABlock) {
  TempDir tmp;
  auto c = OpenCache(tmp.path() + "/cache");
  ASSERT_NE(c, nullptr);
  CachedObject no_etag = kObject;
  no_etag.etag.clear();
  std::string buf(kBlock, '\0');
  EXPECT_EQ(c->Put(no_etag, 0, "x").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c->Get(no_etag, 0, buf.data()).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c->Put(kObject, 0, "").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c->Put(kObject, 0, std::string(kBlock + 1, 'x')).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c->Stats().blocks, 0u);
}

TEST(BlockCacheTest, DamagedBlocksAreMissesAndRemoved) {
  struct Case {
    const char* what;
    void (*damage)(const std::string& path);
  };
  const Case cases[] = {
      {"truncated in the payload", [](const std::string& p) { fs::resize_file(p, 64 + 1000); }},
      {"truncated in the header", [](const std::string& p) { fs::resize_file(p, 20); }},
      {"empty", [](const std::string& p) { fs::resize_file(p, 0); }},
      {"one byte longer", [](const std::string& p) { fs::resize_file(p, fs::file_size(p) + 1); }},
      {"a payload byte flipped", [](const std::string& p) { FlipBit(p, 64 + 5000); }},
      {"the last byte flipped", [](const std::string& p) { FlipBit(p, fs::file_size(p) - 1); }},
      {"a header byte flipped", [](const std::string& p) { FlipBit(p, 9); }},
      {"the index flipped", [](const std::string& p) { FlipBit(p, 16); }},
      {"the checksum flipped", [](const std::string& p) { FlipBit(p, 60); }},
      {"the magic flipped", [](const std::string& p) { FlipBit(p, 0); }},
  };
  TempDir tmp;
  auto c = OpenCache(tmp.path() + "/cache");
  ASSERT_NE(c, nullptr);
  const std::string data = Pattern(7, kBlock - 3);
  std::uint64_t corrupt = 0;
  for (const Case& k : cases) {
    ASSERT_TRUE(c->Put(kObject, 7, data).ok());
    const std::string path = BlockFile(tmp.path() + "/cache", 7);
    ASSERT_FALSE(path.empty());
    k.damage(path);
    Status s;
    EXPECT_EQ(GetBlock(*c, 7, &s), kMiss) << k.what;
    EXPECT_EQ(s.code(), Status::Code::kNotFound) << k.what << ": " << s.ToString();
    EXPECT_FALSE(fs::exists(path)) << k.what << ": the bad block stays";
    EXPECT_EQ(c->Stats().corrupt, ++corrupt) << k.what;
    // Fetched again and put, it is served.
    ASSERT_TRUE(c->Put(kObject, 7, data).ok());
    EXPECT_EQ(GetBlock(*c, 7), Digest(data)) << k.what;
  }
  // A block file renamed to another block's name is refused too (the header names its key).
  ASSERT_TRUE(c->Put(kObject, 8, Pattern(8, 100)).ok());
  fs::rename(BlockFile(tmp.path() + "/cache", 8), BlockFile(tmp.path() + "/cache", 7));
  EXPECT_EQ(GetBlock(*c, 7), kMiss);
  EXPECT_EQ(c->Stats().corrupt, corrupt + 1);
}

TEST(BlockCacheTest, EvictionKeepsTheBudgetLeastRecentlyUsedFirst) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  // Room for three blocks, and 90% of it (where eviction stops) still holds three.
  const std::uint64_t budget = kBlockFile * 34 / 10;
  auto c = OpenCache(dir, budget);
  ASSERT_NE(c, nullptr);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(c->Put(kObject, i, Pattern(i, kBlock)).ok());
  ASSERT_EQ(c->Stats().blocks, 3u);
  // Put long ago, in order; then block 0 is read, which makes it the most recent.
  const std::time_t now = std::time(nullptr);
  for (std::uint64_t i = 0; i < 3; ++i) SetMtime(BlockFile(dir, i), now - 300 + 100 * static_cast<std::time_t>(i));
  EXPECT_EQ(GetBlock(*c, 0), Digest(Pattern(0, kBlock)));
  ASSERT_TRUE(c->Put(kObject, 3, Pattern(3, kBlock)).ok());
  BlockCacheStats s = c->Stats();
  EXPECT_EQ(s.blocks, 3u);
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_EQ(GetBlock(*c, 1), kMiss) << "the least recently used block stays";
  EXPECT_EQ(GetBlock(*c, 0), Digest(Pattern(0, kBlock)));
  EXPECT_EQ(GetBlock(*c, 2), Digest(Pattern(2, kBlock)));
  EXPECT_EQ(GetBlock(*c, 3), Digest(Pattern(3, kBlock)));

  // Many more puts: the folder never holds more than the budget.
  for (std::uint64_t i = 4; i < 30; ++i) {
    ASSERT_TRUE(c->Put(kObject, i, Pattern(i, kBlock)).ok());
    s = c->Stats();
    EXPECT_LE(s.bytes, budget) << "after block " << i;
    EXPECT_GE(s.blocks, 2u) << "after block " << i;
  }
}

TEST(BlockCacheTest, TheFreeSpaceFloorEvictsAndRefuses) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  auto c = OpenCache(dir);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Put(kObject, 0, Pattern(0, kBlock)).ok());
  c.reset();
  // No disk has 2^62 bytes free: the cache gives up what it holds and stores nothing.
  auto starved = OpenCache(dir, 1ull << 40, 1ull << 62);
  ASSERT_NE(starved, nullptr);
  const Status s = starved->Put(kObject, 1, Pattern(1, 100));
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find(dir), std::string::npos) << s.message();
  EXPECT_EQ(starved->Stats().blocks, 0u);
  // A floor no sum can exceed is refused the same way, not wrapped around.
  auto impossible = OpenCache(dir, 1ull << 40, UINT64_MAX);
  ASSERT_NE(impossible, nullptr);
  EXPECT_EQ(impossible->Put(kObject, 1, Pattern(1, 100)).code(), Status::Code::kIOError);
}

TEST(BlockCacheTest, CleanEmptiesTheFolder) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  auto c = OpenCache(dir);
  ASSERT_NE(c, nullptr);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(c->Put(kObject, i, Pattern(i, 1000)).ok());
  ASSERT_TRUE(c->Clean().ok());
  EXPECT_EQ(c->Stats().blocks, 0u);
  EXPECT_TRUE(BlockFiles(dir).empty());
  EXPECT_EQ(GetBlock(*c, 0), kMiss);
  ASSERT_TRUE(c->Put(kObject, 0, Pattern(0, 1000)).ok());
  EXPECT_EQ(GetBlock(*c, 0), Digest(Pattern(0, 1000)));
}

TEST(BlockCacheTest, FoldersOtherUsersCouldWriteAreRefused) {
  TempDir tmp;
  // Made when missing, parents too, with mode 0700.
  const std::string made = tmp.path() + "/a/b/cache";
  ASSERT_NE(OpenCache(made), nullptr);
  EXPECT_EQ(fs::status(made).permissions(), fs::perms::owner_all);

  struct Case {
    const char* what;
    std::string dir;
  };
  std::vector<Case> cases;
  const std::string wide = tmp.path() + "/wide";
  fs::create_directory(wide);
  chmod(wide.c_str(), 0755);
  cases.push_back({"mode 0755", wide});
  const std::string group = tmp.path() + "/group";
  fs::create_directory(group);
  chmod(group.c_str(), 0770);
  cases.push_back({"mode 0770", group});
  const std::string link = tmp.path() + "/link";
  fs::create_directory_symlink(made, link);
  cases.push_back({"a symlink to a good folder", link});
  const std::string file = tmp.path() + "/file";
  WriteFile(file, "x");
  chmod(file.c_str(), 0700);
  cases.push_back({"a regular file", file});
  const std::string other = tmp.path() + "/other";
  fs::create_directory(other);
  chmod(other.c_str(), 0700);
  if (geteuid() == 0 && chown(other.c_str(), 65534, 65534) == 0) {
    cases.push_back({"owned by another user", other});
  } else {
    std::cerr << "not root: the other owner's folder is not tried\n";
  }
  for (const Case& k : cases) {
    auto c = BlockCache::Open({k.dir, 1ull << 30, 0});
    ASSERT_FALSE(c.ok()) << k.what;
    EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument) << k.what;
    EXPECT_NE(c.status().message().find(k.dir), std::string::npos) << k.what << ": " << c.status().message();
  }
  EXPECT_FALSE(fs::exists(wide + "/blocks")) << "a refused folder is written to";
  EXPECT_EQ(BlockCache::Open({"", 1, 0}).status().code(), Status::Code::kInvalidArgument);
}

TEST(BlockCacheTest, DefaultFolder) {
  struct Case {
    unsigned euid;
    const char* xdg;
    const char* home;
    std::string want;
  };
  const Case cases[] = {
      {0, "/x/cache", "/root", "/var/cache/zenfs"},
      {1000, "/x/cache", "/home/u", "/x/cache/zenfs"},
      {1000, "/x/cache/", "/home/u", "/x/cache/zenfs"},
      {1000, nullptr, "/home/u", "/home/u/.cache/zenfs"},
      {1000, "", "/home/u", "/home/u/.cache/zenfs"},
      {1000, "relative", "/home/u/", "/home/u/.cache/zenfs"},
      {1000, nullptr, nullptr, ""},
      {1000, nullptr, "relative", ""},
  };
  for (const Case& k : cases) {
    EXPECT_EQ(DefaultCacheDirFor(k.euid, k.xdg, k.home), k.want)
        << k.euid << " " << (k.xdg ? k.xdg : "(unset)") << " " << (k.home ? k.home : "(unset)");
  }
  auto mine = DefaultCacheDir();
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(mine->back(), 's');  // ".../zenfs"
}

// What Hammer found wrong, if anything.
enum HammerResult : int { kFine = 0, kCannotOpen = 10, kPutFailed, kTorn, kSawCorrupt, kNoHits };
const char* const kHammerResults = "10 cannot open, 11 a put failed, 12 a torn block read, 13 a corrupt "
                                   "block seen, 14 no hit at all";
constexpr std::uint64_t kHammerBlocks = 12;
constexpr std::uint64_t kHammerBudget = 6 * kBlockFile;  // half of them: eviction all the time
constexpr int kHammerRounds = kSanitizedBuild ? 40 : 120;

// Puts (its own bytes, `seed` 0 or 1, to make a torn block visible) and gets the same
// blocks as other hammers at once. Every block read must be entirely one writer's.
int Hammer(BlockCache& c, unsigned seed) {
  auto size_of = [](std::uint64_t index) { return index + 1 == kHammerBlocks ? std::size_t{4321} : kBlock; };
  std::vector<std::string> mine, theirs;
  for (std::uint64_t i = 0; i < kHammerBlocks; ++i) {
    mine.push_back(Pattern(i, size_of(i), seed));
    theirs.push_back(Pattern(i, size_of(i), 1 - seed));
  }
  std::string buf(kBlock, '\0');
  for (int round = 0; round < kHammerRounds; ++round) {
    const std::uint64_t put = (static_cast<std::uint64_t>(round) * 5 + seed) % kHammerBlocks;
    if (!c.Put(kObject, put, mine[put]).ok()) return kPutFailed;
    for (std::uint64_t k = 0; k < 3; ++k) {
      const std::uint64_t get = (put + k * 7) % kHammerBlocks;
      auto n = c.Get(kObject, get, buf.data());
      if (!n.ok()) continue;
      const std::string_view got(buf.data(), *n);
      if (got != mine[get] && got != theirs[get]) return kTorn;
    }
  }
  return kFine;
}

int CheckStats(BlockCache& c) {
  const BlockCacheStats s = c.Stats();
  if (s.corrupt != 0) return kSawCorrupt;
  return s.hits == 0 ? kNoHits : kFine;
}

// Whatever the hammers left, the next put with the folder to itself keeps the budget
// (while several evict, one skips a scan that another holds the lock for).
void ExpectWithinBudgetAfterAPut(const std::string& dir) {
  auto c = OpenCache(dir, kHammerBudget);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Put(kObject, 0, Pattern(0, kBlock)).ok());
  EXPECT_LE(c->Stats().bytes, kHammerBudget);
}

// Two processes (two daemons) with a cache each on one folder.
TEST(BlockCacheTest, TwoProcessesNeverReadATornBlock) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  pid_t pids[2];
  std::fflush(nullptr);
  for (unsigned seed = 0; seed < 2; ++seed) {
    pids[seed] = fork();
    ASSERT_GE(pids[seed], 0);
    if (pids[seed] == 0) {
      auto c = BlockCache::Open({dir, kHammerBudget, 0});
      int result = c.ok() ? Hammer(**c, seed) : kCannotOpen;
      if (result == kFine) result = CheckStats(**c);
      _exit(result);
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child ended by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), kFine) << kHammerResults;
  }
  ExpectWithinBudgetAfterAPut(dir);
}

// Threads (a daemon's FUSE workers) sharing one cache.
TEST(BlockCacheTest, ThreadsNeverReadATornBlock) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  auto c = OpenCache(dir, kHammerBudget);
  ASSERT_NE(c, nullptr);
  int results[4];
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::size(results); ++t) {
    threads.emplace_back([&, t] { results[t] = Hammer(*c, t % 2); });
  }
  for (std::thread& t : threads) t.join();
  for (int r : results) EXPECT_EQ(r, kFine) << kHammerResults;
  EXPECT_EQ(CheckStats(*c), kFine) << kHammerResults;
  ExpectWithinBudgetAfterAPut(dir);
}

}  // namespace
}  // namespace zenfs::testing
