#include "store/sqlite_catalog.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <climits>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <deque>
#include <iterator>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "store/json_limits.h"

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

// Column `col`'s text, kept in the rows' arena.
Text Keep(StoreRows& rows, const sql::Stmt& st, int col) { return rows.text->Keep(st.TextView(col)); }

std::optional<Micros> TimeCol(const sql::Stmt& st, int col) {
  if (st.IsNull(col)) return std::nullopt;
  return ParseStoreTime(st.TextView(col));
}

// Runs `sql` and hands each row to `row`; stops at the first error.
template <typename F>
Status ForEachRow(const sql::Db& db, const std::string& sql, F&& row) {
  auto st = sql::Stmt::Borrow(db, sql);
  if (!st.ok()) return st.status();
  Status s;
  while (st->Step(&s)) row(*st);
  return s;
}

// A read transaction that always ends, so a writer is never held up by a reader.
class ReadTxn {
 public:
  explicit ReadTxn(sql::Db& db) : db_(db) { status_ = Run("BEGIN"); }
  ~ReadTxn() {
    if (status_.ok()) (void)Run("COMMIT");
  }
  const Status& status() const { return status_; }

 private:
  // BEGIN and COMMIT compiled once per connection, like the point queries between them.
  Status Run(const std::string& sql) {
    auto st = sql::Stmt::Borrow(db_, sql);
    if (!st.ok()) return st.status();
    Status s;
    while (st->Step(&s)) {
    }
    return s;
  }

  sql::Db& db_;
  Status status_;
};

// Like ForEachRow, with text parameters bound in order.
template <typename F>
Status ForEachBound(const sql::Db& db, const std::string& sql,
                    std::initializer_list<std::string> params, F&& row) {
  auto st = sql::Stmt::Borrow(db, sql);
  if (!st.ok()) return st.status();
  int i = 1;
  for (const std::string& p : params) st->Bind(i++, p);
  Status s;
  while (st->Step(&s)) row(*st);
  return s;
}

}  // namespace

// ---- StoreSchema ----

Result<StoreSchema> StoreSchema::Read(const sql::Db& db) {
  StoreSchema schema;
  std::vector<std::string> tables;
  Status s = ForEachRow(db, "SELECT name FROM sqlite_master WHERE type = 'table'",
                        [&](const sql::Stmt& st) { tables.push_back(st.Text(0)); });
  if (!s.ok()) return s;
  for (const std::string& t : tables) {
    std::set<std::string>& cols = schema.cols_[t];
    auto st = sql::Stmt::Prepare(db, "SELECT name FROM pragma_table_info(?)");
    if (!st.ok()) return st.status();
    st->Bind(1, t);
    while (st->Step(&s)) cols.insert(st->Text(0));
    if (!s.ok()) return s;
  }
  return schema;
}

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

// ---- SqliteCatalog ----

// Read through SQLite's incremental blob I/O, which learns a value's size from the row's
// header: a SELECT loads a value whole (100 MB included) before its size can be asked.
std::optional<std::string> SqliteCatalog::Capped(const sql::Db& db, const std::string& table,
                                                 const std::string& col, std::int64_t rowid) const {
  if (!schema_.Has(table, col)) return std::nullopt;
  sqlite3_blob* blob = nullptr;
  if (sqlite3_blob_open(db.get(), "main", table.c_str(), col.c_str(), rowid, 0, &blob) != SQLITE_OK) {
    sqlite3_blob_close(blob);
    // NULL, a number, or a table without rowids: small or absent, read as usual.
    std::optional<std::string> value;
    auto st = sql::Stmt::Borrow(db, "SELECT " + schema_.Col(table, col) + " FROM " + table + " WHERE rowid = ?");
    if (!st.ok()) return std::nullopt;
    st->BindInt(1, rowid);
    Status s;
    if (st->Step(&s)) value = st->OptText(0);
    return value;
  }
  const int n = sqlite3_blob_bytes(blob);
  std::string value;
  if (n > 0 && static_cast<std::size_t>(n) > kMaxStoreValueBytes) {
    value = CutNote(static_cast<std::size_t>(n));
  } else if (n > 0) {
    value.resize(static_cast<std::size_t>(n));
    if (sqlite3_blob_read(blob, value.data(), n, 0) != SQLITE_OK) value.clear();
  }
  sqlite3_blob_close(blob);
  return value;
}

SqliteCatalog::SqliteCatalog(std::string path, StoreSchema schema)
    : path_(std::move(path)),
      schema_(std::move(schema)),
      deployment_table_(schema_.Has("pipeline_snapshot") ? "pipeline_snapshot"
                                                         : "pipeline_deployment"),
      deployment_col_(schema_.FirstOf("pipeline_run", {"snapshot_id", "deployment_id"})) {}

SqliteCatalog::~SqliteCatalog() = default;

Result<sql::Db> SqliteCatalog::OpenPinned(bool immutable) const {
  // SQLITE_OPEN_NOFOLLOW refuses a link in any folder of the path, so the store's writer,
  // who may own the folders above zenml.db, cannot point later connections at another
  // user's database by making one of them a link; the file found must be the first one.
  // (A link swapped in and out again between SQLite's check and its open is not caught.)
  auto db = sql::Db::OpenReadOnly(open_path_, immutable, SQLITE_OPEN_NOFOLLOW);
  if (!db.ok()) return db.status();
  struct stat sb;
  if (stat(open_path_.c_str(), &sb) != 0 || sb.st_dev != dev_ || sb.st_ino != ino_) {
    return Status::IOError(path_ + ": no longer the database file that was opened at first "
                                   "(replaced or moved)");
  }
  return db;
}

Result<std::unique_ptr<SqliteCatalog>> SqliteCatalog::Open(const std::string& db_path) {
  struct stat sb;
  if (stat(db_path.c_str(), &sb) != 0) return Status::NotFound(db_path + ": no such file");
  if (!S_ISREG(sb.st_mode)) return Status::InvalidArgument(db_path + ": not a regular file");
  char real[PATH_MAX];
  if (realpath(db_path.c_str(), real) == nullptr) return Status::NotFound(db_path + ": no such file");
  // Resolved once, now: the links the admin's path holds are followed here and never again.
  const std::string open_path = real;
  if (stat(open_path.c_str(), &sb) != 0) return Status::NotFound(db_path + ": no such file");
  const bool at_rest = WalAtRest(open_path);
  const FileSig sig = SigOf(open_path);
  auto db = sql::Db::OpenReadOnly(open_path, at_rest, SQLITE_OPEN_NOFOLLOW);
  if (!db.ok()) return db.status();
  auto schema = StoreSchema::Read(*db);
  if (!schema.ok()) {
    return Status::Corruption(db_path + ": not a readable SQLite database (" +
                              schema.status().message() + ")");
  }
  std::string missing;
  for (const Required& r : RequiredSchema()) {
    if (!schema->Has(r.table)) {
      missing += std::string(missing.empty() ? "" : ", ") + "table " + r.table;
      continue;
    }
    for (const char* c : r.cols) {
      if (!schema->Has(r.table, c)) {
        missing += std::string(missing.empty() ? "" : ", ") + "column " + r.table + "." + c;
      }
    }
  }
  if (!missing.empty()) {
    return Status::Unsupported(db_path + ": not a ZenML store zenfs can read: missing " + missing);
  }
  auto cat = std::unique_ptr<SqliteCatalog>(new SqliteCatalog(db_path, std::move(*schema)));
  cat->open_path_ = open_path;
  cat->dev_ = sb.st_dev;
  cat->ino_ = sb.st_ino;
  cat->version_db_ = std::move(*db);
  cat->at_rest_ = at_rest;
  cat->rest_sig_ = sig;
  return cat;
}

bool SqliteCatalog::WalAtRest(const std::string& path) {
  struct stat sb;
  if (stat((path + "-wal").c_str(), &sb) == 0) return false;
  // The header's read and write versions (bytes 18 and 19) are 2 in WAL mode.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  unsigned char header[20] = {};
  const bool wal = pread(fd, header, sizeof header, 0) == static_cast<ssize_t>(sizeof header) &&
                   header[18] == 2 && header[19] == 2;
  close(fd);
  return wal;
}

SqliteCatalog::FileSig SqliteCatalog::SigOf(const std::string& path) {
  struct stat sb;
  if (stat(path.c_str(), &sb) != 0) return FileSig{};
  return FileSig{static_cast<std::uint64_t>(sb.st_dev), static_cast<std::uint64_t>(sb.st_ino),
                 static_cast<std::uint64_t>(sb.st_size),
                 static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec,
                 static_cast<std::int64_t>(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec};
}

Result<std::unique_ptr<sql::Db>> SqliteCatalog::Acquire(std::uint64_t* epoch) {
  bool at_rest = false;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    *epoch = epoch_;
    at_rest = at_rest_;
    while (!pool_.empty()) {
      auto [e, db] = std::move(pool_.back());
      pool_.pop_back();
      if (e == epoch_) return std::move(db);
    }
  }
  auto db = OpenPinned(at_rest);
  if (!db.ok()) return db.status();
  return std::make_unique<sql::Db>(std::move(*db));
}

void SqliteCatalog::Release(std::unique_ptr<sql::Db> db, std::uint64_t epoch) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  // Bounded: at most one idle connection per FUSE worker thread in practice. A connection
  // of an older epoch is closed: it may show the store as it was.
  if (epoch == epoch_ && pool_.size() < 16) pool_.emplace_back(epoch, std::move(db));
}

// A request that reads through an immutable connection while a writer's checkpoint
// rewrites zenml.db (a writer that came and went between two refreshes) may see a torn
// page and fail (EIO) once; the next refresh starts a new epoch. A writer that stays
// (ZenML's server, a running pipeline) keeps its -wal file, so the mount switches to
// ordinary connections at the next refresh, before its first checkpoint in practice.
Result<std::int64_t> SqliteCatalog::ChangeCounter() {
  std::lock_guard<std::mutex> lock(version_mu_);
  bool at_rest = false;
  {
    std::lock_guard<std::mutex> pool_lock(pool_mu_);
    at_rest = at_rest_;
  }
  if (at_rest) {
    const FileSig sig = SigOf(open_path_);  // before the new connection: a later change shows
    const bool still = WalAtRest(open_path_);
    if (!still || !(sig == rest_sig_)) {
      auto db = OpenPinned(still);
      if (!db.ok()) return db.status();
      version_db_ = std::move(*db);
      ++reopened_;
      rest_sig_ = sig;
      std::lock_guard<std::mutex> pool_lock(pool_mu_);
      ++epoch_;
      at_rest_ = still;
      pool_.clear();
    }
  }
  std::int64_t v = 0;
  Status s = ForEachRow(version_db_, "PRAGMA data_version", [&](const sql::Stmt& st) { v = st.Int(0); });
  if (!s.ok()) return s;
  // data_version counts within one connection; a new connection starts a new range.
  return reopened_ * (std::int64_t{1} << 32) + v;
}

// Room for a table's rows before reading them: growing a vector of a million rows by
// doubling moved them some twenty times and held two copies at the peak.
template <typename Row>
Status ReserveFor(const sql::Db& db, const std::string& table, std::vector<Row>* rows) {
  return ForEachRow(db, "SELECT count(*) FROM " + table, [&](const sql::Stmt& st) {
    const std::int64_t n = st.Int(0);
    if (n > 0) rows->reserve(rows->size() + static_cast<std::size_t>(n));
  });
}

template <typename F>
Status SqliteCatalog::ForEachInProject(const sql::Db& db, const std::string& select,
                                       const std::string& table, F&& row) const {
  if (project_id_.empty() || !schema_.Has(table, "project_id")) return ForEachRow(db, select, row);
  return ForEachBound(db, select + " WHERE " + table + ".project_id = ?", {project_id_}, row);
}

Status SqliteCatalog::LoadProjects(const sql::Db& db, std::vector<ProjectRow>* out) const {
  if (!schema_.Has("project", "id") || !schema_.Has("project", "name")) return Status::Ok();
  return ForEachRow(db, "SELECT id, name FROM project ORDER BY name, id",
                    [&](const sql::Stmt& st) { out->push_back({st.Text(0), st.Text(1)}); });
}

Result<std::vector<ProjectRow>> SqliteCatalog::ListProjects() {
  std::vector<ProjectRow> projects;
  Status s = InReadTxn([&](sql::Db& db) { return LoadProjects(db, &projects); });
  if (!s.ok()) return s;
  return projects;
}

// Each pipeline_id's first run (RowScope::kPipelines's share of LoadRows), inside its
// transaction: one pass over pipeline_run that keeps a row per pipeline, not per run.
Status SqliteCatalog::LoadFirstRuns(const sql::Db& db, StoreRows* out) {
  const std::string t = "pipeline_run";
  std::deque<FirstRunRow> found;  // stable addresses: the index views their pipeline ids
  std::unordered_map<std::string_view, FirstRunRow*> by_pipeline;
  Status s = ForEachInProject(
      db,
      "SELECT id, " + schema_.Col(t, "pipeline_id") + ", " + schema_.Col(t, "start_time") + ", " +
          schema_.Col(t, "created") + " FROM pipeline_run",
      t, [&](const sql::Stmt& st) {
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

// The rows below the runs (RowScope::kAll's share of LoadRows), inside its transaction.
Status SqliteCatalog::LoadStepRows(const sql::Db& db, StoreRows* out) {
  StoreRows& rows = *out;
  const StoreSchema& sc = schema_;
  Status s;
  const std::string t = "step_run";
  s = ReserveFor(db, t, &rows.steps);
  if (!s.ok()) return s;
  s = ForEachInProject(db,
                 "SELECT id, pipeline_run_id, name, status, " +
                     sc.Col(t, "original_step_run_id") + ", " + sc.Col(t, "start_time") + ", " +
                     sc.Col(t, "end_time") + ", " + sc.Col(t, "created") + ", " +
                     sc.Col(t, "updated") + " FROM step_run",
                 t, [&](const sql::Stmt& st) {
                   rows.steps.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), Keep(rows, st, 3),
                                         Keep(rows, st, 4), TimeCol(st, 5), TimeCol(st, 6),
                                         TimeCol(st, 7), TimeCol(st, 8)});
                 });
  if (!s.ok()) return s;
  s = ReserveFor(db, "step_run_output_artifact", &rows.outputs);
  if (!s.ok()) return s;
  s = ForEachRow(db, "SELECT step_id, name, artifact_id FROM step_run_output_artifact",
                 [&](const sql::Stmt& st) {
                   rows.outputs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2)});
                 });
  if (!s.ok()) return s;
  if (sc.Has("step_run_input_artifact", "step_id") &&
      sc.Has("step_run_input_artifact", "artifact_id")) {
    s = ForEachRow(db,
                   "SELECT step_id, " + sc.Col("step_run_input_artifact", "name") +
                       ", artifact_id, " + sc.Col("step_run_input_artifact", "input_index") +
                       " FROM step_run_input_artifact",
                   [&](const sql::Stmt& st) {
                     rows.inputs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), st.Int(3)});
                   });
    if (!s.ok()) return s;
  }
  const std::string av = "artifact_version";
  s = ReserveFor(db, av, &rows.artifact_versions);
  if (!s.ok()) return s;
  s = ForEachRow(db,
                 "SELECT id, uri, " + sc.Col(av, "artifact_store_id") + ", " + sc.Col(av, "created") +
                     ", " + sc.Col(av, "updated") + ", " + sc.Col(av, "availability") +
                     " FROM artifact_version",
                 [&](const sql::Stmt& st) {
                   rows.artifact_versions.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2),
                                                     TimeCol(st, 3), TimeCol(st, 4), Keep(rows, st, 5)});
                 });
  if (!s.ok()) return s;
  return LoadLogs(db, "step_run_id IS NOT NULL", out);
  return Status::Ok();
}

// Logs rows matching `where` (several per step, one per source since ZenML 0.92; the uri
// NULL when a log store keeps them).
Status SqliteCatalog::LoadLogs(const sql::Db& db, const std::string& where, StoreRows* out) const {
  const StoreSchema& sc = schema_;
  const std::string lg = "logs";
  if (!sc.Has(lg, "uri") || !sc.Has(lg, "step_run_id")) return Status::Ok();
  StoreRows& rows = *out;
  return ForEachRow(db,
                    "SELECT " + sc.Col(lg, "id") + ", uri, step_run_id, " + sc.Col(lg, "artifact_store_id") +
                        ", " + sc.Col(lg, "created") + ", " + sc.Col(lg, "updated") + ", " +
                        sc.Col(lg, "source") + ", " + sc.Col(lg, "pipeline_run_id") + " FROM logs WHERE " + where,
                    [&](const sql::Stmt& st) {
                      rows.logs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), Keep(rows, st, 3),
                                           TimeCol(st, 4), TimeCol(st, 5), Keep(rows, st, 6), Keep(rows, st, 7),
                                           !st.IsNull(1)});
                    });
}

// What newer ZenML keeps of a run beside its steps (RowScope::kRuns): its own logs (ZenML
// 0.92 and later) and its named outputs (0.95 and later).
Status SqliteCatalog::LoadRunExtras(const sql::Db& db, StoreRows* out) const {
  const StoreSchema& sc = schema_;
  if (sc.Has("logs", "pipeline_run_id")) {
    Status s = LoadLogs(db, "step_run_id IS NULL AND pipeline_run_id IS NOT NULL", out);
    if (!s.ok()) return s;
  }
  const std::string po = "pipeline_run_output";
  if (!sc.Has(po, "pipeline_run_id") || !sc.Has(po, "name") || !sc.Has(po, "artifact_id")) return Status::Ok();
  StoreRows& rows = *out;
  return ForEachRow(db,
                    "SELECT pipeline_run_id, name, artifact_id, " + sc.Col(po, "output_index") +
                        " FROM pipeline_run_output",
                    [&](const sql::Stmt& st) {
                      rows.pipeline_outputs.push_back(
                          {Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), st.Int(3)});
                    });
}

Result<StoreRows> SqliteCatalog::LoadRows(RowScope scope) {
  std::uint64_t epoch = 0;
  auto conn = Acquire(&epoch);
  if (!conn.ok()) return conn.status();
  sql::Db& db = **conn;
  StoreRows rows;
  rows.scope = scope;
  Status s;
  {
    ReadTxn txn(db);
    if (!txn.status().ok()) return txn.status();
    const StoreSchema& sc = schema_;
    if (sc.Has("alembic_version", "version_num")) {
      s = ForEachRow(db, "SELECT version_num FROM alembic_version LIMIT 1",
                     [&](const sql::Stmt& st) { rows.schema_version = st.Text(0); });
      if (!s.ok()) return s;
    }
    s = LoadProjects(db, &rows.projects);
    if (!s.ok()) return s;
    rows.project_id = project_id_;
    s = ForEachInProject(db,
                   "SELECT id, name, " + sc.Col("pipeline", "created") + ", " +
                       sc.Col("pipeline", "updated") + " FROM pipeline",
                   "pipeline", [&](const sql::Stmt& st) {
                     rows.pipelines.push_back(
                         {Keep(rows, st, 0), Keep(rows, st, 1), TimeCol(st, 2), TimeCol(st, 3)});
                   });
    if (!s.ok()) return s;
    const std::string r = "pipeline_run";
    if (scope == RowScope::kPipelines) {
      s = LoadFirstRuns(db, &rows);
    } else {
      s = ReserveFor(db, r, &rows.runs);
      if (s.ok()) {
        s = ForEachInProject(db,
                       "SELECT id, name, " + sc.Col(r, "pipeline_id") + ", status, " +
                           sc.Col(r, "start_time") + ", " + sc.Col(r, "end_time") + ", " +
                           sc.Col(r, "created") + ", " + sc.Col(r, "updated") + ", " +
                           sc.Col(r, "parent_run_id") + ", " + sc.Col(r, "child_key") + " FROM pipeline_run",
                       r, [&](const sql::Stmt& st) {
                         rows.runs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2),
                                              Keep(rows, st, 3), TimeCol(st, 4), TimeCol(st, 5),
                                              TimeCol(st, 6), TimeCol(st, 7), Keep(rows, st, 8),
                                              Keep(rows, st, 9)});
                       });
      }
    }
    if (!s.ok()) return s;
    if (scope != RowScope::kPipelines) s = LoadRunExtras(db, &rows);
    if (!s.ok()) return s;
    if (scope == RowScope::kAll) s = LoadStepRows(db, &rows);
    if (!s.ok()) return s;
    if (sc.Has("stack_component", "id") && sc.Has("stack_component", "type") &&
        sc.Has("stack_component", "configuration")) {
      s = ForEachRow(db,
                     "SELECT id, configuration FROM stack_component WHERE type = 'artifact_store'",
                     [&](const sql::Stmt& st) {
                       ArtifactStoreRow row{st.Text(0), ""};
                       auto decoded = DecodeBase64(st.Text(1));
                       if (decoded) {
                         const json cfg = ParseStoreJson<json>(*decoded);
                         if (cfg.is_object() && cfg.contains("path") && cfg["path"].is_string()) {
                           row.configured_root = cfg["path"].get<std::string>();
                         }
                       }
                       rows.artifact_stores.push_back(std::move(row));
                     });
      if (!s.ok()) return s;
    }
  }
  Release(std::move(*conn), epoch);
  return rows;
}

Status SqliteCatalog::MetadataOn(const sql::Db& db, std::string_view type, const std::string& id,
                                 std::vector<MetadataRow>* out) {
  if (!schema_.Has("run_metadata_resource", "resource_id") ||
      !schema_.Has("run_metadata", "key")) {
    return Status::Ok();
  }
  auto st = sql::Stmt::Borrow(
      db, "SELECT run_metadata.\"key\", run_metadata.rowid, " +
              schema_.Col("run_metadata", "type") + ", " + schema_.Col("run_metadata", "created") +
              " FROM run_metadata_resource JOIN run_metadata ON run_metadata.id = "
              "run_metadata_resource.run_metadata_id WHERE run_metadata_resource.resource_id = ? "
              "AND run_metadata_resource.resource_type = ? ORDER BY 4, run_metadata.id");
  if (!st.ok()) return st.status();
  st->Bind(1, id);
  st->Bind(2, type);
  Status s;
  while (st->Step(&s)) {
    out->push_back({st->Text(0), MaybeDecompress(Capped(db, "run_metadata", "value", st->Int(1)).value_or("")),
                    st->Text(2), TimeCol(*st, 3)});
  }
  return s;
}

Status SqliteCatalog::InReadTxn(const std::function<Status(sql::Db&)>& body) {
  std::uint64_t epoch = 0;
  auto conn = Acquire(&epoch);
  if (!conn.ok()) return conn.status();
  Status s;
  {
    ReadTxn txn(**conn);
    if (!txn.status().ok()) return txn.status();
    s = body(**conn);
  }
  Release(std::move(*conn), epoch);
  return s;
}

Status SqliteCatalog::GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) {
  return InReadTxn([&](sql::Db& db) {
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
        {version_id}, [&](const sql::Stmt& st) {
          found = true;
          out->artifact_name = st.Text(0);
          out->version = st.Text(1);
          out->type = st.Text(2);
          out->materializer = st.Text(3);
          out->data_type = st.Text(4);
        });
    if (s.ok() && !found) s = Status::NotFound("artifact version " + version_id + " is gone");
    if (s.ok()) s = MetadataOn(db, "artifact_version", version_id, &out->metadata);
    return s;
  });
}

Status SqliteCatalog::GetMetadata(std::string_view resource_type, const std::string& resource_id,
                                  std::vector<MetadataRow>* out) {
  std::uint64_t epoch = 0;
  auto conn = Acquire(&epoch);
  if (!conn.ok()) return conn.status();
  Status s = MetadataOn(**conn, resource_type, resource_id, out);
  Release(std::move(*conn), epoch);
  return s;
}

Status SqliteCatalog::GetRunDetail(const std::string& run_id, RunDetail* out) {
  return InReadTxn([&](sql::Db& db) {
    Status s;
    const std::string r = "pipeline_run";
    std::optional<std::string> deployment_id;
    s = ForEachBound(db,
                     "SELECT " + (deployment_col_.empty() ? "NULL" : schema_.Col(r, deployment_col_)) +
                         ", " + schema_.Col(r, "orchestrator_run_id") + ", pipeline_run.rowid, " +
                         schema_.Col(r, "schedule_id") + ", " + schema_.Col(r, "index") + ", " +
                         schema_.Col(r, "in_progress") + " FROM pipeline_run WHERE id = ?",
                     {run_id}, [&](const sql::Stmt& st) {
                       if (!st.IsNull(4)) out->index = st.Int(4);
                       if (!st.IsNull(5)) out->in_progress = st.Int(5) != 0;
                       deployment_id = st.OptText(0);
                       out->orchestrator_run_id = st.OptText(1);
                       if (auto pc = Capped(db, r, "pipeline_configuration", st.Int(2))) {
                         out->pipeline_configuration = MaybeDecompress(*pc);
                       }
                       out->schedule_id = st.OptText(3);
                     });
    if (s.ok() && deployment_id && schema_.Has(deployment_table_, "id")) {
      const std::string& d = deployment_table_;
      std::optional<std::string> code_reference_id;
      s = ForEachBound(
          db,
          "SELECT " + d + ".rowid, " +
              schema_.Col(d, "run_name_template") + ", " + schema_.Col(d, "schedule_id") + ", " +
              schema_.Col(d, "code_path") + ", NULL, " +
              schema_.Col(d, "code_reference_id") + " FROM " + d + " WHERE id = ?",
          {*deployment_id}, [&](const sql::Stmt& st) {
            const std::int64_t rowid = st.Int(0);
            if (auto pc = Capped(db, d, "pipeline_configuration", rowid)) {
              out->pipeline_configuration = MaybeDecompress(*pc);
            }
            out->run_name_template = st.OptText(1);
            if (auto sid = st.OptText(2)) out->schedule_id = sid;
            out->code_path = st.OptText(3);
            if (auto spec = Capped(db, d, "pipeline_spec", rowid)) {
              const json j = ParseStoreJson<json>(MaybeDecompress(*spec));
              if (j.is_object() && j.contains("source")) out->pipeline_source = j["source"].dump();
            }
            code_reference_id = st.OptText(5);
          });
      if (s.ok() && code_reference_id && schema_.Has("code_reference", "commit")) {
        s = ForEachBound(db, "SELECT \"commit\" FROM code_reference WHERE id = ?",
                         {*code_reference_id},
                         [&](const sql::Stmt& st) { out->git_sha = st.OptText(0); });
      }
    }
    if (s.ok()) s = MetadataOn(db, "pipeline_run", run_id, &out->metadata);
    return s;
  });
}

Result<std::string> SqliteCatalog::DeploymentStepConfig(const sql::Db& db,
                                                        const std::string& deployment_id,
                                                        const std::string& step_name) {
  std::string config;
  Status s;
  if (schema_.Has("step_configuration", "config") && schema_.Has("step_configuration", "name") &&
      schema_.Has("step_configuration", "snapshot_id")) {
    s = ForEachBound(db,
                     "SELECT rowid FROM step_configuration WHERE snapshot_id = ? AND name = ?",
                     {deployment_id, step_name}, [&](const sql::Stmt& st) {
                       config = MaybeDecompress(Capped(db, "step_configuration", "config", st.Int(0)).value_or(""));
                     });
    if (!s.ok() || !config.empty()) return s.ok() ? Result<std::string>(config) : s;
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
    auto parsed = std::make_shared<StepConfigs>();
    bool found = false;
    s = ForEachBound(db, "SELECT rowid FROM " + deployment_table_ + " WHERE id = ?",
                     {deployment_id}, [&](const sql::Stmt& st) {
                       found = true;
                       const json all = ParseStoreJson<json>(MaybeDecompress(
                           Capped(db, deployment_table_, "step_configurations", st.Int(0)).value_or("")));
                       if (!all.is_object()) return;
                       for (const auto& [name, value] : all.items()) parsed->emplace(name, value.dump());
                     });
    if (!s.ok()) return s;
    configs = parsed;
    if (!found) return config;  // not written yet, perhaps: not remembered
    std::lock_guard<std::mutex> lock(deployment_mu_);
    if (deployments_.size() >= kDeploymentCap) deployments_.clear();
    deployments_.emplace(deployment_id, configs);
  }
  auto it = configs->find(step_name);
  return it != configs->end() ? it->second : config;
}

Status SqliteCatalog::GetStepDetail(const std::string& step_id, const std::string& step_name,
                                    StepDetail* out) {
  return InReadTxn([&](sql::Db& db) {
    Status s;
    const std::string t = "step_run";
    std::optional<std::string> deployment_id;
    s = ForEachBound(
        db,
        "SELECT step_run.rowid, NULL, " + schema_.Col(t, "cache_key") + ", NULL, " +
            (deployment_col_.empty() ? "NULL" : schema_.Col(t, deployment_col_)) +
            " FROM step_run WHERE id = ?",
        {step_id}, [&](const sql::Stmt& st) {
          const std::int64_t rowid = st.Int(0);
          out->docstring = Capped(db, t, "docstring", rowid);
          out->source_code = Capped(db, t, "source_code", rowid);
          out->cache_key = st.OptText(2);
          if (auto c = Capped(db, t, "step_configuration", rowid)) out->step_config = MaybeDecompress(*c);
          deployment_id = st.OptText(4);
        });
    if (s.ok() && !out->step_config && schema_.Has("step_configuration", "step_run_id") &&
        schema_.Has("step_configuration", "config")) {
      s = ForEachBound(db, "SELECT rowid FROM step_configuration WHERE step_run_id = ?", {step_id},
                       [&](const sql::Stmt& st) {
                         out->step_config =
                             MaybeDecompress(Capped(db, "step_configuration", "config", st.Int(0)).value_or(""));
                       });
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
