#include "store/s3_client.h"

#include <charconv>
#include <chrono>
#include <cstring>
#include <set>
#include <utility>

#include "store/s3_xml.h"
#include "store/sigv4.h"

namespace zenfs {

namespace {

// Reads smaller than this go through Response::body and are copied, so that an error
// document (a few hundred bytes) never overflows a small caller buffer and loses its code.
constexpr std::size_t kMinDirectRead = 8192;
// S3's limits: an object key is at most 1024 bytes; a bucket name 3 to 63 characters
// (older buckets up to 255 with capitals and '_', which we still read).
constexpr std::size_t kMaxKey = 1024;
constexpr std::size_t kMaxBucket = 255;

bool ValidBucket(std::string_view b) {
  if (b.empty() || b.size() > kMaxBucket) return false;
  for (char c : b) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return b != "." && b != "..";
}

bool ValidKey(std::string_view k) {
  return k.size() <= kMaxKey && k.find('\0') == std::string_view::npos;
}

// "s3://bucket/key" for messages.
std::string Name(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + (key.empty() ? "" : "/" + key);
}

// Server text for a message: printable ASCII only, bounded.
std::string Printable(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

bool ParseU64(std::string_view s, std::uint64_t* v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// The Status for an S3 error response (store/s3_client.h lists the mapping). `what` is
// "GET s3://bucket/key"; `body` the error document (empty for HEAD).
Status ErrorStatus(const std::string& what, long http_status, std::string_view body) {
  const std::string code = s3xml::FirstText(body, "Code");
  const std::string message = s3xml::FirstText(body, "Message");
  std::string text = what + ": " + (code.empty() ? "HTTP " + std::to_string(http_status)
                                                  : Printable(code) + " (HTTP " +
                                                        std::to_string(http_status) + ")");
  if (!message.empty()) text += ": " + Printable(message);
  static const std::set<std::string> kNotFound = {"NoSuchKey", "NoSuchBucket", "NotFound"};
  static const std::set<std::string> kDenied = {
      "AccessDenied",  "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
      "InvalidToken",  "TokenRefreshRequired", "AllAccessDisabled",   "AuthorizationHeaderMalformed",
      "MissingSecurityHeader", "InvalidClientTokenId", "Forbidden"};
  if (kNotFound.count(code)) return Status::NotFound(text);
  if (kDenied.count(code)) return Status::PermissionDenied(text);
  if (code == "PreconditionFailed") return Status::Stale(text);
  if (code.empty()) {  // HEAD, or a server that sent no document
    if (http_status == 404) return Status::NotFound(text);
    if (http_status == 403 || http_status == 401) return Status::PermissionDenied(text);
    if (http_status == 412) return Status::Stale(text);
  }
  return Status::IOError(text);
}

}  // namespace

// One request as the client methods describe it.
struct S3Client::Call {
  Call(std::string m, std::string b, std::string k)
      : method(std::move(m)), bucket(std::move(b)), key(std::move(k)) {}
  std::string method;
  std::string bucket;
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;
  http::Headers headers;
  std::string_view body;
  char* into = nullptr;
  std::size_t into_cap = 0;
};

S3Client::S3Client(std::shared_ptr<http::Client> http, S3Endpoint endpoint,
                   std::shared_ptr<AwsCredentialsProvider> credentials)
    : http_(std::move(http)), endpoint_(std::move(endpoint)), credentials_(std::move(credentials)) {
  while (!endpoint_.url.empty() && endpoint_.url.back() == '/') endpoint_.url.pop_back();
  if (endpoint_.region.empty()) endpoint_.region = "us-east-1";
  if (endpoint_.list_page_size == 0 || endpoint_.list_page_size > 1000) {
    endpoint_.list_page_size = 1000;
  }
}

Result<S3Client::Target> S3Client::Locate(const std::string& bucket, const std::string& key) const {
  if (!ValidBucket(bucket)) {
    return Status::InvalidArgument("not an S3 bucket name: '" + Printable(bucket) + "'");
  }
  if (!ValidKey(key)) return Status::InvalidArgument("not an S3 key: " + Name(bucket, Printable(key)));
  const auto scheme_end = endpoint_.url.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : endpoint_.url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("S3 endpoint is not an http(s) URL: " +
                                   http::Redact(endpoint_.url));
  }
  const std::string rest = endpoint_.url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string base = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.empty() || authority.find_first_of("@?#") != std::string::npos) {
    return Status::InvalidArgument("S3 endpoint has no plain host: " + http::Redact(endpoint_.url));
  }
  Target t;
  if (endpoint_.path_style) {
    t.host = authority;
    t.path = base + "/" + bucket + (key.empty() ? "" : "/" + key);
  } else {
    t.host = bucket + "." + authority;
    t.path = base + "/" + key;
  }
  t.url = scheme + "://" + t.host + sigv4::EscapePath(t.path);
  return t;
}

Result<http::Response> S3Client::Send(const Call& call) {
  auto target = Locate(call.bucket, call.key);
  if (!target.ok()) return target.status();
  auto creds = credentials_->Get();
  if (!creds.ok()) return creds.status();

  sigv4::Request sreq;
  sreq.method = call.method;
  sreq.host = target->host;
  sreq.path = target->path;
  sreq.query = call.query;
  sreq.headers = call.headers;
  sreq.payload_hash = call.body.empty() ? sigv4::kEmptyPayloadHash : sigv4::Sha256Hex(call.body);

  http::Request req;
  req.method = call.method;
  req.url = target->url;
  if (!call.query.empty()) req.url += "?" + sigv4::QueryString(call.query);
  req.headers = sigv4::Sign(sreq, *creds, {endpoint_.region, "s3"},
                            std::chrono::system_clock::now(), /*content_sha256_header=*/true);
  req.body = std::string(call.body);
  req.idempotent = true;  // every call here: reads, and PUTs of a whole object or a bucket
  req.into = call.into;
  req.into_cap = call.into_cap;
  return http_->Send(req);
}

Result<S3Listing> S3Client::List(const std::string& bucket, const std::string& prefix,
                                 std::size_t max_keys) {
  if (!prefix.empty() && prefix.back() != '/') {
    return Status::InvalidArgument("S3 listing prefix must end in '/': " + Name(bucket, prefix));
  }
  const std::string what = "LIST " + Name(bucket, prefix);
  S3Listing out;
  std::string token;
  std::set<std::string> tokens_seen;
  // Empty pages with fresh tokens must not go on forever either.
  const std::size_t max_pages = max_keys / endpoint_.list_page_size + 16;
  for (std::size_t page = 0;; ++page) {
    if (page >= max_pages) return Status::IOError(what + ": too many listing pages");
    Call call{"GET", bucket, ""};
    call.query = {{"list-type", "2"},
                  {"delimiter", "/"},
                  {"max-keys", std::to_string(endpoint_.list_page_size)}};
    if (!prefix.empty()) call.query.emplace_back("prefix", prefix);
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    auto resp = Send(call);
    if (!resp.ok()) return resp.status();
    if (resp->status != 200) return ErrorStatus(what, resp->status, resp->body);
    const std::string_view xml = resp->body;
    if (xml.find("<ListBucketResult") == std::string_view::npos) {
      return Status::IOError(what + ": the response is not a listing");
    }
    for (std::string_view contents : s3xml::Elements(xml, "Contents")) {
      bool has_key = false;
      bool has_size = false;
      S3Object obj;
      obj.key = s3xml::FirstText(contents, "Key", &has_key);
      const std::string size = s3xml::FirstText(contents, "Size", &has_size);
      obj.etag = StripQuotes(s3xml::FirstText(contents, "ETag"));
      if (!has_key || !has_size || !ParseU64(size, &obj.size)) {
        return Status::IOError(what + ": a listed object without a key or a size");
      }
      if (obj.key.compare(0, prefix.size(), prefix) != 0 || !ValidKey(obj.key)) {
        return Status::IOError(what + ": the server listed a key outside the prefix");
      }
      if (obj.key == prefix) continue;  // the "folder" object itself
      out.objects.push_back(std::move(obj));
    }
    for (std::string_view common : s3xml::Elements(xml, "CommonPrefixes")) {
      std::string p = s3xml::FirstText(common, "Prefix");
      if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0 ||
          p.back() != '/' || !ValidKey(p)) {
        return Status::IOError(what + ": the server listed a folder outside the prefix");
      }
      out.prefixes.push_back(std::move(p));
    }
    if (out.objects.size() + out.prefixes.size() > max_keys) {
      return Status::IOError(what + ": more than " + std::to_string(max_keys) + " names");
    }
    if (s3xml::FirstText(xml, "IsTruncated") != "true") break;
    token = s3xml::FirstText(xml, "NextContinuationToken");
    if (token.empty() || !tokens_seen.insert(token).second) {
      return Status::IOError(what + ": a truncated listing without a new continuation token");
    }
  }
  return out;
}

Result<S3Object> S3Client::Head(const std::string& bucket, const std::string& key) {
  const std::string what = "HEAD " + Name(bucket, key);
  if (key.empty()) return Status::InvalidArgument(what + ": no key");
  Call call{"HEAD", bucket, key};
  auto resp = Send(call);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return ErrorStatus(what, resp->status, resp->body);
  S3Object obj;
  obj.key = key;
  obj.etag = StripQuotes(resp->Header("etag"));
  if (!ParseU64(resp->Header("content-length"), &obj.size)) {
    return Status::IOError(what + ": no Content-Length");
  }
  return obj;
}

Result<std::size_t> S3Client::GetRange(const std::string& bucket, const std::string& key,
                                       std::uint64_t offset, std::size_t n, char* buf,
                                       const std::string& etag) {
  const std::string what = "GET " + Name(bucket, key);
  if (key.empty()) return Status::InvalidArgument(what + ": no key");
  if (n == 0) return std::size_t{0};
  Call call{"GET", bucket, key};
  call.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-" +
                                         std::to_string(offset + n - 1));
  if (!etag.empty()) call.headers.emplace_back("If-Match", "\"" + etag + "\"");
  const bool direct = n >= kMinDirectRead;
  if (direct) {
    call.into = buf;
    call.into_cap = n;
  }
  auto resp = Send(call);
  if (!resp.ok()) return resp.status();
  const char* got = direct ? buf : resp->body.data();
  const std::size_t size = direct ? resp->body_size : resp->body.size();
  if (resp->status == 416) return std::size_t{0};  // InvalidRange: at or past the end
  if (resp->status != 206 && resp->status != 200) {
    return ErrorStatus(what, resp->status, std::string_view(got, size));
  }
  if (resp->status == 200) {
    // The server sent the whole object: fine only if that is exactly what was asked.
    if ((offset != 0 && size != 0) || size > n) {
      return Status::IOError(what + ": the server ignored the range");
    }
  } else {
    // "bytes START-END/TOTAL" must be the range asked for, and match what came.
    const std::string range = resp->Header("content-range");
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    const auto dash = range.find('-');
    const auto slash = range.find('/');
    if (range.rfind("bytes ", 0) != 0 || dash == std::string::npos || slash == std::string::npos ||
        slash < dash || !ParseU64(std::string_view(range).substr(6, dash - 6), &start) ||
        !ParseU64(std::string_view(range).substr(dash + 1, slash - dash - 1), &end) ||
        start != offset || end < start || end - start + 1 != size || size > n) {
      return Status::IOError(what + ": a ranged response that does not match the range asked");
    }
  }
  if (!etag.empty() && !resp->Header("etag").empty() &&
      StripQuotes(resp->Header("etag")) != etag) {
    return Status::Stale(what + ": the object changed (its ETag is not the one asked for)");
  }
  if (!direct) std::memcpy(buf, got, size);
  return size;
}

Status S3Client::CreateBucket(const std::string& bucket) {
  const std::string what = "CREATE BUCKET " + Name(bucket, "");
  Call call{"PUT", bucket, ""};
  std::string body;
  if (endpoint_.region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<LocationConstraint>" + endpoint_.region + "</LocationConstraint>"
           "</CreateBucketConfiguration>";
  }
  call.body = body;
  if (!body.empty()) call.headers.emplace_back("Content-Type", "application/xml");
  auto resp = Send(call);
  if (!resp.ok()) return resp.status();
  if (resp->status == 200) return Status::Ok();
  if (s3xml::FirstText(resp->body, "Code") == "BucketAlreadyOwnedByYou") return Status::Ok();
  return ErrorStatus(what, resp->status, resp->body);
}

Status S3Client::Put(const std::string& bucket, const std::string& key, std::string_view body) {
  const std::string what = "PUT " + Name(bucket, key);
  if (key.empty()) return Status::InvalidArgument(what + ": no key");
  Call call{"PUT", bucket, key};
  call.body = body;
  // Said explicitly: a body without a type goes out as a form (curl's default for a body),
  // which a server may parse as one instead of storing the bytes.
  call.headers.emplace_back("Content-Type", "application/octet-stream");
  auto resp = Send(call);
  if (!resp.ok()) return resp.status();
  if (resp->status == 200) return Status::Ok();
  return ErrorStatus(what, resp->status, resp->body);
}

Result<S3Uri> ParseS3Uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  auto bad = [&uri](const std::string& why) {
    return Status::InvalidArgument("not an S3 URI (" + why + "): " + Printable(uri));
  };
  if (uri.substr(0, kScheme.size()) != kScheme) return bad("no s3:// scheme");
  if (uri.find('\0') != std::string_view::npos) return bad("NUL");
  std::string_view rest = uri.substr(kScheme.size());
  const auto slash = rest.find('/');
  S3Uri out;
  out.bucket = std::string(rest.substr(0, slash));
  if (!ValidBucket(out.bucket)) return bad("no valid bucket");
  if (slash != std::string_view::npos) out.key = std::string(rest.substr(slash + 1));
  if (!out.key.empty() && out.key.front() == '/') return bad("empty path segment");
  if (!ValidKey(out.key)) return bad("key too long");
  // No "." or ".." segments: a key names one object, never a walk out of a prefix.
  std::size_t start = 0;
  while (start <= out.key.size() && !out.key.empty()) {
    const auto end = out.key.find('/', start);
    const std::string_view seg =
        std::string_view(out.key).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (seg == ".." || seg == ".") return bad("'.' or '..' in the key");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace zenfs
