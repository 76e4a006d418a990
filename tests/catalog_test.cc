// The SQLite catalog: refusing what is not a ZenML store, reading 0.74 and the newer
// schema layout, and never writing.
#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

#include "demo/demo_writer.h"
#include "store/json_limits.h"
#include "fs/snapshot.h"
#include "store/sql_catalog.h"
#include "store/store_locator.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

void Sql(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
  sqlite3_free(err);
  sqlite3_close(h);
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoOptions o;
    o.dir = dir_.path() + "/store";
    o.artifact_bytes = 0;
    o.schema = DemoSchema::kZenml074;  // pinned to the 0.74 layout its expectations assume
    ASSERT_TRUE(WriteDemoStore(o).ok());
    db_ = o.dir + "/local_stores/default_zen_store/zenml.db";
  }
  testing::TempDir dir_;
  std::string db_;
};

TEST_F(CatalogTest, NeverReadsAnotherDatabaseSwappedInAfterOpening) {
  // The store's writer owns the folders above zenml.db: after the mount opened it, its
  // folder becomes a link to another user's store folder. Connections opened later must
  // not read that other database (nor a zenml.db made a link itself).
  auto cat = OpenSqliteCatalog(db_);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  const std::string other = dir_.path() + "/other";
  std::filesystem::create_directories(other);
  std::filesystem::copy_file(db_, other + "/zenml.db");
  Sql(other + "/zenml.db", "UPDATE pipeline SET name = 'OTHER-USERS-PIPELINE' || id");
  const std::string folder = dir_.path() + "/store/local_stores/default_zen_store";
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "folder made a link" : "zenml.db made a link");
    if (round == 0) {
      std::filesystem::rename(folder, folder + ".orig");
      std::filesystem::create_symlink(other, folder);
    } else {
      std::filesystem::remove(folder);
      std::filesystem::rename(folder + ".orig", folder);
      std::filesystem::rename(db_, db_ + ".orig");
      std::filesystem::create_symlink(other + "/zenml.db", db_);
    }
    // Several connections at once: each may be opened now.
    std::vector<std::thread> readers;
    std::atomic<int> leaked{0};
    for (int i = 0; i < 4; ++i) {
      readers.emplace_back([&] {
        for (int j = 0; j < 20; ++j) {
          auto rows = (*cat)->LoadRows(RowScope::kPipelines);
          if (!rows.ok()) continue;
          for (const PipelineRow& p : rows->pipelines) {
            if (std::string_view(p.name).rfind("OTHER-USERS-PIPELINE", 0) == 0) ++leaked;
          }
        }
      });
    }
    for (std::thread& t : readers) t.join();
    EXPECT_EQ(leaked.load(), 0);
  }
}

TEST_F(CatalogTest, RefusesWhatIsNotAZenmlStore) {
  struct Case {
    const char* what;
    std::function<std::string()> make;
    Status::Code code;
    const char* says;
  };
  const std::string d = dir_.path();
  const std::vector<Case> cases = {
      {"missing file", [&] { return d + "/nope.db"; }, Status::Code::kNotFound, "no such file"},
      {"text file", [&] { testing::WriteFile(d + "/t.db", "hello, not sqlite\n"); return d + "/t.db"; },
       Status::Code::kCorruption, "t.db"},
      {"empty sqlite",
       [&] { Sql(d + "/e.db", "CREATE TABLE x(a)"); return d + "/e.db"; },
       Status::Code::kUnsupported, "table pipeline"},
      {"missing column",
       [&] {
         std::filesystem::copy_file(db_, d + "/c.db");
         Sql(d + "/c.db", "ALTER TABLE pipeline_run DROP COLUMN status");
         return d + "/c.db";
       },
       Status::Code::kUnsupported, "column pipeline_run.status"},
      {"a directory", [&] { return d; }, Status::Code::kInvalidArgument, "not a regular file"},
  };
  for (const Case& c : cases) {
    const std::string path = c.make();
    auto cat = OpenSqliteCatalog(path);
    Status s = cat.ok() ? (*cat)->LoadRows(RowScope::kAll).status() : cat.status();
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.says), std::string::npos) << c.what << ": " << s.message();
  }
}

TEST_F(CatalogTest, TruncatedStoreIsAnErrorNotACrash) {
  const std::string copy = dir_.path() + "/trunc.db";
  std::filesystem::copy_file(db_, copy);
  std::filesystem::resize_file(copy, std::filesystem::file_size(copy) / 2);
  auto cat = OpenSqliteCatalog(copy);
  Status s = cat.ok() ? (*cat)->LoadRows(RowScope::kAll).status() : cat.status();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("trunc.db"), std::string::npos) << s.message();
}

TEST_F(CatalogTest, ReadsTheNewerSchemaLayout) {
  auto before = OpenSqliteCatalog(db_);
  ASSERT_TRUE(before.ok());
  auto rows0 = (*before)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(rows0.ok());
  // Find a run whose deployment has a code reference, to compare git_sha after renames.
  std::string run_with_sha, sha;
  for (const RunRow& r : rows0->runs) {
    RunDetail d;
    ASSERT_TRUE((*before)->GetRunDetail(std::string(r.id), &d).ok());
    if (d.git_sha) {
      run_with_sha = r.id;
      sha = *d.git_sha;
      break;
    }
  }
  ASSERT_FALSE(run_with_sha.empty()) << "the demo store should set git_sha for some runs";
  before->reset();

  // ZenML 0.80 renamed workspace_id to project_id; 0.90 pipeline_deployment to
  // pipeline_snapshot and deployment_id to snapshot_id.
  Sql(db_,
      "ALTER TABLE pipeline_run RENAME COLUMN workspace_id TO project_id;"
      "ALTER TABLE step_run RENAME COLUMN workspace_id TO project_id;"
      "ALTER TABLE pipeline_deployment RENAME TO pipeline_snapshot;"
      "ALTER TABLE pipeline_run RENAME COLUMN deployment_id TO snapshot_id;"
      "ALTER TABLE step_run RENAME COLUMN deployment_id TO snapshot_id;");
  auto after = OpenSqliteCatalog(db_);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  auto rows1 = (*after)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(rows1.ok());
  EXPECT_EQ(rows1->runs.size(), rows0->runs.size());
  EXPECT_EQ(rows1->steps.size(), rows0->steps.size());
  RunDetail d;
  ASSERT_TRUE((*after)->GetRunDetail(run_with_sha, &d).ok());
  ASSERT_TRUE(d.git_sha.has_value());
  EXPECT_EQ(*d.git_sha, sha);
}

// An artifact version's visualizations come with its details, in ZenML's order (SQLite's
// rowid, whatever their ids or times say), and only its own.
TEST_F(CatalogTest, ArtifactDetailHasItsVisualizationsInRowOrder) {
  {
    auto catalog = OpenSqliteCatalog(db_);
    ASSERT_TRUE(catalog.ok());
    auto rows = (*catalog)->LoadRows(RowScope::kAll);
    ASSERT_TRUE(rows.ok());
    int visualized = 0;
    for (const ArtifactVersionRow& v : rows->artifact_versions) {
      ArtifactDetail d;
      ASSERT_TRUE((*catalog)->GetArtifactDetail(std::string(v.id), &d).ok());
      // The structure row says the same as the details, so a listing need not read them.
      EXPECT_EQ(v.visualizations, d.visualizations.empty() ? 0 : 1) << std::string_view(v.id);
      if (d.visualizations.empty()) continue;
      ++visualized;
      ASSERT_EQ(d.visualizations.size(), 2u) << "the demo's HTML and PNG";
      EXPECT_EQ(d.visualizations[0].type, "html");
      EXPECT_EQ(d.visualizations[0].uri, std::string(v.uri) + "/visualization.html");
      EXPECT_EQ(d.visualizations[1].type, "image");
      EXPECT_EQ(d.visualizations[1].uri, std::string(v.uri) + "/visualization.png");
    }
    EXPECT_EQ(visualized, 1) << "the 0.74 demo visualizes training_pipeline's one features version";
  }
  // Rows whose ids and times sort the other way still come in row order.
  Sql(db_,
      "CREATE TABLE vis_copy AS SELECT * FROM artifact_visualization ORDER BY rowid;"
      "DELETE FROM artifact_visualization;"
      "INSERT INTO artifact_visualization SELECT 'f' || substr(id, 2), '2099-01-01 00:00:00.000000', updated, "
      "type, uri, artifact_version_id FROM vis_copy ORDER BY rowid LIMIT 1;"
      "INSERT INTO artifact_visualization SELECT '0' || substr(id, 2), '2000-01-01 00:00:00.000000', updated, "
      "'markdown', uri || '.md', artifact_version_id FROM vis_copy ORDER BY rowid LIMIT 1;");
  auto catalog = OpenSqliteCatalog(db_);
  ASSERT_TRUE(catalog.ok());
  auto rows = (*catalog)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(rows.ok());
  bool found = false;
  for (const ArtifactVersionRow& v : rows->artifact_versions) {
    ArtifactDetail d;
    ASSERT_TRUE((*catalog)->GetArtifactDetail(std::string(v.id), &d).ok());
    if (d.visualizations.empty()) continue;
    found = true;
    ASSERT_EQ(d.visualizations.size(), 2u);
    EXPECT_EQ(d.visualizations[0].type, "html");
    EXPECT_EQ(d.visualizations[1].type, "markdown");
  }
  EXPECT_TRUE(found);
}

// An artifact store component's flavor and the S3 flavor's client_kwargs (endpoint_url,
// region_name) reach the rows the artifact sources are given (store/s3_artifact_source.h).
TEST_F(CatalogTest, ReadsTheArtifactStoresFlavorAndClientKwargs) {
  // {"path": "s3://team/zenml", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000",
  // "region_name": "eu-west-1"}} as ZenML keeps it: base64 JSON in a BLOB.
  Sql(db_, "UPDATE stack_component SET flavor = 's3', configuration = CAST('eyJwYXRoIjogInMzOi8vdGVhbS96ZW5tbCIsICJjbGllbnRfa3dhcmdzIjogeyJlbmRwb2ludF91cmwiOiAiaHR0cDovLzEyNy4wLjAuMTo5MDAwIiwgInJlZ2lvbl9uYW1lIjogImV1LXdlc3QtMSJ9fQ==' AS BLOB) "
           "WHERE type = 'artifact_store'");
  auto cat = OpenSqliteCatalog(db_);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  auto rows = (*cat)->LoadRows(RowScope::kPipelines);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->artifact_stores.size(), 1u);
  const ArtifactStoreRow& a = rows->artifact_stores[0];
  EXPECT_EQ(a.flavor, "s3");
  EXPECT_EQ(a.configured_root, "s3://team/zenml");
  EXPECT_EQ(a.endpoint_url, "http://127.0.0.1:9000");
  EXPECT_EQ(a.region_name, "eu-west-1");
  // Values that are not text are no values.
  Sql(db_, "UPDATE stack_component SET configuration = CAST('eyJwYXRoIjogInMzOi8vdGVhbS96ZW5tbCIsICJjbGllbnRfa3dhcmdzIjogeyJlbmRwb2ludF91cmwiOiA3LCAicmVnaW9uX25hbWUiOiBudWxsfX0=' AS BLOB) WHERE type = 'artifact_store'");
  rows = (*cat)->LoadRows(RowScope::kPipelines);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->artifact_stores.size(), 1u);
  EXPECT_EQ(rows->artifact_stores[0].configured_root, "s3://team/zenml");
  EXPECT_EQ(rows->artifact_stores[0].endpoint_url, "");
  EXPECT_EQ(rows->artifact_stores[0].region_name, "");
}

// A mount lists the pipelines from each one's first run alone (RowScope::kPipelines): the
// same names, order and times as from every run, orphans and NULL start times included.
TEST_F(CatalogTest, FirstRunsPlaceThePipelinesAsAllTheirRunsDo) {
  Sql(db_, "UPDATE pipeline_run SET pipeline_id = NULL WHERE rowid = (SELECT min(rowid) FROM pipeline_run)");
  Sql(db_, "UPDATE pipeline_run SET pipeline_id = 'a pipeline deleted since' "
           "WHERE rowid = (SELECT max(rowid) FROM pipeline_run)");
  Sql(db_, "UPDATE pipeline_run SET start_time = NULL, created = '2001-02-03 04:05:06.000007' "
           "WHERE rowid = (SELECT max(rowid) FROM pipeline_run WHERE pipeline_id IN (SELECT id FROM pipeline))");
  auto cat = OpenSqliteCatalog(db_);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  auto first = (*cat)->LoadRows(RowScope::kPipelines);
  auto all = (*cat)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(first.ok() && all.ok());
  EXPECT_TRUE(first->runs.empty());
  auto partial = Snapshot::Build(std::move(*first), 1);
  auto whole = Snapshot::Build(std::move(*all), 1);
  ASSERT_EQ(partial->pipeline_names(), whole->pipeline_names());
  EXPECT_NE(std::find(whole->pipeline_names().begin(), whole->pipeline_names().end(), "%unlisted"),
            whole->pipeline_names().end());
  bool moved_first = false;
  for (std::size_t i = 0; i < whole->pipelines().size(); ++i) {
    const Snapshot::Pipeline& p = partial->pipelines()[i];
    const Snapshot::Pipeline& w = whole->pipelines()[i];
    EXPECT_EQ(p.id, w.id);
    EXPECT_EQ(p.name, w.name);
    EXPECT_EQ(p.first.when, w.first.when) << w.name;
    EXPECT_EQ(p.first.created, w.first.created) << w.name;
    EXPECT_EQ(p.first.id, w.first.id) << w.name;
    EXPECT_TRUE(p.runs.empty());
    moved_first |= w.first.when == *ParseStoreTime("2001-02-03 04:05:06.000007");
  }
  EXPECT_TRUE(moved_first) << "the run without a start time should lead its pipeline";
}

class CatalogJournalTest : public CatalogTest, public ::testing::WithParamInterface<const char*> {};

// In either journal mode: zenml.db unchanged, and no file made beside it (SQLite's
// read-only WAL access would make -wal and -shm: a WAL store at rest is read immutable).
TEST_P(CatalogJournalTest, NeverWritesTheStore) {
  Sql(db_, std::string("PRAGMA journal_mode = ") + GetParam());
  ASSERT_FALSE(std::filesystem::exists(db_ + "-wal"));
  const std::string sum = testing::FileSha256(db_);
  const auto mtime = std::filesystem::last_write_time(db_);
  {
    auto cat = OpenSqliteCatalog(db_);
    ASSERT_TRUE(cat.ok());
    auto rows = (*cat)->LoadRows(RowScope::kAll);
    ASSERT_TRUE(rows.ok());
    for (const StepRow& s : rows->steps) {
      StepDetail d;
      ASSERT_TRUE((*cat)->GetStepDetail(std::string(s.id), std::string(s.name), &d).ok());
    }
    ASSERT_TRUE((*cat)->ChangeCounter().ok());
  }
  EXPECT_EQ(testing::FileSha256(db_), sum);
  EXPECT_EQ(std::filesystem::last_write_time(db_), mtime);
  EXPECT_FALSE(std::filesystem::exists(db_ + "-journal"));
  EXPECT_FALSE(std::filesystem::exists(db_ + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(db_ + "-shm"));
}

INSTANTIATE_TEST_SUITE_P(JournalModes, CatalogJournalTest, ::testing::Values("delete", "wal"));

// The names of the pipelines the catalog reads now.
std::set<std::string> PipelineNames(Catalog& cat) {
  std::set<std::string> names;
  auto rows = cat.LoadRows(RowScope::kPipelines);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (rows.ok()) {
    for (const PipelineRow& p : rows->pipelines) names.insert(std::string(p.name));
  }
  return names;
}

// A WAL store read at rest still shows a writer's changes: one that came and went between
// two calls (its checkpoint rewrote zenml.db and removed -wal), and one that stays (its
// -wal file is there: the catalog reads through ordinary connections from then on).
TEST_F(CatalogTest, WalStoreAtRestNoticesWriters) {
  Sql(db_, "PRAGMA journal_mode = wal");
  auto cat = OpenSqliteCatalog(db_);
  ASSERT_TRUE(cat.ok());
  auto c0 = (*cat)->ChangeCounter();
  ASSERT_TRUE(c0.ok());
  EXPECT_EQ(PipelineNames(**cat).count("renamed_once"), 0u);

  // A writer that comes and goes.
  Sql(db_, "UPDATE pipeline SET name = 'renamed_once' WHERE rowid = (SELECT min(rowid) FROM pipeline)");
  ASSERT_FALSE(std::filesystem::exists(db_ + "-wal"));
  auto c1 = (*cat)->ChangeCounter();
  ASSERT_TRUE(c1.ok());
  EXPECT_NE(*c1, *c0);
  EXPECT_EQ(PipelineNames(**cat).count("renamed_once"), 1u);
  auto same = (*cat)->ChangeCounter();
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *c1) << "no change, same counter";

  // A writer that stays.
  sqlite3* w = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &w), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(w, "UPDATE pipeline SET name = 'renamed_twice' WHERE name = 'renamed_once'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_TRUE(std::filesystem::exists(db_ + "-wal"));
  auto c2 = (*cat)->ChangeCounter();
  ASSERT_TRUE(c2.ok());
  EXPECT_NE(*c2, *c1);
  EXPECT_EQ(PipelineNames(**cat).count("renamed_twice"), 1u);
  ASSERT_EQ(sqlite3_exec(w, "UPDATE pipeline SET name = 'renamed_thrice' WHERE name = 'renamed_twice'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto c3 = (*cat)->ChangeCounter();
  ASSERT_TRUE(c3.ok());
  EXPECT_NE(*c3, *c2);
  EXPECT_EQ(PipelineNames(**cat).count("renamed_thrice"), 1u);
  sqlite3_close(w);
}

// A plain column over kMaxStoreValueBytes comes back as the note (never copied or
// parsed); one at the cap comes back whole.
TEST_F(CatalogTest, OversizedPlainValuesBecomeANote) {
  const std::size_t over = kMaxStoreValueBytes + 1;
  Sql(db_, "UPDATE step_run SET docstring = printf('%.*c', " + std::to_string(over) +
               ", 'x'), source_code = printf('%.*c', " + std::to_string(kMaxStoreValueBytes) +
               ", 'y') WHERE rowid = (SELECT min(rowid) FROM step_run)");
  auto cat = OpenSqliteCatalog(db_);
  ASSERT_TRUE(cat.ok());
  auto rows = (*cat)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(rows.ok());
  const StepRow* first = nullptr;
  for (const StepRow& s : rows->steps) {
    StepDetail d;
    ASSERT_TRUE((*cat)->GetStepDetail(std::string(s.id), std::string(s.name), &d).ok());
    if (d.docstring && d.docstring->size() != 0 && (*d.docstring)[0] == '(') {
      first = &s;
      EXPECT_EQ(*d.docstring, CutNote(over));
      ASSERT_TRUE(d.source_code.has_value());
      EXPECT_EQ(d.source_code->size(), kMaxStoreValueBytes);
    }
  }
  EXPECT_NE(first, nullptr) << "no step showed the note";
}

TEST(Decompress, ZenmlCompressedTextRoundTrips) {
  const std::string text = "{\"key\": \"" + std::string(5000, 'x') + "\"}";
  const std::string stored = testing::ZenmlCompressed(text);
  EXPECT_EQ(MaybeDecompress(stored), text);
  EXPECT_EQ(MaybeDecompress("plain"), "plain");
  const std::string broken = std::string("\0zenml-compressed:zlib:v1:", 26) + "!!!!";
  EXPECT_EQ(MaybeDecompress(broken), broken);
}

// A compressed bomb (a few KB stored, far more inflated) and a value just over the cap
// become the note, never the inflated text; a value at the cap is kept whole.
TEST(Decompress, InflationIsCappedWithANote) {
  const std::string bomb_text = "{\"k\": \"" + std::string(32u << 20, 'a') + "\"}";
  const std::string bomb = testing::ZenmlCompressed(bomb_text, 9);
  ASSERT_LT(bomb.size(), 1u << 20);
  const std::string out = MaybeDecompress(bomb);
  EXPECT_LT(out.size(), 300u);
  EXPECT_NE(out.find("cut by zenfs"), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(bomb.size()) + " bytes"), std::string::npos) << out;
  EXPECT_TRUE(nlohmann::json::parse("\"" + out + "\"", nullptr, false).is_string());

  const std::string at_cap(kMaxStoreValueBytes, 'b');
  EXPECT_EQ(MaybeDecompress(testing::ZenmlCompressed(at_cap)), at_cap);
  const std::string over = MaybeDecompress(testing::ZenmlCompressed(at_cap + "b"));
  EXPECT_NE(over.find("cut by zenfs"), std::string::npos);
}

TEST(DecodeBase64, Cases) {
  EXPECT_EQ(DecodeBase64("e30="), std::optional<std::string>("{}"));
  EXPECT_EQ(DecodeBase64("bnVsbA=="), std::optional<std::string>("null"));
  EXPECT_EQ(DecodeBase64(""), std::optional<std::string>(""));
  EXPECT_EQ(DecodeBase64("abc"), std::nullopt);
  EXPECT_EQ(DecodeBase64("a!c="), std::nullopt);
}

TEST(LocateStore, FindsTheDatabase) {
  testing::TempDir d;
  const std::string cfg = d.path() + "/zenml";
  std::filesystem::create_directories(cfg + "/local_stores/default_zen_store");
  testing::WriteFile(cfg + "/local_stores/default_zen_store/zenml.db", "");
  const std::string db = cfg + "/local_stores/default_zen_store/zenml.db";
  StoreEnv env;
  env.home = d.path() + "/home";
  struct Case {
    std::optional<std::string> arg;
    StoreEnv env;
    std::string db;  // "" means refused
  };
  StoreEnv with_config = env;
  with_config.zenml_config_path = cfg;
  StoreEnv with_xdg = env;
  with_xdg.xdg_config_home = d.path();
  const std::vector<Case> cases = {
      {cfg, env, db},
      {cfg + "/local_stores", env, db},
      {db, env, db},
      {std::nullopt, with_config, db},
      {std::nullopt, with_xdg, db},
      {std::nullopt, env, ""},
      {d.path() + "/missing", env, ""},
  };
  for (const Case& c : cases) {
    auto loc = LocateStore(c.arg, c.env);
    if (c.db.empty()) {
      EXPECT_FALSE(loc.ok()) << c.arg.value_or("(none)");
    } else {
      ASSERT_TRUE(loc.ok()) << c.arg.value_or("(none)") << ": " << loc.status().ToString();
      EXPECT_EQ(loc->db_path, c.db);
      EXPECT_EQ(loc->local_stores_dir, cfg + "/local_stores");
    }
  }
  testing::WriteFile(cfg + "/config.yaml", "store:\n  type: rest\n  url: https://zenml.example\n");
  auto rest = LocateStore(cfg, env);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  ASSERT_TRUE(rest->rest);
  EXPECT_EQ(rest->rest->url, "https://zenml.example");
  testing::WriteFile(cfg + "/config.yaml", "store:\n  type: sql\n  url: mysql://u@h/db\n");
  auto mysql = LocateStore(cfg, env);
  ASSERT_TRUE(mysql.ok());
  EXPECT_TRUE(mysql->mysql);
}

}  // namespace
}  // namespace zenfs
