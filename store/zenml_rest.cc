#include "store/zenml_rest.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "store/json_limits.h"

namespace zenfs {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kApi = "/api/v1";

std::int64_t SteadySeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a ZenML error body says: {"detail": ["KeyError", "..."]}, a bare ["ValueError",
// "..."] (FastAPI's own validation) or {"detail": "..."}; "" when it says nothing
// readable. Cut short: it is for one line of a message.
std::string DetailOf(const std::string& body) {
  const json j = ParseStoreJson<json>(body);
  const json* d = &j;
  if (j.is_object() && j.contains("detail")) d = &j["detail"];
  std::string out;
  if (d->is_string()) out = d->get<std::string>();
  if (d->is_array()) {
    for (const json& part : *d) {
      if (!part.is_string()) continue;
      if (!out.empty()) out += ": ";
      out += part.get<std::string>();
    }
  }
  if (out.size() > 300) out = out.substr(0, 300) + "...";
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

Result<std::string> NormalizeRestUrl(std::string_view url) {
  std::string u(url);
  const std::string shown = http::Redact(u);
  const std::size_t scheme_end = u.find("://");
  if (scheme_end == std::string::npos || (u.substr(0, scheme_end) != "http" && u.substr(0, scheme_end) != "https")) {
    return Status::InvalidArgument(shown + ": not an http:// or https:// URL");
  }
  const std::size_t host = scheme_end + 3;
  const std::size_t authority_end = u.find_first_of("/?#", host);
  const std::string authority = u.substr(host, authority_end == std::string::npos ? std::string::npos : authority_end - host);
  if (authority.find('@') != std::string::npos) {
    return Status::InvalidArgument(shown +
                                   ": credentials in the URL are not taken (use --api-key-file, ZENML_STORE_API_KEY "
                                   "or credentials.yaml)");
  }
  if (authority.empty() || authority[0] == ':') return Status::InvalidArgument(shown + ": the URL names no host");
  if (u.find_first_of("?#", host) != std::string::npos) {
    return Status::InvalidArgument(shown + ": a ZenML server URL has no query or fragment");
  }
  while (u.size() > host && u.back() == '/') u.pop_back();
  return u;
}

void ApplyVerifySsl(std::string_view value, RestConfig* config) {
  std::string v(value);
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v.empty() || v == "true" || v == "1" || v == "yes") return;
  if (v == "false" || v == "0" || v == "no") {
    config->verify_tls = false;
    return;
  }
  config->ca_file = std::string(value);
}

std::string UndashedId(std::string_view id) {
  if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-') return std::string(id);
  std::string out;
  out.reserve(32);
  for (char c : id) {
    if (c != '-') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

RestSession::RestSession(RestConfig config, http::ClientOptions options, Notify notify)
    : config_(std::move(config)), client_(std::move(options)), notify_(std::move(notify)) {
  token_ = config_.api_token;
}

RestSession::~RestSession() = default;

std::uint64_t RestSession::logins() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

Status RestSession::ErrorOf(const http::Response& r, const std::string& what) const {
  const std::string detail = DetailOf(r.body);
  const std::string msg = config_.url + ": " + what + ": HTTP " + std::to_string(r.status) +
                          (detail.empty() ? std::string() : " (" + detail + ")");
  if (r.status == 404) return Status::NotFound(msg);
  if (r.status == 401 || r.status == 403) return Status::PermissionDenied(msg);
  return Status::IOError(msg);
}

Status RestSession::LoginLocked(std::uint64_t seen) {
  if (generation_ != seen) return Status::Ok();  // another thread logged in meanwhile
  std::vector<std::pair<std::string, std::string>> form;
  std::string how;
  if (!config_.api_key.empty()) {
    form = {{"grant_type", "zenml-api-key"}, {"password", config_.api_key}};
    how = "the API key";
  } else {
    form = {{"username", config_.username}, {"password", config_.password}};
    how = "user " + config_.username;
  }
  http::Request req;
  req.method = "POST";
  req.url = config_.url + kApi + "/login";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = http::FormEncode(form);
  req.idempotent = true;  // a login changes nothing a second try would repeat wrongly
  auto r = client_.Send(req);
  if (!r.ok()) return Status::IOError(r.status().message());
  if (r->status != 200) {
    Status s = ErrorOf(*r, "login with " + how + " refused");
    if (r->status == 401 || r->status == 403) {
      s = Status::PermissionDenied(config_.url + ": the server refused the login with " + how +
                                   " (revoked, expired or wrong?)");
      if (logged_in_once_ && !refused_told_ && notify_) notify_(s.message());
      refused_told_ = true;
    }
    return s;
  }
  const json j = ParseStoreJson<json>(r->body);
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string()) {
    return Status::Unsupported(config_.url + ": the login answered without an access token (not a ZenML server?)");
  }
  token_ = j["access_token"].get<std::string>();
  expires_at_.reset();
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
    // Renewed a little early, so a request never starts with a token about to lapse.
    const std::int64_t in = j["expires_in"].get<std::int64_t>();
    expires_at_ = SteadySeconds() + std::max<std::int64_t>(in - 30, in / 2);
  }
  ++generation_;
  logged_in_once_ = true;
  refused_told_ = false;
  return Status::Ok();
}

Result<http::Response> RestSession::Send(const std::string& path_and_query, std::chrono::milliseconds wait,
                                         std::string* token_used, std::uint64_t* generation) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (CanLogin() && (token_.empty() || (expires_at_ && SteadySeconds() >= *expires_at_))) {
      Status s = LoginLocked(generation_);
      if (!s.ok()) return s;
    }
    *token_used = token_;
    *generation = generation_;
  }
  http::Request req;
  req.url = config_.url + kApi + path_and_query;
  req.stall_timeout = wait;
  req.request_timeout = wait;
  req.headers = {{"Accept", "application/json"}};
  if (!token_used->empty()) req.headers.emplace_back("Authorization", "Bearer " + *token_used);
  return client_.Send(req);
}

Result<json> RestSession::Get(const std::string& path_and_query, std::chrono::milliseconds wait) {
  std::string token;
  std::uint64_t generation = 0;
  auto r = Send(path_and_query, wait, &token, &generation);
  if (r.ok() && r->status == 401 && CanLogin()) {
    // The token lapsed or the server forgot it (restarted with another secret): log in
    // again, once, and send the request that noticed it again.
    {
      std::lock_guard<std::mutex> lock(mu_);
      Status s = LoginLocked(generation);
      if (!s.ok()) return s;
    }
    r = Send(path_and_query, wait, &token, &generation);
  }
  if (!r.ok()) return r.status();
  const std::string what = "GET " + http::Redact(config_.url + kApi + path_and_query);
  if (r->status == 401 && !CanLogin()) {
    return Status::PermissionDenied(config_.url + ": " + what + ": HTTP 401: the server needs credentials (" +
                                    (config_.api_token.empty() ? "--api-key-file, ZENML_STORE_API_KEY or `zenml login`"
                                                               : "the token in credentials.yaml has expired; "
                                                                 "`zenml login` again or give an API key") +
                                    ")");
  }
  if (r->status != 200) return ErrorOf(*r, what);
  json j = ParseStoreJson<json>(r->body);
  if (j.is_discarded()) return Status::Corruption(config_.url + ": " + what + ": the answer is not JSON");
  return j;
}

Result<std::unique_ptr<RestSession>> RestSession::Open(RestConfig config, http::ClientOptions options,
                                                       Notify notify) {
  options.verify_tls = config.verify_tls;
  options.ca_file = config.ca_file;
  std::unique_ptr<RestSession> s(new RestSession(std::move(config), std::move(options), std::move(notify)));
  auto info = s->Get("/info");
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) {
      return Status::Unsupported(s->Describe() + ": no ZenML server here (no /api/v1/info)");
    }
    return info.status();
  }
  if (!info->is_object() || !info->contains("version") || !(*info)["version"].is_string()) {
    return Status::Unsupported(s->Describe() + ": /api/v1/info names no version (not a ZenML server?)");
  }
  s->version_ = (*info)["version"].get<std::string>();
  char* end = nullptr;
  s->major_ = static_cast<int>(std::strtol(s->version_.c_str(), &end, 10));
  if (end != nullptr && *end == '.') s->minor_ = static_cast<int>(std::strtol(end + 1, nullptr, 10));
  return s;
}

}  // namespace zenfs
