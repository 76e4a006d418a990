// Permissions on a shared node (SPEC §4): root mounts a store with allow_other and two
// unprivileged users read it. A file they could not read on disk stays unreadable through
// the mount, also when it became private after they looked; the overrides open it on
// purpose; a private store hides its tree.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/hostile_util.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

// How a read by another user ended.
enum class Outcome { kRead, kDenied, kOther };

std::ostream& operator<<(std::ostream& os, Outcome o) {
  return os << (o == Outcome::kRead ? "read" : o == Outcome::kDenied ? "permission denied" : "other error");
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + ": " + r.err;
}

Outcome OutcomeOf(const CommandResult& r) {
  if (r.exit_code == 0) return Outcome::kRead;
  if (r.err.find("Permission denied") != std::string::npos) return Outcome::kDenied;
  return Outcome::kOther;
}

class SharedNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    if (!RunningAsRoot()) GTEST_SKIP() << "the shared-node tests mount as root";
    std::string why;
    ASSERT_TRUE(EnsureUser("zenfs-reader", &reader_, &why)) << why;
    ASSERT_TRUE(EnsureUser("zenfs-other", &other_, &why)) << why;
    scratch_ = std::make_unique<WorldScratch>();
    ASSERT_FALSE(scratch_->path().empty());
    store_ = scratch_->path() + "/store";
    const CommandResult r = RunZenfs({"demo", store_, "--schema", "0.74", "--runs", "2", "--artifact-bytes", "1K"});
    ASSERT_EQ(r.exit_code, 0) << "zenfs demo failed: " << r.err;
    db_path_ = store_ + "/local_stores/default_zen_store/zenml.db";
    mnt_ = scratch_->path() + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    // The output folder of the first run's step_1, in the mount and on disk.
    {
      Mount probe(Mount::Options{store_, mnt_, {}});
      ASSERT_TRUE(probe.ok()) << probe.error();
      const std::string runs = probe.path() + "/example_pipeline/runs";
      auto names = ListDir(runs);
      ASSERT_TRUE(names && names->size() >= 2) << runs;
      const std::string run = (*names)[0] == "latest" ? (*names)[1] : (*names)[0];
      out_rel_ = "example_pipeline/runs/" + run + "/steps/step_1/outputs/output";
      const nlohmann::json meta = ReadJson(probe.path() + "/" + out_rel_ + "/meta.json");
      ASSERT_FALSE(meta.is_discarded());
      disk_ = meta.at("uri").get<std::string>();
    }
    ASSERT_TRUE(std::filesystem::is_directory(disk_)) << disk_;
    // The artifact's own files, as the users keep them.
    Put("open.bin", 0, 0, 0644);
    Put("root-private.bin", 0, 0, 0600);
    Put("other-private.bin", other_.uid, other_.gid, 0600);
    Put("group-other.bin", 0, other_.gid, 0640);
    ASSERT_EQ(mkdir((disk_ + "/other-folder").c_str(), 0700), 0);
    ASSERT_EQ(chown((disk_ + "/other-folder").c_str(), other_.uid, other_.gid), 0);
    Put("other-folder/inner.bin", other_.uid, other_.gid, 0644);
  }

  void Put(const std::string& rel, uid_t uid, gid_t gid, mode_t mode) {
    const std::string path = disk_ + "/" + rel;
    WriteFile(path, "bytes of " + rel + "\n");
    ASSERT_EQ(chown(path.c_str(), uid, gid), 0) << path;
    ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
  }

  void MountShared(std::vector<std::string> options = {"-o", "allow_other"}) {
    mount_ = std::make_unique<Mount>(Mount::Options{store_, mnt_, std::move(options)});
    ASSERT_TRUE(mount_->ok()) << mount_->error();
  }

  std::string InMount(const std::string& rel) { return mount_->path() + "/" + out_rel_ + "/" + rel; }

  Outcome ReadAs(const TestUser& user, const std::string& path, std::string* detail = nullptr) {
    const CommandResult r = RunAs(user, {"cat", path});
    if (detail) *detail = Describe(r);
    return OutcomeOf(r);
  }

  TestUser reader_, other_;
  // Declared before the mount: the mount comes off before its folder goes.
  std::unique_ptr<WorldScratch> scratch_;
  std::string store_, db_path_, mnt_, out_rel_, disk_;
  std::unique_ptr<Mount> mount_;
};

TEST_F(SharedNodeTest, PrivateFilesStayPrivate) {
  ASSERT_NO_FATAL_FAILURE(MountShared());
  struct Case {
    const char* rel;
    const TestUser* user;
    Outcome want;
  };
  const Case cases[] = {
      {"open.bin", &reader_, Outcome::kRead},
      {"root-private.bin", &reader_, Outcome::kDenied},
      {"other-private.bin", &reader_, Outcome::kDenied},
      {"group-other.bin", &reader_, Outcome::kDenied},
      {"other-folder/inner.bin", &reader_, Outcome::kDenied},  // 0644 in a 0700 folder
      {"open.bin", &other_, Outcome::kRead},
      {"root-private.bin", &other_, Outcome::kDenied},
      {"other-private.bin", &other_, Outcome::kRead},  // its own
      {"group-other.bin", &other_, Outcome::kRead},    // its group
      {"other-folder/inner.bin", &other_, Outcome::kRead},
  };
  for (const Case& c : cases) {
    std::string detail;
    EXPECT_EQ(ReadAs(*c.user, InMount(c.rel), &detail), c.want) << c.user->name << " reading " << c.rel << ": "
                                                                << detail;
  }
  // What the users see: the disk's owner and read bits, write bits cleared.
  struct stat st;
  ASSERT_EQ(stat(InMount("other-private.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, other_.uid);
  EXPECT_EQ(st.st_gid, other_.gid);
  EXPECT_EQ(st.st_mode & 07777, 0400u);
  ASSERT_EQ(stat(InMount("other-folder/inner.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0400u) << "the 0700 folder above takes the group and world bits";
  ASSERT_EQ(stat(InMount("open.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  // Root reads everything, as with default_permissions.
  EXPECT_EQ(ReadAll(InMount("other-private.bin")).value_or("<unreadable>"), "bytes of other-private.bin\n");
}

TEST_F(SharedNodeTest, APrivateArtifactFolderClosesTheFilesInIt) {
  // The artifact's own folder is shown as the output folder (a tree folder, 0555): the
  // kernel lets everyone through it, so its files must carry what the folder denies.
  ASSERT_EQ(chown(disk_.c_str(), other_.uid, other_.gid), 0);
  ASSERT_EQ(chmod(disk_.c_str(), 0700), 0);
  ASSERT_NO_FATAL_FAILURE(MountShared());
  std::string detail;
  EXPECT_EQ(ReadAs(reader_, InMount("open.bin"), &detail), Outcome::kDenied) << detail;
  EXPECT_EQ(ReadAs(reader_, InMount("data.json"), &detail), Outcome::kDenied) << detail;
  EXPECT_EQ(ReadAs(other_, InMount("other-private.bin"), &detail), Outcome::kRead) << detail;
  struct stat st;
  ASSERT_EQ(stat(InMount("open.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0u) << "root's 0644 file in another user's 0700 folder";
  EXPECT_EQ(ReadAs(reader_, mount_->path() + "/" + out_rel_ + "/meta.json"), Outcome::kRead)
      << "the output's meta.json stays readable";
}

TEST_F(SharedNodeTest, SupplementaryGroupsCount) {
  ASSERT_NO_FATAL_FAILURE(MountShared());
  const std::string path = InMount("group-other.bin");
  // setpriv with the other user's group as a supplementary group of the reader.
  const CommandResult with = RunCommand({"setpriv", "--reuid=" + std::to_string(reader_.uid),
                                         "--regid=" + std::to_string(reader_.gid),
                                         "--groups=" + std::to_string(other_.gid), "--", "cat", path});
  EXPECT_EQ(OutcomeOf(with), Outcome::kRead) << Describe(with);
  EXPECT_EQ(with.out, "bytes of group-other.bin\n");
  EXPECT_EQ(ReadAs(reader_, path), Outcome::kDenied);
}

TEST_F(SharedNodeTest, OverridesOpenEverythingOnPurpose) {
  const std::string owner = std::to_string(reader_.uid), group = std::to_string(reader_.gid);
  ASSERT_NO_FATAL_FAILURE(MountShared(
      {"-o", "allow_other,uid=" + owner + ",gid=" + group + ",file_mode=0444,dir_mode=0555"}));
  for (const char* rel : {"root-private.bin", "other-private.bin", "other-folder/inner.bin"}) {
    std::string detail;
    EXPECT_EQ(ReadAs(other_, InMount(rel), &detail), Outcome::kRead) << rel << ": " << detail;
    EXPECT_EQ(ReadAs(reader_, InMount(rel), &detail), Outcome::kRead) << rel << ": " << detail;
    struct stat st;
    ASSERT_EQ(stat(InMount(rel).c_str(), &st), 0) << rel;
    EXPECT_EQ(st.st_uid, reader_.uid) << rel;
    EXPECT_EQ(st.st_gid, reader_.gid) << rel;
    EXPECT_EQ(st.st_mode & 07777, 0444u) << rel;
  }
  struct stat st;
  ASSERT_EQ(stat(InMount("other-folder").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
}

TEST_F(SharedNodeTest, FileModeAloneKeepsPrivateFoldersClosed) {
  // file_mode opens the files; the 0700 folder of another user still keeps the reader out.
  ASSERT_NO_FATAL_FAILURE(MountShared({"-o", "allow_other,file_mode=0444"}));
  EXPECT_EQ(ReadAs(reader_, InMount("root-private.bin")), Outcome::kRead);
  EXPECT_EQ(ReadAs(reader_, InMount("other-private.bin")), Outcome::kRead);
  EXPECT_EQ(ReadAs(reader_, InMount("other-folder/inner.bin")), Outcome::kDenied);
}

TEST_F(SharedNodeTest, BadModesAreUsageErrors) {
  for (const char* opt : {"file_mode=0999", "dir_mode=", "file_mode=1777", "dir_mode=rwx"}) {
    const CommandResult r = RunZenfs({"mount", store_, mnt_, "-f", "-o", opt}, 30);
    EXPECT_EQ(r.exit_code, 1) << opt << ": " << r.err;
    EXPECT_NE(r.err.find(opt), std::string::npos) << r.err;
    EXPECT_EQ(MountedFsType(mnt_), "") << opt;
  }
}

TEST_F(SharedNodeTest, APrivateStoreHidesItsTree) {
  ASSERT_EQ(chmod(db_path_.c_str(), 0600), 0);
  ASSERT_NO_FATAL_FAILURE(MountShared());
  const std::string root = mount_->path();
  struct stat st;
  ASSERT_EQ(stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0550u);
  ASSERT_EQ(stat((root + "/meta.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0440u);
  EXPECT_EQ(OutcomeOf(RunAs(reader_, {"ls", root})), Outcome::kDenied);
  EXPECT_EQ(ReadAs(reader_, root + "/meta.json"), Outcome::kDenied);
  EXPECT_EQ(ReadAs(reader_, InMount("open.bin")), Outcome::kDenied) << "the folders above are closed";
  EXPECT_TRUE(ReadAll(root + "/meta.json").has_value()) << "root still reads it";
}

TEST_F(SharedNodeTest, AWorldReadableStoreShowsItsTree) {
  ASSERT_NO_FATAL_FAILURE(MountShared());
  const std::string root = mount_->path();
  struct stat st;
  ASSERT_EQ(stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(OutcomeOf(RunAs(reader_, {"ls", root})), Outcome::kRead);
  EXPECT_EQ(ReadAs(reader_, root + "/meta.json"), Outcome::kRead);
  EXPECT_EQ(ReadAs(reader_, mount_->path() + "/" + out_rel_ + "/meta.json"), Outcome::kRead);
}

TEST_F(SharedNodeTest, AFileMadePrivateAfterItWasSeenIsRefusedAtOpen) {
  ASSERT_NO_FATAL_FAILURE(MountShared());
  Put("replaced.bin", 0, 0, 0644);
  // Nothing was listed yet, so the kernel learns the new file from this first look.
  const std::string open_path = InMount("open.bin");
  const std::string replaced_path = InMount("replaced.bin");
  for (const std::string& p : {open_path, replaced_path}) {
    std::string detail;
    ASSERT_EQ(ReadAs(reader_, p, &detail), Outcome::kRead) << p << ": " << detail;
    // The reader's own stat: the kernel now holds 0444 for a finished run's file (an hour).
    const CommandResult st = RunAs(reader_, {"stat", "-c", "%a", p});
    EXPECT_EQ(st.out, "444\n") << p;
  }
  ASSERT_EQ(chmod((disk_ + "/open.bin").c_str(), 0600), 0);
  // Replaced by another file (a new inode) that is private.
  const std::string fresh = disk_ + "/.replaced.tmp";
  WriteFile(fresh, "private now\n");
  ASSERT_EQ(chmod(fresh.c_str(), 0600), 0);
  ASSERT_EQ(rename(fresh.c_str(), (disk_ + "/replaced.bin").c_str()), 0);
  for (const std::string& p : {open_path, replaced_path}) {
    // The kernel still holds 0444 (nothing told it otherwise): only zenfs's check at open
    // can refuse the reader now.
    EXPECT_EQ(RunAs(reader_, {"stat", "-c", "%a", p}).out, "444\n") << p;
    std::string detail;
    EXPECT_EQ(ReadAs(reader_, p, &detail), Outcome::kDenied) << p << ": " << detail;
  }
  EXPECT_EQ(ReadAs(other_, open_path), Outcome::kDenied);
  // Root still opens it (the bytes may come from the page cache of the file it replaced:
  // artifact files are kept cached as immutable).
  EXPECT_TRUE(ReadAll(replaced_path).has_value()) << "root still reads it";
}

}  // namespace
}  // namespace zenfs::testing
