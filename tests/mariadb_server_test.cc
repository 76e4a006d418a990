// The private MariaDB server of the MySQL tests (tests/mariadb_server.h): the genuine
// ZenML 0.74 MariaDB dump (ZENFS_ZENML_MYSQL_SAMPLE, the sample folder holding zenml.sql)
// loads, a SELECT-only reader sees it and cannot change it, the checksums would notice if
// anything did, and refused logins and bad dumps fail with clear errors.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "tests/mariadb_server.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

bool SampleRequired() {
  const char* v = std::getenv("ZENFS_REQUIRE_SAMPLE");
  return v != nullptr && std::string(v) == "1";
}

// The shared server, or null and a test failure (a missing server is never a skip:
// scripts/deps.sh installs mariadb-server wherever the tests build).
MariaDbServer* SharedServer() {
  std::string why;
  MariaDbServer* server = MariaDbEnvironment::Shared(&why);
  if (server == nullptr) ADD_FAILURE() << why;
  return server;
}

// The count in the first column of the first row of `sql`, or -1 with a test failure.
long CountOf(MariaDbConnection& conn, const std::string& sql) {
  auto rows = conn.Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok() || rows->empty() || !rows->front().at(0)) return -1;
  return std::stol(*rows->front().at(0));
}

TEST(MariaDbServerTest, GenuineDumpLoadsForASelectOnlyReaderAndStaysUnwritten) {
  const char* sample = std::getenv("ZENFS_ZENML_MYSQL_SAMPLE");
  if (sample == nullptr || *sample == '\0') {
    if (SampleRequired()) FAIL() << "ZENFS_REQUIRE_SAMPLE=1 but ZENFS_ZENML_MYSQL_SAMPLE is not set";
    GTEST_SKIP() << "ZENFS_ZENML_MYSQL_SAMPLE (the folder of the genuine ZenML MariaDB dump, "
                    "zenml.sql) is not set; set ZENFS_REQUIRE_SAMPLE=1 to make this a failure";
  }
  MariaDbServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  const std::string db = "zenml_sample";
  const auto started = std::chrono::steady_clock::now();
  const Status loaded = server->LoadDump(db, std::string(sample) + "/zenml.sql");
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  std::cerr << "zenml.sql loaded in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s\n";
  const Status reader_made = server->CreateReader("zenfs_reader", "reader-pw", db);
  ASSERT_TRUE(reader_made.ok()) << reader_made.ToString();
  const auto before = server->Checksums(db);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->size(), 41u);

  MariaDbLogin login = server->RootLogin(db);
  login.user = "zenfs_reader";
  login.password = "reader-pw";
  Status status;
  const auto reader = MariaDbConnection::Open(login, false, &status);
  ASSERT_NE(reader, nullptr) << status.ToString();
  EXPECT_EQ(CountOf(*reader, "SELECT COUNT(*) FROM information_schema.tables "
                             "WHERE table_schema = 'zenml_sample' AND table_type = 'BASE TABLE'"),
            41);
  EXPECT_EQ(CountOf(*reader, "SELECT COUNT(*) FROM pipeline"), 2);
  EXPECT_EQ(CountOf(*reader, "SELECT COUNT(*) FROM pipeline_run"), 3);
  EXPECT_EQ(CountOf(*reader, "SELECT COUNT(*) FROM step_run"), 7);
  auto version = reader->Query("SELECT version_num FROM alembic_version");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  ASSERT_EQ(version->size(), 1u);
  EXPECT_EQ(version->front().at(0).value_or(""), "0.74.0");

  // Every kind of write is refused by the grant, not by chance.
  for (const std::string& sql : {
           std::string("INSERT INTO pipeline (id, created, updated, name, workspace_id) "
                       "VALUES ('00000000000000000000000000000000', NOW(), NOW(), 'x', 'y')"),
           std::string("UPDATE pipeline SET name = 'renamed'"),
           std::string("DELETE FROM step_run"),
           std::string("CREATE TABLE zenfs_scratch (i INT)"),
       }) {
    const Status write = reader->Execute(sql);
    EXPECT_FALSE(write.ok()) << sql;
    EXPECT_EQ(reader->error_code(), static_cast<unsigned>(ER_TABLEACCESS_DENIED_ERROR))
        << sql << ": " << write.ToString();
  }
  const Status dropped = reader->Execute("DROP DATABASE zenml_sample");
  EXPECT_FALSE(dropped.ok());
  EXPECT_EQ(reader->error_code(), static_cast<unsigned>(ER_DBACCESS_DENIED_ERROR)) << dropped.ToString();

  const auto after = server->Checksums(db);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*before, *after);
  const std::string url = server->Url("zenfs_reader", "reader-pw", db);
  EXPECT_EQ(url, "mysql://zenfs_reader:reader-pw@127.0.0.1:" + std::to_string(server->port()) +
                     "/zenml_sample");
}

// The before/after comparison can fail: a changed row changes its table's checksum, and
// only that one.
TEST(MariaDbServerTest, ChecksumsSeeAWrite) {
  MariaDbServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Execute("CREATE DATABASE checksum_check; "
                              "CREATE TABLE checksum_check.a (id INT PRIMARY KEY, v TEXT); "
                              "CREATE TABLE checksum_check.b (id INT PRIMARY KEY, v TEXT); "
                              "INSERT INTO checksum_check.a VALUES (1, 'one'), (2, 'two'); "
                              "INSERT INTO checksum_check.b VALUES (1, 'one')")
                  .ok());
  const auto before = server->Checksums("checksum_check");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->size(), 2u);
  ASSERT_TRUE(server->Execute("UPDATE checksum_check.a SET v = 'zwei' WHERE id = 2").ok());
  const auto after = server->Checksums("checksum_check");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_NE(before->at("a"), after->at("a"));
  EXPECT_EQ(before->at("b"), after->at("b"));
  const auto none = server->Checksums("no_such_database");
  EXPECT_FALSE(none.ok());
}

TEST(MariaDbServerTest, WrongPasswordAndUnknownDatabaseAreRefusedClearly) {
  MariaDbServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Execute("CREATE DATABASE login_check").ok());
  const Status made = server->CreateReader("login_reader", "right-pw", "login_check");
  ASSERT_TRUE(made.ok()) << made.ToString();

  MariaDbLogin login = server->RootLogin("login_check");
  login.user = "login_reader";
  login.password = "wrong-pw";
  Status status;
  unsigned code = 0;
  EXPECT_EQ(MariaDbConnection::Open(login, false, &status, &code), nullptr);
  EXPECT_EQ(code, static_cast<unsigned>(ER_ACCESS_DENIED_ERROR)) << status.ToString();
  EXPECT_NE(status.message().find("Access denied for user 'login_reader'"), std::string::npos)
      << status.ToString();
  EXPECT_EQ(status.message().find("wrong-pw"), std::string::npos) << "the password is never shown";

  login.password = "right-pw";
  EXPECT_NE(MariaDbConnection::Open(login, false, &status, &code), nullptr) << status.ToString();
  // A database the reader may not see is refused like one that does not exist (1044), so
  // an account cannot probe for names; root learns that it does not exist (1049).
  login.database = "no_such_db";
  EXPECT_EQ(MariaDbConnection::Open(login, false, &status, &code), nullptr);
  EXPECT_EQ(code, static_cast<unsigned>(ER_DBACCESS_DENIED_ERROR)) << status.ToString();
  EXPECT_EQ(MariaDbConnection::Open(server->RootLogin("no_such_db"), false, &status, &code), nullptr);
  EXPECT_EQ(code, static_cast<unsigned>(ER_BAD_DB_ERROR)) << status.ToString();
}

// A dump that fails part-way names the failing statement and the server's error.
TEST(MariaDbServerTest, BadDumpFailsNamingTheStatement) {
  MariaDbServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  TempDir dir;
  const std::string path = dir.path() + "/bad.sql";
  WriteFile(path, "CREATE TABLE t (i INT);\nINSERT INTO t VALUES (1);\nINSERT INTO nope VALUES (2);\n");
  const Status status = server->LoadDump("bad_dump", path);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("statement 3"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("error 1146"), std::string::npos) << status.ToString();
  EXPECT_FALSE(server->LoadDump("missing_dump", dir.path() + "/absent.sql").ok());
  // The database already exists: a second load is refused rather than merged.
  EXPECT_FALSE(server->LoadDump("bad_dump", path).ok());
}

// A second server beside the shared one: its own port, a base folder too deep for a unix
// socket path (the socket then goes under /tmp), the destructor really stops it, and a
// killed parent takes it along (PR_SET_PDEATHSIG).
TEST(MariaDbServerTest, SecondServerRunsBesideAndStopsAlsoWhenItsParentDies) {
  MariaDbServer* shared = SharedServer();
  ASSERT_NE(shared, nullptr);
  TempDir dir(MountTestRoot());
  const std::string deep = dir.path() + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  std::string error;
  auto second = MariaDbServer::Start(deep, &error);
  ASSERT_NE(second, nullptr) << error;
  EXPECT_NE(second->port(), shared->port());
  ASSERT_TRUE(second->Execute("CREATE DATABASE only_here").ok());
  const auto here = second->Checksums("only_here");
  EXPECT_FALSE(here.ok());  // no tables yet, but the database is there...
  EXPECT_EQ(here.status().code(), Status::Code::kNotFound) << here.status().ToString();
  Status status;
  unsigned code = 0;
  // ...and only there.
  EXPECT_EQ(MariaDbConnection::Open(shared->RootLogin("only_here"), false, &status, &code), nullptr);
  EXPECT_EQ(code, static_cast<unsigned>(ER_BAD_DB_ERROR)) << status.ToString();
  const MariaDbLogin login = second->RootLogin();
  second.reset();
  EXPECT_EQ(MariaDbConnection::Open(login, false, &status, &code), nullptr)
      << "the server still answers after its destructor";
  // Connector/C 3.3 says 2002 for a refused TCP connection; older clients said 2003.
  EXPECT_TRUE(code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR) << status.ToString();
  EXPECT_NE(ReadFile(deep + "/mariadbd.log").find("Shutdown complete"), std::string::npos)
      << "mariadbd did not shut down cleanly";

  // The same data, moved to a short folder (so that no socket folder under /tmp outlives
  // what follows), started again (no install this time) by a child process that is then
  // killed: the server goes with it instead of outliving a crashed test.
  const std::string again = dir.path() + "/again";
  ASSERT_EQ(rename(deep.c_str(), again.c_str()), 0) << std::strerror(errno);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    close(fds[0]);
    std::string child_error;
    const auto server = MariaDbServer::Start(again, &child_error);
    const int port = server != nullptr ? server->port() : 0;
    if (write(fds[1], &port, sizeof(port)) != static_cast<ssize_t>(sizeof(port))) _exit(1);
    for (;;) pause();  // until killed
  }
  close(fds[1]);
  // Kills the child however this test ends.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      kill(pid, SIGKILL);
      WaitChild(pid, 60);
    }
  } reaper{child};
  int port = 0;
  ssize_t n;
  do {
    n = read(fds[0], &port, sizeof(port));
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof(port)));
  ASSERT_NE(port, 0) << "the child could not start mariadbd: " << ReadFile(again + "/mariadbd.log");
  MariaDbLogin orphan = login;
  orphan.port = port;
  EXPECT_NE(MariaDbConnection::Open(orphan, false, &status, &code), nullptr) << status.ToString();
  kill(child, SIGKILL);
  ASSERT_TRUE(WaitChild(child, 60).has_value());
  // Until the port refuses connections: a server being killed may still accept one and
  // drop it (2013, lost connection), which is not yet gone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const bool answered = MariaDbConnection::Open(orphan, false, &status, &code) != nullptr;
    if (!answered && (code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR)) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "mariadbd outlived its killed parent: " << status.ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace
}  // namespace zenfs::testing

// One private server for the whole binary (tests/mariadb_server.h), under the mount
// tests' root so that MySQL mount tests in this binary share it and its cleanup.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(
      new zenfs::testing::MariaDbEnvironment(zenfs::testing::MountTestRoot()));
  return RUN_ALL_TESTS();
}
