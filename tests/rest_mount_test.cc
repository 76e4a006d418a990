// `zenfs ls URL` and `zenfs mount URL MNT` against the real ZenML 0.74 server over a demo
// store (tests/zenml_server.h): each way of giving credentials, the errors a user meets
// (exit 2, one line), secrets kept out of ps, logs and meta.json, and a live mount that
// follows runs written behind the server.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/fault_proxy.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"
#include "tests/zenml_server.h"

namespace zenfs::testing {
namespace {

using nlohmann::json;

bool PollUntil(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The lines of `text`.
std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    out.push_back(text.substr(at, nl - at));
  }
  return out;
}

// The documents of `tree` (zenfs ls output) that each cost the REST catalog a hydrated
// GET of their own when first read: meta.json of runs and steps (not through latest*; not
// of outputs, which cached steps share with their originals).
std::vector<std::string> DetailDocs(const std::string& tree) {
  std::vector<std::string> out;
  for (const std::string& line : LinesOf(tree)) {
    const std::size_t runs = line.find("/runs/");
    if (runs == std::string::npos || line.find("/latest", runs) != std::string::npos ||
        line.find("/outputs/", runs) != std::string::npos) {
      continue;
    }
    if (line.size() > 10 && line.compare(line.size() - 10, 10, "/meta.json") == 0) out.push_back(line);
  }
  return out;
}

// The fault tests' bound on one reader (--rest-timeout kFaultTimeout): three tries of at
// most that long each, backoff between them, and generous slack for a loaded machine.
// Without the option's bounds (a stalled request lives up to a minute) a reader takes
// minutes, so the bound can fail.
constexpr const char* kFaultTimeout = "1";
constexpr double kReaderBound = 25;

// Runs `sql` on the store the server serves.
void Sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 20000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// A copy of `pipeline`'s first run as run `name` (id `id`, running, no steps), written the
// way ZenML writes: into the database the server serves.
void CopyFirstRun(const std::string& db_path, const std::string& pipeline, const std::string& id,
                  const std::string& name) {
  Sql(db_path,
      "INSERT INTO pipeline_run (id, created, updated, name, orchestrator_run_id, start_time, end_time, status, "
      "orchestrator_environment, deployment_id, user_id, workspace_id, pipeline_id, model_version_id, "
      "pipeline_configuration, client_environment, stack_id, build_id, schedule_id, trigger_execution_id) "
      "SELECT '" + id + "', strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), '" + name +
          "', '" + id + "', strftime('%Y-%m-%d %H:%M:%f', 'now'), NULL, 'running', "
      "orchestrator_environment, deployment_id, user_id, workspace_id, pipeline_id, model_version_id, "
      "pipeline_configuration, client_environment, stack_id, build_id, schedule_id, trigger_execution_id "
      "FROM pipeline_run WHERE pipeline_id = (SELECT id FROM pipeline WHERE name = '" + pipeline + "') "
      "ORDER BY created LIMIT 1");
}

// The first column of the first row `sql` gives on the store the server serves ("" if none).
std::string One(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 20000);
  sqlite3_stmt* st = nullptr;
  std::string out;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
  if (st != nullptr && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

class RestMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = SharedZenmlServer();
    ASSERT_NE(server_, nullptr);
    dir_ = std::make_unique<TempDir>(MountTestRoot());
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto key = server_->CreateApiKey("mount-" + name);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
    key_file_ = dir_->path() + "/api-key";
    WriteFile(key_file_, key_ + "\n");
    chmod(key_file_.c_str(), 0600);
    const std::string demo = ZenmlEnvironment::DemoDir();
    roots_ = {"--artifact-root", demo + "/local_stores=" + demo + "/local_stores"};
    auto want = RunZenfs({"ls", demo});
    ASSERT_EQ(want.exit_code, 0) << want.err;
    want_ = want.out;
  }
  std::vector<std::string> Ls(std::vector<std::string> extra) {
    std::vector<std::string> args{"ls", server_->Url()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), roots_.begin(), roots_.end());
    return args;
  }

  // The server's URL mounted in the foreground with the test's key file, its artifact
  // root and `extra`.
  std::unique_ptr<Mount> MountServer(std::vector<std::string> extra) { return MountUrl(server_->Url(), extra); }
  std::unique_ptr<Mount> MountUrl(const std::string& url, std::vector<std::string> extra) {
    const std::string mnt = dir_->path() + "/mnt";
    mkdir(mnt.c_str(), 0755);
    extra.insert(extra.end(), {"--api-key-file", key_file_});
    extra.insert(extra.end(), roots_.begin(), roots_.end());
    return std::make_unique<Mount>(Mount::Options{url, mnt, extra, true, 120});
  }

  ZenmlServer* server_ = nullptr;
  std::unique_ptr<TempDir> dir_;
  std::string key_, key_file_, want_;
  std::vector<std::string> roots_;
};

TEST_F(RestMountTest, LsWithAnApiKeyFileShowsTheTreeOfTheStoreBehindTheServer) {
  auto r = RunZenfs(Ls({"--api-key-file", key_file_}), 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want_);
  EXPECT_EQ(r.err.find(key_), std::string::npos);
}

TEST_F(RestMountTest, TheEnvironmentsKeyWorksForItsServerOnly) {
  auto r = RunCommand({"env", "ZENML_STORE_URL=" + server_->Url() + "/", "ZENML_STORE_API_KEY=" + key_, ZenfsBinary(),
                       "ls", server_->Url(), roots_[0], roots_[1]},
                      120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want_);
  // A key meant for another server is not sent: this server then asks for credentials.
  auto other = RunCommand({"env", "ZENML_STORE_URL=http://elsewhere.invalid", "ZENML_STORE_API_KEY=" + key_,
                           ZenfsBinary(), "ls", server_->Url()},
                          120);
  EXPECT_EQ(other.exit_code, 2) << other.out;
  EXPECT_NE(other.err.find("credentials"), std::string::npos) << other.err;
}

TEST_F(RestMountTest, AConfigDirectoryOfARestStoreTakesItsCredentialsYaml) {
  const std::string cfg = dir_->path() + "/zenml";
  ASSERT_EQ(mkdir(cfg.c_str(), 0700), 0);
  WriteFile(cfg + "/config.yaml", "active_stack_id: 00000000-0000-0000-0000-000000000000\nstore:\n  type: rest\n  url: " +
                                      server_->Url() + "\n  verify_ssl: true\n");
  // As `zenml login --api-key` leaves it: keyed by the server's URL.
  WriteFile(cfg + "/credentials.yaml", server_->Url() + ":\n  url: " + server_->Url() + "\n  api_key: " + key_ +
                                           "\n  server_name: default\n  version: 0.74.0\n");
  auto r = RunZenfs({"ls", cfg, roots_[0], roots_[1]}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want_);
  // A server URL as STORE: the user's config directory's credentials.yaml has its key.
  auto def = RunCommand({"env", "-u", "ZENML_STORE_URL", "ZENML_CONFIG_PATH=" + cfg, ZenfsBinary(), "ls", server_->Url(),
                         roots_[0], roots_[1]},
                        120);
  ASSERT_EQ(def.exit_code, 0) << def.err;
  EXPECT_EQ(def.out, want_);
}

TEST_F(RestMountTest, UnreachableRefusedAndTlsFailuresAreExitTwoWithOneLine) {
  const std::string port = std::to_string(server_->port());
  struct Case {
    std::string url;
    std::string says;
  };
  for (const Case& c : {Case{"http://127.0.0.1:1", "127.0.0.1"}, Case{"https://127.0.0.1:" + port, "https://127.0.0.1"},
                        Case{"http://no-such-host.invalid", "no-such-host.invalid"},
                        Case{"ftp://127.0.0.1:" + port, ""}}) {
    auto r = RunZenfs({"ls", c.url, "--api-key-file", key_file_}, 120);
    EXPECT_EQ(r.exit_code, 2) << c.url << ": " << r.err;
    EXPECT_EQ(Lines(r.err), 1) << c.url << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(key_), std::string::npos);
  }
  WriteFile(dir_->path() + "/wrong-key", "ZENKEY_not-a-key\n");
  auto wrong = RunZenfs(Ls({"--api-key-file", dir_->path() + "/wrong-key"}), 120);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_EQ(Lines(wrong.err), 1) << wrong.err;
  EXPECT_NE(wrong.err.find("refused the login"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("not-a-key"), std::string::npos) << wrong.err;
  auto missing = RunZenfs(Ls({"--api-key-file", dir_->path() + "/none"}), 120);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--api-key-file"), std::string::npos) << missing.err;
}

TEST_F(RestMountTest, TheKeyIsNeverInPsLogsOrMetaJson) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto mounted = MountServer({"--log-level", "debug"});
  ASSERT_TRUE(mounted->ok()) << mounted->error();
  Mount& m = *mounted;
  auto all = RunCommand({"find", m.path(), "-name", "meta.json"});
  ASSERT_EQ(all.exit_code, 0);
  int docs = 0;
  std::string text;
  for (std::size_t at = 0, nl; (nl = all.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    auto doc = ReadAll(all.out.substr(at, nl - at));
    ASSERT_TRUE(doc.has_value());
    text += *doc;
    ++docs;
  }
  EXPECT_GT(docs, 3);
  EXPECT_EQ(text.find(key_), std::string::npos);
  EXPECT_EQ(ReadJson(m.path() + "/meta.json").at("store").at("path"), server_->Url());
  const std::string cmdline = ReadFile("/proc/" + std::to_string(m.pid()) + "/cmdline");
  EXPECT_FALSE(cmdline.empty());
  EXPECT_EQ(cmdline.find(key_), std::string::npos);
  auto ps = RunCommand({"ps", "-eo", "args"});
  EXPECT_EQ(ps.out.find(key_), std::string::npos);
  EXPECT_TRUE(m.Unmount());
  EXPECT_EQ(m.DaemonLog().find(key_), std::string::npos);
  EXPECT_EQ(m.DaemonLog().find("ZENKEY"), std::string::npos);
}

TEST_F(RestMountTest, ARunWrittenBehindTheServerAppearsAndADeletedOneGoes) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto mounted = MountServer({"--refresh", "0.5"});
  ASSERT_TRUE(mounted->ok()) << mounted->error();
  Mount& m = *mounted;
  const json root = ReadJson(m.path() + "/meta.json");
  ASSERT_FALSE(root.at("pipelines").empty());
  const std::string pipeline = root.at("pipelines")[0].get<std::string>();
  const std::string runs = m.path() + "/" + pipeline + "/runs";
  ASSERT_TRUE(ListDir(runs).has_value());
  const std::string id = "feed0000000000000000000000000001";
  CopyFirstRun(server_->db_path(), pipeline, id, "rest-live-run");
  auto has = [&](bool want) {
    auto names = ListDir(runs);
    return names && (std::find(names->begin(), names->end(), "rest-live-run") != names->end()) == want;
  };
  EXPECT_TRUE(PollUntil([&] { return has(true); }, 60)) << "the new run never appeared";
  const json meta = ReadJson(runs + "/rest-live-run/meta.json");
  EXPECT_EQ(meta.value("status", ""), "running") << meta;
  Sql(server_->db_path(), "DELETE FROM pipeline_run WHERE id = '" + id + "'");
  EXPECT_TRUE(PollUntil([&] { return has(false); }, 60)) << "the deleted run never went";
  EXPECT_TRUE(m.Unmount());
}

// Issue 14 point 3: mounted by URL on a shared mount without --artifact-root, no folder
// of the artifact store is a trusted root (the component's path counts on private mounts
// only), so a step's logs and an output's visualizations are read through the server
// (/steps/{id}/logs, /artifact_versions/{id}/visualize): the same bytes as the files, and
// meta.json says where they came from.
TEST_F(RestMountTest, LogsAndVisualizationsComeThroughTheServerWhenTheArtifactStoreIsOutOfReach) {
  ZENFS_SKIP_WITHOUT_FUSE();
  const std::string mnt = dir_->path() + "/mnt";
  mkdir(mnt.c_str(), 0755);
  Mount m(Mount::Options{server_->Url(), mnt, {"--api-key-file", key_file_, "-o", "allow_other"}, true, 120});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string sdir = m.path() + "/training_pipeline/runs/latest/steps/load_data";
  const std::string odir = sdir + "/outputs/features";
  const json om = ReadJson(odir + "/meta.json");
  ASSERT_FALSE(om.is_discarded()) << std::strerror(errno);
  EXPECT_EQ(om.at("available"), false) << "the artifact store must be out of reach for this test";
  ASSERT_EQ(om.at("visualizations").size(), 2u) << om.dump(2);
  std::set<std::string> types;
  for (const json& v : om.at("visualizations")) {
    const std::string path = odir + "/" + v.at("path").get<std::string>();
    SCOPED_TRACE(path);
    EXPECT_EQ(v.at("read_from"), "server");
    types.insert(v.at("type").get<std::string>());
    bool ok = false;
    const std::string want = ReadFile(v.at("uri").get<std::string>(), &ok);
    ASSERT_TRUE(ok) << "the demo's file " << v.at("uri");
    const auto st = Lstat(path);
    ASSERT_TRUE(st.has_value()) << std::strerror(errno);
    EXPECT_TRUE(S_ISREG(st->st_mode));
    EXPECT_EQ(static_cast<std::size_t>(st->st_size), want.size());
    const auto got = ReadAll(path);
    ASSERT_TRUE(got.has_value()) << std::strerror(errno);
    EXPECT_TRUE(*got == want) << "not the bytes of " << v.at("uri");
  }
  EXPECT_EQ(types, (std::set<std::string>{"html", "image"}));
  // The step's logs, whole.
  const std::string step_id = One(server_->db_path(),
                                  "SELECT s.id FROM step_run s JOIN pipeline_run r ON r.id = s.pipeline_run_id JOIN "
                                  "pipeline p ON p.id = r.pipeline_id WHERE p.name = 'training_pipeline' AND "
                                  "s.name = 'load_data' ORDER BY s.created DESC LIMIT 1");
  ASSERT_FALSE(step_id.empty());
  const std::string log_uri = One(server_->db_path(), "SELECT uri FROM logs WHERE step_run_id = '" + step_id + "'");
  ASSERT_FALSE(log_uri.empty());
  bool ok = false;
  const std::string want_log = ReadFile(log_uri, &ok);
  ASSERT_TRUE(ok) << log_uri;
  ASSERT_FALSE(want_log.empty());
  const auto got_log = ReadAll(sdir + "/logs");
  ASSERT_TRUE(got_log.has_value()) << std::strerror(errno);
  EXPECT_TRUE(*got_log == want_log) << "the logs read through the server differ from " << log_uri;
  const json sm = ReadJson(sdir + "/meta.json");
  EXPECT_EQ(sm.at("logs_available").at("step"), true) << sm.dump(2);
  EXPECT_EQ(sm.at("logs_read_from").at("step"), "server") << sm.dump(2);
  EXPECT_TRUE(m.Unmount());
}

TEST_F(RestMountTest, AServerThatStopsAndComesBackLeavesTheMountAnswering) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto mounted = MountServer({"--refresh", "0.5"});
  ASSERT_TRUE(mounted->ok()) << mounted->error();
  const std::string root = mounted->path();
  const json meta = ReadJson(root + "/meta.json");
  ASSERT_FALSE(meta.at("pipelines").empty());
  const std::string pipeline = meta.at("pipelines")[0].get<std::string>();
  auto before = RunCommand({"ls", root + "/" + pipeline + "/runs"}, 60);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  server_->Stop();
  // The last picture keeps answering, and no reader hangs (each ls is bounded).
  for (int i = 0; i < 3; ++i) {
    auto during = RunCommand({"ls", root + "/" + pipeline + "/runs"}, 60);
    EXPECT_FALSE(during.timed_out);
    EXPECT_EQ(during.exit_code, 0) << during.err;
    EXPECT_EQ(during.out, before.out);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  const Status started = server_->Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  // Back: a run written now shows, so the mount talks to the server again.
  const std::string id = "feed0000000000000000000000000002";
  CopyFirstRun(server_->db_path(), pipeline, id, "rest-after-restart");
  EXPECT_TRUE(PollUntil(
      [&] {
        auto names = ListDir(root + "/" + pipeline + "/runs");
        return names && std::find(names->begin(), names->end(), "rest-after-restart") != names->end();
      },
      90))
      << mounted->DaemonLog();
  Sql(server_->db_path(), "DELETE FROM pipeline_run WHERE id = '" + id + "'");
  EXPECT_TRUE(mounted->Unmount());
}

// The fault tests: the mount talks to the server through a FaultProxy (tests/fault_proxy.h)
// with short timeouts. Each first reads its part of the tree whole (every scope loaded,
// some documents cached), then switches the proxy to a fault.
class RestFaultTest : public RestMountTest {
 protected:
  void SetUp() override {
    RestMountTest::SetUp();
    if (HasFatalFailure()) return;
    std::string error;
    proxy_ = FaultProxy::Start("127.0.0.1", server_->port(), &error);
    ASSERT_NE(proxy_, nullptr) << error;
    docs_ = DetailDocs(want_);
    ASSERT_GE(docs_.size(), 12u) << want_;
  }
  void TearDown() override {
    // Stalled connections end now, so the mount's unmount does not wait for them.
    if (proxy_ != nullptr) proxy_->SetMode(FaultProxy::Mode::kPass);
    if (proxy_ != nullptr) proxy_->DropAll();
  }

  // Mounts through the proxy and reads the first `cached` detail documents (and the
  // folders above them), so the tree holds every scope and those documents.
  std::unique_ptr<Mount> MountWarm(std::size_t cached, std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--rest-timeout", kFaultTimeout, "--refresh", "0.5"});
    auto m = MountUrl(proxy_->Url(), extra);
    if (!m->ok()) return m;
    for (std::size_t i = 0; i < cached && i < docs_.size(); ++i) {
      auto doc = ReadAll(m->path() + "/" + docs_[i]);
      EXPECT_TRUE(doc.has_value()) << docs_[i];
      if (doc) cached_[docs_[i]] = *doc;
    }
    return m;
  }

  // `ls` of every folder that holds a cached document, and the documents themselves:
  // all as before, each reader within the bound.
  void ExpectCachedAnswers(Mount& m, const std::string& when) {
    for (const auto& [doc, text] : cached_) {
      const auto start = Clock::now();
      auto again = RunCommand({"cat", m.path() + "/" + doc}, 3 * kReaderBound);
      EXPECT_FALSE(again.timed_out) << when << ": " << doc;
      EXPECT_LT(SecondsSince(start), kReaderBound) << when << ": " << doc;
      EXPECT_EQ(again.exit_code, 0) << when << ": " << doc << ": " << again.err;
      EXPECT_EQ(again.out, text) << when << ": " << doc;
      const std::string folder = doc.substr(0, doc.rfind('/'));
      auto names = RunCommand({"ls", m.path() + "/" + folder}, 3 * kReaderBound);
      EXPECT_FALSE(names.timed_out) << when << ": " << folder;
      EXPECT_EQ(names.exit_code, 0) << when << ": " << folder << ": " << names.err;
    }
  }

  // Reading `doc` (not cached) fails with EIO within the bound.
  void ExpectBoundedEio(Mount& m, const std::string& doc, const std::string& when) {
    const auto start = Clock::now();
    auto r = RunCommand({"cat", m.path() + "/" + doc}, 3 * kReaderBound);
    EXPECT_FALSE(r.timed_out) << when << ": " << doc;
    EXPECT_LT(SecondsSince(start), kReaderBound) << when << ": " << doc;
    EXPECT_NE(r.exit_code, 0) << when << ": " << doc << " read while the server fails";
    EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << when << ": " << r.err;
  }

  // Once the proxy passes again, `doc` reads (the failure was not remembered).
  void ExpectRecovers(Mount& m, const std::string& doc) {
    proxy_->SetMode(FaultProxy::Mode::kPass);
    EXPECT_TRUE(PollUntil([&] { return ReadAll(m.path() + "/" + doc).has_value(); }, 60))
        << doc << " never read again; " << m.DaemonLog();
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::vector<std::string> docs_;
  std::map<std::string, std::string> cached_;
};

TEST_F(RestFaultTest, ABusyServerLeavesTheLastPictureAndUncachedDetailsFailWithinTheBound) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto mounted = MountWarm(3);
  ASSERT_TRUE(mounted->ok()) << mounted->error();
  Mount& m = *mounted;
  proxy_->SetMode(FaultProxy::Mode::k503);
  // The change poll meets the 503s (its requests retried, then given up) a few times.
  const std::uint64_t before = proxy_->faults();
  EXPECT_TRUE(PollUntil([&] { return proxy_->faults() >= before + 6; }, 60)) << "the mount stopped polling";
  ExpectCachedAnswers(m, "503");
  ExpectBoundedEio(m, docs_[5], "503");
  ExpectCachedAnswers(m, "503, after a failed read");
  ExpectRecovers(m, docs_[5]);
  EXPECT_TRUE(m.Unmount());
}

TEST_F(RestFaultTest, AStalledServerHoldsNoReaderAndNoMoreWorkersThanTheCap) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto mounted = MountWarm(3, {"--threads", "8"});
  ASSERT_TRUE(mounted->ok()) << mounted->error();
  Mount& m = *mounted;
  proxy_->SetMode(FaultProxy::Mode::kStall);
  // More readers of uncached documents than the REST client's 4 requests in flight: the
  // ones beyond the cap give up after the queue timeout, so FUSE workers stay free.
  const std::size_t kStalled = 6;
  ASSERT_GE(docs_.size(), 3 + kStalled + 1);
  std::vector<CommandResult> results(kStalled);
  std::vector<double> took(kStalled);
  std::vector<std::thread> readers;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < kStalled; ++i) {
    readers.emplace_back([&, i] {
      results[i] = RunCommand({"cat", m.path() + "/" + docs_[3 + i]}, 3 * kReaderBound);
      took[i] = SecondsSince(start);
    });
  }
  // While requests stall (the proxy has held some), what the picture holds answers.
  EXPECT_TRUE(PollUntil([&] { return proxy_->faults() >= 4; }, 60)) << "no request reached the stalled proxy";
  ExpectCachedAnswers(m, "stalled");
  for (std::thread& t : readers) t.join();
  for (std::size_t i = 0; i < kStalled; ++i) {
    EXPECT_FALSE(results[i].timed_out) << docs_[3 + i];
    EXPECT_LT(took[i], kReaderBound) << docs_[3 + i];
    EXPECT_NE(results[i].exit_code, 0) << docs_[3 + i] << " read from a stalled server";
  }
  ExpectBoundedEio(m, docs_[3 + kStalled], "stalled");
  proxy_->DropAll();
  ExpectRecovers(m, docs_[3 + kStalled]);
  EXPECT_TRUE(m.Unmount());
}

TEST_F(RestFaultTest, ResetsFailUncachedDetailsWithinTheBoundAndTheMountRecovers) {
  ZENFS_SKIP_WITHOUT_FUSE();
  auto mounted = MountWarm(3);
  ASSERT_TRUE(mounted->ok()) << mounted->error();
  Mount& m = *mounted;
  std::size_t next = 3;
  for (FaultProxy::Mode mode : {FaultProxy::Mode::kReset, FaultProxy::Mode::kResetMidResponse}) {
    const std::string when = mode == FaultProxy::Mode::kReset ? "reset" : "reset mid-response";
    proxy_->SetMode(mode);
    ExpectCachedAnswers(m, when);
    ExpectBoundedEio(m, docs_[next], when);
    ExpectRecovers(m, docs_[next]);
    ++next;
  }
  EXPECT_TRUE(m.Unmount());
}

TEST_F(RestFaultTest, ABusyOrStalledServerAtMountTimeIsExitTwoWithOneLine) {
  for (FaultProxy::Mode mode : {FaultProxy::Mode::k503, FaultProxy::Mode::kStall, FaultProxy::Mode::kReset}) {
    proxy_->SetMode(mode);
    const auto start = Clock::now();
    auto r = RunZenfs({"ls", proxy_->Url(), "--api-key-file", key_file_, "--rest-timeout", kFaultTimeout},
                      3 * kReaderBound);
    EXPECT_FALSE(r.timed_out);
    EXPECT_LT(SecondsSince(start), kReaderBound);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(proxy_->port())), std::string::npos) << r.err;
    if (mode == FaultProxy::Mode::k503) {
      EXPECT_NE(r.err.find("503"), std::string::npos) << r.err;
    }
    EXPECT_EQ(r.err.find(key_), std::string::npos);
    proxy_->DropAll();
  }
}

}  // namespace
}  // namespace zenfs::testing
