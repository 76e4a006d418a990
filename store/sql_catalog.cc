#include "store/sql_catalog.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <iterator>
#include <limits>
#include <span>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "store/json_limits.h"
#include "store/sqlite_database.h"

namespace zenfs {

namespace {

using nlohmann::json;

// Tables and columns zenfs cannot work without; everything else is optional.
struct Required {
  const char* table;
  std::vector<const char*> cols;
};
const std::vector<Required>& RequiredSchema() {
  static const std::vector<Required> kRequired = {
      {"pipeline", {"id", "name"}},
      {"pipeline_run", {"id", "name", "status"}},
      {"step_run", {"id", "name", "status", "pipeline_run_id"}},
      {"step_run_output_artifact", {"name", "step_id", "artifact_id"}},
      {"artifact_version", {"id", "uri"}},
  };
  return kRequired;
}

std::optional<Micros> TimeCol(const sql::Rows& st, int col) {
  if (st.IsNull(col)) return std::nullopt;
  return ParseStoreTime(st.TextView(col));
}

// `s` as an SQL string literal.
std::string SqlString(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Runs `sql` with `params` bound in order and hands each row to `row`; stops at the first
// error.
template <typename F>
Status ForEachBound(sql::Connection& c, const std::string& sql, std::initializer_list<std::string_view> params,
                    F&& row) {
  auto rows = c.Query(sql, params);
  if (!rows.ok()) return rows.status();
  Status s;
  while ((*rows)->Step(&s)) row(**rows);
  return s;
}

template <typename F>
Status ForEachRow(sql::Connection& c, const std::string& sql, F&& row) {
  return ForEachBound(c, sql, {}, std::forward<F>(row));
}

// A read transaction that always ends, so a writer is never held up by a reader.
class ReadTxn {
 public:
  explicit ReadTxn(sql::Connection& c) : c_(c) { status_ = c_.Begin(); }
  ~ReadTxn() { (void)End(); }
  const Status& status() const { return status_; }
  // Ends it now (once); a failure says the connection may have gone during the reads.
  Status End() {
    if (!status_.ok() || ended_) return Status::Ok();
    ended_ = true;
    return c_.End();
  }

 private:
  sql::Connection& c_;
  Status status_;
  bool ended_ = false;
};

}  // namespace

// ---- StoreSchema ----

StoreSchema::StoreSchema(sql::Database::Columns cols) : cols_(std::move(cols)) {}

bool StoreSchema::Has(const std::string& table, const std::string& col) const {
  auto it = cols_.find(table);
  return it != cols_.end() && it->second.count(col) != 0;
}

std::string StoreSchema::Col(const std::string& table, const std::string& col) const {
  if (!Has(table, col)) return "NULL";
  return table + ".\"" + col + "\"";
}

std::string StoreSchema::FirstOf(const std::string& table,
                                 std::initializer_list<const char*> names) const {
  for (const char* n : names) {
    if (Has(table, n)) return n;
  }
  return "";
}

// ---- helpers ----

std::optional<std::string> DecodeBase64(const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') clean.push_back(c);
  }
  if (clean.empty()) return std::string();
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (clean.size() >= 1 && clean[clean.size() - 1] == '=') --len;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string MaybeDecompress(const std::string& value) {
  static constexpr std::string_view kPrefix("\0zenml-compressed:zlib:v1:", 26);
  if (value.size() < kPrefix.size() || std::string_view(value).substr(0, kPrefix.size()) != kPrefix) {
    return value;
  }
  auto raw = DecodeBase64(value.substr(kPrefix.size()));
  if (!raw) return value;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return value;
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(raw->data());
  zs.avail_in = static_cast<uInt>(raw->size());
  char buf[16384];
  int rc = Z_OK;
  // Bounded: a hostile store must not make zenfs inflate without limit (zlib reaches a
  // ratio of 1:1000, so 82 KB stored became 283 MB). Beyond the cap, the note stands for it.
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > kMaxStoreValueBytes) {
      inflateEnd(&zs);
      return CutNote(value.size(), kMaxStoreValueBytes);
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return value;
  return out;
}

// ---- SqlCatalog ----

std::optional<std::string> SqlCatalog::Capped(sql::Connection& c, const std::string& table, const std::string& col,
                                              std::string_view row_key) const {
  if (!schema_.Has(table, col)) return std::nullopt;
  return c.Capped(table, col, row_key);
}

std::string SqlCatalog::Key(const std::string& table) const { return table + "." + database_->RowKey(); }

SqlCatalog::SqlCatalog(std::unique_ptr<sql::Database> database, StoreSchema schema)
    : database_(std::move(database)),
      schema_(std::move(schema)),
      deployment_table_(schema_.Has("pipeline_snapshot") ? "pipeline_snapshot"
                                                         : "pipeline_deployment"),
      deployment_col_(schema_.FirstOf("pipeline_run", {"snapshot_id", "deployment_id"})) {}

SqlCatalog::~SqlCatalog() = default;

Result<std::unique_ptr<SqlCatalog>> SqlCatalog::Open(std::unique_ptr<sql::Database> database) {
  auto columns = database->ReadColumns();
  if (!columns.ok()) {
    return Status::Corruption(database->Describe() + ": not a readable SQL database (" +
                              columns.status().message() + ")");
  }
  StoreSchema schema(std::move(*columns));
  std::string missing;
  for (const Required& r : RequiredSchema()) {
    if (!schema.Has(r.table)) {
      missing += std::string(missing.empty() ? "" : ", ") + "table " + r.table;
      continue;
    }
    for (const char* col : r.cols) {
      if (!schema.Has(r.table, col)) {
        missing += std::string(missing.empty() ? "" : ", ") + "column " + r.table + "." + col;
      }
    }
  }
  if (!missing.empty()) {
    return Status::Unsupported(database->Describe() + ": not a ZenML store zenfs can read: missing " + missing);
  }
  return std::unique_ptr<SqlCatalog>(new SqlCatalog(std::move(database), std::move(schema)));
}

Result<std::unique_ptr<SqlCatalog>> OpenSqliteCatalog(const std::string& db_path) {
  auto db = SqliteDatabase::Open(db_path);
  if (!db.ok()) return db.status();
  return SqlCatalog::Open(std::move(*db));
}

Result<std::int64_t> SqlCatalog::ChangeCounter() { return database_->ChangeCounter(); }

// Room for a table's rows before reading them: growing a vector of a million rows by
// doubling moved them some twenty times and held two copies at the peak. Only where
// counting is cheap (SQLite); a MySQL table grows its vector as it streams.
template <typename Row>
Status SqlCatalog::ReserveFor(sql::Connection& c, const std::string& table, std::vector<Row>* rows) const {
  if (!database_->CheapCount()) return Status::Ok();
  return ForEachRow(c, "SELECT count(*) FROM " + table, [&](const sql::Rows& st) {
    const std::int64_t n = st.Int(0);
    if (n > 0) rows->reserve(rows->size() + static_cast<std::size_t>(n));
  });
}

template <typename F>
Status SqlCatalog::ForEachInProject(sql::Connection& db, const std::string& select,
                                       const std::string& table, F&& row) const {
  if (project_id_.empty() || !schema_.Has(table, "project_id")) return ForEachRow(db, select, row);
  return ForEachBound(db, select + " WHERE " + table + ".project_id = ?", {project_id_}, row);
}

Status SqlCatalog::LoadProjects(sql::Connection& db, std::vector<ProjectRow>* out) const {
  if (!schema_.Has("project", "id") || !schema_.Has("project", "name")) return Status::Ok();
  return ForEachRow(db, "SELECT id, name FROM project ORDER BY name, id",
                    [&](const sql::Rows& st) { out->push_back({st.Text(0), st.Text(1)}); });
}

Result<std::vector<ProjectRow>> SqlCatalog::ListProjects() {
  std::vector<ProjectRow> projects;
  Status s = InReadTxn([&](sql::Connection& db) { return LoadProjects(db, &projects); });
  if (!s.ok()) return s;
  return projects;
}

// Each pipeline_id's first run (RowScope::kPipelines's share of LoadRows), inside its
// transaction: one pass over pipeline_run that keeps a row per pipeline, not per run.
Status SqlCatalog::LoadFirstRuns(sql::Connection& db, StoreRows* out) {
  const std::string t = "pipeline_run";
  std::deque<FirstRunRow> found;  // stable addresses: the index views their pipeline ids
  std::unordered_map<std::string_view, FirstRunRow*> by_pipeline;
  Status s = ForEachInProject(
      db,
      "SELECT id, " + schema_.Col(t, "pipeline_id") + ", " + schema_.Col(t, "start_time") + ", " +
          schema_.Col(t, "created") + " FROM pipeline_run",
      t, [&](const sql::Rows& st) {
        const std::optional<Micros> start = TimeCol(st, 2), created = TimeCol(st, 3);
        const std::string_view id = st.TextView(0);
        auto it = by_pipeline.find(st.TextView(1));
        if (it == by_pipeline.end()) {
          found.push_back({st.Text(1), std::string(id), start, created});
          by_pipeline.emplace(found.back().pipeline_id, &found.back());
          return;
        }
        FirstRunRow& best = *it->second;
        if (OrderKeyOf(start, created, id) < OrderKeyOf(best.start_time, best.created, best.run_id)) {
          best.run_id = std::string(id);
          best.start_time = start;
          best.created = created;
        }
      });
  if (!s.ok()) return s;
  out->first_runs.assign(std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  return Status::Ok();
}

// ---- the structure rows: read whole (LoadRows) or only what changed (LoadChanges) ----
//
// The tables below the pipelines are read as "parts": one table's rows (or a WHERE's share
// of them: run logs, step logs) in the order a table scan gives. LoadChanges starts from the
// previous picture's rows and reads of each part only
//   - the rows inserted since: rowid past the part's largest at the last read. SQLite gives a
//     new row the largest rowid plus one, so this finds every insert with or without a time
//     stamp, except a row that reuses the rowid of the largest row deleted since (below);
//   - the rows changed since: `updated` or `created` at or past the watermark, which is the
//     newest stamp the last read saw (capped at this machine's clock, so one writer's fast
//     clock cannot move it ahead of the others) less kOverlap. Each writer stamps with its
//     own clock and a long transaction commits rows stamped when it began: the window covers
//     clocks that disagree and transactions that take up to kOverlap;
//   - for the link tables, which have no stamps (step_run_output_artifact,
//     step_run_input_artifact, pipeline_run_output): the rows of every step (run) read as
//     changed, named by id (see owned_by in ReadParts). ZenML writes a step's links in the transaction that creates or finishes the
//     step, which stamps it, and never updates a link row; a link row changed by hand without
//     touching its step (or a row that reuses a deleted largest rowid with old stamps) is seen
//     only at the next full read;
//   - artifact_version also when its artifact (the name it shows) or a visualization of it is
//     new or stamped in the window.
// Deletions: each part's count(*) must equal the last count plus the rows inserted since
// (a part that is a WHERE's share of its table, the logs' two, pays a table scan for it:
// comparing the whole table's count first was tried: the randomized test found it missing
// a deletion when the last row was deleted and a row inserted, seed 3761235859); when it
// does not, the part's rowids are read (an index scan, no row decoded) and the rows
// gone are dropped. A deleted artifact or visualization (the name or flag of versions that
// stay) makes it a full read.
// The rows come out in rowid order, merged into the previous part's by rowid, so a part is
// read this way only if the last read gave its rows in increasing rowid order (a scan the
// planner ran over another index would not): otherwise it is read whole each time.
// Cost: every condition on stamps is a table scan (no index on `updated`), and the merge
// copies every row; see the README ("A store that changes under the mount") for figures.
// The new picture shares the previous one's text arena and views the old bytes of every text
// that did not change, so the arena grows by the changed text only; a full read every
// kDeltaReads refreshes starts a fresh arena (and re-checks everything the rules above
// could miss).

namespace {

// How far before the newest stamp seen the changes are looked for.
constexpr Micros kOverlap = 10LL * 60 * 1000 * 1000;
// Refreshes read as changes between two full reads.
constexpr int kDeltaReads = 300;

// The parts, in the order LoadRows fills the vectors (run logs before step logs: one vector).
enum PartId { kPipelinePart, kRunPart, kRunLogPart, kRunOutputPart, kStepPart, kOutputPart, kInputPart,
              kVersionPart, kStepLogPart, kPartCount };

// Makes rows' texts: kept in an arena; the columns that repeat the same few values across
// many rows (names, statuses, a run's pipeline id, artifact store ids, log sources) are
// interned, kept once per read part (about 130 bytes a run in a wide store).
struct Keeper {
  explicit Keeper(TextArena& a) : arena(a), names(a) {}
  Text Keep(const sql::Rows& st, int col) { return arena.Keep(st.TextView(col)); }
  Text Intern(const sql::Rows& st, int col) { return names.Keep(st.TextView(col)); }
  TextArena& arena;
  TextInterner names;
};

// Each row type's decoding from its part's columns (PartSpec::cols), and its texts.
PipelineRow Decode(Keeper& k, const sql::Rows& st, PipelineRow*) {
  return {k.Keep(st, 0), k.Keep(st, 1), TimeCol(st, 2), TimeCol(st, 3)};
}
RunRow Decode(Keeper& k, const sql::Rows& st, RunRow*) {
  return {k.Keep(st, 0), k.Keep(st, 1), k.Intern(st, 2), k.Intern(st, 3), TimeCol(st, 4), TimeCol(st, 5),
          TimeCol(st, 6), TimeCol(st, 7), k.Keep(st, 8), k.Keep(st, 9)};
}
StepRow Decode(Keeper& k, const sql::Rows& st, StepRow*) {
  return {k.Keep(st, 0), k.Keep(st, 1), k.Intern(st, 2), k.Intern(st, 3), k.Keep(st, 4),
          TimeCol(st, 5), TimeCol(st, 6), TimeCol(st, 7), TimeCol(st, 8)};
}
ArtifactLinkRow Decode(Keeper& k, const sql::Rows& st, ArtifactLinkRow*) {
  return {k.Keep(st, 0), k.Intern(st, 1), k.Keep(st, 2), st.Int(3)};
}
PipelineOutputRow Decode(Keeper& k, const sql::Rows& st, PipelineOutputRow*) {
  return {k.Keep(st, 0), k.Keep(st, 1), k.Keep(st, 2), st.Int(3)};
}
ArtifactVersionRow Decode(Keeper& k, const sql::Rows& st, ArtifactVersionRow*) {
  ArtifactVersionRow v{k.Keep(st, 0), k.Keep(st, 1), k.Intern(st, 2), TimeCol(st, 3), TimeCol(st, 4),
                       k.Keep(st, 5), k.Intern(st, 6), k.Intern(st, 7)};
  v.visualizations = st.Int(8) != 0 ? 1 : 0;
  return v;
}
LogRow Decode(Keeper& k, const sql::Rows& st, LogRow*) {
  return {k.Keep(st, 0), k.Keep(st, 1), k.Keep(st, 2), k.Intern(st, 3), TimeCol(st, 4), TimeCol(st, 5),
          k.Intern(st, 6), k.Keep(st, 7), !st.IsNull(1)};
}

template <typename R> auto TextsOf(R& r) {
  using Row = std::remove_const_t<R>;
  if constexpr (std::is_same_v<Row, PipelineRow>) return std::tie(r.id, r.name);
  else if constexpr (std::is_same_v<Row, RunRow>) return std::tie(r.id, r.name, r.pipeline_id, r.status, r.parent_run_id, r.child_key);
  else if constexpr (std::is_same_v<Row, StepRow>) return std::tie(r.id, r.run_id, r.name, r.status, r.original_step_run_id);
  else if constexpr (std::is_same_v<Row, ArtifactLinkRow>) return std::tie(r.step_id, r.name, r.artifact_version_id);
  else if constexpr (std::is_same_v<Row, PipelineOutputRow>) return std::tie(r.run_id, r.name, r.artifact_version_id);
  else if constexpr (std::is_same_v<Row, ArtifactVersionRow>)
    return std::tie(r.id, r.uri, r.artifact_store_id, r.availability, r.artifact_name, r.version);
  else return std::tie(r.id, r.uri, r.step_run_id, r.artifact_store_id, r.source, r.pipeline_run_id);
}

template <typename Now, typename Was, std::size_t... I>
void RebaseTexts(Now now, Was was, TextArena& arena, std::index_sequence<I...>) {
  ((std::get<I>(now) = std::get<I>(now) == std::get<I>(was) ? Text(std::get<I>(was)) : arena.Keep(std::get<I>(now))),
   ...);
}

// `fresh` (its texts in a scratch arena) with its texts in `arena`: the bytes of `old` (the
// row it replaces, or null) where they are equal, a copy otherwise.
template <typename Row>
void Rebase(Row& fresh, const Row* old, TextArena& arena) {
  auto now = TextsOf(fresh);
  constexpr std::size_t n = std::tuple_size_v<decltype(now)>;
  if (old != nullptr) return RebaseTexts(now, TextsOf(*old), arena, std::make_index_sequence<n>());
  std::apply([&](auto&... f) { ((f = arena.Keep(f)), ...); }, now);
}

template <typename Row>
void NoteNewest(const Row& r, std::optional<Micros>* newest) {
  if constexpr (requires { r.updated; }) {
    for (const auto& t : {r.created, r.updated}) {
      if (t && (!*newest || *t > **newest)) *newest = t;
    }
  }
}

}  // namespace

// What a kAll read remembers for the next LoadChanges.
struct SqlCatalog::Marks final : ChangeMarks {
  std::array<PartMarks, kPartCount> parts;
  // Tables whose rows are not kept but show in the parts' (artifact names, visualization
  // flags, artifact store ids): count(*), max(rowid) and that row's id each.
  struct Other {
    std::int64_t count = 0, max = 0;
    std::string top;
  };
  std::array<Other, 3> others{};
  std::optional<Micros> newest;    // the newest created/updated stamp seen
  int deltas = 0;                  // LoadChanges reads since the last full one
  const SqlCatalog* catalog = nullptr;  // whose
};

// One part's table and the query that reads it.
struct SqlCatalog::PartSpec {
  PartId id;
  std::string table;  // whose rowid keys the rows
  std::string cols;   // the row's columns (Decode's), without the rowid
  std::string from;   // the table and its joins
  std::string where;  // which of its rows ("": all)
  bool in_project = false;  // and only the project shown's
  std::string changed;      // LoadChanges: true of a row changed since the marks
  // Whether other rows refer to its rows: deleting one runs the database's ON DELETE actions
  // (SET NULL, CASCADE) on the rows that refer to it, which stamp nothing.
  bool referenced = false;
};

// Runs "SELECT `what` FROM `from`" over `spec`'s rows (its WHERE, the project's bound), with
// `extra` ANDed ("": none), ordered by `order` (""). `member`: over every row that meets `extra` instead, with one
// more column, 1 for the part's rows and 0 for the others.
template <typename F>
Status SqlCatalog::ForEachOfPart(sql::Connection& db, const PartSpec& spec, const std::string& what,
                                 const std::string& from, const std::string& extra, bool member,
                                 const std::string& order, F&& row) const {
  std::vector<std::string> in_part;
  if (!spec.where.empty()) in_part.push_back("(" + spec.where + ")");
  const bool project = spec.in_project && !project_id_.empty() && schema_.Has(spec.table, "project_id");
  if (project) in_part.push_back(spec.table + ".project_id = ?");
  std::string part_cond;
  for (const std::string& c : in_part) part_cond += (part_cond.empty() ? "" : " AND ") + c;
  std::vector<std::string> conds;
  std::string sql = "SELECT " + what;
  if (member) {
    sql += ", " + (part_cond.empty() ? std::string("1") : "CASE WHEN " + part_cond + " THEN 1 ELSE 0 END");
  } else if (!part_cond.empty()) {
    conds.push_back(part_cond);
  }
  sql += " FROM " + from;
  if (!extra.empty()) conds.push_back("(" + extra + ")");
  for (std::size_t i = 0; i < conds.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + conds[i];
  if (!order.empty()) sql += " ORDER BY " + order;
  if (project) return ForEachBound(db, sql, {project_id_}, row);
  return ForEachBound(db, sql, {}, row);
}

// Reads `spec`'s part into (rows.*vec): whole when `old` is null (and then its rowids into
// `mark` if it is not), else only its changes merged into `old_rows` (the part's rows
// in the previous picture, whose marks are `old`).
template <typename Row>
Status SqlCatalog::ReadPart(sql::Connection& db, const PartSpec& spec, std::vector<Row> StoreRows::*vec,
                            StoreRows& rows, const PartMarks* old, std::span<const Row> old_rows,
                            PartMarks* mark, std::optional<std::vector<std::string>>* changed_ids) const {
  std::vector<Row>& out = rows.*vec;
  const std::string key = spec.table + "." + database_->RowKey();
  const int key_col = [&] {  // the rowid's column: after the row's
    int n = 1;
    for (char c : spec.cols) n += c == ',' ? 1 : 0;
    return n;
  }();
  Row* none = nullptr;
  if (old == nullptr || !old->ordered) {
    // Whole. Rows the previous picture had keep its bytes.
    // Room first, but not twice for the logs' two parts.
    Status s = spec.where.empty() ? ReserveFor(db, spec.table, &out) : Status::Ok();
    if (!s.ok()) return s;
    std::unordered_map<std::int64_t, std::size_t> was;
    if (old != nullptr) {
      for (std::size_t i = 0; i < old->keys.size(); ++i) was.emplace(old->keys[i], i);
    }
    TextArena scratch;
    Keeper keep(old != nullptr ? scratch : *rows.text);
    // In rowid order where a merge needs it: a planner that scans a covering index instead
    // (the link tables' primary keys) would give another order, and the next one another.
    s = ForEachOfPart(db, spec, spec.cols + (mark ? ", " + key : ""), spec.from, "", false,
                      database_->GrowingRowKey() ? key : "", [&](const sql::Rows& st) {
      Row& r = out.emplace_back(Decode(keep, st, none));
      if (mark == nullptr) return;
      NoteNewest(r, &mark->newest);
      const std::int64_t k = st.Int(key_col);
      if (!mark->keys.empty() && k <= mark->keys.back()) mark->ordered = false;
      mark->keys.push_back(k);
      mark->max = std::max(mark->max, k);
      if (old != nullptr) {
        auto it = was.find(k);
        Rebase(r, it != was.end() ? &old_rows[it->second] : nullptr, *rows.text);
      }
    });
    if (mark) mark->count = static_cast<std::int64_t>(mark->keys.size());
    return s;
  }
  // Changes only: the rows new or stamped in the window, with whether they are (still) the
  // part's (a logs row whose step_run_id was set, a run moved to another project).
  // Apart: SQLite counts a whole table from its smallest index and finds max(rowid) in the
  // table's b-tree, where the two together would scan the table.
  std::int64_t count = 0, max = 0;
  Status s = ForEachOfPart(db, spec, "count(*)", spec.table, "", false, "",
                           [&](const sql::Rows& st) { count = st.Int(0); });
  if (s.ok()) {
    s = ForEachRow(db, "SELECT max(" + key + ") FROM " + spec.table, [&](const sql::Rows& st) { max = st.Int(0); });
  }
  if (!s.ok()) return s;
  TextArena scratch;
  Keeper keep(scratch);
  mark->newest = old->newest;
  std::vector<Row> changed;
  std::vector<std::int64_t> changed_keys;
  std::vector<bool> in_part;
  s = ForEachOfPart(db, spec, spec.cols + ", " + key, spec.from,
                    key + " > " + std::to_string(old->max) + " OR " + spec.changed, true, "",
                    [&](const sql::Rows& st) {
                      NoteNewest(changed.emplace_back(Decode(keep, st, none)), &mark->newest);
                      changed_keys.push_back(st.Int(key_col));
                      in_part.push_back(st.Int(key_col + 1) != 0);
                    });
  if (!s.ok()) return s;
  if (changed_ids != nullptr) {
    changed_ids->emplace();
    for (const Row& r : changed) (*changed_ids)->emplace_back(std::get<0>(TextsOf(r)));
  }
  // In rowid order (a scan's; sorted here rather than asked of the planner with ORDER BY).
  std::vector<std::size_t> order(changed.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return changed_keys[a] < changed_keys[b]; });
  bool reused = false;
  // Merged by rowid: a changed row replaces the old one of its rowid, or comes new, or (not
  // the part's now) removes it. `alive` (sorted), when given, drops the old rows not in it.
  const auto merge = [&](const std::vector<std::int64_t>* alive) {
    out.reserve(out.size() + static_cast<std::size_t>(count));
    mark->keys.clear();
    mark->keys.reserve(static_cast<std::size_t>(count));
    std::size_t i = 0, j = 0, a = 0;
    const auto still = [&](std::int64_t k) {
      if (alive == nullptr) return true;
      while (a < alive->size() && (*alive)[a] < k) ++a;
      return a < alive->size() && (*alive)[a] == k;
    };
    constexpr std::int64_t kEnd = std::numeric_limits<std::int64_t>::max();
    while (i < old->keys.size() || j < order.size()) {
      const std::int64_t ko = i < old->keys.size() ? old->keys[i] : kEnd;
      const std::int64_t kc = j < order.size() ? changed_keys[order[j]] : kEnd;
      if (ko < kc) {
        if (still(ko)) {
          out.push_back(old_rows[i]);
          mark->keys.push_back(ko);
        }
        ++i;
        continue;
      }
      if (ko == kc && spec.referenced && std::get<0>(TextsOf(changed[order[j]])) != std::get<0>(TextsOf(old_rows[i]))) {
        reused = true;  // the row of this rowid was deleted, and another took its rowid
      }
      if (in_part[order[j]]) {
        Row& r = out.emplace_back(changed[order[j]]);
        Rebase(r, ko == kc ? &old_rows[i] : nullptr, *rows.text);
        mark->keys.push_back(kc);
      }
      if (ko == kc) ++i;
      ++j;
    }
  };
  const std::size_t start = out.size();
  merge(nullptr);
  if (reused || static_cast<std::int64_t>(mark->keys.size()) != count) {
    // Rows were deleted (the only change a count shows that the rows read do not).
    if (spec.referenced) {
      return Status::Unsupported(spec.table + " rows were deleted: the rows that refer to them may have changed");
    }
    std::vector<std::int64_t> alive;
    s = ForEachOfPart(db, spec, key, spec.table, "", false, "",
                      [&](const sql::Rows& st) { alive.push_back(st.Int(0)); });
    if (!s.ok()) return s;
    std::sort(alive.begin(), alive.end());
    out.resize(start);
    merge(&alive);
  }
  mark->count = count;
  mark->max = max;
  if (static_cast<std::int64_t>(mark->keys.size()) != count) {
    return Status::Corruption(spec.table + ": the changes read do not add up to its rows (" +
                              std::to_string(mark->keys.size()) + " rows, count(*) " + std::to_string(count) + ")");
  }
  return Status::Ok();
}

// Reads every part of `scope` below the pipelines' in LoadRows's order; see ReadPart for
// `prev` (null: whole) and `marks` (null: none kept).
Status SqlCatalog::ReadParts(sql::Connection& db, RowScope scope, const StoreRows* prev, StoreRows& rows,
                             Marks* marks) const {
  const StoreSchema& sc = schema_;
  const auto* old = prev != nullptr ? static_cast<const Marks*>(prev->marks.get()) : nullptr;
  // The stamps' condition for `t`'s rows ("1 = 1": no stamps, every row is a change).
  std::string since;
  if (old != nullptr) {
    const Micros now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    since = "'" + FormatStoreTime(std::min(old->newest.value_or(0), now) - kOverlap) + "'";
  }
  const auto stamped = [&](const std::string& t) {
    std::string c;
    for (const char* col : {"updated", "created"}) {
      if (sc.Has(t, col)) c += (c.empty() ? "" : " OR ") + sc.Col(t, col) + " >= " + since;
    }
    return c.empty() ? std::string("1 = 1") : c;
  };
  const auto max_of = [&](PartId id) { return std::to_string(old ? old->parts[id].max : 0); };
  // The rows of `t` (a table of steps or runs) that are new or stamped in the window.
  const auto owners = [&](const std::string& t, PartId id) {
    return "SELECT id FROM " + t + " WHERE rowid > " + max_of(id) + " OR " + stamped(t);
  };
  // The ids of the runs and steps just read as changed (unset when their part was read
  // whole): the link rows of exactly those are read as changed. Named in the query rather
  // than found again by `owners`, which would scan the steps (runs) table once more for
  // each link table.
  std::optional<std::vector<std::string>> changed_runs, changed_steps;
  const auto owned_by = [&](const std::string& col, const std::optional<std::vector<std::string>>& ids,
                            const std::string& t, PartId id) {
    // Beyond this many, a list costs more to parse than the table scan it saves.
    constexpr std::size_t kMaxListed = 10000;
    // (An id SQL cannot write as a literal: NUL bytes.)
    const bool listable = ids && ids->size() <= kMaxListed &&
                          std::none_of(ids->begin(), ids->end(), [](const std::string& i) { return i.find('\0') != std::string::npos; });
    if (!listable) return col + " IN (" + owners(t, id) + ")";
    if (ids->empty()) return std::string("0 = 1");
    std::string list;
    for (const std::string& i : *ids) list += (list.empty() ? "" : ", ") + SqlString(i);
    return col + " IN (" + list + ")";
  };
  std::array<std::size_t, kPartCount> at{};  // where each part's rows begin in prev's vector
  if (old != nullptr) at[kStepLogPart] = old->parts[kRunLogPart].keys.size();
  const auto read = [&](const PartSpec& spec, auto vec,
                        std::optional<std::vector<std::string>>* changed_ids = nullptr) -> Status {
    using Row = typename std::remove_reference_t<decltype(rows.*vec)>::value_type;
    std::span<const Row> old_rows;
    if (old != nullptr) {
      const std::vector<Row>& all = prev->*vec;
      const std::size_t n = old->parts[spec.id].keys.size();
      if (at[spec.id] + n > all.size()) return Status::Corruption("the previous rows do not match their marks");
      old_rows = std::span<const Row>(all.data() + at[spec.id], n);
    }
    return ReadPart(db, spec, vec, rows, old ? &old->parts[spec.id] : nullptr, old_rows,
                    marks ? &marks->parts[spec.id] : nullptr, changed_ids);
  };
  Status s;
  const std::string p = "pipeline", r = "pipeline_run", t = "step_run", lg = "logs";
  s = read({kPipelinePart, p, "id, name, " + sc.Col(p, "created") + ", " + sc.Col(p, "updated"), p, "", true,
            stamped(p), true},
           &StoreRows::pipelines);
  if (!s.ok() || scope == RowScope::kPipelines) return s;
  s = read({kRunPart, r,
            "id, name, " + sc.Col(r, "pipeline_id") + ", status, " + sc.Col(r, "start_time") + ", " +
                sc.Col(r, "end_time") + ", " + sc.Col(r, "created") + ", " + sc.Col(r, "updated") + ", " +
                sc.Col(r, "parent_run_id") + ", " + sc.Col(r, "child_key"),
            r, "", true, stamped(r), true},
           &StoreRows::runs, &changed_runs);
  if (!s.ok()) return s;
  // Logs rows (several per step, one per source since ZenML 0.92; the uri NULL when a log
  // store keeps them): a run's own (0.92 and later) here, the steps' below.
  const bool logs = sc.Has(lg, "uri") && sc.Has(lg, "step_run_id");
  const std::string log_cols = sc.Col(lg, "id") + ", uri, step_run_id, " + sc.Col(lg, "artifact_store_id") + ", " +
                               sc.Col(lg, "created") + ", " + sc.Col(lg, "updated") + ", " + sc.Col(lg, "source") +
                               ", " + sc.Col(lg, "pipeline_run_id");
  if (logs && sc.Has(lg, "pipeline_run_id")) {
    s = read({kRunLogPart, lg, log_cols, lg, "step_run_id IS NULL AND pipeline_run_id IS NOT NULL", false,
              stamped(lg), false},
             &StoreRows::logs);
    if (!s.ok()) return s;
  }
  // A run's named outputs (0.95 and later).
  const std::string po = "pipeline_run_output";
  if (sc.Has(po, "pipeline_run_id") && sc.Has(po, "name") && sc.Has(po, "artifact_id")) {
    s = read({kRunOutputPart, po, "pipeline_run_id, name, artifact_id, " + sc.Col(po, "output_index"), po, "",
              false, owned_by("pipeline_run_id", changed_runs, r, kRunPart), false},
             &StoreRows::pipeline_outputs);
    if (!s.ok()) return s;
  }
  if (scope == RowScope::kRuns) return s;
  s = read({kStepPart, t,
            "id, pipeline_run_id, name, status, " + sc.Col(t, "original_step_run_id") + ", " +
                sc.Col(t, "start_time") + ", " + sc.Col(t, "end_time") + ", " + sc.Col(t, "created") + ", " +
                sc.Col(t, "updated"),
            t, "", true, stamped(t), true},
           &StoreRows::steps, &changed_steps);
  if (!s.ok()) return s;
  const std::string step_links = owned_by("step_id", changed_steps, t, kStepPart);
  const std::string so = "step_run_output_artifact";
  s = read({kOutputPart, so, "step_id, name, artifact_id, 0", so, "", false, step_links, false}, &StoreRows::outputs);
  if (!s.ok()) return s;
  const std::string si = "step_run_input_artifact";
  if (sc.Has(si, "step_id") && sc.Has(si, "artifact_id")) {
    s = read({kInputPart, si, "step_id, " + sc.Col(si, "name") + ", artifact_id, " + sc.Col(si, "input_index"), si,
              "", false, step_links, false},
             &StoreRows::inputs);
    if (!s.ok()) return s;
  }
  // With its artifact's name (every schema from 0.74 on has artifact.name and
  // artifact_version.artifact_id; a version whose artifact is gone gets ""), and only the
  // project shown's versions (0.80+; 0.74's versions all belong to its one workspace).
  // And whether it has visualizations: one grouped pass over artifact_visualization joined
  // in (not a subquery per version: the table has no index on artifact_version_id).
  const std::string av = "artifact_version", vt = "artifact_visualization";
  const bool has_artifact = sc.Has("artifact", "id") && sc.Has("artifact", "name") && sc.Has(av, "artifact_id");
  const bool has_vis = sc.Has(vt, "artifact_version_id");
  std::string version_changed = stamped(av);
  if (has_artifact) {
    version_changed += " OR artifact_version.artifact_id IN (SELECT id FROM artifact WHERE rowid > " +
                       std::to_string(old ? old->others[0].max : 0) + " OR " + stamped("artifact") + ")";
  }
  if (has_vis) {
    version_changed += " OR artifact_version.id IN (SELECT artifact_version_id FROM " + vt + " WHERE rowid > " +
                       std::to_string(old ? old->others[1].max : 0) + ")";
  }
  s = read({kVersionPart, av,
            "artifact_version.id, artifact_version.uri, " + sc.Col(av, "artifact_store_id") + ", " +
                sc.Col(av, "created") + ", " + sc.Col(av, "updated") + ", " + sc.Col(av, "availability") + ", " +
                (has_artifact ? "artifact.name" : "NULL") + ", " + sc.Col(av, "version") + ", " +
                (has_vis ? "vis.vid IS NOT NULL" : "0"),
            av + (has_artifact ? " LEFT JOIN artifact ON artifact.id = artifact_version.artifact_id" : "") +
                (has_vis ? " LEFT JOIN (SELECT DISTINCT artifact_version_id AS vid FROM " + vt +
                               ") vis ON vis.vid = artifact_version.id"
                         : ""),
            "", true, version_changed, true},
           &StoreRows::artifact_versions);
  if (!s.ok()) return s;
  if (logs) {
    s = read({kStepLogPart, lg, log_cols, lg, "step_run_id IS NOT NULL", false, stamped(lg), false},
             &StoreRows::logs);
  }
  return s;
}

// The artifact stores (stack_component rows of type artifact_store).
Status SqlCatalog::LoadArtifactStores(sql::Connection& db, StoreRows* rows) const {
  const StoreSchema& sc = schema_;
  if (!sc.Has("stack_component", "id") || !sc.Has("stack_component", "type") ||
      !sc.Has("stack_component", "configuration")) {
    return Status::Ok();
  }
  // The flavor says which source serves the component (s3: store/s3_artifact_source.h);
  // the S3 flavor's client_kwargs name an S3-compatible endpoint and its region.
  return ForEachRow(db,
                    "SELECT id, configuration, " + sc.Col("stack_component", "flavor") +
                        " FROM stack_component WHERE type = 'artifact_store'",
                    [&](const sql::Rows& st) {
                      ArtifactStoreRow row{st.Text(0), "", st.Text(2), "", ""};
                      auto decoded = DecodeBase64(st.Text(1));
                      if (decoded) {
                        const json cfg = ParseStoreJson<json>(*decoded);
                        const auto text = [](const json& o, const char* name, std::string* out) {
                          if (o.is_object() && o.contains(name) && o[name].is_string()) {
                            *out = o[name].get<std::string>();
                          }
                        };
                        text(cfg, "path", &row.configured_root);
                        if (cfg.is_object() && cfg.contains("client_kwargs")) {
                          text(cfg["client_kwargs"], "endpoint_url", &row.endpoint_url);
                          text(cfg["client_kwargs"], "region_name", &row.region_name);
                        }
                      }
                      rows->artifact_stores.push_back(std::move(row));
                    });
}

// count(*) and max(rowid) of `table` (zeros when the store lacks it), and how many rows are
// past `after`.
Status SqlCatalog::CountRows(sql::Connection& db, const std::string& table, std::int64_t after, std::int64_t* count,
                             std::int64_t* max, std::int64_t* added) const {
  *count = *max = *added = 0;
  if (!schema_.Has(table)) return Status::Ok();
  return ForEachRow(db,
                    "SELECT count(*), max(rowid), count(CASE WHEN rowid > " + std::to_string(after) +
                        " THEN 1 END) FROM " + table,
                    [&](const sql::Rows& st) {
                      *count = st.Int(0);
                      *max = st.Int(1);
                      *added = st.Int(2);
                    });
}

Result<StoreRows> SqlCatalog::LoadRows(RowScope scope) { return Load(scope, nullptr); }

Result<StoreRows> SqlCatalog::LoadChanges(const StoreRows& prev) {
  const auto* old = dynamic_cast<const Marks*>(prev.marks.get());
  if (old == nullptr || old->catalog != this || prev.scope != RowScope::kAll) {
    return Status::Unsupported("no marks of an earlier read of this catalog");
  }
  if (old->deltas >= kDeltaReads) return Status::Unsupported("a full read is due");
  return Load(RowScope::kAll, &prev);
}

Result<StoreRows> SqlCatalog::Load(RowScope scope, const StoreRows* prev) {
  auto lease = database_->Acquire();
  if (!lease.ok()) return lease.status();
  sql::Connection& db = *lease->connection;
  StoreRows rows;
  rows.scope = scope;
  const auto* old = prev != nullptr ? static_cast<const Marks*>(prev->marks.get()) : nullptr;
  if (prev != nullptr) rows.text = prev->text;  // old texts stay where they are
  std::shared_ptr<Marks> marks;  // kept when the next read can be of the changes
  if (scope == RowScope::kAll && database_->GrowingRowKey()) {
    marks = std::make_shared<Marks>();
    marks->catalog = this;
    marks->deltas = old != nullptr ? old->deltas + 1 : 0;
  }
  Status s;
  {
    ReadTxn txn(db);
    if (!txn.status().ok()) return txn.status();
    const StoreSchema& sc = schema_;
    if (sc.Has("alembic_version", "version_num")) {
      s = ForEachRow(db, "SELECT version_num FROM alembic_version LIMIT 1",
                     [&](const sql::Rows& st) { rows.schema_version = st.Text(0); });
      if (!s.ok()) return s;
    }
    s = LoadProjects(db, &rows.projects);
    if (!s.ok()) return s;
    rows.project_id = project_id_;
    if (marks) {
      // One of them deleted changes rows that stay (a name, a flag, a NULL): a full read. So
      // does its largest row replaced (another id at that rowid: a delete and an insert).
      const char* others[] = {"artifact", "artifact_visualization", "stack_component"};
      for (std::size_t i = 0; i < marks->others.size(); ++i) {
        Marks::Other& now = marks->others[i];
        std::int64_t added = 0;
        s = CountRows(db, others[i], old ? old->others[i].max : 0, &now.count, &now.max, &added);
        if (s.ok() && schema_.Has(others[i], "id")) {
          s = ForEachRow(db, std::string("SELECT id FROM ") + others[i] + " WHERE rowid = " + std::to_string(now.max),
                         [&](const sql::Rows& st) { now.top = st.Text(0); });
        }
        if (!s.ok()) return s;
        if (old == nullptr) continue;
        // The last read's largest row, still there with its id? (Deleted with others, its
        // rowid can go to a new row while the count stays: a delete, a delete, an insert.)
        std::string then_top = now.top;
        if (now.max != old->others[i].max && schema_.Has(others[i], "id")) {
          then_top.clear();
          s = ForEachRow(db,
                         std::string("SELECT id FROM ") + others[i] + " WHERE rowid = " +
                             std::to_string(old->others[i].max),
                         [&](const sql::Rows& st) { then_top = st.Text(0); });
          if (!s.ok()) return s;
        }
        if (now.count != old->others[i].count + added || now.max < old->others[i].max ||
            then_top != old->others[i].top) {
          return Status::Unsupported(std::string(others[i]) + " rows were deleted");
        }
      }
    }
    s = ReadParts(db, scope == RowScope::kPipelines ? RowScope::kPipelines : scope, prev, rows, marks.get());
    if (!s.ok()) return s;
    if (scope == RowScope::kPipelines) s = LoadFirstRuns(db, &rows);
    if (!s.ok()) return s;
    s = LoadArtifactStores(db, &rows);
    if (!s.ok()) return s;
  }
  if (marks) {
    for (const PartMarks& p : marks->parts) {
      if (p.newest && (!marks->newest || *p.newest > *marks->newest)) marks->newest = p.newest;
    }
    rows.marks = std::move(marks);
  }
  database_->Release(std::move(*lease), false);
  return rows;
}

Status SqlCatalog::MetadataOn(sql::Connection& db, std::string_view type, const std::string& id,
                                 std::vector<MetadataRow>* out) {
  if (!schema_.Has("run_metadata_resource", "resource_id") ||
      !schema_.Has("run_metadata", "key")) {
    return Status::Ok();
  }
  // The values are read after the rows: a connection runs one query at a time.
  std::vector<std::string> keys;
  const std::size_t first = out->size();
  Status s = ForEachBound(
      db,
      "SELECT run_metadata.\"key\", " + Key("run_metadata") + ", " + schema_.Col("run_metadata", "type") + ", " +
          schema_.Col("run_metadata", "created") +
          " FROM run_metadata_resource JOIN run_metadata ON run_metadata.id = "
          "run_metadata_resource.run_metadata_id WHERE run_metadata_resource.resource_id = ? "
          "AND run_metadata_resource.resource_type = ? ORDER BY 4, run_metadata.id",
      {id, type}, [&](const sql::Rows& st) {
        out->push_back({st.Text(0), "", st.Text(2), TimeCol(st, 3)});
        keys.push_back(st.Text(1));
      });
  if (!s.ok()) return s;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    (*out)[first + i].value = MaybeDecompress(Capped(db, "run_metadata", "value", keys[i]).value_or(""));
  }
  return s;
}

Status SqlCatalog::InReadTxn(const std::function<Status(sql::Connection&)>& body) {
  auto lease = database_->Acquire();
  if (!lease.ok()) return lease.status();
  Status s;
  {
    ReadTxn txn(*lease->connection);
    if (!txn.status().ok()) {
      database_->Release(std::move(*lease), true);
      return txn.status();
    }
    s = body(*lease->connection);
    // Connection::Capped has no error of its own (a failed read is an absent value): a
    // connection lost during the body shows here, where COMMIT fails, and the detail is
    // an error rather than one with values missing.
    const Status end = txn.End();
    if (s.ok()) s = end;
  }
  // A failed connection is not pooled: the server may have gone away under it.
  database_->Release(std::move(*lease), !s.ok());
  return s;
}

Status SqlCatalog::GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) {
  return InReadTxn([&](sql::Connection& db) {
    Status s;
    const std::string av = "artifact_version";
    const bool has_artifact = schema_.Has("artifact", "id") && schema_.Has("artifact", "name") &&
                              schema_.Has(av, "artifact_id");
    bool found = false;
    s = ForEachBound(
        db,
        "SELECT " + std::string(has_artifact ? "artifact.name" : "NULL") + ", " + schema_.Col(av, "version") +
            ", " + schema_.Col(av, "type") + ", " + schema_.Col(av, "materializer") + ", " +
            schema_.Col(av, "data_type") + " FROM artifact_version" +
            (has_artifact ? " LEFT JOIN artifact ON artifact.id = artifact_version.artifact_id" : "") +
            " WHERE artifact_version.id = ?",
        {version_id}, [&](const sql::Rows& st) {
          found = true;
          out->artifact_name = st.Text(0);
          out->version = st.Text(1);
          out->type = st.Text(2);
          out->materializer = st.Text(3);
          out->data_type = st.Text(4);
        });
    if (s.ok() && !found) s = Status::NotFound("artifact version " + version_id + " is gone");
    if (s.ok()) s = MetadataOn(db, "artifact_version", version_id, &out->metadata);
    const std::string vt = "artifact_visualization";
    if (s.ok() && schema_.Has(vt, "artifact_version_id") && schema_.Has(vt, "uri")) {
      // ZenML's order (ArtifactDetail::visualizations): the row key's.
      s = ForEachBound(db,
                       "SELECT " + schema_.Col(vt, "type") + ", uri FROM " + vt +
                           " WHERE artifact_version_id = ? ORDER BY " + Key(vt),
                       {version_id}, [&](const sql::Rows& st) {
                         out->visualizations.push_back({st.Text(0), st.Text(1)});
                       });
    }
    return s;
  });
}

// In a read transaction, as every detail: its end tells whether the values were read.
Status SqlCatalog::GetMetadata(std::string_view resource_type, const std::string& resource_id,
                                  std::vector<MetadataRow>* out) {
  return InReadTxn([&](sql::Connection& db) { return MetadataOn(db, resource_type, resource_id, out); });
}

// A connection runs one query at a time, so long values (Capped) are read once a query's
// rows are done: each query below keeps its row key and reads them after.

Status SqlCatalog::GetRunDetail(const std::string& run_id, RunDetail* out) {
  return InReadTxn([&](sql::Connection& db) {
    Status s;
    const std::string r = "pipeline_run";
    std::optional<std::string> deployment_id, run_key;
    s = ForEachBound(db,
                     "SELECT " + (deployment_col_.empty() ? "NULL" : schema_.Col(r, deployment_col_)) +
                         ", " + schema_.Col(r, "orchestrator_run_id") + ", " + Key(r) + ", " +
                         schema_.Col(r, "schedule_id") + ", " + schema_.Col(r, "index") + ", " +
                         schema_.Col(r, "in_progress") + " FROM pipeline_run WHERE id = ?",
                     {run_id}, [&](const sql::Rows& st) {
                       if (!st.IsNull(4)) out->index = st.Int(4);
                       if (!st.IsNull(5)) out->in_progress = st.Int(5) != 0;
                       deployment_id = st.OptText(0);
                       out->orchestrator_run_id = st.OptText(1);
                       run_key = st.Text(2);
                       out->schedule_id = st.OptText(3);
                     });
    if (s.ok() && run_key) {
      if (auto pc = Capped(db, r, "pipeline_configuration", *run_key)) out->pipeline_configuration = MaybeDecompress(*pc);
    }
    if (s.ok() && deployment_id && schema_.Has(deployment_table_, "id")) {
      const std::string& d = deployment_table_;
      std::optional<std::string> code_reference_id, key;
      s = ForEachBound(
          db,
          "SELECT " + Key(d) + ", " + schema_.Col(d, "run_name_template") + ", " + schema_.Col(d, "schedule_id") +
              ", " + schema_.Col(d, "code_path") + ", NULL, " + schema_.Col(d, "code_reference_id") + " FROM " + d +
              " WHERE id = ?",
          {*deployment_id}, [&](const sql::Rows& st) {
            key = st.Text(0);
            out->run_name_template = st.OptText(1);
            if (auto sid = st.OptText(2)) out->schedule_id = sid;
            out->code_path = st.OptText(3);
            code_reference_id = st.OptText(5);
          });
      if (s.ok() && key) {
        if (auto pc = Capped(db, d, "pipeline_configuration", *key)) out->pipeline_configuration = MaybeDecompress(*pc);
        if (auto spec = Capped(db, d, "pipeline_spec", *key)) {
          const json j = ParseStoreJson<json>(MaybeDecompress(*spec));
          if (j.is_object() && j.contains("source")) out->pipeline_source = j["source"].dump();
        }
      }
      if (s.ok() && code_reference_id && schema_.Has("code_reference", "commit")) {
        s = ForEachBound(db, "SELECT \"commit\" FROM code_reference WHERE id = ?", {*code_reference_id},
                         [&](const sql::Rows& st) { out->git_sha = st.OptText(0); });
      }
    }
    if (s.ok()) s = MetadataOn(db, "pipeline_run", run_id, &out->metadata);
    return s;
  });
}

// The row keys `select` (one column) returns for `params`.
Result<std::vector<std::string>> SqlCatalog::KeysOf(sql::Connection& db, const std::string& select,
                                                    std::initializer_list<std::string_view> params) const {
  std::vector<std::string> keys;
  Status s = ForEachBound(db, select, params, [&](const sql::Rows& st) { keys.push_back(st.Text(0)); });
  if (!s.ok()) return s;
  return keys;
}

Result<std::string> SqlCatalog::DeploymentStepConfig(sql::Connection& db, const std::string& deployment_id,
                                                     const std::string& step_name) {
  std::string config;
  const std::string sc = "step_configuration";
  if (schema_.Has(sc, "config") && schema_.Has(sc, "name") && schema_.Has(sc, "snapshot_id")) {
    auto keys = KeysOf(db, "SELECT " + Key(sc) + " FROM step_configuration WHERE snapshot_id = ? AND name = ?",
                       {deployment_id, step_name});
    if (!keys.ok()) return keys.status();
    for (const std::string& k : *keys) config = MaybeDecompress(Capped(db, sc, "config", k).value_or(""));
    if (!config.empty()) return config;
  }
  if (!schema_.Has(deployment_table_, "step_configurations")) return config;
  std::shared_ptr<const StepConfigs> configs;
  {
    std::lock_guard<std::mutex> lock(deployment_mu_);
    auto it = deployments_.find(deployment_id);
    if (it != deployments_.end()) configs = it->second;
  }
  if (configs == nullptr) {
    // The deployment's JSON holds every step; each step's entry is what its meta.json shows.
    auto keys = KeysOf(db, "SELECT " + Key(deployment_table_) + " FROM " + deployment_table_ + " WHERE id = ?",
                       {deployment_id});
    if (!keys.ok()) return keys.status();
    if (keys->empty()) return config;  // not written yet, perhaps: not remembered
    auto parsed = std::make_shared<StepConfigs>();
    const json all = ParseStoreJson<json>(
        MaybeDecompress(Capped(db, deployment_table_, "step_configurations", keys->front()).value_or("")));
    if (all.is_object()) {
      for (const auto& [name, value] : all.items()) parsed->emplace(name, value.dump());
    }
    configs = parsed;
    std::lock_guard<std::mutex> lock(deployment_mu_);
    if (deployments_.size() >= kDeploymentCap) deployments_.clear();
    deployments_.emplace(deployment_id, configs);
  }
  auto it = configs->find(step_name);
  return it != configs->end() ? it->second : config;
}

Status SqlCatalog::GetStepDetail(const std::string& step_id, const std::string& step_name, StepDetail* out) {
  return InReadTxn([&](sql::Connection& db) {
    Status s;
    const std::string t = "step_run";
    std::optional<std::string> deployment_id, key;
    s = ForEachBound(db,
                     "SELECT " + Key(t) + ", NULL, " + schema_.Col(t, "cache_key") + ", NULL, " +
                         (deployment_col_.empty() ? "NULL" : schema_.Col(t, deployment_col_)) +
                         " FROM step_run WHERE id = ?",
                     {step_id}, [&](const sql::Rows& st) {
                       key = st.Text(0);
                       out->cache_key = st.OptText(2);
                       deployment_id = st.OptText(4);
                     });
    if (s.ok() && key) {
      out->docstring = Capped(db, t, "docstring", *key);
      out->source_code = Capped(db, t, "source_code", *key);
      if (auto c = Capped(db, t, "step_configuration", *key)) out->step_config = MaybeDecompress(*c);
    }
    const std::string sc = "step_configuration";
    if (s.ok() && !out->step_config && schema_.Has(sc, "step_run_id") && schema_.Has(sc, "config")) {
      auto keys = KeysOf(db, "SELECT " + Key(sc) + " FROM step_configuration WHERE step_run_id = ?", {step_id});
      if (!keys.ok()) return keys.status();
      for (const std::string& k : *keys) out->step_config = MaybeDecompress(Capped(db, sc, "config", k).value_or(""));
    }
    if (s.ok() && !out->step_config && deployment_id) {
      auto cfg = DeploymentStepConfig(db, *deployment_id, step_name);
      if (!cfg.ok()) {
        s = cfg.status();
      } else if (!cfg->empty()) {
        out->step_config = std::move(*cfg);
      }
    }
    if (s.ok()) s = MetadataOn(db, "step_run", step_id, &out->metadata);
    return s;
  });
}

}  // namespace zenfs
