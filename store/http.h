// The one HTTP layer of zenfs, over libcurl: the ZenML server catalog (REST) and the S3
// artifact source both send their requests through an http::Client, never through curl
// directly, so timeouts, retries, connection reuse, TLS and the cap on requests in
// flight are decided here once.
//
// What a Client guarantees:
//  - Connections are reused: each of its (at most `max_in_flight`) curl handles keeps its
//    own keep-alive connections, and the handles share one DNS cache.
//  - Every request ends within a bound: `connect_timeout` to connect, `stall_timeout`
//    without a byte moving, `request_timeout` in all. A request never waits forever for a
//    free handle either: after `queue_timeout` it fails (kIOError, "too many requests in
//    flight"), so a slow server can hold at most `max_in_flight` FUSE workers; the others
//    answer from what is cached, or fail fast. With `max_waiting` set, at most that many
//    more callers are inside Send at once (waiting for a handle, or between tries) or
//    admitted to wait for another caller's request (Admit); any more fail at once
//    (kIOError, "too many requests waiting"), so the threads a stalled server can hold
//    are bounded by max_in_flight + max_waiting, not by the callers.
//  - Transport failures (refused, reset, timed out) and the responses a server sends when
//    it is busy (429, 500, 502, 503, 504) are retried, up to `retries` more times with
//    growing waits (`backoff`, doubled each time, with jitter), for requests marked
//    idempotent. The Response of the last try is returned (so a caller sees the 503 when
//    retries run out); only a transport failure with no response at all is an error.
//  - TLS is verified unless `verify_tls` is false; `ca_file` replaces the system's bundle.
//  - Secrets never leave through here: messages name the method and the URL's scheme,
//    host and path (no user info, no query), never a header or a body.
// Thread-safe: any number of threads may call Send at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/status.h"

namespace zenfs::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;    // absolute http:// or https:// URL, already escaped
  Headers headers;    // sent as given (e.g. Authorization, Range, x-amz-*)
  std::string body;   // sent for any method when non-empty (and for POST/PUT always)
  // May be sent again after a failure: GET, HEAD and anything else the caller declares so.
  bool idempotent = true;
  // The response body goes straight into [into, into + into_cap) instead of
  // Response::body (a ranged GET into a read buffer): more than into_cap bytes is an error.
  char* into = nullptr;
  std::size_t into_cap = 0;
  // When non-zero, replace the client's stall_timeout and request_timeout for this request
  // only: a page of a large list takes a server minutes to compute, sending no byte
  // meanwhile, while other requests keep the client's short bounds.
  std::chrono::milliseconds stall_timeout{0};
  std::chrono::milliseconds request_timeout{0};
};

struct Response {
  long status = 0;
  Headers headers;     // names lower-cased, in the order received (the last response's)
  std::string body;    // empty when the request had `into`
  std::size_t body_size = 0;  // bytes received (into `into`, or body.size())
  // The value of header `name` (lower-case), "" if absent.
  std::string Header(std::string_view name) const;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds stall_timeout{15000};    // no byte received for this long
  std::chrono::milliseconds request_timeout{60000};  // one try, start to end
  std::chrono::milliseconds queue_timeout{10000};    // waiting for a free handle
  int retries = 2;
  std::chrono::milliseconds backoff{200};
  int max_in_flight = 4;
  int max_waiting = -1;  // callers inside Send beyond max_in_flight; -1: no bound
  bool verify_tls = true;
  std::string ca_file;  // "" = the system's CA bundle
  // Bodies larger than this (into Response::body) fail: a hostile server cannot make
  // the daemon allocate without bound.
  std::size_t max_body = 256u << 20;
  std::string user_agent = "zenfs";
};

// What a Client has done, for tests and `meta.json`-free diagnostics.
struct ClientStats {
  std::uint64_t requests = 0;     // tries sent, retries included
  std::uint64_t retries = 0;
  std::uint64_t connections = 0;  // new connections opened (reuse keeps this low)
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `req` (with retries, as above). kIOError when no response came, with a message
  // naming the method, the URL without query and the reason.
  Result<Response> Send(const Request& req);

  // A place among the callers `max_waiting` bounds, held while it lives. Send takes one
  // for each call; a thread that waits for what another caller's request will deliver (a
  // block a read-ahead thread is fetching) takes one too, since a stalled server holds
  // it as much as one inside Send. `admitted()` is false when the bound was already
  // reached: the caller fails instead of waiting (the place is not taken).
  class Admission {
   public:
    Admission(Admission&& other) noexcept : callers_(std::exchange(other.callers_, nullptr)) {}
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;
    Admission& operator=(Admission&&) = delete;
    ~Admission() {
      if (callers_ != nullptr) --*callers_;
    }
    bool admitted() const { return callers_ != nullptr; }

   private:
    friend class Client;
    explicit Admission(std::atomic<int>* callers) : callers_(callers) {}
    std::atomic<int>* callers_;  // null when refused
  };
  Admission Admit();
  // Why a caller was not admitted: "too many requests waiting (N in flight, M waiting)".
  std::string WaitingRefusal() const;

  ClientStats stats() const;
  const ClientOptions& options() const { return options_; }

 private:
  class Pool;
  ClientOptions options_;
  std::unique_ptr<Pool> pool_;
};

// "scheme://host[:port]/path" of `url`: no user info, no query, no fragment. For messages.
std::string Redact(std::string_view url);

// Percent-encodes `s` for a URL: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, and
// '/' stays too when keep_slash. (RFC 3986; SigV4 needs exactly this.)
std::string PercentEncode(std::string_view s, bool keep_slash = false);

// An `application/x-www-form-urlencoded` body from name/value pairs.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace zenfs::http
