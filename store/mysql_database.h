// A ZenML zen store kept in MySQL or MariaDB (what a ZenML server deployment uses) as a
// sql::Database, through MariaDB Connector/C (which speaks to MySQL 8 too). Read-only: every
// read runs in `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`; a SELECT-only
// account is enough.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sql.h"

struct st_mysql;  // MYSQL of <mysql.h>

namespace zenfs {

// Where and how to connect. The password is kept here only; Describe and every message
// leave it out.
struct MysqlConfig {
  std::string host = "127.0.0.1";
  unsigned port = 3306;
  std::string user;
  std::string password;
  std::string database;
  // TLS (SPEC §1): files of a CA bundle, a client certificate and its key; the server's
  // certificate is checked against the CA (and its name) when verify_server_cert is set.
  std::string ssl_ca, ssl_cert, ssl_key;
  bool verify_server_cert = false;
  // Bounds on a dead or stalled server: connecting, and waiting for a reply.
  unsigned connect_timeout_s = 5;
  unsigned read_timeout_s = 10;

  // mysql://USER@HOST:PORT/DATABASE, never the password.
  std::string Redacted() const;
};

// Parses `mysql://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE][?opt=v&...]` (HOST may be a
// bracketed IPv6 address, [::1]; user and password percent-decoded; options ssl_ca, ssl_cert, ssl_key, ssl_verify_server_cert=true|false,
// connect_timeout, read_timeout in seconds). Also takes `mysql+pymysql://` and
// `mariadb://`, as ZenML's config files spell it. InvalidArgument naming what is wrong
// (without the password).
Result<MysqlConfig> ParseMysqlUrl(const std::string& url);

// A Connector/C connection (MYSQL*; the caller mysql_close()s it), made as every zenfs
// connection is: utf8mb4, the config's timeouts (`io_timeout_s` for reads and writes) and
// TLS files, logins that never send the password as it is, TLS files meaning TLS or no
// connection, `init` run as the session starts. Errors name the store without its password:
// PermissionDenied (login refused), NotFound (no such database), IOError.
Result<st_mysql*> ConnectMysql(const MysqlConfig& config, unsigned io_timeout_s,
                               const std::vector<std::string>& init);

class MysqlDatabase final : public sql::Database {
 public:
  // What the database says about the server going away and coming back: called once when
  // a connection first fails after working, and once when one works again.
  using Notify = std::function<void(bool up, const std::string& message)>;

  // Connects once to check the server, the credentials and the TLS files: Unsupported /
  // NotFound / PermissionDenied style errors with one clear line.
  static Result<std::unique_ptr<MysqlDatabase>> Open(MysqlConfig config, Notify notify = {});
  ~MysqlDatabase() override;

  Result<sql::Lease> Acquire() override;
  void Release(sql::Lease lease, bool broken) override;
  Result<Columns> ReadColumns() override;
  Result<std::int64_t> ChangeCounter() override;
  std::string RowKey() const override { return "id"; }
  bool CheapCount() const override { return false; }
  // The row key is `id` (text, random): InnoDB returns rows in primary-key order, so new rows
  // land anywhere. LoadChanges is not offered (every refresh is a full read).
  bool GrowingRowKey() const override { return false; }
  std::string Describe() const override { return config_.Redacted(); }

  // Connects (for the connections and for Open). Public for the connections' reconnect.
  Result<std::unique_ptr<sql::Connection>> Connect();
  // Records that a connection worked (`ok`) or found the server gone, for Notify.
  void Saw(bool ok, const std::string& error);

 private:
  MysqlDatabase(MysqlConfig config, Notify notify) : config_(std::move(config)), notify_(std::move(notify)) {}

  const MysqlConfig config_;
  const Notify notify_;
  std::mutex mu_;
  std::vector<std::unique_ptr<sql::Connection>> pool_;  // guarded by mu_
  bool down_ = false;                                   // guarded by mu_
  std::int64_t reconnects_ = 0;                         // guarded by mu_
  // ChangeCounter's state, guarded by mu_: the server's position at the last check, when
  // it last moved, whether the check after that has counted once more, what it reports.
  std::int64_t last_position_ = -1;
  std::chrono::steady_clock::time_point moved_at_;
  bool settled_ = true;
  std::int64_t generation_ = 0;
  std::mutex notify_mu_;             // orders Saw's state changes and their log lines
};

}  // namespace zenfs
