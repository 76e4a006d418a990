// Live and stress tests on a real mount: the test writes to the mounted store with the
// SQLite C API the way ZenML does (ordinary transactions; rollback journal and WAL), and
// checks what users see: new runs and pipelines appear, a running run's meta.json
// progresses, a running step's log can be followed, deleted runs disappear even when the
// kernel cached them, open files survive their run's deletion, and the daemon stays up,
// bounded in memory and killable under load. Waits are polls with deadlines.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr bool kSanitized = zenfs::testing::kSanitizedBuild;

constexpr double kBound = 30;  // seconds any store change may take to show (--refresh 0.5)

// Polls `done` every 50 ms until it holds or `seconds` pass; true if it held.
bool PollUntil(const std::function<bool()>& done, double seconds = kBound) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// errno of a failed call, 0 if it succeeded.
int ErrnoOf(long rc) { return rc < 0 ? errno : 0; }

// j[key] if j is an object holding key, else null (never throws, never asserts).
json Get(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? json(nullptr) : *it;
}

// A figure in KiB from /proc/PID/status ("VmRSS", "VmHWM"), nullopt if unreadable.
std::optional<long> StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return std::nullopt;
}

// The daemon's resident set in KiB, now and at its peak.
std::optional<long> RssKiB(pid_t pid) { return StatusKiB(pid, "VmRSS"); }
std::optional<long> PeakRssKiB(pid_t pid) { return StatusKiB(pid, "VmHWM"); }

// How many mounts /proc/self/mountinfo shows exactly at `path` (stacked mounts count).
int MountsAt(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == path) ++n;  // test paths have no characters mountinfo escapes
  }
  return n;
}

// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) for now, as ZenML writes times.
std::string StoreTimeNow() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const long long us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const time_t secs = static_cast<time_t>(us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
  return buf;
}

// A fresh store id: 32 lowercase hex digits.
std::string NewId() {
  static std::atomic<unsigned long long> counter{0};
  static const unsigned long long prefix = std::random_device{}() & 0xffffffffull;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx%024llx", prefix, ++counter);
  return buf;
}

void AppendToFile(const std::string& path, const std::string& data) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
}

// ---------------------------------------------------------------- writing like ZenML

// Writes runs, steps, outputs and logs into a ZenML 0.74 store while it is mounted, as a
// ZenML client would: artifact and log files first, then rows, each change in one ordinary
// transaction. One connection; use from one thread at a time.
class ZenmlWriter {
 public:
  struct Step {
    std::string id, name, log_path, uri, data;
  };
  struct Run {
    std::string id, name;
    std::vector<Step> steps;
  };

  // `store` is the ZenML config directory of the demo store.
  explicit ZenmlWriter(const std::string& store) : store_(store) {
    const std::string path = store + "/local_stores/default_zen_store/zenml.db";
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
      return;
    }
    sqlite3_busy_timeout(db_, 30000);  // readers hold the lock only briefly
    // The rows every new row refers to, from the demo's newest example_pipeline run.
    auto t = Row("SELECT deployment_id, user_id, workspace_id, pipeline_id FROM pipeline_run WHERE name LIKE "
                 "'example_pipeline%' ORDER BY start_time DESC LIMIT 1");
    if (t.size() == 4) {
      deployment_ = t[0];
      user_ = t[1];
      workspace_ = t[2];
      example_pipeline_ = t[3];
    }
    auto s = Row("SELECT artifact_store_id FROM artifact_version WHERE artifact_store_id IS NOT NULL LIMIT 1");
    if (!s.empty()) artifact_store_ = s[0];
    for (const auto& e : fs::directory_iterator(store + "/local_stores")) {
      if (e.path().filename() != "default_zen_store") artifact_root_ = e.path().string();
    }
    EXPECT_FALSE(deployment_.empty() || artifact_store_.empty() || artifact_root_.empty())
        << "the demo store lacks the rows a new run refers to";
  }
  ~ZenmlWriter() { sqlite3_close(db_); }
  ZenmlWriter(const ZenmlWriter&) = delete;
  ZenmlWriter& operator=(const ZenmlWriter&) = delete;

  const std::string& example_pipeline() const { return example_pipeline_; }
  int failures() const { return failures_; }

  // A new pipeline row (a pipeline shows in the mount once it has a run).
  std::string AddPipeline(const std::string& name) {
    const std::string id = NewId(), now = StoreTimeNow();
    Txn([&] {
      Exec("INSERT INTO pipeline (id, created, updated, name, description, workspace_id, user_id) "
           "VALUES (?, ?, ?, ?, NULL, ?, ?)",
           {id, now, now, name, workspace_, user_});
    });
    return id;
  }

  // A run that has just started: status running, no end time, its steps running, each
  // with a log file holding one line.
  Run StartRun(const std::string& name, const std::string& pipeline_id, int steps = 2) {
    Run run{NewId(), name, {}};
    for (int i = 0; i < steps; ++i) {
      Step s;
      s.id = NewId();
      s.name = "step_" + std::to_string(i + 1);
      const std::string dir = artifact_root_ + "/live/" + run.id + "/" + s.name;
      fs::create_directories(dir + "/logs");
      s.log_path = dir + "/logs/" + s.id + ".log";
      WriteFile(s.log_path, "line 1\n");
      s.uri = dir + "/output/" + s.id.substr(0, 8);
      run.steps.push_back(std::move(s));
    }
    const std::string now = StoreTimeNow();
    Txn([&] {
      Exec("INSERT INTO pipeline_run (id, created, updated, name, orchestrator_run_id, start_time, end_time, status, "
           "orchestrator_environment, deployment_id, user_id, workspace_id, pipeline_id) "
           "VALUES (?, ?, ?, ?, ?, ?, NULL, 'running', '{}', ?, ?, ?, ?)",
           {run.id, now, now, name, run.id, now, deployment_, user_, workspace_, pipeline_id});
      for (const Step& s : run.steps) {
        Exec("INSERT INTO step_run (id, created, updated, name, start_time, end_time, status, docstring, cache_key, "
             "source_code, code_hash, step_configuration, original_step_run_id, deployment_id, pipeline_run_id, "
             "user_id, workspace_id) VALUES (?, ?, ?, ?, ?, NULL, 'running', 'A live step.', ?, "
             "'def step():\n    pass\n', NULL, NULL, NULL, ?, ?, ?, ?)",
             {s.id, now, now, s.name, now, s.id, deployment_, run.id, user_, workspace_});
        Exec("INSERT INTO logs (id, created, updated, uri, pipeline_run_id, step_run_id, artifact_store_id) "
             "VALUES (?, ?, ?, ?, NULL, ?, ?)",
             {NewId(), now, now, s.log_path, s.id, artifact_store_});
      }
    });
    return run;
  }

  // Step i finishes: its output's files are written, then the artifact rows and the
  // step's new status in one transaction.
  void FinishStep(Run& run, int i) {
    Step& s = run.steps[static_cast<std::size_t>(i)];
    fs::create_directories(s.uri);
    s.data = json{{"run", run.name}, {"step", s.name}, {"pad", std::string(1000 + 37 * i, 'z')}}.dump();
    WriteFile(s.uri + "/data.json", s.data);
    const std::string artifact = NewId(), version = NewId(), now = StoreTimeNow();
    Txn([&] {
      Exec("INSERT INTO artifact (id, created, updated, name, has_custom_name) VALUES (?, ?, ?, ?, 0)",
           {artifact, now, now, run.name + "::" + s.name + "::output"});
      Exec("INSERT INTO artifact_version (id, created, updated, version, version_number, type, uri, materializer, "
           "data_type, save_type, artifact_id, artifact_store_id, user_id, workspace_id) VALUES (?, ?, ?, '1', 1, "
           "'DataArtifact', ?, '{\"module\":\"zenml.materializers.built_in_materializer\",\"attribute\":"
           "\"BuiltInContainerMaterializer\",\"type\":\"internal\"}', '{\"module\":\"builtins\",\"attribute\":"
           "\"dict\",\"type\":\"builtin\"}', 'step_output', ?, ?, ?, ?)",
           {version, now, now, s.uri, artifact, artifact_store_, user_, workspace_});
      Exec("INSERT INTO step_run_output_artifact (name, step_id, artifact_id) VALUES ('output', ?, ?)",
           {s.id, version});
      Exec("UPDATE step_run SET status = 'completed', end_time = ?, updated = ? WHERE id = ?", {now, now, s.id});
    });
  }

  void FinishRun(const Run& run, const std::string& status = "completed") {
    const std::string now = StoreTimeNow();
    Txn([&] {
      Exec("UPDATE pipeline_run SET status = ?, end_time = ?, updated = ? WHERE id = ?", {status, now, now, run.id});
    });
  }

  // What `zenml pipeline runs delete` leaves: the run, its steps and their links and
  // logs gone (ZenML's cascades); artifact versions and files stay.
  void DeleteRun(const std::string& run_id) {
    Txn([&] {
      const std::string steps = "(SELECT id FROM step_run WHERE pipeline_run_id = ?)";
      Exec("DELETE FROM step_run_output_artifact WHERE step_id IN " + steps, {run_id});
      Exec("DELETE FROM step_run_input_artifact WHERE step_id IN " + steps, {run_id});
      Exec("DELETE FROM logs WHERE step_run_id IN " + steps, {run_id});
      Exec("DELETE FROM step_run WHERE pipeline_run_id = ?", {run_id});
      Exec("DELETE FROM pipeline_run WHERE id = ?", {run_id});
    });
  }

  // A step reads an artifact version passed to it as it is (an "external" input row).
  void AddInput(const std::string& step_id, const std::string& name, const std::string& version_id) {
    Txn([&] {
      Exec("INSERT INTO step_run_input_artifact (name, type, step_id, artifact_id) VALUES (?, 'external', ?, ?)",
           {name, step_id, version_id});
    });
  }

  // The first row of a query, as text ("" for NULL); empty if there is none.
  std::vector<std::string> Row(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      Fail("prepare " + sql);
      return out;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        out.push_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
    }
    sqlite3_finalize(st);
    return out;
  }

  // The id of a run by name.
  std::string RunId(const std::string& name) {
    auto r = Row("SELECT id FROM pipeline_run WHERE name = '" + name + "'");
    return r.empty() ? "" : r[0];
  }

  // Names of the runs of a pipeline, from the store.
  std::set<std::string> RunNames(const std::string& pipeline_id) {
    std::set<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT name FROM pipeline_run WHERE pipeline_id = ?", -1, &st, nullptr) !=
        SQLITE_OK) {
      Fail("prepare");
      return out;
    }
    sqlite3_bind_text(st, 1, pipeline_id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return out;
  }

 private:
  void Fail(const std::string& what) {
    ++failures_;
    ADD_FAILURE() << what << ": " << sqlite3_errmsg(db_);
  }

  void Txn(const std::function<void()>& body) {
    if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return Fail("BEGIN");
    body();
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Fail("COMMIT");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  void Exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return Fail("prepare " + sql);
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(st, static_cast<int>(i) + 1, params[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    const int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) Fail(sql);
    sqlite3_finalize(st);
  }

  std::string store_;
  sqlite3* db_ = nullptr;
  std::string deployment_, user_, workspace_, example_pipeline_, artifact_store_, artifact_root_;
  int failures_ = 0;
};

// Switches the store's journal mode (it is stored in the database file).
void SetJournalMode(const std::string& db_path, const std::string& mode) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, ("PRAGMA journal_mode = " + mode).c_str(), -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  const std::string got = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  ASSERT_EQ(got, mode);
}

// ---------------------------------------------------------------- fixtures

// A demo store under the mount tests' root, mounted by MountIt.
class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    dir_ = std::make_unique<TempDir>(MountTestRoot());
    store_ = dir_->path() + "/store";
    mnt_ = dir_->path() + "/mnt";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
  }

  void MakeStore(const std::vector<std::string>& knobs) {
    std::vector<std::string> args{"demo", store_, "--schema", "0.74"};
    args.insert(args.end(), knobs.begin(), knobs.end());
    const CommandResult r = RunZenfs(args, 120);
    ASSERT_EQ(r.exit_code, 0) << "zenfs demo failed: " << r.err;
    db_path_ = store_ + "/local_stores/default_zen_store/zenml.db";
  }

  void MountIt(std::vector<std::string> extra = {"--refresh", "0.5"}) {
    mount_ = std::make_unique<Mount>(Mount::Options{store_, mnt_, std::move(extra)});
    ASSERT_TRUE(mount_->ok()) << mount_->error();
    root_ = mount_->path();
  }

  // The daemon is alive and answers.
  void ExpectDaemonAnswers() {
    ASSERT_NE(mount_, nullptr);
    int status = 0;
    EXPECT_EQ(waitpid(mount_->pid(), &status, WNOHANG), 0)
        << "the daemon exited (status " << status << "); its log:\n" << mount_->DaemonLog();
    EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value()) << "the mount does not answer: " << std::strerror(errno);
  }

  std::unique_ptr<TempDir> dir_;  // first: destroyed after the mount is gone
  std::string store_, db_path_, mnt_, root_;
  std::unique_ptr<Mount> mount_;
};

class LiveJournalTest : public LiveTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    LiveTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
    ASSERT_NO_FATAL_FAILURE(SetJournalMode(db_path_, GetParam()));
    ASSERT_NO_FATAL_FAILURE(MountIt());
  }
};

INSTANTIATE_TEST_SUITE_P(JournalModes, LiveJournalTest, ::testing::Values("delete", "wal"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// A description of a path's state for failure messages.
std::string Seen(const std::string& path) {
  auto st = Lstat(path);
  if (!st) return std::string("lstat: ") + std::strerror(errno);
  if (S_ISLNK(st->st_mode)) return "symlink -> " + ReadLink(path).value_or("?");
  if (S_ISDIR(st->st_mode)) return "a directory";
  auto text = ReadAll(path);
  return text ? "file: " + text->substr(0, 400) : std::string("read: ") + std::strerror(errno);
}

// ---------------------------------------------------------------- (a) runs come and go

// SPEC §4: a new run appears and `latest` names it; its meta.json follows it from running
// to completed; a new pipeline appears; deleted runs disappear even after the kernel
// cached them (listed, stat'ed, meta.json and artifacts read).
TEST_P(LiveJournalTest, RunsProgressAppearAndDisappear) {
  ZenmlWriter w(store_);
  ASSERT_EQ(w.failures(), 0);
  const std::string runs = root_ + "/example_pipeline/runs";
  auto names = ListDir(runs);
  ASSERT_TRUE(names.has_value());
  // A finished run to delete later, looked at thoroughly first so the kernel caches it.
  const std::string victim_name = *std::find_if(names->begin(), names->end(),
                                                [](const std::string& n) { return n.rfind("latest", 0) != 0; });
  const std::string victim = runs + "/" + victim_name;
  ASSERT_TRUE(ListDir(victim + "/steps").has_value());
  ASSERT_TRUE(ReadAll(victim + "/meta.json").has_value());
  ASSERT_TRUE(ListDir(victim + "/steps/step_1/outputs/output").has_value());
  ASSERT_TRUE(ReadAll(victim + "/steps/step_1/outputs/output/data.json").has_value());
  ASSERT_TRUE(ReadAll(victim + "/steps/step_1/meta.json").has_value());
  ASSERT_TRUE(Lstat(victim + "/steps/step_1/output").has_value());
  ASSERT_FALSE(Lstat(runs + "/live-run").has_value());  // a negative entry for the kernel
  ASSERT_EQ(errno, ENOENT);
  ASSERT_TRUE(ReadAll(root_ + "/example_pipeline/meta.json").has_value());

  ZenmlWriter::Run run = w.StartRun("live-run", w.example_pipeline());
  const std::string live = runs + "/live-run";
  EXPECT_TRUE(PollUntil([&] { return Lstat(live).has_value(); })) << "a new run did not appear";
  EXPECT_TRUE(PollUntil([&] { return ReadLink(runs + "/latest").value_or("") == "live-run"; }))
      << "latest: " << Seen(runs + "/latest");
  EXPECT_TRUE(PollUntil([&] {
    const json m = ReadJson(live + "/meta.json");
    return Get(m, "status") == "running" && Get(m, "end_time").is_null();
  })) << "run meta.json: " << Seen(live + "/meta.json");
  EXPECT_TRUE(PollUntil([&] { return ListDir(live + "/steps") == std::vector<std::string>{"step_1", "step_2"}; }))
      << "steps of the new run";

  // Steps finish one by one and their outputs appear.
  for (int i = 0; i < 2; ++i) {
    w.FinishStep(run, i);
    const std::string step = live + "/steps/" + run.steps[static_cast<std::size_t>(i)].name;
    EXPECT_TRUE(PollUntil([&] {
      return ReadAll(step + "/outputs/output/data.json").value_or("") == run.steps[static_cast<std::size_t>(i)].data;
    })) << "output of " << step << ": " << Seen(step + "/outputs/output/data.json");
    EXPECT_TRUE(PollUntil([&] { return ReadLink(step + "/output").value_or("") == "outputs/output"; }))
        << step << "/output: " << Seen(step + "/output");
    EXPECT_TRUE(PollUntil([&] {
      const json m = ReadJson(step + "/meta.json");
      return Get(m, "status") == "completed" && Get(m, "end_time").is_string() &&
             Get(m, "outputs") == json::array({"output"});
    })) << "step meta.json: " << Seen(step + "/meta.json");
  }

  // runs/latest-completed names the newest completed run: not this one until it finishes.
  EXPECT_NE(ReadLink(runs + "/latest-completed").value_or(""), "live-run");
  // The run finishes: status, end time and duration appear in its meta.json.
  w.FinishRun(run);
  EXPECT_TRUE(PollUntil([&] { return ReadLink(runs + "/latest-completed").value_or("") == "live-run"; }))
      << "latest-completed: " << Seen(runs + "/latest-completed");
  EXPECT_TRUE(PollUntil([&] {
    const json m = ReadJson(live + "/meta.json");
    return Get(m, "status") == "completed" && Get(m, "end_time").is_string() && Get(m, "duration_s").is_number();
  })) << "a finished run's meta.json still says: " << Seen(live + "/meta.json");
  // The size the kernel holds may be the previous document's for up to one refresh after
  // a change (an attribute reply racing the invalidation); then stat and content agree.
  std::string seen_sizes;
  EXPECT_TRUE(PollUntil([&] {
    struct stat st;
    const auto text = ReadAll(live + "/meta.json");
    if (stat((live + "/meta.json").c_str(), &st) != 0 || !text) return false;
    seen_sizes = std::to_string(st.st_size) + " vs " + std::to_string(text->size());
    return static_cast<std::size_t>(st.st_size) == text->size();
  })) << "stat and content of meta.json disagree: " << seen_sizes;
  EXPECT_TRUE(PollUntil([&] {
    const json m = ReadJson(root_ + "/example_pipeline/meta.json");
    const json r = Get(m, "runs");
    return r.is_array() && !r.empty() && r.back() == "live-run" && Get(m, "latest_run") == "live-run";
  })) << "pipeline meta.json: " << Seen(root_ + "/example_pipeline/meta.json");

  // A new pipeline with a run appears at the root and in the root's meta.json.
  const std::string pipeline = w.AddPipeline("live_pipeline");
  w.StartRun("live-pipeline-run", pipeline, 1);
  EXPECT_TRUE(PollUntil([&] {
    auto root = ListDir(root_);
    return root && std::find(root->begin(), root->end(), "live_pipeline") != root->end();
  })) << "a new pipeline did not appear";
  EXPECT_TRUE(PollUntil([&] {
    const json m = ReadJson(root_ + "/meta.json");
    const json p = Get(m, "pipelines");
    return p.is_array() && !p.empty() && p.back() == "live_pipeline";
  })) << "root meta.json: " << Seen(root_ + "/meta.json");
  EXPECT_EQ(ReadLink(root_ + "/live_pipeline/runs/latest").value_or(""), "live-pipeline-run");

  // Deletions: an old finished run and the live one (finished, so cached for long now).
  ASSERT_TRUE(ReadAll(live + "/meta.json").has_value());
  ASSERT_TRUE(ListDir(live + "/steps/step_1/outputs/output").has_value());
  ASSERT_TRUE(ReadAll(live + "/steps/step_1/outputs/output/data.json").has_value());
  w.DeleteRun(w.RunId(victim_name));
  w.DeleteRun(run.id);
  ASSERT_EQ(w.failures(), 0);
  for (const std::string& gone : {victim, live}) {
    EXPECT_TRUE(PollUntil([&] { return !Lstat(gone).has_value() && errno == ENOENT; }))
        << gone << " is still there: " << Seen(gone);
    EXPECT_TRUE(PollUntil([&] { return !Lstat(gone + "/meta.json").has_value(); }))
        << gone << "/meta.json is still there";
    EXPECT_TRUE(PollUntil([&] { return !ReadAll(gone + "/steps/step_1/outputs/output/data.json").has_value(); }))
        << "an artifact of a deleted run still reads";
    EXPECT_TRUE(PollUntil([&] { return !ListDir(gone + "/steps").has_value(); }))
        << "the steps of a deleted run still list";
    auto listed = ListDir(runs);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(std::count(listed->begin(), listed->end(), fs::path(gone).filename().string()), 0);
  }
  EXPECT_TRUE(PollUntil([&] {
    const json m = ReadJson(root_ + "/example_pipeline/meta.json");
    const json runs_listed = Get(m, "runs");
    if (!runs_listed.is_array()) return false;
    for (const json& r : runs_listed) {
      if (r == victim_name || r == "live-run") return false;
    }
    return true;
  })) << "pipeline meta.json still lists a deleted run: " << Seen(root_ + "/example_pipeline/meta.json");
  EXPECT_TRUE(PollUntil([&] { return ReadLink(runs + "/latest").value_or("live-run") != "live-run"; }))
      << "latest names a deleted run";
  ExpectDaemonAnswers();
}

// A finished run's files are cached for long, so when another run is deleted, every
// meta.json that named it (a cached step's original_step_run and inputs, an output's
// producer) must be invalidated too: stat's size must stay exact (SPEC §3) and no path
// may name the deleted run.
TEST_F(LiveTest, MetaJsonThatNamesADeletedRunIsRefreshed) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ZenmlWriter w(store_);
  // A cached step whose original is in another run of the same pipeline.
  const auto row = w.Row(
      "SELECT p.name, r.name, s.name, o_r.name FROM step_run s JOIN pipeline_run r ON r.id = s.pipeline_run_id "
      "JOIN pipeline p ON p.id = r.pipeline_id JOIN step_run o ON o.id = s.original_step_run_id "
      "JOIN pipeline_run o_r ON o_r.id = o.pipeline_run_id WHERE o_r.id != r.id ORDER BY s.rowid DESC LIMIT 1");
  ASSERT_EQ(row.size(), 4u) << "the demo store has no cached step";
  const std::string step = root_ + "/" + row[0] + "/runs/" + row[1] + "/steps/" + row[2];
  const std::string deleted = "runs/" + row[3] + "/";
  std::vector<std::string> metas = {step + "/meta.json"};
  for (const std::string& out : ListDir(step + "/outputs").value_or(std::vector<std::string>{})) {
    metas.push_back(step + "/outputs/" + out + "/meta.json");
  }
  // lstat after readdir, as `ls -l` does: the kernel caches the sizes (a finished run's).
  // Nothing reads the files before the deletion: after a read the kernel asks for
  // attributes again on its own, which would hide a missing invalidation.
  std::map<std::string, off_t> old_size;
  for (const std::string& m : metas) {
    ASSERT_TRUE(ListDir(m.substr(0, m.rfind('/'))).has_value());
    auto st = Lstat(m);
    ASSERT_TRUE(st.has_value()) << m;
    old_size[m] = st->st_size;
  }

  w.DeleteRun(w.RunId(row[3]));
  ASSERT_TRUE(PollUntil([&] { return !Lstat(root_ + "/" + row[0] + "/" + deleted).has_value(); }))
      << "the deleted run is still listed";
  for (const std::string& m : metas) {
    // Only stat while waiting: a read to a short end of file would fix the kernel's size
    // by itself and hide a missing invalidation.
    // The refresher tells the kernel within one interval (0.5 s); ten intervals is ample.
    off_t size = old_size[m];
    PollUntil(
        [&] {
          auto st = Lstat(m);
          size = st ? st->st_size : -1;
          return size != old_size[m];
        },
        5);
    const std::string text = ReadAll(m).value_or("<unreadable>");
    EXPECT_EQ(static_cast<std::size_t>(size), text.size())
        << m << ": stat says " << size << " bytes (" << old_size[m] << " before the deletion), a read gives "
        << text.size();
    EXPECT_EQ(text.find(deleted), std::string::npos) << m << " still names the deleted run";
  }
  ExpectDaemonAnswers();
}

// The demo's iris_baseline version ({id}) and the first step of example_pipeline ({id,
// pipeline, run, step names}), for a test that makes the step read the version.
void IrisBaselineAndAReader(ZenmlWriter& w, std::vector<std::string>* version, std::vector<std::string>* reader) {
  *version = w.Row("SELECT v.id FROM artifact_version v JOIN artifact a ON a.id = v.artifact_id "
                   "WHERE a.name = 'iris_baseline'");
  ASSERT_EQ(version->size(), 1u) << "the demo registers iris_baseline by hand";
  *reader = w.Row("SELECT s.id, p.name, r.name, s.name FROM step_run s JOIN pipeline_run r ON r.id = "
                  "s.pipeline_run_id JOIN pipeline p ON p.id = r.pipeline_id WHERE p.name = "
                  "'example_pipeline' ORDER BY s.rowid LIMIT 1");
  ASSERT_EQ(reader->size(), 4u);
}

// An output's meta.json names the steps that read its version (`consumers`): a step that
// starts reading it while mounted shows there after the refresh, the size stat gives
// included (the refresher invalidates the document; a finished run's is cached long).
TEST_F(LiveTest, ConsumersFollowAStepThatStartsReadingTheVersion) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ZenmlWriter w(store_);
  std::vector<std::string> version, reader;
  ASSERT_NO_FATAL_FAILURE(IrisBaselineAndAReader(w, &version, &reader));
  const std::string dir = root_ + "/%artifacts/iris_baseline/1", meta = dir + "/meta.json";
  ASSERT_TRUE(ListDir(dir).has_value()) << std::strerror(errno);
  auto before = Lstat(meta);
  ASSERT_TRUE(before.has_value()) << std::strerror(errno);
  EXPECT_EQ(ReadAll(meta).value_or("").find("\"late_reader\""), std::string::npos);

  w.AddInput(reader[0], "late_reader", version[0]);
  // Only stat while waiting (a read would fix the kernel's size by itself).
  off_t size = before->st_size;
  EXPECT_TRUE(PollUntil(
      [&] {
        auto st = Lstat(meta);
        size = st ? st->st_size : -1;
        return size != before->st_size;
      },
      10))
      << "meta.json's size did not change";
  const std::string text = ReadAll(meta).value_or("<unreadable>");
  EXPECT_EQ(static_cast<std::size_t>(size), text.size());
  const json m = json::parse(text, nullptr, false);
  const json want = {{"step", reader[1] + "/runs/" + reader[2] + "/steps/" + reader[3]}, {"input", "late_reader"}};
  ASSERT_TRUE(m.is_object()) << text;
  const json consumers = Get(m, "consumers");
  EXPECT_NE(std::find(consumers.begin(), consumers.end(), want), consumers.end()) << consumers;
  // And the reader's inputs/ links back.
  const std::string link = root_ + "/" + want.at("step").get<std::string>() + "/inputs/late_reader";
  EXPECT_TRUE(PollUntil([&] { return ReadLink(link).has_value(); }, 10)) << link;
  EXPECT_EQ(ReadLink(link).value_or(""), "../../../../../../%artifacts/iris_baseline/1");
  ExpectDaemonAnswers();
}

// Whether `text` is one whole meta.json as zenfs renders it: a JSON object printed with
// two-space indents and a final newline. A document cut short does not parse; two
// versions spliced at a page boundary do not print back to the same bytes.
bool IsWholeDocument(const std::string& text) {
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  return j.is_object() && j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n" == text;
}

// A finished run's documents go through the page cache (one READ a file) yet still change:
// here an output gains a consumer. After the refresh the new text is read whole, and stat
// and `wc -c` give its size; a reader that held the file open across the change reads the
// version it opened, whole, while new opens read the new one.
TEST_F(LiveTest, ChangedDocumentOfAFinishedRunIsReadWhole) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ZenmlWriter w(store_);
  std::vector<std::string> version, reader;
  ASSERT_NO_FATAL_FAILURE(IrisBaselineAndAReader(w, &version, &reader));
  const std::string meta = root_ + "/%artifacts/iris_baseline/1/meta.json";
  // Read twice: the second read comes from the page cache.
  const std::string old_text = ReadAll(meta).value_or("<unreadable>");
  ASSERT_TRUE(IsWholeDocument(old_text)) << old_text;
  ASSERT_EQ(ReadAll(meta).value_or("<unreadable>"), old_text);
  ASSERT_EQ(old_text.find("\"late_reader\""), std::string::npos);

  // The holder reads the first bytes before the change and the rest after it.
  const int fd = open(meta.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string held(40, '\0');
  ASSERT_EQ(read(fd, held.data(), held.size()), static_cast<ssize_t>(held.size())) << std::strerror(errno);

  w.AddInput(reader[0], "late_reader", version[0]);
  std::string new_text;
  EXPECT_TRUE(PollUntil(
      [&] {
        new_text = ReadAll(meta).value_or("");
        EXPECT_TRUE(new_text.empty() || IsWholeDocument(new_text)) << "a torn document:\n" << new_text;
        return new_text.find("\"late_reader\"") != std::string::npos;
      },
      20))
      << "the new consumer never showed; the document reads:\n" << new_text;
  ASSERT_TRUE(IsWholeDocument(new_text)) << new_text;
  ASSERT_NE(new_text.size(), old_text.size());

  EXPECT_TRUE(ReadUpTo(fd, &held)) << std::strerror(errno);
  close(fd);
  EXPECT_EQ(held, old_text) << "the holder did not read the version it opened, whole";

  // With the holder gone, stat catches up (within its attribute timeout) and stays right.
  off_t size = -1;
  EXPECT_TRUE(PollUntil(
      [&] {
        auto st = Lstat(meta);
        size = st ? st->st_size : -1;
        return size == static_cast<off_t>(new_text.size());
      },
      20))
      << "stat says " << size << ", the document has " << new_text.size() << " bytes";
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(ReadAll(meta).value_or("<unreadable>"), new_text);
    const CommandResult wc = RunCommand({"wc", "-c", meta});
    EXPECT_EQ(wc.exit_code, 0) << wc.err;
    EXPECT_EQ(wc.out, std::to_string(new_text.size()) + " " + meta + "\n");
    auto st = Lstat(meta);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->st_size, static_cast<off_t>(new_text.size()));
  }
  ExpectDaemonAnswers();
}

// ---------------------------------------------------------------- (b) tail -f

// SPEC §4: `tail -f` of a running step's logs follows it: a reader at end of file reads
// the new bytes from its old offset, and stat's size catches up.
TEST_P(LiveJournalTest, RunningStepLogCanBeFollowed) {
  ZenmlWriter w(store_);
  ZenmlWriter::Run run = w.StartRun("log-run", w.example_pipeline(), 1);
  ASSERT_EQ(w.failures(), 0);
  const std::string logs = root_ + "/example_pipeline/runs/log-run/steps/step_1/logs";
  const std::string disk = run.steps[0].log_path;
  ASSERT_TRUE(PollUntil([&] { return Lstat(logs).has_value(); })) << "the running step's logs did not appear";

  const int fd = open(logs.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string seen;
  auto read_more = [&] {  // reads from the current offset to end of file
    char buf[65536];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n == 0;
      seen.append(buf, static_cast<std::size_t>(n));
    }
  };
  ASSERT_TRUE(read_more()) << std::strerror(errno);
  EXPECT_EQ(seen, "line 1\n");

  std::string expected = "line 1\n";
  for (const std::string& more : {std::string("line 2\n"), std::string(100000, 'x') + "\n", std::string("end\n")}) {
    AppendToFile(disk, more);
    expected += more;
    EXPECT_TRUE(PollUntil([&] { return read_more() && seen.size() >= expected.size(); }))
        << "a reader at end of file got " << seen.size() << " bytes, the log has " << expected.size();
    EXPECT_EQ(seen, expected);
    EXPECT_TRUE(PollUntil([&] {
      struct stat st;
      return stat(logs.c_str(), &st) == 0 && static_cast<std::size_t>(st.st_size) == expected.size();
    })) << "stat size of a growing log did not catch up";
  }
  // A fresh reader sees the whole log, and pread at the old offsets agrees.
  EXPECT_EQ(ReadAll(logs).value_or("?"), expected);
  char buf[16];
  EXPECT_EQ(pread(fd, buf, 7, 7), 7);
  EXPECT_EQ(std::string(buf, 7), "line 2\n");
  close(fd);

  // The step finishes; its log stays readable.
  w.FinishStep(run, 0);
  w.FinishRun(run);
  EXPECT_TRUE(PollUntil(
      [&] { return Get(ReadJson(root_ + "/example_pipeline/runs/log-run/meta.json"), "status") == "completed"; }));
  EXPECT_EQ(ReadAll(logs).value_or("?"), expected);
  ExpectDaemonAnswers();
}

// ---------------------------------------------------------------- (c) open files

// SPEC §4: a file already open when its run is deleted keeps working or fails with EIO or
// ESTALE; never a crash, and the daemon answers afterwards.
TEST_F(LiveTest, OpenFilesSurviveTheirRunsDeletion) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "3M"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ZenmlWriter w(store_);
  const std::string example = root_ + "/example_pipeline/runs/" + ReadLink(root_ + "/example_pipeline/runs/latest").value_or("?");
  const std::string training = root_ + "/training_pipeline/runs/" + ReadLink(root_ + "/training_pipeline/runs/latest").value_or("?");
  std::string model;
  for (const std::string& out : ListDir(training + "/steps/train_model/outputs").value_or(std::vector<std::string>{})) {
    if (Lstat(training + "/steps/train_model/outputs/" + out + "/model.bin")) {
      model = training + "/steps/train_model/outputs/" + out + "/model.bin";
    }
  }
  ASSERT_FALSE(model.empty()) << "no model.bin in " << training;
  std::vector<std::string> files = {example + "/meta.json", example + "/steps/step_1/meta.json",
                                    example + "/steps/step_1/outputs/output/data.json", training + "/meta.json", model};
  for (const std::string& logs : {example + "/steps/step_1/logs", training + "/steps/train_model/logs"}) {
    if (Lstat(logs)) files.push_back(logs);
  }
  struct OpenedFile {
    std::string path, whole;  // whole: its bytes read before the deletion, in one go
    int fd = -1;
    std::string got;          // read through the descriptor opened before the deletion
  };
  std::vector<OpenedFile> open_files;
  for (const std::string& f : files) {
    OpenedFile o{f, ReadAll(f).value_or(""), open(f.c_str(), O_RDONLY | O_CLOEXEC), ""};
    ASSERT_GE(o.fd, 0) << f << ": " << std::strerror(errno);
    ASSERT_FALSE(o.whole.empty()) << f;
    char buf[100];
    const ssize_t n = read(o.fd, buf, sizeof buf);
    ASSERT_GT(n, 0) << f;
    o.got.assign(buf, static_cast<std::size_t>(n));
    open_files.push_back(std::move(o));
  }
  DIR* steps_dir = opendir((example + "/steps").c_str());
  ASSERT_NE(steps_dir, nullptr);

  w.DeleteRun(w.RunId(fs::path(example).filename().string()));
  w.DeleteRun(w.RunId(fs::path(training).filename().string()));
  ASSERT_EQ(w.failures(), 0);
  EXPECT_TRUE(PollUntil([&] { return !Lstat(example).has_value() && !Lstat(training).has_value(); }))
      << "deleted runs are still there";

  for (OpenedFile& o : open_files) {
    SCOPED_TRACE(o.path);
    struct stat st;
    const int stat_err = ErrnoOf(fstat(o.fd, &st));
    EXPECT_TRUE(stat_err == 0 || stat_err == EIO || stat_err == ESTALE)
        << "fstat of an open file whose run was deleted: " << std::strerror(stat_err);
    int read_err = 0;
    char buf[65536];
    for (;;) {
      const ssize_t n = read(o.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read_err = errno;
        break;
      }
      if (n == 0) break;
      o.got.append(buf, static_cast<std::size_t>(n));
    }
    if (read_err == 0) {
      EXPECT_EQ(o.got.size(), o.whole.size()) << "read through an open descriptor ended early";
      EXPECT_TRUE(o.got == o.whole) << "the bytes changed under an open descriptor";
    } else {
      EXPECT_TRUE(read_err == EIO || read_err == ESTALE) << "read failed with " << std::strerror(read_err);
    }
    close(o.fd);
  }
  errno = 0;
  while (dirent* e = readdir(steps_dir)) (void)e;  // entries or an error, both fine
  closedir(steps_dir);
  ExpectDaemonAnswers();
}

// ---------------------------------------------------------------- (d) stress

// Shared state of the stress test's threads.
struct StressState {
  std::atomic<bool> stop{false};
  std::atomic<long> ops{0}, allowed_errors{0}, unexpected_errors{0}, mismatches{0}, walks{0};
  std::mutex mu;
  std::set<std::string> touched;          // run names the writer added, changed or deleted
  std::vector<std::string> recent;        // the runs the writer worked on last, newest last
  std::vector<std::string> samples;       // the first unexpected errors, for the report
  std::map<std::string, std::string> disk;  // artifact file bytes by disk path (immutable)

  bool Touched(const std::string& rel) {
    std::string run;
    if (rel.rfind("%artifacts/", 0) == 0) {
      // rel: "%artifacts/<run>::<step>::output/..." (the writer names artifacts so): its
      // versions come and go with their run.
      const std::size_t start = std::string("%artifacts/").size();
      const std::size_t end = rel.find("::", start);
      if (end == std::string::npos) return false;
      run = rel.substr(start, end - start);
    } else {
      // rel: "<pipeline>/runs/<run>/..."
      const std::size_t runs = rel.find("/runs/");
      if (runs == std::string::npos) return false;
      const std::size_t start = runs + 6;
      run = rel.substr(start, rel.find('/', start) - start);
    }
    std::lock_guard<std::mutex> lock(mu);
    return touched.count(run) != 0;
  }
  void Sample(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    if (samples.size() < 20) samples.push_back(line);
  }
  // The bytes of a file on disk, read once.
  std::optional<std::string> Disk(const std::string& path) {
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = disk.find(path);
      if (it != disk.end()) return it->second;
    }
    bool ok = false;
    std::string bytes = ReadFile(path, &ok);
    if (!ok) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu);
    disk[path] = bytes;
    return bytes;
  }
};

// One reader: walks the whole tree (readdir, lstat, readlink, read every file), checks
// meta.json parses and artifact bytes equal the files on disk. Errors are allowed only
// as ENOENT/ESTALE below runs the writer touched.
class StressReader {
 public:
  StressReader(const std::string& root, StressState& state) : root_(root), s_(state) {}

  void Run() {
    while (!s_.stop.load()) {
      Dir("", "");
      ++s_.walks;
    }
  }

  // Reads, again and again, the documents of the runs the writer worked on last, each
  // across whatever change comes (ReadHeld): a run's own (running, then finished), its
  // steps' and its first output's (which gains a consumer when the next run reads it).
  void Focus() {
    focus_ = true;
    while (!s_.stop.load()) {
      std::vector<std::string> runs;
      {
        std::lock_guard<std::mutex> lock(s_.mu);
        runs = s_.recent;
      }
      bool any = false;
      for (const std::string& run : runs) {
        const std::string base = "example_pipeline/runs/" + run;
        for (const std::string& rel : {base + "/meta.json", base + "/steps/step_1/meta.json",
                                       base + "/steps/step_2/meta.json", base + "/steps/step_1/outputs/output/meta.json"}) {
          if (s_.stop.load()) return;
          auto st = Lstat(root_ + "/" + rel);
          if (!st) continue;  // not shown yet, or gone: the walkers check what shows
          any = true;
          File(rel, *st, "");
        }
      }
      if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  // `uri`: the artifact's location on disk when `rel` is inside an output folder.
  void Dir(const std::string& rel, const std::string& uri) {
    if (s_.stop.load()) return;
    const std::string path = rel.empty() ? root_ : root_ + "/" + rel;
    ++s_.ops;
    auto names = ListDir(path);
    if (!names) return Error("readdir", rel, errno);
    std::string out_uri = uri;
    const bool output_dir = IsOutputDir(rel);
    if (output_dir) {
      ++s_.ops;
      const json m = ReadJson(path + "/meta.json");
      if (!m.is_object()) return Error("read", rel + "/meta.json", errno == 0 ? EINVAL : errno);
      const json u = Get(m, "uri");
      out_uri = u.is_string() ? u.get<std::string>() : "";
    }
    for (const std::string& name : *names) {
      if (s_.stop.load()) return;
      const std::string child = rel.empty() ? name : rel + "/" + name;
      ++s_.ops;
      auto st = Lstat(root_ + "/" + child);
      if (!st) {
        Error("lstat", child, errno);
        continue;
      }
      if (S_ISDIR(st->st_mode)) {
        Dir(child, out_uri);
      } else if (S_ISLNK(st->st_mode)) {
        ++s_.ops;
        if (!ReadLink(root_ + "/" + child)) Error("readlink", child, errno);
      } else {
        File(child, *st, out_uri);
      }
    }
  }

  void File(const std::string& rel, const struct stat& st, const std::string& uri) {
    ++s_.ops;
    const std::string name = rel.substr(rel.rfind('/') + 1);
    // The focus reader reads documents across a change: the first half, other opens,
    // then the rest (the walkers read at once, to get through the tree).
    const bool hold = focus_ && name == "meta.json";
    auto data = hold ? ReadHeld(root_ + "/" + rel) : ReadAll(root_ + "/" + rel);
    if (!data) return Error("read", rel, errno);
    if (name == "meta.json" && !InsideArtifact(rel)) {
      // Every document, of touched runs too (running, finishing, gaining consumers while
      // read): one whole version, never cut at an old size nor spliced from two.
      if (!IsWholeDocument(*data)) {
        Mismatch(rel, "meta.json is not one whole document (" + std::to_string(data->size()) + " bytes)", true);
      }
      // Only a run nobody touches is sure to keep its size between stat and read.
      if (rel.find("/runs/") != std::string::npos && !s_.Touched(rel) && EndsWith(rel, "/meta.json") &&
          static_cast<std::size_t>(st.st_size) != data->size()) {
        Mismatch(rel, "meta.json size " + std::to_string(data->size()) + " != stat " + std::to_string(st.st_size));
      }
      return;
    }
    if (!InsideArtifact(rel) || uri.empty()) return;  // logs grow; they are not compared
    // A visualization's file is where its own URI says (mount_test compares those bytes);
    // here it only has to read.
    if (RelInOutput(rel).rfind("%visualizations/", 0) == 0) return;
    // The artifact's file on disk: the URI itself (a single-file artifact) or below it.
    struct stat dst;
    if (::stat(uri.c_str(), &dst) != 0) return Mismatch(rel, "its URI " + uri + " is gone from disk");
    const std::string disk = S_ISDIR(dst.st_mode) ? uri + "/" + RelInOutput(rel) : uri;
    auto want = s_.Disk(disk);
    if (!want) return Mismatch(rel, "cannot read " + disk);
    if (*want != *data) {
      Mismatch(rel, "bytes differ from " + disk + " (" + std::to_string(data->size()) + " vs " +
                        std::to_string(want->size()) + ")");
    }
  }

  // While a descriptor of `path` is held: opens of it on the other side of a change, each
  // read whole, for about 20 ms (widening a window, not synchronizing: the test passes
  // with any timing).
  void Meanwhile(const std::string& path) {
    for (int i = 0; i < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++s_.ops;
      auto data = ReadAll(path);
      if (data && !IsWholeDocument(*data)) {
        Mismatch(path.substr(root_.size() + 1), "meta.json is not one whole document (" +
                 std::to_string(data->size()) + " bytes), read while another descriptor held it", true);
      }
    }
  }

  // The whole file through one descriptor, held open after its first half (Meanwhile): a
  // splice of two versions there is no longer one document.
  std::optional<std::string> ReadHeld(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    struct stat st;
    const std::size_t half = fstat(fd, &st) == 0 && st.st_size > 128 ? static_cast<std::size_t>(st.st_size) / 2 : 64;
    bool ok = ReadUpTo(fd, &out, half);
    if (ok) {
      Meanwhile(path);
      ok = ReadUpTo(fd, &out);
    }
    const int err = errno;
    close(fd);
    errno = err;
    if (!ok) return std::nullopt;
    return out;
  }

  static bool EndsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  // "<p>/runs/<r>/steps/<s>/outputs/<o>"
  static bool IsOutputDir(const std::string& rel) {
    const std::size_t at = rel.rfind("/outputs/");
    return at != std::string::npos && rel.find('/', at + 9) == std::string::npos &&
           rel.find("/outputs/") == at;
  }
  // Below an output folder, other than its meta.json.
  static bool InsideArtifact(const std::string& rel) {
    const std::size_t at = rel.find("/outputs/");
    if (at == std::string::npos) return false;
    const std::size_t slash = rel.find('/', at + 9);
    return slash != std::string::npos && rel.substr(slash + 1) != "meta.json";
  }
  // The path below the output folder ("a/b.txt" of ".../outputs/o/a/b.txt").
  static std::string RelInOutput(const std::string& rel) {
    const std::size_t at = rel.find("/outputs/");
    if (at == std::string::npos) return "";
    const std::size_t slash = rel.find('/', at + 9);
    return slash == std::string::npos ? "" : rel.substr(slash + 1);
  }

  void Error(const char* op, const std::string& rel, int err) {
    if ((err == ENOENT || err == ESTALE) && s_.Touched(rel)) {
      ++s_.allowed_errors;
      return;
    }
    ++s_.unexpected_errors;
    s_.Sample(std::string(op) + " " + rel + ": " + std::strerror(err));
  }
  // `always`: also below runs the writer touched (a document's wholeness); other checks
  // compare with what a run that changes under the reader may no longer be.
  void Mismatch(const std::string& rel, const std::string& what, bool always = false) {
    if (!always && s_.Touched(rel)) return;
    ++s_.mismatches;
    s_.Sample(rel + ": " + what);
  }

  const std::string root_;
  StressState& s_;
  bool focus_ = false;  // Focus: documents are read across changes (ReadHeld)
};

double StressSeconds() {
  const char* v = std::getenv("ZENFS_STRESS_SECONDS");
  if (v != nullptr && std::atof(v) > 0) return std::atof(v);
  return 45;
}

// Eight readers walk the whole tree while a writer adds runs (and deletes some); the
// daemon must serve every read byte-exact, fail only on what the writer touched, and stay
// bounded in memory. Prints "stress: N ops, E errors, peak RSS X MiB".
TEST_F(LiveTest, StressReadersAndAWriter) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--runs", "20", "--artifact-bytes", "1M"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const double seconds = StressSeconds();
  StressState state;
  std::atomic<long> peak_kib{0}, runs_added{0}, runs_deleted{0};
  const pid_t daemon = mount_->pid();

  std::thread sampler([&] {
    while (!state.stop.load()) {
      if (auto kib = RssKiB(daemon)) peak_kib = std::max(peak_kib.load(), *kib);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<std::thread> readers;
  std::vector<std::unique_ptr<StressReader>> reader_objs;
  for (int i = 0; i < 8; ++i) {
    reader_objs.push_back(std::make_unique<StressReader>(root_, state));
    readers.emplace_back([r = reader_objs.back().get()] { r->Run(); });
  }
  reader_objs.push_back(std::make_unique<StressReader>(root_, state));
  readers.emplace_back([r = reader_objs.back().get()] { r->Focus(); });
  std::thread writer([&] {
    ZenmlWriter w(store_);
    std::vector<ZenmlWriter::Run> added;
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    for (int k = 0; Clock::now() < deadline; ++k) {
      const std::string name = "stress-" + std::to_string(k);
      {
        std::lock_guard<std::mutex> lock(state.mu);
        state.touched.insert(name);
        state.recent.push_back(name);
        if (state.recent.size() > 3) state.recent.erase(state.recent.begin());
      }
      // Paced so that readers meet runs running, finishing and finished (pacing, not
      // synchronization).
      const auto pace = std::chrono::milliseconds(50);
      ZenmlWriter::Run run = w.StartRun(name, w.example_pipeline());
      std::this_thread::sleep_for(pace);
      w.FinishStep(run, 0);
      std::this_thread::sleep_for(pace);
      w.FinishStep(run, 1);
      std::this_thread::sleep_for(pace);
      w.FinishRun(run, k % 7 == 3 ? "failed" : "completed");
      // A finished run's output gains a consumer: its documents change after the run.
      if (!added.empty()) {
        const ZenmlWriter::Run& earlier = added.back();
        const auto v = w.Row("SELECT artifact_id FROM step_run_output_artifact WHERE step_id = '" +
                             earlier.steps[0].id + "'");
        if (!v.empty()) w.AddInput(run.steps[1].id, "earlier_" + std::to_string(k), v[0]);
      }
      added.push_back(run);
      ++runs_added;
      if (k % 5 == 4) {  // delete an earlier run now and then
        w.DeleteRun(added[added.size() - 3].id);
        ++runs_deleted;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(150));  // pacing, not synchronization
    }
    EXPECT_EQ(w.failures(), 0);
  });
  writer.join();
  state.stop = true;
  for (std::thread& t : readers) t.join();
  sampler.join();

  const long peak_mib = (peak_kib.load() + 1023) / 1024;
  const long errors = state.allowed_errors.load() + state.unexpected_errors.load() + state.mismatches.load();
  std::printf("stress: %ld ops, %ld errors, peak RSS %ld MiB (%.0f s; %ld tree walks; %ld runs added, %ld deleted; "
              "%ld ENOENT/ESTALE on touched runs, %ld unexpected errors, %ld mismatches)\n",
              state.ops.load(), errors, peak_mib, seconds, state.walks.load(), runs_added.load(), runs_deleted.load(),
              state.allowed_errors.load(), state.unexpected_errors.load(), state.mismatches.load());
  std::string samples;
  for (const std::string& s : state.samples) samples += "\n  " + s;
  EXPECT_EQ(state.unexpected_errors.load(), 0) << samples;
  EXPECT_EQ(state.mismatches.load(), 0) << samples;
  // Every reader finished at least one whole walk (a sanitizer build is ~10x slower, so
  // the bound is on progress, not speed).
  EXPECT_GE(state.walks.load(), 8) << "the readers hardly got through the tree";
  if (!kSanitized) {
    EXPECT_LT(peak_mib, 256) << "the daemon's peak RSS";
  }
  ExpectDaemonAnswers();

  // Once the writer stops, the mount settles on exactly the store's runs.
  ZenmlWriter w(store_);
  const std::set<std::string> want = w.RunNames(w.example_pipeline());
  std::set<std::string> got;
  EXPECT_TRUE(PollUntil([&] {
    auto names = ListDir(root_ + "/example_pipeline/runs");
    got = names ? std::set<std::string>(names->begin(), names->end()) : std::set<std::string>{};
    std::erase_if(got, [](const std::string& n) { return n.rfind("latest", 0) == 0; });  // and the views
    return got == want;
  })) << "the mount shows " << got.size() << " runs, the store holds " << want.size();
}

// ---------------------------------------------------------------- (e) SIGKILL

// A killed daemon leaves a dead mount ("Transport endpoint is not connected");
// `zenfs umount` clears it.
TEST_F(LiveTest, UmountClearsTheMountOfAKilledDaemon) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  ASSERT_TRUE(ReadAll(root_ + "/meta.json").has_value());
  ASSERT_TRUE(mount_->SignalAndWait(SIGKILL, 20).has_value());
  struct stat st;
  // statfs always reaches the daemon; stat may be answered from the attribute cache.
  struct statvfs vfs;
  ASSERT_EQ(ErrnoOf(statvfs(root_.c_str(), &vfs)), ENOTCONN);
  const CommandResult r = RunZenfs({"umount", mnt_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MountsAt(root_), 0) << "a mount is still on " << root_;
  EXPECT_EQ(ErrnoOf(stat(root_.c_str(), &st)), 0) << "the mountpoint still fails: " << std::strerror(errno);
}

// Takes down whatever is mounted on `path` (stacked mounts too) when it goes out of scope.
class UnmountAllOnExit {
 public:
  explicit UnmountAllOnExit(std::string path) : path_(std::move(path)) {}
  ~UnmountAllOnExit() {
    for (int i = 0; i < 5 && MountsAt(path_) > 0; ++i) RunCommand({"fusermount3", "-uz", path_}, 20);
  }

 private:
  std::string path_;
};

// After SIGKILL, `zenfs mount` on the same mountpoint replaces the dead mount; mounting
// over the new, live mount is exit 3.
TEST_F(LiveTest, BackgroundMountReplacesTheMountOfAKilledDaemon) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  UnmountAllOnExit cleanup(root_);
  ASSERT_TRUE(mount_->SignalAndWait(SIGKILL, 20).has_value());
  mount_->Disown();  // the dead mount stays for zenfs to replace
  // statfs always reaches the daemon; stat may be answered from the attribute cache.
  struct statvfs vfs;
  ASSERT_EQ(ErrnoOf(statvfs(root_.c_str(), &vfs)), ENOTCONN);

  const CommandResult r = RunZenfs({"mount", store_, mnt_}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MountedFsType(root_), "fuse.zenfs");
  EXPECT_EQ(MountsAt(root_), 1) << "the dead mount stayed stacked under the new one";
  EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value()) << std::strerror(errno);

  const CommandResult again = RunZenfs({"mount", store_, mnt_}, 60);
  EXPECT_EQ(again.exit_code, 3) << "mounting over a live zenfs mount: " << again.err;
  EXPECT_EQ(MountsAt(root_), 1);
  EXPECT_TRUE(ReadAll(root_ + "/meta.json").has_value()) << "the live mount was disturbed";

  const CommandResult down = RunZenfs({"umount", mnt_});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(MountsAt(root_), 0);
}

// ---------------------------------------------------------------- (f) SIGTERM under load

// SIGTERM while several threads read large files and meta.json in a loop: the daemon
// exits 0 within a bound, the mount is gone, and every reader gets data or an error.
TEST_F(LiveTest, SigtermDuringHeavyReadsExitsCleanly) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "16M"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string training =
      root_ + "/training_pipeline/runs/" + ReadLink(root_ + "/training_pipeline/runs/latest").value_or("?");
  std::string model, model_disk;
  for (const std::string& out : ListDir(training + "/steps/train_model/outputs").value_or(std::vector<std::string>{})) {
    const std::string dir = training + "/steps/train_model/outputs/" + out;
    if (Lstat(dir + "/model.bin")) {
      model = dir + "/model.bin";
      model_disk = Get(ReadJson(dir + "/meta.json"), "uri").get<std::string>() + "/model.bin";
    }
  }
  ASSERT_FALSE(model.empty());
  const std::string model_bytes = ReadFile(model_disk);
  ASSERT_EQ(model_bytes.size(), 16u << 20);
  const std::vector<std::string> targets = {model, training + "/meta.json", root_ + "/meta.json",
                                            training + "/steps/train_model/meta.json"};

  struct ReaderState {
    std::atomic<long> rounds{0};
    std::atomic<bool> finished{false};
    std::atomic<int> last_errno{0};
    std::atomic<long> corrupt{0};
  };
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<ReaderState>> states;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    states.push_back(std::make_unique<ReaderState>());
    ReaderState* rs = states.back().get();
    threads.emplace_back([&, rs, i] {
      std::vector<char> buf(1 << 20);
      while (!stop.load()) {
        const std::string& path = targets[static_cast<std::size_t>(i) % targets.size()];
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          rs->last_errno = errno;
          break;
        }
        std::size_t off = 0;
        bool failed = false;
        for (;;) {
          const ssize_t n = read(fd, buf.data(), buf.size());
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            rs->last_errno = errno;
            failed = true;
            break;
          }
          if (n == 0) break;
          if (path == model && std::memcmp(buf.data(), model_bytes.data() + off, static_cast<std::size_t>(n)) != 0) {
            ++rs->corrupt;
          }
          off += static_cast<std::size_t>(n);
        }
        close(fd);
        if (failed) break;
        if (path == model && off != model_bytes.size()) ++rs->corrupt;
        ++rs->rounds;
      }
      rs->finished = true;
    });
  }
  const bool all_reading = PollUntil([&] {
    for (const auto& rs : states) {
      if (rs->rounds.load() < 2 && !rs->finished.load()) return false;
    }
    return true;
  });
  EXPECT_TRUE(all_reading) << "the readers did not get going";

  const auto status = mount_->SignalAndWait(SIGTERM, 20);
  EXPECT_TRUE(status.has_value()) << "the daemon did not exit within 20 s of SIGTERM";
  if (status) {
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "exit status " << *status << "; log:\n" << mount_->DaemonLog();
  }
  EXPECT_EQ(MountsAt(root_), 0) << "still mounted after SIGTERM";
  stop = true;
  const bool readers_done = PollUntil([&] {
    for (const auto& rs : states) {
      if (!rs->finished.load()) return false;
    }
    return true;
  }, 20);
  EXPECT_TRUE(readers_done) << "a reader hangs after the daemon exited";
  std::string summary;
  for (const auto& rs : states) {
    summary += " " + std::to_string(rs->rounds.load()) + " rounds/" +
               (rs->last_errno.load() != 0 ? std::strerror(rs->last_errno.load()) : std::string("no error"));
    EXPECT_EQ(rs->corrupt.load(), 0) << "a reader got wrong bytes";
  }
  std::printf("sigterm readers:%s\n", summary.c_str());
  for (std::size_t i = 0; i < threads.size(); ++i) {
    if (states[i]->finished.load()) {
      threads[i].join();
    } else {
      threads[i].detach();  // hung in the kernel; reported above
    }
  }
}

// ---------------------------------------------------------------- (g) memory

void WalkAndRead(const std::string& dir, long* files) {
  auto names = ListDir(dir);
  if (!names) return;
  for (const std::string& n : *names) {
    const std::string p = dir + "/" + n;
    auto st = Lstat(p);
    if (!st) continue;
    if (S_ISDIR(st->st_mode)) {
      WalkAndRead(p, files);
    } else if (S_ISREG(st->st_mode)) {
      if (ReadAll(p)) ++*files;
    }
  }
}

// Walking the whole tree again and again does not grow the daemon.
TEST_F(LiveTest, MemoryStaysFlatOverRepeatedWalks) {
  if (kSanitized) GTEST_SKIP() << "RSS figures mean nothing under sanitizers";
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--runs", "150", "--artifact-bytes", "64K"}));
  ASSERT_NO_FATAL_FAILURE(MountIt());
  std::vector<long> rss;
  long files = 0;
  for (int i = 0; i < 5; ++i) {
    WalkAndRead(root_, &files);
    auto kib = RssKiB(mount_->pid());
    ASSERT_TRUE(kib.has_value());
    rss.push_back(*kib);
  }
  std::printf("memory: RSS after walks 1..5: %ld %ld %ld %ld %ld KiB (%ld files read)\n", rss[0], rss[1], rss[2],
              rss[3], rss[4], files);
  EXPECT_LT(rss[4] - rss[1], 16 * 1024) << "the daemon grew by " << (rss[4] - rss[1]) / 1024
                                        << " MiB between walk 2 and walk 5";
  ExpectDaemonAnswers();
}

// ---------------------------------------------------------------- hostile store values

// Runs `sql` on the store (before it is mounted, or as a writer would).
void ExecSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg << " in " << sql;
}

// The first column of every row of `sql`, as text.
std::vector<std::string> QueryTexts(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) return out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      out.push_back(t != nullptr ? t : "");
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// The id of the newest run of example_pipeline, in SQL.
constexpr const char* kNewestExampleRun =
    "SELECT id FROM pipeline_run WHERE pipeline_id = (SELECT id FROM pipeline WHERE name = "
    "'example_pipeline') ORDER BY rowid DESC LIMIT 1";

// The path of the newest run of example_pipeline, in the mount.
std::string LatestRun(const std::string& root) {
  auto target = ReadLink(root + "/example_pipeline/runs/latest");
  return root + "/example_pipeline/runs/" + target.value_or("?");
}

// A compressed bomb in every run_metadata value (tens of KB stored, 48 MiB
// inflated): meta.json stays small and valid and says the value was cut; the daemon
// stays small. A 3 MiB value (under the cap) opened 20 times at once is held once.
TEST_F(LiveTest, CompressedBombAndLargeValuesStayBounded) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  const std::string bomb = ZenmlCompressed("\"" + std::string(48u << 20, 'z') + "\"", 9);
  ASSERT_LT(bomb.size(), 1u << 20);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE run_metadata SET value = ?", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_blob(st, 1, bomb.data(), static_cast<int>(bomb.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    EXPECT_GT(sqlite3_changes(db), 0) << "the demo store should have run metadata";
    sqlite3_close(db);
  }
  // A docstring of 3 MiB on every step: each step's meta.json is a large document.
  ExecSql(db_path_, "UPDATE step_run SET docstring = printf('%.*c', 3145728, 'd')");
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string run = LatestRun(root_);
  const auto before = RssKiB(mount_->pid());
  ASSERT_TRUE(before.has_value());

  auto text = ReadAll(run + "/meta.json");
  ASSERT_TRUE(text.has_value()) << std::strerror(errno);
  EXPECT_LT(text->size(), 64u << 10);
  const json doc = json::parse(*text, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << text->substr(0, 400);
  EXPECT_NE(text->find("cut by zenfs"), std::string::npos) << text->substr(0, 2000);

  const std::string step_meta = run + "/steps/step_1/meta.json";
  auto one = ReadAll(step_meta);
  ASSERT_TRUE(one.has_value());
  ASSERT_GT(one->size(), 3u << 20);
  ASSERT_TRUE(json::parse(*one, nullptr, false).is_object());
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    const int fd = open(step_meta.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    fds.push_back(fd);
  }
  for (int fd : fds) {
    std::string got;
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    EXPECT_EQ(got.size(), one->size());
  }
  const auto during = RssKiB(mount_->pid());
  for (int fd : fds) close(fd);
  ASSERT_TRUE(during.has_value());
  const auto peak = PeakRssKiB(mount_->pid());
  std::printf("bomb: RSS %ld KiB before, %ld KiB with 20 opens of a %zu-byte meta.json, peak %ld KiB\n", *before,
              *during, one->size(), peak.value_or(-1));
  if (!kSanitized) {
    // One copy is 3 MiB; twenty would be 60 MiB; an inflated bomb 48 MiB a value. What
    // one render leaves (the row, the JSON value, its text: ~9 MiB) stays in the malloc
    // arena of each worker thread that rendered it, so a few renders on different
    // threads measured 24-29 MiB: the bound sits between that and twenty copies.
    EXPECT_LT(*during - *before, 40 * 1024) << "20 opens grew the daemon by " << (*during - *before) / 1024 << " MiB";
    EXPECT_LT(peak.value_or(0), 160 * 1024) << "peak RSS";
  }
  ExpectDaemonAnswers();
}

// A stored plain value of 100 MB becomes the note; the daemon never holds it whole.
TEST_F(LiveTest, HugePlainValueBecomesANote) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  ExecSql(db_path_, "UPDATE step_run SET docstring = printf('%.*c', 100000000, 'h') "
                    "WHERE pipeline_run_id = (" + std::string(kNewestExampleRun) + ")");
  ASSERT_NO_FATAL_FAILURE(MountIt());
  const std::string runs = root_ + "/example_pipeline/runs/";
  bool seen = false;
  std::vector<std::string> steps;
  for (const std::string& run : ListDir(runs).value_or(std::vector<std::string>{})) {
    if (run.rfind("latest", 0) == 0) continue;  // latest and the status views
    for (const std::string& step : ListDir(runs + run + "/steps").value_or(std::vector<std::string>{})) {
      steps.push_back(runs + run + "/steps/" + step);
    }
  }
  ASSERT_FALSE(steps.empty());
  for (const std::string& step : steps) {
    auto text = ReadAll(step + "/meta.json");
    ASSERT_TRUE(text.has_value()) << step << ": " << std::strerror(errno);
    EXPECT_LT(text->size(), 1u << 20);
    const json doc = json::parse(*text, nullptr, false);
    ASSERT_TRUE(doc.is_object());
    if (doc["docstring"].is_string() && doc["docstring"].get<std::string>().find("cut by zenfs") != std::string::npos) {
      seen = true;
      EXPECT_NE(doc["docstring"].get<std::string>().find("100000000 bytes"), std::string::npos) << doc["docstring"];
    }
  }
  EXPECT_TRUE(seen) << "no step showed the note";
  const auto peak = PeakRssKiB(mount_->pid());
  ASSERT_TRUE(peak.has_value());
  std::printf("huge value: daemon peak RSS %ld KiB\n", *peak);
  if (!kSanitized) {
    EXPECT_LT(*peak, 60 * 1024) << "the daemon held the value";
  }
  ExpectDaemonAnswers();
}

// A run named to forge a log line and clear the terminal, whose step logs are missing
// (so the daemon names the run when a read fails): the daemon's stderr holds neither a
// raw control byte nor the forged line.
TEST_F(LiveTest, HostileNamesInLogLinesAreEscaped) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "0"}));
  const std::string run_id = QueryTexts(db_path_, kNewestExampleRun).at(0);
  ExecSql(db_path_, "UPDATE pipeline_run SET name = 'evil' || char(10) || ' zenfs[1] error: forged' || "
                    "char(27) || '[2J' WHERE id = '" + run_id + "'");
  const auto uris = QueryTexts(db_path_, "SELECT logs.uri FROM logs JOIN step_run ON step_run.id = "
                                         "logs.step_run_id WHERE step_run.pipeline_run_id = '" + run_id + "'");
  ASSERT_FALSE(uris.empty()) << "the demo store should have step logs";
  for (const std::string& uri : uris) std::filesystem::remove_all(uri);
  ASSERT_NO_FATAL_FAILURE(MountIt());
  std::string run;
  for (const std::string& name : ListDir(root_ + "/example_pipeline/runs").value_or(std::vector<std::string>{})) {
    if (name.find("forged") != std::string::npos) run = root_ + "/example_pipeline/runs/" + name;
  }
  ASSERT_FALSE(run.empty()) << "the hostile run is not listed";
  for (const std::string& step : ListDir(run + "/steps").value_or(std::vector<std::string>{})) {
    errno = 0;
    EXPECT_FALSE(ReadAll(run + "/steps/" + step + "/logs").has_value()) << step;
  }
  std::string log;
  EXPECT_TRUE(PollUntil([&] {
    log = mount_->DaemonLog();
    return log.find("forged") != std::string::npos;
  })) << "the daemon never logged the run's name:\n" << log;
  for (unsigned char c : log) {
    EXPECT_FALSE((c < 0x20 && c != '\n') || c == 0x7f) << "raw control byte " << static_cast<int>(c) << " in:\n" << log;
  }
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    EXPECT_NE(line.rfind(" zenfs[1]", 0), 0u) << "forged line: " << line;
    EXPECT_NE(line.rfind("zenfs[1]", 0), 0u) << "forged line: " << line;
  }
  ExpectDaemonAnswers();
}

// ---------------------------------------------------------------- the store is never written

// SHA-256 of every file in the store's folder (zenml.db and whatever lies beside it).
std::map<std::string, std::string> SumsBeside(const std::string& db_path) {
  std::map<std::string, std::string> sums;
  const auto dir = std::filesystem::path(db_path).parent_path();
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    sums[e.path().filename().string()] = e.is_regular_file() ? FileSha256(e.path().string()) : "not a file";
  }
  return sums;
}

class AtRestTest : public LiveTest, public ::testing::WithParamInterface<std::string> {};
INSTANTIATE_TEST_SUITE_P(JournalModes, AtRestTest, ::testing::Values("delete", "wal"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// Mounted, walked, read and unmounted: zenml.db and every file beside it unchanged, and
// no -journal, -wal or -shm file made (SQLite's read-only WAL access would make both).
TEST_P(AtRestTest, StoreAtRestIsNeverWritten) {
  ASSERT_NO_FATAL_FAILURE(MakeStore({"--artifact-bytes", "64K"}));
  ASSERT_NO_FATAL_FAILURE(SetJournalMode(db_path_, GetParam()));
  const auto before = SumsBeside(db_path_);
  ASSERT_EQ(before.count("zenml.db-wal"), 0u);
  ASSERT_NO_FATAL_FAILURE(MountIt());
  long files = 0;
  WalkAndRead(root_, &files);
  EXPECT_GT(files, 10);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    EXPECT_FALSE(std::filesystem::exists(db_path_ + suffix)) << suffix << " while mounted";
  }
  ExpectDaemonAnswers();
  mount_.reset();
  EXPECT_EQ(SumsBeside(db_path_), before);
}

}  // namespace
}  // namespace zenfs::testing
