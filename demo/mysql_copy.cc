#include "demo/mysql_copy.h"

#include <mysql.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "demo/mysql_schema_sql.h"
#include "store/sqlite_util.h"

namespace zenfs {

namespace {

// Rows per INSERT statement, and a cap on a statement's bytes (also kept under half the
// server's max_allowed_packet): a few thousand statements for a 100,000-run store.
constexpr std::size_t kRowsPerInsert = 500;
constexpr std::size_t kMaxInsertBytes = 4u << 20;

std::string QuoteName(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One connection that writes, closed on destruction. Unlike the store's read-only
// connections (store/mysql_database.cc) it keeps the server's quoting (identifiers in
// backticks, as the genuine DDL has them), and it checks no foreign keys while it loads:
// the tables come in the dump's alphabetical order and their rows in any order.
class Writer {
 public:
  static Result<std::unique_ptr<Writer>> Connect(const MysqlConfig& c) {
    if (c.database.empty()) {
      return Status::InvalidArgument(c.Redacted() + ": the URL names no database (mysql://USER@HOST:PORT/DATABASE)");
    }
    // A multi-megabyte INSERT of a loaded server may take a while: generous, but bounded.
    auto h = ConnectMysql(c, std::max(c.read_timeout_s, 600u),
                          {"SET SESSION time_zone = '+00:00', foreign_key_checks = 0"});
    if (!h.ok()) {
      if (h.status().code() != Status::Code::kNotFound) return h.status();
      return Status::NotFound(h.status().message() + "; create it first: CREATE DATABASE " + QuoteName(c.database) +
                              " CHARACTER SET utf8mb4");
    }
    return std::unique_ptr<Writer>(new Writer(*h, c.Redacted()));
  }
  ~Writer() { mysql_close(h_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Status Exec(const std::string& sql) {
    if (mysql_real_query(h_, sql.data(), sql.size()) != 0) return Failure(sql);
    if (MYSQL_RES* res = mysql_store_result(h_)) mysql_free_result(res);
    return Status::Ok();
  }
  // The first column of every row of `sql`.
  Result<std::vector<std::string>> Column(const std::string& sql) {
    if (mysql_real_query(h_, sql.data(), sql.size()) != 0) return Failure(sql);
    MYSQL_RES* res = mysql_store_result(h_);
    if (res == nullptr) return Failure(sql);
    std::vector<std::string> out;
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      const unsigned long* len = mysql_fetch_lengths(res);
      out.push_back(row[0] == nullptr ? std::string() : std::string(row[0], len[0]));
    }
    mysql_free_result(res);
    return out;
  }
  // Appends `bytes` as a quoted string literal.
  void AppendQuoted(std::string* sql, const char* bytes, std::size_t n) {
    const std::size_t at = sql->size();
    sql->resize(at + 2 * n + 3);
    (*sql)[at] = '\'';
    const unsigned long w = mysql_real_escape_string(h_, sql->data() + at + 1, bytes, n);
    sql->resize(at + 1 + w);
    *sql += '\'';
  }
  const std::string& where() const { return where_; }

 private:
  Writer(MYSQL* h, std::string where) : h_(h), where_(std::move(where)) {}
  Status Failure(const std::string& sql) {
    std::string head = sql.substr(0, 120);
    if (head.size() < sql.size()) head += "...";
    return Status::IOError(where_ + ": " + mysql_error(h_) + " (in: " + head + ")");
  }
  MYSQL* h_;
  std::string where_;
};

struct ColumnInfo {
  std::string name;
  std::string type;  // as SQLite declares it, e.g. VARCHAR(16777215)
  bool not_null = false;
  int pk = 0;  // position in the primary key, 0 if not in it
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
};

// Every table of the SQLite store (not SQLite's own), by name, with its columns in order.
Result<std::vector<TableInfo>> ReadTables(const sql::Db& db) {
  std::vector<TableInfo> tables;
  {
    auto st = sql::Stmt::Prepare(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                                     "ESCAPE '\\' ORDER BY name");
    if (!st.ok()) return st.status();
    Status s;
    while (st->Step(&s)) tables.push_back({st->Text(0), {}});
    if (!s.ok()) return s;
  }
  for (TableInfo& t : tables) {
    auto st = sql::Stmt::Prepare(db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)");
    if (!st.ok()) return st.status();
    st->Bind(1, t.name);
    Status s;
    while (st->Step(&s)) t.columns.push_back({st->Text(0), Upper(st->Text(1)), st->Int(2) != 0, static_cast<int>(st->Int(3))});
    if (!s.ok()) return s;
  }
  return tables;
}

Result<std::string> AlembicVersion(const sql::Db& db) {
  auto st = sql::Stmt::Prepare(db, "SELECT version_num FROM alembic_version");
  if (!st.ok()) return Status::Unsupported(db.path() + ": not a ZenML store (no alembic_version)");
  Status s;
  if (!st->Step(&s)) return Status::Unsupported(db.path() + ": alembic_version is empty");
  return st->Text(0);
}

// ZenML's SQLAlchemy types as its MySQL DDL spells them, from how its SQLite DDL spells
// the same columns. Every pair below is what the genuine 0.74 dump shows against the 0.74
// SQLite schema (sqlmodel's plain String is VARCHAR(255) on MySQL; ZenML's long strings
// are String(16777215), MEDIUMTEXT on MySQL; LargeBinary is BLOB; Boolean is TINYINT(1)).
// The numeric types ZenML does not use today are mapped the obvious way.
Result<std::string> TranslateColumnType(const std::string& table, const ColumnInfo& c) {
  const std::string& t = c.type;
  auto length = [&t]() -> long {
    const auto open = t.find('(');
    return open == std::string::npos ? -1 : std::strtol(t.c_str() + open + 1, nullptr, 10);
  };
  const std::string base = t.substr(0, t.find('('));
  if (base == "CHAR") return "char(" + std::to_string(length() > 0 ? length() : 1) + ")";
  if (base == "VARCHAR") {
    const long n = length();
    if (n < 0) return std::string("varchar(255)");
    if (n >= 16777215) return std::string(n == 16777215 ? "mediumtext" : "longtext");
    if (n > 16383) return std::string("mediumtext");  // over utf8mb4's VARCHAR limit
    return "varchar(" + std::to_string(n) + ")";
  }
  if (base == "TEXT") return std::string("text");
  if (base == "DATETIME") return std::string("datetime");
  if (base == "BOOLEAN") return std::string("tinyint(1)");
  if (base == "INTEGER" || base == "INT") return std::string("int(11)");
  if (base == "BIGINT") return std::string("bigint(20)");
  if (base == "SMALLINT") return std::string("smallint(6)");
  if (base == "FLOAT" || base == "REAL") return std::string("float");
  if (base == "DOUBLE") return std::string("double");
  if (base == "BLOB") return std::string("blob");
  if (base == "JSON") return std::string("longtext");
  return Status::Unsupported("no MySQL type for " + table + "." + c.name + " (" + t + ")");
}

// A CREATE TABLE for a store whose version has no genuine MySQL DDL here. What ZenML's
// MySQL schema has and this leaves out: its foreign-key constraints, its UNIQUE
// constraints and its named indexes beyond one KEY per `*_id` column (the indexes InnoDB
// makes for ZenML's foreign keys); server-side defaults (ZenML sets none that matter).
// Columns, their order, types, NULLability and the primary key are ZenML's.
Result<std::string> TranslatedDdl(const TableInfo& t) {
  std::string ddl = "CREATE TABLE " + QuoteName(t.name) + " (\n";
  std::vector<std::pair<int, std::string>> pk;
  std::vector<std::string> keys;
  for (const ColumnInfo& c : t.columns) {
    auto type = TranslateColumnType(t.name, c);
    if (!type.ok()) return type.status();
    ddl += "  " + QuoteName(c.name) + " " + *type + (c.not_null || c.pk > 0 ? " NOT NULL" : " DEFAULT NULL") + ",\n";
    if (c.pk > 0) pk.emplace_back(c.pk, c.name);
    else if (c.name.size() > 3 && c.name.ends_with("_id")) keys.push_back(c.name);
  }
  std::sort(pk.begin(), pk.end());
  std::string lines;
  if (!pk.empty()) {
    lines += "  PRIMARY KEY (";
    for (std::size_t i = 0; i < pk.size(); ++i) lines += (i ? ", " : "") + QuoteName(pk[i].second);
    lines += ")";
  }
  for (const std::string& k : keys) {
    lines += std::string(lines.empty() ? "" : ",\n") + "  KEY " + QuoteName("ix_" + t.name + "_" + k) + " (" +
             QuoteName(k) + ")";
  }
  if (lines.empty()) {
    ddl.resize(ddl.size() - 2);  // the last column's ",\n"
    ddl += "\n";
  } else {
    ddl += lines + "\n";
  }
  return ddl + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
}

// The genuine 0.74 DDL's CREATE TABLE statements, one per table name.
Result<std::vector<std::pair<std::string, std::string>>> GenuineDdl() {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string text = kZenml074MysqlSchemaSql;
  std::size_t at = 0;
  while ((at = text.find("CREATE TABLE `", at)) != std::string::npos) {
    const std::size_t end = text.find(";\n", at);
    const std::size_t name_end = text.find('`', at + 14);
    if (end == std::string::npos || name_end == std::string::npos) return Status::Corruption("the embedded MySQL DDL is cut short");
    out.emplace_back(text.substr(at + 14, name_end - at - 14), text.substr(at, end - at));
    at = end;
  }
  return out;
}

// The statements that create `tables` in MySQL, in order.
Result<std::vector<std::string>> CreateStatements(const std::vector<TableInfo>& tables, const std::string& version,
                                                  std::string* ddl_kind) {
  std::vector<std::string> out;
  if (version == "0.74.0") {
    auto genuine = GenuineDdl();
    if (!genuine.ok()) return genuine.status();
    std::set<std::string> have;
    for (const auto& [name, ddl] : *genuine) have.insert(name);
    for (const TableInfo& t : tables) {
      if (!have.count(t.name)) return Status::Unsupported("table " + t.name + " is not in ZenML 0.74's MySQL DDL");
    }
    for (const auto& [name, ddl] : *genuine) out.push_back(ddl);
    *ddl_kind = "ZenML 0.74.0's MySQL DDL";
    return out;
  }
  for (const TableInfo& t : tables) {
    auto ddl = TranslatedDdl(t);
    if (!ddl.ok()) return ddl.status();
    out.push_back(*ddl);
  }
  *ddl_kind = "translated from SQLite (alembic " + version + ")";
  return out;
}

bool IsDatetime(const ColumnInfo& c) { return c.type == "DATETIME"; }

// Appends one SQLite value as a MySQL literal. A DATETIME's fraction is cut here.
void AppendValue(Writer& w, sqlite3_stmt* st, int col, bool datetime, std::string* sql) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
      *sql += "NULL";
      return;
    case SQLITE_INTEGER:
      *sql += std::to_string(sqlite3_column_int64(st, col));
      return;
    default: {
      const char* bytes = static_cast<const char*>(sqlite3_column_blob(st, col));
      std::size_t n = static_cast<std::size_t>(sqlite3_column_bytes(st, col));
      if (datetime) {
        const std::string_view v(bytes == nullptr ? "" : bytes, n);
        const auto dot = v.find('.');
        if (dot != std::string_view::npos) n = dot;
      }
      w.AppendQuoted(sql, bytes == nullptr ? "" : bytes, n);
    }
  }
}

// Every row of one table, in INSERTs of up to kRowsPerInsert rows.
Status CopyRows(const sql::Db& db, Writer& w, const TableInfo& t, std::size_t max_bytes, std::int64_t* rows) {
  std::string select = "SELECT ", head = "INSERT INTO " + QuoteName(t.name) + " (";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    select += std::string(i ? ", " : "") + "\"" + t.columns[i].name + "\"";
    head += std::string(i ? ", " : "") + QuoteName(t.columns[i].name);
  }
  select += " FROM \"" + t.name + "\"";
  head += ") VALUES ";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(), select.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::IOError(db.path() + ": " + db.ErrorMessage() + " (in: " + select + ")");
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
  std::string sql;
  std::size_t in_batch = 0;
  auto flush = [&]() -> Status {
    if (in_batch == 0) return Status::Ok();
    Status s = w.Exec(sql);
    in_batch = 0;
    return s;
  };
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (in_batch == 0) sql = head;
    else sql += ',';
    sql += '(';
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      if (i) sql += ',';
      AppendValue(w, st, static_cast<int>(i), IsDatetime(t.columns[i]), &sql);
    }
    sql += ')';
    ++*rows;
    if (++in_batch == kRowsPerInsert || sql.size() >= max_bytes) {
      if (Status s = flush(); !s.ok()) return s;
    }
  }
  if (rc != SQLITE_DONE) return Status::IOError(db.path() + ": " + db.ErrorMessage());
  return flush();
}

}  // namespace

Status CheckMysqlTarget(const MysqlConfig& target) {
  auto w = Writer::Connect(target);
  if (!w.ok()) return w.status();
  auto found = (*w)->Column(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'alembic_version'");
  if (!found.ok()) return found.status();
  if (!found->empty()) {
    return Status::InvalidArgument(target.Redacted() + ": already holds a ZenML store (it has alembic_version); " +
                                   "zenfs demo --mysql writes only into a database without ZenML tables");
  }
  return Status::Ok();
}

Status CopySqliteToMysql(const std::string& sqlite_path, const MysqlConfig& target, MysqlCopyStats* stats) {
  auto db = sql::Db::OpenReadOnly(sqlite_path);
  if (!db.ok()) return db.status();
  auto version = AlembicVersion(*db);
  if (!version.ok()) return version.status();
  auto tables = ReadTables(*db);
  if (!tables.ok()) return tables.status();
  MysqlCopyStats local;
  MysqlCopyStats& out = stats != nullptr ? *stats : local;
  auto creates = CreateStatements(*tables, *version, &out.ddl);
  if (!creates.ok()) return creates.status();

  auto connected = Writer::Connect(target);
  if (!connected.ok()) return connected.status();
  Writer& w = **connected;
  // Refused when any table it would create is there already (DDL commits on its own, so a
  // half-written database must not be taken for an empty one).
  auto existing = w.Column("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()");
  if (!existing.ok()) return existing.status();
  std::string clash;
  for (const TableInfo& t : *tables) {
    if (std::find(existing->begin(), existing->end(), t.name) != existing->end()) clash += (clash.empty() ? "" : ", ") + t.name;
  }
  if (!clash.empty()) {
    return Status::InvalidArgument(w.where() + ": already holds ZenML tables (" + clash +
                                   "); zenfs demo --mysql writes only into a database without them");
  }
  std::size_t max_bytes = kMaxInsertBytes;
  if (auto packet = w.Column("SELECT @@max_allowed_packet"); packet.ok() && !packet->empty()) {
    max_bytes = std::min<std::size_t>(max_bytes, std::strtoull((*packet)[0].c_str(), nullptr, 10) / 2);
  }

  std::vector<std::string> created;
  auto copy = [&]() -> Status {
    for (const std::string& ddl : *creates) {
      if (Status s = w.Exec(ddl); !s.ok()) return s;
      const std::size_t a = ddl.find('`') + 1;
      created.push_back(ddl.substr(a, ddl.find('`', a) - a));
    }
    if (Status s = w.Exec("START TRANSACTION"); !s.ok()) return s;
    for (const TableInfo& t : *tables) {
      if (Status s = CopyRows(*db, w, t, max_bytes, &out.rows); !s.ok()) return s;
    }
    return w.Exec("COMMIT");
  };
  Status s = copy();
  if (!s.ok()) {
    // Leave the database as it was found: the rows go with the transaction, the tables
    // (whose DDL committed) are dropped.
    (void)w.Exec("ROLLBACK");
    for (const std::string& name : created) (void)w.Exec("DROP TABLE IF EXISTS " + QuoteName(name));
    return s;
  }
  out.tables = static_cast<int>(tables->size());
  return Status::Ok();
}

}  // namespace zenfs
