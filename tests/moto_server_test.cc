// The tests' S3 server (tests/moto_server.h): it runs with authentication on, and Stop,
// Restart, Pause and Resume do what they say. Also this binary's main: one moto for all.
#include "tests/moto_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/mount_util.h"

namespace zenfs::testing {
namespace {

// Stop refuses connections; Restart gives an empty server with a new key on the same
// port; Pause stalls requests (they time out) and Resume lets them finish. Run last
// (its name sorts after the others' in the gtest order of this file) since it empties
// the shared server.
TEST(MotoServerTest, StopRestartPauseResume) {
  std::string why;
  MotoServer* server = MotoEnvironment::Shared(&why);
  ASSERT_NE(server, nullptr) << why;
  const int port = server->port();
  auto client = server->MakeClient();
  ASSERT_TRUE(client->CreateBucket("zenfs-lifecycle").ok());

  server->Stop();
  EXPECT_FALSE(server->running());
  auto refused = client->List("zenfs-lifecycle", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kIOError) << refused.status().ToString();

  const std::string old_key = server->credentials().access_key_id;
  ASSERT_TRUE(server->Restart().ok());
  EXPECT_EQ(server->port(), port);
  EXPECT_NE(server->credentials().access_key_id, old_key);
  auto fresh = server->MakeClient();
  auto gone = fresh->List("zenfs-lifecycle", "");
  ASSERT_FALSE(gone.ok()) << "moto keeps nothing across a restart";
  EXPECT_EQ(gone.status().code(), Status::Code::kNotFound) << gone.status().ToString();
  ASSERT_TRUE(fresh->CreateBucket("zenfs-lifecycle").ok());

  // Paused: a client with a short stall timeout fails instead of hanging.
  http::ClientOptions options;
  options.stall_timeout = std::chrono::milliseconds(500);
  options.request_timeout = std::chrono::milliseconds(1000);
  options.retries = 0;
  S3Endpoint ep{server->endpoint(), "us-east-1", true};
  S3Client impatient(std::make_shared<http::Client>(options), ep,
                     std::make_shared<StaticCredentialsProvider>(server->credentials()));
  server->Pause();
  const auto started = std::chrono::steady_clock::now();
  auto stalled = impatient.List("zenfs-lifecycle", "");
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  server->Resume();
  ASSERT_FALSE(stalled.ok());
  EXPECT_EQ(stalled.status().code(), Status::Code::kIOError);
  EXPECT_LT(waited, 30.0) << "a liveness bound with generous slack";
  auto after = fresh->List("zenfs-lifecycle", "");
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

}  // namespace
}  // namespace zenfs::testing

// One moto server for the whole binary, under the mount tests' root so that S3 mount
// tests in this binary share its cleanup.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(
      new zenfs::testing::MotoEnvironment(zenfs::testing::MountTestRoot()));
  return RUN_ALL_TESTS();
}
