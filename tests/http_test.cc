// The HTTP layer (store/http.h) against a scripted HTTP/1.1 server on loopback that can
// answer, stall, reset or refuse: a fault injector in front of a real socket, real curl.
#include "store/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace zenfs::http {
namespace {

using namespace std::chrono_literals;

struct SeenRequest {
  std::string method, target, body;
  std::vector<std::string> header_lines;
  bool Has(const std::string& line) const {
    for (const auto& h : header_lines) {
      if (h == line) return true;
    }
    return false;
  }
};

// What the server does with one request.
struct Action {
  enum Kind { kRespond, kStall, kClose } kind = kRespond;
  int status = 200;
  std::string body;
  std::string extra_headers;  // "Name: value\r\n" lines
  std::chrono::milliseconds delay{0};  // kRespond: wait this long first, sending nothing
};

class ScriptedServer {
 public:
  using Handler = std::function<Action(const SeenRequest&, int request_number)>;

  explicit ScriptedServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~ScriptedServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : connections_) t.join();
    close(fd_);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_.load(); }
  int requests() const { return requests_.load(); }
  SeenRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++accepted_;
      connections_.emplace_back([this, c] { Serve(c); });
    }
  }

  // Reads until `pred` holds on the buffer or the peer/stop ends it.
  bool ReadUntil(int c, std::string* buf, const std::function<bool()>& pred) {
    char chunk[4096];
    while (!pred()) {
      pollfd p{c, POLLIN, 0};
      if (stop_) return false;
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(c, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf->append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  void Serve(int c) {
    std::string buf;
    for (;;) {
      std::size_t end = std::string::npos;
      if (!ReadUntil(c, &buf, [&] { return (end = buf.find("\r\n\r\n")) != std::string::npos; })) break;
      SeenRequest req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      std::size_t pos = head.find("\r\n");
      const std::string first = head.substr(0, pos);
      req.method = first.substr(0, first.find(' '));
      req.target = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
      std::size_t length = 0;
      while (pos != std::string::npos) {
        const std::size_t next = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        if (line.rfind("Content-Length: ", 0) == 0) length = std::stoul(line.substr(16));
        req.header_lines.push_back(std::move(line));
        pos = next;
      }
      if (!ReadUntil(c, &buf, [&] { return buf.size() >= length; })) break;
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      const int number = ++requests_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_ = req;
      }
      const Action a = handler_(req, number);
      if (a.kind == Action::kClose) break;
      if (a.kind == Action::kStall) {
        while (!stop_) std::this_thread::sleep_for(20ms);
        break;
      }
      for (auto waited = 0ms; waited < a.delay && !stop_; waited += 20ms) std::this_thread::sleep_for(20ms);
      std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\nContent-Length: " +
                        std::to_string(a.body.size()) + "\r\n" + a.extra_headers + "\r\n";
      if (req.method != "HEAD") out += a.body;
      if (write(c, out.data(), out.size()) != static_cast<ssize_t>(out.size())) break;
    }
    close(c);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0}, requests_{0};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // joined at the end (tests are short)
  std::mutex mu_;
  SeenRequest last_;
};

Action Respond(int status, std::string body, std::string extra_headers = {}) {
  Action a;
  a.status = status;
  a.body = std::move(body);
  a.extra_headers = std::move(extra_headers);
  return a;
}
Action Do(Action::Kind kind) {
  Action a;
  a.kind = kind;
  return a;
}

Request Make(std::string method, std::string url, std::string body = {}, bool idempotent = true) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.idempotent = idempotent;
  return r;
}

ClientOptions Fast() {
  ClientOptions o;
  o.connect_timeout = 2000ms;
  o.stall_timeout = 1000ms;
  o.request_timeout = 3000ms;
  o.queue_timeout = 300ms;
  o.backoff = 10ms;
  return o;
}

TEST(HttpTest, SendsMethodHeadersAndBodyAndReadsTheResponse) {
  ScriptedServer server([](const SeenRequest& r, int) {
    return Respond(201, r.method + " " + r.target + " " + r.body, "X-Thing: Value 1\r\n");
  });
  Client client(Fast());
  Request req;
  req.method = "POST";
  req.url = server.Url("/api/v1/login?x=1");
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = FormEncode({{"grant_type", "zenml-api-key"}, {"password", "a b&c=d"}});
  auto r = client.Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "POST /api/v1/login?x=1 grant_type=zenml-api-key&password=a%20b%26c%3Dd");
  EXPECT_EQ(r->body_size, r->body.size());
  EXPECT_EQ(r->Header("x-thing"), "Value 1");
  EXPECT_EQ(r->Header("absent"), "");
  EXPECT_TRUE(server.last().Has("Content-Type: application/x-www-form-urlencoded"));
  // No Expect: 100-continue round trip.
  for (const auto& h : server.last().header_lines) EXPECT_EQ(h.rfind("Expect", 0), std::string::npos) << h;
}

TEST(HttpTest, HeadHasNoBodyAndPutSendsOne) {
  ScriptedServer server([](const SeenRequest& r, int) { return Respond(200, "[" + r.body + "]"); });
  Client client(Fast());
  auto head = client.Send(Make("HEAD", server.Url("/o"), ""));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->Header("content-length"), "2");
  auto put = client.Send(Make("PUT", server.Url("/o"), "payload"));
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(server.last().method, "PUT");
  EXPECT_EQ(put->body, "[payload]");
}

TEST(HttpTest, ReusesOneConnectionForSequentialRequests) {
  ScriptedServer server([](const SeenRequest&, int) { return Respond(200, "ok"); });
  Client client(Fast());
  for (int i = 0; i < 10; ++i) {
    auto r = client.Send(Make("GET", server.Url("/r" + std::to_string(i))));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(server.requests(), 10);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.stats().connections, 1u);
  EXPECT_EQ(client.stats().requests, 10u);
}

TEST(HttpTest, RetriesBusyResponsesForIdempotentRequests) {
  ScriptedServer server([](const SeenRequest&, int n) {
    return n <= 2 ? Respond(503, "busy") : Respond(200, "fine");
  });
  Client client(Fast());
  auto r = client.Send(Make("GET", server.Url("/x")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "fine");
  EXPECT_EQ(client.stats().retries, 2u);
}

TEST(HttpTest, ReturnsTheLastResponseWhenRetriesRunOutAndNeverRetriesWhatIsNotIdempotent) {
  ScriptedServer server([](const SeenRequest&, int) { return Respond(503, "busy"); });
  Client client(Fast());
  auto r = client.Send(Make("GET", server.Url("/x")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(server.requests(), 3);  // one try and two retries
  Request post = Make("POST", server.Url("/y"), "b", false);
  auto p = client.Send(post);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 503);
  EXPECT_EQ(server.requests(), 4);
  // A client error is the answer, not a reason to try again.
  ScriptedServer denied([](const SeenRequest&, int) { return Respond(401, "no"); });
  auto d = client.Send(Make("GET", denied.Url("/z")));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, 401);
  EXPECT_EQ(denied.requests(), 1);
}

TEST(HttpTest, RetriesAConnectionClosedWithoutAnswer) {
  ScriptedServer server([](const SeenRequest&, int n) {
    return n == 1 ? Do(Action::kClose) : Respond(200, "second");
  });
  Client client(Fast());
  auto r = client.Send(Make("GET", server.Url("/x")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "second");
  ScriptedServer always([](const SeenRequest&, int) { return Do(Action::kClose); });
  auto e = client.Send(Make("GET", always.Url("/gone?token=SECRET")));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Status::Code::kIOError);
  EXPECT_NE(e.status().message().find("GET http://127.0.0.1:"), std::string::npos) << e.status().message();
  EXPECT_EQ(e.status().message().find("SECRET"), std::string::npos) << e.status().message();
}

TEST(HttpTest, AStalledServerFailsWithinTheConfiguredBound) {
  ScriptedServer server([](const SeenRequest&, int) { return Do(Action::kStall); });
  ClientOptions o = Fast();
  o.retries = 1;
  Client client(o);
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Send(Make("GET", server.Url("/slow")));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  // Two tries of at most 3 s each; generous slack for a loaded machine.
  EXPECT_LT(took, 30s);
}

TEST(HttpTest, ARequestsOwnBoundsOutlastTheClientsForASlowAnswer) {
  // A server that computes for 4 s before its first byte (a large list page).
  ScriptedServer server([](const SeenRequest&, int) {
    Action a = Respond(200, "page");
    a.delay = 4000ms;
    return a;
  });
  ClientOptions o = Fast();
  o.retries = 0;
  Client client(o);
  auto cut = client.Send(Make("GET", server.Url("/page")));
  ASSERT_FALSE(cut.ok()) << "the client's 1 s stall bound ends a 4 s wait";
  Request patient = Make("GET", server.Url("/page"));
  patient.stall_timeout = 30000ms;
  patient.request_timeout = 30000ms;
  auto r = client.Send(patient);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "page");
}

TEST(HttpTest, CapsRequestsInFlightAndCallersWaiting) {
  // Without max_waiting a caller waits queue_timeout for the one handle; with
  // max_waiting 0 it fails at once (queue_timeout long: waiting would show).
  for (const int max_waiting : {-1, 0}) {
    SCOPED_TRACE(max_waiting);
    std::atomic<bool> release{false};
    ScriptedServer server([&](const SeenRequest& r, int) {
      if (r.target == "/hold") {
        while (!release) std::this_thread::sleep_for(10ms);
      }
      return Respond(200, "done");
    });
    ClientOptions o = Fast();
    o.max_in_flight = 1;
    o.max_waiting = max_waiting;
    o.request_timeout = 20000ms;
    o.stall_timeout = 20000ms;
    if (max_waiting == 0) o.queue_timeout = 20000ms;
    Client client(o);
    std::thread holder([&] { EXPECT_TRUE(client.Send(Make("GET", server.Url("/hold"))).ok()); });
    while (server.requests() == 0) std::this_thread::sleep_for(10ms);
    const auto start = std::chrono::steady_clock::now();
    auto r = client.Send(Make("GET", server.Url("/other")));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(max_waiting < 0 ? "too many requests in flight" : "too many requests waiting"),
              std::string::npos)
        << r.status().ToString();
    if (max_waiting == 0) {
      EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "a caller beyond max_waiting waited";
    }
    release = true;
    holder.join();
    EXPECT_TRUE(client.Send(Make("GET", server.Url("/other"))).ok());
  }
}

TEST(HttpTest, WritesABodyIntoTheCallersBufferAndRefusesMore) {
  ScriptedServer server([](const SeenRequest& r, int) {
    return Respond(206, r.target == "/big" ? std::string(100, 'b') : std::string("0123456789"));
  });
  Client client(Fast());
  char buf[16] = {0};
  Request req = Make("GET", server.Url("/range"));
  req.headers = {{"Range", "bytes=0-9"}};
  req.into = buf;
  req.into_cap = sizeof buf;
  auto r = client.Send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body_size, 10u);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(std::string(buf, 10), "0123456789");
  EXPECT_TRUE(server.last().Has("Range: bytes=0-9"));
  req.url = server.Url("/big");
  auto big = client.Send(req);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("larger than 16 bytes"), std::string::npos);
  ClientOptions o = Fast();
  o.max_body = 50;
  Client capped(o);
  EXPECT_FALSE(capped.Send(Make("GET", server.Url("/big"))).ok());
}

TEST(HttpTest, ARefusedConnectionIsAnErrorNamingTheServer) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);  // nothing listens there now
  Client client(Fast());
  auto r = client.Send(Make("GET", "http://user:pw@127.0.0.1:" + std::to_string(port) + "/p?q=1"));
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("GET http://127.0.0.1:" + std::to_string(port) + "/p"), std::string::npos) << m;
  EXPECT_EQ(m.find("pw"), std::string::npos) << m;
  EXPECT_EQ(m.find("q=1"), std::string::npos) << m;
}

TEST(HttpTest, RedactEncodeAndForm) {
  EXPECT_EQ(Redact("https://u:p@host:8080/a/b?c=d#e"), "https://host:8080/a/b");
  EXPECT_EQ(Redact("http://host"), "http://host");
  EXPECT_EQ(Redact("http://host?x=y"), "http://host");
  EXPECT_EQ(PercentEncode("a b/c~d_e.f-g\xC3\xA9"), "a%20b%2Fc~d_e.f-g%C3%A9");
  EXPECT_EQ(PercentEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(FormEncode({{"a", "1"}, {"b c", "x&y"}}), "a=1&b%20c=x%26y");
  EXPECT_EQ(FormEncode({}), "");
}

}  // namespace
}  // namespace zenfs::http
