// Tests of `zenfs cache stats` and `zenfs cache clean` (the real binary): they show and
// empty a cache folder that BlockCache filled, show the default folder for root and for
// another user, and refuse a folder other users could write without touching it.
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/block_cache.h"
#include "tests/hostile_util.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

// A cache folder holding `blocks` small blocks of one object.
void Fill(const std::string& dir, int blocks) {
  auto cache = BlockCache::Open({dir, 1ull << 30, 0});
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  const CachedObject object{"http://127.0.0.1:9000", "bucket", "key", "\"etag\""};
  for (int i = 0; i < blocks; ++i) {
    ASSERT_TRUE((*cache)->Put(object, static_cast<std::uint64_t>(i), std::string(1000, 'x')).ok());
  }
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CacheCliTest, StatsShowsAndCleanEmptiesAFolder) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  Fill(dir, 3);
  CommandResult r = RunZenfs({"cache", "stats", "--cache-dir", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "folder:     " + dir + "\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "blocks:     3\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "bytes:      3.1 KiB (" + std::to_string(3 * (64 + 1000)) + " bytes)\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "size limit: 10.0 GiB")) << r.out;

  r = RunZenfs({"cache", "clean", "--cache-dir", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "removed 3 blocks")) << r.out;
  r = RunZenfs({"cache", "stats", "--cache-dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "blocks:     0\n")) << r.out;

  // A folder that is not there yet is shown empty and left alone.
  const std::string missing = tmp.path() + "/missing";
  r = RunZenfs({"cache", "stats", "--cache-dir", missing});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, missing + " (not created yet)")) << r.out;
  r = RunZenfs({"cache", "clean", "--cache-dir", missing});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  struct stat st;
  EXPECT_NE(lstat(missing.c_str(), &st), 0) << "stats or clean created the folder";
}

TEST(CacheCliTest, AFolderOthersCouldWriteIsRefusedAndKept) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/cache";
  Fill(dir, 2);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  for (const char* command : {"stats", "clean"}) {
    const CommandResult r = RunZenfs({"cache", command, "--cache-dir", dir});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out;
    EXPECT_TRUE(Contains(r.err, dir) && Contains(r.err, "0755")) << command << ": " << r.err;
  }
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  const CommandResult r = RunZenfs({"cache", "stats", "--cache-dir", dir});
  EXPECT_TRUE(Contains(r.out, "blocks:     2\n")) << "a refused clean removed blocks: " << r.out;
}

TEST(CacheCliTest, UsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"cache"}, {"cache", "purge"}, {"cache", "stats", "--cache-dir"}, {"cache", "stats", "extra"}}) {
    const CommandResult r = RunZenfs(args);
    EXPECT_EQ(r.exit_code, 1) << args.size() << " arguments: " << r.out << r.err;
  }
}

TEST(CacheCliTest, DefaultFolderForRootAndForOtherUsers) {
  if (!RunningAsRoot()) GTEST_SKIP() << "needs root to run as another user";
  // Root's default; stats creates nothing even when it is missing.
  CommandResult r = RunZenfs({"cache", "stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "folder:     /var/cache/zenfs")) << r.out;

  TestUser user;
  std::string why;
  ASSERT_TRUE(EnsureUser("zenfs-hostile", &user, &why)) << why;
  WorldScratch scratch;
  ASSERT_FALSE(scratch.path().empty());
  r = RunAs(user, {"env", "XDG_CACHE_HOME=" + scratch.path() + "/xdg", ZenfsBinary(), "cache", "stats"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "folder:     " + scratch.path() + "/xdg/zenfs (not created yet)")) << r.out;
  r = RunAs(user, {"env", "-u", "XDG_CACHE_HOME", "HOME=/home/nobody-here", ZenfsBinary(), "cache", "stats"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "folder:     /home/nobody-here/.cache/zenfs (not created yet)")) << r.out;

  // Root's cache folder is not another user's to read or clean.
  const std::string roots = scratch.path() + "/roots-cache";
  Fill(roots, 1);
  r = RunAs(user, {ZenfsBinary(), "cache", "clean", "--cache-dir", roots});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(Contains(r.err, roots)) << r.err;
}

}  // namespace
}  // namespace zenfs::testing
