#include "tests/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zenfs::testing {

namespace {

// How long a k503 connection waits for the client to close after the answer: closing
// with unread request bytes would reset the connection and could destroy the answer
// before the client read it.
constexpr int kDrainMillis = 2000;

constexpr char k503Response[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 44\r\n"
    "Connection: close\r\n"
    "\r\n"
    "{\"detail\": \"injected by the tests' proxy!\"}\n";
static_assert(sizeof("{\"detail\": \"injected by the tests' proxy!\"}\n") - 1 == 44);

bool WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Makes the coming close() send RST instead of FIN.
void ArmReset(int fd) {
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

}  // namespace

std::unique_ptr<FaultProxy> FaultProxy::Start(const std::string& upstream_host, int upstream_port,
                                              std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int wake[2];
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(wake, O_CLOEXEC) != 0) {
    *error = std::string("listening on 127.0.0.1: ") + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  auto proxy = std::unique_ptr<FaultProxy>(
      new FaultProxy(fd, ntohs(addr.sin_port), upstream_host, upstream_port, wake[0], wake[1]));
  proxy->acceptor_ = std::thread(&FaultProxy::AcceptLoop, proxy.get());
  return proxy;
}

FaultProxy::FaultProxy(int listen_fd, int port, std::string upstream_host, int upstream_port,
                       int wake_read, int wake_write)
    : listen_fd_(listen_fd),
      port_(port),
      upstream_host_(std::move(upstream_host)),
      upstream_port_(upstream_port),
      wake_read_(wake_read),
      wake_write_(wake_write) {}

FaultProxy::~FaultProxy() {
  stopping_.store(true);
  // Never read: the pipe stays readable, so every handler's poll returns from now on.
  (void)!write(wake_write_, "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  DropAll();  // also wakes a handler blocked in send() to a client that does not read
  for (std::thread& t : handlers_) t.join();  // no one adds any more: the acceptor is gone
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

std::string FaultProxy::Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultProxy::DropAll() {
  std::lock_guard<std::mutex> lock(mu_);
  // shutdown, not close: the handler still owns the descriptor (and closes it), so the
  // number is never reused under it.
  for (int fd : open_sockets_) shutdown(fd, SHUT_RDWR);
}

void FaultProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    connections_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    open_sockets_.insert(client);
    handlers_.emplace_back(&FaultProxy::Serve, this, client);
  }
}

int FaultProxy::ConnectUpstream() const {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
  if (inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void FaultProxy::Serve(int client) {
  int upstream = -1;
  bool stalled = false;
  bool reset = false;              // end with RST instead of FIN
  bool answered_503 = false;
  std::size_t cut_left = 0;        // > 0: reset after this many more response bytes
  bool cutting = false;
  char buf[16384];
  for (;;) {
    pollfd fds[3] = {{client, POLLIN, 0}, {wake_read_, POLLIN, 0}, {upstream, POLLIN, 0}};
    if (poll(fds, upstream >= 0 ? 3 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents != 0) {
      const ssize_t n = read(client, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the client closed (or DropAll shut it down)
      if (stalled) continue;
      const Mode mode = mode_.load();
      if (mode != Mode::kPass) faults_.fetch_add(1);
      if (mode == Mode::kStall) {
        stalled = true;
        continue;
      }
      if (mode == Mode::kReset) {
        reset = true;
        break;
      }
      if (mode == Mode::k503) {
        answered_503 = WriteAll(client, k503Response, sizeof(k503Response) - 1);
        break;
      }
      if (mode == Mode::kResetMidResponse) {
        cutting = true;
        cut_left = std::max<std::size_t>(cut_bytes_.load(), 1);
      }
      if (upstream < 0 && (upstream = ConnectUpstream()) >= 0) {
        std::lock_guard<std::mutex> lock(mu_);
        open_sockets_.insert(upstream);
      }
      if (upstream < 0 || !WriteAll(upstream, buf, static_cast<std::size_t>(n))) {
        reset = true;  // the server is gone: the client sees a reset, as with no proxy
        break;
      }
      continue;  // fds[2]'s events may be stale if upstream was just connected
    }
    if (upstream >= 0 && fds[2].revents != 0) {
      const ssize_t n = read(upstream, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the server closed: so does the proxy
      std::size_t pass = static_cast<std::size_t>(n);
      if (cutting) pass = std::min(pass, cut_left);
      if (!WriteAll(client, buf, pass)) break;
      if (cutting && (cut_left -= pass) == 0) {
        reset = true;
        break;
      }
    }
  }
  if (upstream >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    open_sockets_.erase(upstream);
    close(upstream);
  }
  if (answered_503) {
    // FIN after the answer, then read what the client still sends until it closes.
    shutdown(client, SHUT_WR);
    for (;;) {
      pollfd fds[2] = {{client, POLLIN, 0}, {wake_read_, POLLIN, 0}};
      if (poll(fds, 2, kDrainMillis) <= 0 || fds[1].revents != 0) break;
      if (read(client, buf, sizeof(buf)) <= 0) break;
    }
  }
  if (reset) ArmReset(client);
  std::lock_guard<std::mutex> lock(mu_);
  open_sockets_.erase(client);
  close(client);
}

}  // namespace zenfs::testing
