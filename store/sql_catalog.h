// The catalog over ZenML's SQL zen store: 0.74's schema and every later one (project_id,
// pipeline_snapshot/snapshot_id, log sources, nested runs, ...), columns found by name.
// One catalog for every database: SQLite's zenml.db and a MySQL/MariaDB server differ only
// behind sql::Database (store/sql.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/catalog.h"
#include "store/sql.h"

namespace zenfs {

// The tables and columns a store has, read at open. Immutable; thread-safe.
class StoreSchema {
 public:
  explicit StoreSchema(sql::Database::Columns cols);
  bool Has(const std::string& table) const { return cols_.count(table) != 0; }
  bool Has(const std::string& table, const std::string& col) const;
  // `table."col"` if present, else NULL: queries select what exists, by name.
  std::string Col(const std::string& table, const std::string& col) const;
  // The first of `names` that the table has, or "".
  std::string FirstOf(const std::string& table, std::initializer_list<const char*> names) const;

 private:
  sql::Database::Columns cols_;
};

// Reads the store with short read-only transactions on the database's connections.
// Thread-safe: each call takes a connection of its own.
class SqlCatalog final : public Catalog {
 public:
  // Checks the database holds a ZenML store zenfs can read. Errors: Corruption (its
  // tables cannot be listed), Unsupported (tables or columns missing: the message names
  // them).
  static Result<std::unique_ptr<SqlCatalog>> Open(std::unique_ptr<sql::Database> database);
  ~SqlCatalog() override;

  Result<StoreRows> LoadRows(RowScope scope) override;
  // Reads only the rows changed since `prev` (SQLite stores; how: "the structure rows" in
  // sql_catalog.cc), a full read every so many calls.
  Result<StoreRows> LoadChanges(const StoreRows& prev) override;
  Result<std::int64_t> ChangeCounter() override;
  Status GetRunDetail(const std::string& run_id, RunDetail* out) override;
  Status GetStepDetail(const std::string& step_id, const std::string& step_name,
                       StepDetail* out) override;
  Status GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) override;
  Status GetMetadata(std::string_view resource_type, const std::string& resource_id,
                     std::vector<MetadataRow>* out) override;
  Result<std::vector<ProjectRow>> ListProjects() override;
  void ShowProject(const std::string& id) override { project_id_ = id; }
  std::string Describe() const override { return database_->Describe(); }

 private:
  SqlCatalog(std::unique_ptr<sql::Database> database, StoreSchema schema);
  // Runs `body` in one read transaction on a connection of the database.
  Status InReadTxn(const std::function<Status(sql::Connection&)>& body);
  Status LoadFirstRuns(sql::Connection& db, StoreRows* out);
  Status LoadProjects(sql::Connection& db, std::vector<ProjectRow>* out) const;
  Status LoadArtifactStores(sql::Connection& db, StoreRows* out) const;

  // The structure rows of `scope`: all of them (prev null) or prev's with the changes since.
  Result<StoreRows> Load(RowScope scope, const StoreRows* prev);
  // What a read remembers of one part (a table's rows, or a WHERE's share of them).
  struct PartMarks {
    std::vector<std::int64_t> keys;  // each row's rowid, in the rows' order
    std::int64_t count = 0, max = 0;
    bool ordered = true;           // keys increase
    std::optional<Micros> newest;  // the newest created/updated stamp of its rows
  };
  struct Marks;
  struct PartSpec;
  Status ReadParts(sql::Connection& db, RowScope scope, const StoreRows* prev, StoreRows& rows, Marks* marks) const;
  template <typename Row>
  Status ReadPart(sql::Connection& db, const PartSpec& spec, std::vector<Row> StoreRows::*vec, StoreRows& rows,
                  const PartMarks* old, std::span<const Row> old_rows, PartMarks* mark,
                  std::optional<std::vector<std::string>>* changed_ids = nullptr) const;
  template <typename F>
  Status ForEachOfPart(sql::Connection& db, const PartSpec& spec, const std::string& what, const std::string& from,
                       const std::string& extra, bool member, const std::string& order, F&& row) const;
  Status CountRows(sql::Connection& db, const std::string& table, std::int64_t after, std::int64_t* count,
                   std::int64_t* max, std::int64_t* added) const;
  template <typename Row>
  Status ReserveFor(sql::Connection& c, const std::string& table, std::vector<Row>* rows) const;
  // `select` (a SELECT ... FROM `table` without WHERE) for the project shown: a WHERE on
  // its project_id when there is one, bound; every row otherwise.
  template <typename F>
  Status ForEachInProject(sql::Connection& db, const std::string& select, const std::string& table,
                          F&& row) const;
  Status MetadataOn(sql::Connection& db, std::string_view type, const std::string& id,
                    std::vector<MetadataRow>* out);
  Result<std::vector<std::string>> KeysOf(sql::Connection& db, const std::string& select,
                                          std::initializer_list<std::string_view> params) const;
  // `table.<row key>`: what selects a row's key for Capped.
  std::string Key(const std::string& table) const;
  // Column `col` of `table`'s row `row_key` (nullopt for NULL or no such column); a value
  // over kMaxStoreValueBytes is never loaded: CutNote stands for it. For the columns that
  // hold long text (configurations, source code, metadata values).
  std::optional<std::string> Capped(sql::Connection& c, const std::string& table, const std::string& col,
                                    std::string_view row_key) const;
  Result<std::string> DeploymentStepConfig(sql::Connection& db, const std::string& deployment_id,
                                           const std::string& step_name);

  // A deployment's step configurations by step name. Deployments never change once
  // written, and every step of a run asks for the same one: parsed once, kept for the
  // last kDeploymentCap deployments asked for.
  using StepConfigs = std::unordered_map<std::string, std::string>;
  static constexpr std::size_t kDeploymentCap = 64;
  std::mutex deployment_mu_;
  std::unordered_map<std::string, std::shared_ptr<const StepConfigs>> deployments_;  // guarded

  const std::unique_ptr<sql::Database> database_;
  const StoreSchema schema_;
  const std::string deployment_table_;  // pipeline_deployment or pipeline_snapshot
  const std::string deployment_col_;    // deployment_id or snapshot_id
  std::string project_id_;              // set once by ShowProject, before any read
};

// The catalog of a SQLite zen store (zenml.db): NotFound (no file), InvalidArgument (not a
// regular file), Corruption (not SQLite, damaged), Unsupported (not ZenML's tables).
Result<std::unique_ptr<SqlCatalog>> OpenSqliteCatalog(const std::string& db_path);

// ZenML may store long text as "\x00zenml-compressed:zlib:v1:" + base64(zlib(text)).
// Returns the text itself otherwise; undecodable input comes back unchanged.
std::string MaybeDecompress(const std::string& value);

// Decodes base64 (stack_component.configuration); nullopt if it is not base64.
std::optional<std::string> DecodeBase64(const std::string& text);

}  // namespace zenfs
