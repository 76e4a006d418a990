// A hostile store writer against a root mount with allow_other, read by an unprivileged
// user (SPEC §1 "Stores": URIs only select a path beneath a trusted root). Every case: no
// byte from outside a trusted root comes back, errors are clean, every call returns
// within a bound and the daemon keeps answering.
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_writer.h"
#include "tests/hostile_util.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char kOutsideMarker[] = "OUTSIDE-SECRET-5f0c1d";
// Generous: a loaded 2-core machine under ThreadSanitizer; a hang is what it catches.
constexpr double kCallBound = 60;

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    if (!RunningAsRoot()) GTEST_SKIP() << "the shared-node tests mount as root";
    std::string why;
    ASSERT_TRUE(EnsureUser("zenfs-hostile", &user_, &why)) << why;
    ASSERT_FALSE(scratch_.path().empty());
    store_ = scratch_.path() + "/store";
    DemoOptions o;
    o.dir = store_;
    o.schema = DemoSchema::kZenml074;  // pinned to the 0.74 layout its expectations assume
    o.runs = 10;  // enough artifact versions for one hostile URI each
    o.artifact_bytes = 4096;
    ASSERT_TRUE(WriteDemoStore(o).ok());
    db_ = store_ + "/local_stores/default_zen_store/zenml.db";
    for (const auto& e : fs::directory_iterator(store_ + "/local_stores")) {
      if (e.path().filename() != "default_zen_store") art_root_ = e.path().string();
    }
    ASSERT_FALSE(art_root_.empty());
    outside_ = scratch_.path() + "/outside";
    fs::create_directories(outside_);
    WriteFile(outside_ + "/secret.txt", kOutsideMarker);
    chmod(outside_.c_str(), 0755);
    chmod((outside_ + "/secret.txt").c_str(), 0644);  // readable: only the mount may refuse it
    markers_ = {kOutsideMarker, FirstLine("/etc/passwd"), FirstLine("/etc/shadow")};
    mnt_ = scratch_.path() + "/mnt";
    fs::create_directories(mnt_);
    chmod(mnt_.c_str(), 0755);
  }

  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  // The first column of every row of `sql`.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(st, 0);
        out.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

  void MountShared(const std::vector<std::string>& more = {}) {
    std::vector<std::string> extra = {"-o", "allow_other"};
    extra.insert(extra.end(), more.begin(), more.end());
    mount_ = std::make_unique<Mount>(Mount::Options{store_, mnt_, extra});
    ASSERT_TRUE(mount_->ok()) << mount_->error();
  }

  CommandResult AsUser(const std::vector<std::string>& argv) { return RunAs(user_, argv, kCallBound); }

  // Reads every file of the mount as the user; fails on a hang or on any outside byte.
  std::string WalkAsUser() {
    const CommandResult r = AsUser({"sh", "-c", "find \"$0\" -type f -exec cat {} + ; echo WALKED", mount_->path()});
    EXPECT_FALSE(r.timed_out) << "reading the mount did not finish";
    EXPECT_NE(r.out.find("WALKED"), std::string::npos) << r.err;
    ExpectNoLeak(r.out + r.err);
    return r.out;
  }

  void ExpectNoLeak(const std::string& text) {
    for (const std::string& m : markers_) {
      if (m.empty()) continue;
      EXPECT_EQ(text.find(m), std::string::npos) << "read from outside a trusted root: " << m;
    }
  }

  void ExpectAnswers() {
    const CommandResult r = AsUser({"ls", mount_->path()});
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(MountedFsType(mount_->path()), "fuse.zenfs");
  }

  // The mount folder of the output whose URI is `uri` (found by its meta.json, as root).
  std::string OutputFolder(const std::string& uri) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(mount_->path(), ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().filename() != "meta.json" || it->is_symlink()) continue;
      const json j = ReadJson(it->path().string());
      if (!j.is_discarded() && j.is_object() && j.value("uri", json()).is_string() &&
          j.at("uri").get<std::string>() == uri) {
        return it->path().parent_path().string();
      }
    }
    return "";
  }

  TestUser user_;
  WorldScratch scratch_;
  std::string store_, db_, art_root_, outside_, mnt_;
  std::vector<std::string> markers_;
  std::unique_ptr<Mount> mount_;
};

TEST_F(HostileTest, HostileUrisAreNeverServed) {
  // Names planted beside the real artifact store: a link named like a store, a
  // UUID-named link to /etc, another user's private store.
  const std::string stores = store_ + "/local_stores";
  fs::create_symlink("/etc", stores + "/evil");
  const std::string link_uuid = "11111111-2222-3333-4444-555555555555";
  fs::create_symlink("/etc", stores + "/" + link_uuid);
  TestUser bob;
  std::string why;
  ASSERT_TRUE(EnsureUser("zenfs-hostile-b", &bob, &why)) << why;
  const std::string bob_uuid = "66666666-7777-8888-9999-000000000000";
  const std::string bob_store = scratch_.path() + "/bob/.config/zenml/local_stores/" + bob_uuid;
  fs::create_directories(bob_store);
  WriteFile(bob_store + "/secret.txt", kOutsideMarker);
  ASSERT_EQ(chown(bob_store.c_str(), bob.uid, bob.gid), 0);
  ASSERT_EQ(chmod(bob_store.c_str(), 0700), 0);

  const std::vector<std::string> hostile = {
      "/etc", "/", "/root", "/etc/shadow", "../../..", "relative/path", "file:///etc",
      "file://localhost/etc/shadow", stores + "/evil", stores + "/evil/shadow", "/x/local_stores/" + link_uuid,
      "/x/local_stores/" + link_uuid + "/shadow", bob_store, stores + "/default_zen_store",
      stores + "/default_zen_store/zenml.db", art_root_ + "/../../..", outside_, "/etc/passwd"};
  const std::vector<std::string> versions = Column("SELECT id FROM artifact_version ORDER BY id");
  const std::vector<std::string> logs = Column("SELECT id FROM logs ORDER BY id");
  ASSERT_GE(versions.size(), hostile.size());
  ASSERT_GE(logs.size(), 5u);
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    Sql("UPDATE artifact_version SET uri = " + Quote(hostile[i]) + " WHERE id = " + Quote(versions[i]));
    if (i < logs.size()) Sql("UPDATE logs SET uri = " + Quote(hostile[i]) + " WHERE id = " + Quote(logs[i]));
  }
  // The artifact store component says its path is /etc: its word counts on private
  // mounts only.
  Sql("UPDATE stack_component SET configuration = CAST('eyJwYXRoIjogIi9ldGMifQ==' AS BLOB) "
      "WHERE type = 'artifact_store'");

  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "allow_other" : "allow_other and --artifact-root");
    if (pass == 0) {
      MountShared();
    } else {
      fs::create_directories(scratch_.path() + "/remapped");
      MountShared({"--artifact-root", "/home/nobody/old=" + scratch_.path() + "/remapped"});
    }
    if (HasFatalFailure()) return;
    const std::string all = WalkAsUser();
    // Each refusal shows in meta.json with its reason.
    for (const char* reason : {"is not under a trusted artifact root", "is not an artifact store folder",
                               "is a symbolic link", "contains a \\\"..\\\" segment", "is not an absolute local path"}) {
      EXPECT_NE(all.find(reason), std::string::npos) << "no meta.json says: " << reason;
    }
    ExpectAnswers();
    mount_->Unmount();
  }
}

TEST_F(HostileTest, HostileEntriesInsideAnArtifact) {
  const std::vector<std::string> uris = Column("SELECT uri FROM artifact_version ORDER BY id");
  std::string dir_uri;
  for (const std::string& u : uris) {
    if (fs::is_directory(u) && !fs::is_empty(u)) {
      dir_uri = u;
      break;
    }
  }
  ASSERT_FALSE(dir_uri.empty());
  fs::create_symlink("/etc/shadow", dir_uri + "/shadow_link");
  fs::create_symlink("/nonexistent/file", dir_uri + "/dangling_link");
  fs::create_symlink(outside_, dir_uri + "/outside_link");
  fs::create_symlink(".", dir_uri + "/a");
  fs::create_symlink(".", dir_uri + "/b");
  ASSERT_EQ(mkfifo((dir_uri + "/fifo").c_str(), 0666), 0);
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Bound by a relative name from inside the folder: its full path is longer than a
  // socket address holds.
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", "sock");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_uri);
  const int bound = bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  fs::current_path(cwd);
  ASSERT_EQ(bound, 0) << std::strerror(errno);
  mknod((dir_uri + "/dev").c_str(), S_IFCHR | 0666, makedev(1, 5));  // /dev/zero; may be refused here
  // Deeper than the meta.json walk goes (64 levels): cut, and meta.json says so.
  std::string deep = dir_uri;
  for (int i = 0; i < 70; ++i) deep += "/d";
  fs::create_directories(deep);
  WriteFile(deep + "/deep.txt", "deep");

  MountShared();
  if (HasFatalFailure()) return;
  const std::string out = OutputFolder(dir_uri);
  ASSERT_FALSE(out.empty()) << "no output shows " << dir_uri;

  // meta.json renders in bounded time despite the a -> ., b -> . loop, listing none of them.
  const CommandResult meta = AsUser({"cat", out + "/meta.json"});
  ASSERT_FALSE(meta.timed_out);
  ASSERT_EQ(meta.exit_code, 0) << meta.err;
  const json j = json::parse(meta.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << meta.out;
  EXPECT_EQ(j.at("available"), true);
  EXPECT_EQ(j.value("files_truncated", false), true) << "a walk 70 folders deep was not cut";
  for (const json& f : j.at("files")) {
    const std::string p = f.at("path").get<std::string>();
    for (const char* bad : {"shadow_link", "dangling_link", "outside_link", "a", "b", "fifo", "sock", "dev"}) {
      EXPECT_NE(p, bad);
      EXPECT_NE(p.rfind(std::string(bad) + "/", 0), 0u) << p;
    }
    EXPECT_EQ(p.find("deep.txt"), std::string::npos) << "listed a file below the depth bound";
  }
  // Not listed; not found, whether the link's target exists or not; every call returns.
  const CommandResult ls = AsUser({"ls", "-a", out});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  for (const char* bad : {"shadow_link", "dangling_link", "outside_link", "fifo", "sock", "dev"}) {
    EXPECT_EQ(("\n" + ls.out).find(std::string("\n") + bad + "\n"), std::string::npos) << bad << " listed";
    const CommandResult cat = AsUser({"cat", out + "/" + bad});
    EXPECT_FALSE(cat.timed_out) << bad;
    EXPECT_NE(cat.exit_code, 0) << bad;
    EXPECT_NE(cat.err.find("No such file or directory"), std::string::npos) << bad << ": " << cat.err;
    ExpectNoLeak(cat.out);
  }
  const CommandResult through = AsUser({"cat", out + "/a/b/a/shadow_link", out + "/outside_link/secret.txt"});
  EXPECT_NE(through.exit_code, 0);
  ExpectNoLeak(through.out);
  WalkAsUser();
  ExpectAnswers();

  // The artifact folder and a single-file artifact (a log) replaced by links after their
  // meta.json / contents were read: mv dir dir.orig; ln -s <outside> dir.
  std::string log_file, log_path;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(mount_->path(), ec);
       !ec && it != fs::recursive_directory_iterator() && log_path.empty(); it.increment(ec)) {
    if (it->path().filename() != "logs" || !it->is_regular_file()) continue;
    const std::string text = ReadFile(it->path().string());
    for (const std::string& u : Column("SELECT uri FROM logs")) {
      if (fs::is_regular_file(u) && ReadFile(u) == text) {
        log_file = u;
        log_path = it->path().string();
        break;
      }
    }
  }
  ASSERT_FALSE(log_path.empty()) << "no step's logs found in the mount";
  const CommandResult before = AsUser({"cat", log_path});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  fs::rename(dir_uri, dir_uri + ".orig");
  fs::create_symlink(outside_, dir_uri);
  fs::rename(log_file, log_file + ".orig");
  fs::create_symlink(outside_ + "/secret.txt", log_file);
  const CommandResult after = AsUser({"sh", "-c", "cat \"$0\"/secret.txt \"$0\"/meta.json \"$1\"; ls \"$0\"", out, log_path});
  EXPECT_FALSE(after.timed_out);
  ExpectNoLeak(after.out + after.err);
  WalkAsUser();
  ExpectAnswers();
  close(sock);
}

TEST_F(HostileTest, StoreFoldersSwappedForLinksAfterMounting) {
  // The writer owns the folders above the artifact store too: after the mount, the
  // store's local_stores folder becomes a link to another user's private store holding a
  // folder with the same UUID. The trusted root is the mounted store's own folder, so
  // nothing of the other user's may come back, however often the store changes.
  TestUser bob;
  std::string why;
  ASSERT_TRUE(EnsureUser("zenfs-hostile-b", &bob, &why)) << why;
  const std::string uuid = fs::path(art_root_).filename().string();
  const std::string bob_stores = scratch_.path() + "/bob/.config/zenml/local_stores";
  fs::create_directories(bob_stores);
  fs::copy(art_root_, bob_stores + "/" + uuid, fs::copy_options::recursive);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(bob_stores, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file()) WriteFile(it->path().string(), kOutsideMarker);
    chown(it->path().c_str(), bob.uid, bob.gid);
  }
  // Private the usual way: files 0644 below a 0700 folder.
  ASSERT_EQ(chown((bob_stores + "/" + uuid).c_str(), bob.uid, bob.gid), 0);
  ASSERT_EQ(chmod((bob_stores + "/" + uuid).c_str(), 0700), 0);
  // The database keeps answering from its old place (the writer keeps it reachable).
  fs::create_symlink(store_ + "/local_stores.orig/default_zen_store", bob_stores + "/default_zen_store");

  MountShared({"--refresh", "1"});
  if (HasFatalFailure()) return;
  ExpectAnswers();
  fs::rename(store_ + "/local_stores", store_ + "/local_stores.orig");
  fs::create_symlink(bob_stores, store_ + "/local_stores");
  db_ = store_ + "/local_stores.orig/default_zen_store/zenml.db";
  // A change to the store: every artifact is located again.
  Sql("UPDATE pipeline_run SET updated = updated");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  WalkAsUser();
  ExpectAnswers();
}

TEST_F(HostileTest, AStoreFolderThatIsAMountpointIsNotEntered) {
  // Where the admin allows user FUSE mounts (user_allow_other), the writer mounts a file
  // system of their own on a UUID folder in local_stores and stops its daemon: whatever
  // enters it waits forever. Here root mounts a second zenfs there and stops it. A root
  // on another file system than the store's local_stores folder is refused, unentered.
  const std::string uuid = "22222222-3333-4444-5555-666666666666";
  const std::string trap = store_ + "/local_stores/" + uuid;
  fs::create_directories(trap);
  const std::vector<std::string> versions = Column("SELECT id FROM artifact_version ORDER BY id");
  ASSERT_FALSE(versions.empty());
  Sql("UPDATE artifact_version SET uri = " + Quote("/x/local_stores/" + uuid) + " WHERE id = " + Quote(versions[0]));
  Sql("UPDATE logs SET uri = " + Quote("/x/local_stores/" + uuid + "/logs.txt"));
  Mount inner(Mount::Options{store_, trap, {}});
  ASSERT_TRUE(inner.ok()) << inner.error();
  ASSERT_GT(inner.pid(), 0);
  ASSERT_EQ(kill(inner.pid(), SIGSTOP), 0);
  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{inner.pid()};
  MountShared();
  if (HasFatalFailure()) return;
  const CommandResult r =
      RunAs(user_, {"sh", "-c", "find \"$0\" -type f -exec cat {} + 2>/dev/null; echo WALKED", mount_->path()}, 20);
  EXPECT_FALSE(r.timed_out) << "a read entered the stopped file system";
  EXPECT_NE(r.out.find("WALKED"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("is another file system than the store's"), std::string::npos) << "no meta.json says why";
}

TEST_F(HostileTest, AFolderClosedToOthersOnTheWayToAnArtifact) {
  // Below an admin's root, bob keeps a 0700 folder; the file in it is 0644, as umask
  // leaves it, and guarded on disk by the folder alone. The mount shows the artifact's
  // folder and files, never the folders above them, so a URI into bob's folder would
  // hand his file to every user whatever modes the mount shows: refused on a shared
  // mount, and meta.json says why.
  TestUser bob;
  std::string why;
  ASSERT_TRUE(EnsureUser("zenfs-hostile-b", &bob, &why)) << why;
  const std::string shared = scratch_.path() + "/shared";
  fs::create_directories(shared + "/bob/private");
  WriteFile(shared + "/bob/private/salary.csv", kOutsideMarker);
  WriteFile(shared + "/bob/private/../note.txt", kOutsideMarker);
  chmod((shared + "/bob/private/salary.csv").c_str(), 0644);
  chmod((shared + "/bob/private").c_str(), 0755);
  ASSERT_EQ(chown((shared + "/bob").c_str(), bob.uid, bob.gid), 0);
  ASSERT_EQ(chmod((shared + "/bob").c_str(), 0700), 0);
  const std::vector<std::string> versions = Column("SELECT id FROM artifact_version ORDER BY id");
  const std::vector<std::string> logs = Column("SELECT id FROM logs ORDER BY id");
  ASSERT_FALSE(versions.empty());
  ASSERT_FALSE(logs.empty());
  Sql("UPDATE artifact_version SET uri = '/old/bob/private' WHERE id = " + Quote(versions[0]));
  Sql("UPDATE logs SET uri = '/old/bob/note.txt' WHERE id = " + Quote(logs[0]));
  MountShared({"--artifact-root", "/old=" + shared});
  if (HasFatalFailure()) return;
  const std::string all = WalkAsUser();
  EXPECT_EQ(all.find("salary.csv"), std::string::npos) << "meta.json names a file in bob's private folder";
  EXPECT_NE(all.find("not open to every user"), std::string::npos) << "no meta.json says why";
  ExpectAnswers();
}

TEST_F(HostileTest, RenameExchangeRaceThroughTheMount) {
  // A folder inside an artifact and a link to an outside folder swap names as fast as the
  // kernel allows while the user reads through the mount for a few seconds.
  std::string dir_uri;
  for (const std::string& u : Column("SELECT uri FROM artifact_version ORDER BY id")) {
    if (fs::is_directory(u)) {
      dir_uri = u;
      break;
    }
  }
  ASSERT_FALSE(dir_uri.empty());
  fs::create_directories(dir_uri + "/real");
  WriteFile(dir_uri + "/real/key", "LEGIT");
  WriteFile(outside_ + "/key", kOutsideMarker);
  chmod((outside_ + "/key").c_str(), 0644);
  fs::create_symlink(outside_, dir_uri + "/swap");
  MountShared();
  if (HasFatalFailure()) return;
  const std::string out = OutputFolder(dir_uri);
  ASSERT_FALSE(out.empty());
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread swapper([&] {
    const std::string a = dir_uri + "/real", b = dir_uri + "/swap";
    while (!stop.load()) {
      if (renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) ++swaps;
    }
  });
  const CommandResult r = AsUser(
      {"sh", "-c",
       "end=$(($(date +%s) + 3)); n=0; while [ $(date +%s) -lt $end ]; do cat \"$0\"/real/key \"$0\"/swap/key 2>/dev/null;"
       " ls \"$0\"/real >/dev/null 2>&1; n=$((n+1)); done; echo; echo TRIES=$n",
       out});
  stop = true;
  swapper.join();
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.out.find("TRIES="), std::string::npos) << r.err;
  EXPECT_GT(swaps.load(), 0);
  ExpectNoLeak(r.out + r.err);
  std::size_t legit = 0;
  for (std::size_t at = r.out.find("LEGIT"); at != std::string::npos; at = r.out.find("LEGIT", at + 1)) ++legit;
  RecordProperty("legit_reads", static_cast<int>(legit));
  RecordProperty("swaps", static_cast<int>(swaps.load()));
  ExpectAnswers();
}

}  // namespace
}  // namespace zenfs::testing
