// Real-mount tests: the zenfs binary on a real FUSE mount of a store written by
// `zenfs demo`, checked with POSIX calls only. Expected values come from the store's
// database (read with SQLite here) and the artifact files on disk, never from zenfs.
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fs/names.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// errno of a failed call, 0 if it succeeded.
int ErrnoOf(long rc) { return rc < 0 ? errno : 0; }

// errno of open(path, flags), 0 if it succeeded (the descriptor is closed again).
int OpenErrno(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

std::string Dashed(const std::string& id) {
  if (id.size() != 32) return id;
  return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) + "-" +
         id.substr(20);
}

// ---------------------------------------------------------------- the store, by SQL

// A SQLite connection for reading (and, for tests that edit a copy, writing) a store.
// Not thread-safe; one per test.
class Db {
 public:
  using Row = std::vector<std::optional<std::string>>;

  explicit Db(const std::string& path, bool writable = false) {
    const int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      error_ = path + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : "cannot open");
    }
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  const std::string& error() const { return error_; }
  // How many statements failed (each also failed the test).
  int failures() const { return failures_; }

  // Runs `sql` with text parameters (nullopt binds NULL); every row as text.
  std::vector<Row> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    std::vector<Row> rows;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ++failures_;
      ADD_FAILURE() << "prepare " << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int col = static_cast<int>(i) + 1;
      if (params[i]) {
        sqlite3_bind_text(st, col, params[i]->data(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(st, col);
      }
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (sqlite3_column_type(st, c) == SQLITE_NULL) {
          row.push_back(std::nullopt);
        } else {
          const char* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.push_back(std::string(t, static_cast<std::size_t>(sqlite3_column_bytes(st, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      ++failures_;
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(st);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
  int failures_ = 0;
};

struct ExpVisualization {
  std::string type, uri;
};
struct ExpOutput {
  std::string name, version_id, uri;
  std::vector<ExpVisualization> visualizations;  // in ZenML's order: SQLite's rowid
};

// What an output's %visualizations/ lists, sorted.
std::vector<std::string> VisualizationNames(const ExpOutput& o) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < o.visualizations.size(); ++i) {
    out.push_back(names::VisualizationFileName(i, o.visualizations[i].type));
  }
  std::sort(out.begin(), out.end());
  return out;
}
struct ExpStep {
  std::string id, name, start;  // start: the ordering key's time
  std::vector<std::string> log_uris;
  std::vector<ExpOutput> outputs;  // by name
  std::vector<std::pair<std::string, std::string>> inputs;  // name, artifact version id
};
struct ExpRun {
  std::string id, name, start, status;
  std::vector<ExpStep> steps;  // oldest first
};
struct ExpPipeline {
  std::string id, name;
  std::vector<ExpRun> runs;  // oldest first
};

// The tree SPEC §2 asks for, computed from the database with the SPEC's ordering key:
// COALESCE(start_time, created), then created, then id. Pipelines by first run.
std::vector<ExpPipeline> ExpectedTree(Db& db) {
  std::vector<ExpPipeline> out;
  std::map<std::string, std::size_t> index;  // pipeline id -> position in `out`
  std::map<std::string, std::string> names;
  for (const Db::Row& p : db.Query("SELECT id, name FROM pipeline")) {
    index[*p[0]] = SIZE_MAX;
    names[*p[0]] = *p[1];
  }
  for (const Db::Row& r : db.Query("SELECT id, name, pipeline_id, COALESCE(start_time, created) AS k, status "
                                   "FROM pipeline_run WHERE pipeline_id IN (SELECT id FROM pipeline) ORDER BY k, created, id")) {
    const std::string& pid = *r[2];
    if (index[pid] == SIZE_MAX) {
      index[pid] = out.size();
      out.push_back({pid, names[pid], {}});
    }
    ExpRun run{*r[0], *r[1], *r[3], *r[4], {}};
    for (const Db::Row& s : db.Query("SELECT id, name, COALESCE(start_time, created) AS k FROM step_run "
                                     "WHERE pipeline_run_id = ? ORDER BY k, created, id",
                                     {run.id})) {
      ExpStep step{*s[0], *s[1], *s[2], {}, {}, {}};
      for (const Db::Row& in : db.Query("SELECT name, artifact_id FROM step_run_input_artifact WHERE step_id = ?",
                                        {step.id})) {
        step.inputs.emplace_back(*in[0], *in[1]);
      }
      for (const Db::Row& l : db.Query("SELECT uri FROM logs WHERE step_run_id = ?", {step.id})) {
        step.log_uris.push_back(*l[0]);
      }
      for (const Db::Row& o : db.Query("SELECT o.name, o.artifact_id, v.uri FROM step_run_output_artifact o "
                                       "JOIN artifact_version v ON v.id = o.artifact_id "
                                       "WHERE o.step_id = ? ORDER BY o.name",
                                       {step.id})) {
        ExpOutput output{*o[0], *o[1], *o[2], {}};
        for (const Db::Row& v : db.Query("SELECT type, uri FROM artifact_visualization WHERE artifact_version_id = ? "
                                         "ORDER BY rowid",
                                         {output.version_id})) {
          output.visualizations.push_back({*v[0], *v[1]});
        }
        step.outputs.push_back(std::move(output));
      }
      run.steps.push_back(std::move(step));
    }
    out[index[pid]].runs.push_back(std::move(run));
  }
  return out;
}

// runs/latest-<status> of a pipeline: the newest run with exactly that status, for the
// statuses some run has (view name -> run name).
std::map<std::string, std::string> StatusViews(const ExpPipeline& p) {
  std::map<std::string, std::string> newest;
  for (const ExpRun& r : p.runs) {
    if (r.status == "completed" || r.status == "failed") newest["latest-" + r.status] = r.name;
  }
  return newest;
}

// What a pipeline's runs/ folder lists, sorted: its runs, latest and the status views.
std::vector<std::string> RunsDirNames(const ExpPipeline& p) {
  std::vector<std::string> names{"latest"};
  for (const ExpRun& r : p.runs) names.push_back(r.name);
  for (const auto& [view, run] : StatusViews(p)) names.push_back(view);
  std::sort(names.begin(), names.end());
  return names;
}

// Regular files below `dir` on disk, relative path -> size.
std::map<std::string, std::uint64_t> DiskFiles(const std::string& dir) {
  std::map<std::string, std::uint64_t> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file()) files[fs::relative(it->path(), dir).string()] = it->file_size();
  }
  return files;
}

// Regular files below `dir` in the mount (except the top-level meta.json and
// %visualizations, zenfs's own), by readdir.
std::map<std::string, std::uint64_t> MountFiles(const std::string& dir, const std::string& rel = "") {
  std::map<std::string, std::uint64_t> files;
  auto names = ListDir(rel.empty() ? dir : dir + "/" + rel);
  if (!names) {
    ADD_FAILURE() << "cannot list " << dir << "/" << rel << ": " << std::strerror(errno);
    return files;
  }
  for (const std::string& n : *names) {
    if (rel.empty() && (n == "meta.json" || n == "%visualizations")) continue;
    const std::string child = rel.empty() ? n : rel + "/" + n;
    auto st = Lstat(dir + "/" + child);
    if (!st) {
      ADD_FAILURE() << "listed but cannot lstat " << dir << "/" << child;
      continue;
    }
    if (S_ISDIR(st->st_mode)) {
      auto sub = MountFiles(dir, child);
      files.insert(sub.begin(), sub.end());
    } else {
      files[child] = static_cast<std::uint64_t>(st->st_size);
    }
  }
  return files;
}

std::string RunDir(const std::string& root, const ExpPipeline& p, const ExpRun& r) {
  return root + "/" + p.name + "/runs/" + r.name;
}

// ---------------------------------------------------------------- fixtures

// A fresh demo store in a scratch directory under the mount tests' root; no mount.
class DemoStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>(MountTestRoot());
    store_ = dir_->path() + "/store";
    const CommandResult r = RunZenfs({"demo", store_, "--schema", "0.74", "--artifact-bytes", "3M"});
    ASSERT_EQ(r.exit_code, 0) << "zenfs demo failed: " << r.err;
    db_path_ = store_ + "/local_stores/default_zen_store/zenml.db";
    mnt_ = dir_->path() + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    char buf[PATH_MAX];
    ASSERT_NE(realpath(mnt_.c_str(), buf), nullptr);
    mnt_ = buf;
  }

  // Mounts the store in the foreground (the test owns the daemon).
  void MountIt(std::vector<std::string> extra = {}) {
    mount_ = std::make_unique<Mount>(Mount::Options{store_, mnt_, std::move(extra)});
    ASSERT_TRUE(mount_->ok()) << mount_->error();
    root_ = mount_->path();
  }

  // Declared first, destroyed last: the mount comes off before its directory goes.
  std::unique_ptr<TempDir> dir_;
  std::string store_, db_path_, mnt_, root_;
  std::unique_ptr<Mount> mount_;
};

// The demo store, mounted.
class DemoMountTest : public DemoStoreTest {
 protected:
  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    DemoStoreTest::SetUp();
    if (HasFatalFailure()) return;
    Db db(db_path_);
    ASSERT_EQ(db.error(), "");
    expected_ = ExpectedTree(db);
    ASSERT_EQ(expected_.size(), 2u) << "the demo store should hold example_pipeline and training_pipeline";
    ASSERT_EQ(expected_[0].name, "example_pipeline");
    ASSERT_EQ(expected_[1].name, "training_pipeline");
    ASSERT_GE(expected_[0].runs.size(), 5u);
    ASSERT_FALSE(expected_[1].runs.empty());
    ASSERT_NO_FATAL_FAILURE(MountIt());
  }

  const ExpPipeline& Pipeline(const std::string& name) {
    for (const ExpPipeline& p : expected_) {
      if (p.name == name) return p;
    }
    ADD_FAILURE() << "no pipeline " << name;
    static const ExpPipeline kNone;
    return kNone;
  }

  // Calls `check` with each output's folder in the mount and what the database says of it.
  void ForEachOutput(const std::function<void(const std::string& odir, const ExpOutput& o)>& check) {
    for (const ExpPipeline& p : expected_) {
      for (const ExpRun& r : p.runs) {
        for (const ExpStep& s : r.steps) {
          for (const ExpOutput& o : s.outputs) {
            const std::string odir = RunDir(root_, p, r) + "/steps/" + s.name + "/outputs/" + o.name;
            SCOPED_TRACE(odir);
            check(odir, o);
          }
        }
      }
    }
  }

  std::vector<ExpPipeline> expected_;
};

// ---------------------------------------------------------------- the tree

// Whether every user can search every folder above `path` on disk (its real location).
bool EveryoneSearchesAbove(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return false;
  std::string dir = buf;
  while (dir.size() > 1) {
    dir = dir.substr(0, std::max<std::size_t>(dir.rfind('/'), 1));
    struct stat sb;
    if (stat(dir.c_str(), &sb) != 0 || (sb.st_mode & 0111) != 0111) return false;
  }
  return true;
}

// The mode of the tree's own folders (0555) and files (0444): without the world bits
// when the store's database is not world-readable on disk (SPEC §4).
mode_t TreeMode(const std::string& db_path, mode_t mode) {
  struct stat sb;
  const bool world = stat(db_path.c_str(), &sb) == 0 && (sb.st_mode & S_IROTH) != 0 &&
                     EveryoneSearchesAbove(db_path);
  return world ? mode : mode & ~mode_t{0007};
}

void ExpectDir(const std::string& path, mode_t mode = 0555) {
  auto st = Lstat(path);
  ASSERT_TRUE(st.has_value()) << path << ": " << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st->st_mode)) << path << " is not a directory";
  EXPECT_EQ(st->st_mode & 07777, mode) << path;
  EXPECT_EQ(st->st_uid, geteuid()) << path;
  EXPECT_EQ(st->st_gid, getegid()) << path;
}

void ExpectFile(const std::string& path, mode_t mode = 0444) {
  auto st = Lstat(path);
  ASSERT_TRUE(st.has_value()) << path << ": " << std::strerror(errno);
  EXPECT_TRUE(S_ISREG(st->st_mode)) << path << " is not a regular file";
  EXPECT_EQ(st->st_mode & 07777, mode) << path;
  EXPECT_EQ(st->st_uid, geteuid()) << path;
  EXPECT_EQ(st->st_gid, getegid()) << path;
}

// An artifact or logs node carries its file's owner, group and read/execute bits; its
// other users' bits only where everyone can reach the file on disk (never wider).
void ExpectBackedBy(const std::string& path, const std::string& disk) {
  auto st = Lstat(path);
  ASSERT_TRUE(st.has_value()) << path << ": " << std::strerror(errno);
  struct stat sb;
  ASSERT_EQ(stat(disk.c_str(), &sb), 0) << disk;
  EXPECT_EQ(st->st_mode & S_IFMT, sb.st_mode & S_IFMT) << path;
  EXPECT_EQ(st->st_uid, sb.st_uid) << path;
  EXPECT_EQ(st->st_gid, sb.st_gid) << path;
  const mode_t carried = sb.st_mode & 0555;
  if (EveryoneSearchesAbove(disk)) {
    EXPECT_EQ(st->st_mode & 07777, carried) << path;
  } else {
    EXPECT_EQ(st->st_mode & 07777 & ~carried, 0u) << path << " is wider than " << disk;
  }
}

void ExpectSymlinkTo(const std::string& path, const std::string& target) {
  auto st = Lstat(path);
  ASSERT_TRUE(st.has_value()) << path << ": " << std::strerror(errno);
  EXPECT_TRUE(S_ISLNK(st->st_mode)) << path << " is not a symlink";
  EXPECT_EQ(ReadLink(path).value_or("<unreadable>"), target) << path;
  // Relative and inside the mount: following it lands on the directory it names.
  struct stat via, direct;
  ASSERT_EQ(stat(path.c_str(), &via), 0) << path << " dangles: " << std::strerror(errno);
  const std::string named = path.substr(0, path.rfind('/') + 1) + target;
  ASSERT_EQ(stat(named.c_str(), &direct), 0) << named;
  EXPECT_EQ(via.st_ino, direct.st_ino) << path;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(DemoMountTest, TreeHasTheLayoutOfSpecSection2) {
  const mode_t d = TreeMode(db_path_, 0555), f = TreeMode(db_path_, 0444);
  const auto ExpectDir = [d](const std::string& path) { ::zenfs::testing::ExpectDir(path, d); };
  const auto ExpectFile = [f](const std::string& path) { ::zenfs::testing::ExpectFile(path, f); };
  std::vector<std::string> root_names{"meta.json", "%by-id", "%artifacts"};
  for (const ExpPipeline& p : expected_) root_names.push_back(p.name);
  ExpectDir(root_);
  EXPECT_EQ(ListDir(root_), Sorted(root_names));
  ExpectFile(root_ + "/meta.json");
  int steps_seen = 0, outputs_seen = 0, links_seen = 0, logs_seen = 0, visualized_seen = 0;
  for (const ExpPipeline& p : expected_) {
    const std::string pdir = root_ + "/" + p.name;
    ExpectDir(pdir);
    EXPECT_EQ(ListDir(pdir), Sorted({"meta.json", "runs"}));
    ExpectFile(pdir + "/meta.json");
    ExpectDir(pdir + "/runs");
    // runs/latest-<status>: the newest run with exactly that status, when one has it.
    std::map<std::string, std::string> newest = StatusViews(p);
    EXPECT_EQ(ListDir(pdir + "/runs"), RunsDirNames(p)) << p.name;
    for (const auto& [view, run] : newest) ExpectSymlinkTo(pdir + "/runs/" + view, run);
    const json pm = ReadJson(pdir + "/meta.json");
    EXPECT_EQ(pm.value("latest_completed_run", json()), newest.count("latest-completed") != 0 ? json(newest["latest-completed"]) : json()) << p.name;
    EXPECT_EQ(pm.value("latest_failed_run", json()), newest.count("latest-failed") != 0 ? json(newest["latest-failed"]) : json()) << p.name;
    for (const ExpRun& r : p.runs) {
      const std::string rdir = RunDir(root_, p, r);
      ExpectDir(rdir);
      EXPECT_EQ(ListDir(rdir), Sorted({"meta.json", "steps", "dag.svg", "dag.dot"})) << rdir;
      ExpectFile(rdir + "/meta.json");
      std::vector<std::string> step_names;
      for (const ExpStep& s : r.steps) step_names.push_back(s.name);
      EXPECT_EQ(ListDir(rdir + "/steps"), Sorted(step_names)) << rdir;
      for (const ExpStep& s : r.steps) {
        ++steps_seen;
        const std::string sdir = rdir + "/steps/" + s.name;
        ExpectDir(sdir);
        std::vector<std::string> entries{"meta.json", "outputs"};
        if (s.outputs.size() == 1) entries.push_back("output");
        if (!s.log_uris.empty()) entries.push_back("logs");
        if (!s.inputs.empty()) entries.push_back("inputs");
        EXPECT_EQ(ListDir(sdir), Sorted(entries)) << sdir;
        // Lineage: each input a link to an output holding the version the step read.
        for (const auto& [name, version] : s.inputs) {
          const json lm = ReadJson(sdir + "/inputs/" + name + "/meta.json");
          ASSERT_FALSE(lm.is_discarded()) << sdir << "/inputs/" << name << ": " << std::strerror(errno);
          EXPECT_EQ(lm.at("artifact_version_id"), Dashed(version)) << sdir << "/inputs/" << name;
        }
        ExpectFile(sdir + "/meta.json");
        ExpectDir(sdir + "/outputs");
        if (s.outputs.size() == 1) {
          ++links_seen;
          ExpectSymlinkTo(sdir + "/output", "outputs/" + s.outputs[0].name);
        }
        if (!s.log_uris.empty()) {
          ++logs_seen;
          ExpectBackedBy(sdir + "/logs", s.log_uris[0]);
        }
        std::vector<std::string> output_names;
        for (const ExpOutput& o : s.outputs) output_names.push_back(o.name);
        EXPECT_EQ(ListDir(sdir + "/outputs"), Sorted(output_names)) << sdir;
        for (const ExpOutput& o : s.outputs) {
          ++outputs_seen;
          const std::string odir = sdir + "/outputs/" + o.name;
          ExpectDir(odir);
          ExpectFile(odir + "/meta.json");
          std::vector<std::string> top{"meta.json"};
          std::error_code ec;
          for (const auto& e : fs::directory_iterator(o.uri, ec)) top.push_back(e.path().filename().string());
          ASSERT_FALSE(ec) << o.uri << ": " << ec.message();
          // %visualizations/ only where the version has visualizations.
          if (!o.visualizations.empty()) {
            ++visualized_seen;
            top.push_back("%visualizations");
            ExpectDir(odir + "/%visualizations");
            EXPECT_EQ(ListDir(odir + "/%visualizations"), VisualizationNames(o)) << odir;
          }
          EXPECT_EQ(ListDir(odir), Sorted(top)) << odir;
        }
      }
    }
  }
  // The demo store has cached steps (no logs), multi-output steps (no `output` link)
  // and single-output ones: make sure each shape was actually looked at.
  EXPECT_GE(steps_seen, 10);
  EXPECT_GE(outputs_seen, 10);
  EXPECT_GE(links_seen, 5);
  EXPECT_GE(logs_seen, 5);
  EXPECT_LT(logs_seen, steps_seen);
  EXPECT_GE(visualized_seen, 1);
  EXPECT_LT(visualized_seen, outputs_seen);
}

// Every path of the mount, lstat'ed (symlinks not followed).
void StatTree(const std::string& dir, std::map<std::string, struct stat>* out) {
  auto names = ListDir(dir);
  ASSERT_TRUE(names.has_value()) << dir << ": " << std::strerror(errno);
  for (const std::string& n : *names) {
    const std::string path = dir + "/" + n;
    auto st = Lstat(path);
    ASSERT_TRUE(st.has_value()) << path << ": " << std::strerror(errno);
    (*out)[path] = *st;
    if (S_ISDIR(st->st_mode)) StatTree(path, out);
  }
}

// SPEC §2: an inode per node (no hard links), from store ids: distinct within a mount,
// the same after a remount, and the same after VACUUM (which may renumber rowids).
TEST_F(DemoMountTest, InodesAreDistinctAndStableAcrossRemountsAndVacuum) {
  std::map<std::string, struct stat> first;
  StatTree(root_, &first);
  ASSERT_GT(first.size(), 100u);
  std::map<ino_t, std::string> owner;
  for (const auto& [path, st] : first) {
    auto [it, fresh] = owner.emplace(st.st_ino, path);
    EXPECT_TRUE(fresh) << path << " and " << it->second << " share inode " << st.st_ino;
  }
  const auto relative = [&](const std::map<std::string, struct stat>& m) {
    std::map<std::string, ino_t> out;
    for (const auto& [path, st] : m) out[path.substr(root_.size())] = st.st_ino;
    return out;
  };
  mount_.reset();
  ASSERT_NO_FATAL_FAILURE(MountIt());
  std::map<std::string, struct stat> second;
  StatTree(root_, &second);
  EXPECT_EQ(relative(second), relative(first)) << "inode numbers changed across a remount";

  mount_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    // Rewrite the run table in another rowid order, then VACUUM.
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE run_copy AS SELECT * FROM pipeline_run ORDER BY id DESC;"
                           "DELETE FROM pipeline_run; INSERT INTO pipeline_run SELECT * FROM run_copy;"
                           "DROP TABLE run_copy; VACUUM;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  ASSERT_NO_FATAL_FAILURE(MountIt());
  std::map<std::string, struct stat> third;
  StatTree(root_, &third);
  EXPECT_EQ(relative(third), relative(first)) << "inode numbers changed after VACUUM";
}

// SPEC §2: a meta.json's mtime is its row's `updated`; an artifact file's is its
// artifact version's `created`.
TEST_F(DemoMountTest, FileMtimesComeFromTheStore) {
  Db db(db_path_);
  const auto one = [&](const std::string& sql, const std::string& id) {
    auto rows = db.Query(sql, {id});
    return rows.size() == 1 && rows[0][0] ? ParseUtcMicros(*rows[0][0]) : std::nullopt;
  };
  const auto mtime = [](const std::string& path) -> std::optional<std::int64_t> {
    auto st = Lstat(path);
    if (!st) return std::nullopt;
    return Micros(st->st_mtim);
  };
  int files = 0;
  for (const ExpPipeline& p : expected_) {
    EXPECT_EQ(mtime(root_ + "/" + p.name + "/meta.json"), one("SELECT updated FROM pipeline WHERE id = ?", p.id))
        << p.name;
    for (const ExpRun& r : p.runs) {
      const std::string rdir = RunDir(root_, p, r);
      EXPECT_EQ(mtime(rdir + "/meta.json"), one("SELECT updated FROM pipeline_run WHERE id = ?", r.id)) << rdir;
      for (const ExpStep& s : r.steps) {
        const std::string sdir = rdir + "/steps/" + s.name;
        EXPECT_EQ(mtime(sdir + "/meta.json"), one("SELECT updated FROM step_run WHERE id = ?", s.id)) << sdir;
        for (const ExpOutput& o : s.outputs) {
          const auto created = one("SELECT created FROM artifact_version WHERE id = ?", o.version_id);
          for (const auto& [rel, size] : DiskFiles(o.uri)) {
            EXPECT_EQ(mtime(sdir + "/outputs/" + o.name + "/" + rel), created) << sdir << "/outputs/" << o.name
                                                                               << "/" << rel;
            ++files;
          }
        }
      }
    }
  }
  EXPECT_GT(files, 10);
}

TEST_F(DemoMountTest, StatLooksLikeARealFileSystem) {
  const ExpPipeline& p = Pipeline("training_pipeline");
  ASSERT_FALSE(p.runs.empty());
  const std::string model = RunDir(root_, p, p.runs.back()) + "/steps/train_model/outputs/model/model.bin";
  struct stat st;
  ASSERT_EQ(stat(model.c_str(), &st), 0) << model << ": " << std::strerror(errno);
  EXPECT_EQ(st.st_size, 3 << 20);
  EXPECT_EQ(st.st_blksize, 1 << 20) << "SPEC §4: st_blksize is 1 MiB";
  EXPECT_GE(static_cast<std::int64_t>(st.st_blocks) * 512, static_cast<std::int64_t>(st.st_size))
      << "SPEC §4: st_blocks is real";
  ASSERT_EQ(stat((root_ + "/meta.json").c_str(), &st), 0);
  EXPECT_GE(static_cast<std::int64_t>(st.st_blocks) * 512, static_cast<std::int64_t>(st.st_size));
  EXPECT_EQ(st.st_blksize, 128 << 10) << "README: files served with direct I/O say 128 KiB";
  EXPECT_GT(st.st_size, 0);
}

// Every meta.json in the tree: valid JSON, pretty-printed with a 2-space indent and a
// trailing newline, and as long as stat says.
TEST_F(DemoMountTest, EveryMetaJsonParsesAndItsSizeIsExact) {
  static std::vector<std::string>* found;
  std::vector<std::string> paths;
  found = &paths;
  ASSERT_EQ(nftw(
                root_.c_str(),
                [](const char* path, const struct stat*, int type, struct FTW*) {
                  if (type == FTW_F && std::string(path).ends_with("/meta.json")) found->push_back(path);
                  return 0;
                },
                32, FTW_PHYS),
            0);
  // One per directory that stands for something: root, pipelines, runs, steps, outputs.
  std::set<std::string> want{root_ + "/meta.json"};
  for (const ExpPipeline& p : expected_) {
    want.insert(root_ + "/" + p.name + "/meta.json");
    for (const ExpRun& r : p.runs) {
      want.insert(RunDir(root_, p, r) + "/meta.json");
      for (const ExpStep& st : r.steps) {
        want.insert(RunDir(root_, p, r) + "/steps/" + st.name + "/meta.json");
        for (const ExpOutput& o : st.outputs) {
          want.insert(RunDir(root_, p, r) + "/steps/" + st.name + "/outputs/" + o.name + "/meta.json");
        }
      }
    }
  }
  // And one per version no step output: its folder in %artifacts.
  Db db(db_path_);
  for (const Db::Row& v : db.Query("SELECT a.name, v.version FROM artifact_version v JOIN artifact a ON a.id = v.artifact_id "
                                   "WHERE v.id NOT IN (SELECT artifact_id FROM step_run_output_artifact)")) {
    want.insert(root_ + "/%artifacts/" + *v[0] + "/" + *v[1] + "/meta.json");
  }
  EXPECT_EQ(std::set<std::string>(paths.begin(), paths.end()), want);
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    auto text = ReadAll(path);
    ASSERT_TRUE(text.has_value()) << std::strerror(errno);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), text->size());
    const auto j = nlohmann::ordered_json::parse(*text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << *text;
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.dump(2) + "\n", *text) << "SPEC §3: pretty-printed, 2-space indent, trailing newline";
    if (path != root_ + "/meta.json") {
      EXPECT_TRUE(j.contains("name"));
    }
  }
}

// `ls -tr` order: directory mtimes are the ordering key's times, so sorting by mtime
// gives the order meta.json lists, which is the store's order.
TEST_F(DemoMountTest, RunsAndStepsListOldestFirst) {
  const json root_meta = ReadJson(root_ + "/meta.json");
  ASSERT_FALSE(root_meta.is_discarded());
  std::vector<std::string> pipeline_order;
  for (const ExpPipeline& p : expected_) pipeline_order.push_back(p.name);
  EXPECT_EQ(root_meta.at("pipelines"), json(pipeline_order));

  for (const ExpPipeline& p : expected_) {
    SCOPED_TRACE(p.name);
    const std::string pdir = root_ + "/" + p.name;
    const json meta = ReadJson(pdir + "/meta.json");
    ASSERT_FALSE(meta.is_discarded());
    EXPECT_EQ(meta.at("name"), p.name);
    EXPECT_EQ(meta.at("id"), Dashed(p.id));
    std::vector<std::string> run_order;
    for (const ExpRun& r : p.runs) run_order.push_back(r.name);
    ASSERT_EQ(meta.at("runs"), json(run_order));
    EXPECT_EQ(meta.at("run_count"), p.runs.size());
    EXPECT_EQ(ParseUtcMicros(meta.at("first_run_time").get<std::string>()), ParseUtcMicros(p.runs.front().start));
    auto pst = Lstat(pdir);
    ASSERT_TRUE(pst);
    EXPECT_EQ(Micros(pst->st_mtim), ParseUtcMicros(p.runs.front().start)) << "a pipeline's mtime is its first run's";

    // Sort the run directories the way `ls -tr` does and compare with meta.json.
    std::vector<std::pair<std::int64_t, std::string>> by_mtime;
    std::int64_t previous = INT64_MIN;
    for (const std::string& name : meta.at("runs").get<std::vector<std::string>>()) {
      const std::string rdir = pdir + "/runs/" + name;
      auto st = Lstat(rdir);
      ASSERT_TRUE(st) << rdir;
      const json rmeta = ReadJson(rdir + "/meta.json");
      ASSERT_FALSE(rmeta.is_discarded()) << rdir;
      const auto start = ParseUtcMicros(rmeta.at("start_time").get<std::string>());
      ASSERT_TRUE(start) << rmeta.at("start_time");
      EXPECT_EQ(Micros(st->st_mtim), *start) << rdir << ": mtime is the run's start_time";
      EXPECT_EQ(Micros(st->st_ctim), *start) << rdir << ": ctime too";
      EXPECT_GE(Micros(st->st_mtim), previous) << rdir << " is older than the run listed before it";
      previous = Micros(st->st_mtim);
      by_mtime.push_back({Micros(st->st_mtim), name});
    }
    std::stable_sort(by_mtime.begin(), by_mtime.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> ls_tr;
    for (const auto& e : by_mtime) ls_tr.push_back(e.second);
    EXPECT_EQ(ls_tr, run_order);

    for (const ExpRun& r : p.runs) {
      const std::string rdir = RunDir(root_, p, r);
      const json rmeta = ReadJson(rdir + "/meta.json");
      ASSERT_FALSE(rmeta.is_discarded());
      EXPECT_EQ(ParseUtcMicros(rmeta.at("start_time").get<std::string>()), ParseUtcMicros(r.start)) << rdir;
      EXPECT_EQ(rmeta.at("id"), Dashed(r.id));
      std::vector<std::string> step_order;
      for (const ExpStep& s : r.steps) step_order.push_back(s.name);
      EXPECT_EQ(rmeta.at("steps"), json(step_order)) << rdir;
      std::int64_t prev_step = INT64_MIN;
      for (const ExpStep& s : r.steps) {
        auto st = Lstat(rdir + "/steps/" + s.name);
        ASSERT_TRUE(st);
        EXPECT_EQ(Micros(st->st_mtim), ParseUtcMicros(s.start)) << rdir << "/steps/" << s.name;
        EXPECT_GE(Micros(st->st_mtim), prev_step);
        prev_step = Micros(st->st_mtim);
      }
    }
  }
}

TEST_F(DemoMountTest, LatestNamesTheNewestRun) {
  for (const ExpPipeline& p : expected_) {
    SCOPED_TRACE(p.name);
    const std::string runs = root_ + "/" + p.name + "/runs";
    const json meta = ReadJson(root_ + "/" + p.name + "/meta.json");
    ASSERT_FALSE(meta.is_discarded());
    ASSERT_FALSE(meta.at("runs").empty());
    auto target = ReadLink(runs + "/latest");
    ASSERT_TRUE(target) << std::strerror(errno);
    EXPECT_EQ(*target, meta.at("runs").back().get<std::string>());
    EXPECT_EQ(*target, meta.at("latest_run").get<std::string>());
    EXPECT_EQ(*target, p.runs.back().name) << "the newest run by the store's ordering key";
    ExpectSymlinkTo(runs + "/latest", p.runs.back().name);
  }
}

// %by-id/<id>: every pipeline, run, step and output artifact version id of the store, as
// 32 hex digits, dashed, or upper-case, is a link to its folder; the folder lists nothing.
TEST_F(DemoMountTest, EveryIdResolvesThroughById) {
  const std::string by_id = root_ + "/%by-id";
  EXPECT_EQ(ListDir(by_id), std::vector<std::string>{});
  auto dashed = [](const std::string& hex) {
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
  };
  auto upper = [](std::string id) {
    for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
  };
  auto expect_link = [&](const std::string& id, const std::string& target) {
    ASSERT_EQ(id.size(), 32u) << id;
    for (const std::string& form : {id, dashed(id), upper(dashed(id))}) {
      ExpectSymlinkTo(by_id + "/" + form, "../" + target);
    }
  };
  int versions = 0;
  for (const ExpPipeline& p : expected_) {
    expect_link(p.id, p.name);
    for (const ExpRun& r : p.runs) {
      const std::string rpath = p.name + "/runs/" + r.name;
      expect_link(r.id, rpath);
      for (const ExpStep& st : r.steps) {
        expect_link(st.id, rpath + "/steps/" + st.name);
        for (const ExpOutput& o : st.outputs) {
          // The producing output (a cached step's versions link to the original's).
          const std::string link = by_id + "/" + o.version_id;
          auto target = ReadLink(link);
          ASSERT_TRUE(target) << link << ": " << std::strerror(errno);
          EXPECT_EQ(target->rfind("../", 0), 0u) << *target;
          const json om = ReadJson(link + "/meta.json");
          ASSERT_FALSE(om.is_discarded()) << link;
          EXPECT_EQ(om.at("artifact_version_id"), dashed(o.version_id)) << link;
          ++versions;
        }
      }
    }
  }
  EXPECT_GT(versions, 0);
  for (const char* unknown : {"00000000000000000000000000000000", "0000000-0000-0000-0000-0000000000000", "xyz",
                              "meta.json", "..."}) {
    EXPECT_FALSE(Lstat(by_id + "/" + unknown).has_value()) << unknown;
    EXPECT_EQ(errno, ENOENT) << unknown;
  }
}

// %artifacts from the database: every artifact version resolves by its artifact's name and
// its version to a folder whose meta.json names it (a link to the producing output, or,
// for a version no step output, a folder of its own; %by-id links there too); each
// artifact's `latest` is its newest version (created, then id); every meta.json's
// `consumers` are the steps with an input row of that version, each of whose inputs/<name>
// leads back to it.
TEST_F(DemoMountTest, ArtifactsViewMatchesTheDatabase) {
  Db db(db_path_);
  ASSERT_EQ(db.error(), "");
  std::map<std::string, std::string> step_paths;  // step id -> mount path
  for (const ExpPipeline& p : expected_) {
    for (const ExpRun& r : p.runs) {
      for (const ExpStep& s : r.steps) step_paths[s.id] = p.name + "/runs/" + r.name + "/steps/" + s.name;
    }
  }
  std::map<std::string, std::vector<std::string>> versions_of;  // artifact name -> versions, oldest first
  const auto rows = db.Query(
      "SELECT v.id, a.name, v.version, EXISTS (SELECT 1 FROM step_run_output_artifact o WHERE o.artifact_id = v.id) "
      "FROM artifact_version v JOIN artifact a ON a.id = v.artifact_id ORDER BY v.created, v.id");
  ASSERT_GT(rows.size(), 10u);
  int by_hand = 0, consumers = 0;
  for (const Db::Row& row : rows) {
    const std::string &id = *row[0], &name = *row[1], &version = *row[2];
    ASSERT_EQ(name.find_first_of("/%"), std::string::npos) << "the demo's artifact names need no escaping";
    versions_of[name].push_back(version);
    const std::string path = root_ + "/%artifacts/" + name + "/" + version;
    SCOPED_TRACE(path);
    auto st = Lstat(path);
    ASSERT_TRUE(st.has_value()) << std::strerror(errno);
    if (*row[3] == "1") {
      EXPECT_TRUE(S_ISLNK(st->st_mode));
      EXPECT_EQ(ReadLink(path).value_or("").rfind("../../", 0), 0u);
    } else {
      ++by_hand;
      EXPECT_TRUE(S_ISDIR(st->st_mode));
      ExpectSymlinkTo(root_ + "/%by-id/" + id, "../%artifacts/" + name + "/" + version);
    }
    const json m = ReadJson(path + "/meta.json");
    ASSERT_FALSE(m.is_discarded());
    EXPECT_EQ(m.at("artifact_version_id"), Dashed(id));
    std::vector<std::pair<std::string, std::string>> want;
    for (const Db::Row& in : db.Query("SELECT step_id, name FROM step_run_input_artifact WHERE artifact_id = ?", {id})) {
      want.emplace_back(step_paths.at(*in[0]), *in[1]);
    }
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    json want_json = json::array();
    for (const auto& [step, input] : want) want_json.push_back({{"step", step}, {"input", input}});
    EXPECT_EQ(m.at("consumers"), want_json);
    for (const auto& [step, input] : want) {
      ++consumers;
      const json im = ReadJson(root_ + "/" + step + "/inputs/" + input + "/meta.json");
      ASSERT_FALSE(im.is_discarded()) << step << "/inputs/" << input;
      EXPECT_EQ(im.at("artifact_version_id"), Dashed(id)) << step << "/inputs/" << input;
    }
  }
  EXPECT_GE(by_hand, 1) << "the demo registers a version by hand";
  EXPECT_GT(consumers, 5);
  std::vector<std::string> names;
  for (const auto& [name, versions] : versions_of) names.push_back(name);
  EXPECT_EQ(ListDir(root_ + "/%artifacts"), names);
  for (const auto& [name, versions] : versions_of) {
    std::vector<std::string> listed = versions;
    listed.push_back("latest");
    EXPECT_EQ(ListDir(root_ + "/%artifacts/" + name), Sorted(listed)) << name;
    EXPECT_EQ(ReadLink(root_ + "/%artifacts/" + name + "/latest"), versions.back()) << name;
  }
}

// runs/<run>/dag.dot and dag.svg stat as empty (a listing never lays a picture out) yet
// read whole, like /proc files, and dag.svg says its size once it was laid out; 8 threads opening every run's picture at once all get
// the same complete pictures.
TEST_F(DemoMountTest, RunPicturesReadWholeThoughTheyStatAsEmpty) {
  std::vector<std::string> svgs;
  for (const ExpPipeline& p : expected_) {
    for (const ExpRun& r : p.runs) {
      const std::string rdir = RunDir(root_, p, r);
      SCOPED_TRACE(rdir);
      for (const char* name : {"dag.dot", "dag.svg"}) {
        auto st = Lstat(rdir + "/" + name);
        ASSERT_TRUE(st) << name << ": " << std::strerror(errno);
        EXPECT_TRUE(S_ISREG(st->st_mode));
        EXPECT_EQ(st->st_size, 0) << name;
      }
      auto dot = ReadAll(rdir + "/dag.dot");
      ASSERT_TRUE(dot) << std::strerror(errno);
      EXPECT_NE(dot->find("digraph run {"), std::string::npos);
      EXPECT_EQ(dot->substr(dot->size() >= 2 ? dot->size() - 2 : 0), "}\n");
      auto svg = ReadAll(rdir + "/dag.svg");
      ASSERT_TRUE(svg) << std::strerror(errno);
      EXPECT_EQ(svg->rfind("<?xml", 0), 0u);
      EXPECT_NE(svg->find("</svg>"), std::string::npos);
      // Once laid out, the picture's real size (browsers read st_size bytes).
      auto after = Lstat(rdir + "/dag.svg");
      ASSERT_TRUE(after);
      EXPECT_EQ(static_cast<std::size_t>(after->st_size), svg->size());
      for (const ExpStep& st : r.steps) {
        EXPECT_NE(dot->find("\"" + st.name), std::string::npos) << st.name;
        EXPECT_NE(svg->find(">" + st.name), std::string::npos) << st.name;
      }
      svgs.push_back(rdir + "/dag.svg");
    }
  }
  ASSERT_FALSE(svgs.empty());
  std::map<std::string, std::string> first;
  for (const std::string& path : svgs) first[path] = ReadAll(path).value_or("");
  std::atomic<int> mismatches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        for (const std::string& path : svgs) {
          if (ReadAll(path).value_or("") != first[path]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Every output's files, read through the mount, are the bytes under its URI.
TEST_F(DemoMountTest, ArtifactBytesEqualTheArtifactStore) {
  int files_checked = 0;
  ForEachOutput([&](const std::string& odir, const ExpOutput& o) {
    const json meta = ReadJson(odir + "/meta.json");
    ASSERT_FALSE(meta.is_discarded());
    EXPECT_EQ(meta.at("name"), o.name);
    EXPECT_EQ(meta.at("artifact_version_id"), Dashed(o.version_id));
    EXPECT_EQ(meta.at("uri"), o.uri);
    EXPECT_EQ(meta.at("available"), true);
    EXPECT_TRUE(meta.at("unavailable_reason").is_null());
    const auto disk = DiskFiles(o.uri);
    ASSERT_FALSE(disk.empty()) << "the demo wrote no files under " << o.uri;
    // meta.json's file list and size agree with the disk...
    std::map<std::string, std::uint64_t> listed;
    std::uint64_t total = 0;
    for (const json& f : meta.at("files")) {
      listed[f.at("path").get<std::string>()] = f.at("size").get<std::uint64_t>();
      total += f.at("size").get<std::uint64_t>();
    }
    EXPECT_EQ(listed, disk);
    EXPECT_EQ(meta.at("size_bytes"), total);
    // ...and so do the files in the mount, byte for byte.
    EXPECT_EQ(MountFiles(odir), disk);
    for (const auto& [rel, size] : disk) {
      EXPECT_EQ(FileSha256(odir + "/" + rel), FileSha256(o.uri + "/" + rel)) << rel;
      ++files_checked;
    }
  });
  EXPECT_GE(files_checked, 15);
}

// The demo's visualizations (an HTML and a PNG, as a materializer saves them) read back
// byte for byte as the demo wrote them, in ZenML's order, and meta.json lists them.
TEST_F(DemoMountTest, VisualizationsReadBackAsTheDemoWroteThem) {
  std::set<std::string> types;
  int files_checked = 0;
  ForEachOutput([&](const std::string& odir, const ExpOutput& o) {
    const json meta = ReadJson(odir + "/meta.json");
    ASSERT_FALSE(meta.is_discarded());
    ASSERT_EQ(meta.at("visualizations").size(), o.visualizations.size());
    for (std::size_t i = 0; i < o.visualizations.size(); ++i) {
      const ExpVisualization& v = o.visualizations[i];
      const std::string rel = "%visualizations/" + names::VisualizationFileName(i, v.type);
      const json& listed = meta.at("visualizations")[i];
      EXPECT_EQ(listed.at("path"), rel);
      EXPECT_EQ(listed.at("type"), v.type);
      EXPECT_EQ(listed.at("uri"), v.uri);
      const auto st = Lstat(odir + "/" + rel);
      ASSERT_TRUE(st) << rel << ": " << std::strerror(errno);
      EXPECT_TRUE(S_ISREG(st->st_mode));
      EXPECT_EQ(static_cast<std::uint64_t>(st->st_size), fs::file_size(v.uri)) << rel;
      bool ok = false;
      const std::string bytes = ReadFile(odir + "/" + rel, &ok);
      ASSERT_TRUE(ok) << rel << ": " << std::strerror(errno);
      EXPECT_EQ(bytes, ReadFile(v.uri)) << rel;
      if (v.type == "image") {
        EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << rel;
      } else if (v.type == "html") {
        EXPECT_NE(bytes.find("<html>"), std::string::npos) << rel;
      }
      types.insert(v.type);
      ++files_checked;
    }
  });
  EXPECT_EQ(types, (std::set<std::string>{"html", "image"}));
  EXPECT_GE(files_checked, 2);
}

TEST_F(DemoMountTest, LargeArtifactReadsAtOddOffsets) {
  const ExpPipeline& p = Pipeline("training_pipeline");
  ASSERT_FALSE(p.runs.empty());
  std::string uri;
  for (const ExpStep& s : p.runs.back().steps) {
    for (const ExpOutput& o : s.outputs) {
      if (s.name == "train_model" && o.name == "model") uri = o.uri;
    }
  }
  ASSERT_FALSE(uri.empty());
  const std::string on_disk = uri + "/model.bin";
  const std::string mounted = RunDir(root_, p, p.runs.back()) + "/steps/train_model/outputs/model/model.bin";
  const int dfd = open(on_disk.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(dfd, 0) << on_disk;
  const int mfd = open(mounted.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(mfd, 0) << mounted << ": " << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(dfd, &st), 0);
  const off_t size = st.st_size;
  ASSERT_EQ(size, 3 << 20);
  const std::vector<off_t> offsets{0, 1, 511, 4095, 4097, 65535, 131073, (1 << 20) - 1, (1 << 20) + 1,
                                   2097151, size - 5000, size - 1, size, size + 1, size + 4096};
  const std::vector<std::size_t> lengths{1, 3, 4097, 65537, 131071, (1u << 20) + 1, 300001};
  std::vector<char> want(2u << 20), got(2u << 20);
  for (off_t off : offsets) {
    for (std::size_t len : lengths) {
      const ssize_t w = pread(dfd, want.data(), len, off);
      const ssize_t g = pread(mfd, got.data(), len, off);
      ASSERT_EQ(g, w) << "pread(" << len << " bytes at " << off << "): " << (g < 0 ? std::strerror(errno) : "");
      ASSERT_EQ(std::memcmp(want.data(), got.data(), static_cast<std::size_t>(std::max<ssize_t>(w, 0))), 0)
          << "bytes differ: " << len << " at " << off;
    }
  }
  close(dfd);
  close(mfd);
  // Sequential reads in odd-sized pieces add up to the same file.
  EXPECT_EQ(FileSha256(mounted), FileSha256(on_disk));
}

TEST_F(DemoMountTest, StepLogsAreTheLogFiles) {
  int checked = 0;
  for (const ExpPipeline& p : expected_) {
    for (const ExpRun& r : p.runs) {
      for (const ExpStep& s : r.steps) {
        const std::string logs = RunDir(root_, p, r) + "/steps/" + s.name + "/logs";
        if (s.log_uris.empty()) {
          EXPECT_FALSE(Lstat(logs).has_value()) << logs << " exists for a step without a log row";
          EXPECT_EQ(errno, ENOENT) << logs;
          continue;
        }
        ASSERT_EQ(s.log_uris.size(), 1u);
        ASSERT_TRUE(fs::is_regular_file(s.log_uris[0])) << "the demo's logs are files";
        auto bytes = ReadAll(logs);
        ASSERT_TRUE(bytes) << logs << ": " << std::strerror(errno);
        EXPECT_EQ(*bytes, ReadFile(s.log_uris[0])) << logs;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 5);
}

TEST_F(DemoMountTest, OutputNameWithSpaceAndNonAsciiIsReadable) {
  const ExpPipeline& p = Pipeline("training_pipeline");
  ASSERT_FALSE(p.runs.empty());
  const std::string name = "eval r\xc3\xa9sum\xc3\xa9";
  const std::string outputs = RunDir(root_, p, p.runs.back()) + "/steps/train_model/outputs";
  auto names = ListDir(outputs);
  ASSERT_TRUE(names);
  EXPECT_NE(std::find(names->begin(), names->end(), name), names->end());
  const std::string odir = outputs + "/" + name;
  ExpectDir(odir, TreeMode(db_path_, 0555));
  const json meta = ReadJson(odir + "/meta.json");
  ASSERT_FALSE(meta.is_discarded());
  EXPECT_EQ(meta.at("name"), name);
  const std::string uri = meta.at("uri").get<std::string>();
  auto bytes = ReadAll(odir + "/data.json");
  ASSERT_TRUE(bytes) << std::strerror(errno);
  EXPECT_EQ(*bytes, ReadFile(uri + "/data.json"));
  EXPECT_FALSE(bytes->empty());
}

// ---------------------------------------------------------------- errors

// The mount has no `-o ro`: the kernel passes every write to zenfs, which refuses it.
TEST_F(DemoMountTest, WritesFailWithErofs) {
  const ExpPipeline& p = Pipeline("example_pipeline");
  const std::string file = root_ + "/meta.json";
  const std::string run = RunDir(root_, p, p.runs.front());
  const std::string data = run + "/steps/step_1/outputs/output/data.json";
  const std::string dir = run + "/steps";
  ASSERT_TRUE(Lstat(data)) << data;

  const auto open_err = OpenErrno;
  EXPECT_EQ(open_err(file, O_WRONLY), EROFS) << "open(O_WRONLY)";
  EXPECT_EQ(open_err(data, O_RDWR), EROFS) << "open(O_RDWR)";
  EXPECT_EQ(open_err(data, O_WRONLY | O_APPEND), EROFS) << "open(O_WRONLY|O_APPEND)";
  EXPECT_EQ(open_err(data, O_WRONLY | O_TRUNC), EROFS) << "open(O_TRUNC)";
  EXPECT_EQ(open_err(root_ + "/new-file", O_WRONLY | O_CREAT), EROFS) << "open(O_CREAT) of a new name";
  EXPECT_EQ(open_err(dir + "/new-file", O_RDWR | O_CREAT | O_EXCL), EROFS) << "open(O_CREAT|O_EXCL)";
  EXPECT_EQ(ErrnoOf(creat((root_ + "/c").c_str(), 0644)), EROFS) << "creat";
  EXPECT_EQ(ErrnoOf(unlink(file.c_str())), EROFS) << "unlink";
  EXPECT_EQ(ErrnoOf(unlink(data.c_str())), EROFS) << "unlink";
  EXPECT_EQ(ErrnoOf(rename(file.c_str(), (root_ + "/renamed").c_str())), EROFS) << "rename file";
  EXPECT_EQ(ErrnoOf(rename(run.c_str(), (root_ + "/renamed").c_str())), EROFS) << "rename dir";
  EXPECT_EQ(ErrnoOf(mkdir((root_ + "/newdir").c_str(), 0755)), EROFS) << "mkdir";
  EXPECT_EQ(ErrnoOf(mkdir((dir + "/newdir").c_str(), 0755)), EROFS) << "mkdir";
  EXPECT_EQ(ErrnoOf(rmdir((run + "/steps/step_1/outputs").c_str())), EROFS) << "rmdir";
  EXPECT_EQ(ErrnoOf(chmod(file.c_str(), 0644)), EROFS) << "chmod file";
  EXPECT_EQ(ErrnoOf(chmod(dir.c_str(), 0755)), EROFS) << "chmod dir";
  EXPECT_EQ(ErrnoOf(chown(file.c_str(), getuid(), getgid())), EROFS) << "chown";
  EXPECT_EQ(ErrnoOf(truncate(data.c_str(), 0)), EROFS) << "truncate";
  EXPECT_EQ(ErrnoOf(utimensat(AT_FDCWD, file.c_str(), nullptr, 0)), EROFS) << "utimensat";
  EXPECT_EQ(ErrnoOf(symlink("meta.json", (root_ + "/link").c_str())), EROFS) << "symlink";
  EXPECT_EQ(ErrnoOf(link(file.c_str(), (root_ + "/hard").c_str())), EROFS) << "link";
  EXPECT_EQ(ErrnoOf(mknod((root_ + "/fifo").c_str(), S_IFIFO | 0644, 0)), EROFS) << "mknod";
  EXPECT_EQ(ErrnoOf(setxattr(file.c_str(), "user.zenfs", "x", 1, 0)), EROFS) << "setxattr";
  EXPECT_EQ(ErrnoOf(setxattr(dir.c_str(), "user.zenfs", "x", 1, 0)), EROFS) << "setxattr dir";
  EXPECT_EQ(ErrnoOf(removexattr(file.c_str(), "user.zenfs")), EROFS) << "removexattr";

  // Nothing changed.
  for (const char* n : {"/new-file", "/c", "/renamed", "/newdir", "/link", "/hard", "/fifo"}) {
    EXPECT_FALSE(Lstat(root_ + n).has_value()) << n;
    EXPECT_EQ(errno, ENOENT) << n;
  }
  auto st = Lstat(file);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->st_mode & 07777, TreeMode(db_path_, 0444));
  EXPECT_EQ(ReadAll(data), ReadFile(Pipeline("example_pipeline").runs.front().steps.front().outputs.front().uri +
                                    "/data.json"));
  EXPECT_EQ(MountedFsType(root_), "fuse.zenfs") << "the daemon survived";
}

TEST_F(DemoMountTest, WithRoOptionWritesFailWithErofsToo) {
  mount_.reset();
  ASSERT_NO_FATAL_FAILURE(MountIt({"-o", "ro"}));
  EXPECT_NE(("," + MountOptions(root_) + ",").find(",ro,"), std::string::npos) << MountOptions(root_);
  const int fd = open((root_ + "/meta.json").c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_EQ(fd < 0 ? errno : 0, EROFS);
  if (fd >= 0) close(fd);
  EXPECT_EQ(ErrnoOf(mkdir((root_ + "/d").c_str(), 0755)), EROFS);
  EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value());
}

TEST_F(DemoMountTest, OwnerComesFromUidAndGidOptions) {
  mount_.reset();
  ASSERT_NO_FATAL_FAILURE(MountIt({"-o", "uid=4321,gid=8765"}));
  for (const std::string& path : {root_, root_ + "/meta.json", root_ + "/example_pipeline/runs/latest"}) {
    auto st = Lstat(path);
    ASSERT_TRUE(st) << path;
    EXPECT_EQ(st->st_uid, 4321u) << path;
    EXPECT_EQ(st->st_gid, 8765u) << path;
  }
}

TEST_F(DemoMountTest, UnknownNamesGiveEnoent) {
  const ExpPipeline& p = Pipeline("example_pipeline");
  const std::string run = RunDir(root_, p, p.runs.front());
  for (const std::string& path :
       {root_ + "/no_such_pipeline", root_ + "/no_such_pipeline/meta.json", root_ + "/example_pipeline/nothing",
        root_ + "/example_pipeline/runs/no-such-run", root_ + "/example_pipeline/runs/no-such-run/meta.json",
        run + "/steps/step_9", run + "/steps/step_1/outputs/nope", run + "/steps/step_1/outputs/output/nope.bin",
        run + "/steps/step_1/output/nope", run + "/steps/step_1/meta.json.bak", root_ + "/META.JSON",
        root_ + "/example_pipeline/runs/latest/steps/nope"}) {
    struct stat st;
    EXPECT_EQ(ErrnoOf(stat(path.c_str(), &st)), ENOENT) << path;
    EXPECT_EQ(OpenErrno(path, O_RDONLY), ENOENT) << path;
  }
  // A name below a file: ENOTDIR, as anywhere else.
  struct stat st;
  EXPECT_EQ(ErrnoOf(stat((root_ + "/meta.json/x").c_str(), &st)), ENOTDIR);
}

TEST_F(DemoMountTest, ExtendedAttributesAreNotSupported) {
  const ExpPipeline& p = Pipeline("example_pipeline");
  const std::string run = RunDir(root_, p, p.runs.front());
  char buf[64];
  for (const std::string& path : {root_ + "/meta.json", root_, run, run + "/steps/step_1/outputs/output/data.json"}) {
    EXPECT_EQ(ErrnoOf(getxattr(path.c_str(), "user.zenfs.nothing", buf, sizeof buf)), EOPNOTSUPP) << path;
    EXPECT_EQ(ErrnoOf(getxattr(path.c_str(), "security.selinux", nullptr, 0)), EOPNOTSUPP) << path;
    EXPECT_EQ(ErrnoOf(listxattr(path.c_str(), buf, sizeof buf)), EOPNOTSUPP) << path;
  }
  // (user.* on a symlink is refused by the kernel itself, so ask for another namespace.)
  EXPECT_EQ(ErrnoOf(lgetxattr((root_ + "/example_pipeline/runs/latest").c_str(), "security.x", buf, sizeof buf)),
            EOPNOTSUPP);
}

// ---------------------------------------------------------------- processes

// A signal to the foreground daemon unmounts and exits 0.
void ExpectSignalUnmounts(Mount* m, int sig) {
  ASSERT_TRUE(ReadAll(m->path() + "/meta.json").has_value());
  const auto status = m->SignalAndWait(sig, 20);
  ASSERT_TRUE(status.has_value()) << "the daemon did not exit within 20 s of signal " << sig;
  EXPECT_TRUE(WIFEXITED(*status)) << "killed by signal " << (WIFSIGNALED(*status) ? WTERMSIG(*status) : 0);
  if (WIFEXITED(*status)) {
    EXPECT_EQ(WEXITSTATUS(*status), 0) << m->DaemonLog();
  }
  EXPECT_EQ(MountedFsType(m->path()), "") << "still mounted after the daemon exited";
}

TEST_F(DemoStoreTest, SigtermUnmountsCleanly) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ExpectSignalUnmounts(mount_.get(), SIGTERM);
}

TEST_F(DemoStoreTest, SigintUnmountsCleanly) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ExpectSignalUnmounts(mount_.get(), SIGINT);
}

TEST_F(DemoStoreTest, BackgroundMountAnswersOnReturnAndUmountRemovesIt) {
  ZENFS_SKIP_WITHOUT_FUSE();
  // Mount in background mode asserts exit code 0 and a live mount right on return.
  mount_ = std::make_unique<Mount>(Mount::Options{store_, mnt_, {}, /*foreground=*/false});
  ASSERT_TRUE(mount_->ok()) << mount_->error();
  auto meta = ReadAll(mnt_ + "/meta.json");
  ASSERT_TRUE(meta.has_value()) << std::strerror(errno);
  EXPECT_FALSE(meta->empty());
  auto names = ListDir(mnt_);
  ASSERT_TRUE(names);
  EXPECT_NE(std::find(names->begin(), names->end(), "example_pipeline"), names->end());

  const CommandResult r = RunZenfs({"umount", mnt_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MountedFsType(mnt_), "") << "zenfs umount returned but the mount is still there";
}

TEST_F(DemoStoreTest, UmountAlsoTakesDownAForegroundMount) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const CommandResult r = RunZenfs({"umount", mnt_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MountedFsType(mnt_), "");
  const auto status = WaitChild(mount_->pid(), 20);
  ASSERT_TRUE(status.has_value()) << "the daemon did not exit after zenfs umount";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << mount_->DaemonLog();
}

// SPEC §4: a dead zenfs mount ("Transport endpoint is not connected") is lazily
// unmounted and replaced by the next mount.
TEST_F(DemoStoreTest, DeadMountIsReplaced) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const auto status = mount_->SignalAndWait(SIGKILL, 20);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(MountedFsType(mnt_), "fuse.zenfs") << "a killed daemon leaves its mount behind";
  // statfs always reaches the daemon; stat may be answered from the attribute cache.
  struct statvfs vfs;
  ASSERT_EQ(ErrnoOf(statvfs(mnt_.c_str(), &vfs)), ENOTCONN);
  mount_->Disown();  // the dead mount stays for zenfs to replace
  mount_.reset();
  mount_ = std::make_unique<Mount>(Mount::Options{store_, mnt_, {}});
  EXPECT_TRUE(mount_->ok()) << mount_->error();
  if (mount_->ok()) {
    EXPECT_TRUE(ReadAll(mnt_ + "/meta.json").has_value()) << std::strerror(errno);
  }
  mount_.reset();
  EXPECT_EQ(MountedFsType(mnt_), "") << "a dead mount stayed stacked under the new one";
  // Whatever happened, leave nothing behind.
  while (MountedFsType(mnt_) != "") {
    if (RunCommand({"fusermount3", "-uz", mnt_}, 20).exit_code != 0) break;
  }
}

TEST_F(DemoStoreTest, AllowOtherTurnsOnDefaultPermissions) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt({"-o", "allow_other"}));
  const std::string opts = "," + MountOptions(root_) + ",";
  EXPECT_NE(opts.find(",allow_other,"), std::string::npos) << opts;
  EXPECT_NE(opts.find(",default_permissions,"), std::string::npos) << opts;
  EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value());
}

// A runs directory bigger than one getdents buffer: every run exactly once, in the
// order of the store.
TEST_F(DemoStoreTest, LargeRunsDirectoryListsEveryRunOnce) {
  ZENFS_SKIP_WITHOUT_FUSE();
  const std::string big = dir_->path() + "/big";
  const CommandResult r = RunZenfs({"demo", big, "--schema", "0.74", "--runs", "600", "--artifact-bytes", "0"}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  store_ = big;
  ASSERT_NO_FATAL_FAILURE(MountIt());
  Db db(big + "/local_stores/default_zen_store/zenml.db");
  const auto expected = ExpectedTree(db);
  const ExpPipeline* example = nullptr;
  for (const ExpPipeline& p : expected) {
    if (p.name == "example_pipeline") example = &p;
  }
  ASSERT_NE(example, nullptr);
  ASSERT_EQ(example->runs.size(), 600u);
  // Raw readdir, so that a duplicate would show (ListDir sorts but keeps duplicates).
  auto names = ListDir(root_ + "/example_pipeline/runs");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, RunsDirNames(*example));
  const json meta = ReadJson(root_ + "/example_pipeline/meta.json");
  ASSERT_FALSE(meta.is_discarded());
  ASSERT_EQ(meta.at("runs").size(), 600u);
  EXPECT_EQ(meta.at("runs").front(), example->runs.front().name);
  EXPECT_EQ(meta.at("runs").back(), example->runs.back().name);
  EXPECT_EQ(ReadLink(root_ + "/example_pipeline/runs/latest").value_or("?"), example->runs.back().name);
}

// Polls `done` until it holds or `seconds` pass; true if it held.
bool Eventually(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// SPEC §4: new runs appear within --refresh seconds, `latest` follows them, and deleted
// runs disappear (the kernel's cached entries are invalidated).
TEST_F(DemoStoreTest, RunsAddedOrDeletedWhileMountedShowUp) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt({"--refresh", "0.2"}));
  Db before(db_path_);
  const auto tree = ExpectedTree(before);
  const ExpPipeline* example = nullptr;
  for (const ExpPipeline& p : tree) {
    if (p.name == "example_pipeline") example = &p;
  }
  ASSERT_NE(example, nullptr);
  const ExpRun& newest = example->runs.back();
  const std::string runs = root_ + "/example_pipeline/runs";
  // Look at everything first, so the kernel holds entries that must be invalidated.
  ASSERT_EQ(ReadLink(runs + "/latest").value_or("?"), newest.name);
  ASSERT_TRUE(ReadAll(root_ + "/example_pipeline/meta.json").has_value());
  ASSERT_TRUE(ListDir(runs).has_value());
  struct stat st;
  ASSERT_EQ(ErrnoOf(stat((runs + "/new-run").c_str(), &st)), ENOENT);  // a negative entry
  ASSERT_TRUE(Lstat(runs + "/" + newest.name + "/steps/step_1/meta.json").has_value());

  const std::string new_id = "c0000000000000000000000000000001";
  const std::string new_step = "c0000000000000000000000000000002";
  {
    Db db(db_path_, /*writable=*/true);
    db.Query("INSERT INTO pipeline_run (id, created, updated, name, orchestrator_run_id, start_time, end_time, "
             "status, orchestrator_environment, deployment_id, user_id, workspace_id, pipeline_id) "
             "SELECT ?, '2030-01-01 00:00:00.000000', '2030-01-01 00:00:00.000000', 'new-run', NULL, "
             "'2030-01-01 00:00:00.000000', NULL, 'running', orchestrator_environment, deployment_id, user_id, "
             "workspace_id, pipeline_id FROM pipeline_run WHERE id = ?",
             {new_id, newest.id});
    db.Query("INSERT INTO step_run (id, created, updated, name, start_time, end_time, status, docstring, "
             "cache_key, source_code, code_hash, original_step_run_id, deployment_id, pipeline_run_id, user_id, "
             "workspace_id) SELECT ?, '2030-01-01 00:00:01.000000', '2030-01-01 00:00:01.000000', name, "
             "'2030-01-01 00:00:01.000000', NULL, 'running', docstring, cache_key, source_code, code_hash, "
             "NULL, deployment_id, ?, user_id, workspace_id FROM step_run WHERE id = ?",
             {new_step, new_id, newest.steps.front().id});
    ASSERT_EQ(db.failures(), 0);
  }
  EXPECT_TRUE(Eventually([&] { return Lstat(runs + "/new-run").has_value(); }, 20))
      << "a new run did not appear within 20 s (--refresh 0.2)";
  EXPECT_TRUE(Eventually([&] { return ReadLink(runs + "/latest").value_or("") == "new-run"; }, 20))
      << "latest still names " << ReadLink(runs + "/latest").value_or("?");
  EXPECT_TRUE(Eventually(
      [&] {
        const json meta = ReadJson(root_ + "/example_pipeline/meta.json");
        return !meta.is_discarded() && !meta.at("runs").empty() && meta.at("runs").back() == "new-run";
      },
      20))
      << "the pipeline's meta.json does not list the new run last";
  const json run_meta = ReadJson(runs + "/new-run/meta.json");
  ASSERT_FALSE(run_meta.is_discarded());
  EXPECT_EQ(run_meta.at("status"), "running");
  EXPECT_TRUE(run_meta.at("end_time").is_null());
  EXPECT_TRUE(run_meta.at("duration_s").is_null());
  // The step went in with a second commit: a refresh may have seen the run before it.
  EXPECT_TRUE(Eventually(
      [&] { return Lstat(runs + "/new-run/steps/" + newest.steps.front().name + "/meta.json").has_value(); }, 20));

  // Delete the new run and the newest old one.
  {
    Db db(db_path_, /*writable=*/true);
    db.Query("DELETE FROM step_run WHERE pipeline_run_id = ?", {new_id});
    db.Query("DELETE FROM pipeline_run WHERE id = ?", {new_id});
    db.Query("DELETE FROM step_run_output_artifact WHERE step_id IN "
             "(SELECT id FROM step_run WHERE pipeline_run_id = ?)",
             {newest.id});
    db.Query("DELETE FROM step_run WHERE pipeline_run_id = ?", {newest.id});
    db.Query("DELETE FROM pipeline_run WHERE id = ?", {newest.id});
    ASSERT_EQ(db.failures(), 0);
  }
  const std::string gone = runs + "/" + newest.name;
  EXPECT_TRUE(Eventually([&] { return !Lstat(runs + "/new-run").has_value() && errno == ENOENT; }, 20))
      << "a deleted run is still there";
  EXPECT_TRUE(Eventually([&] { return !Lstat(gone + "/steps/step_1/meta.json").has_value(); }, 20))
      << "a deleted finished run's cached entries were not invalidated";
  // Each DELETE above commits alone: a refresh between the steps' and the run's sees the
  // run without steps for one interval.
  EXPECT_TRUE(Eventually([&] { return !Lstat(gone).has_value(); }, 20)) << "a deleted finished run is still there";
  const std::string now_latest = example->runs[example->runs.size() - 2].name;
  EXPECT_TRUE(Eventually([&] { return ReadLink(runs + "/latest").value_or("") == now_latest; }, 20))
      << "latest names " << ReadLink(runs + "/latest").value_or("?") << ", want " << now_latest;
  auto names = ListDir(runs);
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(std::find(names->begin(), names->end(), newest.name), names->end());
}

TEST_F(DemoStoreTest, MountingTwiceIsExit3) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const CommandResult again = RunZenfs({"mount", store_, mnt_});
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_NE(again.err.find(mnt_), std::string::npos) << "stderr should name the mountpoint: " << again.err;
  const CommandResult again_fg = RunZenfs({"mount", store_, mnt_, "-f"}, 30);
  EXPECT_EQ(again_fg.exit_code, 3) << again_fg.err;
  // The first mount is untouched.
  EXPECT_EQ(MountedFsType(mnt_), "fuse.zenfs");
  EXPECT_TRUE(ReadAll(mnt_ + "/meta.json").has_value()) << std::strerror(errno);
}

// ---------------------------------------------------------------- bad input

TEST_F(DemoStoreTest, MissingMountpointIsExit3) {
  const std::string missing = dir_->path() + "/no-such-dir";
  const CommandResult r = RunZenfs({"mount", store_, missing});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
}

TEST_F(DemoStoreTest, MountpointThatIsAFileIsExit3) {
  const std::string file = dir_->path() + "/a-file";
  WriteFile(file, "not a directory\n");
  const CommandResult r = RunZenfs({"mount", store_, file});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_EQ(MountedFsType(file), "");
}

// A store whose runs read but whose steps do not (step_run's first page overwritten): the
// mount serves the root and the runs it reads after mounting, and everything that needs
// steps fails with EIO and a logged reason, never a run shown without steps.
TEST_F(DemoStoreTest, DamagedStepsAreEioBelowTheRunsAndLogged) {
  ZENFS_SKIP_WITHOUT_FUSE();
  {
    Db db(db_path_, /*writable=*/true);
    const auto root = db.Query("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'step_run'");
    const auto page = db.Query("PRAGMA page_size");
    ASSERT_EQ(db.failures(), 0);
    ASSERT_EQ(root.size(), 1u);
    ASSERT_EQ(page.size(), 1u);
    const long page_size = std::stol(page[0][0].value_or("0"));
    const long at = (std::stol(root[0][0].value_or("0")) - 1) * page_size;
    ASSERT_GT(page_size, 0);
    ASSERT_GT(at, 0);
    const int fd = open(db_path_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string junk(static_cast<std::size_t>(page_size), '\xff');
    EXPECT_EQ(pwrite(fd, junk.data(), junk.size(), at), static_cast<ssize_t>(junk.size()));
    close(fd);
  }
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string runs = root_ + "/example_pipeline/runs";
  auto names = ListDir(runs);
  ASSERT_TRUE(names.has_value()) << std::strerror(errno);
  ASSERT_GE(names->size(), 2u) << "the runs and latest";
  const std::string run = runs + "/" + (names->front() == "latest" ? names->back() : names->front());
  auto st = Lstat(run);
  ASSERT_TRUE(st.has_value()) << run << ": " << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st->st_mode));
  EXPECT_TRUE(Lstat(run + "/steps").has_value()) << "the folder itself needs only the run";
  errno = 0;
  EXPECT_FALSE(ListDir(run + "/steps").has_value());
  EXPECT_EQ(errno, EIO) << std::strerror(errno);
  errno = 0;
  EXPECT_FALSE(ReadAll(run + "/meta.json").has_value());
  EXPECT_EQ(errno, EIO) << std::strerror(errno);
  EXPECT_NE(mount_->DaemonLog().find("cannot read the store's steps"), std::string::npos) << mount_->DaemonLog();
}

// With a single worker, requests are served one at a time: a walk still sees every run.
TEST_F(DemoStoreTest, OneWorkerThreadServesTheTree) {
  ZENFS_SKIP_WITHOUT_FUSE();
  ASSERT_NO_FATAL_FAILURE(MountIt({"--threads", "1"}));
  Db db(db_path_);
  for (const ExpPipeline& p : ExpectedTree(db)) {
    const auto runs = ListDir(root_ + "/" + p.name + "/runs");
    ASSERT_TRUE(runs.has_value()) << p.name;
    EXPECT_EQ(*runs, RunsDirNames(p)) << p.name << ": every run, latest and the status views";
    const json meta = ReadJson(root_ + "/" + p.name + "/meta.json");
    ASSERT_FALSE(meta.is_discarded()) << p.name;
    EXPECT_EQ(meta.at("runs").size(), p.runs.size()) << p.name;
  }
}

TEST_F(DemoStoreTest, UsageErrorsAreExit1) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"mount"},
           {"mount", store_, mnt_, "extra-arg"},
           {"mount", store_, mnt_, "--refresh", "-5"},
           {"mount", store_, mnt_, "--threads", "0"},
           {"mount", store_, mnt_, "--no-such-flag"},
           {"no-such-command"},
           // The form mount.fuse3 runs: an unknown -o item, a mountpoint too many.
           {store_, mnt_, "-o", "no_such_option"},
           {store_, mnt_, "extra-arg"}}) {
    std::string shown;
    for (const std::string& a : args) shown += " " + a;
    const CommandResult r = RunZenfs(args);
    EXPECT_EQ(r.exit_code, 1) << "zenfs" << shown << "\n" << r.err;
  }
  EXPECT_EQ(MountedFsType(mnt_), "");
}

// Lines of a text ("a\nb\n" has two).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A store error: exit 2, nothing mounted, and a stderr line naming `named`.
void ExpectStoreError(const std::string& store, const std::string& mnt, const std::string& named,
                      bool exactly_one_line = false) {
  const CommandResult r = RunZenfs({"mount", store, mnt});
  EXPECT_EQ(r.exit_code, 2) << "store " << store << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(named), std::string::npos) << "stderr should name " << named << ": " << r.err;
  if (exactly_one_line) {
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  }
  EXPECT_FALSE(r.err.empty());
  EXPECT_EQ(MountedFsType(mnt), "");
  // Foreground mode reports the same.
  const CommandResult fg = RunZenfs({"mount", store, mnt, "-f"}, 30);
  EXPECT_EQ(fg.exit_code, 2) << "-f, store " << store << "\nstderr: " << fg.err;
  EXPECT_EQ(MountedFsType(mnt), "");
}

TEST_F(DemoStoreTest, MissingStoreIsExit2WithOneLineNamingIt) {
  const std::string missing = dir_->path() + "/no-such-store";
  ExpectStoreError(missing, mnt_, missing, /*exactly_one_line=*/true);
  const std::string missing_db = dir_->path() + "/nowhere/zenml.db";
  ExpectStoreError(missing_db, mnt_, missing_db, true);
}

TEST_F(DemoStoreTest, TextFileStoreIsExit2) {
  const std::string text = dir_->path() + "/zenml.db";
  WriteFile(text, "this is not a database, just text\n");
  ExpectStoreError(text, mnt_, text);
}

TEST_F(DemoStoreTest, TruncatedDatabaseIsExit2) {
  // A config directory whose zenml.db is the first half of the demo's.
  const std::string cfg = dir_->path() + "/truncated";
  fs::create_directories(cfg + "/local_stores/default_zen_store");
  const std::string copy = cfg + "/local_stores/default_zen_store/zenml.db";
  fs::copy_file(db_path_, copy);
  const auto size = fs::file_size(copy);
  ASSERT_GT(size, 8192u);
  ASSERT_EQ(truncate(copy.c_str(), static_cast<off_t>(size / 2)), 0);
  ExpectStoreError(cfg, mnt_, copy);
  ExpectStoreError(copy, mnt_, copy);
}

TEST_F(DemoStoreTest, SqliteDatabaseWithoutZenmlTablesIsExit2) {
  const std::string other = dir_->path() + "/other.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
                               "INSERT INTO notes (body) VALUES ('hello');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  ExpectStoreError(other, mnt_, other);
  const std::string empty = dir_->path() + "/empty.db";
  WriteFile(empty, "");  // a zero-byte file is an empty SQLite database
  ExpectStoreError(empty, mnt_, empty);
}

TEST_F(DemoStoreTest, DirectoryThatIsNoZenmlConfigIsExit2) {
  const std::string cfg = dir_->path() + "/not-a-config";
  fs::create_directories(cfg);
  ExpectStoreError(cfg, mnt_, cfg);
}

// ---------------------------------------------------------------- missing artifacts

struct Victim {
  ExpPipeline pipeline;
  ExpRun run;
  ExpStep step;
  ExpOutput output;
};

// The first output of the first run's first step of example_pipeline.
std::optional<Victim> FirstOutput(const std::string& db_path) {
  Db db(db_path);
  for (const ExpPipeline& p : ExpectedTree(db)) {
    if (p.name != "example_pipeline") continue;
    const ExpRun& r = p.runs.front();
    const ExpStep& s = r.steps.front();
    if (s.outputs.empty()) return std::nullopt;
    return Victim{p, r, s, s.outputs.front()};
  }
  return std::nullopt;
}

TEST_F(DemoStoreTest, OutputWhoseFilesAreGoneStillListsAndSaysUnavailable) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto v = FirstOutput(db_path_);
  ASSERT_TRUE(v);
  ASSERT_TRUE(fs::is_directory(v->output.uri));
  fs::remove_all(v->output.uri);
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string sdir = RunDir(root_, v->pipeline, v->run) + "/steps/" + v->step.name;
  const std::string odir = sdir + "/outputs/" + v->output.name;
  EXPECT_EQ(ListDir(odir), std::vector<std::string>{"meta.json"});
  const json meta = ReadJson(odir + "/meta.json");
  ASSERT_FALSE(meta.is_discarded());
  EXPECT_EQ(meta.at("available"), false);
  ASSERT_TRUE(meta.at("unavailable_reason").is_string()) << meta.dump(2);
  EXPECT_FALSE(meta.at("unavailable_reason").get<std::string>().empty());
  EXPECT_EQ(meta.at("uri"), v->output.uri);
  EXPECT_EQ(meta.at("artifact_version_id"), Dashed(v->output.version_id));
  EXPECT_TRUE(meta.at("files").empty());
  // The rest of the step and the run still work.
  EXPECT_FALSE(ReadJson(sdir + "/meta.json").is_discarded());
  EXPECT_FALSE(ReadJson(RunDir(root_, v->pipeline, v->run) + "/meta.json").is_discarded());
  ExpectSymlinkTo(sdir + "/output", "outputs/" + v->output.name);
  EXPECT_EQ(OpenErrno(odir + "/data.json", O_RDONLY), ENOENT);
}

// An artifact entry named %visualizations at the top of an output is shown with the suffix
// one named meta.json gets, whether or not the version has visualizations; the name
// itself stays zenfs's folder where there are some.
TEST_F(DemoStoreTest, ArtifactFileNamedVisualizationsIsRenamedLikeMetaJson) {
  ZENFS_SKIP_WITHOUT_FUSE();
  Db db(db_path_);
  ASSERT_EQ(db.error(), "");
  const auto rows = db.Query(
      "SELECT o.name, v.uri, EXISTS (SELECT 1 FROM artifact_visualization a WHERE a.artifact_version_id = v.id) "
      "FROM step_run_output_artifact o JOIN artifact_version v ON v.id = o.artifact_id JOIN step_run s ON "
      "s.id = o.step_id WHERE s.name = 'load_data' AND s.status = 'completed'");
  ASSERT_EQ(rows.size(), 2u) << "load_data's features (visualized) and labels";
  for (const Db::Row& r : rows) WriteFile(*r[1] + "/%visualizations", "disk " + *r[0]);
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string sdir = root_ + "/training_pipeline/runs/latest/steps/load_data/outputs/";
  for (const Db::Row& r : rows) {
    const std::string odir = sdir + *r[0];
    SCOPED_TRACE(odir);
    const auto listed = ListDir(odir);
    ASSERT_TRUE(listed) << std::strerror(errno);
    std::vector<std::string> renamed;
    for (const std::string& n : *listed) {
      if (n.rfind("%visualizations~", 0) == 0) renamed.push_back(n);
    }
    ASSERT_EQ(renamed.size(), 1u) << ::testing::PrintToString(*listed);
    EXPECT_EQ(renamed[0].size(), std::string("%visualizations~").size() + 8);
    EXPECT_EQ(ReadFile(odir + "/" + renamed[0]), "disk " + *r[0]);
    const bool visualized = *r[2] == "1";
    EXPECT_EQ(std::count(listed->begin(), listed->end(), "%visualizations"), visualized ? 1 : 0);
    if (visualized) ExpectDir(odir + "/%visualizations", TreeMode(db_path_, 0555));
    const json meta = ReadJson(odir + "/meta.json");
    bool in_files = false;
    for (const json& f : meta.at("files")) in_files |= f.at("path") == "%visualizations";
    EXPECT_TRUE(in_files) << "meta.json lists the file under its name on disk";
  }
}

TEST_F(DemoStoreTest, ReadingAFileDeletedAfterListingGivesEio) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto v = FirstOutput(db_path_);
  ASSERT_TRUE(v);
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string odir = RunDir(root_, v->pipeline, v->run) + "/steps/" + v->step.name + "/outputs/" +
                           v->output.name;
  EXPECT_EQ(ListDir(odir), Sorted({"data.json", "meta.json"}));
  const std::string data = odir + "/data.json";
  ASSERT_TRUE(Lstat(data)) << std::strerror(errno);
  fs::remove_all(v->output.uri);

  const int fd = open(data.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    EXPECT_EQ(errno, EIO) << "open of a file whose bytes are gone: " << std::strerror(errno);
  } else {
    char buf[64];
    EXPECT_EQ(ErrnoOf(read(fd, buf, sizeof buf)), EIO) << "read of a file whose bytes are gone";
    close(fd);
  }
  // The daemon is fine.
  EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value());
  EXPECT_EQ(MountedFsType(root_), "fuse.zenfs");
}

// Local artifacts are answered by splicing from the backing file's descriptor (OpRead).
// The backing file may shrink, grow or vanish while open in the mount: a read then gives
// the file's current bytes, short at its current end (the kernel fills the rest of a page
// it had counted on with zeros, and nothing else), or EIO; never a hang, a crash or bytes
// of another file.
TEST_F(DemoStoreTest, ArtifactThatShrinksOrVanishesWhileOpenReadsShortNeverGarbage) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto v = FirstOutput(db_path_);
  ASSERT_TRUE(v);
  const std::string backing = v->output.uri + "/data.json";
  std::string pattern((3u << 20) + 123, '\0');
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  WriteFile(backing, pattern);
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string data = RunDir(root_, v->pipeline, v->run) + "/steps/" + v->step.name + "/outputs/" +
                           v->output.name + "/data.json";
  const int fd = open(data.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << data << ": " << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(pattern.size()));
  // Whole, across splice-sized pieces, before anything changes.
  std::vector<char> buf(1u << 20);
  ssize_t n = pread(fd, buf.data(), 300001, 1 << 20);
  ASSERT_EQ(n, 300001) << std::strerror(errno);
  EXPECT_EQ(std::memcmp(buf.data(), pattern.data() + (1 << 20), 300001), 0);

  // Shrinks to 5,000 bytes: a read of what the kernel never cached (past the first 1.3 MiB)
  // and one from the start, both past the new end.
  const std::size_t kShort = 5000;
  ASSERT_EQ(truncate(backing.c_str(), static_cast<off_t>(kShort)), 0) << std::strerror(errno);
  auto expect_short_or_eio = [&](off_t off, std::size_t len, const std::string& what) {
    std::fill(buf.begin(), buf.end(), 'X');
    const ssize_t got = pread(fd, buf.data(), len, off);
    if (got < 0) {
      EXPECT_EQ(errno, EIO) << what << ": " << std::strerror(errno);
      return;
    }
    ASSERT_LE(static_cast<std::size_t>(got), len) << what;
    for (ssize_t i = 0; i < got; ++i) {
      const std::size_t at = static_cast<std::size_t>(off) + static_cast<std::size_t>(i);
      // Bytes before the new end are the file's; past it only zeros.
      const char want = at < kShort ? pattern[at] : '\0';
      ASSERT_EQ(buf[static_cast<std::size_t>(i)], want) << what << ": byte " << at << " of " << got << " read";
    }
  };
  expect_short_or_eio(2 << 20, 65536, "past the new end, never cached");
  expect_short_or_eio(static_cast<off_t>(pattern.size()), 4096, "at the old end");
  expect_short_or_eio(static_cast<off_t>(pattern.size()) + 4096, 4096, "past the old end");

  // Vanishes: the open file keeps the descriptor zenfs opened, so reads still answer.
  ASSERT_TRUE(fs::remove(backing));
  expect_short_or_eio(3 << 20, 4096, "after the backing file was removed");
  close(fd);
  // A new open finds it gone; the daemon is fine.
  const int again = open(data.c_str(), O_RDONLY | O_CLOEXEC);
  if (again >= 0) {
    char c;
    EXPECT_EQ(ErrnoOf(read(again, &c, 1)), EIO) << "read of a file that is gone";
    close(again);
  } else {
    EXPECT_TRUE(errno == ENOENT || errno == EIO) << std::strerror(errno);
  }
  EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value());
  EXPECT_EQ(MountedFsType(root_), "fuse.zenfs");
}

// ---------------------------------------------------------------- names

// SPEC §2 names, on rows added to the demo database: `/` and `%` escaped, `.`/`..`/""
// spelled out, long names cut with a hash, clashes with fixed entries suffixed, runs
// without a pipeline under %unlisted. Expected names are worked out here by hand.
TEST_F(DemoStoreTest, StoreNamesBecomeSafePathNames) {
  ZENFS_SKIP_WITHOUT_FUSE();
  const std::string e_acute = "\xc3\xa9";
  std::string long_utf8 = "x";
  for (int i = 0; i < 150; ++i) long_utf8 += e_acute;  // 301 bytes
  const std::string long_pct = std::string(238, 'a') + "%" + std::string(70, 'b');  // 309 bytes
  const std::string exactly_255(255, 'c');
  const std::string sha_utf8 = Sha256Hex(long_utf8).substr(0, 14);
  const std::string sha_pct = Sha256Hex(long_pct).substr(0, 14);
  std::string cut_utf8 = "x";
  for (int i = 0; i < 119; ++i) cut_utf8 += e_acute;  // 239 bytes: 240 would split an é
  cut_utf8 += "~" + sha_utf8;
  // Escaped, the name is a*238 "%25" b*70: a cut at 240 would split "%25".
  const std::string cut_pct = std::string(238, 'a') + "~" + sha_pct;

  const std::string pipe_a = "a0000000000000000000000000000001", pipe_b = "a0000000000000000000000000000002";
  struct NewRun {
    std::string id, name, start;
    std::optional<std::string> pipeline;
    std::string expected;  // path name
  };
  const std::vector<NewRun> runs{
      {"b0000000000000000000000000000001", "", "2025-03-05 09:58:00.000000", pipe_a, "%"},
      {"b0000000000000000000000000000002", ".", "2025-03-05 09:59:00.000000", pipe_a, "%2E"},
      {"b0000000000000000000000000000003", "..", "2025-03-05 10:00:00.000000", pipe_a, "%2E%2E"},
      {"b0000000000000000000000000000004", "latest", "2025-03-05 10:01:00.000000", pipe_a, "latest~b0000000"},
      {"b000000000000000000000000000000c", "latest-completed", "2025-03-05 10:01:20.000000", pipe_a,
       "latest-completed~b0000000"},
      {"b000000000000000000000000000000d", "latest-failed", "2025-03-05 10:01:40.000000", pipe_a,
       "latest-failed~b0000000"},
      {"b0000000000000000000000000000005", "50%/50", "2025-03-05 10:02:00.000000", pipe_a, "50%25%2F50"},
      {"b0000000000000000000000000000006", exactly_255, "2025-03-05 10:03:00.000000", pipe_a, exactly_255},
      {"b0000000000000000000000000000007", long_pct, "2025-03-05 10:04:00.000000", pipe_a, cut_pct},
      {"b0000000000000000000000000000008", long_utf8, "2025-03-05 10:05:00.000000", pipe_a, cut_utf8},
      {"b0000000000000000000000000000009", "solo/run", "2025-03-05 11:00:00.000000", pipe_b, "solo%2Frun"},
      {"b000000000000000000000000000000a", "orphan-null", "2025-03-05 12:00:00.000000", std::nullopt,
       "orphan-null"},
      {"b000000000000000000000000000000b", "orphan-dangling", "2025-03-05 12:01:00.000000",
       std::string("deadbeefdeadbeefdeadbeefdeadbeef"), "orphan-dangling"},
  };
  {
    Db db(db_path_, /*writable=*/true);
    ASSERT_EQ(db.error(), "");
    db.Query("INSERT INTO pipeline (id, created, updated, name, workspace_id, user_id) "
             "SELECT ?, '2025-03-05 09:00:00.000000', '2025-03-05 09:00:00.000000', ?, workspace_id, user_id "
             "FROM pipeline LIMIT 1",
             {pipe_a, std::string("team/a%b")});
    db.Query("INSERT INTO pipeline (id, created, updated, name, workspace_id, user_id) "
             "SELECT ?, '2025-03-05 09:00:00.000000', '2025-03-05 09:00:00.000000', ?, workspace_id, user_id "
             "FROM pipeline LIMIT 1",
             {pipe_b, std::string("..")});
    for (const NewRun& r : runs) {
      db.Query("INSERT INTO pipeline_run (id, created, updated, name, orchestrator_run_id, start_time, end_time, "
               "status, orchestrator_environment, deployment_id, user_id, workspace_id, pipeline_id) "
               "SELECT ?, ?, ?, ?, NULL, ?, ?, 'completed', orchestrator_environment, deployment_id, user_id, "
               "workspace_id, ? FROM pipeline_run LIMIT 1",
               {r.id, r.start, r.start, r.name, r.start, r.start, r.pipeline});
    }
    ASSERT_EQ(db.failures(), 0);
  }
  ASSERT_NO_FATAL_FAILURE(MountIt());

  auto root_names = ListDir(root_);
  ASSERT_TRUE(root_names);
  for (const char* n : {"team%2Fa%25b", "%2E%2E", "%unlisted"}) {
    EXPECT_NE(std::find(root_names->begin(), root_names->end(), n), root_names->end()) << n;
  }
  const json root_meta = ReadJson(root_ + "/meta.json");
  ASSERT_FALSE(root_meta.is_discarded());
  const auto listed = root_meta.at("pipelines").get<std::vector<std::string>>();
  EXPECT_NE(std::find(listed.begin(), listed.end(), "team/a%b"), listed.end());
  EXPECT_NE(std::find(listed.begin(), listed.end(), ".."), listed.end());

  EXPECT_EQ(ReadJson(root_ + "/team%2Fa%25b/meta.json").value("name", ""), "team/a%b");
  EXPECT_EQ(ReadJson(root_ + "/%2E%2E/meta.json").value("name", ""), "..");

  std::map<std::string, std::vector<std::string>> dirs;  // pipeline dir -> expected run dirs
  for (const NewRun& r : runs) {
    const std::string pdir = !r.pipeline ? "%unlisted" : *r.pipeline == pipe_a ? "team%2Fa%25b"
                                                       : *r.pipeline == pipe_b ? "%2E%2E"
                                                                               : "%unlisted";
    dirs[pdir].push_back(r.expected);
    EXPECT_LE(r.expected.size(), 255u);
    const std::string rdir = root_ + "/" + pdir + "/runs/" + r.expected;
    SCOPED_TRACE(rdir);
    ExpectDir(rdir, TreeMode(db_path_, 0555));
    const json meta = ReadJson(rdir + "/meta.json");
    ASSERT_FALSE(meta.is_discarded()) << std::strerror(errno);
    EXPECT_EQ(meta.at("name"), r.name) << "meta.json carries the original name";
    EXPECT_EQ(meta.at("id"), Dashed(r.id));
  }
  for (auto& [pdir, names] : dirs) {
    names.push_back("latest");
    names.push_back("latest-completed");  // every run here is completed
    EXPECT_EQ(ListDir(root_ + "/" + pdir + "/runs"), Sorted(names)) << pdir;
  }
  // The view names are reserved: the runs really named so got the suffix, and the views
  // name the newest completed run.
  EXPECT_EQ(ReadLink(root_ + "/team%2Fa%25b/runs/latest-completed").value_or("?"), cut_utf8);
  // latest names the newest run by its path name; meta.json lists original names.
  EXPECT_EQ(ReadLink(root_ + "/team%2Fa%25b/runs/latest").value_or("?"), cut_utf8);
  ExpectSymlinkTo(root_ + "/team%2Fa%25b/runs/latest", cut_utf8);
  const json pmeta = ReadJson(root_ + "/team%2Fa%25b/meta.json");
  ASSERT_FALSE(pmeta.is_discarded());
  std::vector<std::string> raw_order;
  for (const NewRun& r : runs) {
    if (r.pipeline == pipe_a) raw_order.push_back(r.name);
  }
  EXPECT_EQ(pmeta.at("runs"), json(raw_order));
  EXPECT_EQ(pmeta.at("runs").back(), long_utf8);

  // Lookup matches the encoded names only.
  struct stat st;
  EXPECT_EQ(ErrnoOf(stat((root_ + "/team%2fa%25b").c_str(), &st)), ENOENT);
  EXPECT_EQ(ErrnoOf(stat((root_ + "/team%2Fa%25b/runs/latest~b0000001").c_str(), &st)), ENOENT);
  const int raw_long = ErrnoOf(stat((root_ + "/team%2Fa%25b/runs/" + long_utf8).c_str(), &st));
  EXPECT_TRUE(raw_long == ENOENT || raw_long == ENAMETOOLONG) << std::strerror(raw_long);
}

}  // namespace
}  // namespace zenfs::testing
