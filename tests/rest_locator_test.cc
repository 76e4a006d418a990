// The ZenML server forms of STORE (SPEC §1): URLs, `type: rest` config directories with
// credentials.yaml, ZenML's own variables; which credentials go to which server.
#include <sys/stat.h>

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "store/store_locator.h"
#include "store/zenml_rest.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

TEST(RestLocatorTest, AServerUrlIsNormalizedAndUserInfoIsRefused) {
  auto loc = LocateStore(std::string("https://zenml.example:8080/base/"), StoreEnv{});
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  ASSERT_TRUE(loc->rest);
  EXPECT_FALSE(loc->mysql);
  EXPECT_TRUE(loc->db_path.empty());
  EXPECT_EQ(loc->rest->url, "https://zenml.example:8080/base");
  EXPECT_TRUE(loc->rest->verify_tls);
  EXPECT_TRUE(loc->rest->api_key.empty());
  auto with_user = LocateStore(std::string("https://me:secret@zenml.example"), StoreEnv{});
  ASSERT_FALSE(with_user.ok());
  EXPECT_EQ(with_user.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(with_user.status().message().find("secret"), std::string::npos) << with_user.status().message();
  EXPECT_FALSE(LocateStore(std::string("http://"), StoreEnv{}).ok());
  EXPECT_FALSE(LocateStore(std::string("http://h/?x=1"), StoreEnv{}).ok());
}

TEST(RestLocatorTest, TheEnvironmentsCredentialsGoToTheirServerOnly) {
  StoreEnv env;
  env.store_url = "http://zenml.example:8237/";
  env.store_api_key = "ZENKEY_one";
  env.store_verify_ssl = "false";
  auto from_env = LocateStore(std::nullopt, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  ASSERT_TRUE(from_env->rest);
  EXPECT_EQ(from_env->rest->url, "http://zenml.example:8237");
  EXPECT_EQ(from_env->rest->api_key, "ZENKEY_one");
  EXPECT_FALSE(from_env->rest->verify_tls);
  auto same = LocateStore(std::string("http://zenml.example:8237"), env);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->rest->api_key, "ZENKEY_one");
  auto other = LocateStore(std::string("http://other.example"), env);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->rest->api_key.empty()) << "a key meant for one server went to another";
  StoreEnv user;
  user.store_url = "http://zenml.example";
  user.store_username = "default";
  user.store_verify_ssl = "/etc/ca.pem";
  auto u = LocateStore(std::nullopt, user);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->rest->username, "default");
  EXPECT_TRUE(u->rest->has_password);
  EXPECT_TRUE(u->rest->verify_tls);
  EXPECT_EQ(u->rest->ca_file, "/etc/ca.pem");
}

TEST(RestLocatorTest, AConfigDirectoryTakesCredentialsYamlAsZenmlLoginWritesIt) {
  testing::TempDir d;
  const std::string cfg = d.path();
  testing::WriteFile(cfg + "/config.yaml",
                     "active_workspace_name: default\nstore:\n  type: rest\n  url: https://zenml.example/\n"
                     "  verify_ssl: false\n");
  testing::WriteFile(cfg + "/credentials.yaml",
                     "https://other.example:\n  url: https://other.example\n  api_key: ZENKEY_other\n"
                     "https://zenml.example:\n  url: https://zenml.example\n  api_token:\n    access_token: tok\n"
                     "    expires_at: '2030-01-01T00:00:00Z'\n  api_key: ZENKEY_mine\n");
  auto loc = LocateStore(cfg, StoreEnv{});
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  ASSERT_TRUE(loc->rest);
  EXPECT_EQ(loc->rest->url, "https://zenml.example");
  EXPECT_EQ(loc->rest->api_key, "ZENKEY_mine");
  EXPECT_EQ(loc->rest->api_token, "tok");
  EXPECT_FALSE(loc->rest->verify_tls);
  EXPECT_EQ(loc->active_workspace_name, "default");
  // A URL STORE finds its key in the user's config directory.
  StoreEnv env;
  env.zenml_config_path = cfg;
  auto by_url = LocateStore(std::string("https://other.example/"), env);
  ASSERT_TRUE(by_url.ok());
  EXPECT_EQ(by_url->rest->api_key, "ZENKEY_other");
  // A damaged credentials.yaml gives no credentials, never an error or a crash.
  testing::WriteFile(cfg + "/credentials.yaml", "[: not yaml\n");
  auto damaged = LocateStore(cfg, StoreEnv{});
  ASSERT_TRUE(damaged.ok());
  EXPECT_TRUE(damaged->rest->api_key.empty());
  // The store's own fields in config.yaml.
  testing::WriteFile(cfg + "/config.yaml",
                     "store:\n  type: rest\n  url: https://zenml.example\n  username: me\n  password: pw\n");
  auto own = LocateStore(cfg, StoreEnv{});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->rest->username, "me");
  EXPECT_EQ(own->rest->password, "pw");
}

TEST(RestLocatorTest, VerifySslAndIdsAsZenmlSpellsThem) {
  RestConfig c;
  ApplyVerifySsl("True", &c);
  EXPECT_TRUE(c.verify_tls);
  EXPECT_TRUE(c.ca_file.empty());
  ApplyVerifySsl("0", &c);
  EXPECT_FALSE(c.verify_tls);
  RestConfig f;
  ApplyVerifySsl("/srv/ca bundle.pem", &f);
  EXPECT_TRUE(f.verify_tls);
  EXPECT_EQ(f.ca_file, "/srv/ca bundle.pem");
  EXPECT_EQ(UndashedId("E85C4247-4337-4e84-9f3a-fbab889a99f8"), "e85c424743374e849f3afbab889a99f8");
  EXPECT_EQ(UndashedId("not-a-uuid"), "not-a-uuid");
  EXPECT_EQ(UndashedId(""), "");
}

}  // namespace
}  // namespace zenfs
