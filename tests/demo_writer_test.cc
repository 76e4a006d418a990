// Tests of `zenfs demo`: the store it writes must look like one ZenML wrote, in each schema
// it can write (the tables and columns of the checked-in schema SQL and, for 0.74 and
// 0.80, of the genuine samples; ZenML's encodings), and hold what the demo promises (a
// cached run, a failed run, awkward names, a large artifact, real files; from 0.80 on a
// second project; in the newest schema snapshots, log sources, a log-store log, a nested
// run with named outputs, an unavailable artifact, a chunked input, an archived run and
// the unlisted pipeline).
#include "demo/demo_writer.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "demo/schema_sql.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::optional<std::string>>;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/zenfs_demo_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A read-only connection to a database file, opened with a URI so `immutable=1` works.
class Reader {
 public:
  explicit Reader(const std::string& uri) {
    if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
        SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << uri << ": " << sqlite3_errmsg(db_);
    }
  }
  ~Reader() { sqlite3_close(db_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Every row of `sql`, each column as text (nullopt for NULL).
  std::vector<Row> Query(const std::string& sql) const {
    std::vector<Row> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        if (text == nullptr) {
          row.push_back(std::nullopt);
        } else {
          row.emplace_back(std::string(reinterpret_cast<const char*>(text),
                                       static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
        }
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }
  // The first column of the first row of `sql`; "" when there is none.
  std::string One(const std::string& sql) const {
    const auto rows = Query(sql);
    return rows.empty() || rows[0].empty() || !rows[0][0] ? "" : *rows[0][0];
  }
  std::vector<std::string> Column(const std::string& sql) const {
    std::vector<std::string> out;
    for (const Row& r : Query(sql)) out.push_back(r.at(0).value_or("<NULL>"));
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string DbPath(const std::string& dir) {
  return dir + "/local_stores/default_zen_store/zenml.db";
}
std::string DbUri(const std::string& dir) { return "file:" + DbPath(dir) + "?mode=ro"; }

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Whether `text` has the shape `shape`: '9' stands for a decimal digit, 'x' for a lowercase
// hex digit, anything else for itself. (No std::regex: GCC 12 warns inside it under
// -fsanitize, and CI builds with -Werror.)
bool HasShape(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool digit = c >= '0' && c <= '9';
    if (shape[i] == '9'   ? !digit
        : shape[i] == 'x' ? !(digit || (c >= 'a' && c <= 'f'))
                          : c != shape[i]) {
      return false;
    }
  }
  return true;
}

TEST(HasShapeTest, Cases) {
  EXPECT_TRUE(HasShape("2025-03-03 09:00:00.123456", "9999-99-99 99:99:99.999999"));
  EXPECT_FALSE(HasShape("2025-03-03T09:00:00.123456", "9999-99-99 99:99:99.999999"));
  EXPECT_FALSE(HasShape("2025-03-03 09:00:00", "9999-99-99 99:99:99.999999"));
  EXPECT_TRUE(HasShape("0a9f", "xxxx"));
  EXPECT_FALSE(HasShape("0A9f", "xxxx"));
  EXPECT_FALSE(HasShape("0g9f", "xxxx"));
}

constexpr std::uint64_t kSmallArtifact = (3u << 20) + 5;  // 3 MiB + 5: not a block multiple

// The 0.74 store the first tests check in detail; the other schemas share its runs.
DemoOptions SmallOptions(const std::string& dir, DemoSchema schema = DemoSchema::kZenml074) {
  DemoOptions o;
  o.dir = dir;
  o.schema = schema;
  o.runs = 6;
  o.steps = 3;
  o.outputs = 2;
  o.artifact_bytes = kSmallArtifact;
  return o;
}

// One small demo store per test, in the schema Schema() names.
class StoreTest : public ::testing::Test {
 protected:
  virtual DemoSchema Schema() const { return DemoSchema::kZenml074; }
  void SetUp() override {
    const Status s = WriteDemoStore(SmallOptions(tmp_.path(), Schema()));
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_ = std::make_unique<Reader>(DbUri(tmp_.path()));
  }
  const Reader& db() const { return *db_; }

  TempDir tmp_;
  std::unique_ptr<Reader> db_;
};

class DemoStoreTest : public StoreTest {};

// (1) Same tables, indexes and columns as the database ZenML 0.74 itself created: see
// DemoSchemaTest.SchemaEqualsTheGenuineSampleOfItsVersion, for every schema with a sample.

// (2) Every id is 32 lowercase hex digits, every time "YYYY-MM-DD HH:MM:SS.ffffff".
TEST_F(DemoStoreTest, IdsAndTimesUseZenmlEncoding) {
  const std::string id_shape(32, 'x'), time_shape = "9999-99-99 99:99:99.999999";
  int ids = 0, times = 0;
  for (const std::string& table :
       db().Column("SELECT name FROM sqlite_master WHERE type = 'table'")) {
    for (const Row& column : db().Query("PRAGMA table_info(" + Quote(table) + ")")) {
      const std::string name = column.at(1).value(), type = column.at(2).value();
      if (type != "CHAR(32)" && type != "DATETIME") continue;
      for (const std::string& v : db().Column("SELECT \"" + name + "\" FROM \"" + table +
                                              "\" WHERE \"" + name + "\" IS NOT NULL")) {
        if (type == "CHAR(32)") {
          EXPECT_TRUE(HasShape(v, id_shape)) << table << "." << name << " = " << v;
          ++ids;
          continue;
        }
        ASSERT_TRUE(HasShape(v, time_shape)) << table << "." << name << " = " << v;
        const auto field = [&v](std::size_t at) { return std::stoi(v.substr(at, 2)); };
        EXPECT_TRUE(field(5) >= 1 && field(5) <= 12 && field(8) >= 1 && field(8) <= 31 &&
                    field(11) < 24 && field(14) < 60 && field(17) < 60)
            << table << "." << name << " = " << v;
        ++times;
      }
    }
  }
  EXPECT_GT(ids, 100);
  EXPECT_GT(times, 100);
  // Stored as text, like SQLAlchemy does, not as numbers or blobs.
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM step_run WHERE typeof(start_time) != 'text' OR "
                     "typeof(id) != 'text'"),
            "0");
}

// (3) example_pipeline: --runs runs, one fully cached, one failed, the rest completed.
TEST_F(DemoStoreTest, ExamplePipelineHasCachedAndFailedRuns) {
  const std::string runs_of =
      "SELECT r.id, r.status FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id "
      "WHERE p.name = 'example_pipeline' ORDER BY r.start_time";
  const auto runs = db().Query(runs_of);
  ASSERT_EQ(runs.size(), 6u);

  int cached_runs = 0, failed_runs = 0, completed_runs = 0;
  for (const Row& run : runs) {
    const std::string id = run[0].value(), status = run[1].value();
    const auto steps = db().Query(
        "SELECT id, name, status, start_time, end_time, original_step_run_id FROM step_run "
        "WHERE pipeline_run_id = " +
        Quote(id) + " ORDER BY start_time");
    std::multiset<std::string> statuses;
    for (const Row& s : steps) statuses.insert(s[2].value());
    if (status == "failed") {
      ++failed_runs;
      ASSERT_FALSE(steps.empty());
      EXPECT_LT(steps.size(), 3u) << "steps after the failing one did not run";
      EXPECT_EQ(steps.back()[2], "failed");
      EXPECT_EQ(statuses.count("failed"), 1u);
      EXPECT_EQ(db().One("SELECT COUNT(*) FROM step_run_output_artifact WHERE step_id = " +
                         Quote(steps.back()[0].value())),
                "0");
      continue;
    }
    ASSERT_EQ(status, "completed") << "a fully cached run is still 'completed'";
    ASSERT_EQ(steps.size(), 3u);
    if (statuses.count("cached") == 0) {
      ++completed_runs;
      EXPECT_EQ(statuses.count("completed"), 3u);
      for (const Row& s : steps) {
        EXPECT_EQ(db().Column("SELECT name FROM step_run_output_artifact WHERE step_id = " +
                              Quote(s[0].value()) + " ORDER BY name"),
                  (std::vector<std::string>{"output_1", "output_2"}));
        EXPECT_FALSE(s[5].has_value()) << "only cached steps have an original";
      }
      // step_k consumes step_(k-1)'s first output.
      for (std::size_t k = 1; k < steps.size(); ++k) {
        EXPECT_EQ(db().Column("SELECT artifact_id FROM step_run_input_artifact WHERE step_id = " +
                              Quote(steps[k][0].value())),
                  db().Column("SELECT artifact_id FROM step_run_output_artifact WHERE name = "
                              "'output_1' AND step_id = " +
                              Quote(steps[k - 1][0].value())));
      }
      continue;
    }
    ++cached_runs;
    EXPECT_EQ(statuses.count("cached"), 3u) << "every step of the cached run is cached";
    for (const Row& s : steps) {
      ASSERT_TRUE(s[5].has_value()) << "cached step without original_step_run_id";
      EXPECT_EQ(s[3], s[4]) << "a cached step starts and ends at once";
      const auto original =
          db().Query("SELECT s.name, s.status, s.pipeline_run_id FROM step_run s WHERE s.id = " +
                     Quote(*s[5]));
      ASSERT_EQ(original.size(), 1u);
      EXPECT_EQ(original[0][0], s[1]);
      EXPECT_EQ(original[0][1], "completed");
      EXPECT_NE(original[0][2], std::optional<std::string>(id));
      const std::string outputs =
          "SELECT name, artifact_id FROM step_run_output_artifact WHERE step_id = ";
      const auto mine = db().Query(outputs + Quote(s[0].value()) + " ORDER BY name");
      EXPECT_EQ(mine.size(), 2u);
      EXPECT_EQ(mine, db().Query(outputs + Quote(*s[5]) + " ORDER BY name"))
          << "cached outputs are the original's";
      EXPECT_EQ(db().One("SELECT COUNT(*) FROM logs WHERE step_run_id = " + Quote(s[0].value())),
                "0");
    }
  }
  EXPECT_EQ(cached_runs, 1);
  EXPECT_EQ(failed_runs, 1);
  EXPECT_EQ(completed_runs, 4);
  // Artifact versions are numbered 1, 2, ... per artifact, one per completed production.
  EXPECT_EQ(
      db().Column("SELECT version FROM artifact_version v JOIN artifact a ON a.id = v.artifact_id "
                  "WHERE a.name = 'example_pipeline::step_1::output_1' ORDER BY version_number"),
      (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  // Some runs have a git sha through their deployment's code reference, some none.
  const auto shas = db().Column(
      "SELECT COALESCE(c.\"commit\", '') FROM pipeline_run r JOIN pipeline_deployment d "
      "ON d.id = r.deployment_id LEFT JOIN code_reference c ON c.id = d.code_reference_id");
  EXPECT_TRUE(std::count(shas.begin(), shas.end(), "") > 0);
  EXPECT_TRUE(std::any_of(shas.begin(), shas.end(),
                          [](const std::string& s) { return HasShape(s, std::string(40, 'x')); }));
}

TEST(DemoWriterTest, FewRunsHaveNoCachedOrFailedRun) {
  TempDir tmp;
  DemoOptions o = SmallOptions(tmp.path());
  o.runs = 1;
  o.steps = 1;
  o.outputs = 1;
  ASSERT_TRUE(WriteDemoStore(o).ok());
  const Reader db(DbUri(tmp.path()));
  EXPECT_EQ(db.Column("SELECT r.status FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id "
                      "WHERE p.name = 'example_pipeline'"),
            (std::vector<std::string>{"completed"}));
  EXPECT_EQ(db.Column("SELECT o.name FROM step_run_output_artifact o JOIN step_run s ON s.id = "
                      "o.step_id WHERE s.name = 'step_1'"),
            (std::vector<std::string>{"output"}));
}

// (4) Output names are the store's, spaces and non-ASCII included, also in the uri.
TEST_F(DemoStoreTest, OutputNameWithSpaceAndNonAscii) {
  bool found = false;
  for (const Row& r : db().Query("SELECT o.name, v.uri FROM step_run_output_artifact o JOIN "
                                 "artifact_version v ON v.id = o.artifact_id")) {
    const std::string& name = r[0].value();
    const bool non_ascii = std::any_of(
        name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (name.find(' ') == std::string::npos || !non_ascii) continue;
    found = true;
    EXPECT_NE(r[1]->find("/" + name + "/"), std::string::npos) << *r[1];
    EXPECT_TRUE(fs::is_directory(*r[1])) << *r[1];
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM step_run_output_artifact WHERE name = 'eval résumé'"),
            "1");
}

// (5) The large artifact has exactly --artifact-bytes bytes, the same on every write.
TEST(DemoWriterTest, LargeArtifactIsExactAndDeterministic) {
  TempDir a, b;
  ASSERT_TRUE(WriteDemoStore(SmallOptions(a.path())).ok());
  ASSERT_TRUE(WriteDemoStore(SmallOptions(b.path())).ok());
  const auto model_file = [](const std::string& dir) {
    const Reader db(DbUri(dir));
    const auto uris = db.Column(
        "SELECT v.uri FROM step_run_output_artifact o JOIN artifact_version v ON v.id = "
        "o.artifact_id "
        "WHERE o.name = 'model'");
    EXPECT_EQ(uris.size(), 1u);
    return uris.empty() ? std::string() : uris[0] + "/model.bin";
  };
  const std::string fa = model_file(a.path()), fb = model_file(b.path());
  ASSERT_EQ(fs::file_size(fa), kSmallArtifact);
  ASSERT_EQ(fs::file_size(fb), kSmallArtifact);
  const std::string bytes = ReadAll(fa);
  EXPECT_EQ(bytes, ReadAll(fb));
  EXPECT_NE(bytes.substr(0, 4096), std::string(4096, bytes[0])) << "pseudo-random, not a fill";
  EXPECT_NE(bytes.substr(0, 1 << 20), bytes.substr(1 << 20, 1 << 20)) << "blocks differ";

  // The rest is deterministic too: same ids, same times, same values.
  const std::string rows =
      "SELECT id, name, start_time, end_time, status FROM pipeline_run ORDER BY id";
  EXPECT_EQ(Reader(DbUri(a.path())).Query(rows), Reader(DbUri(b.path())).Query(rows));
  const std::string meta = "SELECT id, \"key\", value, type, created FROM run_metadata ORDER BY id";
  EXPECT_EQ(Reader(DbUri(a.path())).Query(meta), Reader(DbUri(b.path())).Query(meta));
}

TEST(DemoWriterTest, ZeroArtifactBytesLeavesTheModelOut) {
  TempDir tmp;
  DemoOptions o = SmallOptions(tmp.path());
  o.artifact_bytes = 0;
  ASSERT_TRUE(WriteDemoStore(o).ok());
  const Reader db(DbUri(tmp.path()));
  EXPECT_EQ(db.One("SELECT COUNT(*) FROM step_run_output_artifact WHERE name = 'model'"), "0");
  EXPECT_EQ(db.One("SELECT COUNT(*) FROM step_run_output_artifact WHERE name = 'eval résumé'"),
            "1");
}

// (6) Every artifact uri is a folder with files and every log uri a file, under DIR.
TEST_F(DemoStoreTest, EveryUriExistsUnderTheArtifactStoreRoot) {
  const std::string store_id =
      db().One("SELECT id FROM stack_component WHERE type = 'artifact_store'");
  ASSERT_EQ(store_id.size(), 32u);
  const std::string dashed = store_id.substr(0, 8) + "-" + store_id.substr(8, 4) + "-" +
                             store_id.substr(12, 4) + "-" + store_id.substr(16, 4) + "-" +
                             store_id.substr(20);
  const std::string root = tmp_.path() + "/local_stores/" + dashed + "/";

  const auto versions = db().Query("SELECT uri, artifact_store_id FROM artifact_version");
  ASSERT_GT(versions.size(), 10u);
  for (const Row& v : versions) {
    const std::string& uri = v[0].value();
    EXPECT_EQ(uri.rfind(root, 0), 0u) << uri;
    EXPECT_EQ(v[1], store_id);
    ASSERT_TRUE(fs::is_directory(uri)) << uri;
    EXPECT_FALSE(fs::is_empty(uri)) << uri;
  }
  // A nested artifact: a file in a sub-folder of the uri.
  bool nested = false;
  for (const Row& v : versions) nested = nested || fs::exists(*v[0] + "/schema/columns.json");
  EXPECT_TRUE(nested);

  const auto logs = db().Column("SELECT uri FROM logs");
  EXPECT_EQ(logs.size(),
            std::stoul(db().One("SELECT COUNT(*) FROM step_run WHERE status != 'cached'")));
  for (const std::string& uri : logs) {
    EXPECT_EQ(uri.rfind(root, 0), 0u) << uri;
    const std::string_view log_name = "/logs/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.log";
    EXPECT_TRUE(uri.size() > log_name.size() &&
                HasShape(uri.substr(uri.size() - log_name.size()), log_name))
        << uri;
    ASSERT_TRUE(fs::is_regular_file(uri)) << uri;
    EXPECT_GT(fs::file_size(uri), 0u) << uri;
  }
  const std::string config = ReadAll(tmp_.path() + "/config.yaml");
  EXPECT_NE(config.find(tmp_.path() + "/local_stores/default_zen_store/zenml.db"),
            std::string::npos)
      << config;
}

// (7) An existing store is never overwritten.
TEST_F(DemoStoreTest, RefusesDirectoryThatHoldsAStore) {
  const auto before = fs::last_write_time(DbPath(tmp_.path()));
  const std::string runs = db().One("SELECT COUNT(*) FROM pipeline_run");
  DemoOptions o = SmallOptions(tmp_.path());
  o.runs = 2;
  const Status s = WriteDemoStore(o);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("zenml.db"), std::string::npos) << s.message();
  EXPECT_EQ(fs::last_write_time(DbPath(tmp_.path())), before);
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM pipeline_run"), runs);
}

TEST(DemoWriterTest, RefusesBadOptions) {
  TempDir tmp;
  struct Case {
    int runs, steps, outputs;
    bool ok;
  };
  for (const Case& c :
       {Case{0, 1, 1, true}, Case{-1, 1, 1, false}, Case{1, 0, 1, false}, Case{1, 1, 0, false}}) {
    DemoOptions o;
    o.dir = tmp.path() + "/" + std::to_string(c.runs) + "_" + std::to_string(c.steps) + "_" +
            std::to_string(c.outputs);
    o.runs = c.runs;
    o.steps = c.steps;
    o.outputs = c.outputs;
    o.artifact_bytes = 0;
    const Status s = WriteDemoStore(o);
    EXPECT_EQ(s.ok(), c.ok) << o.dir << ": " << s.ToString();
    if (!c.ok) {
      EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    }
  }
  DemoOptions no_dir;
  EXPECT_EQ(WriteDemoStore(no_dir).code(), Status::Code::kInvalidArgument);
}

TEST(DemoWriterTest, UnwritableDirectoryIsAnIoErrorNamingIt) {
  TempDir tmp;
  const std::string file = tmp.path() + "/plain-file";
  std::ofstream(file) << "x";
  DemoOptions o = SmallOptions(file + "/store");
  const Status s = WriteDemoStore(o);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("plain-file"), std::string::npos) << s.message();
}

// A file error (here: a plain file where the artifact store's folder must go) fails the
// whole write, names the path, and leaves no database behind, so a retry can succeed.
TEST(DemoWriterTest, FileErrorFailsTheWriteAndLeavesNoDatabase) {
  TempDir first, second;
  ASSERT_TRUE(WriteDemoStore(SmallOptions(first.path())).ok());
  std::string root;
  for (const auto& e : fs::directory_iterator(first.path() + "/local_stores")) {
    if (e.path().filename() != "default_zen_store") root = e.path().filename().string();
  }
  ASSERT_EQ(root.size(), 36u) << "the artifact store folder is a dashed uuid";
  fs::create_directories(second.path() + "/local_stores");
  const std::string squatter = second.path() + "/local_stores/" + root + "/step_1";
  fs::create_directories(fs::path(squatter).parent_path());
  std::ofstream(squatter) << "not a folder";

  const Status s = WriteDemoStore(SmallOptions(second.path()));
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find(squatter), std::string::npos) << s.message();
  EXPECT_TRUE(fs::is_empty(second.path() + "/local_stores/default_zen_store"));

  fs::remove(squatter);
  EXPECT_TRUE(WriteDemoStore(SmallOptions(second.path())).ok());
}

// (8) SQLite's own checks pass, and the file is a plain rollback-journal database.
TEST_F(DemoStoreTest, IntegrityAndForeignKeysAreClean) {
  EXPECT_EQ(db().Column("PRAGMA integrity_check"), (std::vector<std::string>{"ok"}));
  EXPECT_TRUE(db().Query("PRAGMA foreign_key_check").empty());
  EXPECT_EQ(db().One("PRAGMA journal_mode"), "delete");
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(tmp_.path() + "/local_stores/default_zen_store")) {
    files.insert(e.path().filename().string());
  }
  EXPECT_EQ(files, (std::set<std::string>{"zenml.db"}));
}


// ------------------------------------------------------------------ every schema

TEST(DemoSchemaNamesTest, ParseAcceptsExactlyTheListedNames) {
  EXPECT_EQ(ParseDemoSchema("0.74"), DemoSchema::kZenml074);
  EXPECT_EQ(ParseDemoSchema("0.80"), DemoSchema::kZenml080);
  EXPECT_EQ(ParseDemoSchema("latest"), DemoSchema::kLatest);
  for (const char* bad : {"", "0.74.0", "0.8", "0.97.0", "Latest", "latest ", "0.90"}) {
    EXPECT_EQ(ParseDemoSchema(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(DemoOptions().schema, DemoSchema::kLatest) << "the newest schema is the default";
}

struct SchemaCase {
  DemoSchema schema;
  const char* name;     // for test names
  const char* sql;      // the checked-in schema SQL the store must match
  const char* alembic;  // its alembic_version row
};

std::string PrintSchemaCase(const ::testing::TestParamInfo<SchemaCase>& info) {
  return info.param.name;
}

// One small demo store per test, in each schema.
class DemoSchemaTest : public StoreTest, public ::testing::WithParamInterface<SchemaCase> {
 protected:
  DemoSchema Schema() const override { return GetParam().schema; }
};

// The schema SQL alone, loaded into a database of its own.
class SchemaOnly {
 public:
  explicit SchemaOnly(const char* sql) : file_(dir_.path() + "/schema.db") {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  std::string uri() const { return "file:" + file_ + "?mode=ro"; }

 private:
  TempDir dir_;
  std::string file_;
};

// The same tables and indexes (`with_sql`: and CREATE statements), the same columns of
// each, and the same alembic version.
void ExpectSameSchema(const Reader& actual, const Reader& expected, bool with_sql) {
  const std::string objects = std::string("SELECT type, name, tbl_name") +
                              (with_sql ? ", sql" : "") +
                              " FROM sqlite_master ORDER BY type, name";
  const auto expected_objects = expected.Query(objects);
  ASSERT_GT(expected_objects.size(), 40u);
  EXPECT_EQ(actual.Query(objects), expected_objects);
  for (const char* kind : {"table", "index"}) {
    for (const std::string& name : expected.Column(
             std::string("SELECT name FROM sqlite_master WHERE type = '") + kind + "'")) {
      const std::string info = std::string("PRAGMA ") + kind + "_info(" + Quote(name) + ")";
      EXPECT_EQ(actual.Query(info), expected.Query(info)) << "columns of " << name;
    }
  }
  const std::string version = "SELECT version_num FROM alembic_version";
  EXPECT_EQ(actual.Column(version), expected.Column(version));
}

// Same tables, indexes, CREATE statements and columns as the checked-in SQL, and its
// alembic version: the writer adds, alters and drops nothing.
TEST_P(DemoSchemaTest, SchemaEqualsTheCheckedInSql) {
  const SchemaOnly schema(GetParam().sql);
  ExpectSameSchema(db(), Reader(schema.uri()), true);
  EXPECT_EQ(db().Column("SELECT version_num FROM alembic_version"),
            (std::vector<std::string>{GetParam().alembic}));
}

// Where a genuine store of the schema exists (the 0.74 and 0.80 samples), the demo has its
// tables, indexes and columns.
TEST_P(DemoSchemaTest, SchemaEqualsTheGenuineSampleOfItsVersion) {
  std::optional<std::string> sample;
  for (const std::string& dir : testing::ZenmlSamples()) {
    if (!fs::exists(DbPath(dir))) continue;
    const Reader r("file:" + DbPath(dir) + "?immutable=1");
    if (r.One("SELECT version_num FROM alembic_version") == GetParam().alembic) sample = dir;
  }
  if (!sample) GTEST_SKIP() << "no genuine ZenML " << GetParam().alembic << " store given";
  ExpectSameSchema(db(), Reader("file:" + DbPath(*sample) + "?immutable=1"), false);
}

// Every NOT NULL column ZenML declares holds a value in every row, ids are 32 lowercase
// hex digits, times "YYYY-MM-DD HH:MM:SS.ffffff", all stored as text.
TEST_P(DemoSchemaTest, NotNullColumnsAreFilledInZenmlEncodings) {
  const std::string id_shape(32, 'x'), time_shape = "9999-99-99 99:99:99.999999";
  int rows = 0;
  for (const std::string& table :
       db().Column("SELECT name FROM sqlite_master WHERE type = 'table'")) {
    rows += std::stoi(db().One("SELECT COUNT(*) FROM \"" + table + "\""));
    for (const Row& column : db().Query("PRAGMA table_info(" + Quote(table) + ")")) {
      const std::string name = column.at(1).value(), type = column.at(2).value();
      const std::string col = "\"" + table + "\".\"" + name + "\"";
      if (column.at(3) == "1") {
        EXPECT_EQ(db().One("SELECT COUNT(*) FROM \"" + table + "\" WHERE " + col + " IS NULL"),
                  "0")
            << col << " is NOT NULL";
      }
      if (type != "CHAR(32)" && type != "DATETIME") continue;
      for (const std::string& v : db().Column("SELECT " + col + " FROM \"" + table + "\" WHERE " +
                                              col + " IS NOT NULL")) {
        EXPECT_TRUE(HasShape(v, type == "CHAR(32)" ? id_shape : time_shape)) << col << " = " << v;
      }
      EXPECT_EQ(db().One("SELECT COUNT(*) FROM \"" + table + "\" WHERE " + col +
                         " IS NOT NULL AND typeof(" + col + ") != 'text'"),
                "0")
          << col;
    }
  }
  EXPECT_GT(rows, 200);
}

// Same options, same bytes: the database written twice into the same directory.
TEST_P(DemoSchemaTest, SameOptionsWriteTheSameBytes) {
  const std::string first = ReadAll(DbPath(tmp_.path()));
  db_.reset();
  fs::remove_all(tmp_.path());
  fs::create_directories(tmp_.path());
  ASSERT_TRUE(WriteDemoStore(SmallOptions(tmp_.path(), GetParam().schema)).ok());
  const std::string second = ReadAll(DbPath(tmp_.path()));
  EXPECT_GT(first.size(), 100000u);
  EXPECT_TRUE(first == second) << "the two databases differ";
}

// `default` as ZenML's client writes it, so that a ZenML server logs it in with the empty
// password (a NULL password refuses every login; zenfs_rest_tests logs in for real):
// active, an admin, a person, and passlib's bcrypt hash ($2b$, cost 12) of "". Checked
// here with libxcrypt: the hash verifies "" and nothing else.
TEST_P(DemoSchemaTest, DefaultUserHasTheEmptyPasswordsBcryptHash) {
  const auto rows =
      db().Query("SELECT name, active, is_admin, is_service_account, password FROM user");
  ASSERT_EQ(rows.size(), 1u);
  const Row& user = rows.front();
  EXPECT_EQ(user.at(0), "default");
  EXPECT_EQ(user.at(1), "1");
  EXPECT_EQ(user.at(2), "1");
  EXPECT_EQ(user.at(3), "0");
  ASSERT_TRUE(user.at(4).has_value()) << "NULL password: a ZenML server refuses every login";
  const std::string hash = *user.at(4);
  EXPECT_EQ(hash.substr(0, 7), "$2b$12$") << hash;
  EXPECT_EQ(hash.size(), 60u) << hash;
  auto data = std::make_unique<crypt_data>();
  const char* empty = crypt_rn("", hash.c_str(), data.get(), sizeof(crypt_data));
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(std::string(empty), hash);
  const char* other = crypt_rn("zenml", hash.c_str(), data.get(), sizeof(crypt_data));
  ASSERT_NE(other, nullptr);
  EXPECT_NE(std::string(other), hash);
}

TEST_P(DemoSchemaTest, IntegrityAndForeignKeysAreClean) {
  EXPECT_EQ(db().Column("PRAGMA integrity_check"), (std::vector<std::string>{"ok"}));
  EXPECT_TRUE(db().Query("PRAGMA foreign_key_check").empty());
  EXPECT_EQ(db().One("PRAGMA journal_mode"), "delete");
}

// example_pipeline and training_pipeline (and everything under them) are the same rows and
// files in every schema, whatever else a schema adds.
TEST_P(DemoSchemaTest, SharedPipelinesAreTheSameAsIn074) {
  TempDir old_dir;
  ASSERT_TRUE(WriteDemoStore(SmallOptions(old_dir.path())).ok());
  const Reader old(DbUri(old_dir.path()));
  const auto same = [&](const std::string& sql) {
    auto relative = [](const Reader& r, const std::string& dir, const std::string& q) {
      auto rows = r.Query(q);
      for (Row& row : rows) {
        for (auto& v : row) {
          if (v && v->rfind(dir, 0) == 0) v = "DIR" + v->substr(dir.size());
        }
      }
      return rows;
    };
    const auto expected = relative(old, old_dir.path(), sql);
    EXPECT_FALSE(expected.empty()) << sql;
    EXPECT_EQ(relative(db(), tmp_.path(), sql), expected) << sql;
  };
  const std::string runs =
      "(SELECT r.id FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id WHERE p.id IN "
      "(SELECT id FROM pipeline WHERE name IN ('example_pipeline', 'training_pipeline') "
      "ORDER BY created LIMIT 2))";
  const std::string steps = "(SELECT id FROM step_run WHERE pipeline_run_id IN " + runs + ")";
  same("SELECT id, created, updated, name FROM pipeline WHERE id IN (SELECT pipeline_id FROM "
       "pipeline_run WHERE id IN " + runs + ") ORDER BY id");
  same("SELECT id, created, updated, name, orchestrator_run_id, start_time, end_time, status, "
       "orchestrator_environment, pipeline_id FROM pipeline_run WHERE id IN " + runs +
       " ORDER BY id");
  same("SELECT id, created, updated, name, start_time, end_time, status, docstring, cache_key, "
       "source_code, code_hash, original_step_run_id, pipeline_run_id FROM step_run WHERE id IN " +
       steps + " ORDER BY id");
  same("SELECT o.name, o.step_id, v.id, v.created, v.version, v.type, v.uri, v.materializer, "
       "v.data_type, v.artifact_id FROM step_run_output_artifact o JOIN artifact_version v ON "
       "v.id = o.artifact_id WHERE o.step_id IN " + steps + " ORDER BY o.step_id, o.name");
  same("SELECT name, type, step_id, artifact_id FROM step_run_input_artifact WHERE step_id IN " +
       steps + " ORDER BY step_id, name");
  same("SELECT id, created, uri, step_run_id FROM logs WHERE step_run_id IN " + steps +
       " ORDER BY id");
  same("SELECT m.id, m.created, m.\"key\", m.value, m.type, l.resource_id FROM run_metadata m "
       "JOIN run_metadata_resource l ON l.run_metadata_id = m.id WHERE l.resource_id IN " + runs +
       " OR l.resource_id IN " + steps + " ORDER BY m.id, l.resource_id");
  // The same files, byte for byte, under the artifact store.
  std::string store;
  for (const auto& e : fs::directory_iterator(old_dir.path() + "/local_stores")) {
    if (e.path().filename() != "default_zen_store") store = e.path().filename().string();
  }
  ASSERT_EQ(store.size(), 36u);
  const std::string old_store = old_dir.path() + "/local_stores/" + store;
  for (const auto& e : fs::recursive_directory_iterator(old_store)) {
    const std::string mine =
        tmp_.path() + e.path().string().substr(old_dir.path().size());
    ASSERT_TRUE(fs::exists(mine)) << mine;
    if (e.is_regular_file()) {
      EXPECT_EQ(ReadAll(e.path().string()), ReadAll(mine)) << mine;
    }
  }
}

const SchemaCase kZenml074Case{DemoSchema::kZenml074, "v074", kZenml074SchemaSql, "0.74.0"};
const SchemaCase kSchemasWithProjects[] = {
    {DemoSchema::kZenml080, "v080", kZenml080SchemaSql, "0.80.2"},
    {DemoSchema::kLatest, "latest", kZenmlLatestSchemaSql, "0.97.0"}};

INSTANTIATE_TEST_SUITE_P(Schemas, DemoSchemaTest,
                         ::testing::Values(kZenml074Case, kSchemasWithProjects[0],
                                           kSchemasWithProjects[1]),
                         PrintSchemaCase);

// ------------------------------------------------------------------ projects (0.80+)

class ProjectsTest : public DemoSchemaTest {};

// Two projects, and training_pipeline in both, with runs of its own in each.
TEST_P(ProjectsTest, TwoProjectsShareAPipelineName) {
  EXPECT_EQ(db().Column("SELECT name FROM project ORDER BY name"),
            (std::vector<std::string>{"default", "research"}));
  EXPECT_EQ(db().Column("SELECT j.name FROM pipeline p JOIN project j ON j.id = p.project_id "
                        "WHERE p.name = 'training_pipeline' ORDER BY j.name"),
            (std::vector<std::string>{"default", "research"}));
  const auto runs_in = [&](const std::string& project) {
    return db().Column(
        "SELECT r.name FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id JOIN project "
        "j ON j.id = r.project_id WHERE p.name = 'training_pipeline' AND p.project_id = "
        "r.project_id AND j.name = " + Quote(project) + " ORDER BY r.created");
  };
  const auto defaults = runs_in("default"), research = runs_in("research");
  EXPECT_EQ(defaults.size(), 1u);
  EXPECT_EQ(research.size(), 2u);
  for (const std::string& r : research) {
    EXPECT_EQ(std::count(defaults.begin(), defaults.end(), r), 0) << r;
  }
  // Everything a research run made is the research project's, and nothing points into
  // another project.
  const std::string snapshots =
      GetParam().schema == DemoSchema::kLatest ? "pipeline_snapshot" : "pipeline_deployment";
  for (const std::string& across_projects : std::vector<std::string>{
           "artifact_version v JOIN step_run_output_artifact o ON o.artifact_id = v.id JOIN "
           "step_run s ON s.id = o.step_id WHERE s.project_id != v.project_id",
           snapshots + " s JOIN code_reference c ON c.id = s.code_reference_id WHERE "
                       "c.project_id != s.project_id",
           "pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id WHERE p.project_id != "
           "r.project_id",
           "step_run s JOIN pipeline_run r ON r.id = s.pipeline_run_id WHERE s.project_id != "
           "r.project_id"}) {
    EXPECT_EQ(db().One("SELECT COUNT(*) FROM " + across_projects), "0") << across_projects;
  }
  const std::string config = ReadAll(tmp_.path() + "/config.yaml");
  const std::string id = db().One("SELECT id FROM project WHERE name = 'default'");
  const std::string dashed = id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) +
                             "-" + id.substr(16, 4) + "-" + id.substr(20);
  EXPECT_NE(config.find("\nactive_project_id: " + dashed + "\n"), std::string::npos) << config;
  EXPECT_EQ(config.find("active_workspace_name"), std::string::npos) << config;
}

INSTANTIATE_TEST_SUITE_P(Schemas, ProjectsTest, ::testing::ValuesIn(kSchemasWithProjects),
                         PrintSchemaCase);

// ------------------------------------------------------------------ the newest schema

class LatestStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const Status s = WriteDemoStore(SmallOptions(dir_->path(), DemoSchema::kLatest));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { db_ = std::make_unique<Reader>(DbUri(dir_->path())); }
  const Reader& db() const { return *db_; }
  // The id of the only run of `pipeline`.
  std::string RunOf(const std::string& pipeline) const {
    const auto ids = db().Column(
        "SELECT r.id FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id WHERE p.name = " +
        Quote(pipeline));
    EXPECT_EQ(ids.size(), 1u) << pipeline;
    return ids.empty() ? "" : ids[0];
  }
  std::string StepOf(const std::string& run, const std::string& step) const {
    return db().One("SELECT id FROM step_run WHERE pipeline_run_id = " + Quote(run) +
                    " AND name = " + Quote(step));
  }

  static TempDir* dir_;
  std::unique_ptr<Reader> db_;
};
TempDir* LatestStoreTest::dir_ = nullptr;

// Snapshots, each with one step_configuration row per step ({"spec", "config"} JSON in
// step order), and runs and steps pointing at them.
TEST_F(LatestStoreTest, SnapshotsHaveStepConfigurationRows) {
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM sqlite_master WHERE name = 'pipeline_deployment'"), "0");
  const auto snapshots = db().Query(
      "SELECT s.id, s.step_count, s.pipeline_configuration FROM pipeline_snapshot s JOIN pipeline "
      "p ON p.id = s.pipeline_id WHERE p.name != 'cleanup_pipeline'");
  ASSERT_GE(snapshots.size(), 8u);
  for (const Row& s : snapshots) {
    const auto names = db().Column("SELECT name FROM step_configuration WHERE snapshot_id = " +
                                   Quote(*s[0]) + " ORDER BY \"index\"");
    EXPECT_EQ(std::to_string(names.size()), *s[1]) << *s[0];
    for (const std::string& name : names) {
      const std::string config =
          db().One("SELECT config FROM step_configuration WHERE snapshot_id = " + Quote(*s[0]) +
                   " AND name = " + Quote(name));
      EXPECT_EQ(config.rfind("{\"spec\":{", 0), 0u) << config.substr(0, 80);
      EXPECT_NE(config.find("\"config\":{"), std::string::npos);
    }
    EXPECT_NE(s[2]->find("\"name\":"), std::string::npos);
  }
  EXPECT_EQ(db().Column("SELECT name FROM step_configuration WHERE snapshot_id = (SELECT "
                        "snapshot_id FROM pipeline_run WHERE name LIKE 'training_pipeline-%' "
                        "ORDER BY created LIMIT 1) ORDER BY \"index\""),
            (std::vector<std::string>{"load_data", "train_model", "evaluate"}));
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM pipeline_run r LEFT JOIN pipeline_snapshot s ON s.id "
                     "= r.snapshot_id WHERE s.id IS NULL OR s.pipeline_id != r.pipeline_id"),
            "0");
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM step_run t JOIN pipeline_run r ON r.id = "
                     "t.pipeline_run_id WHERE t.snapshot_id IS NOT r.snapshot_id"),
            "0");
}

// index counts each pipeline's runs from 1 in creation order; finished runs are not in
// progress; steps are first attempts.
TEST_F(LatestStoreTest, RunIndexAndInProgressAsZenmlFillsThem) {
  for (const std::string& pipeline : db().Column("SELECT id FROM pipeline")) {
    const auto indexes = db().Column("SELECT \"index\" FROM pipeline_run WHERE pipeline_id = " +
                                     Quote(pipeline) + " ORDER BY created");
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      EXPECT_EQ(indexes[i], std::to_string(i + 1)) << pipeline;
    }
  }
  EXPECT_EQ(db().Column("SELECT DISTINCT in_progress FROM pipeline_run"),
            (std::vector<std::string>{"0"}));
  EXPECT_EQ(db().Column("SELECT DISTINCT version || '/' || is_retriable FROM step_run"),
            (std::vector<std::string>{"1/0"}));
}

// A step with logs of two sources, each a file under the artifact store; every other row
// is a step's "step" logs, one of them in the log store (no uri, no file).
TEST_F(LatestStoreTest, StepLogsOfSeveralSourcesAndALogStoreLog) {
  const std::string run = RunOf("nested_pipeline"), prepare = StepOf(run, "prepare");
  const auto logs = db().Query("SELECT source, uri, log_key, pipeline_run_id FROM logs WHERE "
                               "step_run_id = " + Quote(prepare) + " ORDER BY source");
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0][0], "orchestrator");
  EXPECT_EQ(logs[1][0], "step");
  for (const Row& l : logs) {
    ASSERT_TRUE(l[1].has_value());
    EXPECT_TRUE(fs::is_regular_file(*l[1])) << *l[1];
    EXPECT_GT(fs::file_size(*l[1]), 0u);
    EXPECT_FALSE(l[3].has_value()) << "step logs name the step only";
    EXPECT_EQ(l[2]->substr(0, 5), "None-") << *l[2];
    EXPECT_EQ(l[2]->substr(l[2]->size() - l[0]->size() - 1), "-" + *l[0]) << *l[2];
  }
  const std::string score = StepOf(RunOf("fold_pipeline"), "score");
  const auto stored = db().Query(
      "SELECT l.source, l.uri, l.artifact_store_id, c.type FROM logs l JOIN stack_component c ON "
      "c.id = l.log_store_id WHERE l.step_run_id = " + Quote(score));
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0], (Row{"step", std::nullopt, std::nullopt, "log_store"}));
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM logs WHERE uri IS NULL"), "1");
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM logs WHERE source IS NULL OR source = ''"), "0");
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM (SELECT log_key FROM logs GROUP BY log_key HAVING "
                     "COUNT(*) > 1)"),
            "0");
}

// A run-level log: the run set, no step.
TEST_F(LatestStoreTest, RunLevelLog) {
  const auto logs = db().Query("SELECT pipeline_run_id, source, uri FROM logs WHERE step_run_id "
                               "IS NULL");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0][0], RunOf("nested_pipeline"));
  EXPECT_EQ(logs[0][1], "client");
  EXPECT_TRUE(fs::is_regular_file(logs[0][2].value()));
}

// fold_pipeline's run is nested_pipeline's child "fold 1", a run of its own pipeline.
TEST_F(LatestStoreTest, NestedRun) {
  const std::string parent = RunOf("nested_pipeline"), child = RunOf("fold_pipeline");
  EXPECT_EQ(db().Query("SELECT parent_run_id, root_run_id, child_key FROM pipeline_run WHERE id "
                       "= " + Quote(child)),
            (std::vector<Row>{{parent, parent, "fold 1"}}));
  EXPECT_EQ(db().Query("SELECT parent_run_id, root_run_id, child_key FROM pipeline_run WHERE id "
                       "= " + Quote(parent)),
            (std::vector<Row>{{std::nullopt, std::nullopt, std::nullopt}}));
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM pipeline_run WHERE parent_run_id IS NOT NULL"), "1");
  EXPECT_LT(db().One("SELECT start_time FROM pipeline_run WHERE id = " + Quote(parent)),
            db().One("SELECT start_time FROM pipeline_run WHERE id = " + Quote(child)));
}

// Named pipeline outputs point at an artifact version one of the run's own steps output.
TEST_F(LatestStoreTest, PipelineOutputsNameStepOutputs) {
  const auto outputs = db().Query(
      "SELECT p.name, o.name, s.name, so.name FROM pipeline_run_output o JOIN pipeline_run r ON "
      "r.id = o.pipeline_run_id JOIN pipeline p ON p.id = r.pipeline_id JOIN "
      "step_run_output_artifact so ON so.artifact_id = o.artifact_id JOIN step_run s ON s.id = "
      "so.step_id AND s.pipeline_run_id = r.id ORDER BY p.name");
  EXPECT_EQ(outputs, (std::vector<Row>{{"fold_pipeline", "score", "score", "score"},
                                       {"nested_pipeline", "dataset", "prepare", "dataset"}}));
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM pipeline_run_output"), "2");
}

// An artifact version that failed to upload: no folder, no files, no size; every other
// version is available.
TEST_F(LatestStoreTest, UnavailableArtifactVersion) {
  const auto unavailable = db().Query(
      "SELECT o.name, v.availability, v.uri FROM artifact_version v JOIN step_run_output_artifact "
      "o ON o.artifact_id = v.id WHERE v.availability != 'available'");
  ASSERT_EQ(unavailable.size(), 1u);
  EXPECT_EQ(unavailable[0][0], "plot");
  EXPECT_EQ(unavailable[0][1], "upload_failed");
  EXPECT_FALSE(fs::exists(unavailable[0][2].value()));
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM run_metadata_resource WHERE resource_id = (SELECT id "
                     "FROM artifact_version WHERE availability != 'available')"),
            "0");
}

// One input name, two artifact versions, ordered by input_index.
TEST_F(LatestStoreTest, ChunkedInput) {
  const std::string run = RunOf("fold_pipeline");
  const auto rows = db().Query(
      "SELECT i.input_index, o.name FROM step_run_input_artifact i JOIN step_run_output_artifact "
      "o ON o.artifact_id = i.artifact_id AND o.step_id = " + Quote(StepOf(run, "split")) +
      " WHERE i.step_id = " + Quote(StepOf(run, "score")) + " AND i.name = 'batches' ORDER BY "
      "i.input_index");
  EXPECT_EQ(rows, (std::vector<Row>{{"0", "batch_1"}, {"1", "batch_2"}}));
  EXPECT_EQ(db().Column("SELECT DISTINCT input_index FROM step_run_input_artifact WHERE name != "
                        "'batches'"),
            (std::vector<std::string>{"0"}));
}

// The archived run: detail columns NULL, its snapshot emptied, its step configurations
// gone; its identity, steps, outputs and logs stay.
TEST_F(LatestStoreTest, ArchivedRunKeepsIdentityWithoutDetail) {
  const std::string run = RunOf("cleanup_pipeline");
  EXPECT_EQ(db().Query("SELECT orchestrator_environment, exception_info, pipeline_configuration, "
                       "client_environment, status FROM pipeline_run WHERE id = " + Quote(run)),
            (std::vector<Row>{{std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                               "completed"}}));
  EXPECT_EQ(db().Query("SELECT s.pipeline_configuration, s.client_environment, s.pipeline_spec, "
                       "s.source_code, s.description, (SELECT COUNT(*) FROM step_configuration c "
                       "WHERE c.snapshot_id = s.id) FROM pipeline_snapshot s JOIN pipeline_run r "
                       "ON r.snapshot_id = s.id WHERE r.id = " + Quote(run)),
            (std::vector<Row>{{"{}", "{}", std::nullopt, std::nullopt, std::nullopt, "0"}}));
  const std::string step = StepOf(run, "vacuum");
  ASSERT_EQ(step.size(), 32u);
  EXPECT_EQ(db().Query("SELECT exception_info, step_configuration, status FROM step_run WHERE id "
                       "= " + Quote(step)),
            (std::vector<Row>{{std::nullopt, std::nullopt, "completed"}}));
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM step_run_output_artifact WHERE step_id = " +
                     Quote(step)),
            "1");
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM logs WHERE step_run_id = " + Quote(step)), "1");
  // No other run lost its environment.
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM pipeline_run WHERE orchestrator_environment IS NULL"),
            "1");
}

// ZenML's "unlisted" pipeline, as its snapshot migration creates it, with a run.
TEST_F(LatestStoreTest, UnlistedPipelineHasARun) {
  EXPECT_EQ(db().Query("SELECT user_id, description FROM pipeline WHERE name = 'unlisted'"),
            (std::vector<Row>{{std::nullopt,
                               "Auto-created pipeline for snapshots without pipeline reference"}}));
  const std::string run = RunOf("unlisted");
  EXPECT_EQ(db().One("SELECT status FROM pipeline_run WHERE id = " + Quote(run)), "completed");
  EXPECT_EQ(db().One("SELECT COUNT(*) FROM step_run WHERE pipeline_run_id = " + Quote(run)), "1");
}

}  // namespace
}  // namespace zenfs
