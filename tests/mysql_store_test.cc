// A ZenML store in MySQL/MariaDB, mounted (issue 13): through the binary's private server
// (tests/mariadb_server.h) and the genuine 0.74 MariaDB dump.
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/mariadb_server.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

using nlohmann::json;

bool SampleRequired() {
  const char* v = std::getenv("ZENFS_REQUIRE_SAMPLE");
  return v != nullptr && std::string(v) == "1";
}

// The genuine dump loaded into its own database of the shared server, with a reader.
class MysqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env = std::getenv("ZENFS_ZENML_MYSQL_SAMPLE");
    if (env == nullptr || *env == '\0') {
      if (SampleRequired()) FAIL() << "ZENFS_REQUIRE_SAMPLE=1 but ZENFS_ZENML_MYSQL_SAMPLE is not set";
      GTEST_SKIP() << "ZENFS_ZENML_MYSQL_SAMPLE is not set";
    }
    sample_ = env;
    std::string why;
    server_ = MariaDbEnvironment::Shared(&why);
    ASSERT_NE(server_, nullptr) << why;
    static int serial = 0;
    db_ = "store_test_" + std::to_string(++serial);
    const Status s = server_->LoadDump(db_, sample_ + "/zenml.sql");
    ASSERT_TRUE(s.ok()) << s.ToString();
    const Status r = server_->CreateReader("reader_" + db_, "pw-" + db_, db_);
    ASSERT_TRUE(r.ok()) << r.ToString();
    url_ = server_->Url("reader_" + db_, "pw-" + db_, db_);
    root_arg_ = "/home/ml/.config/zenml/local_stores=" + sample_ + "/local_stores";
  }

  std::string sample_, db_, url_, root_arg_;
  MariaDbServer* server_ = nullptr;
};

TEST_F(MysqlStoreTest, RefusedLoginsAndUnknownDatabasesAreStoreErrors) {
  const std::string good = url_;
  CommandResult wrong = RunZenfs({"ls", server_->Url("reader_" + db_, "not-the-password", db_)});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("login refused"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("not-the-password"), std::string::npos) << "the password was printed: " << wrong.err;
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1) << "one line: " << wrong.err;
  CommandResult unknown = RunZenfs({"ls", server_->Url("root", "", "no_such_database")});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no_such_database"), std::string::npos) << unknown.err;
  CommandResult tls = RunZenfs({"ls", good + "?ssl_ca=/nonexistent/ca.pem"});
  EXPECT_EQ(tls.exit_code, 2);
  EXPECT_NE(tls.err.find("ssl_ca=/nonexistent/ca.pem: not a readable file"), std::string::npos) << tls.err;
  CommandResult half = RunZenfs({"ls", good + "?ssl_cert=" + sample_ + "/README.md"});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.err.find("ssl_cert and ssl_key go together"), std::string::npos) << half.err;
  // A project that is not there: the line names the store (a MySQL store has no file path).
  CommandResult project = RunZenfs({"ls", good, "--project", "nope"});
  EXPECT_EQ(project.exit_code, 2);
  EXPECT_NE(project.err.find("mysql://reader_" + db_ + "@127.0.0.1:"), std::string::npos) << project.err;
  EXPECT_EQ(project.err.find(": : "), std::string::npos) << project.err;
}

// Polls `check` every 100 ms until it holds or `seconds` pass (CI: a loaded 2-core machine).
template <typename F>
bool Eventually(F check, double seconds = 30) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return check();
}

bool Listed(const std::string& dir, const std::string& name) {
  auto l = ListDir(dir);
  return l && std::find(l->begin(), l->end(), name) != l->end();
}

// A copy of demo_pipeline's first run and its steps under new ids, as ZenML would write a
// new run (rows of the same shape), in one statement batch of the writer's.
std::string InsertRunCopy(const std::string& run_name, const std::string& suffix) {
  return "CREATE TEMPORARY TABLE r AS SELECT * FROM pipeline_run WHERE name LIKE 'demo_pipeline-%' "
         "ORDER BY start_time LIMIT 1;"
         "CREATE TEMPORARY TABLE s AS SELECT * FROM step_run WHERE pipeline_run_id = (SELECT id FROM r);"
         "UPDATE r SET id = CONCAT(LEFT(id, 24), '" + suffix + "'), name = '" + run_name +
         "', orchestrator_run_id = '" + run_name + "', start_time = '2030-01-01 00:00:00', "
         "created = '2030-01-01 00:00:00';"
         "UPDATE s SET id = CONCAT(LEFT(id, 24), '" + suffix + "'), pipeline_run_id = (SELECT id FROM r), "
         "original_step_run_id = NULL;"
         "INSERT INTO pipeline_run SELECT * FROM r; INSERT INTO step_run SELECT * FROM s;"
         "DROP TEMPORARY TABLE r; DROP TEMPORARY TABLE s;";
}

TEST_F(MysqlStoreTest, RunsWrittenWhileMountedAppearAndDeletedOnesDisappear) {
  ZENFS_SKIP_WITHOUT_FUSE();
  TempDir dir(MountTestRoot());
  Mount m({url_, dir.path(), {"--artifact-root", root_arg_, "--refresh", "0.5"}});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string runs = m.path() + "/demo_pipeline/runs";
  ASSERT_TRUE(ListDir(runs));
  ASSERT_TRUE(server_->Execute("USE " + QuoteIdentifier(db_) + ";" + InsertRunCopy("live-run", "aaaaaaaa")).ok());
  ASSERT_TRUE(Eventually([&] { return Listed(runs, "live-run"); })) << "a new run within the refresh bound";
  EXPECT_EQ(ReadLink(runs + "/latest").value_or(""), "live-run");
  auto steps = ListDir(runs + "/live-run/steps");
  ASSERT_TRUE(steps);
  EXPECT_EQ(steps->size(), 3u);
  const json meta = ReadJson(runs + "/live-run/meta.json");
  ASSERT_FALSE(meta.is_discarded());
  EXPECT_EQ(meta.at("start_time"), "2030-01-01T00:00:00.000000Z");
  ASSERT_TRUE(server_->Execute("USE " + QuoteIdentifier(db_) +
                               "; DELETE FROM step_run WHERE pipeline_run_id IN (SELECT id FROM pipeline_run "
                               "WHERE name = 'live-run'); DELETE FROM pipeline_run WHERE name = 'live-run';")
                  .ok());
  EXPECT_TRUE(Eventually([&] { return !Listed(runs, "live-run"); })) << "a deleted run goes";
  EXPECT_NE(ReadLink(runs + "/latest").value_or("live-run"), "live-run");
}

// A server of its own, stopped during a mount and started again where it was.
TEST_F(MysqlStoreTest, AServerThatGoesAwayAndComesBack) {
  ZENFS_SKIP_WITHOUT_FUSE();
  TempDir base(MountTestRoot());
  std::string error;
  auto own = MariaDbServer::Start(base.path() + "/db", &error);
  ASSERT_NE(own, nullptr) << error;
  ASSERT_TRUE(own->LoadDump("zs", sample_ + "/zenml.sql").ok());
  ASSERT_TRUE(own->CreateReader("r", "pw", "zs").ok());
  const int port = own->port();
  const std::string url = own->Url("r", "pw", "zs") + "?connect_timeout=2&read_timeout=3";
  ASSERT_EQ(mkdir((base.path() + "/mnt").c_str(), 0755), 0);
  Mount m({url, base.path() + "/mnt", {"--artifact-root", root_arg_, "--refresh", "0.5"}});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string runs = m.path() + "/demo_pipeline/runs";
  auto listed = ListDir(runs);
  ASSERT_TRUE(listed);
  const std::string first = (*listed)[0] == "latest" ? (*listed)[1] : (*listed)[0];
  const auto seen_meta = ReadAll(runs + "/" + first + "/meta.json");
  ASSERT_TRUE(seen_meta);
  const auto artifact = ReadAll(runs + "/" + first + "/steps/load/outputs/answer/data.json");
  ASSERT_TRUE(artifact);

  own.reset();  // SIGTERM, waited for
  // The last picture is still served: listings, documents already made, artifact bytes.
  EXPECT_EQ(ListDir(runs), listed);
  EXPECT_EQ(ReadAll(runs + "/" + first + "/meta.json"), seen_meta);
  EXPECT_EQ(ReadAll(runs + "/" + first + "/steps/load/outputs/answer/data.json"), artifact);
  // A document never made needs the server: EIO, within the configured bound (2 s to
  // connect, 3 s to read) and generous slack; never a hang.
  const auto started = std::chrono::steady_clock::now();
  errno = 0;
  const auto fresh = ReadAll(runs + "/" + first + "/steps/load/meta.json");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_FALSE(fresh) << "read a document with the server down";
  EXPECT_EQ(errno, EIO);
  EXPECT_LT(took, 30.0);

  own = MariaDbServer::Start(base.path() + "/db", &error, port);
  ASSERT_NE(own, nullptr) << error;
  // Reconnected without a remount: the document is made now.
  EXPECT_TRUE(Eventually([&] { return ReadAll(runs + "/" + first + "/steps/load/meta.json").has_value(); }));
  // The log said once that it went away and once that it came back.
  EXPECT_TRUE(m.Unmount());
  const std::string log = m.DaemonLog();
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("the server went away"), 1u) << log;
  EXPECT_EQ(count("the server answers again"), 1u) << log;
  EXPECT_EQ(log.find("pw@"), std::string::npos) << "the password reached the log: " << log;
}

TEST_F(MysqlStoreTest, ThePasswordStaysOffTheCommandLine) {
  ZENFS_SKIP_WITHOUT_FUSE();
  TempDir dir(MountTestRoot());
  const std::string secret = "pw-" + db_;
  // In the URL: the daemon's /proc/PID/cmdline no longer shows it.
  Mount m({url_, dir.path(), {"--artifact-root", root_arg_}});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string cmdline = ReadFile("/proc/" + std::to_string(m.pid()) + "/cmdline");
  EXPECT_FALSE(cmdline.empty());
  EXPECT_EQ(cmdline.find(secret), std::string::npos) << "cmdline shows the password";
  EXPECT_NE(cmdline.find("mysql://reader_" + db_ + ":"), std::string::npos) << cmdline;
  const json root = ReadJson(m.path() + "/meta.json");
  ASSERT_FALSE(root.is_discarded());
  EXPECT_EQ(root.at("store").at("path").get<std::string>().find(secret), std::string::npos);
  EXPECT_TRUE(m.Unmount());
  // --password-file: a URL without one.
  const std::string file = dir.path() + "/../pw-" + db_;
  WriteFile(file, secret + "\n");
  std::string bare = url_;
  bare.erase(bare.find(':', 8), secret.size() + 1);
  CommandResult r = RunZenfs({"ls", bare, "--password-file", file, "--artifact-root", root_arg_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("demo_pipeline/runs/latest"), std::string::npos);
  unlink(file.c_str());
}

// TLS files given mean TLS: a server (or a man in the middle) that offers none is refused,
// not talked to in the clear. The test server has no TLS.
TEST_F(MysqlStoreTest, TlsFilesGivenMeanTlsOrNoConnection) {
  CommandResult r = RunZenfs({"ls", url_ + "?ssl_ca=" + sample_ + "/README.md", "--artifact-root", root_arg_});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("SSL"), std::string::npos) << r.err;
}

// A relative ssl_ca in the URL is the caller's folder's, also for a daemon (which leaves
// that folder before it connects). Any readable file passes the check this is about; the
// test server has no TLS, so what follows the check is not asserted.
TEST_F(MysqlStoreTest, RelativeTlsFilesAreTheCallersAlsoForADaemon) {
  ZENFS_SKIP_WITHOUT_FUSE();
  TempDir dir(MountTestRoot());
  ASSERT_EQ(mkdir((dir.path() + "/mnt").c_str(), 0755), 0);
  WriteFile(dir.path() + "/ca.pem", "not checked here\n");
  const std::string mnt = dir.path() + "/mnt";
  const std::string script = "cd \"$1\" && exec \"$2\" mount \"$3\" mnt --artifact-root \"$4\"";
  CommandResult r =
      RunCommand({"/bin/sh", "-c", script, "sh", dir.path(), ZenfsBinary(), url_ + "?ssl_ca=ca.pem", root_arg_});
  if (r.exit_code == 0) {
    EXPECT_EQ(RunZenfs({"umount", mnt}).exit_code, 0);
  }
  EXPECT_EQ(r.err.find("not a readable file"), std::string::npos) << r.err;
}

// A password with an unescaped '@' (ParseMysqlUrl takes the last '@' of the authority):
// all of it is scrubbed, not just what comes before its first '@'.
TEST_F(MysqlStoreTest, APasswordWithAnAtSignLeavesTheCommandLineWhole) {
  ZENFS_SKIP_WITHOUT_FUSE();
  TempDir dir(MountTestRoot());
  const std::string secret = "p@ss-" + db_;
  ASSERT_TRUE(server_->CreateReader("at_" + db_, secret, db_).ok());
  Mount m({server_->Url("at_" + db_, secret, db_), dir.path(), {"--artifact-root", root_arg_}});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string cmdline = ReadFile("/proc/" + std::to_string(m.pid()) + "/cmdline");
  EXPECT_NE(cmdline.find("mysql://at_" + db_ + ":"), std::string::npos) << cmdline;
  EXPECT_EQ(cmdline.find("ss-" + db_), std::string::npos) << "cmdline shows the password's end: " << cmdline;
  EXPECT_TRUE(Listed(m.path(), "demo_pipeline"));
  EXPECT_TRUE(m.Unmount());
}

}  // namespace
}  // namespace zenfs::testing
