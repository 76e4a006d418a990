// A ZenML server's REST API as zenfs uses it: where the server is and how to log in
// (RestConfig), and a session that logs in the way ZenML's own client does, keeps the
// bearer token and GETs JSON through the one HTTP layer (store/http.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/http.h"
#include "store/status.h"

namespace zenfs {

// A ZenML server and its credentials. The secrets (api_key, password, api_token) are kept
// here only: Redacted, Describe and every message leave them out.
struct RestConfig {
  std::string url;  // http(s)://HOST[:PORT][/PATH], no trailing slash, no query
  // One way to log in, in this order of preference: a service account's API key
  // (grant_type=zenml-api-key), a user's name and password, or a token `zenml login`
  // left in credentials.yaml (used as it is; it cannot be renewed without the others).
  std::string api_key;
  std::string username;
  std::string password;
  bool has_password = false;  // a password was given (it may be empty: ZenML's `default`)
  std::string api_token;
  // TLS: verified unless verify_tls is false; ca_file replaces the system's bundle.
  bool verify_tls = true;
  std::string ca_file;

  // The URL (never a secret): what meta.json and messages name.
  std::string Redacted() const { return url; }
};

// Checks and normalizes `http(s)://HOST[:PORT][/PATH]` (trailing slashes dropped).
// InvalidArgument for another scheme, no host, a query or fragment, or user info (a URL is
// shown in meta.json and ps: credentials go in files or the environment).
Result<std::string> NormalizeRestUrl(std::string_view url);

// ZENML_STORE_VERIFY_SSL as ZenML reads it: "false"/"0"/"no" turn verification off,
// "true"/"1"/"yes"/"" keep it on, anything else is a CA bundle's path.
void ApplyVerifySsl(std::string_view value, RestConfig* config);

// A UUID as ZenML's SQL store keeps it (32 hex digits, no dashes); other text unchanged.
std::string UndashedId(std::string_view id);

// One logged-in connection to a ZenML server. Thread-safe: any number of threads may Get
// at once; a login is made by one of them while the others wait for its token.
class RestSession {
 public:
  // What the session says about its credentials failing: called once when a login the
  // server refuses follows one that worked (a revoked or expired key).
  using Notify = std::function<void(const std::string& message)>;

  // Logs in (when the config has credentials) and reads the server's version from
  // /api/v1/info. Errors name the URL: IOError (unreachable, TLS), PermissionDenied (login
  // refused), Unsupported (not a ZenML server).
  static Result<std::unique_ptr<RestSession>> Open(RestConfig config, http::ClientOptions options = {},
                                                   Notify notify = nullptr);
  ~RestSession();

  // GET `/api/v1` + `path_and_query` (already escaped), as JSON. A 401 logs in again once
  // and sends the request again; NotFound for 404, PermissionDenied for a refused login or
  // 403, IOError for the rest (the message names the status and the server's detail).
  // `wait`, when non-zero, replaces the client's stall and request bounds for this GET (a
  // page of a large list: http::Request::stall_timeout).
  Result<nlohmann::ordered_json> Get(const std::string& path_and_query,
                                     std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  // The server's version, e.g. "0.74.0", and its major/minor numbers (0, 74).
  const std::string& version() const { return version_; }
  int minor_version() const { return minor_; }
  int major_version() const { return major_; }
  std::string Describe() const { return config_.Redacted(); }
  http::ClientStats stats() const { return client_.stats(); }
  // Logins made so far (tests: a 401 leads to exactly one more).
  std::uint64_t logins() const;

 private:
  RestSession(RestConfig config, http::ClientOptions options, Notify notify);
  bool CanLogin() const { return !config_.api_key.empty() || !config_.username.empty(); }
  // Logs in unless a login newer than `seen` already gave a token. mu_ held.
  Status LoginLocked(std::uint64_t seen);
  Result<http::Response> Send(const std::string& path_and_query, std::chrono::milliseconds wait,
                              std::string* token_used, std::uint64_t* generation);
  Status ErrorOf(const http::Response& r, const std::string& what) const;

  const RestConfig config_;
  mutable http::Client client_;
  Notify notify_;
  std::string version_;
  int major_ = 0, minor_ = 0;

  mutable std::mutex mu_;
  std::string token_;             // guarded
  std::uint64_t generation_ = 0;  // guarded: logins made
  bool logged_in_once_ = false;   // guarded
  bool refused_told_ = false;     // guarded
  std::optional<std::int64_t> expires_at_;  // guarded: steady-clock seconds, when known
};

}  // namespace zenfs
