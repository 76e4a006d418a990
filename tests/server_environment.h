// One private server for a whole test binary (MariaDB, moto, ...): a gtest Environment
// that starts it under a fresh folder of `root_dir` in SetUp and stops it in TearDown,
// removing the folder unless a test failed (then it stays, with the server's log, and its
// path is printed). Register it once in main; tests reach the server through Shared().
// `Server` needs `static std::unique_ptr<Server> Start(const std::string& base_dir,
// std::string* error)` and a destructor that stops it.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace zenfs::testing {

template <typename Server>
class ServerEnvironment : public ::testing::Environment {
 public:
  // `folder` names the folder ("moto" gives root_dir/moto-XXXXXX); `what` the server in
  // messages ("the moto S3 server").
  ServerEnvironment(std::string root_dir, std::string folder, std::string what)
      : root_dir_(std::move(root_dir)), folder_(std::move(folder)), what_(std::move(what)) {}

  void SetUp() override {
    std::error_code ec;
    std::filesystem::create_directories(root_dir_, ec);
    std::string pattern = root_dir_ + "/" + folder_ + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      SharedError() = "mkdtemp under " + root_dir_ + ": " + std::strerror(errno);
      return;
    }
    base_dir_ = pattern;
    std::string error;
    const auto started = std::chrono::steady_clock::now();
    SharedServer() = Server::Start(base_dir_, &error);
    if (SharedServer() == nullptr) {
      SharedError() = "cannot start " + what_ + ": " + error;
    } else {
      std::cerr << what_ << " started in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
                << " s\n";
    }
  }

  void TearDown() override {
    SharedServer().reset();  // stops it
    if (base_dir_.empty()) return;
    if (::testing::UnitTest::GetInstance()->Passed()) {
      std::error_code ec;
      std::filesystem::remove_all(base_dir_, ec);
    } else {
      std::cerr << "a test failed: the files of " << what_ << " stay in " << base_dir_ << "\n";
    }
  }

  // The running server, or null (with the reason in *why) when SetUp could not start it.
  static Server* Shared(std::string* why) {
    if (SharedServer() == nullptr) *why = SharedError();
    return SharedServer().get();
  }

 private:
  // gtest environments are process-wide by design: so is the server they hold.
  static std::unique_ptr<Server>& SharedServer() {
    static std::unique_ptr<Server> server;
    return server;
  }
  static std::string& SharedError() {
    static std::string error = "the test environment was not set up";
    return error;
  }

  std::string root_dir_;
  std::string folder_;
  std::string what_;
  std::string base_dir_;
};

}  // namespace zenfs::testing
