// A private MariaDB server for the tests (issue 13): Debian's mariadbd as this process's
// own child, on 127.0.0.1 and a free port, with its own data directory; and a thin
// Connector/C connection to talk to it. Nothing here touches a system MariaDB service,
// /var/lib/mysql or /etc/mysql: every program runs with --no-defaults.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/status.h"
#include "tests/server_environment.h"

struct st_mysql;  // MYSQL of <mysql.h>, kept out of the tests' includes

namespace zenfs::testing {

// Where and as whom to connect. The password is never printed by this harness.
struct MariaDbLogin {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user;
  std::string password;
  std::string database;  // "" for none
};

// One Connector/C connection over TCP, closed on destruction. Reads no option file (no
// ~/.my.cnf, no /etc/mysql). Use from one thread at a time.
class MariaDbConnection {
 public:
  // One row of a result, NULL as nullopt.
  using Row = std::vector<std::optional<std::string>>;

  // Connects with generous connect/read/write timeouts (a loaded CI machine), so a stuck
  // server fails a test instead of hanging it. multi_statements: one Execute may hold
  // several statements separated by ';' (CLIENT_MULTI_STATEMENTS). On failure returns
  // null with *status naming the server's message and code, and the code (e.g. 1045,
  // ER_ACCESS_DENIED_ERROR) in *error_code when given.
  static std::unique_ptr<MariaDbConnection> Open(const MariaDbLogin& login, bool multi_statements,
                                                 Status* status, unsigned* error_code = nullptr);
  ~MariaDbConnection();
  MariaDbConnection(const MariaDbConnection&) = delete;
  MariaDbConnection& operator=(const MariaDbConnection&) = delete;

  // Runs `sql` (several statements with multi_statements) and reads every result.
  // The first statement that fails stops it; its code is then error_code().
  Status Execute(const std::string& sql);
  // Runs one statement and returns the rows of its result (none for a statement without
  // one).
  Result<std::vector<Row>> Query(const std::string& sql);
  // The code of the last failure (0 after a success): mysqld_error.h's ER_* numbers.
  unsigned error_code() const { return error_code_; }

 private:
  explicit MariaDbConnection(st_mysql* mysql) : mysql_(mysql) {}
  Status Failure(const std::string& what);
  st_mysql* mysql_;
  unsigned error_code_ = 0;
};

// `name` quoted as an SQL identifier (`a``b`), for names the tests make up.
std::string QuoteIdentifier(const std::string& name);
// `text` as an SQL string literal ('it''s'), for user names and passwords.
std::string QuoteString(const std::string& text);

// A private mariadbd, started by Start and stopped by the destructor (SIGTERM, a
// generous wait, then SIGKILL), also when a test fails. The child gets
// PR_SET_PDEATHSIG(SIGKILL), so a crashed test process does not leave it running (the
// signal follows the *thread* that started it: start it from the main thread, as a gtest
// Environment does). The destructor removes no file: the data directory and the server's
// log (log_path()) stay for whoever owns base_dir. Not thread-safe: one thread drives it
// (each call opens its own connection, so separate MariaDbConnections may run in
// parallel).
class MariaDbServer {
 public:
  // Creates base_dir (if missing) and in it data/ (mariadb-install-db), tmp/, the pid
  // file, the socket and mariadbd.log; starts mariadbd bound to 127.0.0.1 on a port that
  // was free, and waits (up to 90 s) until root can connect. root has no password and
  // exists only in this server. Null with *error on failure (with the log's tail).
  // `port_wanted` (not 0): that port, one attempt; with a base_dir a server used before,
  // its data: a server restarted where its clients look for it.
  static std::unique_ptr<MariaDbServer> Start(const std::string& base_dir, std::string* error,
                                              int port_wanted = 0);
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  int port() const { return port_; }
  const std::string& base_dir() const { return base_dir_; }
  // The server's error log (start-up, crashes, shutdown).
  std::string log_path() const { return base_dir_ + "/mariadbd.log"; }
  // root's login to this server, for MariaDbConnection::Open.
  MariaDbLogin RootLogin(const std::string& database = "") const;

  // Runs `sql` as root; several statements separated by ';' are allowed.
  Status Execute(const std::string& sql);
  // Creates `database` (CHARACTER SET utf8mb4) and loads a mysqldump/mariadb-dump file
  // into it, through the C API as one multi-statement query (so a dump with DELIMITER
  // lines, i.e. stored routines or triggers, is refused: ZenML's dumps have none).
  Status LoadDump(const std::string& database, const std::string& path);
  // Creates the account user@'%' identified by `password`, granted SELECT on database.*
  // and nothing else: what an admin hands to a read-only tool. The server listens on
  // loopback only, so '%' means this machine.
  Status CreateReader(const std::string& user, const std::string& password,
                      const std::string& database);
  // CHECKSUM TABLE of every base table in `database`, by table name. Tests compare the
  // map before and after to prove a store was never written.
  Result<std::map<std::string, std::string>> Checksums(const std::string& database);
  // "mysql://user:password@127.0.0.1:PORT/database" (user and password as given; the
  // tests pick plain ones that need no percent-encoding).
  std::string Url(const std::string& user, const std::string& password,
                  const std::string& database) const;

 private:
  MariaDbServer(std::string base_dir, pid_t pid, int port, std::string socket_dir)
      : base_dir_(std::move(base_dir)), pid_(pid), port_(port), socket_dir_(std::move(socket_dir)) {}
  std::string base_dir_;
  pid_t pid_;
  int port_;
  std::string socket_dir_;  // a short directory under /tmp when base_dir is too long, else ""
};

// One MariaDbServer for a whole test binary (tests/server_environment.h).
class MariaDbEnvironment : public ServerEnvironment<MariaDbServer> {
 public:
  explicit MariaDbEnvironment(std::string root_dir)
      : ServerEnvironment(std::move(root_dir), "mariadb", "a private MariaDB server") {}
};

}  // namespace zenfs::testing
