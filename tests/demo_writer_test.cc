// Tests of `zenfs demo`: the store it writes must look like one ZenML 0.74 wrote (same
// tables and columns as the genuine sample, same encodings) and hold what the demo
// promises (a cached run, a failed run, awkward names, a large artifact, real files).
#include "demo/demo_writer.h"

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

DemoOptions SmallOptions(const std::string& dir) {
  DemoOptions o;
  o.dir = dir;
  o.runs = 6;
  o.steps = 3;
  o.outputs = 2;
  o.artifact_bytes = kSmallArtifact;
  return o;
}

// One small demo store per test.
class DemoStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status s = WriteDemoStore(SmallOptions(tmp_.path()));
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_ = std::make_unique<Reader>(DbUri(tmp_.path()));
  }
  const Reader& db() const { return *db_; }

  TempDir tmp_;
  std::unique_ptr<Reader> db_;
};

// (1) Same tables, indexes and columns as the database ZenML 0.74 itself created.
TEST_F(DemoStoreTest, SchemaEqualsGenuineZenml074Store) {
  const std::vector<std::string> samples = testing::ZenmlSamples();
  if (samples.empty()) GTEST_SKIP() << "ZENFS_ZENML_SAMPLE (the sample config dirs) is not set";
  const std::string& sample = samples.front();  // the ZenML 0.74 store
  ASSERT_TRUE(fs::exists(DbPath(sample))) << DbPath(sample);
  const Reader genuine("file:" + DbPath(sample) + "?immutable=1");

  const std::string objects = "SELECT type, name, tbl_name FROM sqlite_master ORDER BY type, name";
  const auto expected_objects = genuine.Query(objects);
  ASSERT_GT(expected_objects.size(), 40u);
  EXPECT_EQ(db().Query(objects), expected_objects);

  for (const std::string& table :
       genuine.Column("SELECT name FROM sqlite_master WHERE type = 'table'")) {
    const std::string info = "PRAGMA table_info(" + Quote(table) + ")";
    EXPECT_EQ(db().Query(info), genuine.Query(info)) << "columns of " << table;
  }
  for (const std::string& index :
       genuine.Column("SELECT name FROM sqlite_master WHERE type = 'index'")) {
    const std::string info = "PRAGMA index_info(" + Quote(index) + ")";
    EXPECT_EQ(db().Query(info), genuine.Query(info)) << "columns of " << index;
  }
  EXPECT_EQ(db().Column("SELECT version_num FROM alembic_version"),
            genuine.Column("SELECT version_num FROM alembic_version"));
}

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

}  // namespace
}  // namespace zenfs
