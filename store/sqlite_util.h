// Small RAII wrappers over the SQLite C API, for store/ only. Exceptions never leave
// these: every failure is a Status.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/status.h"

namespace zenfs::sql {

// An open database connection. One thread at a time (SQLite's "multi-thread" mode).
class Db {
 public:
  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_), path_(std::move(o.path_)), cached_(std::move(o.cached_)) {
    o.db_ = nullptr;
    o.cached_.clear();
  }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Opens `path` read-only: never written, never locked for writing, never migrated.
  // `immutable` (SQLite's URI parameter) also promises SQLite the file does not change:
  // it then takes no locks and opens no file beside the database (a WAL store's -wal and
  // -shm), so the caller must notice changes itself (SqliteDatabase does). `extra_flags`
  // are more SQLITE_OPEN_* flags (SQLITE_OPEN_NOFOLLOW: no link anywhere in the path).
  static Result<Db> OpenReadOnly(const std::string& path, bool immutable = false, int extra_flags = 0);
  // Opens or creates `path` for writing (the demo writer).
  static Result<Db> OpenReadWrite(const std::string& path);

  Status Exec(const std::string& sql);
  sqlite3* get() const { return db_; }
  // The connection's prepared copy of `sql`, compiled once and kept until the connection
  // closes (point queries for meta.json run thousands of times in a walk); nullptr and
  // *status set if it does not compile.
  sqlite3_stmt* CachedStatement(const std::string& sql, Status* status) const;
  std::string ErrorMessage() const;
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  static Result<Db> Open(const std::string& path, int flags, const std::string& uri = "");

  void FinalizeCached();

  sqlite3* db_ = nullptr;
  std::string path_;
  mutable std::unordered_map<std::string, sqlite3_stmt*> cached_;
};

// A prepared statement bound to one Db. Not thread-safe.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : st_(o.st_), db_(o.db_), owned_(o.owned_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  static Result<Stmt> Prepare(const Db& db, const std::string& sql);
  // Like Prepare, but uses the connection's cached statement: reset, not finalized, when
  // this Stmt goes away. At most one borrower of the same SQL at a time.
  static Result<Stmt> Borrow(const Db& db, const std::string& sql);

  void Reset();
  void Bind(int index, std::string_view text);
  void BindInt(int index, std::int64_t v);
  void BindNull(int index);
  // Advances: true with a row, false when done; a failure sets *status.
  bool Step(Status* status);

  bool IsNull(int col) const;
  // Column text, "" for NULL; blobs are returned as their bytes. A value over
  // kMaxStoreValueBytes (store/json_limits.h) comes back as CutNote, not copied.
  std::string Text(int col) const;
  // The same bytes without a copy: valid until the next Step or Reset.
  std::string_view TextView(int col) const;
  // Text, or nullopt for NULL.
  std::optional<std::string> OptText(int col) const;
  std::int64_t Int(int col) const;

 private:
  sqlite3_stmt* st_ = nullptr;
  sqlite3* db_ = nullptr;
  void Release();

  bool owned_ = true;  // false for a borrowed, cached statement
};

}  // namespace zenfs::sql
