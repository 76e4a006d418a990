#include "store/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace zenfs::sigv4 {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header value as SigV4 signs it: leading and trailing blanks cut, every inner run of
// blanks one space.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool blank = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

}  // namespace

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string EscapePath(std::string_view path) {
  if (path.empty()) return "/";
  return http::PercentEncode(path, /*keep_slash=*/true);
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(http::PercentEncode(name), http::PercentEncode(value));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string CanonicalRequest(const Request& req, const http::Headers& extra,
                             std::string* signed_headers) {
  // Name -> values in the order given; std::map sorts the names.
  std::map<std::string, std::string> headers;
  auto add = [&headers](const std::string& name, const std::string& value) {
    std::string& slot = headers[Lower(name)];
    if (!slot.empty()) slot += ',';
    slot += CanonicalValue(value);
  };
  for (const auto& [name, value] : req.headers) add(name, value);
  for (const auto& [name, value] : extra) add(name, value);
  if (!req.host.empty() && headers.find("host") == headers.end()) add("host", req.host);

  std::string canonical_headers;
  signed_headers->clear();
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ':' + value + '\n';
    if (!signed_headers->empty()) *signed_headers += ';';
    *signed_headers += name;
  }
  return req.method + '\n' + EscapePath(req.path) + '\n' + QueryString(req.query) + '\n' +
         canonical_headers + '\n' + *signed_headers + '\n' + req.payload_hash;
}

std::string CredentialScope(std::string_view date8, const Scope& scope) {
  return std::string(date8) + '/' + scope.region + '/' + scope.service + "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + '\n' + std::string(amz_date) + '\n' +
         CredentialScope(amz_date.substr(0, 8), scope) + '\n' + Sha256Hex(canonical_request);
}

std::string SigningKey(std::string_view secret, std::string_view date8, const Scope& scope) {
  const std::string k_date = HmacSha256("AWS4" + std::string(secret), date8);
  const std::string k_region = HmacSha256(k_date, scope.region);
  const std::string k_service = HmacSha256(k_region, scope.service);
  return HmacSha256(k_service, "aws4_request");
}

std::string Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return Hex(HmacSha256(signing_key, string_to_sign));
}

http::Headers Sign(const Request& req, const AwsCredentials& creds, const Scope& scope,
                   std::chrono::system_clock::time_point now, bool content_sha256_header) {
  const std::string amz_date = AmzDate(now);
  http::Headers extra = {{"x-amz-date", amz_date}};
  if (content_sha256_header) extra.emplace_back("x-amz-content-sha256", req.payload_hash);
  if (!creds.session_token.empty()) {
    extra.emplace_back("x-amz-security-token", creds.session_token);
  }
  std::string signed_headers;
  const std::string canonical = CanonicalRequest(req, extra, &signed_headers);
  const std::string date8 = amz_date.substr(0, 8);
  const std::string signature = Signature(SigningKey(creds.secret_access_key, date8, scope),
                                          StringToSign(amz_date, scope, canonical));

  http::Headers out;
  out.emplace_back("Host", req.host);
  for (const auto& h : req.headers) out.push_back(h);
  for (const auto& h : extra) out.push_back(h);
  out.emplace_back("Authorization", std::string(kAlgorithm) + " Credential=" +
                                        creds.access_key_id + '/' +
                                        CredentialScope(date8, scope) +
                                        ", SignedHeaders=" + signed_headers +
                                        ", Signature=" + signature);
  return out;
}

}  // namespace zenfs::sigv4
