// MysqlDatabase itself (store/mysql_database.h) against the binary's private server: what
// one read transaction sees while a writer works.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/mysql_database.h"
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

}  // namespace
}  // namespace zenfs::testing
