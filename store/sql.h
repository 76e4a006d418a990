// The one SQL layer the catalog reads through: a database (SQLite file, MySQL/MariaDB
// server) hands out connections; a connection runs queries whose rows are stepped one at a
// time. The catalog's queries, row decoding, schema discovery and version handling are
// written once (store/sql_catalog.cc); what differs between the databases is only here,
// behind these interfaces (store/sqlite_database.cc, store/mysql_database.cc).
//
// SQL the catalog writes is the common subset of SQLite and MySQL: identifiers quoted with
// double quotes (MySQL connections run with ANSI_QUOTES), `?` parameters bound as text,
// no engine-specific functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "store/status.h"

namespace zenfs::sql {

// The rows of one query, read forward. Not thread-safe; lives no longer than its
// connection, and a connection runs one query at a time (the rows of a MySQL query are
// streamed from the server until they are read or this object goes away).
class Rows {
 public:
  virtual ~Rows() = default;
  // Advances: true with a row, false when done; a failure sets *status.
  virtual bool Step(Status* status) = 0;
  virtual bool IsNull(int col) const = 0;
  // The column's bytes ("" for NULL), valid until the next Step.
  virtual std::string_view TextView(int col) const = 0;
  // The column as an integer (0 for NULL or text that is not one).
  virtual std::int64_t Int(int col) const = 0;

  std::string Text(int col) const { return std::string(TextView(col)); }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }
};

// One connection. One thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  // Runs `sql` with `params` bound to its `?` in order, as text.
  virtual Result<std::unique_ptr<Rows>> Query(const std::string& sql,
                                              std::initializer_list<std::string_view> params = {}) = 0;
  // A read transaction that sees one consistent picture of the whole store, and its end.
  virtual Status Begin() = 0;
  virtual Status End() = 0;
  // Column `col` of the row of `table` whose row key (Database::RowKey) is `row_key`:
  // nullopt for NULL, no such row or no such column; a value over kMaxStoreValueBytes
  // (store/json_limits.h) is never loaded whole: CutNote stands for it.
  virtual std::optional<std::string> Capped(const std::string& table, const std::string& col,
                                            std::string_view row_key) = 0;
};

// A connection borrowed from a Database, given back by Release.
struct Lease {
  std::unique_ptr<Connection> connection;
  std::uint64_t epoch = 0;  // the database's own bookkeeping (which connections are stale)
};

// The database behind a catalog. Thread-safe.
class Database {
 public:
  using Columns = std::map<std::string, std::set<std::string>>;  // table -> its columns

  virtual ~Database() = default;
  // A connection, pooled or new.
  virtual Result<Lease> Acquire() = 0;
  // Gives a connection back; `broken`: it failed in a way that may have left it unusable
  // (the server went away), so it is closed rather than pooled.
  virtual void Release(Lease lease, bool broken) = 0;
  // Every table of the store with its columns.
  virtual Result<Columns> ReadColumns() = 0;
  // A number that changes whenever the store may have changed since the last call; cheap
  // (no table scan).
  virtual Result<std::int64_t> ChangeCounter() = 0;
  // The column that names a row for Connection::Capped ("rowid", "id").
  virtual std::string RowKey() const = 0;
  // Whether COUNT(*) of a table is cheap enough to size vectors before reading (SQLite);
  // InnoDB walks an index for it.
  virtual bool CheapCount() const = 0;
  // Whether the row key is an integer that a new row gets larger than every row's before it
  // (SQLite's rowid, unless the largest was deleted) and a table scan returns rows in its order:
  // what lets the catalog read only the changed rows (SqlCatalog::LoadChanges).
  virtual bool GrowingRowKey() const = 0;
  // Where the store is, for meta.json and log lines (never a password).
  virtual std::string Describe() const = 0;
};

}  // namespace zenfs::sql
