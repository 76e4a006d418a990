#include "store/sqlite_util.h"

#include "store/json_limits.h"

namespace zenfs::sql {

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    FinalizeCached();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = o.db_;
    path_ = std::move(o.path_);
    cached_ = std::move(o.cached_);
    o.cached_.clear();
    o.db_ = nullptr;
  }
  return *this;
}

Db::~Db() {
  FinalizeCached();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Db::FinalizeCached() {
  for (auto& [sql, st] : cached_) sqlite3_finalize(st);
  cached_.clear();
}

namespace {

Status PrepareError(const Db& db, int rc, const std::string& sql) {
  const std::string msg = db.path() + ": " + db.ErrorMessage() + " in: " + sql;
  if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) return Status::Corruption(msg);
  return Status::IOError(msg);
}

}  // namespace

sqlite3_stmt* Db::CachedStatement(const std::string& sql, Status* status) const {
  auto it = cached_.find(sql);
  if (it != cached_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) {
    *status = PrepareError(*this, rc, sql);
    return nullptr;
  }
  cached_.emplace(sql, st);
  return st;
}

std::string Db::ErrorMessage() const {
  return db_ != nullptr ? sqlite3_errmsg(db_) : "no database";
}

Result<Db> Db::Open(const std::string& path, int flags, const std::string& uri) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(uri.empty() ? path.c_str() : uri.c_str(), &raw,
                                 flags | SQLITE_OPEN_NOMUTEX | (uri.empty() ? 0 : SQLITE_OPEN_URI),
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if (raw != nullptr) sqlite3_close_v2(raw);
    return Status::IOError(path + ": " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  return Db(raw, path);
}

namespace {

// "file:" + the path with every byte but [A-Za-z0-9/._-] written as %XX: SQLite's URI
// form, which a path with "?", "#" or "%" in it would otherwise break.
std::string FileUri(const std::string& path, const std::string& query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
        c == '.' || c == '_' || c == '-') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri + "?" + query;
}

}  // namespace

Result<Db> Db::OpenReadOnly(const std::string& path, bool immutable, int extra_flags) {
  auto db = Open(path, SQLITE_OPEN_READONLY | extra_flags, immutable ? FileUri(path, "immutable=1") : "");
  if (!db.ok()) return db;
  // A reader must never make a writer wait long, and never see a half-written state:
  // short read transactions (callers), and a busy timeout for the moments a writer holds
  // the lock (rollback journal) or checkpoints (WAL).
  sqlite3_busy_timeout(db->get(), 5000);
  Status s = db->Exec("PRAGMA query_only = 1");
  if (!s.ok()) return s;
  return db;
}

Result<Db> Db::OpenReadWrite(const std::string& path) {
  auto db = Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return db;
  return db;
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
      return Status::Corruption(path_ + ": " + msg);
    }
    return Status::IOError(path_ + ": " + msg);
  }
  return Status::Ok();
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    Release();
    st_ = o.st_;
    db_ = o.db_;
    owned_ = o.owned_;
    o.st_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { Release(); }

void Stmt::Release() {
  if (st_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(st_);
  } else {
    Reset();
  }
  st_ = nullptr;
}

Result<Stmt> Stmt::Prepare(const Db& db, const std::string& sql) {
  Stmt s;
  const int rc = sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s.st_, nullptr);
  if (rc != SQLITE_OK) return PrepareError(db, rc, sql);
  s.db_ = db.get();
  return s;
}

Result<Stmt> Stmt::Borrow(const Db& db, const std::string& sql) {
  Status status;
  sqlite3_stmt* st = db.CachedStatement(sql, &status);
  if (st == nullptr) return status;
  Stmt s;
  s.st_ = st;
  s.db_ = db.get();
  s.owned_ = false;
  return s;
}

void Stmt::Reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

void Stmt::Bind(int index, std::string_view text) {
  sqlite3_bind_text(st_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void Stmt::BindInt(int index, std::int64_t v) { sqlite3_bind_int64(st_, index, v); }
void Stmt::BindNull(int index) { sqlite3_bind_null(st_, index); }

bool Stmt::Step(Status* status) {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string msg = std::string(sqlite3_db_filename(db_, "main")) + ": " + sqlite3_errmsg(db_);
  if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
    *status = Status::Corruption(msg);
  } else {
    *status = Status::IOError(msg);
  }
  return false;
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

std::string Stmt::Text(int col) const {
  // Sized before it is copied: a value over the cap is never copied or parsed.
  const int n = sqlite3_column_bytes(st_, col);
  if (n > 0 && static_cast<std::size_t>(n) > kMaxStoreValueBytes) {
    return CutNote(static_cast<std::size_t>(n));
  }
  return std::string(TextView(col));
}

std::string_view Stmt::TextView(int col) const {
  const void* p = sqlite3_column_blob(st_, col);
  const int n = sqlite3_column_bytes(st_, col);
  if (p == nullptr || n <= 0) return std::string_view();
  return std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::int64_t Stmt::Int(int col) const { return sqlite3_column_int64(st_, col); }

}  // namespace zenfs::sql
