// `zenfs demo DIR --mysql URL` (issue 13, point 6): the demo store's metadata copied into a
// database of the binary's private MariaDB server (tests/mariadb_server.h), checked
// against its SQLite twin in DIR: every table and row, whole-second times cut (never
// rounded), a used database refused, and the same tree from `zenfs ls`.
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/mysql_copy.h"
#include "store/sqlite_util.h"
#include "tests/mariadb_server.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

using nlohmann::json;

// A meta.json as the MySQL twin must show it too: times cut to whole seconds (MySQL's
// DATETIME), durations left out (they follow from the cut times), lists of steps sorted
// (steps that start in the same second tie, in any order), the store's own path left out.
json Comparable(const json& j, const std::string& key = "") {
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) {
      if (k == "duration_s" || k == "store") continue;
      out[k] = Comparable(v, k);
    }
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const json& v : j) out.push_back(Comparable(v));
    if (key == "steps") std::sort(out.begin(), out.end());
    return out;
  }
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    // YYYY-MM-DDTHH:MM:SS.ffffffZ
    if (s.size() == 27 && s[10] == 'T' && s[19] == '.' && s.back() == 'Z') return s.substr(0, 19) + ".000000Z";
  }
  return j;
}

using Rows = std::vector<std::vector<std::string>>;

// Every row of `sql` on the SQLite database, NULL as "".
Rows SqliteRows(const std::string& path, const std::string& sql) {
  Rows out;
  auto db = sql::Db::OpenReadOnly(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return out;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db->get(), sql.c_str(), -1, &st, nullptr), SQLITE_OK) << db->ErrorMessage() << " in " << sql;
  if (st == nullptr) return out;
  const int n = sqlite3_column_count(st);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < n; ++i) {
      const unsigned char* v = sqlite3_column_text(st, i);
      row.emplace_back(v == nullptr ? "" : reinterpret_cast<const char*>(v));
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  return out;
}

// Every row of `sql` on the MariaDB connection, NULL as "".
Rows MariaRows(MariaDbConnection& conn, const std::string& sql) {
  Rows out;
  auto rows = conn.Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString() << " in " << sql;
  if (!rows.ok()) return out;
  for (const auto& r : *rows) {
    std::vector<std::string> row;
    for (const auto& v : r) row.push_back(v.value_or(""));
    out.push_back(std::move(row));
  }
  return out;
}

class DemoMysqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = MariaDbEnvironment::Shared(&why);
    ASSERT_NE(server_, nullptr) << why;
    static int serial = 0;
    db_ = "demo_mysql_" + std::to_string(++serial);
    ASSERT_TRUE(server_->Execute("CREATE DATABASE " + QuoteIdentifier(db_) + " CHARACTER SET utf8mb4").ok());
    ASSERT_TRUE(server_->CreateReader("reader_" + db_, "pw-" + db_, db_).ok());
    writer_url_ = server_->Url("root", "", db_);
    reader_url_ = server_->Url("reader_" + db_, "pw-" + db_, db_);
    Status s;
    conn_ = MariaDbConnection::Open(server_->RootLogin(db_), false, &s);
    ASSERT_NE(conn_, nullptr) << s.ToString();
  }

  // The tables of the copy's database, by name.
  std::set<std::string> MariaTables() {
    std::set<std::string> out;
    for (const auto& r : MariaRows(*conn_, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")) {
      out.insert(r.at(0));
    }
    return out;
  }

  // `zenfs ls` of the SQLite twin and of the copy (through the SELECT-only reader, with
  // DIR's local_stores as the artifact root) print the same tree, line for line.
  // With `sorted`, in any order: where steps start within one second, whole seconds tie
  // and the listing orders the tie by created, then id (SPEC's key).
  void ExpectSameTree(const std::string& store, const std::string& old_root, bool sorted = false) {
    const CommandResult sqlite = RunZenfs({"ls", store});
    ASSERT_EQ(sqlite.exit_code, 0) << sqlite.err;
    const CommandResult mysql =
        RunZenfs({"ls", reader_url_, "--artifact-root", old_root + "=" + store + "/local_stores"});
    ASSERT_EQ(mysql.exit_code, 0) << mysql.err;
    EXPECT_GT(std::count(sqlite.out.begin(), sqlite.out.end(), '\n'), 20) << sqlite.out;
    if (!sorted) {
      EXPECT_EQ(mysql.out, sqlite.out);
      return;
    }
    auto lines = [](const std::string& text) {
      std::multiset<std::string> out;
      std::size_t at = 0, nl;
      while ((nl = text.find('\n', at)) != std::string::npos) {
        out.insert(text.substr(at, nl - at));
        at = nl + 1;
      }
      return out;
    };
    EXPECT_EQ(lines(mysql.out), lines(sqlite.out));
  }

  // Every table of the SQLite database has as many rows in the copy, and every DATETIME
  // is the SQLite value with its fraction cut (not rounded: 09:00:00.9 stays 09:00:00).
  void ExpectSameRows(const std::string& sqlite_path) {
    const Rows tables = SqliteRows(sqlite_path,
                                   "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'");
    ASSERT_FALSE(tables.empty());
    EXPECT_EQ(MariaTables().size(), tables.size());
    int datetimes = 0, fractions = 0;
    for (const auto& t : tables) {
      const std::string& name = t.at(0);
      const Rows sqlite_count = SqliteRows(sqlite_path, "SELECT COUNT(*) FROM \"" + name + "\"");
      const Rows maria_count = MariaRows(*conn_, "SELECT COUNT(*) FROM " + QuoteIdentifier(name));
      ASSERT_FALSE(sqlite_count.empty());
      ASSERT_FALSE(maria_count.empty()) << name;
      EXPECT_EQ(maria_count[0][0], sqlite_count[0][0]) << "rows of " << name;
      for (const auto& col : SqliteRows(sqlite_path, "SELECT name FROM pragma_table_info('" + name +
                                                         "') WHERE upper(type) = 'DATETIME'")) {
        const std::string& c = col.at(0);
        const Rows want = SqliteRows(sqlite_path, "SELECT id, substr(\"" + c + "\", 1, 19) FROM \"" + name +
                                                      "\" WHERE \"" + c + "\" IS NOT NULL ORDER BY id");
        const Rows got = MariaRows(*conn_, "SELECT id, CAST(" + QuoteIdentifier(c) + " AS CHAR) FROM " +
                                               QuoteIdentifier(name) + " WHERE " + QuoteIdentifier(c) +
                                               " IS NOT NULL ORDER BY id");
        EXPECT_EQ(got, want) << name << "." << c;
        datetimes += static_cast<int>(got.size());
        for (const auto& r : SqliteRows(sqlite_path, "SELECT COUNT(*) FROM \"" + name + "\" WHERE \"" + c +
                                                         "\" LIKE '%.%' AND substr(\"" + c + "\", 21, 1) >= '5'")) {
          fractions += std::stoi(r.at(0));  // values MySQL 8 would have rounded up
        }
      }
    }
    EXPECT_GT(datetimes, 0);
    EXPECT_GT(fractions, 0) << "the demo store has no time that rounding would change";
    // ZenML's MySQL times are whole seconds: no DATETIME column keeps a fraction.
    const Rows precise = MariaRows(*conn_, "SELECT table_name, column_name FROM information_schema.columns WHERE "
                                           "table_schema = DATABASE() AND data_type = 'datetime' AND "
                                           "datetime_precision > 0");
    EXPECT_TRUE(precise.empty()) << precise.size() << " DATETIME columns with fractions, e.g. " << precise[0][0];
  }

  MariaDbServer* server_ = nullptr;
  std::string db_, writer_url_, reader_url_;
  std::unique_ptr<MariaDbConnection> conn_;
};

TEST_F(DemoMysqlTest, CopiesEveryRowWithWholeSecondsRefusesAUsedDatabaseAndShowsTheSameTree) {
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  const CommandResult demo =
      RunZenfs({"demo", store, "--schema", "0.74", "--runs", "12", "--artifact-bytes", "4K", "--mysql", writer_url_},
               300);
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_NE(demo.out.find("ZenML 0.74.0's MySQL DDL"), std::string::npos) << demo.out;
  const std::string sqlite_path = store + "/local_stores/default_zen_store/zenml.db";
  ExpectSameRows(sqlite_path);
  // The tables are ZenML's own DDL: its foreign keys and collation came along.
  const Rows fks = MariaRows(*conn_, "SELECT COUNT(*) FROM information_schema.referential_constraints WHERE "
                                     "constraint_schema = DATABASE()");
  ASSERT_FALSE(fks.empty());
  EXPECT_GT(std::stoi(fks[0][0]), 50);
  const Rows collations = MariaRows(*conn_, "SELECT DISTINCT table_collation FROM information_schema.tables WHERE "
                                            "table_schema = DATABASE()");
  EXPECT_EQ(collations, (Rows{{"utf8mb4_general_ci"}}));

  // The demo's URIs are absolute paths into DIR: the same folder is the artifact root.
  ExpectSameTree(store, store + "/local_stores");

  // A second demo into the same database is refused before it writes its DIR.
  const auto before = server_->Checksums(db_);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const std::string again = tmp.path() + "/again";
  const CommandResult second = RunZenfs({"demo", again, "--runs", "5", "--mysql", writer_url_}, 300);
  EXPECT_EQ(second.exit_code, 2) << second.out << second.err;
  EXPECT_NE(second.err.find("already holds a ZenML store"), std::string::npos) << second.err;
  EXPECT_EQ(std::count(second.err.begin(), second.err.end(), '\n'), 1) << second.err;
  EXPECT_FALSE(Lstat(again).has_value()) << "the refused demo wrote " << again;
  const auto after = server_->Checksums(db_);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, *before);
}

// Today's layout (the default --schema), whose MySQL tables are translated from SQLite's:
// projects, nested runs, log sources and the rest show as in the SQLite twin.
TEST_F(DemoMysqlTest, TheNewestSchemaShowsTheSameTree) {
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  const CommandResult demo = RunZenfs({"demo", store, "--runs", "5", "--artifact-bytes", "0", "--mysql", writer_url_}, 300);
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_NE(demo.out.find("translated from SQLite (alembic 0.97.0)"), std::string::npos) << demo.out;
  ExpectSameTree(store, store + "/local_stores");

  // And the same documents: both mounted, every meta.json compared.
  ZENFS_SKIP_WITHOUT_FUSE();
  TempDir mnt(MountTestRoot());
  ASSERT_EQ(mkdir((mnt.path() + "/sqlite").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((mnt.path() + "/mysql").c_str(), 0755), 0);
  Mount lite({store, mnt.path() + "/sqlite", {}});
  ASSERT_TRUE(lite.ok()) << lite.error();
  Mount my({reader_url_, mnt.path() + "/mysql", {"--artifact-root", store + "/local_stores=" + store + "/local_stores"}});
  ASSERT_TRUE(my.ok()) << my.error();
  const auto files = HashTree(lite.path());
  int documents = 0;
  for (const auto& [rel, hash] : files) {
    if (rel.size() < 9 || rel.compare(rel.size() - 9, 9, "meta.json") != 0) continue;
    ++documents;
    const json a = ReadJson(lite.path() + "/" + rel);
    const json b = ReadJson(my.path() + "/" + rel);
    ASSERT_FALSE(a.is_discarded()) << rel;
    ASSERT_FALSE(b.is_discarded()) << rel;
    EXPECT_EQ(Comparable(b), Comparable(a)) << rel;
  }
  EXPECT_GT(documents, 50);
}

TEST_F(DemoMysqlTest, RefusesTablesLeftInTheDatabaseAndLeavesItAsItWas) {
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  ASSERT_EQ(RunZenfs({"demo", store, "--runs", "5", "--artifact-bytes", "0"}).exit_code, 0);
  // A database holding one of ZenML's tables but no alembic_version (a half-made store):
  // CheckMysqlTarget lets it through, the copy itself refuses it and creates nothing.
  ASSERT_TRUE(server_->Execute("CREATE TABLE " + QuoteIdentifier(db_) + ".pipeline_run (id CHAR(32))").ok());
  auto target = ParseMysqlUrl(writer_url_);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_TRUE(CheckMysqlTarget(*target).ok());
  const Status s = CopySqliteToMysql(store + "/local_stores/default_zen_store/zenml.db", *target);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("pipeline_run"), std::string::npos) << s.ToString();
  EXPECT_EQ(MariaTables(), (std::set<std::string>{"pipeline_run"}));

  // Unknown databases and bad URLs are one clear line each, and DIR is not written.
  const CommandResult unknown =
      RunZenfs({"demo", tmp.path() + "/x", "--mysql", server_->Url("root", "", "no_such_db")});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no such database"), std::string::npos) << unknown.err;
  const CommandResult nodb = RunZenfs({"demo", tmp.path() + "/x", "--mysql", "mysql://root@127.0.0.1:1"});
  EXPECT_EQ(nodb.exit_code, 1);
  EXPECT_NE(nodb.err.find("names no database"), std::string::npos) << nodb.err;
  const CommandResult bad = RunZenfs({"demo", tmp.path() + "/x", "--mysql", "postgres://x@y/z"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not a mysql:// URL"), std::string::npos) << bad.err;
  EXPECT_FALSE(Lstat(tmp.path() + "/x").has_value());
}

// Newer schemas have no genuine MySQL DDL here: their tables are translated from SQLite.
// The genuine ZenML 0.80 store (ZENFS_ZENML_SAMPLE's second folder, when set) copied that
// way shows the same tree as from SQLite.
TEST_F(DemoMysqlTest, TranslatedDdlOfTheGenuine080StoreShowsTheSameTree) {
  std::string sample;
  for (const std::string& dir : ZenmlSamples()) {
    const Rows v = SqliteRows(dir + "/local_stores/default_zen_store/zenml.db", "SELECT version_num FROM alembic_version");
    if (!v.empty() && v[0][0] != "0.74.0") sample = dir;
  }
  if (sample.empty()) GTEST_SKIP() << "ZENFS_ZENML_SAMPLE names no store newer than 0.74";
  auto target = ParseMysqlUrl(writer_url_);
  ASSERT_TRUE(target.ok());
  MysqlCopyStats stats;
  const std::string sqlite_path = sample + "/local_stores/default_zen_store/zenml.db";
  const Status s = CopySqliteToMysql(sqlite_path, *target, &stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(stats.ddl.find("translated"), std::string::npos) << stats.ddl;
  const Rows tables = SqliteRows(sqlite_path, "SELECT name FROM sqlite_master WHERE type = 'table'");
  EXPECT_EQ(stats.tables, static_cast<int>(tables.size()));
  for (const auto& t : tables) {
    const Rows a = SqliteRows(sqlite_path, "SELECT COUNT(*) FROM \"" + t[0] + "\"");
    const Rows b = MariaRows(*conn_, "SELECT COUNT(*) FROM " + QuoteIdentifier(t[0]));
    ASSERT_FALSE(b.empty()) << t[0];
    EXPECT_EQ(b[0][0], a[0][0]) << t[0];
  }
  // The sample's URIs start with the machine it came from; its own local_stores holds them.
  ExpectSameTree(sample, "/home/ml/.config/zenml/local_stores", /*sorted=*/true);
}

}  // namespace
}  // namespace zenfs::testing
