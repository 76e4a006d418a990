// What ZenML 0.92-0.97 added to a store, through the tree: logs rows by source and in a
// log store, run-level logs, nested runs, named pipeline outputs, artifact availability,
// chunked inputs, archived runs, a run's index and in_progress. The store is a demo store
// carried forward by SQL written from ZenML's migration scripts (the columns and tables
// they add, as SQLite has them), then given rows of each kind.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_writer.h"
#include "fs/invalidations.h"
#include "fs/tree.h"
#include "store/local_artifact_source.h"
#include "store/projects.h"
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
    o.schema = DemoSchema::kZenml074;  // the store the migrations' SQL below carries forward
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

  // A tree over the store (the project `project_id` only, when given).
  void OpenTree(const std::string& project_id = "") {
    auto cat = OpenSqliteCatalog(db_path_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    if (!project_id.empty()) catalog_->ShowProject(project_id);
    source_ = std::make_unique<LocalArtifactSource>(UriResolver({}, dir_.path() + "/store/local_stores", false));
    auto rows = catalog_->LoadRows(RowScope::kRuns);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    TreeOptions opts;
    opts.store_path = db_path_;
    opts.refresh_seconds = 3600;
    tree_ = std::make_unique<Tree>(*catalog_, *source_, log_, opts, Snapshot::Build(std::move(*rows), 1));
  }
  // Looks `path` up from the root ("" is the root itself).
  Result<Entry> Walk(const std::string& path) {
    std::uint64_t ino = kRootIno;
    Result<Entry> e = tree_->GetAttr(kRootIno);
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '/')) {
      if (part.empty()) continue;
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
  EXPECT_EQ(Names(RunPath(0)), (std::vector<std::string>{"meta.json", "steps", "dag.svg", "dag.dot", "logs.orchestrator"}));
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
  EXPECT_EQ(Names(RunPath(0)), (std::vector<std::string>{"meta.json", "steps", "dag.svg", "dag.dot", "children", "outputs"}));
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
  EXPECT_EQ(Names(RunPath(1)), (std::vector<std::string>{"meta.json", "steps", "dag.svg", "dag.dot"}));
  EXPECT_FALSE(Walk(RunPath(1) + "/children").ok());
  EXPECT_FALSE(Walk(RunPath(1) + "/outputs").ok());
}

TEST_F(NewerZenmlTest, AParentLoopOrAMissingParentIsNoCrash) {
  Exec("UPDATE pipeline_run SET parent_run_id = id, child_key = 'self' WHERE id = '" + runs_[1] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[3] + "', child_key = 'x' WHERE id = '" + runs_[2] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[2] + "', child_key = 'y' WHERE id = '" + runs_[3] + "'");
  Exec("UPDATE pipeline_run SET parent_run_id = 'gone', child_key = NULL WHERE id = '" + runs_[4] + "'");
  OpenTree();
  EXPECT_EQ(Names(RunPath(1)), (std::vector<std::string>{"meta.json", "steps", "dag.svg", "dag.dot"}));
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
  // Lineage: a chunked input is a folder of links 0, 1 in input order, each to the output
  // that produced its version (from inputs/<name>/: seven levels up to the root).
  const std::string chunks = RunPath(0) + "/steps/step_2/inputs/" + name;
  EXPECT_EQ(Names(RunPath(0) + "/steps/step_2/inputs"), std::vector<std::string>{name});
  EXPECT_EQ(Names(chunks), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(Link(chunks + "/0"), "../../../../../../../" + RunPath(other_run) + "/steps/step_1/outputs/output");
  EXPECT_EQ(Link(chunks + "/1"), "../../../../../../../" + RunPath(0) + "/steps/step_1/outputs/output");
  EXPECT_FALSE(Walk(chunks + "/2").ok());
  EXPECT_FALSE(Walk(chunks + "/01").ok());
  // A single-version input is one link, six levels up, to the producing step: for a
  // version a cached step copied, the original's.
  const std::string single = Link(RunPath(1) + "/steps/step_2/inputs/" + name);
  const std::string up = "../../../../../../", tail = "/steps/step_1/outputs/output";
  ASSERT_EQ(single.rfind(up, 0), 0u) << single;
  ASSERT_GT(single.size(), up.size() + tail.size());
  ASSERT_EQ(single.substr(single.size() - tail.size()), tail) << single;
  const std::string producer = single.substr(up.size(), single.size() - up.size() - std::string("/outputs/output").size());
  EXPECT_TRUE(Meta(producer).at("original_step_run").is_null()) << producer;
  EXPECT_EQ(Meta(producer + "/outputs/output").at("artifact_version_id"),
            Meta(RunPath(1) + "/steps/step_1/outputs/output").at("artifact_version_id"));
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
  ASSERT_EQ(Names(RunPath(0)), (std::vector<std::string>{"meta.json", "steps", "dag.svg", "dag.dot"}));
  auto run = Walk(RunPath(0));
  ASSERT_TRUE(run.ok());
  tree_->Refresh();  // the whole structure now
  const std::string v2 = One("SELECT artifact_id FROM step_run_output_artifact WHERE step_id = '" + step2_ + "'");
  Exec("INSERT INTO pipeline_run_output VALUES ('b0000000000000000000000000000001', '2025-03-03 09:00:01', "
       "'2025-03-03 09:00:01', 'model', 0, '" + runs_[0] + "', '" + v2 + "')");
  AddLog("a0000000000000000000000000000003", "orchestrator", runs_[0], "", "run.log", "run-level\n");
  AddLog("a0000000000000000000000000000001", "orchestrator", runs_[0], step1_, "orch.log", "step\n");
  // Stamped, as ZenML's updates are: a refresh reads the rows stamped since the last one.
  Exec("UPDATE pipeline_run SET parent_run_id = '" + runs_[0] + "', child_key = 'k', "
       "updated = strftime('%Y-%m-%d %H:%M:%f', 'now') "
       "WHERE id = '" + runs_[1] + "'");
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
            (std::vector<std::string>{"meta.json", "steps", "dag.svg", "dag.dot", "children", "outputs", "logs.orchestrator"}));
  EXPECT_EQ(Read(RunPath(0) + "/steps/step_1/logs.orchestrator"), "step\n");
}

// The demo store of each --schema through the reader: what the schemas share shows the
// same, and what only the newest has shows as the rest of this file expects.
class DemoSchemasTest : public NewerZenmlTest {
 protected:
  void SetUp() override {}
  // Writes the demo in `schema` into a folder of its own and opens a tree over it, showing
  // `project_id`, or the project a mount would choose (ChooseProject with no hints).
  void Write(DemoSchema schema, std::string project_id = "") {
    DemoOptions o;
    o.dir = dir_.path() + "/store";
    std::filesystem::remove_all(o.dir);
    o.runs = 5;
    o.artifact_bytes = 0;
    o.schema = schema;
    ASSERT_TRUE(WriteDemoStore(o).ok());
    db_path_ = o.dir + "/local_stores/default_zen_store/zenml.db";
    if (project_id.empty()) {
      auto cat = OpenSqliteCatalog(db_path_);
      ASSERT_TRUE(cat.ok());
      auto projects = (*cat)->ListProjects();
      ASSERT_TRUE(projects.ok());
      auto chosen = ChooseProject(*projects, {});
      ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
      if (*chosen) project_id = (*chosen)->id;
    }
    OpenTree(project_id);
  }
  // Every path below `top` with, for each meta.json, the fields the schemas share.
  std::map<std::string, std::string> Picture(const std::string& top) {
    std::map<std::string, std::string> out;
    std::vector<std::string> todo{top};
    while (!todo.empty()) {
      const std::string dir = todo.back();
      todo.pop_back();
      for (const std::string& name : Names(dir)) {
        const std::string path = dir + "/" + name;
        auto e = Walk(path);
        EXPECT_TRUE(e.ok()) << path;
        if (!e.ok()) continue;
        if (S_ISDIR(e->attr.mode)) {
          todo.push_back(path);
          out[path] = "dir";
        } else if (S_ISLNK(e->attr.mode)) {
          out[path] = "-> " + Link(path);
        } else if (name == "meta.json") {
          const json m = json::parse(Read(path));
          std::string facts;
          for (const char* k : {"name", "id", "status", "start_time", "end_time", "steps", "runs", "outputs",
                                "inputs", "original_step_run", "uri", "files", "producer", "parameters"}) {
            if (m.contains(k)) facts += std::string(k) + "=" + m.at(k).dump() + ";";
          }
          out[path] = facts;
        } else {
          out[path] = std::to_string(e->attr.size);
        }
      }
    }
    return out;
  }
};

TEST_F(DemoSchemasTest, WhatTheSchemasShareShowsTheSame) {
  Write(DemoSchema::kZenml074);
  const auto example = Picture("example_pipeline");
  const auto training = Picture("training_pipeline");
  ASSERT_GT(example.size(), 50u);
  for (DemoSchema schema : {DemoSchema::kZenml080, DemoSchema::kLatest}) {
    SCOPED_TRACE(static_cast<int>(schema));
    Write(schema);
    EXPECT_EQ(Picture("example_pipeline"), example);
    EXPECT_EQ(Picture("training_pipeline"), training);
  }
}

TEST_F(DemoSchemasTest, TheNewestSchemaShowsEverythingItAdds) {
  Write(DemoSchema::kLatest);
  const json root = Meta("");
  EXPECT_EQ(root.at("store").at("schema_version"), "0.97.0");
  EXPECT_EQ(root.at("projects"), json({"default", "research"}));
  EXPECT_EQ(root.at("project").at("name"), "default");
  const std::vector<std::string> pipelines = Names("");
  for (const char* p : {"example_pipeline", "training_pipeline", "nested_pipeline", "fold_pipeline",
                        "cleanup_pipeline", "unlisted"}) {
    EXPECT_NE(std::find(pipelines.begin(), pipelines.end(), p), pipelines.end()) << p;
  }
  // Nested run and pipeline outputs.
  const std::string parent = "nested_pipeline/runs/" + Link("nested_pipeline/runs/latest");
  const std::string child_link = Link(parent + "/children/fold 1");
  EXPECT_EQ(child_link.rfind("../../../../fold_pipeline/runs/", 0), 0u) << child_link;
  const json pm = Meta(parent);
  ASSERT_EQ(pm.at("children").size(), 1u);
  EXPECT_EQ(pm.at("children").at("fold 1"), child_link.substr(12));
  const std::string child = child_link.substr(12);
  EXPECT_EQ(Meta(child).at("parent_run").get<std::string>().rfind("nested_pipeline/runs/", 0), 0u);
  EXPECT_EQ(Link(parent + "/outputs/dataset").rfind("../steps/", 0), 0u);
  EXPECT_FALSE(Names(child + "/outputs").empty());
  // Logs of several sources, run-level logs, a log store's row.
  EXPECT_FALSE(Read(parent + "/steps/prepare/logs.orchestrator").empty());
  EXPECT_FALSE(Read(parent + "/logs.client").empty());
  bool log_store = false;
  for (const std::string& step : Names(child + "/steps")) {
    const json sm = Meta(child + "/steps/" + step);
    for (const auto& [source, available] : sm.at("logs_available").items()) {
      if (!available.get<bool>()) {
        log_store = true;
        EXPECT_NE(sm.at("logs_unavailable_reason").at(source).get<std::string>().find("log store"),
                  std::string::npos);
      }
    }
  }
  EXPECT_TRUE(log_store) << "the demo's log-store row";
  // An artifact that failed to upload.
  const json plot = Meta(child + "/steps/score/outputs/plot");
  EXPECT_EQ(plot.at("available"), false);
  EXPECT_NE(plot.at("unavailable_reason").get<std::string>().find("upload_failed"), std::string::npos);
  EXPECT_EQ(Names(child + "/steps/score/outputs/plot"), std::vector<std::string>{"meta.json"});
  // The archived run's details are gone, not an error; index and in_progress are there.
  const std::string cleanup = "cleanup_pipeline/runs/" + Link("cleanup_pipeline/runs/latest");
  const json archived = Meta(cleanup);
  EXPECT_TRUE(archived.at("index").is_number_integer());
  EXPECT_EQ(archived.at("in_progress"), false);
  EXPECT_EQ(archived.at("runtime_configuration").at("pipeline_configuration"), json::object());
  EXPECT_TRUE(archived.at("runtime_configuration").at("source").is_null());
  EXPECT_EQ(Meta(cleanup + "/steps/vacuum").at("parameters"), json::object());
}

TEST_F(DemoSchemasTest, TheResearchProjectHasItsOwnPipelineOfTheSameName) {
  Write(DemoSchema::kLatest);
  auto projects = catalog_->ListProjects();
  ASSERT_TRUE(projects.ok());
  std::string research;
  for (const ProjectRow& p : *projects) {
    if (p.name == "research") research = p.id;
  }
  ASSERT_FALSE(research.empty());
  auto run_names = [&] {  // without latest, latest-completed, latest-failed
    std::vector<std::string> names = Names("training_pipeline/runs");
    std::erase_if(names, [](const std::string& n) { return n.rfind("latest", 0) == 0; });
    return names;
  };
  const std::vector<std::string> default_runs = run_names();
  Write(DemoSchema::kLatest, research);
  EXPECT_EQ(Names(""), (std::vector<std::string>{"meta.json", "%by-id", "%artifacts", "training_pipeline"}));
  // Only the project's own artifacts (the default project's registered baseline is not one).
  EXPECT_EQ(Names("%artifacts"), (std::vector<std::string>{"accuracy", "eval résumé", "features", "labels"}));
  const std::vector<std::string> research_runs = run_names();
  EXPECT_EQ(research_runs.size(), 2u);
  EXPECT_NE(research_runs, default_runs);
  EXPECT_EQ(Meta("").at("project").at("name"), "research");
}

}  // namespace
}  // namespace zenfs
