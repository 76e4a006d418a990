// A TCP proxy on 127.0.0.1 in front of a real server (the ZenML server, an S3 endpoint)
// that misbehaves on demand: the REST and S3 fault tests put it between zenfs and the
// server and switch its mode while the mount runs.
//
// The mode is read whenever a client sends bytes, not only when it connects, so a
// keep-alive connection that a client reuses (curl does) meets the new mode with its
// next request:
//  - kPass: bytes go both ways unchanged.
//  - kStall: the request is read and dropped and nothing is ever sent back; the
//    connection is held open until the client gives up (or DropAll / destruction).
//    A connection that stalled stays stalled.
//  - kReset: the connection is reset at once (RST, SO_LINGER 0).
//  - kResetMidResponse: the request goes to the server, the first `cut_bytes` bytes of
//    its answer come back, then the connection is reset.
//  - k503: the request is read, answered with a canned `HTTP/1.1 503 Service
//    Unavailable` (Connection: close, a small body), and the connection is closed.
// Thread-safe: SetMode and the counters may be used from any thread while clients talk.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace zenfs::testing {

class FaultProxy {
 public:
  enum class Mode { kPass, kStall, kReset, kResetMidResponse, k503 };

  // Listens on a free 127.0.0.1 port and forwards to upstream_host:upstream_port (an IPv4
  // address such as 127.0.0.1). Null with *error when it cannot listen.
  static std::unique_ptr<FaultProxy> Start(const std::string& upstream_host, int upstream_port,
                                           std::string* error);
  // Closes every connection and joins every thread.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string Url() const;

  void SetMode(Mode mode) { mode_.store(mode); }
  Mode mode() const { return mode_.load(); }
  // Response bytes passed on before kResetMidResponse resets (default 16: inside the
  // status line and headers, so no client can take it for a whole answer).
  void SetCutBytes(std::size_t bytes) { cut_bytes_.store(bytes); }
  // Closes every open connection now (stalled ones too, and their server side); new ones
  // are accepted as before.
  void DropAll();

  // Connections accepted so far.
  std::uint64_t connections() const { return connections_.load(); }
  // Requests (client sends) that met a fault mode (anything but kPass) so far.
  std::uint64_t faults() const { return faults_.load(); }

 private:
  FaultProxy(int listen_fd, int port, std::string upstream_host, int upstream_port, int wake_read,
             int wake_write);
  void AcceptLoop();
  void Serve(int client);
  int ConnectUpstream() const;

  const int listen_fd_;
  const int port_;
  const std::string upstream_host_;
  const int upstream_port_;
  // A pipe written once on destruction: every poll() below watches its read end.
  const int wake_read_;
  const int wake_write_;
  std::atomic<Mode> mode_{Mode::kPass};
  std::atomic<std::size_t> cut_bytes_{16};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> faults_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  // Sockets being served, both sides (guarded by mu_): DropAll and the destructor shut
  // them down, which also ends a handler blocked in send() to a peer that does not read.
  std::set<int> open_sockets_;
  std::vector<std::thread> handlers_;   // one per accepted connection (guarded by mu_)
  std::thread acceptor_;
};

}  // namespace zenfs::testing
