#include "store/sql_catalog.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <deque>
#include <iterator>
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

// Column `col`'s text, kept in the rows' arena.
Text Keep(StoreRows& rows, const sql::Rows& st, int col) { return rows.text->Keep(st.TextView(col)); }

std::optional<Micros> TimeCol(const sql::Rows& st, int col) {
  if (st.IsNull(col)) return std::nullopt;
  return ParseStoreTime(st.TextView(col));
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

// The rows below the runs (RowScope::kAll's share of LoadRows), inside its transaction.
Status SqlCatalog::LoadStepRows(sql::Connection& db, StoreRows* out) {
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
                 t, [&](const sql::Rows& st) {
                   rows.steps.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), Keep(rows, st, 3),
                                         Keep(rows, st, 4), TimeCol(st, 5), TimeCol(st, 6),
                                         TimeCol(st, 7), TimeCol(st, 8)});
                 });
  if (!s.ok()) return s;
  s = ReserveFor(db, "step_run_output_artifact", &rows.outputs);
  if (!s.ok()) return s;
  s = ForEachRow(db, "SELECT step_id, name, artifact_id FROM step_run_output_artifact",
                 [&](const sql::Rows& st) {
                   rows.outputs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2)});
                 });
  if (!s.ok()) return s;
  if (sc.Has("step_run_input_artifact", "step_id") &&
      sc.Has("step_run_input_artifact", "artifact_id")) {
    s = ForEachRow(db,
                   "SELECT step_id, " + sc.Col("step_run_input_artifact", "name") +
                       ", artifact_id, " + sc.Col("step_run_input_artifact", "input_index") +
                       " FROM step_run_input_artifact",
                   [&](const sql::Rows& st) {
                     rows.inputs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), st.Int(3)});
                   });
    if (!s.ok()) return s;
  }
  const std::string av = "artifact_version";
  s = ReserveFor(db, av, &rows.artifact_versions);
  if (!s.ok()) return s;
  // With its artifact's name (every schema from 0.74 on has artifact.name and
  // artifact_version.artifact_id; a version whose artifact is gone gets ""), and only the
  // project shown's versions (0.80+; 0.74's versions all belong to its one workspace).
  const bool has_artifact = sc.Has("artifact", "id") && sc.Has("artifact", "name") && sc.Has(av, "artifact_id");
  // And whether it has visualizations: one grouped pass over artifact_visualization joined
  // in (not a subquery per version: the table has no index on artifact_version_id).
  const std::string vt = "artifact_visualization";
  const bool has_vis = sc.Has(vt, "artifact_version_id");
  TextInterner names(*rows.text);
  s = ForEachInProject(db,
                 "SELECT artifact_version.id, artifact_version.uri, " + sc.Col(av, "artifact_store_id") + ", " +
                     sc.Col(av, "created") + ", " + sc.Col(av, "updated") + ", " + sc.Col(av, "availability") +
                     ", " + (has_artifact ? "artifact.name" : "NULL") + ", " + sc.Col(av, "version") + ", " +
                     (has_vis ? "vis.vid IS NOT NULL" : "0") + " FROM artifact_version" +
                     (has_artifact ? " LEFT JOIN artifact ON artifact.id = artifact_version.artifact_id" : "") +
                     (has_vis ? " LEFT JOIN (SELECT DISTINCT artifact_version_id AS vid FROM " + vt +
                                    ") vis ON vis.vid = artifact_version.id"
                              : ""),
                 av, [&](const sql::Rows& st) {
                   ArtifactVersionRow& v = rows.artifact_versions.emplace_back(ArtifactVersionRow{
                       Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), TimeCol(st, 3), TimeCol(st, 4),
                       Keep(rows, st, 5), names.Keep(st.TextView(6)), names.Keep(st.TextView(7))});
                   v.visualizations = st.Int(8) != 0 ? 1 : 0;
                 });
  if (!s.ok()) return s;
  return LoadLogs(db, "step_run_id IS NOT NULL", out);
  return Status::Ok();
}

// Logs rows matching `where` (several per step, one per source since ZenML 0.92; the uri
// NULL when a log store keeps them).
Status SqlCatalog::LoadLogs(sql::Connection& db, const std::string& where, StoreRows* out) const {
  const StoreSchema& sc = schema_;
  const std::string lg = "logs";
  if (!sc.Has(lg, "uri") || !sc.Has(lg, "step_run_id")) return Status::Ok();
  StoreRows& rows = *out;
  return ForEachRow(db,
                    "SELECT " + sc.Col(lg, "id") + ", uri, step_run_id, " + sc.Col(lg, "artifact_store_id") +
                        ", " + sc.Col(lg, "created") + ", " + sc.Col(lg, "updated") + ", " +
                        sc.Col(lg, "source") + ", " + sc.Col(lg, "pipeline_run_id") + " FROM logs WHERE " + where,
                    [&](const sql::Rows& st) {
                      rows.logs.push_back({Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), Keep(rows, st, 3),
                                           TimeCol(st, 4), TimeCol(st, 5), Keep(rows, st, 6), Keep(rows, st, 7),
                                           !st.IsNull(1)});
                    });
}

// What newer ZenML keeps of a run beside its steps (RowScope::kRuns): its own logs (ZenML
// 0.92 and later) and its named outputs (0.95 and later).
Status SqlCatalog::LoadRunExtras(sql::Connection& db, StoreRows* out) const {
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
                    [&](const sql::Rows& st) {
                      rows.pipeline_outputs.push_back(
                          {Keep(rows, st, 0), Keep(rows, st, 1), Keep(rows, st, 2), st.Int(3)});
                    });
}

Result<StoreRows> SqlCatalog::LoadRows(RowScope scope) {
  auto lease = database_->Acquire();
  if (!lease.ok()) return lease.status();
  sql::Connection& db = *lease->connection;
  StoreRows rows;
  rows.scope = scope;
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
    s = ForEachInProject(db,
                   "SELECT id, name, " + sc.Col("pipeline", "created") + ", " +
                       sc.Col("pipeline", "updated") + " FROM pipeline",
                   "pipeline", [&](const sql::Rows& st) {
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
                       r, [&](const sql::Rows& st) {
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
      // The flavor says which source serves the component (s3: store/s3_artifact_source.h);
      // the S3 flavor's client_kwargs name an S3-compatible endpoint and its region.
      s = ForEachRow(db,
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
                       rows.artifact_stores.push_back(std::move(row));
                     });
      if (!s.ok()) return s;
    }
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
