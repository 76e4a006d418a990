// SqlCatalog::LoadChanges: random inserts, updates and deletes on every table the structure
// rows come from, and after each round the rows read as changes must equal a full read,
// field by field and in the same order, and so must the kernel invalidations they give.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "demo/demo_writer.h"
#include "fs/invalidations.h"
#include "fs/snapshot.h"
#include "store/sql_catalog.h"
#include "store/timefmt.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

// Where two vectors of rows first differ ("" if they are equal).
template <typename Row>
std::string FirstDifference(const char* what, const std::vector<Row>& got, const std::vector<Row>& want) {
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!(got[i] == want[i])) return std::string(what) + ": row " + std::to_string(i) + " differs";
  }
  if (got.size() != want.size()) {
    return std::string(what) + ": " + std::to_string(got.size()) + " rows, a full read has " +
           std::to_string(want.size());
  }
  return "";
}

// The invalidations between two pictures built from `before` and `after`, in one order.
std::vector<Invalidation> SortedDiff(const StoreRows& before, const StoreRows& after) {
  auto inv = DiffSnapshots(*Snapshot::Build(StoreRows(before), 1), *Snapshot::Build(StoreRows(after), 2));
  std::sort(inv.begin(), inv.end(), [](const Invalidation& a, const Invalidation& b) {
    return std::tie(a.kind, a.ino, a.name) < std::tie(b.kind, b.ino, b.name);
  });
  return inv;
}

// Every field of two StoreRows compared; "" when equal, else what differs first.
std::string CompareRows(const StoreRows& got, const StoreRows& want) {
  if (got.scope != want.scope) return "scope";
  if (got.schema_version != want.schema_version) return "schema_version";
  if (got.project_id != want.project_id) return "project_id";
  if (got.projects.size() != want.projects.size()) return "projects";
  for (std::size_t i = 0; i < got.projects.size(); ++i) {
    if (got.projects[i].id != want.projects[i].id || got.projects[i].name != want.projects[i].name) return "projects";
  }
  if (got.artifact_stores.size() != want.artifact_stores.size()) return "artifact_stores";
  for (std::size_t i = 0; i < got.artifact_stores.size(); ++i) {
    const ArtifactStoreRow &a = got.artifact_stores[i], &b = want.artifact_stores[i];
    if (a.id != b.id || a.configured_root != b.configured_root || a.flavor != b.flavor ||
        a.endpoint_url != b.endpoint_url || a.region_name != b.region_name) {
      return "artifact_stores";
    }
  }
  for (const std::string& d :
       {FirstDifference("pipelines", got.pipelines, want.pipelines), FirstDifference("runs", got.runs, want.runs),
        FirstDifference("steps", got.steps, want.steps), FirstDifference("outputs", got.outputs, want.outputs),
        FirstDifference("inputs", got.inputs, want.inputs),
        FirstDifference("artifact_versions", got.artifact_versions, want.artifact_versions),
        FirstDifference("logs", got.logs, want.logs),
        FirstDifference("pipeline_outputs", got.pipeline_outputs, want.pipeline_outputs)}) {
    if (!d.empty()) return d;
  }
  if (got.first_runs.size() != want.first_runs.size()) return "first_runs";
  return "";
}

// A writer that changes a store at random, through SQL, as ZenML and people with sqlite3 do.
class RandomWriter {
 public:
  RandomWriter(const std::string& db, std::uint32_t seed) : rng_(seed) {
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 30000);
    // ZenML's cascades: a step's links go with it, as a run's steps do.
    Exec("PRAGMA foreign_keys = ON");
    for (const char* t : {"pipeline", "pipeline_run", "step_run", "artifact", "artifact_version", "logs",
                          "step_run_output_artifact", "step_run_input_artifact", "pipeline_run_output",
                          "artifact_visualization"}) {
      std::vector<std::string> cols = Column("SELECT name FROM pragma_table_info('" + std::string(t) + "')");
      if (!cols.empty()) tables_.push_back({t, cols});
    }
  }
  ~RandomWriter() { sqlite3_close(db_); }

  // One random change; false when the store refused it (a constraint), which is no change.
  bool Change(std::string* what) {
    const Table& t = tables_[Pick(tables_.size())];
    const std::string rowid = AnyRow(t.name, "1 = 1");
    if (rowid.empty()) return false;
    switch (Pick(6)) {
      case 0:
      case 1:
        *what = "insert into " + t.name;
        return Insert(t, rowid);
      case 2:
        *what = "update of " + t.name;
        return Update(t, rowid, 0);
      case 3:
        // Committed late: stamped minutes before, inside the overlap window.
        *what = "update with an old stamp of " + t.name;
        return Update(t, rowid, 4 * 60);
      case 4:
        *what = "delete from " + t.name;
        return Exec("DELETE FROM " + t.name + " WHERE rowid = " + rowid);
      default: {
        // The largest rowid deleted and a row inserted: SQLite gives the new row that rowid.
        *what = "delete of the last row of " + t.name + " and an insert";
        const std::string last = One("SELECT max(rowid) FROM " + t.name);
        const std::string other = AnyRow(t.name, "rowid <> " + last);
        if (other.empty()) return false;
        return Exec("DELETE FROM " + t.name + " WHERE rowid = " + last) && Insert(t, other);
      }
    }
  }

 private:
  struct Table {
    std::string name;
    std::vector<std::string> cols;
    bool Has(const std::string& c) const { return std::find(cols.begin(), cols.end(), c) != cols.end(); }
  };

  std::size_t Pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  std::string Hex() {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 32; ++i) s += digits[Pick(16)];
    return s;
  }
  static std::string Now(int seconds_before) {
    const Micros now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    return "'" + FormatStoreTime(now - Micros{seconds_before} * 1000000) + "'";
  }

  // A copy of row `rowid` with a new id, new unique names and new stamps, and its owner
  // (the step or run of a link row) stamped, as ZenML writes links with their step.
  bool Insert(const Table& t, const std::string& rowid) {
    std::string cols, values;
    for (const std::string& c : t.cols) {
      std::string v = "\"" + c + "\"";
      if (c == "id") v = "'" + Hex() + "'";
      if (c == "name" || c == "version" || c == "orchestrator_run_id" || c == "uri") v = "'" + Hex() + "'";
      if (c == "created" || c == "updated") v = Now(0);
      cols += (cols.empty() ? "\"" : ", \"") + c + "\"";
      values += (values.empty() ? "" : ", ") + v;
    }
    if (!Exec("INSERT INTO " + t.name + " (" + cols + ") SELECT " + values + " FROM " + t.name +
              " WHERE rowid = " + rowid)) {
      return false;
    }
    return TouchOwner(t, "(SELECT max(rowid) FROM " + t.name + ")");
  }

  bool Update(const Table& t, const std::string& rowid, int seconds_before) {
    std::string set;
    for (const char* c : {"name", "status", "uri", "artifact_store_id", "version", "step_run_id", "pipeline_run_id",
                          "artifact_id", "input_index", "output_index", "type", "availability"}) {
      if (!t.Has(c) || Pick(3) != 0) continue;
      std::string v = "'" + Hex() + "'";
      if (std::string(c) == "status") v = Pick(2) ? "'completed'" : "'failed'";
      if (std::string(c).ends_with("_index")) v = std::to_string(Pick(5));
      if (std::string(c) == "artifact_id" || std::string(c).ends_with("run_id")) {
        // Another existing row's value: the link still points somewhere.
        v = "(SELECT \"" + std::string(c) + "\" FROM " + t.name + " WHERE rowid = " + AnyRow(t.name, "1 = 1") + ")";
      }
      set += (set.empty() ? "" : ", ") + std::string("\"") + c + "\" = " + v;
    }
    if (t.Has("updated")) set += (set.empty() ? "" : ", ") + std::string("updated = ") + Now(seconds_before);
    if (set.empty()) return false;
    return Exec("UPDATE " + t.name + " SET " + set + " WHERE rowid = " + rowid) && TouchOwner(t, rowid);
  }

  bool TouchOwner(const Table& t, const std::string& rowid) {
    std::string owner, key;
    if (t.name == "step_run_output_artifact" || t.name == "step_run_input_artifact") owner = "step_run", key = "step_id";
    if (t.name == "pipeline_run_output") owner = "pipeline_run", key = "pipeline_run_id";
    if (owner.empty()) return true;
    return Exec("UPDATE " + owner + " SET updated = " + Now(0) + " WHERE id = (SELECT " + key + " FROM " + t.name +
                " WHERE rowid = " + rowid + ")");
  }

  bool Exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK; }
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* v = sqlite3_column_text(st, 0);
      out.push_back(v ? reinterpret_cast<const char*>(v) : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  // A rowid of `table` meeting `where`, picked by the seeded generator ("" when none).
  std::string AnyRow(const std::string& table, const std::string& where) {
    const std::vector<std::string> ids = Column("SELECT rowid FROM " + table + " WHERE " + where + " ORDER BY rowid");
    return ids.empty() ? "" : ids[Pick(ids.size())];
  }
  std::string One(const std::string& sql) {
    auto v = Column(sql);
    return v.empty() ? "" : v[0];
  }

  sqlite3* db_ = nullptr;
  std::mt19937 rng_;
  std::vector<Table> tables_;
};

class RefreshChangesTest : public ::testing::TestWithParam<DemoSchema> {};

TEST_P(RefreshChangesTest, ChangesReadEqualAFullReadAfterRandomWrites) {
  testing::TempDir dir;
  DemoOptions o;
  o.dir = dir.path() + "/store";
  o.artifact_bytes = 0;
  o.runs = 8;
  o.steps = 3;
  o.outputs = 2;
  o.schema = GetParam();
  ASSERT_TRUE(WriteDemoStore(o).ok());
  const std::string db = o.dir + "/local_stores/default_zen_store/zenml.db";
  auto cat = OpenSqliteCatalog(db);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  auto prev = (*cat)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(prev.ok()) << prev.status().ToString();
  ASSERT_NE(prev->marks, nullptr) << "a SQLite kAll read keeps what the next one needs";
  auto prev_whole = (*cat)->LoadRows(RowScope::kAll);
  ASSERT_TRUE(prev_whole.ok()) << prev_whole.status().ToString();

  // ZENFS_TEST_SEED repeats a failed run.
  const char* given = std::getenv("ZENFS_TEST_SEED");
  const std::uint32_t seed = given != nullptr ? static_cast<std::uint32_t>(std::stoul(given)) : std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RandomWriter writer(db, seed);
  std::mt19937 rng(seed);
  int deltas = 0, changes = 0;
  constexpr int kRounds = 150;
  for (int round = 0; round < kRounds; ++round) {
    std::string log;
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      std::string what;
      if (writer.Change(&what)) {
        ++changes;
        log += what + "; ";
      }
    }
    auto got = (*cat)->LoadChanges(*prev);
    if (got.ok()) {
      ++deltas;
    } else {
      // Allowed (a deleted artifact or visualization), and then a full read stands in.
      ASSERT_EQ(got.status().code(), Status::Code::kUnsupported) << got.status().ToString() << " after " << log;
      got = (*cat)->LoadRows(RowScope::kAll);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
    }
    auto want = (*cat)->LoadRows(RowScope::kAll);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    const std::string diff = CompareRows(*got, *want);
    ASSERT_EQ(diff, "") << "round " << round << " after " << log;
    // The same invalidations as between two full reads: the diff's shortcuts for rows
    // whose bytes an incremental read kept (and kept in place) change nothing it finds.
    ASSERT_EQ(SortedDiff(*prev, *got), SortedDiff(*prev_whole, *want)) << "round " << round << " after " << log;
    prev = std::move(got);
    prev_whole = std::move(want);
  }
  EXPECT_GT(changes, kRounds / 2) << "the writer's changes should mostly succeed";
  EXPECT_GT(deltas, kRounds / 3) << "most rounds should read the changes only";
}

INSTANTIATE_TEST_SUITE_P(Schemas, RefreshChangesTest,
                         ::testing::Values(DemoSchema::kZenml074, DemoSchema::kLatest),
                         [](const ::testing::TestParamInfo<DemoSchema>& p) {
                           return p.param == DemoSchema::kZenml074 ? std::string("v074") : std::string("latest");
                         });

}  // namespace
}  // namespace zenfs
