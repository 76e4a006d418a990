// The MySQL store forms of SPEC §1: URLs, config.yaml's `type: sql` store, ZenML's
// ZENML_STORE_* variables; the password never in what is shown.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/mysql_database.h"
#include "store/store_locator.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

TEST(ParseMysqlUrl, TakesEveryPart) {
  auto c = ParseMysqlUrl("mysql://zen%40ml:p%3Ass%2Fw@db.example:3307/zenml?ssl_ca=/ca.pem&ssl_cert=/c.pem"
                         "&ssl_key=/k.pem&ssl_verify_server_cert=true&connect_timeout=3&read_timeout=7");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->user, "zen@ml");
  EXPECT_EQ(c->password, "p:ss/w");
  EXPECT_EQ(c->host, "db.example");
  EXPECT_EQ(c->port, 3307u);
  EXPECT_EQ(c->database, "zenml");
  EXPECT_EQ(c->ssl_ca, "/ca.pem");
  EXPECT_EQ(c->ssl_cert, "/c.pem");
  EXPECT_EQ(c->ssl_key, "/k.pem");
  EXPECT_TRUE(c->verify_server_cert);
  EXPECT_EQ(c->connect_timeout_s, 3u);
  EXPECT_EQ(c->read_timeout_s, 7u);
  EXPECT_EQ(c->Redacted(), "mysql://zen@ml@db.example:3307/zenml");
  EXPECT_EQ(c->Redacted().find("p:ss"), std::string::npos);

  auto bare = ParseMysqlUrl("mysql://db/zenml");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 3306u);
  EXPECT_EQ(bare->user, "");
  EXPECT_FALSE(bare->verify_server_cert);
  // ZenML's own spellings.
  EXPECT_TRUE(ParseMysqlUrl("mysql+pymysql://u@h:1/d").ok());
  EXPECT_TRUE(ParseMysqlUrl("mariadb://u@h/d").ok());
}

TEST(ParseMysqlUrl, RefusesWhatIsWrongWithoutShowingThePassword) {
  for (const char* bad : {"postgres://u:secret@h/d", "mysql://u:secret@h:0/d", "mysql://u:secret@h:99999/d",
                          "mysql://u:secret@h:x/d", "mysql://u:secret@/d", "mysql://u:secret@h/d?nope=1",
                          "mysql://u:secret@h/d?ssl_verify_server_cert=maybe", "mysql://u:sec%zzret@h/d",
                          "mysql://u:secret@h/d?connect_timeout=0", "mysql://u:secret@h/d/e",
                          // An unescaped '/', '?' or '@' in a password splits the URL in the
                          // wrong place: the piece in the port, an option or the database is
                          // not quoted either.
                          "mysql://u:ab/secret@h:3306/d", "mysql://u:ab?secret@h:3306/d",
                          "mysql://u:ab@c?secret=1@h/d", "mysql://u:ab/secret@h", "mysql://u:12/secret@h",
                          "mysql://u:ab?secret=%zz@h/d"}) {
    auto c = ParseMysqlUrl(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_EQ(c.status().message().find("secret"), std::string::npos) << c.status().message();
    }
  }
}

TEST(ParseMysqlUrl, TakesBracketedIpv6Hosts) {
  auto with_port = ParseMysqlUrl("mysql://u:pw@[::1]:3307/zenml");
  ASSERT_TRUE(with_port.ok()) << with_port.status().ToString();
  EXPECT_EQ(with_port->host, "::1");
  EXPECT_EQ(with_port->port, 3307u);
  EXPECT_EQ(with_port->Redacted(), "mysql://u@[::1]:3307/zenml");
  auto bare = ParseMysqlUrl("mysql://[fe80::2]/zenml");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->host, "fe80::2");
  EXPECT_EQ(bare->port, 3306u);
  EXPECT_FALSE(ParseMysqlUrl("mysql://[::1/zenml").ok());
  EXPECT_FALSE(ParseMysqlUrl("mysql://[::1]x/zenml").ok());
  EXPECT_FALSE(ParseMysqlUrl("mysql://[]:3306/zenml").ok());
}

TEST(LocateStore, MysqlForms) {
  StoreEnv env;
  auto url = LocateStore(std::string("mysql://u:pw@h:3306/zenml"), env);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  ASSERT_TRUE(url->mysql);
  EXPECT_EQ(url->mysql->password, "pw");
  EXPECT_TRUE(url->db_path.empty());

  // config.yaml's store, its fields filling what the URL leaves out.
  testing::TempDir d;
  testing::WriteFile(d.path() + "/config.yaml",
                     "active_project_id: 0123\n"
                     "store:\n  type: sql\n  url: mysql://db.example:3307\n  database: zenml\n"
                     "  username: zen\n  password: s3cret\n  ssl_ca: /etc/ca.pem\n  ssl_verify_server_cert: true\n");
  auto cfg = LocateStore(d.path(), env);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_TRUE(cfg->mysql);
  EXPECT_EQ(cfg->mysql->host, "db.example");
  EXPECT_EQ(cfg->mysql->port, 3307u);
  EXPECT_EQ(cfg->mysql->database, "zenml");
  EXPECT_EQ(cfg->mysql->user, "zen");
  EXPECT_EQ(cfg->mysql->password, "s3cret");
  EXPECT_EQ(cfg->mysql->ssl_ca, "/etc/ca.pem");
  EXPECT_TRUE(cfg->mysql->verify_server_cert);
  EXPECT_EQ(cfg->active_project_id, "0123");
  testing::WriteFile(d.path() + "/config.yaml", "store:\n  type: sql\n  url: mysql://db.example:3307\n");
  auto no_db = LocateStore(d.path(), env);
  ASSERT_FALSE(no_db.ok());
  EXPECT_NE(no_db.status().message().find("no database"), std::string::npos) << no_db.status().message();

  // ZenML's variables, with no STORE.
  StoreEnv zenml_env;
  zenml_env.store_url = "mysql://h/zenml";
  zenml_env.store_username = "zen";
  zenml_env.store_password = "pw2";
  zenml_env.store_ssl_ca = "/ca";
  auto from_env = LocateStore(std::nullopt, zenml_env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  ASSERT_TRUE(from_env->mysql);
  EXPECT_EQ(from_env->mysql->user, "zen");
  EXPECT_EQ(from_env->mysql->password, "pw2");
  EXPECT_EQ(from_env->mysql->ssl_ca, "/ca");
  zenml_env.store_url = "https://zenml.example";
  auto server = LocateStore(std::nullopt, zenml_env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE(server->rest);
}

}  // namespace
}  // namespace zenfs
