// A ZenML store in MySQL/MariaDB, mounted (issue 13): through the binary's private server
// (tests/mariadb_server.h) and the genuine 0.74 MariaDB dump.
#include <sys/stat.h>
#include <unistd.h>

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
}

}  // namespace
}  // namespace zenfs::testing
