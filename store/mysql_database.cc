#include "store/mysql_database.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "store/json_limits.h"

namespace zenfs {

namespace {

// Errors that mean the connection itself is gone (server stopped, restarted, network).
bool ConnectionLost(unsigned err) {
  return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
         err == CR_CONN_HOST_ERROR || err == ER_CONNECTION_KILLED || err == ER_SERVER_SHUTDOWN;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding of a URL part; nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<unsigned> Seconds(const std::string& v) {
  char* end = nullptr;
  const unsigned long n = std::strtoul(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n == 0 || n > 3600) return std::nullopt;
  return static_cast<unsigned>(n);
}

// The rows of one query, streamed from the server (mysql_use_result): the whole result is
// never held, and what is not read is drained when this goes away.
class MysqlRows final : public sql::Rows {
 public:
  MysqlRows(MYSQL* h, MYSQL_RES* res) : h_(h), res_(res) {}
  ~MysqlRows() override {
    if (res_ != nullptr) mysql_free_result(res_);
  }
  bool Step(Status* status) override {
    if (res_ == nullptr) return false;
    row_ = mysql_fetch_row(res_);
    if (row_ == nullptr) {
      if (mysql_errno(h_) != 0) *status = Status::IOError(std::string("MySQL: ") + mysql_error(h_));
      return false;
    }
    lengths_ = mysql_fetch_lengths(res_);
    cols_ = mysql_num_fields(res_);
    return true;
  }
  bool IsNull(int col) const override { return !Valid(col) || row_[col] == nullptr; }
  std::string_view TextView(int col) const override {
    if (IsNull(col)) return {};
    return std::string_view(row_[col], lengths_[col]);
  }
  std::int64_t Int(int col) const override {
    if (IsNull(col)) return 0;
    const std::string text(TextView(col));
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    return *end == '\0' ? v : 0;
  }

 private:
  bool Valid(int col) const { return row_ != nullptr && col >= 0 && static_cast<unsigned>(col) < cols_; }
  MYSQL* h_;
  MYSQL_RES* res_;
  MYSQL_ROW row_ = nullptr;
  unsigned long* lengths_ = nullptr;
  unsigned cols_ = 0;
};

class MysqlConnection final : public sql::Connection {
 public:
  MysqlConnection(MysqlDatabase& owner, MYSQL* h) : owner_(owner), h_(h) {}
  ~MysqlConnection() override { mysql_close(h_); }

  Result<std::unique_ptr<sql::Rows>> Query(const std::string& sql,
                                           std::initializer_list<std::string_view> params) override {
    std::string text;
    std::size_t p = 0;
    auto next = params.begin();
    // `?` becomes a quoted, escaped string: the catalog's SQL holds no `?` of its own.
    for (char c : sql) {
      if (c != '?' || next == params.end()) {
        text += c;
        continue;
      }
      std::string escaped(next->size() * 2 + 1, '\0');
      const unsigned long n = mysql_real_escape_string(h_, escaped.data(), next->data(), next->size());
      text += '\'';
      text.append(escaped.data(), n);
      text += '\'';
      ++next;
      ++p;
    }
    if (mysql_real_query(h_, text.data(), text.size()) != 0) {
      const unsigned err = mysql_errno(h_);
      // A pooled connection the server dropped (restart, idle timeout) before a
      // transaction began: connect again, once, and retry.
      if (ConnectionLost(err) && !in_txn_ && !retried_) {
        retried_ = true;
        Status s = Reconnect();
        if (s.ok()) {
          auto again = Query(sql, params);
          retried_ = false;
          return again;
        }
        retried_ = false;
        return s;
      }
      if (ConnectionLost(err)) owner_.Saw(false, mysql_error(h_));
      return Status::IOError(std::string("MySQL: ") + mysql_error(h_));
    }
    owner_.Saw(true, "");
    MYSQL_RES* res = mysql_use_result(h_);
    if (res == nullptr && mysql_errno(h_) != 0) return Status::IOError(std::string("MySQL: ") + mysql_error(h_));
    return std::unique_ptr<sql::Rows>(new MysqlRows(h_, res));
  }

  Status Begin() override {
    Status s = Run("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    in_txn_ = s.ok();
    return s;
  }
  Status End() override {
    // in_txn_ still set: a transaction dies with its connection, so a lost one is not
    // connected again (a connect timeout more on a stalled server) to commit nothing.
    Status s = Run("COMMIT");
    in_txn_ = false;
    return s;
  }

  std::optional<std::string> Capped(const std::string& table, const std::string& col,
                                    std::string_view row_key) override {
    // The length first, from the server: a value over the cap never crosses the wire.
    const std::string c = "\"" + col + "\"";
    auto rows = Query("SELECT LENGTH(" + c + "), CASE WHEN LENGTH(" + c + ") <= " +
                          std::to_string(kMaxStoreValueBytes) + " THEN " + c + " END FROM \"" + table +
                          "\" WHERE id = ?",
                      {row_key});
    if (!rows.ok()) return std::nullopt;
    Status s;
    std::optional<std::string> value;
    if ((*rows)->Step(&s) && !(*rows)->IsNull(0)) {
      const std::int64_t n = (*rows)->Int(0);
      value = n > static_cast<std::int64_t>(kMaxStoreValueBytes) ? CutNote(static_cast<std::size_t>(n))
                                                                 : (*rows)->Text(1);
    }
    while ((*rows)->Step(&s)) {
    }
    return value;
  }

 private:
  Status Run(const std::string& sql) {
    auto rows = Query(sql, {});
    if (!rows.ok()) return rows.status();
    Status s;
    while ((*rows)->Step(&s)) {
    }
    return s;
  }
  Status Reconnect();

  MysqlDatabase& owner_;
  MYSQL* h_;
  bool in_txn_ = false;
  bool retried_ = false;
};

// The connection's handle is replaced by a fresh one to the same server.
Status MysqlConnection::Reconnect() {
  auto fresh = owner_.Connect();
  if (!fresh.ok()) {
    owner_.Saw(false, fresh.status().message());
    return fresh.status();
  }
  auto* other = static_cast<MysqlConnection*>(fresh->get());
  std::swap(h_, other->h_);
  return Status::Ok();
}

}  // namespace

std::string MysqlConfig::Redacted() const {
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "mysql://" + (user.empty() ? "" : user + "@") + shown_host + ":" + std::to_string(port) + "/" + database;
}

Result<MysqlConfig> ParseMysqlUrl(const std::string& url) {
  MysqlConfig c;
  std::string_view rest(url);
  bool matched = false;
  for (const char* scheme : {"mysql://", "mysql+pymysql://", "mariadb://"}) {
    if (rest.substr(0, std::strlen(scheme)) == scheme) {
      rest.remove_prefix(std::strlen(scheme));
      matched = true;
      break;
    }
  }
  if (!matched) return Status::InvalidArgument("not a mysql:// URL");
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // An '@' after the '?' most likely means an unescaped '?' in the password.
  const bool query_has_at = query.find('@') != std::string_view::npos;
  // The database may also come from beside the URL (config.yaml's `database`).
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    // An '@' after the host is an unescaped '/' in the password (a database named with one
    // is written %40): refused, since the text after the '/' would be shown as the database.
    if (rest.find('@', slash) != std::string_view::npos) {
      return Status::InvalidArgument(
          "the URL has an '@' after its host: a password with '/' needs it %-escaped (%2F)");
    }
    auto db = PercentDecode(rest.substr(slash + 1));
    if (!db || db->find('/') != std::string::npos) return Status::InvalidArgument("the URL's database name is malformed");
    c.database = *db;
  }
  std::string_view authority = rest.substr(0, slash == std::string_view::npos ? rest.size() : slash);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = userinfo, pass;
    bool has_pass = false;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      pass = userinfo.substr(colon + 1);
      has_pass = true;
    }
    auto u = PercentDecode(user);
    auto p = PercentDecode(pass);
    if (!u || !p) return Status::InvalidArgument("the URL's user or password has a malformed %-escape");
    c.user = *u;
    if (has_pass) c.password = *p;
  }
  // Messages below never quote the host, port or option text: with an unescaped '/', '?'
  // or '@' in a password, part of it lands there.
  std::string_view host = authority, port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    // An IPv6 address, [::1] or [::1]:3307; Connector/C takes it without the brackets.
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("the URL's [IPv6 host] has no ']'");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return Status::InvalidArgument("the URL's [IPv6 host] is followed by something other than :PORT");
    }
    has_port = !after.empty();
    if (has_port) port_text = after.substr(1);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    has_port = true;
  }
  if (has_port) {
    const std::string port(port_text);
    char* end = nullptr;
    const unsigned long n = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || n == 0 || n > 65535) {
      return Status::InvalidArgument("the URL's port is not a number from 1 to 65535 (a password with '/', "
                                     "'?' or '@' needs them %-escaped: %2F, %3F, %40)");
    }
    c.port = static_cast<unsigned>(n);
  }
  if (host.empty()) return Status::InvalidArgument("the URL names no host");
  c.host = std::string(host);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string key(item.substr(0, eq));
    // The key as messages show it: not when it may be a piece of the password.
    const bool plain = !query_has_at && std::all_of(key.begin(), key.end(), [](char k) {
      return std::isalnum(static_cast<unsigned char>(k)) || k == '_';
    });
    const std::string shown_key = plain ? " " + key : std::string();
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    if (!value) return Status::InvalidArgument("the URL option" + shown_key + " has a malformed %-escape");
    if (key == "ssl_ca") {
      c.ssl_ca = *value;
    } else if (key == "ssl_cert") {
      c.ssl_cert = *value;
    } else if (key == "ssl_key") {
      c.ssl_key = *value;
    } else if (key == "ssl_verify_server_cert") {
      if (*value != "true" && *value != "false" && *value != "1" && *value != "0") {
        return Status::InvalidArgument("ssl_verify_server_cert must be true or false, not " + *value);
      }
      c.verify_server_cert = *value == "true" || *value == "1";
    } else if (key == "connect_timeout" || key == "read_timeout") {
      auto s = Seconds(*value);
      if (!s) return Status::InvalidArgument(key + " must be a whole number of seconds from 1 to 3600");
      (key == "connect_timeout" ? c.connect_timeout_s : c.read_timeout_s) = *s;
    } else {
      return Status::InvalidArgument("unknown mysql:// URL option" + shown_key +
                                     " (known: ssl_ca, ssl_cert, ssl_key, ssl_verify_server_cert, "
                                     "connect_timeout, read_timeout)");
    }
  }
  return c;
}

MysqlDatabase::~MysqlDatabase() = default;

Result<st_mysql*> ConnectMysql(const MysqlConfig& config, unsigned io_timeout_s,
                               const std::vector<std::string>& init) {
  MYSQL* h = mysql_init(nullptr);
  if (h == nullptr) return Status::IOError("MySQL: out of memory");
  const unsigned connect = config.connect_timeout_s;
  mysql_options(h, MYSQL_OPT_CONNECT_TIMEOUT, &connect);
  mysql_options(h, MYSQL_OPT_READ_TIMEOUT, &io_timeout_s);
  mysql_options(h, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout_s);
  mysql_options(h, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!config.ssl_ca.empty()) mysql_options(h, MYSQL_OPT_SSL_CA, config.ssl_ca.c_str());
  if (!config.ssl_cert.empty()) mysql_options(h, MYSQL_OPT_SSL_CERT, config.ssl_cert.c_str());
  if (!config.ssl_key.empty()) mysql_options(h, MYSQL_OPT_SSL_KEY, config.ssl_key.c_str());
  // Only logins that never put the password on the wire as it is: a server, or anyone in
  // the middle of a connection without verified TLS, could otherwise ask for
  // mysql_clear_password (or dialog, which prompts on the terminal) and read it.
  mysql_optionsv(h, MARIADB_OPT_RESTRICTED_AUTH,
                 "mysql_native_password,caching_sha2_password,sha256_password,client_ed25519");
  const my_bool verify = config.verify_server_cert ? 1 : 0;
  mysql_options(h, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  for (const std::string& statement : init) mysql_options(h, MYSQL_INIT_COMMAND, statement.c_str());
  if (mysql_real_connect(h, config.host.c_str(), config.user.empty() ? nullptr : config.user.c_str(),
                         config.password.c_str(), config.database.c_str(), config.port, nullptr, 0) == nullptr) {
    const unsigned err = mysql_errno(h);
    std::string why = mysql_error(h);
    mysql_close(h);
    const std::string where = config.Redacted() + ": ";
    if (err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR) {
      return Status::PermissionDenied(where + "login refused (" + why + ")");
    }
    if (err == ER_BAD_DB_ERROR) return Status::NotFound(where + "no such database (" + why + ")");
    return Status::IOError(where + "cannot connect (" + why + ")");
  }
  // TLS files asked for mean TLS or no connection, as the mysql and mariadb clients do:
  // Connector/C 3.3 refuses a server without TLS only when verifying its certificate, and
  // otherwise goes on in the clear with a server (or a man in the middle) offering none.
  if ((!config.ssl_ca.empty() || !config.ssl_cert.empty()) && mysql_get_ssl_cipher(h) == nullptr) {
    mysql_close(h);
    return Status::IOError(config.Redacted() +
                           ": cannot connect (the server offers no TLS/SSL, which ssl_* asks for)");
  }
  return h;
}

Result<std::unique_ptr<sql::Connection>> MysqlDatabase::Connect() {
  // Identifiers in the catalog's SQL are double-quoted (ANSI_QUOTES); times are UTC as
  // ZenML wrote them (DATETIME has no zone); nothing is ever written. WITH CONSISTENT
  // SNAPSHOT holds only under REPEATABLE READ; a server whose default is READ COMMITTED
  // would show each query of one transaction the commits since the last. (This statement
  // form, not a variable: MySQL 8 has only transaction_isolation, MariaDB before 11.1 only
  // tx_isolation.)
  auto h = ConnectMysql(config_, config_.read_timeout_s,
                        {"SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'ANSI_QUOTES'), "
                         "time_zone = '+00:00'",
                         "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"});
  if (!h.ok()) return h.status();
  return std::unique_ptr<sql::Connection>(new MysqlConnection(*this, *h));
}

Result<std::unique_ptr<MysqlDatabase>> MysqlDatabase::Open(MysqlConfig config, Notify notify) {
  // TLS files are checked here, so a typo is one clear line rather than a handshake error.
  for (const auto& [name, path] : {std::pair<const char*, const std::string*>{"ssl_ca", &config.ssl_ca},
                                   {"ssl_cert", &config.ssl_cert},
                                   {"ssl_key", &config.ssl_key}}) {
    if (path->empty()) continue;
    struct stat sb;
    if (stat(path->c_str(), &sb) != 0 || !S_ISREG(sb.st_mode) || access(path->c_str(), R_OK) != 0) {
      return Status::InvalidArgument(std::string(name) + "=" + *path + ": not a readable file");
    }
  }
  if (config.ssl_cert.empty() != config.ssl_key.empty()) {
    return Status::InvalidArgument("ssl_cert and ssl_key go together: give both or neither");
  }
  auto db = std::unique_ptr<MysqlDatabase>(new MysqlDatabase(std::move(config), std::move(notify)));
  auto first = db->Connect();
  if (!first.ok()) return first.status();
  db->pool_.push_back(std::move(*first));
  return db;
}

void MysqlDatabase::Saw(bool ok, const std::string& error) {
  // One lock over the state change and its line, so two workers that see the server go
  // and come back at once log in the order the state changed.
  std::lock_guard<std::mutex> tell(notify_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok == !down_) return;
    down_ = !ok;
    if (!ok) ++reconnects_;
  }
  if (notify_) {
    notify_(ok, ok ? Describe() + ": the server answers again"
                   : Describe() + ": the server went away (" + error + "); serving the last picture");
  }
}

Result<sql::Lease> MysqlDatabase::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pool_.empty()) {
      sql::Lease lease{std::move(pool_.back()), 0};
      pool_.pop_back();
      return lease;
    }
  }
  auto conn = Connect();
  if (!conn.ok()) {
    Saw(false, conn.status().message());
    return conn.status();
  }
  return sql::Lease{std::move(*conn), 0};
}

void MysqlDatabase::Release(sql::Lease lease, bool broken) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken && pool_.size() < 16) pool_.push_back(std::move(lease.connection));
}

Result<sql::Database::Columns> MysqlDatabase::ReadColumns() {
  auto lease = Acquire();
  if (!lease.ok()) return lease.status();
  Columns cols;
  auto rows = lease->connection->Query(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()");
  if (!rows.ok()) return rows.status();
  Status s;
  while ((*rows)->Step(&s)) cols[(*rows)->Text(0)].insert((*rows)->Text(1));
  rows->reset();
  if (!s.ok()) return s;
  Release(std::move(*lease), false);
  return cols;
}

// Where the server's InnoDB redo log is (MariaDB's Innodb_lsn_current, MySQL 8.0.30's
// Innodb_redo_log_current_lsn) plus MySQL's counts of rows inserted, updated and deleted
// (MariaDB 10.11 has no such counters): readable by any account (no grant beyond SELECT),
// one constant-time statement whatever the store's size, and every write ZenML commits
// moves it, while reads (ours included: read-only transactions) do not. Writes to other
// databases on the same server move it too: the price is a reload that finds nothing new.
// A reconnect (a restarted server) moves it as well.
Result<std::int64_t> MysqlDatabase::ChangeCounter() {
  auto lease = Acquire();
  if (!lease.ok()) return lease.status();
  auto rows = lease->connection->Query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current', 'Innodb_redo_log_current_lsn', "
      "'Innodb_rows_inserted', 'Innodb_rows_updated', 'Innodb_rows_deleted')");
  if (!rows.ok()) {
    Release(std::move(*lease), true);
    return rows.status();
  }
  std::int64_t sum = 0;
  Status s;
  while ((*rows)->Step(&s)) sum += (*rows)->Int(1);
  rows->reset();
  Release(std::move(*lease), !s.ok());
  if (!s.ok()) return s;
  // InnoDB moves the log position when a commit is logged, a moment before new reads see
  // it: a reload started in that moment misses the commit but would take the new value.
  // So the counter moves once more at the first check a while (kSettle) after the last
  // move (the next refresh, in practice), and that reload sees what one may have missed.
  constexpr auto kSettle = std::chrono::milliseconds(100);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (sum != last_position_) {
    ++generation_;
    last_position_ = sum;
    moved_at_ = now;
    settled_ = false;
  } else if (!settled_ && now - moved_at_ >= kSettle) {
    ++generation_;
    settled_ = true;
  }
  return generation_ + (reconnects_ << 48);
}

}  // namespace zenfs
