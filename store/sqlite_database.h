// ZenML's SQLite zen store (zenml.db) as a sql::Database: read-only connections to the
// file that was opened first, pooled, immutable while a WAL store is at rest.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/sql.h"
#include "store/sqlite_util.h"

namespace zenfs {

class SqliteDatabase final : public sql::Database {
 public:
  // Opens `db_path` read-only. Errors: NotFound (no file), InvalidArgument (not a regular
  // file), Corruption (not SQLite).
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& db_path);

  Result<sql::Lease> Acquire() override;
  void Release(sql::Lease lease, bool broken) override;
  Result<Columns> ReadColumns() override;
  Result<std::int64_t> ChangeCounter() override;
  std::string RowKey() const override { return "rowid"; }
  bool CheapCount() const override { return true; }
  bool GrowingRowKey() const override { return true; }
  std::string Describe() const override { return path_; }

 private:
  explicit SqliteDatabase(std::string path) : path_(std::move(path)) {}
  // Opens a new connection to the database that was opened first (see open_path_),
  // immutable while a WAL store is at rest.
  Result<sql::Db> OpenPinned(bool immutable) const;

  const std::string path_;
  // Where every connection is opened: path_ resolved once, when the database was opened,
  // and the file found there then. A connection opened later refuses a path that has
  // gained a link since and a file that is not that one.
  std::string open_path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;

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
  std::vector<std::pair<std::uint64_t, std::unique_ptr<sql::Connection>>> pool_;
  std::uint64_t epoch_ = 0;  // guarded by pool_mu_
  bool at_rest_ = false;     // immutable connections; guarded by pool_mu_

  std::mutex version_mu_;
  sql::Db version_db_;  // PRAGMA data_version is per connection; guarded by version_mu_
  FileSig rest_sig_;    // zenml.db when the at-rest epoch began; guarded by version_mu_
  std::int64_t reopened_ = 0;  // connections to version_db_ so far; guarded by version_mu_
};

}  // namespace zenfs
