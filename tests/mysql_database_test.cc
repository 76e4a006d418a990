// MysqlDatabase itself (store/mysql_database.h) against the binary's private server: what
// one read transaction sees while a writer works.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "store/mysql_database.h"
#include "store/sql_catalog.h"
#include "tests/mariadb_server.h"

namespace zenfs::testing {
namespace {

// COUNT(*) of `table` through `c`, or -1 on failure.
std::int64_t CountThrough(sql::Connection& c, const std::string& table) {
  auto rows = c.Query("SELECT COUNT(*) FROM \"" + table + "\"");
  if (!rows.ok()) return -1;
  Status s;
  std::int64_t n = -1;
  while ((*rows)->Step(&s)) n = (*rows)->Int(0);
  return s.ok() ? n : -1;
}

// A server whose default isolation level is READ COMMITTED (a common setting for
// replication) ignores WITH CONSISTENT SNAPSHOT: each statement would see the commits
// made since the one before, and the structure read in one transaction (runs, then their
// steps) would not be one picture. The reader's connections ask for REPEATABLE READ.
TEST(MysqlDatabaseTest, OneTransactionIsOnePictureWhateverTheServersIsolationLevel) {
  std::string why;
  MariaDbServer* server = MariaDbEnvironment::Shared(&why);
  ASSERT_NE(server, nullptr) << why;
  ASSERT_TRUE(server->Execute("CREATE DATABASE iso_test; CREATE TABLE iso_test.t (id INT PRIMARY KEY);"
                              "INSERT INTO iso_test.t VALUES (1)")
                  .ok());
  ASSERT_TRUE(server->CreateReader("iso_reader", "iso-pw", "iso_test").ok());
  ASSERT_TRUE(server->Execute("SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED").ok());
  struct Restore {
    MariaDbServer* server;
    ~Restore() { (void)server->Execute("SET GLOBAL TRANSACTION ISOLATION LEVEL REPEATABLE READ"); }
  } restore{server};

  auto config = ParseMysqlUrl(server->Url("iso_reader", "iso-pw", "iso_test"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto db = MysqlDatabase::Open(*config);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto lease = (*db)->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  sql::Connection& c = *lease->connection;
  ASSERT_TRUE(c.Begin().ok());
  EXPECT_EQ(CountThrough(c, "t"), 1);
  ASSERT_TRUE(server->Execute("INSERT INTO iso_test.t VALUES (2)").ok());
  EXPECT_EQ(CountThrough(c, "t"), 1) << "a read transaction saw a row committed after it began";
  EXPECT_TRUE(c.End().ok());
  EXPECT_EQ(CountThrough(c, "t"), 2);
  (*db)->Release(std::move(*lease), false);
}

// The change signal: it moves when something is committed, once more at the first check
// a while after (InnoDB logs a commit a moment before new reads see it), and never on
// reads.
TEST(MysqlDatabaseTest, TheChangeCounterMovesOnWritesNotOnReads) {
  std::string why;
  MariaDbServer* server = MariaDbEnvironment::Shared(&why);
  ASSERT_NE(server, nullptr) << why;
  ASSERT_TRUE(server->Execute("CREATE DATABASE cc_test; CREATE TABLE cc_test.t (id INT PRIMARY KEY);"
                              "INSERT INTO cc_test.t VALUES (1)")
                  .ok());
  ASSERT_TRUE(server->CreateReader("cc_reader", "cc-pw", "cc_test").ok());
  auto config = ParseMysqlUrl(server->Url("cc_reader", "cc-pw", "cc_test"));
  ASSERT_TRUE(config.ok());
  auto db = MysqlDatabase::Open(*config);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto counter = [&] {
    auto c = (*db)->ChangeCounter();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : -1;
  };
  auto settled = [&] {
    (void)counter();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return counter();
  };
  const std::int64_t rest = settled();
  for (int i = 0; i < 3; ++i) {
    auto lease = (*db)->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE(lease->connection->Begin().ok());
    EXPECT_EQ(CountThrough(*lease->connection, "t"), 1);
    EXPECT_TRUE(lease->connection->End().ok());
    (*db)->Release(std::move(*lease), false);
  }
  EXPECT_EQ(counter(), rest) << "reads moved the change counter";
  ASSERT_TRUE(server->Execute("INSERT INTO cc_test.t VALUES (2)").ok());
  const std::int64_t after_write = counter();
  EXPECT_NE(after_write, rest) << "a committed write did not move it";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::int64_t once_more = counter();
  EXPECT_NE(once_more, after_write) << "no second move after the write settled";
  EXPECT_EQ(counter(), once_more) << "it kept moving with nothing written";
}

// A transaction whose connection the server dropped is over: COMMIT says so, rather than
// connecting again (a connect timeout more on a stalled server) to commit nothing.
TEST(MysqlDatabaseTest, CommitOnALostConnectionFailsWithoutReconnecting) {
  std::string why;
  MariaDbServer* server = MariaDbEnvironment::Shared(&why);
  ASSERT_NE(server, nullptr) << why;
  ASSERT_TRUE(server->Execute("CREATE DATABASE lost_test; CREATE TABLE lost_test.t (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(server->CreateReader("lost_reader", "lost-pw", "lost_test").ok());
  auto config = ParseMysqlUrl(server->Url("lost_reader", "lost-pw", "lost_test"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  int went_away = 0;
  auto db = MysqlDatabase::Open(*config, [&](bool up, const std::string&) { went_away += up ? 0 : 1; });
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto lease = (*db)->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  sql::Connection& c = *lease->connection;
  ASSERT_TRUE(c.Begin().ok());
  auto rows = c.Query("SELECT CONNECTION_ID()");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  Status s;
  ASSERT_TRUE((*rows)->Step(&s));
  const std::string id = (*rows)->Text(0);
  while ((*rows)->Step(&s)) {
  }
  rows->reset();
  ASSERT_TRUE(server->Execute("KILL CONNECTION " + id).ok());
  EXPECT_FALSE(c.End().ok()) << "COMMIT of a transaction whose connection is gone succeeded";
  EXPECT_EQ(went_away, 1);
  (*db)->Release(std::move(*lease), true);
}

// A server (or a man in the middle of a connection without verified TLS) that answers the
// login by asking for mysql_clear_password: what the client sends next, or "" when it
// sends nothing more. Speaks just enough of the protocol's handshake for that.
class CleartextAskingServer {
 public:
  CleartextAskingServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd_, 4) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CleartextAskingServer() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  // Waits for the one login to end.
  std::string Received() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  static void Send(int c, unsigned char seq, const std::string& payload) {
    std::string p;
    p += static_cast<char>(payload.size() & 0xff);
    p += static_cast<char>((payload.size() >> 8) & 0xff);
    p += static_cast<char>((payload.size() >> 16) & 0xff);
    p += static_cast<char>(seq);
    p += payload;
    (void)!write(c, p.data(), p.size());
  }
  // One packet's payload and sequence number; false when the client sent none.
  static bool Receive(int c, std::string* payload, unsigned char* seq) {
    unsigned char h[4];
    std::size_t got = 0;
    while (got < sizeof h) {
      const ssize_t n = read(c, h + got, sizeof h - got);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    const std::size_t len = h[0] | h[1] << 8 | h[2] << 16;
    *seq = h[3];
    payload->assign(len, '\0');
    for (got = 0; got < len;) {
      const ssize_t n = read(c, payload->data() + got, len - got);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }
  void Serve() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 60000) != 1) return;
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    timeval tv{30, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // Protocol 10 greeting: LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41, SECURE_CONNECTION,
    // PLUGIN_AUTH, PLUGIN_AUTH_LENENC_CLIENT_DATA; no SSL.
    const unsigned caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000 | 0x200000;
    std::string g("\x0a" "5.5.5-10.11.0-test", 19);
    g += std::string("\0\x07\0\0\0" "abcdefgh" "\0", 14);
    g += static_cast<char>(caps & 0xff);
    g += static_cast<char>((caps >> 8) & 0xff);
    g += std::string("\x2d\x02\0", 3);  // charset, status
    g += static_cast<char>((caps >> 16) & 0xff);
    g += static_cast<char>((caps >> 24) & 0xff);
    g += '\x15';
    g += std::string(10, '\0');
    g += std::string("ijklmnopqrst\0mysql_native_password\0", 35);
    Send(c, 0, g);
    std::string response;
    unsigned char seq = 0;
    if (Receive(c, &response, &seq)) {
      Send(c, static_cast<unsigned char>(seq + 1), std::string("\xfe" "mysql_clear_password\0", 22));
      if (Receive(c, &response, &seq)) received_ = response;
    }
    close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string received_;
};

TEST(MysqlDatabaseTest, APasswordIsNeverSentInClearText) {
  CleartextAskingServer server;
  ASSERT_NE(server.port(), 0);
  auto config = ParseMysqlUrl("mysql://reader:TopSecret@127.0.0.1:" + std::to_string(server.port()) +
                              "/zenml?connect_timeout=5&read_timeout=5");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto db = MysqlDatabase::Open(*config);
  EXPECT_FALSE(db.ok());
  EXPECT_EQ(server.Received().find("TopSecret"), std::string::npos) << "the password went out in clear text";
}

// A real MySQL connection whose first long value read finds it killed by the server (as
// a server that goes away mid-render does), and the database that hands such out.
class KilledAtFirstValue final : public sql::Connection {
 public:
  explicit KilledAtFirstValue(std::unique_ptr<sql::Connection> inner) : inner_(std::move(inner)) {}
  Result<std::unique_ptr<sql::Rows>> Query(const std::string& sql,
                                           std::initializer_list<std::string_view> params) override {
    return inner_->Query(sql, params);
  }
  Status Begin() override { return inner_->Begin(); }
  Status End() override { return inner_->End(); }
  std::optional<std::string> Capped(const std::string& table, const std::string& col,
                                    std::string_view row_key) override {
    if (!killed_) {
      killed_ = true;
      auto rows = inner_->Query("KILL CONNECTION CONNECTION_ID()");
      if (rows.ok()) {
        Status s;
        while ((*rows)->Step(&s)) {
        }
      }
    }
    return inner_->Capped(table, col, row_key);
  }

 private:
  std::unique_ptr<sql::Connection> inner_;
  bool killed_ = false;
};

class KillingDatabase final : public sql::Database {
 public:
  explicit KillingDatabase(std::unique_ptr<MysqlDatabase> inner) : inner_(std::move(inner)) {}
  Result<sql::Lease> Acquire() override {
    auto lease = inner_->Acquire();
    if (!lease.ok()) return lease.status();
    lease->connection = std::make_unique<KilledAtFirstValue>(std::move(lease->connection));
    return lease;
  }
  void Release(sql::Lease, bool) override {}  // never pooled: each lease is killed once
  Result<Columns> ReadColumns() override { return inner_->ReadColumns(); }
  Result<std::int64_t> ChangeCounter() override { return inner_->ChangeCounter(); }
  std::string RowKey() const override { return inner_->RowKey(); }
  bool CheapCount() const override { return inner_->CheapCount(); }
  bool GrowingRowKey() const override { return inner_->GrowingRowKey(); }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::unique_ptr<MysqlDatabase> inner_;
};

// A detail whose long values could not be read is an error (EIO for its meta.json), never
// a document with those values missing: the tree would keep it until the store changes.
TEST(MysqlDatabaseTest, ADetailWhoseValuesCouldNotBeReadIsAnError) {
  const char* sample = std::getenv("ZENFS_ZENML_MYSQL_SAMPLE");
  if (sample == nullptr || *sample == '\0') GTEST_SKIP() << "ZENFS_ZENML_MYSQL_SAMPLE is not set";
  std::string why;
  MariaDbServer* server = MariaDbEnvironment::Shared(&why);
  ASSERT_NE(server, nullptr) << why;
  ASSERT_TRUE(server->LoadDump("killed_test", std::string(sample) + "/zenml.sql").ok());
  ASSERT_TRUE(server->CreateReader("killed_reader", "killed-pw", "killed_test").ok());
  auto config = ParseMysqlUrl(server->Url("killed_reader", "killed-pw", "killed_test"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  // An artifact version of the sample with metadata (storage size and the like).
  const std::string version = "1f1e701cfe904de78e272091864e8dd8";
  {
    auto db = MysqlDatabase::Open(*config);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto catalog = SqlCatalog::Open(std::move(*db));
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    ArtifactDetail d;
    ASSERT_TRUE((*catalog)->GetArtifactDetail(version, &d).ok());
    ASSERT_FALSE(d.metadata.empty());
  }
  auto db = MysqlDatabase::Open(*config);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto catalog = SqlCatalog::Open(std::make_unique<KillingDatabase>(std::move(*db)));
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ArtifactDetail d;
  const Status s = (*catalog)->GetArtifactDetail(version, &d);
  EXPECT_FALSE(s.ok()) << "the connection died before the metadata values were read, yet the detail came "
                          "back whole; its first value: \"" << (d.metadata.empty() ? "" : d.metadata[0].value) << "\"";
  // The metadata alone (a run's meta.json reads each step's so).
  std::vector<MetadataRow> rows;
  const Status m = (*catalog)->GetMetadata("artifact_version", version, &rows);
  EXPECT_FALSE(m.ok()) << "metadata came back whole from a connection killed before its values were read";
}

}  // namespace
}  // namespace zenfs::testing
