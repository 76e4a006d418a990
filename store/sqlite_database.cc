#include "store/sqlite_database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "store/json_limits.h"

namespace zenfs {

namespace {

// A statement being stepped: the connection's cached copy of its SQL, reset when done.
class SqliteRows final : public sql::Rows {
 public:
  explicit SqliteRows(sql::Stmt st) : st_(std::move(st)) {}
  bool Step(Status* status) override { return st_.Step(status); }
  bool IsNull(int col) const override { return st_.IsNull(col); }
  std::string_view TextView(int col) const override { return st_.TextView(col); }
  std::int64_t Int(int col) const override { return st_.Int(col); }

 private:
  sql::Stmt st_;
};

class SqliteConnection final : public sql::Connection {
 public:
  explicit SqliteConnection(sql::Db db) : db_(std::move(db)) {}

  Result<std::unique_ptr<sql::Rows>> Query(const std::string& sql,
                                           std::initializer_list<std::string_view> params) override {
    auto st = sql::Stmt::Borrow(db_, sql);
    if (!st.ok()) return st.status();
    int i = 1;
    for (std::string_view p : params) st->Bind(i++, p);
    return std::unique_ptr<sql::Rows>(new SqliteRows(std::move(*st)));
  }
  Status Begin() override { return Run("BEGIN"); }
  Status End() override { return Run("COMMIT"); }

  // Read through SQLite's incremental blob I/O, which learns a value's size from the
  // row's header: a SELECT loads a value whole (100 MB included) before its size can be
  // asked.
  std::optional<std::string> Capped(const std::string& table, const std::string& col,
                                    std::string_view row_key) override {
    char* end = nullptr;
    const std::string key(row_key);
    const long long rowid = std::strtoll(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0') return std::nullopt;
    sqlite3_blob* blob = nullptr;
    if (sqlite3_blob_open(db_.get(), "main", table.c_str(), col.c_str(), rowid, 0, &blob) != SQLITE_OK) {
      sqlite3_blob_close(blob);
      // NULL, a number, or a table without rowids: small or absent, read as usual.
      std::optional<std::string> value;
      auto st = sql::Stmt::Borrow(db_, "SELECT \"" + col + "\" FROM \"" + table + "\" WHERE rowid = ?");
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

  sql::Db& db() { return db_; }

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

  sql::Db db_;
};

}  // namespace

Result<sql::Db> SqliteDatabase::OpenPinned(bool immutable) const {
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

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& db_path) {
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
  auto out = std::unique_ptr<SqliteDatabase>(new SqliteDatabase(db_path));
  out->open_path_ = open_path;
  out->dev_ = sb.st_dev;
  out->ino_ = sb.st_ino;
  out->version_db_ = std::move(*db);
  out->at_rest_ = at_rest;
  out->rest_sig_ = sig;
  return out;
}

Result<sql::Database::Columns> SqliteDatabase::ReadColumns() {
  auto lease = Acquire();
  if (!lease.ok()) return lease.status();
  sql::Db& db = static_cast<SqliteConnection&>(*lease->connection).db();
  Columns cols;
  std::vector<std::string> tables;
  Status s;
  {
    auto st = sql::Stmt::Prepare(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
    if (!st.ok()) return st.status();
    while (st->Step(&s)) tables.push_back(st->Text(0));
  }
  if (!s.ok()) return s;
  for (const std::string& t : tables) {
    std::set<std::string>& c = cols[t];
    auto st = sql::Stmt::Prepare(db, "SELECT name FROM pragma_table_info(?)");
    if (!st.ok()) return st.status();
    st->Bind(1, t);
    while (st->Step(&s)) c.insert(st->Text(0));
    if (!s.ok()) return s;
  }
  Release(std::move(*lease), false);
  return cols;
}

bool SqliteDatabase::WalAtRest(const std::string& path) {
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

SqliteDatabase::FileSig SqliteDatabase::SigOf(const std::string& path) {
  struct stat sb;
  if (stat(path.c_str(), &sb) != 0) return FileSig{};
  return FileSig{static_cast<std::uint64_t>(sb.st_dev), static_cast<std::uint64_t>(sb.st_ino),
                 static_cast<std::uint64_t>(sb.st_size),
                 static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec,
                 static_cast<std::int64_t>(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec};
}

Result<sql::Lease> SqliteDatabase::Acquire() {
  bool at_rest = false;
  std::uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    epoch = epoch_;
    at_rest = at_rest_;
    while (!pool_.empty()) {
      auto [e, conn] = std::move(pool_.back());
      pool_.pop_back();
      if (e == epoch_) return sql::Lease{std::move(conn), e};
    }
  }
  auto db = OpenPinned(at_rest);
  if (!db.ok()) return db.status();
  return sql::Lease{std::make_unique<SqliteConnection>(std::move(*db)), epoch};
}

void SqliteDatabase::Release(sql::Lease lease, bool broken) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  // Bounded: at most one idle connection per FUSE worker thread in practice. A connection
  // of an older epoch is closed: it may show the store as it was.
  if (!broken && lease.epoch == epoch_ && pool_.size() < 16) {
    pool_.emplace_back(lease.epoch, std::move(lease.connection));
  }
}

// A request that reads through an immutable connection while a writer's checkpoint
// rewrites zenml.db (a writer that came and went between two refreshes) may see a torn
// page and fail (EIO) once; the next refresh starts a new epoch. A writer that stays
// (ZenML's server, a running pipeline) keeps its -wal file, so the mount switches to
// ordinary connections at the next refresh, before its first checkpoint in practice.
Result<std::int64_t> SqliteDatabase::ChangeCounter() {
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
  auto st = sql::Stmt::Borrow(version_db_, "PRAGMA data_version");
  if (!st.ok()) return st.status();
  Status s;
  while (st->Step(&s)) v = st->Int(0);
  if (!s.ok()) return s;
  // data_version counts within one connection; a new connection starts a new range.
  return reopened_ * (std::int64_t{1} << 32) + v;
}

}  // namespace zenfs
