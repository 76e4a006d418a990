// The permission rule (fs/permissions.h) as case tables: what each node gets, what the
// folders above take away, what the overrides force, and who may read the result.
#include "fs/permissions.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/test_util.h"

namespace zenfs {
namespace {

constexpr uid_t kMounter = 1000;
constexpr gid_t kMounterGroup = 1000;
constexpr uid_t kAlice = 2001;
constexpr uid_t kBob = 2002;
constexpr gid_t kTeam = 3001;
constexpr gid_t kOtherTeam = 3002;

FileInfo File(uid_t uid, gid_t gid, mode_t mode) {
  FileInfo f;
  f.has_owner = true;
  f.uid = uid;
  f.gid = gid;
  f.mode = mode;
  return f;
}

FileInfo Dir(uid_t uid, gid_t gid, mode_t mode) {
  FileInfo f = File(uid, gid, mode);
  f.is_dir = true;
  return f;
}

// `/` and `/var/tmp`-like folders every user traverses.
std::vector<FileInfo> OpenPath() { return {Dir(0, 0, 0755), Dir(0, 0, 01777)}; }

std::vector<FileInfo> Plus(std::vector<FileInfo> chain, const FileInfo& dir) {
  chain.push_back(dir);
  return chain;
}

PermissionOptions Mount() {
  PermissionOptions o;
  o.uid = kMounter;
  o.gid = kMounterGroup;
  return o;
}

TEST(PermissionsTest, TreeNodes) {
  struct Case {
    const char* what;
    bool store_world_readable;
    bool is_dir;
    Ownership want;
  };
  const Case cases[] = {
      {"folder, world-readable store", true, true, {kMounter, kMounterGroup, 0555}},
      {"meta.json, world-readable store", true, false, {kMounter, kMounterGroup, 0444}},
      {"folder, private store", false, true, {kMounter, kMounterGroup, 0550}},
      {"meta.json, private store", false, false, {kMounter, kMounterGroup, 0440}},
  };
  for (const Case& c : cases) {
    PermissionOptions o = Mount();
    o.store_world_readable = c.store_world_readable;
    EXPECT_EQ(TreeNodeOwnership(o, c.is_dir), c.want) << c.what;
  }
}

TEST(PermissionsTest, ArtifactsCarryTheirBackingFile) {
  struct Case {
    const char* what;
    FileInfo backing;
    std::vector<FileInfo> ancestors;
    Ownership want;
  };
  const Case cases[] = {
      {"0600 of root", File(0, 0, 0600), OpenPath(), {0, 0, 0400}},
      {"0600 of alice", File(kAlice, kTeam, 0600), OpenPath(), {kAlice, kTeam, 0400}},
      {"0640 of alice", File(kAlice, kTeam, 0640), OpenPath(), {kAlice, kTeam, 0440}},
      {"0644 of bob", File(kBob, kOtherTeam, 0644), OpenPath(), {kBob, kOtherTeam, 0444}},
      {"0755 of bob", File(kBob, kOtherTeam, 0755), OpenPath(), {kBob, kOtherTeam, 0555}},
      {"write bits cleared", File(kAlice, kTeam, 0666), OpenPath(), {kAlice, kTeam, 0444}},
      {"setuid, setgid, sticky cleared", File(kAlice, kTeam, 07755), OpenPath(), {kAlice, kTeam, 0555}},
      {"a folder 0750", Dir(kAlice, kTeam, 0750), OpenPath(), {kAlice, kTeam, 0550}},
      {"no ancestors (the root itself)", File(kAlice, kTeam, 0644), {}, {kAlice, kTeam, 0444}},
      // The folders above: a 0644 file is no more readable than its folders let it be.
      {"0644 in alice's 0700 folder", File(kAlice, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kTeam, 0700)), {kAlice, kTeam, 0400}},
      {"bob's 0644 in alice's 0700 folder", File(kBob, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kTeam, 0700)), {kBob, kTeam, 0}},
      {"0644 in a 0750 folder of its group", File(kAlice, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kTeam, 0750)), {kAlice, kTeam, 0440}},
      {"0644 in a 0750 folder of another group", File(kAlice, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kOtherTeam, 0750)), {kAlice, kTeam, 0400}},
      {"0644 in a 0711 folder", File(kAlice, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kTeam, 0711)), {kAlice, kTeam, 0444}},
      {"0644 in a 0701 folder (group members may be refused)", File(kAlice, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kOtherTeam, 0701)), {kAlice, kTeam, 0400}},
      {"0644 below a 0700 folder further up", File(kAlice, kTeam, 0644),
       Plus(Plus(OpenPath(), Dir(kAlice, kTeam, 0700)), Dir(kAlice, kTeam, 0755)), {kAlice, kTeam, 0400}},
      {"a folder 0755 in a 0700 folder", Dir(kAlice, kTeam, 0755),
       Plus(OpenPath(), Dir(kAlice, kTeam, 0700)), {kAlice, kTeam, 0500}},
      {"a 0000 folder above refuses even its owner", File(kAlice, kTeam, 0644),
       Plus(OpenPath(), Dir(kAlice, kTeam, 0000)), {kAlice, kTeam, 0}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(BackedOwnership(Mount(), c.backing, c.ancestors), c.want) << c.what;
  }
}

TEST(PermissionsTest, ObjectsWithNoOwnerTakeTheMounts) {
  FileInfo object;  // has_owner false: object storage
  FileInfo prefix;
  prefix.is_dir = true;
  EXPECT_EQ(BackedOwnership(Mount(), object, {}), (Ownership{kMounter, kMounterGroup, 0444}));
  EXPECT_EQ(BackedOwnership(Mount(), prefix, {}), (Ownership{kMounter, kMounterGroup, 0555}));
  // A private store's tree loses its world bits; objects keep the mount's modes (the
  // tree's folders above them already keep other users out).
  PermissionOptions o = Mount();
  o.store_world_readable = false;
  EXPECT_EQ(BackedOwnership(o, object, {}), (Ownership{kMounter, kMounterGroup, 0444}));
  o.file_mode = 0440;
  o.dir_mode = 0550;
  EXPECT_EQ(BackedOwnership(o, object, {}), (Ownership{kMounter, kMounterGroup, 0440}));
  EXPECT_EQ(BackedOwnership(o, prefix, {}), (Ownership{kMounter, kMounterGroup, 0550}));
}

TEST(PermissionsTest, OverridesWinOverEverything) {
  struct Case {
    const char* what;
    PermissionOptions opts;
    Ownership tree_dir, tree_file, artifact_file, artifact_dir;
  };
  auto with = [](auto set) {
    PermissionOptions o = Mount();
    o.store_world_readable = false;
    set(o);
    return o;
  };
  const FileInfo private_file = File(kAlice, kTeam, 0600);
  const FileInfo private_dir = Dir(kAlice, kTeam, 0700);
  const Case cases[] = {
      {"none", with([](PermissionOptions&) {}), {kMounter, kMounterGroup, 0550},
       {kMounter, kMounterGroup, 0440}, {kAlice, kTeam, 0400}, {kAlice, kTeam, 0500}},
      {"uid", with([](PermissionOptions& o) { o.uid_override = 7; }), {7, kMounterGroup, 0550},
       {7, kMounterGroup, 0440}, {7, kTeam, 0400}, {7, kTeam, 0500}},
      {"gid", with([](PermissionOptions& o) { o.gid_override = 8; }), {kMounter, 8, 0550},
       {kMounter, 8, 0440}, {kAlice, 8, 0400}, {kAlice, 8, 0500}},
      {"file_mode", with([](PermissionOptions& o) { o.file_mode = 0444; }), {kMounter, kMounterGroup, 0550},
       {kMounter, kMounterGroup, 0444}, {kAlice, kTeam, 0444}, {kAlice, kTeam, 0500}},
      {"dir_mode", with([](PermissionOptions& o) { o.dir_mode = 0555; }), {kMounter, kMounterGroup, 0555},
       {kMounter, kMounterGroup, 0440}, {kAlice, kTeam, 0400}, {kAlice, kTeam, 0555}},
      {"all four", with([](PermissionOptions& o) {
         o.uid_override = 7;
         o.gid_override = 8;
         o.file_mode = 0444;
         o.dir_mode = 0555;
       }),
       {7, 8, 0555}, {7, 8, 0444}, {7, 8, 0444}, {7, 8, 0555}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TreeNodeOwnership(c.opts, true), c.tree_dir) << c.what;
    EXPECT_EQ(TreeNodeOwnership(c.opts, false), c.tree_file) << c.what;
    EXPECT_EQ(BackedOwnership(c.opts, private_file, OpenPath()), c.artifact_file) << c.what;
    EXPECT_EQ(BackedOwnership(c.opts, private_dir, OpenPath()), c.artifact_dir) << c.what;
  }
}

TEST(PermissionsTest, WhoMayRead) {
  struct Case {
    const char* what;
    Caller caller;
    Ownership node;
    bool want;
  };
  const Case cases[] = {
      {"owner, 0400", {kAlice, kOtherTeam, {}}, {kAlice, kTeam, 0400}, true},
      {"owner, 0044: owner bits alone count", {kAlice, kTeam, {}}, {kAlice, kTeam, 0044}, false},
      {"group member by primary group, 0440", {kBob, kTeam, {}}, {kAlice, kTeam, 0440}, true},
      {"group member by primary group, 0404", {kBob, kTeam, {}}, {kAlice, kTeam, 0404}, false},
      {"supplementary group, 0440", {kBob, kOtherTeam, {5, kTeam}}, {kAlice, kTeam, 0440}, true},
      {"supplementary group, 0400", {kBob, kOtherTeam, {5, kTeam}}, {kAlice, kTeam, 0400}, false},
      {"other, 0444", {kBob, kOtherTeam, {5}}, {kAlice, kTeam, 0444}, true},
      {"other, 0440", {kBob, kOtherTeam, {5}}, {kAlice, kTeam, 0440}, false},
      {"other, 0600", {kBob, kOtherTeam, {}}, {0, 0, 0600}, false},
      {"root, 0000", {0, 0, {}}, {kAlice, kTeam, 0}, true},
      {"root group but not root", {kBob, 0, {}}, {0, 0, 0400}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(MayRead(c.caller, c.node), c.want) << c.what;
}

TEST(PermissionsTest, ParseMode) {
  struct Case {
    const char* text;
    bool ok;
    mode_t want;
  };
  const Case cases[] = {
      {"0444", true, 0444}, {"755", true, 0755}, {"0", true, 0},   {"00777", true, 0777},
      {"", false, 0},       {"0888", false, 0},  {"1777", false, 0}, {"-444", false, 0},
      {" 444", false, 0},   {"0x1ff", false, 0}, {"444a", false, 0}, {"0000000444", false, 0},
  };
  for (const Case& c : cases) {
    auto m = ParseMode(c.text);
    EXPECT_EQ(m.ok(), c.ok) << c.text;
    if (m.ok() && c.ok) {
      EXPECT_EQ(*m, c.want) << c.text;
    }
  }
}

// The two functions that read the disk, on real folders.
TEST(PermissionsTest, AncestorsAndWorldReadableFromDisk) {
  testing::TempDir dir;
  const std::string top = dir.path() + "/top";
  ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((top + "/inner").c_str(), 0700), 0);
  testing::WriteFile(top + "/inner/f", "x");
  testing::WriteFile(top + "/g", "y");
  ASSERT_EQ(chmod((top + "/inner/f").c_str(), 0644), 0);
  ASSERT_EQ(chmod((top + "/g").c_str(), 0644), 0);
  ASSERT_EQ(symlink((top + "/inner").c_str(), (top + "/link").c_str()), 0);

  auto chain = StatAncestors(top + "/inner/f");
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_GE(chain->size(), 3u);
  EXPECT_EQ(chain->front().mode & 0777, [] {
    struct stat sb;
    stat("/", &sb);
    return sb.st_mode & 0777;
  }());
  EXPECT_EQ(chain->back().mode, 0700u);  // inner, the parent
  EXPECT_EQ((*chain)[chain->size() - 2].mode, 0755u);  // top
  // Through the symlink: the folders actually searched, the same chain.
  auto via_link = StatAncestors(top + "/link/f");
  ASSERT_TRUE(via_link.ok());
  EXPECT_EQ(via_link->size(), chain->size());
  EXPECT_EQ(via_link->back().mode, 0700u);
  EXPECT_FALSE(StatAncestors(top + "/missing/f").ok());
  EXPECT_TRUE(StatAncestors("/")->empty());

  // TempDir may sit in a folder others cannot search: g is world-readable exactly when
  // every folder above it lets everyone search.
  auto above_g = StatAncestors(top + "/g");
  ASSERT_TRUE(above_g.ok());
  bool all_search = true;
  for (const FileInfo& d : *above_g) all_search = all_search && (d.mode & 0111) == 0111;
  EXPECT_EQ(WorldReadable(top + "/g"), all_search);
  EXPECT_FALSE(WorldReadable(top + "/inner/f"));  // 0644 in a 0700 folder
  ASSERT_EQ(chmod((top + "/g").c_str(), 0640), 0);
  EXPECT_FALSE(WorldReadable(top + "/g"));
  EXPECT_FALSE(WorldReadable(top + "/missing"));
}

}  // namespace
}  // namespace zenfs
