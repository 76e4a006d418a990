// The fault proxy (tests/fault_proxy.h) in front of a real peer, the binary's ZenML
// server: each mode does what the REST and S3 fault tests rely on, seen both through
// zenfs's HTTP client and through a raw socket (which shows the exact bytes and the reset).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "store/http.h"
#include "tests/fault_proxy.h"
#include "tests/zenml_server.h"

namespace zenfs::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A liveness bound, not a timing assertion: a faulted request must end, and on a loaded
// CI machine "ends" may take many times its configured timeouts.
constexpr double kLivenessSeconds = 60;

// A client with short bounds, so a stalled request ends fast, and one connection, so a
// second request must reuse the first one's.
http::ClientOptions ShortOptions(int retries) {
  http::ClientOptions o;
  o.connect_timeout = milliseconds(5000);
  o.stall_timeout = milliseconds(1000);
  o.request_timeout = milliseconds(30000);
  o.queue_timeout = milliseconds(30000);
  o.retries = retries;
  o.backoff = milliseconds(10);
  o.max_in_flight = 1;
  return o;
}

Result<http::Response> Get(http::Client& client, const std::string& url) {
  http::Request req;
  req.url = url;
  return client.Send(req);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A raw TCP connection to 127.0.0.1:port with a generous receive timeout (never a hung
// test), -1 on failure.
int RawConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = 30;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

constexpr char kHealthRequest[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

bool SendHealthRequest(int fd) {
  return send(fd, kHealthRequest, sizeof(kHealthRequest) - 1, MSG_NOSIGNAL) ==
         static_cast<ssize_t>(sizeof(kHealthRequest) - 1);
}

// Everything the peer sends until it closes; *error gets errno of the read that ended it
// (0 for a clean close, ECONNRESET for a reset).
std::string ReadUntilClosed(int fd, int* error) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    *error = n == 0 ? 0 : errno;
    return out;
  }
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = SharedZenmlServer();
    ASSERT_NE(server_, nullptr);
    std::string error;
    proxy_ = FaultProxy::Start("127.0.0.1", server_->port(), &error);
    ASSERT_NE(proxy_, nullptr) << error;
  }
  std::string HealthUrl() const { return proxy_->Url() + "/health"; }

  ZenmlServer* server_ = nullptr;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, PassesRequestsThroughAndKeepsConnectionsAlive) {
  http::Client client(ShortOptions(0));
  for (int i = 0; i < 3; ++i) {
    auto r = Get(client, HealthUrl());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("OK"), std::string::npos) << r->body;
  }
  // A POST with a body goes through too (and the server's answer comes back whole).
  http::Request login;
  login.method = "POST";
  login.url = proxy_->Url() + "/api/v1/login";
  login.idempotent = false;
  login.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  login.body = http::FormEncode({{"username", "default"}, {"password", ""}});
  auto token = client.Send(login);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->status, 200) << token->body;
  EXPECT_NE(token->body.find("access_token"), std::string::npos);
  // One client handle: every request went over the first connection.
  EXPECT_EQ(proxy_->connections(), 1u);
  EXPECT_EQ(proxy_->faults(), 0u);
}

TEST_F(FaultProxyTest, StallHoldsTheConnectionAndSendsNothing) {
  http::Client client(ShortOptions(0));
  ASSERT_TRUE(Get(client, HealthUrl()).ok());  // a kept-alive connection...
  proxy_->SetMode(FaultProxy::Mode::kStall);
  const auto start = Clock::now();
  auto r = Get(client, HealthUrl());  // ...meets the stall with its next request
  EXPECT_FALSE(r.ok()) << "a stalled request got HTTP " << r->status;
  EXPECT_LT(SecondsSince(start), kLivenessSeconds);
  EXPECT_GE(proxy_->faults(), 1u);

  // Raw: the request is taken, nothing comes back, the connection stays open.
  const int fd = RawConnect(proxy_->port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(SendHealthRequest(fd));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 1500), 0) << "the stalled proxy sent something or closed";
  // DropAll ends it: the client sees the close.
  proxy_->DropAll();
  int error = -1;
  EXPECT_EQ(ReadUntilClosed(fd, &error), "");
  close(fd);

  proxy_->SetMode(FaultProxy::Mode::kPass);
  auto again = Get(client, HealthUrl());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 200);
}

TEST_F(FaultProxyTest, ResetClosesAtOnce) {
  proxy_->SetMode(FaultProxy::Mode::kReset);
  http::Client client(ShortOptions(0));
  const auto start = Clock::now();
  auto r = Get(client, HealthUrl());
  EXPECT_FALSE(r.ok()) << "a reset request got HTTP " << r->status;
  EXPECT_LT(SecondsSince(start), kLivenessSeconds);

  const int fd = RawConnect(proxy_->port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(SendHealthRequest(fd));
  int error = 0;
  EXPECT_EQ(ReadUntilClosed(fd, &error), "");
  EXPECT_EQ(error, ECONNRESET) << std::strerror(error);
  close(fd);
}

TEST_F(FaultProxyTest, ResetMidResponsePassesTheFirstBytesOnly) {
  proxy_->SetMode(FaultProxy::Mode::kResetMidResponse);
  proxy_->SetCutBytes(12);
  const int fd = RawConnect(proxy_->port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(SendHealthRequest(fd));
  int error = 0;
  const std::string got = ReadUntilClosed(fd, &error);
  EXPECT_EQ(got, "HTTP/1.1 200");
  EXPECT_EQ(error, ECONNRESET) << std::strerror(error);
  close(fd);

  // Cut inside the body of a longer answer (/api/v1/info: some 700 bytes of JSON): the
  // client has the headers and part of the body, and fails.
  const std::string info = proxy_->Url() + "/api/v1/info";
  proxy_->SetMode(FaultProxy::Mode::kPass);
  http::Client client(ShortOptions(0));
  auto whole = Get(client, info);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_GT(whole->body.size(), 400u) << whole->body;
  proxy_->SetMode(FaultProxy::Mode::kResetMidResponse);
  proxy_->SetCutBytes(300);
  auto cut = Get(client, info);
  EXPECT_FALSE(cut.ok()) << "a response cut short came through: HTTP " << cut->status;
}

TEST_F(FaultProxyTest, Answers503AndClosesThenRecovers) {
  proxy_->SetMode(FaultProxy::Mode::k503);
  http::Client once(ShortOptions(0));
  auto r = Get(once, HealthUrl());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("injected"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("connection"), "close");

  // The client's retries meet the 503 each time, and the last one is what it returns.
  http::Client retrying(ShortOptions(2));
  auto last = Get(retrying, HealthUrl());
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->status, 503);
  EXPECT_EQ(retrying.stats().retries, 2u);

  // Raw: exactly the canned answer, then a clean close.
  const int fd = RawConnect(proxy_->port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(SendHealthRequest(fd));
  int error = -1;
  const std::string got = ReadUntilClosed(fd, &error);
  EXPECT_EQ(got.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << got;
  EXPECT_EQ(error, 0) << std::strerror(error);
  close(fd);

  proxy_->SetMode(FaultProxy::Mode::kPass);
  auto ok = Get(retrying, HealthUrl());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(FaultProxyTest, ServerGoneBehindTheProxyIsAReset) {
  // A proxy in front of a port nothing listens on (a fresh proxy's own port, closed).
  std::string error;
  int dead_port = 0;
  {
    auto scratch = FaultProxy::Start("127.0.0.1", 1, &error);
    ASSERT_NE(scratch, nullptr) << error;
    dead_port = scratch->port();
  }
  auto proxy = FaultProxy::Start("127.0.0.1", dead_port, &error);
  ASSERT_NE(proxy, nullptr) << error;
  http::Client client(ShortOptions(0));
  const auto start = Clock::now();
  auto r = Get(client, proxy->Url() + "/health");
  EXPECT_FALSE(r.ok()) << "HTTP " << r->status;
  EXPECT_LT(SecondsSince(start), kLivenessSeconds);
}

}  // namespace
}  // namespace zenfs::testing
