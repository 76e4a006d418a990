#include "store/aws_credentials.h"

#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/s3_xml.h"
#include "store/timefmt.h"

namespace zenfs {

namespace {

using Clock = std::chrono::system_clock;

// Temporary credentials are renewed this long before they expire.
constexpr auto kRefreshMargin = std::chrono::minutes(5);
// The shared files and a web identity token are small; a bigger one is not ours.
constexpr std::size_t kMaxFileBytes = 1 << 20;

std::string Trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Env(const std::map<std::string, std::string>& env, const std::string& name) {
  const auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

// A file's content, or nullopt when it cannot be read (or is too big to be ours).
std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out(kMaxFileBytes + 1, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  if (out.size() > kMaxFileBytes) return std::nullopt;
  return out;
}

// What identifies a version of a file without reading it.
struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  struct timespec mtime {};
  bool operator==(const FileStamp& o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
           mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

FileStamp Stamp(const std::string& path) {
  FileStamp s;
  struct stat st {};
  if (path.empty() || stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  return s;
}

std::optional<Clock::time_point> ParseExpiry(const std::string& text) {
  const auto micros = ParseStoreTime(text);
  if (!micros) return std::nullopt;
  return Clock::time_point(std::chrono::microseconds(*micros));
}

bool Fresh(const AwsCredentials& c) {
  return !c.access_key_id.empty() && (!c.expires || Clock::now() + kRefreshMargin < *c.expires);
}

// The chain of store/aws_credentials.h. Get holds the mutex for the whole lookup (one
// refresh at a time; others wait for its result rather than asking STS again).
class ChainProvider final : public AwsCredentialsProvider {
 public:
  explicit ChainProvider(AwsChainOptions o)
      : options_(std::move(o)),
        profile_(AwsProfileName(options_)),
        credentials_file_(AwsCredentialsFile(options_)),
        config_file_(AwsConfigFile(options_)) {
    http::ClientOptions imds;
    imds.connect_timeout = options_.imds_timeout;
    imds.stall_timeout = options_.imds_timeout;
    imds.request_timeout = options_.imds_timeout;
    imds.queue_timeout = options_.imds_timeout;
    imds.retries = 0;
    imds.max_in_flight = 1;
    imds_http_ = std::make_shared<http::Client>(imds);
  }

  Result<AwsCredentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> tried;

    // 1. The environment.
    const std::string id = Env(options_.env, "AWS_ACCESS_KEY_ID");
    const std::string secret = Env(options_.env, "AWS_SECRET_ACCESS_KEY");
    if (!id.empty() && !secret.empty()) {
      return AwsCredentials{id, secret, Env(options_.env, "AWS_SESSION_TOKEN"), std::nullopt};
    }
    tried.push_back("the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset)");

    // 2. The shared files, read again whenever either changed.
    if (auto from_files = FromFiles()) return *from_files;
    tried.push_back("profile '" + profile_ + "' in " + credentials_file_ + " and " + config_file_);

    // 3. Web identity.
    std::string why;
    if (auto web = FromWebIdentity(&why)) return *web;
    if (!why.empty() && why.rfind("failed", 0) == 0) {
      return Status::PermissionDenied("AWS web identity " + why);
    }
    tried.push_back("web identity (" + why + ")");

    // 4. The instance metadata service.
    if (auto imds = FromImds(&why)) return *imds;
    tried.push_back("the instance metadata service (" + why + ")");

    std::string message = "no AWS credentials found; tried ";
    for (std::size_t i = 0; i < tried.size(); ++i) message += (i ? ", " : "") + tried[i];
    return Status::PermissionDenied(message);
  }

 private:
  std::optional<AwsCredentials> FromFiles() {
    const FileStamp cs = Stamp(credentials_file_);
    const FileStamp fs = Stamp(config_file_);
    if (!(cs == credentials_stamp_) || !(fs == config_stamp_) || !files_read_) {
      files_read_ = true;
      credentials_stamp_ = cs;
      config_stamp_ = fs;
      file_credentials_.reset();
      // The credentials file names sections by the bare profile; the config file as
      // "profile NAME" (but "default" bare). The credentials file wins.
      const auto creds = ParseIni(cs.exists ? ReadSmallFile(credentials_file_).value_or("") : "");
      const auto config = ParseIni(fs.exists ? ReadSmallFile(config_file_).value_or("") : "");
      for (const auto& [sections, name] :
           {std::pair{&creds, profile_},
            std::pair{&config, profile_ == "default" ? profile_ : "profile " + profile_}}) {
        const auto it = sections->find(name);
        if (it == sections->end()) continue;
        const auto& kv = it->second;
        const auto key = kv.find("aws_access_key_id");
        const auto sec = kv.find("aws_secret_access_key");
        if (key == kv.end() || sec == kv.end() || key->second.empty() || sec->second.empty()) continue;
        const auto tok = kv.find("aws_session_token");
        file_credentials_ = AwsCredentials{key->second, sec->second,
                                           tok == kv.end() ? "" : tok->second, std::nullopt};
        break;
      }
    }
    return file_credentials_;
  }

  // *why says why not: "AWS_WEB_IDENTITY_TOKEN_FILE unset", or "failed: ..." when it was
  // configured and STS refused or could not be reached (then the chain stops there: a
  // node set up for web identity must not silently fall through to other credentials).
  std::optional<AwsCredentials> FromWebIdentity(std::string* why) {
    const std::string token_file = Env(options_.env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const std::string role = Env(options_.env, "AWS_ROLE_ARN");
    if (token_file.empty() || role.empty()) {
      *why = "AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN unset";
      return std::nullopt;
    }
    if (web_ && Fresh(*web_)) return web_;
    if (!options_.http) {
      *why = "no HTTP client for STS";
      return std::nullopt;
    }
    const auto token = ReadSmallFile(token_file);
    if (!token || Trim(*token).empty()) {
      *why = "failed: cannot read the token file " + token_file;
      return std::nullopt;
    }
    std::string session = Env(options_.env, "AWS_ROLE_SESSION_NAME");
    if (session.empty()) session = "zenfs";
    std::string endpoint = options_.sts_endpoint;
    if (endpoint.empty()) endpoint = Env(options_.env, "AWS_ENDPOINT_URL_STS");
    if (endpoint.empty()) endpoint = Env(options_.env, "AWS_ENDPOINT_URL");
    if (endpoint.empty()) endpoint = "https://sts.amazonaws.com";
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();

    // AssumeRoleWithWebIdentity is not signed: the token is the proof.
    http::Request req;
    req.method = "POST";
    req.url = endpoint + "/";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/xml"}};
    req.body = http::FormEncode({{"Action", "AssumeRoleWithWebIdentity"},
                                 {"Version", "2011-06-15"},
                                 {"RoleArn", role},
                                 {"RoleSessionName", session},
                                 {"WebIdentityToken", Trim(*token)}});
    req.idempotent = true;  // asking again gives other credentials, never harm
    auto resp = options_.http->Send(req);
    if (!resp.ok()) {
      *why = "failed: STS at " + http::Redact(endpoint) + ": " + resp.status().message();
      return std::nullopt;
    }
    if (resp->status != 200) {
      const std::string code = s3xml::FirstText(resp->body, "Code");
      *why = "failed: STS at " + http::Redact(endpoint) + " answered HTTP " +
             std::to_string(resp->status) + (code.empty() ? "" : " " + code.substr(0, 100));
      return std::nullopt;
    }
    const auto creds = s3xml::Elements(resp->body, "Credentials");
    if (creds.empty()) {
      *why = "failed: STS sent no credentials";
      return std::nullopt;
    }
    AwsCredentials c;
    c.access_key_id = s3xml::FirstText(creds.front(), "AccessKeyId");
    c.secret_access_key = s3xml::FirstText(creds.front(), "SecretAccessKey");
    c.session_token = s3xml::FirstText(creds.front(), "SessionToken");
    c.expires = ParseExpiry(s3xml::FirstText(creds.front(), "Expiration"));
    if (c.access_key_id.empty() || c.secret_access_key.empty() || !c.expires) {
      *why = "failed: STS sent incomplete credentials";
      return std::nullopt;
    }
    web_ = c;
    return web_;
  }

  std::optional<AwsCredentials> FromImds(std::string* why) {
    if (Lower(Env(options_.env, "AWS_EC2_METADATA_DISABLED")) == "true") {
      *why = "AWS_EC2_METADATA_DISABLED";
      return std::nullopt;
    }
    if (imds_ && Fresh(*imds_)) return imds_;
    const auto now = std::chrono::steady_clock::now();
    if (imds_failed_at_ && now - *imds_failed_at_ < options_.imds_retry_after) {
      *why = imds_failure_;
      return std::nullopt;
    }
    std::string endpoint = options_.imds_endpoint;
    if (endpoint.empty()) endpoint = Env(options_.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint.empty()) endpoint = "http://169.254.169.254";
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    auto fail = [&](const std::string& what) {
      imds_failed_at_ = now;
      imds_failure_ = http::Redact(endpoint) + ": " + what;
      *why = imds_failure_;
      return std::nullopt;
    };

    http::Request put;
    put.method = "PUT";
    put.url = endpoint + "/latest/api/token";
    put.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    auto token = imds_http_->Send(put);
    if (!token.ok()) return fail(token.status().message());
    if (token->status != 200 || token->body.empty()) {
      return fail("token request answered HTTP " + std::to_string(token->status));
    }
    const http::Headers auth = {{"X-aws-ec2-metadata-token", Trim(token->body)}};
    const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
    http::Request list;
    list.url = base;
    list.headers = auth;
    auto roles = imds_http_->Send(list);
    if (!roles.ok()) return fail(roles.status().message());
    const std::string role = Trim(roles->body.substr(0, roles->body.find('\n')));
    if (roles->status != 200 || role.empty() || role.find('/') != std::string::npos) {
      return fail("no instance role (HTTP " + std::to_string(roles->status) + ")");
    }
    http::Request get;
    get.url = base + http::PercentEncode(role);
    get.headers = auth;
    auto doc = imds_http_->Send(get);
    if (!doc.ok()) return fail(doc.status().message());
    if (doc->status != 200) return fail("credentials answered HTTP " + std::to_string(doc->status));
    const auto json = nlohmann::json::parse(doc->body, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) return fail("credentials are not JSON");
    auto str = [&json](const char* k) {
      const auto it = json.find(k);
      return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    AwsCredentials c{str("AccessKeyId"), str("SecretAccessKey"), str("Token"),
                     ParseExpiry(str("Expiration"))};
    if (c.access_key_id.empty() || c.secret_access_key.empty() || !c.expires) {
      return fail("incomplete credentials");
    }
    imds_ = c;
    imds_failed_at_.reset();
    return imds_;
  }

  const AwsChainOptions options_;
  const std::string profile_;
  const std::string credentials_file_;
  const std::string config_file_;
  std::shared_ptr<http::Client> imds_http_;

  std::mutex mu_;
  bool files_read_ = false;
  FileStamp credentials_stamp_;
  FileStamp config_stamp_;
  std::optional<AwsCredentials> file_credentials_;
  std::optional<AwsCredentials> web_;
  std::optional<AwsCredentials> imds_;
  std::optional<std::chrono::steady_clock::time_point> imds_failed_at_;
  std::string imds_failure_;
};

}  // namespace

IniSections ParseIni(std::string_view text) {
  IniSections out;
  std::string section;
  bool in_section = false;
  std::string parent;  // the key of "key =" with an empty value: nested lines follow
  std::istringstream lines{std::string(text)};
  std::string raw;
  while (std::getline(lines, raw)) {
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      if (close == std::string::npos) {
        in_section = false;
        continue;
      }
      // "[profile  name]" and "[ name ]": inner blanks folded to one, ends trimmed.
      std::string name;
      for (char c : Trim(line.substr(1, close - 1))) {
        if ((c == ' ' || c == '\t') && (name.empty() || name.back() == ' ')) continue;
        name += (c == '\t') ? ' ' : c;
      }
      section = Trim(name);
      out[section];  // an empty section is still a section
      in_section = true;
      parent.clear();
      continue;
    }
    const auto eq = line.find('=');
    if (!in_section || eq == std::string::npos) continue;
    const std::string key = Lower(Trim(line.substr(0, eq)));
    const std::string value = Trim(line.substr(eq + 1));
    if (indented && !parent.empty()) {
      out[section][parent + "." + key] = value;
      continue;
    }
    parent = value.empty() ? key : "";
    out[section][key] = value;
  }
  return out;
}

std::string AwsProfileName(const AwsChainOptions& o) {
  if (!o.profile.empty()) return o.profile;
  const std::string env = Env(o.env, "AWS_PROFILE");
  return env.empty() ? "default" : env;
}

std::string AwsCredentialsFile(const AwsChainOptions& o) {
  if (!o.credentials_file.empty()) return o.credentials_file;
  const std::string env = Env(o.env, "AWS_SHARED_CREDENTIALS_FILE");
  if (!env.empty()) return env;
  return Env(o.env, "HOME") + "/.aws/credentials";
}

std::string AwsConfigFile(const AwsChainOptions& o) {
  if (!o.config_file.empty()) return o.config_file;
  const std::string env = Env(o.env, "AWS_CONFIG_FILE");
  if (!env.empty()) return env;
  return Env(o.env, "HOME") + "/.aws/config";
}

std::shared_ptr<AwsCredentialsProvider> MakeAwsCredentialChain(AwsChainOptions options) {
  return std::make_shared<ChainProvider>(std::move(options));
}

AwsS3Settings ResolveAwsS3Settings(const std::map<std::string, std::string>& env,
                                   const IniSections& config, const std::string& profile) {
  const std::string name = profile.empty() || profile == "default" ? "default" : "profile " + profile;
  const auto section = config.find(name);
  auto setting = [&](const std::string& key) {
    if (section == config.end()) return std::string();
    const auto it = section->second.find(key);
    return it == section->second.end() ? std::string() : it->second;
  };
  AwsS3Settings out;
  for (const std::string& v : {Env(env, "AWS_REGION"), Env(env, "AWS_DEFAULT_REGION"), setting("region")}) {
    if (!v.empty()) {
      out.region = v;
      break;
    }
  }
  for (const std::string& v : {Env(env, "AWS_ENDPOINT_URL_S3"), Env(env, "AWS_ENDPOINT_URL"),
                               setting("s3.endpoint_url"), setting("endpoint_url")}) {
    if (!v.empty()) {
      out.endpoint_url = v;
      break;
    }
  }
  return out;
}

}  // namespace zenfs
