// The catalog over ZenML's SQL zen store in SQLite (zenml.db): 0.74's schema and the newer
// renames (project_id, pipeline_snapshot/snapshot_id), columns found by name.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/catalog.h"
#include "store/sqlite_util.h"

namespace zenfs {

// The tables and columns a store has, read from sqlite_master/table_info at open.
// Immutable after construction; thread-safe.
class StoreSchema {
 public:
  static Result<StoreSchema> Read(const sql::Db& db);
  bool Has(const std::string& table) const { return cols_.count(table) != 0; }
  bool Has(const std::string& table, const std::string& col) const;
  // `table."col"` if present, else NULL: queries select what exists, by name.
  std::string Col(const std::string& table, const std::string& col) const;
  // The first of `names` that the table has, or "".
  std::string FirstOf(const std::string& table, std::initializer_list<const char*> names) const;

 private:
  std::map<std::string, std::set<std::string>> cols_;
};

// Reads the store with short read-only transactions on a small pool of connections.
// Thread-safe: each call takes a connection of its own.
class SqliteCatalog final : public Catalog {
 public:
  // Opens `db_path` read-only and checks it is a ZenML store zenfs can read. Errors:
  // NotFound (no file), Corruption (not SQLite, damaged), Unsupported (tables or
  // columns missing: the message names them).
  static Result<std::unique_ptr<SqliteCatalog>> Open(const std::string& db_path);
  ~SqliteCatalog() override;

  Result<StoreRows> LoadRows(RowScope scope) override;
  Result<std::int64_t> ChangeCounter() override;
  Status GetRunDetail(const std::string& run_id, RunDetail* out) override;
  Status GetStepDetail(const std::string& step_id, const std::string& step_name,
                       StepDetail* out) override;
  Status GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) override;
  Status GetMetadata(std::string_view resource_type, const std::string& resource_id,
                     std::vector<MetadataRow>* out) override;
  Result<std::vector<ProjectRow>> ListProjects() override;
  void ShowProject(const std::string& id) override { project_id_ = id; }
  std::string Describe() const override { return path_; }

 private:
  SqliteCatalog(std::string path, StoreSchema schema);
  // A connection of the current epoch, pooled or new, and that epoch.
  Result<std::unique_ptr<sql::Db>> Acquire(std::uint64_t* epoch);
  // Opens a new connection to the database that was opened first (see open_path_),
  // immutable while a WAL store is at rest.
  Result<sql::Db> OpenPinned(bool immutable) const;
  // Runs `body` in one read transaction on a pooled connection.
  Status InReadTxn(const std::function<Status(sql::Db&)>& body);
  void Release(std::unique_ptr<sql::Db> db, std::uint64_t epoch);
  Status LoadFirstRuns(const sql::Db& db, StoreRows* out);
  Status LoadProjects(const sql::Db& db, std::vector<ProjectRow>* out) const;
  Status LoadLogs(const sql::Db& db, const std::string& where, StoreRows* out) const;
  Status LoadRunExtras(const sql::Db& db, StoreRows* out) const;
  // `select` (a SELECT ... FROM `table` without WHERE) for the project shown: a WHERE on
  // its project_id when there is one, bound; every row otherwise.
  template <typename F>
  Status ForEachInProject(const sql::Db& db, const std::string& select, const std::string& table,
                          F&& row) const;
  Status LoadStepRows(const sql::Db& db, StoreRows* out);
  Status MetadataOn(const sql::Db& db, std::string_view type, const std::string& id,
                    std::vector<MetadataRow>* out);
  // Column `col` of `table`'s row `rowid` (nullopt for NULL or no such column); a value
  // over kMaxStoreValueBytes is never loaded: CutNote stands for it. For the columns that
  // hold long text (configurations, source code, metadata values).
  std::optional<std::string> Capped(const sql::Db& db, const std::string& table, const std::string& col,
                                    std::int64_t rowid) const;
  Result<std::string> DeploymentStepConfig(const sql::Db& db, const std::string& deployment_id,
                                           const std::string& step_name);

  // A deployment's step configurations by step name. Deployments never change once
  // written, and every step of a run asks for the same one: parsed once, kept for the
  // last kDeploymentCap deployments asked for.
  using StepConfigs = std::unordered_map<std::string, std::string>;
  static constexpr std::size_t kDeploymentCap = 64;
  std::mutex deployment_mu_;
  std::unordered_map<std::string, std::shared_ptr<const StepConfigs>> deployments_;  // guarded

  const std::string path_;
  // Where every connection is opened: path_ resolved once, when the catalog was opened,
  // and the file found there then. A connection opened later refuses a path that has
  // gained a link since and a file that is not that one (SqliteCatalog::Acquire).
  std::string open_path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  const StoreSchema schema_;
  const std::string deployment_table_;  // pipeline_deployment or pipeline_snapshot
  const std::string deployment_col_;    // deployment_id or snapshot_id
  std::string project_id_;              // set once by ShowProject, before any read

  // A WAL store at rest (no -wal file beside it) is read with immutable connections:
  // SQLite's read-only WAL access would otherwise create -wal and -shm beside the store
  // and leave them after unmount. Immutable connections see no change, so ChangeCounter
  // watches the files instead: a change of zenml.db's (inode, size, mtime, ctime) starts
  // a new epoch of immutable connections; a -wal file (a writer arrived) switches to
  // ordinary read-only connections for good (the writer made the files, not zenfs).
  struct FileSig {
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileSig&) const = default;
  };
  static bool WalAtRest(const std::string& path);
  static FileSig SigOf(const std::string& path);

  std::mutex pool_mu_;
  // Idle connections with the epoch they were opened in; guarded by pool_mu_.
  std::vector<std::pair<std::uint64_t, std::unique_ptr<sql::Db>>> pool_;
  std::uint64_t epoch_ = 0;  // guarded by pool_mu_
  bool at_rest_ = false;     // immutable connections; guarded by pool_mu_

  std::mutex version_mu_;
  sql::Db version_db_;  // PRAGMA data_version is per connection; guarded by version_mu_
  FileSig rest_sig_;    // zenml.db when the at-rest epoch began; guarded by version_mu_
  std::int64_t reopened_ = 0;  // connections to version_db_ so far; guarded by version_mu_
};

// ZenML may store long text as "\x00zenml-compressed:zlib:v1:" + base64(zlib(text)).
// Returns the text itself otherwise; undecodable input comes back unchanged.
std::string MaybeDecompress(const std::string& value);

// Decodes base64 (stack_component.configuration); nullopt if it is not base64.
std::optional<std::string> DecodeBase64(const std::string& text);

}  // namespace zenfs
