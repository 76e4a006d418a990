// The real ZenML server of the REST tests (tests/zenml_server.h): it starts over a demo
// store, serves ZenML 0.74's API, logs in a service account's API key the way ZenML's
// client does (grant_type=zenml-api-key), refuses a wrong key with 401, and comes back
// on the same port and store after a stop. This binary's main starts the one server
// every test in it shares.
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "tests/mount_util.h"
#include "tests/test_util.h"
#include "tests/zenml_server.h"

namespace zenfs::testing {
namespace {

nlohmann::json Json(const http::Response& r) { return nlohmann::json::parse(r.body, nullptr, false); }

// An API key with the same id as `key` and another secret, "" if `key` does not decode.
// ZenML's keys are ZENKEY_ + base64 of {"id": ..., "key": "<hex secret>"}.
std::string WithOtherSecret(const std::string& key) {
  const std::string prefix = "ZENKEY_";
  if (key.rfind(prefix, 0) != 0) return "";
  const std::string b64 = key.substr(prefix.size());
  std::string raw(b64.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0) return "";
  // EVP_DecodeBlock counts the padding as zero bytes.
  raw.resize(static_cast<std::size_t>(n) - (b64.size() - b64.find_last_not_of('=') - 1));
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) return "";
  std::string secret = j["key"].get<std::string>();
  if (secret.empty()) return "";
  secret.back() = secret.back() == '0' ? '1' : '0';
  j["key"] = secret;
  const std::string changed = j.dump();
  std::string out(changed.size() / 3 * 4 + 5, '\0');
  const int m = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(changed.data()),
                                static_cast<int>(changed.size()));
  out.resize(static_cast<std::size_t>(m));
  return prefix + out;
}

TEST(ZenmlServerTest, ServesZenml074OverTheDemoStore) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  auto health = server->Call("GET", "/health");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  auto info = server->Call("GET", "/api/v1/info");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_EQ(info->status, 200) << info->body;
  EXPECT_EQ(Json(*info).value("version", ""), "0.74.0") << info->body;
  EXPECT_EQ(Json(*info).value("database_type", ""), "sqlite") << info->body;
  // Without a token the API refuses: the tests below prove something by logging in.
  auto anonymous = server->Call("GET", "/api/v1/runs?size=1");
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().ToString();
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
}

TEST(ZenmlServerTest, ApiKeyLogsInAndSeesTheDemoRuns) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  auto key = server->CreateApiKey("zenfs-harness-key");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->rfind("ZENKEY_", 0), 0u);
  auto token = server->LoginWithApiKey(*key);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_FALSE(token->empty());
  // The token is the service account's.
  auto me = server->Call("GET", "/api/v1/current-user", *token);
  ASSERT_TRUE(me.ok()) << me.status().ToString();
  ASSERT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(Json(*me).value("name", ""), "zenfs-harness-key") << me->body;
  // And it reads the store's runs (the demo writes some): a page with a total.
  auto runs = server->Call("GET", "/api/v1/runs?size=1&hydrate=false", *token);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->status, 200) << runs->body;
  EXPECT_GT(Json(*runs).value("total", 0), 0) << runs->body;
}

TEST(ZenmlServerTest, WrongApiKeyIsRefusedWith401) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  // Garbage, and a real key with its secret changed: both are 401, never a token.
  auto garbage = server->ApiKeyLogin("ZENKEY_not-a-key");
  ASSERT_TRUE(garbage.ok()) << garbage.status().ToString();
  EXPECT_EQ(garbage->status, 401) << garbage->body;
  auto key = server->CreateApiKey("zenfs-harness-wrong");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string wrong = WithOtherSecret(*key);
  ASSERT_FALSE(wrong.empty()) << "cannot decode the API key";
  auto refused = server->ApiKeyLogin(wrong);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 401) << refused->body;
  auto status = server->LoginWithApiKey(wrong);
  EXPECT_FALSE(status.ok());
  // The right one still works.
  EXPECT_TRUE(server->LoginWithApiKey(*key).ok());
}

// An admin revokes a key: it no longer logs in, and the token it gave is refused at once
// (what the REST catalog's "revoked key" test meets).
TEST(ZenmlServerTest, RevokedApiKeyAndItsTokenAreRefused) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  auto key = server->CreateApiKey("zenfs-harness-revoked");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto token = server->LoginWithApiKey(*key);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto before = server->Call("GET", "/api/v1/current-user", *token);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->status, 200) << before->body;
  const Status revoked = server->RevokeApiKey("zenfs-harness-revoked");
  ASSERT_TRUE(revoked.ok()) << revoked.ToString();
  auto login = server->ApiKeyLogin(*key);
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->status, 401) << login->body;
  auto after = server->Call("GET", "/api/v1/current-user", *token);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->status, 401) << after->body;
  // A second account with the same name is refused: names are unique per store.
  EXPECT_FALSE(server->CreateApiKey("zenfs-harness-revoked").ok());
  EXPECT_FALSE(server->RevokeApiKey("zenfs-harness-no-such-account").ok());
}

// `zenfs demo --schema 0.74` writes `default` as ZenML's client does (the bcrypt hash of
// the empty password): the real server logs it in, as the admin it is.
TEST(ZenmlServerTest, DemoStoreDefaultUserLogsInWithTheEmptyPassword) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  auto token = server->Login("default", "");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto me = server->Call("GET", "/api/v1/current-user", *token);
  ASSERT_TRUE(me.ok()) << me.status().ToString();
  ASSERT_EQ(me->status, 200) << me->body;
  const auto j = Json(*me);
  EXPECT_EQ(j.value("name", ""), "default") << me->body;
  EXPECT_TRUE(j.contains("body") && j["body"].value("is_admin", false)) << me->body;
}

TEST(ZenmlServerTest, WrongPasswordIsRefused) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  auto wrong = server->Login("default", "not-the-password");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("401"), std::string::npos) << wrong.status().ToString();
  EXPECT_TRUE(server->Login("default", "").ok());
}

// A harness that cannot start a server says why in one message, and leaves nothing running.
TEST(ZenmlServerTest, StartFailuresAreClearErrors) {
  TempDir dir;
  const std::string db = ZenmlEnvironment::DemoDir() + "/local_stores/default_zen_store/zenml.db";
  std::string error;
  EXPECT_EQ(ZenmlServer::Create(dir.path() + "/no-such.db", dir.path() + "/a", &error), nullptr);
  EXPECT_NE(error.find("cannot copy"), std::string::npos) << error;

  const char* saved = std::getenv("ZENFS_ZENML_SERVER_SCRIPT");
  const std::string restore = saved != nullptr ? saved : "";
  setenv("ZENFS_ZENML_SERVER_SCRIPT", (dir.path() + "/missing.sh").c_str(), 1);
  error.clear();
  EXPECT_EQ(ZenmlServer::Create(db, dir.path() + "/b", &error), nullptr);
  EXPECT_NE(error.find(dir.path() + "/missing.sh"), std::string::npos) << error;
  // A "server" that exits at once: the error says so and quotes its log.
  const std::string script = dir.path() + "/exits.sh";
  WriteFile(script, "#!/bin/sh\necho 'no server today' >&2\nexit 3\n");
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  setenv("ZENFS_ZENML_SERVER_SCRIPT", script.c_str(), 1);
  error.clear();
  EXPECT_EQ(ZenmlServer::Create(db, dir.path() + "/c", &error), nullptr);
  EXPECT_NE(error.find("exited while starting"), std::string::npos) << error;
  EXPECT_NE(error.find("no server today"), std::string::npos) << error;
  if (saved != nullptr) {
    setenv("ZENFS_ZENML_SERVER_SCRIPT", restore.c_str(), 1);
  } else {
    unsetenv("ZENFS_ZENML_SERVER_SCRIPT");
  }
}

// The fault tests stop the server under a mount and bring it back where the mount looks:
// the same port, the same store (so a key made before still logs in), a new process.
TEST(ZenmlServerTest, StopsAndStartsAgainOnTheSamePortAndStore) {
  ZenmlServer* server = SharedZenmlServer();
  ASSERT_NE(server, nullptr);
  auto key = server->CreateApiKey("zenfs-harness-restart");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const int port = server->port();
  server->Stop();
  EXPECT_FALSE(server->running());
  auto down = server->Call("GET", "/health");
  EXPECT_FALSE(down.ok()) << "a stopped server answered HTTP " << down->status;
  server->Stop();  // idempotent
  const Status started = server->Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  EXPECT_TRUE(server->running());
  EXPECT_EQ(server->port(), port);
  EXPECT_TRUE(server->Start().ok());  // already running: nothing to do
  auto token = server->LoginWithApiKey(*key);
  EXPECT_TRUE(token.ok()) << token.status().ToString();
}

}  // namespace
}  // namespace zenfs::testing

// One ZenML server for the whole binary (tests/zenml_server.h), under the mount tests'
// root so that REST mount tests in this binary share it and its cleanup.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(
      new zenfs::testing::ZenmlEnvironment(zenfs::testing::MountTestRoot()));
  return RUN_ALL_TESTS();
}
