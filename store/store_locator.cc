#include "store/store_locator.h"

#include <sys/stat.h>

#include <fstream>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace zenfs {

namespace {

bool IsDir(const std::string& p) {
  struct stat sb;
  return stat(p.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}
bool Exists(const std::string& p) {
  struct stat sb;
  return stat(p.c_str(), &sb) == 0;
}
std::string Parent(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  const auto slash = s.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return s.substr(0, slash);
}
std::string Join(const std::string& a, const std::string& b) {
  if (!a.empty() && a.back() == '/') return a + b;
  return a + "/" + b;
}
// What zenfs takes from config.yaml: the store's type and URL, and the active project.
struct ConfigYaml {
  std::string store_type, store_url;
  // A `type: sql` store's credentials and TLS files, as ZenML names them.
  std::string username, password, database, ssl_ca, ssl_cert, ssl_key, ssl_verify_server_cert;
  std::string active_project_id, active_workspace_name;
  // A `type: rest` store's own fields (ZenML's RestZenStoreConfiguration).
  std::string api_key, verify_ssl;
};

// A scalar at `node[key]`, or "" (absent, not a scalar). An absent `node` is falsy; asking
// it anything else throws.
std::string ScalarAt(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return "";
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.Scalar() : "";
}

// A YAML file ZenML wrote (config.yaml, credentials.yaml): small, so one over 1 MiB is
// not ZenML's and is not parsed. A null node when it cannot be read or parsed, or is no
// mapping.
YAML::Node LoadSmallYaml(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return YAML::Node();
  std::string text(1 << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.gcount() == static_cast<std::streamsize>(text.size())) return YAML::Node();
  text.resize(static_cast<std::size_t>(in.gcount()));
  try {
    YAML::Node root = YAML::Load(text);
    return root.IsMap() ? root : YAML::Node();
  } catch (const YAML::Exception&) {
    return YAML::Node();
  }
}

// config.yaml's values; one that cannot be read or parsed yields empty values.
ConfigYaml ReadConfigYaml(const std::string& path) {
  ConfigYaml c;
  try {
    const YAML::Node root = LoadSmallYaml(path);
    if (!root || !root.IsMap()) return c;
    c.store_type = ScalarAt(root["store"], "type");
    c.store_url = ScalarAt(root["store"], "url");
    c.username = ScalarAt(root["store"], "username");
    c.password = ScalarAt(root["store"], "password");
    c.database = ScalarAt(root["store"], "database");
    c.ssl_ca = ScalarAt(root["store"], "ssl_ca");
    c.ssl_cert = ScalarAt(root["store"], "ssl_cert");
    c.ssl_key = ScalarAt(root["store"], "ssl_key");
    c.ssl_verify_server_cert = ScalarAt(root["store"], "ssl_verify_server_cert");
    c.api_key = ScalarAt(root["store"], "api_key");
    c.verify_ssl = ScalarAt(root["store"], "verify_ssl");
    c.active_project_id = ScalarAt(root, "active_project_id");
    c.active_workspace_name = ScalarAt(root, "active_workspace_name");
  } catch (const YAML::Exception&) {
    return ConfigYaml{};
  }
  return c;
}

bool IsMysqlUrl(std::string_view url) {
  return url.rfind("mysql://", 0) == 0 || url.rfind("mysql+pymysql://", 0) == 0 || url.rfind("mariadb://", 0) == 0;
}
bool IsHttpUrl(std::string_view url) { return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0; }

// A MySQL store from its URL and the fields beside it (config.yaml's or the environment's),
// which fill what the URL leaves out.
Result<StoreLocation> MysqlStore(const std::string& url, const std::string& user, const std::string& password,
                                 const std::string& database, const std::string& ssl_ca, const std::string& ssl_cert,
                                 const std::string& ssl_key, const std::string& verify) {
  auto c = ParseMysqlUrl(url);
  if (!c.ok()) return c.status();
  if (c->user.empty()) c->user = user;
  if (c->password.empty()) c->password = password;
  if (c->database.empty()) c->database = database;
  if (c->ssl_ca.empty()) c->ssl_ca = ssl_ca;
  if (c->ssl_cert.empty()) c->ssl_cert = ssl_cert;
  if (c->ssl_key.empty()) c->ssl_key = ssl_key;
  if (verify == "true" || verify == "True" || verify == "1") c->verify_server_cert = true;
  if (c->database.empty()) return Status::InvalidArgument(c->Redacted() + ": names no database");
  StoreLocation loc;
  loc.mysql = std::move(*c);
  return loc;
}

// The user's ZenML config directory ($ZENML_CONFIG_PATH, else $XDG_CONFIG_HOME/zenml, else
// ~/.config/zenml), "" when none can be named.
std::string UserConfigDir(const StoreEnv& env) {
  std::string dir = env.zenml_config_path;
  if (dir.empty() && !env.xdg_config_home.empty()) dir = Join(env.xdg_config_home, "zenml");
  if (dir.empty() && !env.home.empty()) dir = Join(Join(env.home, ".config"), "zenml");
  return dir;
}

// What `zenml login` left for server `url` in `dir`/credentials.yaml: a mapping from
// server URL to {url, api_key, api_token: {access_token, expires_at, ...}, username,
// password} (ZenML's login/credentials_store.py). Fills what `config` lacks; nothing when
// the file or the entry is not there.
void ApplyCredentialsYaml(const std::string& dir, RestConfig* config) {
  if (dir.empty()) return;
  const YAML::Node root = LoadSmallYaml(Join(dir, "credentials.yaml"));
  if (!root || !root.IsMap()) return;
  try {
    for (const auto& entry : root) {
      std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      while (!key.empty() && key.back() == '/') key.pop_back();
      if (key != config->url) continue;
      const YAML::Node v = entry.second;
      if (config->api_key.empty()) config->api_key = ScalarAt(v, "api_key");
      if (config->username.empty() && !ScalarAt(v, "username").empty()) {
        config->username = ScalarAt(v, "username");
        config->password = ScalarAt(v, "password");
        config->has_password = v["password"].IsDefined();
      }
      if (config->api_token.empty() && v.IsMap()) config->api_token = ScalarAt(v["api_token"], "access_token");
    }
  } catch (const YAML::Exception&) {
    // A damaged file gives no credentials: the server's 401 then says what is missing.
  }
}

// A ZenML server store at `url`. The environment's credentials (ZENML_STORE_API_KEY,
// ZENML_STORE_USERNAME/PASSWORD) apply when $ZENML_STORE_URL is unset or
// names the same server: a key meant for one server is never sent to another. Then the
// config directory's credentials.yaml fills what is still missing.
Result<StoreLocation> RestStore(const std::string& url, const std::string& config_dir, const StoreEnv& env) {
  auto normalized = NormalizeRestUrl(url);
  if (!normalized.ok()) return normalized.status();
  RestConfig c;
  c.url = *normalized;
  auto env_url = NormalizeRestUrl(env.store_url);
  if (env.store_url.empty() || (env_url.ok() && *env_url == c.url)) {
    c.api_key = env.store_api_key;
    if (c.api_key.empty() && !env.store_username.empty()) {
      c.username = env.store_username;
      c.password = env.store_password;
      c.has_password = true;
    }
  }
  ApplyVerifySsl(env.store_verify_ssl, &c);  // not a secret: applies to any server
  ApplyCredentialsYaml(config_dir, &c);
  StoreLocation loc;
  loc.rest = std::move(c);
  return loc;
}

Result<StoreLocation> FromConfigDir(const std::string& dir, const StoreEnv& env) {
  const std::string config = Join(dir, "config.yaml");
  const ConfigYaml c = ReadConfigYaml(config);  // empty values when there is none
  {
    const std::string& type = c.store_type;
    const std::string& url = c.store_url;
    if (type == "rest" || IsHttpUrl(url)) {
      // The store's own fields first (ZenML reads api_key, username and password there
      // too), then the environment's and credentials.yaml's.
      StoreEnv own = env;
      if (!c.api_key.empty() || !c.username.empty()) {
        own.store_api_key = c.api_key;
        own.store_username = c.username;
        own.store_password = c.password;
        own.store_url = url;  // they are this server's
      }
      if (!c.verify_ssl.empty()) own.store_verify_ssl = c.verify_ssl;
      auto loc = RestStore(url, dir, own);
      if (!loc.ok()) return Status::InvalidArgument(config + ": " + loc.status().message());
      loc->active_project_id = c.active_project_id;
      loc->active_workspace_name = c.active_workspace_name;
      return loc;
    }
    if (IsMysqlUrl(url)) {
      auto loc = MysqlStore(url, c.username, c.password, c.database, c.ssl_ca, c.ssl_cert, c.ssl_key,
                            c.ssl_verify_server_cert);
      if (!loc.ok()) return Status::InvalidArgument(config + ": " + loc.status().message());
      loc->active_project_id = c.active_project_id;
      loc->active_workspace_name = c.active_workspace_name;
      return loc;
    }
  }
  const std::string local_stores = !env.zenml_local_stores_path.empty()
                                       ? env.zenml_local_stores_path
                                       : Join(dir, "local_stores");
  const std::string db = Join(Join(local_stores, "default_zen_store"), "zenml.db");
  if (!Exists(db)) {
    return Status::NotFound(dir + ": no ZenML store here (looked for " + db + ")");
  }
  return StoreLocation{std::nullopt, std::nullopt, db, local_stores, c.active_project_id, c.active_workspace_name};
}

}  // namespace

Result<StoreLocation> LocateStore(const std::optional<std::string>& store, const StoreEnv& env) {
  if (store && IsMysqlUrl(*store)) return MysqlStore(*store, "", "", "", "", "", "", "");
  if (store && IsHttpUrl(*store)) return RestStore(*store, UserConfigDir(env), env);
  if (!store && !env.store_url.empty()) {
    if (IsHttpUrl(env.store_url)) {
      auto loc = RestStore(env.store_url, UserConfigDir(env), env);
      if (!loc.ok()) return Status::InvalidArgument("$ZENML_STORE_URL: " + loc.status().message());
      return loc;
    }
    if (IsMysqlUrl(env.store_url)) {
      return MysqlStore(env.store_url, env.store_username, env.store_password, "", env.store_ssl_ca,
                        env.store_ssl_cert, env.store_ssl_key, env.store_ssl_verify);
    }
    // sqlite:////ABSOLUTE/zenml.db or sqlite:///RELATIVE/zenml.db (SQLAlchemy's spelling): that file.
    if (env.store_url.rfind("sqlite:///", 0) == 0) return LocateStore(env.store_url.substr(10), StoreEnv{});
    return Status::InvalidArgument("$ZENML_STORE_URL is neither a mysql://, an http(s):// nor a sqlite:/// URL");
  }
  if (!store) {
    const std::string dir = UserConfigDir(env);
    if (dir.empty()) return Status::NotFound("no STORE given and no $HOME to find ~/.config/zenml");
    if (!IsDir(dir)) return Status::NotFound(dir + ": no ZenML config directory");
    return FromConfigDir(dir, env);
  }
  const std::string& p = *store;
  struct stat sb;
  if (stat(p.c_str(), &sb) != 0) return Status::NotFound(p + ": no such file or directory");
  if (!S_ISDIR(sb.st_mode)) {
    // zenml.db itself: its local_stores/ is the grandparent (local_stores/default_zen_store/).
    return StoreLocation{std::nullopt, std::nullopt, p, Parent(Parent(p)), "", ""};
  }
  if (Exists(Join(Join(p, "default_zen_store"), "zenml.db"))) {
    return StoreLocation{std::nullopt, std::nullopt, Join(Join(p, "default_zen_store"), "zenml.db"), p, "", ""};
  }
  return FromConfigDir(p, env);
}

}  // namespace zenfs
