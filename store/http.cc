#include "store/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace zenfs::http {
namespace {

// curl_global_init is not thread-safe: once per process, before the first handle.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Where one try's response goes while curl receives it.
struct Sink {
  Response* response;
  const Request* request;
  std::size_t max_body;
  bool overflow = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * nmemb;
  Response& r = *sink->response;
  if (sink->request->into != nullptr) {
    if (r.body_size + n > sink->request->into_cap) {
      sink->overflow = true;
      return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    std::memcpy(sink->request->into + r.body_size, data, n);
  } else {
    if (r.body.size() + n > sink->max_body) {
      sink->overflow = true;
      return 0;
    }
    r.body.append(data, n);
  }
  r.body_size += n;
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response begins (after a 100 Continue, say): only the last one's headers count.
    sink->response->headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    sink->response->headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                         std::string(Trim(line.substr(colon + 1))));
  }
  return n;
}

// Failures worth another try: the connection, not the request, went wrong.
bool TransientTransport(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Responses of a server that is busy or restarting, not of a bad request.
bool TransientStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

long CeilSeconds(std::chrono::milliseconds ms) {
  return std::max<long>(1, static_cast<long>((ms.count() + 999) / 1000));
}

}  // namespace

std::string Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

// The curl handles of a Client: at most max_in_flight, each reused (with its keep-alive
// connections) by one request at a time, and one DNS cache shared by all of them.
class Client::Pool {
 public:
  explicit Pool(int size) : size_(std::max(1, size)) {
    GlobalInit();
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Pool::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Pool::Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
  ~Pool() {
    for (CURL* h : free_) curl_easy_cleanup(h);
    curl_share_cleanup(share_);
  }

  // A handle, or null when none came free within `wait`.
  CURL* Acquire(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, wait, [&] { return !free_.empty() || made_ < size_; })) return nullptr;
    if (!free_.empty()) {
      CURL* h = free_.back();
      free_.pop_back();
      return h;
    }
    ++made_;
    lock.unlock();
    CURL* h = curl_easy_init();
    if (h == nullptr) {
      std::lock_guard<std::mutex> again(mu_);
      --made_;
      cv_.notify_one();
    }
    return h;
  }

  void Release(CURL* h) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(h);
    }
    cv_.notify_one();
  }

  CURLSH* share() const { return share_; }

  std::atomic<std::uint64_t> requests{0}, retries{0}, connections{0};
  std::atomic<int> callers{0};  // admitted: inside Send, or waiting on another's request

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Pool*>(user)->share_mu_[static_cast<std::size_t>(data) % kLocks].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Pool*>(user)->share_mu_[static_cast<std::size_t>(data) % kLocks].unlock();
  }

  static constexpr std::size_t kLocks = 8;
  const int size_;
  CURLSH* share_;
  std::array<std::mutex, kLocks> share_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CURL*> free_;
  int made_ = 0;
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>(options_.max_in_flight)) {}

Client::~Client() = default;

Client::Admission Client::Admit() {
  const int count = ++pool_->callers;
  if (options_.max_waiting >= 0 && count > options_.max_in_flight + options_.max_waiting) {
    --pool_->callers;
    return Admission(nullptr);
  }
  return Admission(&pool_->callers);
}

std::string Client::WaitingRefusal() const {
  return "too many requests waiting (" + std::to_string(options_.max_in_flight) + " in flight, " +
         std::to_string(options_.max_waiting) + " waiting)";
}

ClientStats Client::stats() const {
  return ClientStats{pool_->requests.load(), pool_->retries.load(), pool_->connections.load()};
}

Result<Response> Client::Send(const Request& req) {
  const std::string where = req.method + " " + Redact(req.url);
  // Counted from here to every return: a caller backing off between tries holds its
  // thread as much as one waiting for a handle.
  const Admission admission = Admit();
  if (!admission.admitted()) return Status::IOError(where + ": " + WaitingRefusal());
  thread_local std::mt19937 jitter(std::random_device{}());
  std::chrono::milliseconds wait = options_.backoff;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      ++pool_->retries;
      std::uniform_int_distribution<long> spread(wait.count() / 2, wait.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(spread(jitter)));
      wait *= 2;
    }
    const bool last = attempt >= options_.retries || !req.idempotent;
    CURL* h = pool_->Acquire(options_.queue_timeout);
    if (h == nullptr) return Status::IOError(where + ": too many requests in flight");
    curl_easy_reset(h);  // keeps the handle's connections and the share
    Response response;
    Sink sink{&response, &req, options_.max_body};
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    // No "Expect: 100-continue" round trip for bodies; no compression (ranges must be
    // exact bytes).
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_SHARE, pool_->share());
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    const auto request_timeout = req.request_timeout.count() > 0 ? req.request_timeout : options_.request_timeout;
    const auto stall_timeout = req.stall_timeout.count() > 0 ? req.stall_timeout : options_.stall_timeout;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, CeilSeconds(stall_timeout));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    if (req.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET" || !req.body.empty()) {
      if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    }
    ++pool_->requests;
    const CURLcode code = curl_easy_perform(h);
    long status = 0;
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    pool_->connections += static_cast<std::uint64_t>(connects);
    // The handle must not keep pointers into this frame.
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    pool_->Release(h);
    curl_slist_free_all(headers);
    if (sink.overflow) {
      return Status::IOError(where + ": response body larger than " +
                             std::to_string(req.into != nullptr ? req.into_cap : options_.max_body) +
                             " bytes");
    }
    if (code != CURLE_OK) {
      if (!last && TransientTransport(code)) continue;
      const std::string detail = error[0] != '\0' ? error : curl_easy_strerror(code);
      return Status::IOError(where + ": " + detail);
    }
    response.status = status;
    if (!last && TransientStatus(status)) continue;
    return response;
  }
}

std::string Redact(std::string_view url) {
  std::string_view scheme;
  const std::size_t sep = url.find("://");
  if (sep != std::string_view::npos) {
    scheme = url.substr(0, sep + 3);
    url.remove_prefix(sep + 3);
  }
  url = url.substr(0, url.find_first_of("?#"));
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string out(scheme);
  out += authority;
  if (slash != std::string_view::npos) out += url.substr(slash);
  return out;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += PercentEncode(name);
    out += '=';
    out += PercentEncode(value);
  }
  return out;
}

}  // namespace zenfs::http
