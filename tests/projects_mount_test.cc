// Projects (ZenML 0.80 and later) end to end: the genuine 0.80 sample given a second
// project that reuses a pipeline name, read through `zenfs ls` and a real mount.
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kResearchId = "0b1e5ea4c0de4a11a5e1000000000001";

bool SampleRequired() {
  const char* v = std::getenv("ZENFS_REQUIRE_SAMPLE");
  return v != nullptr && std::string(v) == "1";
}

// A sample of ZENFS_ZENML_SAMPLE whose store has projects, or "".
std::string ProjectSample() {
  for (const std::string& dir : testing::ZenmlSamples()) {
    const std::string db = dir + "/local_stores/default_zen_store/zenml.db";
    sqlite3* h = nullptr;
    bool has = false;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE name = 'project'", -1, &st, nullptr) == SQLITE_OK) {
        has = sqlite3_step(st) == SQLITE_ROW;
      }
      sqlite3_finalize(st);
    }
    sqlite3_close(h);
    if (has) return dir;
  }
  return "";
}

class ProjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string sample = ProjectSample();
    if (sample.empty()) {
      if (SampleRequired()) FAIL() << "ZENFS_REQUIRE_SAMPLE=1 but no sample with projects in ZENFS_ZENML_SAMPLE";
      GTEST_SKIP() << "ZENFS_ZENML_SAMPLE names no ZenML 0.80+ store";
    }
    store_ = dir_.path() + "/zenml";
    fs::copy(sample, store_, fs::copy_options::recursive);
    db_ = store_ + "/local_stores/default_zen_store/zenml.db";
    // `research`: a pipeline named like the default project's, with one run of its own.
    Exec(std::string("INSERT INTO project (id, created, updated, name, display_name, description) VALUES ('") +
         kResearchId + "', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'research', 'Research', '')");
    // One connection: the temporary tables live as long as it.
    Exec("CREATE TEMP TABLE p AS SELECT * FROM pipeline WHERE name = 'demo_pipeline';"
         "UPDATE p SET id = 'feed0000000000000000000000000001', project_id = '" + std::string(kResearchId) + "';"
         "INSERT INTO pipeline SELECT * FROM p;"
         "CREATE TEMP TABLE r AS SELECT * FROM pipeline_run WHERE pipeline_id = (SELECT id FROM pipeline WHERE "
         "name = 'demo_pipeline' AND project_id != '" + std::string(kResearchId) + "') LIMIT 1;"
         "UPDATE r SET id = 'feed0000000000000000000000000002', name = 'research-run', "
         "orchestrator_run_id = 'research', pipeline_id = 'feed0000000000000000000000000001', "
         "project_id = '" + std::string(kResearchId) + "';"
         "INSERT INTO pipeline_run SELECT * FROM r;");
  }
  void Exec(const std::string& sql) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &h), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(h);
    ASSERT_EQ(rc, SQLITE_OK) << msg << "\n" << sql;
  }
  // The run folders of demo_pipeline that `zenfs ls` shows with `args` before STORE.
  std::vector<std::string> Runs(std::vector<std::string> args, testing::CommandResult* r = nullptr) {
    args.insert(args.begin(), "ls");
    args.push_back(store_);
    args.push_back("demo_pipeline/runs");
    testing::CommandResult res = testing::RunZenfs(args);
    if (r != nullptr) *r = res;
    std::vector<std::string> runs;
    std::stringstream ss(res.out);
    std::string line;
    while (std::getline(ss, line)) {
      const std::string prefix = "demo_pipeline/runs/";
      if (line.rfind(prefix, 0) == 0 && line.find('/', prefix.size()) == std::string::npos &&
          line.rfind(prefix + "latest", 0) != 0) {  // latest, latest-completed, latest-failed
        runs.push_back(line.substr(prefix.size()));
      }
    }
    return runs;
  }

  testing::TempDir dir_;
  std::string store_, db_;
};

TEST_F(ProjectsTest, EachProjectShowsItsOwnPipelineOfTheSameName) {
  const std::vector<std::string> default_runs = Runs({});
  ASSERT_EQ(default_runs.size(), 2u);  // the sample's two demo_pipeline runs
  EXPECT_EQ(Runs({"--project", "research"}), std::vector<std::string>{"research-run"});
  EXPECT_EQ(Runs({"--project", "0b1e5ea4-c0de-4a11-a5e1-000000000001"}), std::vector<std::string>{"research-run"});
  EXPECT_EQ(Runs({"--project", "default"}), default_runs);
  testing::CommandResult r;
  EXPECT_TRUE(Runs({"--project", "nope"}, &r).empty());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("\"default\", \"research\""), std::string::npos) << r.err;

  // The config directory's active project, then the environment's.
  testing::WriteFile(store_ + "/config.yaml", "active_project_id: 0b1e5ea4-c0de-4a11-a5e1-000000000001\n");
  EXPECT_EQ(Runs({}), std::vector<std::string>{"research-run"});
  EXPECT_EQ(Runs({"--project", "default"}), default_runs);
}

TEST_F(ProjectsTest, SeveralProjectsAndNoneChosenIsAStoreError) {
  Exec("UPDATE project SET name = 'prod' WHERE name = 'default'");
  testing::CommandResult r;
  EXPECT_TRUE(Runs({}, &r).empty());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("\"prod\", \"research\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--project"), std::string::npos) << r.err;
  // The sample's config.yaml still names a workspace (`default`), which no longer exists.
  testing::WriteFile(store_ + "/config.yaml", "active_workspace_name: research\n");
  EXPECT_EQ(Runs({}), std::vector<std::string>{"research-run"});
}

TEST_F(ProjectsTest, MountWithProjectOption) {
  ZENFS_SKIP_WITHOUT_FUSE();
  testing::TempDir mnt(testing::MountTestRoot());
  testing::Mount m({store_, mnt.path(), {"-o", "project=research"}});
  ASSERT_TRUE(m.ok()) << m.error();
  const json root = testing::ReadJson(m.path() + "/meta.json");
  ASSERT_FALSE(root.is_discarded());
  EXPECT_EQ(root.at("project").at("name"), "research");
  EXPECT_EQ(root.at("project").at("id"), "0b1e5ea4-c0de-4a11-a5e1-000000000001");
  EXPECT_EQ(root.at("projects"), json({"default", "research"}));
  EXPECT_EQ(root.at("pipelines"), json({"demo_pipeline"}));
  auto runs = testing::ListDir(m.path() + "/demo_pipeline/runs");
  ASSERT_TRUE(runs);
  // latest, and the status view its one run's status gives (it copies a sample run).
  std::vector<std::string> want{"latest", "research-run"};
  const std::string status = testing::ReadJson(m.path() + "/demo_pipeline/runs/research-run/meta.json").value("status", "");
  if (status == "completed" || status == "failed") want.push_back("latest-" + status);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*runs, want);
}

}  // namespace
}  // namespace zenfs
