// Conformance: genuine ZenML stores (ZENFS_ZENML_SAMPLE, one config directory or several
// separated by ':', e.g. the 0.74 sample and the same data migrated to 0.80 by ZenML's own
// scripts) mounted by zenfs, each checked against what ZenML's own Client reported for it
// (the oracle file `DIR-oracle.json` beside it). Expected values come only from the
// oracle; the sample itself must come out of the test byte for byte unchanged.
//
// Built a second time into zenfs_mysql_tests (ZENFS_CONFORMANCE_MYSQL), where the sample
// is the genuine MariaDB dump (ZENFS_ZENML_MYSQL_SAMPLE) loaded into the binary's private
// server for a SELECT-only reader: the same facts, with MySQL's whole-second times (steps
// that tie may come in any order), and every table's CHECKSUM unchanged afterwards.
// Built a third time into zenfs_rest_tests (ZENFS_CONFORMANCE_REST): the 0.74 sample (a
// copy) behind ZenML 0.74's own server, mounted by URL with a service account's API key
// and --artifact-root for its artifacts: the same facts.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#ifdef ZENFS_CONFORMANCE_MYSQL
#include "tests/mariadb_server.h"
#endif
#ifdef ZENFS_CONFORMANCE_REST
#include "tests/zenml_server.h"
#endif
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

using nlohmann::json;

// How many samples the test is instantiated for; CI names two.
constexpr int kSampleSlots = 2;
// The parameter of the MySQL instantiation.
constexpr int kMysqlSlot = 100;
// The parameter of the REST instantiation.
constexpr int kRestSlot = 200;

bool SampleRequired() {
  const char* v = std::getenv("ZENFS_REQUIRE_SAMPLE");
  return v != nullptr && std::string(v) == "1";
}

// Oracle times are UTC without a zone ("2026-11-27T23:44:53.291118"), zenfs writes
// "...Z": compare them as instants.
void ExpectSameTime(const json& got, const json& want, const std::string& what) {
  if (want.is_null()) {
    EXPECT_TRUE(got.is_null()) << what << ": " << got;
    return;
  }
  ASSERT_TRUE(got.is_string()) << what << ": " << got;
  const auto g = ParseUtcMicros(got.get<std::string>());
  const auto w = ParseUtcMicros(want.get<std::string>());
  ASSERT_TRUE(g.has_value()) << what << ": not a time: " << got;
  ASSERT_TRUE(w.has_value()) << what << ": oracle time unreadable: " << want;
  EXPECT_EQ(*g, *w) << what << ": got " << got << ", oracle " << want;
  EXPECT_EQ(got.get<std::string>().back(), 'Z') << what << ": SPEC §3 times end in Z";
}

// The oracle's steps of a run in execution order (position_in_run_steps).
std::vector<json> StepsInOrder(const json& run) {
  std::vector<json> steps(run.at("steps").begin(), run.at("steps").end());
  std::stable_sort(steps.begin(), steps.end(), [](const json& a, const json& b) {
    return a.at("position_in_run_steps").get<int>() < b.at("position_in_run_steps").get<int>();
  });
  return steps;
}

std::vector<std::string> Keys(const json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The parameter is the sample's position in ZENFS_ZENML_SAMPLE.
class ConformanceTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (GetParam() == kMysqlSlot) {
      MysqlSetUp();
      return;
    }
    if (GetParam() == kRestSlot) {
      RestSetUp();
      return;
    }
    const std::vector<std::string> samples = ZenmlSamples();
    if (samples.empty()) {
      if (SampleRequired()) FAIL() << "ZENFS_REQUIRE_SAMPLE=1 but ZENFS_ZENML_SAMPLE is not set";
      GTEST_SKIP() << "ZENFS_ZENML_SAMPLE is not set (a genuine ZenML config directory with "
                      "<dir>-oracle.json beside it); set ZENFS_REQUIRE_SAMPLE=1 to make this a failure";
    }
    ASSERT_LE(samples.size(), static_cast<std::size_t>(kSampleSlots))
        << "ZENFS_ZENML_SAMPLE names more samples than the test has slots (kSampleSlots)";
    if (static_cast<std::size_t>(GetParam()) >= samples.size()) {
      GTEST_SKIP() << "ZENFS_ZENML_SAMPLE names only " << samples.size() << " sample(s)";
    }
    const std::string& env = samples[static_cast<std::size_t>(GetParam())];
    ZENFS_SKIP_WITHOUT_FUSE();
    char buf[PATH_MAX];
    ASSERT_NE(realpath(env.c_str(), buf), nullptr) << "ZENFS_ZENML_SAMPLE entry " << env << ": " << std::strerror(errno);
    sample_ = buf;
    LoadOracle();
    if (HasFatalFailure()) return;
    MountSample(sample_, {});
  }

  void LoadOracle() {
    const std::string oracle_path = sample_ + "-oracle.json";
    oracle_ = ReadJson(oracle_path);
    ASSERT_FALSE(oracle_.is_discarded()) << "cannot read the oracle " << oracle_path;
    ASSERT_TRUE(oracle_.contains("pipelines")) << oracle_path;
    for (const json& p : oracle_.at("pipelines")) {
      for (const json& r : p.at("runs")) {
        for (const json& name : {p.at("name"), r.at("name")}) {
          ASSERT_EQ(name.get<std::string>().find_first_of("/%"), std::string::npos) << "the sample's names need no escaping";
        }
      }
    }

  }

  // Mounts `store` (the sample itself, or a URL) after hashing the sample's files.
  void MountSample(const std::string& store, const std::vector<std::string>& extra) {
    before_ = HashTree(sample_);
    ASSERT_FALSE(before_.empty());
    hashed_ = true;
    dir_ = std::make_unique<TempDir>(MountTestRoot());
    const std::string mnt = dir_->path() + "/mnt";
    ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
    mount_ = std::make_unique<Mount>(Mount::Options{store, mnt, extra});
    ASSERT_TRUE(mount_->ok()) << mount_->error();
    root_ = mount_->path();
  }

  // The genuine MariaDB dump in the binary's private server (loaded once), read by a
  // SELECT-only account, its artifacts found through --artifact-root.
  void MysqlSetUp() {
#ifdef ZENFS_CONFORMANCE_MYSQL
    const char* env = std::getenv("ZENFS_ZENML_MYSQL_SAMPLE");
    if (env == nullptr || *env == '\0') {
      if (SampleRequired()) FAIL() << "ZENFS_REQUIRE_SAMPLE=1 but ZENFS_ZENML_MYSQL_SAMPLE is not set";
      GTEST_SKIP() << "ZENFS_ZENML_MYSQL_SAMPLE is not set";
    }
    ZENFS_SKIP_WITHOUT_FUSE();
    char buf[PATH_MAX];
    ASSERT_NE(realpath(env, buf), nullptr) << env << ": " << std::strerror(errno);
    sample_ = buf;
    LoadOracle();
    if (HasFatalFailure()) return;
    std::string why;
    server_ = MariaDbEnvironment::Shared(&why);
    ASSERT_NE(server_, nullptr) << why;
    static bool loaded = false;
    if (!loaded) {
      const Status s = server_->LoadDump(kMysqlDb, sample_ + "/zenml.sql");
      ASSERT_TRUE(s.ok()) << s.ToString();
      const Status r = server_->CreateReader("conformance", "conformance-pw", kMysqlDb);
      ASSERT_TRUE(r.ok()) << r.ToString();
      loaded = true;
    }
    auto sums = server_->Checksums(kMysqlDb);
    ASSERT_TRUE(sums.ok()) << sums.status().ToString();
    checksums_ = *sums;
    // The sample's URIs say /home/ml/.config/zenml/local_stores/...
    MountSample(server_->Url("conformance", "conformance-pw", kMysqlDb),
                {"--artifact-root", "/home/ml/.config/zenml/local_stores=" + sample_ + "/local_stores"});
    ties_any_order_ = true;
#else
    GTEST_SKIP() << "the MySQL conformance runs in zenfs_mysql_tests";
#endif
  }

  // The 0.74 sample's zenml.db (a copy) behind ZenML's own server, started once for the
  // binary (5-50 s), read through a service account's API key.
  void RestSetUp() {
#ifdef ZENFS_CONFORMANCE_REST
    const std::vector<std::string> samples = ZenmlSamples();
    if (samples.empty()) {
      if (SampleRequired()) FAIL() << "ZENFS_REQUIRE_SAMPLE=1 but ZENFS_ZENML_SAMPLE is not set";
      GTEST_SKIP() << "ZENFS_ZENML_SAMPLE is not set";
    }
    ZENFS_SKIP_WITHOUT_FUSE();
    char buf[PATH_MAX];
    ASSERT_NE(realpath(samples[0].c_str(), buf), nullptr) << samples[0] << ": " << std::strerror(errno);
    sample_ = buf;
    LoadOracle();
    if (HasFatalFailure()) return;
    // Destroyed in reverse order at exit: the server stops before its folder goes.
    static std::unique_ptr<TempDir> base;
    static std::unique_ptr<ZenmlServer> server;
    static std::string key_file, error;
    if (server == nullptr && error.empty()) {
      base = std::make_unique<TempDir>(MountTestRoot());
      server = ZenmlServer::Create(sample_ + "/local_stores/default_zen_store/zenml.db", base->path(), &error);
      if (server != nullptr) {
        auto key = server->CreateApiKey("conformance");
        if (key.ok()) {
          key_file = base->path() + "/api-key";
          WriteFile(key_file, *key + "\n");
        } else {
          error = key.status().ToString();
        }
      }
    }
    ASSERT_TRUE(server != nullptr && !key_file.empty()) << error;
    MountSample(server->Url(), {"--api-key-file", key_file, "--artifact-root",
                                "/home/ml/.config/zenml/local_stores=" + sample_ + "/local_stores"});
#else
    GTEST_SKIP() << "the REST conformance runs in zenfs_rest_tests";
#endif
  }

  void TearDown() override {
    if (mount_) {
      EXPECT_TRUE(mount_->Unmount()) << "the sample stayed mounted";
      mount_.reset();
    }
    if (hashed_) {
      EXPECT_EQ(HashTree(sample_), before_) << "mounting and reading changed the sample";
    }
#ifdef ZENFS_CONFORMANCE_MYSQL
    if (server_ != nullptr && !checksums_.empty()) {
      auto after = server_->Checksums(kMysqlDb);
      ASSERT_TRUE(after.ok()) << after.status().ToString();
      EXPECT_EQ(*after, checksums_) << "reading changed the database";
    }
#endif
  }

  // The steps meta.json lists, compared with the oracle's order: exactly, or (MySQL's
  // whole seconds) in SPEC's order of the oracle's start times, steps that start in the
  // same second in any order among themselves. (ZenML's own order of such steps is not
  // their start order: the MariaDB oracle lists a step that started a second later first.)
  void ExpectStepOrder(const json& got, std::vector<json> ordered) const {
    if (ties_any_order_) {
      std::stable_sort(ordered.begin(), ordered.end(), [](const json& a, const json& b) {
        return ParseUtcMicros(a.at("start_time").get<std::string>()) <
               ParseUtcMicros(b.at("start_time").get<std::string>());
      });
    }
    std::vector<std::string> names;
    for (const json& s : ordered) names.push_back(s.at("name").get<std::string>());
    if (!ties_any_order_) {
      EXPECT_EQ(got, json(names));
      return;
    }
    ASSERT_TRUE(got.is_array());
    ASSERT_EQ(got.size(), names.size()) << got;
    for (std::size_t i = 0; i < ordered.size();) {
      std::size_t j = i;
      std::multiset<std::string> want, have;
      while (j < ordered.size() && ordered[j].at("start_time") == ordered[i].at("start_time")) {
        want.insert(names[j]);
        have.insert(got[j].get<std::string>());
        ++j;
      }
      EXPECT_EQ(have, want) << "steps starting at " << ordered[i].at("start_time") << " in " << got;
      i = j;
    }
  }

  std::string RunPath(const json& p, const json& r) const {
    return root_ + "/" + p.at("name").get<std::string>() + "/runs/" + r.at("name").get<std::string>();
  }
  std::string StepPath(const json& p, const json& r, const json& s) const {
    return RunPath(p, r) + "/steps/" + s.at("name").get<std::string>();
  }
  // The oracle's step with this id, and its pipeline and run.
  struct Found {
    const json* pipeline = nullptr;
    const json* run = nullptr;
    const json* step = nullptr;
  };
  Found FindStep(const std::string& id) const {
    for (const json& p : oracle_.at("pipelines")) {
      for (const json& r : p.at("runs")) {
        for (const json& s : r.at("steps")) {
          if (s.at("id") == id) return {&p, &r, &s};
        }
      }
    }
    return {};
  }
  // Where a URI from the machine that wrote the sample lives in the sample: SPEC §1
  // rule 2, applied by hand (…/local_stores/<rest> -> <sample>/local_stores/<rest>).
  std::string Relocated(const std::string& uri) const {
    const std::size_t at = uri.find("/local_stores/");
    if (at == std::string::npos) return uri;
    return sample_ + uri.substr(at);
  }

  static constexpr const char* kMysqlDb = "zenml_conformance";
  std::string sample_;
  json oracle_;
  bool ties_any_order_ = false;
#ifdef ZENFS_CONFORMANCE_MYSQL
  MariaDbServer* server_ = nullptr;
  std::map<std::string, std::string> checksums_;
#endif
  std::map<std::string, std::string> before_;
  bool hashed_ = false;
  std::unique_ptr<TempDir> dir_;  // declared before mount_: the mount comes off first
  std::unique_ptr<Mount> mount_;
  std::string root_;
};

TEST_P(ConformanceTest, EveryPipelineAppearsByName) {
  std::vector<std::string> want{"meta.json"};
  for (const json& p : oracle_.at("pipelines")) want.push_back(p.at("name").get<std::string>());
  std::sort(want.begin(), want.end());
  std::vector<std::string> listed_root = ListDir(root_).value_or(std::vector<std::string>{});
  // zenfs's own views (%-named: no store name can be escaped into one) are not the oracle's.
  std::erase_if(listed_root, [](const std::string& n) { return n.rfind('%', 0) == 0; });
  EXPECT_EQ(listed_root, want);
  const json root_meta = ReadJson(root_ + "/meta.json");
  ASSERT_FALSE(root_meta.is_discarded());
  auto listed = root_meta.at("pipelines").get<std::vector<std::string>>();
  std::sort(listed.begin(), listed.end());
  want.erase(std::find(want.begin(), want.end(), "meta.json"));
  EXPECT_EQ(listed, want);
  for (const json& p : oracle_.at("pipelines")) {
    const std::string pdir = root_ + "/" + p.at("name").get<std::string>();
    SCOPED_TRACE(pdir);
    const json meta = ReadJson(pdir + "/meta.json");
    ASSERT_FALSE(meta.is_discarded());
    EXPECT_EQ(meta.at("name"), p.at("name"));
    EXPECT_EQ(meta.at("id"), p.at("id"));
    EXPECT_EQ(meta.at("run_count"), p.at("num_runs"));
    EXPECT_EQ(meta.at("run_count"), p.at("runs").size());
  }
}

TEST_P(ConformanceTest, RunsComeInOracleOrder) {
  for (const json& p : oracle_.at("pipelines")) {
    const std::string pdir = root_ + "/" + p.at("name").get<std::string>();
    SCOPED_TRACE(pdir);
    std::vector<std::string> names;
    for (const json& r : p.at("runs")) names.push_back(r.at("name").get<std::string>());
    const json meta = ReadJson(pdir + "/meta.json");
    ASSERT_FALSE(meta.is_discarded());
    EXPECT_EQ(meta.at("runs"), json(names)) << "oldest first, as the oracle lists them";
    EXPECT_EQ(meta.at("latest_run"), names.back());
    EXPECT_EQ(ReadLink(pdir + "/runs/latest").value_or("<no latest>"), names.back());
    std::vector<std::string> entries = names;
    entries.push_back("latest");
    // runs/latest-completed, runs/latest-failed: the oracle's newest run with that status.
    std::map<std::string, std::string> newest;
    for (const json& r : p.at("runs")) {
      const std::string status = r.at("status").get<std::string>();
      if (status == "completed" || status == "failed") newest["latest-" + status] = r.at("name").get<std::string>();
    }
    for (const auto& [view, run] : newest) {
      entries.push_back(view);
      EXPECT_EQ(ReadLink(pdir + "/runs/" + view).value_or("<none>"), run) << view;
    }
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(ListDir(pdir + "/runs"), entries);

    std::int64_t previous = INT64_MIN;
    for (const json& r : p.at("runs")) {
      const std::string rdir = RunPath(p, r);
      SCOPED_TRACE(rdir);
      const json rm = ReadJson(rdir + "/meta.json");
      ASSERT_FALSE(rm.is_discarded()) << std::strerror(errno);
      EXPECT_EQ(rm.at("name"), r.at("name"));
      EXPECT_EQ(rm.at("id"), r.at("id"));
      EXPECT_EQ(rm.at("pipeline"), p.at("name"));
      EXPECT_EQ(rm.at("status"), r.at("status"));
      ExpectSameTime(rm.at("start_time"), r.at("start_time"), "run start_time");
      ExpectSameTime(rm.at("end_time"), r.at("end_time"), "run end_time");
      // ls -tr: the run directory's mtime is its start time.
      auto st = Lstat(rdir);
      ASSERT_TRUE(st);
      const json key = r.at("start_time").is_null() ? r.at("created") : r.at("start_time");
      EXPECT_EQ(Micros(st->st_mtim), ParseUtcMicros(key.get<std::string>()));
      EXPECT_GE(Micros(st->st_mtim), previous);
      previous = Micros(st->st_mtim);
    }
  }
}

TEST_P(ConformanceTest, StepsComeInOracleOrder) {
  int steps = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      const std::vector<json> ordered = StepsInOrder(r);
      std::vector<std::string> names;
      for (const json& s : ordered) names.push_back(s.at("name").get<std::string>());
      const json rm = ReadJson(RunPath(p, r) + "/meta.json");
      ASSERT_FALSE(rm.is_discarded());
      SCOPED_TRACE(RunPath(p, r));
      ExpectStepOrder(rm.at("steps"), ordered);
      std::vector<std::string> sorted = names;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(ListDir(RunPath(p, r) + "/steps"), sorted);

      for (const json& s : ordered) {
        ++steps;
        const std::string sdir = StepPath(p, r, s);
        SCOPED_TRACE(sdir);
        const json sm = ReadJson(sdir + "/meta.json");
        ASSERT_FALSE(sm.is_discarded()) << std::strerror(errno);
        EXPECT_EQ(sm.at("name"), s.at("name"));
        EXPECT_EQ(sm.at("id"), s.at("id"));
        EXPECT_EQ(sm.at("status"), s.at("status"));
        ExpectSameTime(sm.at("start_time"), s.at("start_time"), "step start_time");
        ExpectSameTime(sm.at("end_time"), s.at("end_time"), "step end_time");
        EXPECT_EQ(sm.at("cache_key"), s.at("cache_key"));
        EXPECT_EQ(sm.at("original_step_run_id"), s.at("original_step_run_id"));
        // The step directory: meta.json, outputs/, `output` only for exactly one output,
        // `logs` only when the step has a log.
        std::vector<std::string> entries{"meta.json", "outputs"};
        if (s.at("outputs").size() == 1) entries.push_back("output");
        if (!s.at("inputs").empty()) entries.push_back("inputs");
        if (!s.at("logs_uri").is_null()) entries.push_back("logs");
        std::sort(entries.begin(), entries.end());
        EXPECT_EQ(ListDir(sdir), entries);
        EXPECT_EQ(ListDir(sdir + "/outputs"), Keys(s.at("outputs")));
        if (s.at("outputs").size() == 1) {
          EXPECT_EQ(ReadLink(sdir + "/output").value_or("?"), "outputs/" + s.at("outputs").begin().key());
        }
        auto st = Lstat(sdir);
        ASSERT_TRUE(st);
        EXPECT_EQ(Micros(st->st_mtim), ParseUtcMicros(s.at("start_time").get<std::string>()));
      }
    }
  }
  EXPECT_EQ(steps, oracle_.at("counts").at("steps").get<int>());
}

TEST_P(ConformanceTest, CachedStepsNameTheirOriginal) {
  int cached = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        if (s.at("original_step_run_id").is_null()) continue;
        ++cached;
        const std::string sdir = StepPath(p, r, s);
        SCOPED_TRACE(sdir);
        const Found original = FindStep(s.at("original_step_run_id").get<std::string>());
        ASSERT_NE(original.step, nullptr) << "the oracle has no step " << s.at("original_step_run_id");
        const json sm = ReadJson(sdir + "/meta.json");
        ASSERT_FALSE(sm.is_discarded());
        EXPECT_EQ(sm.at("original_step_run"), original.pipeline->at("name").get<std::string>() + "/runs/" +
                                                  original.run->at("name").get<std::string>() + "/steps/" +
                                                  original.step->at("name").get<std::string>());
        // Its outputs are the original's artifact versions.
        for (auto it = s.at("outputs").begin(); it != s.at("outputs").end(); ++it) {
          ASSERT_TRUE(original.step->at("outputs").contains(it.key()));
          const json om = ReadJson(sdir + "/outputs/" + it.key() + "/meta.json");
          ASSERT_FALSE(om.is_discarded());
          EXPECT_EQ(om.at("artifact_version_id"),
                    original.step->at("outputs").at(it.key()).at("artifact_version_id"));
        }
      }
    }
  }
  EXPECT_GT(cached, 0) << "the sample has a cached run";
}

TEST_P(ConformanceTest, OutputsMatchTheOracle) {
  int outputs = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        for (auto it = s.at("outputs").begin(); it != s.at("outputs").end(); ++it) {
          ++outputs;
          const json& o = it.value();
          const std::string odir = StepPath(p, r, s) + "/outputs/" + it.key();
          SCOPED_TRACE(odir);
          const json om = ReadJson(odir + "/meta.json");
          ASSERT_FALSE(om.is_discarded()) << std::strerror(errno);
          EXPECT_EQ(om.at("name"), it.key());
          for (const char* field : {"artifact_version_id", "artifact_name", "version", "type", "uri", "data_type",
                                    "materializer"}) {
            EXPECT_EQ(om.at(field), o.at(field)) << field;
          }
          EXPECT_EQ(om.at("available"), true) << om.value("unavailable_reason", json()).dump();
          EXPECT_EQ(om.at("size_bytes"), o.at("total_size"));
          EXPECT_EQ(om.at("run_metadata"), o.at("artifact_metadata"));
          std::map<std::string, std::uint64_t> got, want;
          for (const json& f : om.at("files")) got[f.at("path")] = f.at("size");
          for (const json& f : o.at("files")) want[f.at("path")] = f.at("size");
          EXPECT_EQ(got, want);
        }
      }
    }
  }
  EXPECT_EQ(outputs, oracle_.at("counts").at("outputs").get<int>());
}

// Every file the oracle lists, read through the mount: same size, same SHA-256. The
// URIs name another machine's paths; zenfs finds the files in the sample's local_stores.
TEST_P(ConformanceTest, EveryOracleFileReadsBackIdentically) {
  int files = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        for (auto it = s.at("outputs").begin(); it != s.at("outputs").end(); ++it) {
          const std::string odir = StepPath(p, r, s) + "/outputs/" + it.key();
          for (const json& f : it.value().at("files")) {
            ++files;
            const std::string path = odir + "/" + f.at("path").get<std::string>();
            SCOPED_TRACE(path);
            auto st = Lstat(path);
            ASSERT_TRUE(st.has_value()) << std::strerror(errno);
            EXPECT_TRUE(S_ISREG(st->st_mode));
            EXPECT_EQ(static_cast<std::uint64_t>(st->st_size), f.at("size").get<std::uint64_t>());
            auto bytes = ReadAll(path);
            ASSERT_TRUE(bytes.has_value()) << std::strerror(errno);
            EXPECT_EQ(bytes->size(), f.at("size").get<std::uint64_t>());
            EXPECT_EQ(Sha256Hex(*bytes), f.at("sha256").get<std::string>());
          }
        }
      }
    }
  }
  EXPECT_GE(files, oracle_.at("counts").at("outputs").get<int>());
}

// The sample's visualizations (ZenML's JSON visualization of a built-in artifact, whose
// URI is the artifact's own data.json) show in %visualizations/ and read as the oracle's
// file of that name: same size, same SHA-256.
TEST_P(ConformanceTest, VisualizationsReadAsTheArtifactFilesTheyName) {
  int visualizations = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        for (auto it = s.at("outputs").begin(); it != s.at("outputs").end(); ++it) {
          const json& o = it.value();
          const std::string odir = StepPath(p, r, s) + "/outputs/" + it.key();
          SCOPED_TRACE(odir);
          const json om = ReadJson(odir + "/meta.json");
          ASSERT_FALSE(om.is_discarded()) << std::strerror(errno);
          std::vector<std::string> names;
          for (const json& v : om.at("visualizations")) {
            ++visualizations;
            const std::string path = v.at("path"), uri = v.at("uri");
            names.push_back(path.substr(path.find('/') + 1));
            const std::string prefix = o.at("uri").get<std::string>() + "/";
            ASSERT_EQ(uri.rfind(prefix, 0), 0u) << uri << ": the sample's visualizations are artifact files";
            const std::string rel = uri.substr(prefix.size());
            const json* file = nullptr;
            for (const json& f : o.at("files")) {
              if (f.at("path") == rel) file = &f;
            }
            ASSERT_NE(file, nullptr) << rel << " is not one of the oracle's files";
            auto bytes = ReadAll(odir + "/" + path);
            ASSERT_TRUE(bytes.has_value()) << path << ": " << std::strerror(errno);
            EXPECT_EQ(bytes->size(), file->at("size").get<std::uint64_t>()) << path;
            EXPECT_EQ(Sha256Hex(*bytes), file->at("sha256").get<std::string>()) << path;
          }
          std::sort(names.begin(), names.end());
          if (names.empty()) {
            EXPECT_FALSE(Lstat(odir + "/%visualizations").has_value());
          } else {
            EXPECT_EQ(ListDir(odir + "/%visualizations"), names);
          }
        }
      }
    }
  }
  EXPECT_GE(visualizations, 1) << "the genuine sample has a JSON visualization";
}

TEST_P(ConformanceTest, RunMetadataMatchesTheOracle) {
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      const json rm = ReadJson(RunPath(p, r) + "/meta.json");
      ASSERT_FALSE(rm.is_discarded());
      EXPECT_EQ(rm.at("run_metadata"), r.at("run_metadata")) << RunPath(p, r);
      for (const json& s : r.at("steps")) {
        const json sm = ReadJson(StepPath(p, r, s) + "/meta.json");
        ASSERT_FALSE(sm.is_discarded());
        EXPECT_EQ(sm.at("run_metadata"), s.at("run_metadata")) << StepPath(p, r, s);
      }
    }
  }
}

// A step's inputs name outputs in the mount (the same run's producer first) whose
// artifact versions are the ones the oracle says the step consumed.
TEST_P(ConformanceTest, InputsNameTheOraclesArtifactVersions) {
  int inputs = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        const std::string sdir = StepPath(p, r, s);
        SCOPED_TRACE(sdir);
        const json sm = ReadJson(sdir + "/meta.json");
        ASSERT_FALSE(sm.is_discarded());
        EXPECT_EQ(Keys(sm.at("inputs")), Keys(s.at("inputs")));
        for (auto it = s.at("inputs").begin(); it != s.at("inputs").end(); ++it) {
          ++inputs;
          if (!sm.at("inputs").contains(it.key())) continue;
          const json& paths = sm.at("inputs").at(it.key());
          ASSERT_TRUE(paths.is_array() && !paths.empty()) << it.key() << ": " << paths;
          const std::string first = paths.front().get<std::string>();
          EXPECT_EQ(first.rfind(p.at("name").get<std::string>() + "/runs/" + r.at("name").get<std::string>() + "/", 0),
                    0u)
              << "the same run's producer comes first: " << first;
          for (const json& path : paths) {
            const json om = ReadJson(root_ + "/" + path.get<std::string>() + "/meta.json");
            ASSERT_FALSE(om.is_discarded()) << path;
            EXPECT_EQ(om.at("artifact_version_id"), it.value().at("artifact_version_id")) << path;
          }
          // Lineage: inputs/<name> links to the producing output (through cached steps, the
          // original's), which holds the version the step read.
          const std::string link = sdir + "/inputs/" + it.key();
          auto target = ReadLink(link);
          ASSERT_TRUE(target) << link << ": " << std::strerror(errno);
          EXPECT_EQ(target->rfind("../../../../../../", 0), 0u) << *target;
          const json lm = ReadJson(link + "/meta.json");
          ASSERT_FALSE(lm.is_discarded()) << link;
          EXPECT_EQ(lm.at("artifact_version_id"), it.value().at("artifact_version_id")) << link;
          const json producer = ReadJson(link + "/../../meta.json");  // the producing step
          ASSERT_FALSE(producer.is_discarded()) << link;
          EXPECT_TRUE(producer.at("original_step_run").is_null()) << "a cached copy, not the producer: " << *target;
        }
      }
    }
  }
  EXPECT_GT(inputs, 0);
}

// %artifacts/<artifact name>/<version> holds every version the oracle names, and its
// meta.json's `consumers` are exactly the steps the oracle says read it (under those input
// names), each of whose inputs/<name> holds the version; `latest` names a listed version.
TEST_P(ConformanceTest, ArtifactsViewHoldsEveryOracleVersionAndItsConsumers) {
  std::map<std::string, std::set<std::pair<std::string, std::string>>> read_by;  // version id -> (step, input)
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        const std::string step = StepPath(p, r, s).substr(root_.size() + 1);
        for (auto it = s.at("inputs").begin(); it != s.at("inputs").end(); ++it) {
          read_by[it.value().at("artifact_version_id").get<std::string>()].emplace(step, it.key());
        }
      }
    }
  }
  int versions = 0, consumers = 0;
  std::set<std::string> artifacts;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        for (auto it = s.at("outputs").begin(); it != s.at("outputs").end(); ++it) {
          for (const json& v : it.value().at("versions")) {
            ++versions;
            const std::string name = v.at("artifact_name").get<std::string>();
            ASSERT_EQ(name.find_first_of("/%"), std::string::npos) << "the sample's artifact names need no escaping";
            artifacts.insert(name);
            const std::string path = root_ + "/%artifacts/" + name + "/" + v.at("version").get<std::string>();
            const json m = ReadJson(path + "/meta.json");
            ASSERT_FALSE(m.is_discarded()) << path << ": " << std::strerror(errno);
            EXPECT_EQ(m.at("artifact_version_id"), v.at("artifact_version_id")) << path;
            std::set<std::pair<std::string, std::string>> got;
            for (const json& c : m.at("consumers")) {
              ++consumers;
              got.emplace(c.at("step").get<std::string>(), c.at("input").get<std::string>());
              const std::string back = root_ + "/" + c.at("step").get<std::string>() + "/inputs/" +
                                       c.at("input").get<std::string>() + "/meta.json";
              EXPECT_EQ(ReadJson(back).value("artifact_version_id", json()), v.at("artifact_version_id")) << back;
            }
            EXPECT_EQ(got, read_by[v.at("artifact_version_id").get<std::string>()]) << path;
          }
        }
      }
    }
  }
  EXPECT_GT(versions, 0);
  EXPECT_GT(consumers, 0);
  for (const std::string& name : artifacts) {
    const std::string dir = root_ + "/%artifacts/" + name;
    auto latest = ReadLink(dir + "/latest");
    ASSERT_TRUE(latest) << dir << "/latest: " << std::strerror(errno);
    const std::vector<std::string> listed = ListDir(dir).value_or(std::vector<std::string>{});
    EXPECT_NE(std::find(listed.begin(), listed.end(), *latest), listed.end()) << dir << " lists no " << *latest;
  }
}

// %by-id/<id> resolves every id the oracle names (dashed, as ZenML prints them) to the
// folder whose meta.json carries that id; an artifact version to an output holding it.
TEST_P(ConformanceTest, EveryOracleIdResolvesThroughById) {
  const std::string by_id = root_ + "/%by-id/";
  int ids = 0;
  auto expect_id = [&](const json& id, const std::string& field) {
    ++ids;
    const std::string link = by_id + id.get<std::string>();
    const json m = ReadJson(link + "/meta.json");
    ASSERT_FALSE(m.is_discarded()) << link << ": " << std::strerror(errno);
    EXPECT_EQ(m.at(field), id) << link;
  };
  for (const json& p : oracle_.at("pipelines")) {
    expect_id(p.at("id"), "id");
    for (const json& r : p.at("runs")) {
      expect_id(r.at("id"), "id");
      for (const json& s : r.at("steps")) {
        expect_id(s.at("id"), "id");
        for (auto it = s.at("outputs").begin(); it != s.at("outputs").end(); ++it) {
          expect_id(it.value().at("artifact_version_id"), "artifact_version_id");
        }
      }
    }
  }
  EXPECT_GT(ids, 0);
}

// Following every link of the tree (lineage reaches other runs) ends: no link loops.
TEST_P(ConformanceTest, FollowingEveryLinkTerminates) {
  const CommandResult r = RunCommand({"find", "-L", root_, "-maxdepth", "12"}, 120);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_EQ(r.err.find("loop"), std::string::npos) << r.err.substr(0, 2000);
  EXPECT_NE(r.out.find("/inputs/"), std::string::npos) << "the walk went through no inputs/";
}

TEST_P(ConformanceTest, StepLogsAreTheRelocatedLogFiles) {
  int logs = 0;
  for (const json& p : oracle_.at("pipelines")) {
    for (const json& r : p.at("runs")) {
      for (const json& s : r.at("steps")) {
        if (s.at("logs_uri").is_null()) continue;
        ++logs;
        const std::string local = Relocated(s.at("logs_uri").get<std::string>());
        ASSERT_EQ(access(local.c_str(), R_OK), 0) << "the sample lacks " << local;
        auto bytes = ReadAll(StepPath(p, r, s) + "/logs");
        ASSERT_TRUE(bytes.has_value()) << StepPath(p, r, s) << "/logs: " << std::strerror(errno);
        EXPECT_EQ(Sha256Hex(*bytes), FileSha256(local)) << StepPath(p, r, s);
      }
    }
  }
  EXPECT_GT(logs, 0);
}

// Reads every file and link in the mount; TearDown then proves the sample is unchanged.
TEST_P(ConformanceTest, ReadingEverythingLeavesTheSampleUnchanged) {
  const auto tree = HashTree(root_);
  int files = 0;
  for (const auto& [rel, hash] : tree) {
    EXPECT_EQ(hash.rfind("unlistable", 0), std::string::npos) << rel << ": " << hash;
    EXPECT_NE(hash, "unstattable") << rel;
    EXPECT_NE(hash, "") << rel << " could not be read";
    if (hash != "dir" && hash.rfind("-> ", 0) != 0) ++files;
  }
  EXPECT_GT(files, 20);
}

#ifdef ZENFS_CONFORMANCE_MYSQL
INSTANTIATE_TEST_SUITE_P(Mysql, ConformanceTest, ::testing::Values(kMysqlSlot));
#elif defined(ZENFS_CONFORMANCE_REST)
INSTANTIATE_TEST_SUITE_P(Rest, ConformanceTest, ::testing::Values(kRestSlot));
#else
INSTANTIATE_TEST_SUITE_P(Samples, ConformanceTest, ::testing::Range(0, kSampleSlots));
#endif

}  // namespace
}  // namespace zenfs::testing
