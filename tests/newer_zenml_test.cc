// What ZenML 0.92-0.97 added to a store, through the tree: logs rows by source and in a
// log store, run-level logs, nested runs, named pipeline outputs, artifact availability,
// chunked inputs, archived runs, a run's index and in_progress. The store is a demo store
// carried forward by SQL written from ZenML's migration scripts (the columns and tables
// they add, as SQLite has them), then given rows of each kind.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_writer.h"
#include "fs/invalidations.h"
#include "fs/tree.h"
#include "store/local_artifact_source.h"
#include "store/sql_catalog.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

using nlohmann::json;

// The columns and tables of the later migrations (0.92 log sources and log stores, 0.95
// nested runs and pipeline outputs, run index and in_progress, input_index, availability).
constexpr const char* kForward = R"sql(
ALTER TABLE pipeline_run ADD COLUMN "index" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN in_progress BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN parent_run_id CHAR(32);
ALTER TABLE pipeline_run ADD COLUMN root_run_id CHAR(32);
ALTER TABLE pipeline_run ADD COLUMN child_key VARCHAR;
ALTER TABLE artifact_version ADD COLUMN availability VARCHAR;
ALTER TABLE step_run_input_artifact ADD COLUMN input_index INTEGER NOT NULL DEFAULT 0;
CREATE TABLE pipeline_run_output (id CHAR(32) NOT NULL PRIMARY KEY, created DATETIME NOT NULL,
  updated DATETIME NOT NULL, name VARCHAR NOT NULL, output_index INTEGER NOT NULL,
  pipeline_run_id CHAR(32) NOT NULL, artifact_id CHAR(32) NOT NULL);
CREATE TABLE logs_new (id CHAR(32) NOT NULL PRIMARY KEY, created DATETIME NOT NULL,
  updated DATETIME NOT NULL, uri TEXT, source VARCHAR(255) NOT NULL, log_key VARCHAR(255),
  pipeline_run_id CHAR(32), step_run_id CHAR(32), artifact_store_id CHAR(32), log_store_id CHAR(32));
INSERT INTO logs_new SELECT id, created, updated, uri, 'step', NULL, pipeline_run_id, step_run_id,
  artifact_store_id, NULL FROM logs;
DROP TABLE logs;
ALTER TABLE logs_new RENAME TO logs;
)sql";

class NewerZenmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoOptions o;
    o.dir = dir_.path() + "/store";
    o.runs = 5;
    o.artifact_bytes = 0;
    ASSERT_TRUE(WriteDemoStore(o).ok());
    db_path_ = o.dir + "/local_stores/default_zen_store/zenml.db";
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db_), SQLITE_OK);
    Exec(kForward);
    runs_ = Column("SELECT id FROM pipeline_run WHERE name LIKE 'example_pipeline-%' ORDER BY created");
    ASSERT_EQ(runs_.size(), 5u);
    run_names_ = Column("SELECT name FROM pipeline_run WHERE name LIKE 'example_pipeline-%' ORDER BY created");
    step1_ = One("SELECT id FROM step_run WHERE pipeline_run_id = '" + runs_[0] + "' AND name = 'step_1'");
    step2_ = One("SELECT id FROM step_run WHERE pipeline_run_id = '" + runs_[0] + "' AND name = 'step_2'");
    store_id_ = One("SELECT artifact_store_id FROM logs LIMIT 1");
    log_dir_ = One("SELECT uri FROM logs WHERE step_run_id = '" + step1_ + "'");
    log_dir_ = log_dir_.substr(0, log_dir_.rfind('/'));
  }
  void TearDown() override { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
  }
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string One(const std::string& sql) {
    auto c = Column(sql);
    EXPECT_FALSE(c.empty()) << sql;
    return c.empty() ? "" : c.front();
  }
  // A logs row; `file` "" leaves uri NULL (a log store), else writes that file.
  void AddLog(const std::string& id, const std::string& source, const std::string& run,
              const std::string& step, const std::string& file, const std::string& text) {
    std::string uri = "NULL";
    if (!file.empty()) {
      testing::WriteFile(log_dir_ + "/" + file, text);
      uri = "'" + log_dir_ + "/" + file + "'";
    }
    Exec("INSERT INTO logs (id, created, updated, uri, source, pipeline_run_id, step_run_id, artifact_store_id, "
         "log_store_id) VALUES ('" + id + "', '2025-03-03 09:00:00.500000', '2025-03-03 09:00:00.500000', " + uri +
         ", '" + source + "', '" + run + "', " + (step.empty() ? "NULL" : "'" + step + "'") + ", " +
         (file.empty() ? "NULL, '" + store_id_ + "'" : "'" + store_id_ + "', NULL") + ")");
  }

  void OpenTree() {
    auto cat = OpenSqliteCatalog(db_path_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    source_ = std::make_unique<LocalArtifactSource>(UriResolver({}, dir_.path() + "/store/local_stores", false));
    auto rows = catalog_->LoadRows(RowScope::kRuns);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    TreeOptions opts;
    opts.store_path = db_path_;
    opts.refresh_seconds = 3600;
    tree_ = std::make_unique<Tree>(*catalog_, *source_, log_, opts, Snapshot::Build(std::move(*rows), 1));
  }
  Result<Entry> Walk(const std::string& path) {
    std::uint64_t ino = kRootIno;
    Result<Entry> e = Status::NotFound("empty path");
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '/')) {
      e = tree_->Lookup(ino, part);
      if (!e.ok()) return e;
      ino = e->attr.ino;
    }
    return e;
  }
  std::vector<std::string> Names(const std::string& path) {
    auto e = Walk(path);
    EXPECT_TRUE(e.ok()) << path << ": " << e.status().ToString();
    if (!e.ok()) return {};
    auto l = tree_->OpenDir(e->attr.ino);
    EXPECT_TRUE(l.ok()) << path << ": " << l.status().ToString();
    std::vector<std::string> names;
    if (l.ok()) {
      for (const Listing::Item& i : (*l)->items) names.push_back(i.name);
    }
    return names;
  }
  std::string Read(const std::string& path) {
    auto e = Walk(path);
    EXPECT_TRUE(e.ok()) << path << ": " << e.status().ToString();
    if (!e.ok()) return "";
    auto f = tree_->Open(e->attr.ino);
    EXPECT_TRUE(f.ok()) << path << ": " << f.status().ToString();
    if (!f.ok()) return "";
    std::string out(1 << 20, '\0');
    auto n = tree_->Read(**f, 0, out.size(), out.data());
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
  }
  json Meta(const std::string& path) { return json::parse(Read(path + "/meta.json")); }
  std::string Link(const std::string& path) {
    auto e = Walk(path);
    EXPECT_TRUE(e.ok()) << path << ": " << e.status().ToString();
    if (!e.ok()) return "";
    EXPECT_TRUE(S_ISLNK(e->attr.mode)) << path;
    auto t = tree_->ReadLink(e->attr.ino);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : "";
  }
  std::string RunPath(int i) { return "example_pipeline/runs/" + run_names_[static_cast<std::size_t>(i)]; }

  testing::TempDir dir_;
  std::string db_path_;
  sqlite3* db_ = nullptr;
  std::vector<std::string> runs_, run_names_;
  std::string step1_, step2_, store_id_, log_dir_;
  Logger log_{Logger::Level::kError, false};
  std::unique_ptr<SqlCatalog> catalog_;
  std::unique_ptr<LocalArtifactSource> source_;
  std::unique_ptr<Tree> tree_;
};

TEST_F(NewerZenmlTest, LogsBySourceAndInALogStore) {
  AddLog("a0000000000000000000000000000001", "orchestrator", runs_[0], step1_, "orch.log", "orchestrator says\n");
  AddLog("a0000000000000000000000000000002", "client/side", runs_[0], step1_, "", "");
  AddLog("a0000000000000000000000000000003", "orchestrator", runs_[0], "", "run.log", "run-level\n");
  AddLog("a0000000000000000000000000000004", "launcher", runs_[0], "", "", "");
  OpenTree();
  const std::string step = RunPath(0) + "/steps/step_1";
  // The step's own logs keep their name; another source is logs.<source>; the log store's
  // row has no file.
  EXPECT_EQ(Names(step), (std::vector<std::string>{"meta.json", "output", "logs", "logs.orchestrator", "outputs"}));
  EXPECT_EQ(Read(step + "/logs.orchestrator"), "orchestrator says\n");
  EXPECT_FALSE(Walk(step + "/logs.client%2Fside").ok());
  const json sm = Meta(step);
  EXPECT_EQ(sm.at("logs_available"), json({{"step", true}, {"client/side", false}, {"orchestrator", true}}));
  const std::string reason = sm.at("logs_unavailable_reason").at("client/side");
  EXPECT_NE(reason.find("log store"), std::string::npos) << reason;
  EXPECT_TRUE(sm.at("logs_unavailable_reason").at("step").is_null());
  // Run-level logs in the run's folder.
  EXPECT_EQ(Names(RunPath(0)), (std::vector<std::string>{"meta.json", "steps", "logs.orchestrator"}));
  EXPECT_EQ(Read(RunPath(0) + "/logs.orchestrator"), "run-level\n");
  const json rm = Meta(RunPath(0));
  EXPECT_EQ(rm.at("logs_available"), json({{"launcher", false}, {"orchestrator", true}}));
  // Steps without log rows of other sources have only their own.
  EXPECT_EQ(Meta(RunPath(0) + "/steps/step_2").at("logs_available"), json({{"step", true}}));
}

TEST_F(NewerZenmlTest, NestedRunsAndPipelineOutputs) {
  // Runs 3 and 4 are children of run 0 (keys with a slash and a plain one).
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[0] + "', root_run_id = '" + runs_[0] +
       "', child_key = 'shard/1' WHERE id = '" + runs_[3] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[0] + "', root_run_id = '" + runs_[0] +
       "', child_key = 'b' WHERE id = '" + runs_[4] + "'");
  const std::string v2 = One("SELECT artifact_id FROM step_run_output_artifact WHERE step_id = '" + step2_ + "'");
  Exec("INSERT INTO pipeline_run_output VALUES ('b0000000000000000000000000000001', '2025-03-03 09:00:01', "
       "'2025-03-03 09:00:01', 'final model', 0, '" + runs_[0] + "', '" + v2 + "')");
  Exec("INSERT INTO pipeline_run_output VALUES ('b0000000000000000000000000000002', '2025-03-03 09:00:01', "
       "'2025-03-03 09:00:01', 'orphan', 1, '" + runs_[0] + "', 'ffffffffffffffffffffffffffffffff')");
  OpenTree();
  EXPECT_EQ(Names(RunPath(0)), (std::vector<std::string>{"meta.json", "steps", "children", "outputs"}));
  EXPECT_EQ(Names(RunPath(0) + "/children"), (std::vector<std::string>{"shard%2F1", "b"}));
  EXPECT_EQ(Link(RunPath(0) + "/children/shard%2F1"), "../../../../" + RunPath(3));
  EXPECT_EQ(Link(RunPath(0) + "/children/b"), "../../../../" + RunPath(4));
  // The children stay ordinary runs of their pipeline, eligible for latest.
  EXPECT_EQ(Link("example_pipeline/runs/latest"), run_names_[4]);
  // An output no step of the run provides is in meta.json only.
  EXPECT_EQ(Names(RunPath(0) + "/outputs"), (std::vector<std::string>{"final model"}));
  EXPECT_EQ(Link(RunPath(0) + "/outputs/final model"), "../steps/step_2/outputs/output");
  const json rm = Meta(RunPath(0));
  EXPECT_TRUE(rm.at("parent_run").is_null());
  EXPECT_EQ(rm.at("children"), json({{"shard/1", RunPath(3)}, {"b", RunPath(4)}}));
  EXPECT_EQ(rm.at("outputs"), json({{"final model", RunPath(0) + "/steps/step_2/outputs/output"}, {"orphan", nullptr}}));
  EXPECT_EQ(Meta(RunPath(3)).at("parent_run"), RunPath(0));
  EXPECT_EQ(Meta(RunPath(3)).at("children"), json::object());
  // A run without either has neither folder.
  EXPECT_EQ(Names(RunPath(1)), (std::vector<std::string>{"meta.json", "steps"}));
  EXPECT_FALSE(Walk(RunPath(1) + "/children").ok());
  EXPECT_FALSE(Walk(RunPath(1) + "/outputs").ok());
}

TEST_F(NewerZenmlTest, AParentLoopOrAMissingParentIsNoCrash) {
  Exec("UPDATE pipeline_run SET parent_run_id = id, child_key = 'self' WHERE id = '" + runs_[1] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[3] + "', child_key = 'x' WHERE id = '" + runs_[2] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[2] + "', child_key = 'y' WHERE id = '" + runs_[3] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = 'gone', child_key = NULL WHERE id = '" + runs_[4] + "'");
  OpenTree();
  EXPECT_EQ(Names(RunPath(1)), (std::vector<std::string>{"meta.json", "steps"}));
  EXPECT_EQ(Link(RunPath(2) + "/children/y"), "../../../../" + RunPath(3));
  EXPECT_EQ(Link(RunPath(3) + "/children/x"), "../../../../" + RunPath(2));
  EXPECT_TRUE(Meta(RunPath(4)).at("parent_run").is_null());
}

TEST_F(NewerZenmlTest, UnavailableArtifactIsShownAndNeverRead) {
  const std::string v = One("SELECT artifact_id FROM step_run_output_artifact WHERE step_id = '" + step1_ + "'");
  Exec("UPDATE artifact_version SET availability = 'available'");
  Exec("UPDATE artifact_version SET availability = 'upload_failed' WHERE id = '" + v + "'");
  OpenTree();
  const std::string out = RunPath(0) + "/steps/step_1/outputs/output";
  EXPECT_EQ(Names(out), (std::vector<std::string>{"meta.json"}));
  const json m = Meta(out);
  EXPECT_EQ(m.at("available"), false);
  EXPECT_NE(m.at("unavailable_reason").get<std::string>().find("upload_failed"), std::string::npos);
  EXPECT_TRUE(m.at("files").empty());
  // "available" is available.
  EXPECT_EQ(Meta(RunPath(0) + "/steps/step_2/outputs/output").at("available"), true);
}

TEST_F(NewerZenmlTest, ChunkedInputsInTheirOrder) {
  const std::string v1 = One("SELECT artifact_id FROM step_run_output_artifact WHERE step_id = '" + step1_ + "'");
  // Another run's step_1 output (not a cached copy of this one's).
  const std::string other = One("SELECT s.pipeline_run_id FROM step_run_output_artifact o JOIN step_run s ON "
                                "s.id = o.step_id WHERE s.name = 'step_1' AND o.artifact_id != '" + v1 +
                                "' ORDER BY s.created LIMIT 1");
  const std::string v0 = One("SELECT artifact_id FROM step_run_output_artifact o JOIN step_run s ON s.id = o.step_id "
                             "WHERE s.pipeline_run_id = '" + other + "' AND s.name = 'step_1'");
  const int other_run = static_cast<int>(std::find(runs_.begin(), runs_.end(), other) - runs_.begin());
  const std::string name = One("SELECT name FROM step_run_input_artifact WHERE step_id = '" + step2_ + "'");
  // Chunk 0 from another run's step_1, chunk 1 this run's: the order is input_index's.
  Exec("UPDATE step_run_input_artifact SET input_index = 1 WHERE step_id = '" + step2_ + "'");
  Exec("INSERT INTO step_run_input_artifact (name, type, step_id, artifact_id, input_index) VALUES ('" + name +
       "', 'step_output', '" + step2_ + "', '" + v0 + "', 0)");
  OpenTree();
  const json in = Meta(RunPath(0) + "/steps/step_2").at("inputs").at(name);
  ASSERT_EQ(in.size(), 2u) << in.dump();
  EXPECT_EQ(in[0], RunPath(other_run) + "/steps/step_1/outputs/output");
  EXPECT_EQ(in[1], RunPath(0) + "/steps/step_1/outputs/output");
}

TEST_F(NewerZenmlTest, ArchivedRunIndexAndInProgress) {
  Exec("UPDATE pipeline_run SET \"index\" = rowid, in_progress = 0");
  Exec("UPDATE pipeline_run SET in_progress = 1 WHERE id = '" + runs_[4] + "'");
  // Archiving clears the detail columns and the step configurations.
  Exec("UPDATE pipeline_run SET orchestrator_environment = NULL, pipeline_configuration = NULL, "
       "client_environment = NULL WHERE id = '" + runs_[2] + "'");
  Exec("UPDATE step_run SET step_configuration = NULL, source_code = NULL, docstring = NULL "
       "WHERE pipeline_run_id = '" + runs_[2] + "'");
  Exec("UPDATE pipeline_deployment SET pipeline_configuration = '{}', step_configurations = '{}', "
       "pipeline_spec = NULL WHERE id = (SELECT deployment_id FROM pipeline_run WHERE id = '" + runs_[2] + "')");
  OpenTree();
  const json m = Meta(RunPath(2));
  EXPECT_EQ(m.at("in_progress"), false);
  EXPECT_TRUE(m.at("index").is_number_integer());
  EXPECT_EQ(m.at("runtime_configuration").at("pipeline_configuration"), json::object());
  EXPECT_TRUE(m.at("runtime_configuration").at("source").is_null());
  const json st = Meta(RunPath(2) + "/steps/step_1");
  EXPECT_TRUE(st.at("source_code").is_null());
  EXPECT_TRUE(st.at("docstring").is_null());
  EXPECT_EQ(st.at("parameters"), json::object());
  EXPECT_EQ(Meta(RunPath(4)).at("in_progress"), true);
}

TEST_F(NewerZenmlTest, EntriesThatAppearWhileMountedAreInvalidated) {
  OpenTree();
  ASSERT_EQ(Names(RunPath(0)), (std::vector<std::string>{"meta.json", "steps"}));
  auto run = Walk(RunPath(0));
  ASSERT_TRUE(run.ok());
  tree_->Refresh();  // the whole structure now
  const std::string v2 = One("SELECT artifact_id FROM step_run_output_artifact WHERE step_id = '" + step2_ + "'");
  Exec("INSERT INTO pipeline_run_output VALUES ('b0000000000000000000000000000001', '2025-03-03 09:00:01', "
       "'2025-03-03 09:00:01', 'model', 0, '" + runs_[0] + "', '" + v2 + "')");
  AddLog("a0000000000000000000000000000003", "orchestrator", runs_[0], "", "run.log", "run-level\n");
  AddLog("a0000000000000000000000000000001", "orchestrator", runs_[0], step1_, "orch.log", "step\n");
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[0] + "', child_key = 'k' WHERE id = '" + runs_[1] + "'");
  const std::vector<Invalidation> inv = tree_->Refresh();
  auto named = [&](std::uint64_t dir, const std::string& name) {
    return std::any_of(inv.begin(), inv.end(), [&](const Invalidation& i) {
      return i.kind == Invalidation::Kind::kEntry && i.ino == dir && i.name == name;
    });
  };
  EXPECT_TRUE(named(run->attr.ino, "outputs"));
  EXPECT_TRUE(named(run->attr.ino, "children"));
  EXPECT_TRUE(named(run->attr.ino, "logs.orchestrator"));
  auto step = Walk(RunPath(0) + "/steps/step_1");
  ASSERT_TRUE(step.ok());
  EXPECT_TRUE(named(step->attr.ino, "logs.orchestrator"));
  EXPECT_EQ(Names(RunPath(0)),
            (std::vector<std::string>{"meta.json", "steps", "children", "outputs", "logs.orchestrator"}));
  EXPECT_EQ(Read(RunPath(0) + "/steps/step_1/logs.orchestrator"), "step\n");
}

}  // namespace
}  // namespace zenfs
