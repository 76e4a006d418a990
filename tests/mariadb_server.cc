#include "tests/mariadb_server.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <mysql.h>

#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {

namespace {

using Clock = std::chrono::steady_clock;

// How long the server may take to come up, and to go down on SIGTERM, on a loaded
// 2-core CI machine that is also running sanitizer builds.
constexpr double kStartSeconds = 90;
constexpr double kStopSeconds = 60;
// Connector/C's timeouts, in seconds: a stuck server fails a statement, never hangs a test.
constexpr unsigned kConnectTimeout = 20;
constexpr unsigned kReadWriteTimeout = 120;
// Debian's server binary (mariadb-server); mariadb-install-db is found on PATH.
constexpr char kServerBinary[] = "/usr/sbin/mariadbd";
// sun_path holds 108 bytes with the terminating NUL.
constexpr std::size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;

// mysql_init() initializes the library on first use, which is not thread-safe; do it once.
void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

// Options both mariadb-install-db and mariadbd get, after --no-defaults (which must come
// first). Running as root needs --user=root; anyone else runs it as themselves.
std::vector<std::string> CommonOptions(const std::string& data_dir) {
  std::vector<std::string> args = {"--no-defaults", "--datadir=" + data_dir};
  if (geteuid() == 0) args.push_back("--user=root");
  // A 16 MiB redo log instead of 96: less to write at start, little disk per test run.
  args.push_back("--innodb-log-file-size=16M");
  return args;
}

// True if the server behind `conn` is the one on `data_dir`: a port can be taken by
// someone else between FreeLoopbackPort and mariadbd's bind (ours then exits, and Start
// tries another port), and a test must never talk to a stranger.
bool ServesDataDir(MariaDbConnection& conn, const std::string& data_dir) {
  auto rows = conn.Query("SELECT @@datadir");
  if (!rows.ok() || rows->size() != 1 || !rows->front().at(0)) return false;
  std::error_code ec;
  return std::filesystem::equivalent(*rows->front().at(0), data_dir, ec);
}

// SIGTERM (mariadbd shuts down cleanly on it), a generous wait, then SIGKILL.
void StopChild(pid_t pid) {
  kill(pid, SIGTERM);
  if (WaitChild(pid, kStopSeconds)) return;
  std::cerr << "mariadbd (pid " << pid << ") ignored SIGTERM for " << kStopSeconds
            << " s; killing it\n";
  kill(pid, SIGKILL);
  WaitChild(pid, kStopSeconds);
}

}  // namespace

// ---- MariaDbConnection

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string QuoteString(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    // Doubled: '' is a quote, \\ a backslash (the default sql_mode, without
    // NO_BACKSLASH_ESCAPES).
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

std::unique_ptr<MariaDbConnection> MariaDbConnection::Open(const MariaDbLogin& login,
                                                           bool multi_statements, Status* status,
                                                           unsigned* error_code) {
  InitLibrary();
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) {
    *status = Status::IOError("mysql_init: out of memory");
    return nullptr;
  }
  mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &kConnectTimeout);
  mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &kReadWriteTimeout);
  mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &kReadWriteTimeout);
  mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const unsigned long flags = multi_statements ? CLIENT_MULTI_STATEMENTS : 0;
  if (mysql_real_connect(mysql, login.host.c_str(), login.user.c_str(), login.password.c_str(),
                         login.database.empty() ? nullptr : login.database.c_str(),
                         static_cast<unsigned>(login.port), nullptr, flags) == nullptr) {
    const unsigned code = mysql_errno(mysql);
    *status = Status::IOError("connecting to " + login.host + ":" + std::to_string(login.port) +
                              " as " + login.user + ": " + mysql_error(mysql) + " (error " +
                              std::to_string(code) + ")");
    if (error_code != nullptr) *error_code = code;
    mysql_close(mysql);
    return nullptr;
  }
  if (error_code != nullptr) *error_code = 0;
  *status = Status::Ok();
  return std::unique_ptr<MariaDbConnection>(new MariaDbConnection(mysql));
}

MariaDbConnection::~MariaDbConnection() { mysql_close(mysql_); }

Status MariaDbConnection::Failure(const std::string& what) {
  error_code_ = mysql_errno(mysql_);
  return Status::IOError(what + ": " + mysql_error(mysql_) + " (error " +
                         std::to_string(error_code_) + ")");
}

Status MariaDbConnection::Execute(const std::string& sql) {
  error_code_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return Failure("statement 1");
  // Each statement of a multi-statement query has its own result (or status); a failed
  // one ends the sequence and shows up in mysql_next_result's return value.
  for (int n = 1;; ++n) {
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (res != nullptr) {
      mysql_free_result(res);
    } else if (mysql_field_count(mysql_) != 0) {
      return Failure("reading the result of statement " + std::to_string(n));
    }
    const int next = mysql_next_result(mysql_);
    if (next == -1) return Status::Ok();
    if (next > 0) return Failure("statement " + std::to_string(n + 1));
  }
}

Result<std::vector<MariaDbConnection::Row>> MariaDbConnection::Query(const std::string& sql) {
  error_code_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return Failure(sql);
  std::vector<Row> rows;
  MYSQL_RES* res = mysql_store_result(mysql_);
  if (res == nullptr) {
    if (mysql_field_count(mysql_) != 0) return Failure("reading the result of " + sql);
    return rows;
  }
  const unsigned columns = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    const unsigned long* lengths = mysql_fetch_lengths(res);
    Row out;
    for (unsigned i = 0; i < columns; ++i) {
      if (row[i] == nullptr) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(row[i], lengths[i]));
      }
    }
    rows.push_back(std::move(out));
  }
  mysql_free_result(res);
  return rows;
}

// ---- MariaDbServer

std::unique_ptr<MariaDbServer> MariaDbServer::Start(const std::string& base_dir, std::string* error,
                                                    int port_wanted) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(base_dir + "/tmp", ec);
  if (ec) {
    *error = "cannot create " + base_dir + "/tmp: " + ec.message();
    return nullptr;
  }
  if (access(kServerBinary, X_OK) != 0) {
    *error = std::string(kServerBinary) + " is missing: install mariadb-server (scripts/deps.sh)";
    return nullptr;
  }
  const std::string data_dir = base_dir + "/data";
  const std::string log = base_dir + "/mariadbd.log";
  if (!fs::exists(data_dir + "/mysql")) {
    // root@localhost, root@127.0.0.1 and root@::1 without a password ("normal"), no test
    // database.
    std::vector<std::string> install = {"mariadb-install-db"};
    for (const std::string& a : CommonOptions(data_dir)) install.push_back(a);
    install.insert(install.end(), {"--auth-root-authentication-method=normal", "--skip-test-db"});
    const CommandResult r = RunCommand(install, kStartSeconds);
    if (r.exit_code != 0) {
      *error = "mariadb-install-db failed (exit " + std::to_string(r.exit_code) +
               (r.timed_out ? ", timed out" : "") + "): " + r.err + r.out;
      return nullptr;
    }
  }
  // The free port may be taken by someone else before mariadbd binds it: try again with
  // another one then.
  const int kAttempts = port_wanted != 0 ? 1 : 5;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    const int port = port_wanted != 0 ? port_wanted : FreeLoopbackPort(error);
    if (port == 0) break;
    // The socket goes beside the data when its path fits in sun_path, else in a short
    // private folder under /tmp (a deep build folder in CI), owned by the server object.
    std::string socket_dir;
    std::string socket = base_dir + "/mariadbd.sock";
    if (socket.size() > kMaxSocketPath) {
      std::string pattern = "/tmp/zenfs-mariadb-XXXXXX";
      if (mkdtemp(pattern.data()) == nullptr) {
        *error = std::string("mkdtemp: ") + std::strerror(errno);
        return nullptr;
      }
      socket_dir = pattern;
      socket = socket_dir + "/mariadbd.sock";
    }
    auto server = std::unique_ptr<MariaDbServer>(new MariaDbServer(base_dir, -1, port, socket_dir));
    std::vector<std::string> argv = {kServerBinary};
    for (const std::string& a : CommonOptions(data_dir)) argv.push_back(a);
    argv.insert(argv.end(), {
        "--bind-address=127.0.0.1", "--port=" + std::to_string(port), "--socket=" + socket,
        "--pid-file=" + base_dir + "/mariadbd.pid", "--log-error=" + log,
        "--tmpdir=" + base_dir + "/tmp", "--secure-file-priv=" + base_dir + "/tmp",
        // Debian's server defaults (utf8mb4, general_ci), which --no-defaults drops; the
        // genuine ZenML dump was made on such a server.
        "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
        // No DNS: clients are 127.0.0.1, never a host name.
        "--skip-name-resolve",
        // A test server: small memory, no fsync per commit (a crash loses nothing a test
        // needs again; every run starts from a fresh data directory).
        "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=2",
        "--skip-innodb-buffer-pool-dump-at-shutdown", "--skip-innodb-buffer-pool-load-at-startup",
    });
    const auto started = Clock::now();
    const std::size_t log_before = ReadFile(log).size();  // earlier attempts' lines
    const pid_t pid = SpawnLogged(argv, log, /*own_group=*/false, error);
    if (pid < 0) return nullptr;
    server->pid_ = pid;  // from here on the destructor stops the child whatever happens
    const auto deadline = started + std::chrono::duration<double>(kStartSeconds);
    Status status;
    for (;;) {
      int wstatus = 0;
      if (waitpid(pid, &wstatus, WNOHANG) == pid) {
        server->pid_ = -1;
        const std::string tail = FileTail(log);
        const bool port_taken =
            ReadFile(log).find("Address already in use", log_before) != std::string::npos;
        if (port_taken && attempt < kAttempts) break;
        *error = "mariadbd exited while starting (status " + std::to_string(wstatus) + "); " + log +
                 ":\n" + tail;
        return nullptr;
      }
      if (const auto root = MariaDbConnection::Open(server->RootLogin(), false, &status);
          root != nullptr && ServesDataDir(*root, data_dir)) {
        const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
        std::cerr << "mariadbd (pid " << pid << ") on 127.0.0.1:" << port << " ready in " << seconds
                  << " s; data and log in " << base_dir << "\n";
        return server;
      }
      if (Clock::now() >= deadline) {
        *error = "mariadbd did not accept connections within " + std::to_string(kStartSeconds) +
                 " s (" + status.message() + "); " + log + ":\n" + FileTail(log);
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (error->empty()) *error = "no free loopback port for mariadbd";
  return nullptr;
}

MariaDbServer::~MariaDbServer() {
  if (pid_ > 0) StopChild(pid_);
  if (!socket_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(socket_dir_, ec);
  }
}

MariaDbLogin MariaDbServer::RootLogin(const std::string& database) const {
  MariaDbLogin login;
  login.port = port_;
  login.user = "root";
  login.database = database;
  return login;
}

Status MariaDbServer::Execute(const std::string& sql) {
  Status status;
  const auto root = MariaDbConnection::Open(RootLogin(), true, &status);
  if (root == nullptr) return status;
  return root->Execute(sql);
}

Status MariaDbServer::LoadDump(const std::string& database, const std::string& path) {
  bool ok = false;
  const std::string dump = ReadFile(path, &ok);
  if (!ok) return Status::IOError("cannot read the dump " + path);
  Status status = Execute("CREATE DATABASE " + QuoteIdentifier(database) + " CHARACTER SET utf8mb4");
  if (!status.ok()) return status;
  const auto root = MariaDbConnection::Open(RootLogin(database), true, &status);
  if (root == nullptr) return status;
  status = root->Execute(dump);
  if (!status.ok()) return Status::IOError("loading " + path + " into " + database + ": " + status.message());
  return status;
}

Status MariaDbServer::CreateReader(const std::string& user, const std::string& password,
                                   const std::string& database) {
  const std::string account = QuoteString(user) + "@'%'";
  return Execute("CREATE USER " + account + " IDENTIFIED BY " + QuoteString(password) +
                 "; GRANT SELECT ON " + QuoteIdentifier(database) + ".* TO " + account);
}

Result<std::map<std::string, std::string>> MariaDbServer::Checksums(const std::string& database) {
  Status status;
  const auto root = MariaDbConnection::Open(RootLogin(), false, &status);
  if (root == nullptr) return status;
  auto tables = root->Query(
      "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
      "AND table_schema = " + QuoteString(database) + " ORDER BY table_name");
  if (!tables.ok()) return tables.status();
  if (tables->empty()) return Status::NotFound("no tables in database " + database);
  std::string sql = "CHECKSUM TABLE ";
  for (std::size_t i = 0; i < tables->size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdentifier(database) + "." + QuoteIdentifier((*tables)[i].at(0).value_or(""));
  }
  auto rows = root->Query(sql + " EXTENDED");
  if (!rows.ok()) return rows.status();
  // Rows are ("db.table", checksum); the checksum is NULL for a table that vanished.
  std::map<std::string, std::string> out;
  for (const auto& row : *rows) {
    const std::string name = row.at(0).value_or("");
    const std::size_t dot = name.find('.');
    if (!row.at(1)) return Status::IOError("CHECKSUM TABLE gave no checksum for " + name);
    out[dot == std::string::npos ? name : name.substr(dot + 1)] = *row.at(1);
  }
  return out;
}

std::string MariaDbServer::Url(const std::string& user, const std::string& password,
                               const std::string& database) const {
  return "mysql://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

}  // namespace zenfs::testing
