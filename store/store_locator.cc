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
};

// A scalar at `node[key]`, or "" (absent, not a scalar). An absent `node` is falsy; asking
// it anything else throws.
std::string ScalarAt(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return "";
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.Scalar() : "";
}

// config.yaml is small and written by ZenML; one that cannot be read or parsed yields
// empty values. Bounded: a file over 1 MiB is not ZenML's and is not parsed.
ConfigYaml ReadConfigYaml(const std::string& path) {
  ConfigYaml c;
  std::ifstream in(path, std::ios::binary);
  if (!in) return c;
  std::string text(1 << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.gcount() == static_cast<std::streamsize>(text.size())) return c;
  text.resize(static_cast<std::size_t>(in.gcount()));
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return c;
    c.store_type = ScalarAt(root["store"], "type");
    c.store_url = ScalarAt(root["store"], "url");
    c.username = ScalarAt(root["store"], "username");
    c.password = ScalarAt(root["store"], "password");
    c.database = ScalarAt(root["store"], "database");
    c.ssl_ca = ScalarAt(root["store"], "ssl_ca");
    c.ssl_cert = ScalarAt(root["store"], "ssl_cert");
    c.ssl_key = ScalarAt(root["store"], "ssl_key");
    c.ssl_verify_server_cert = ScalarAt(root["store"], "ssl_verify_server_cert");
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

Result<StoreLocation> FromConfigDir(const std::string& dir, const StoreEnv& env) {
  const std::string config = Join(dir, "config.yaml");
  const ConfigYaml c = ReadConfigYaml(config);  // empty values when there is none
  {
    const std::string& type = c.store_type;
    const std::string& url = c.store_url;
    if (type == "rest" || IsHttpUrl(url)) {
      return Status::Unsupported(config + ": the store is a ZenML server; zenfs reads SQLite and "
                                          "MySQL stores");
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
  return StoreLocation{std::nullopt, db, local_stores, c.active_project_id, c.active_workspace_name};
}

}  // namespace

Result<StoreLocation> LocateStore(const std::optional<std::string>& store, const StoreEnv& env) {
  if (store && IsMysqlUrl(*store)) return MysqlStore(*store, "", "", "", "", "", "", "");
  if (!store && !env.store_url.empty()) {
    if (IsHttpUrl(env.store_url)) {
      return Status::Unsupported("$ZENML_STORE_URL names a ZenML server; zenfs reads SQLite and MySQL stores");
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
    std::string dir = env.zenml_config_path;
    if (dir.empty() && !env.xdg_config_home.empty()) dir = Join(env.xdg_config_home, "zenml");
    if (dir.empty() && !env.home.empty()) dir = Join(Join(env.home, ".config"), "zenml");
    if (dir.empty()) return Status::NotFound("no STORE given and no $HOME to find ~/.config/zenml");
    if (!IsDir(dir)) return Status::NotFound(dir + ": no ZenML config directory");
    return FromConfigDir(dir, env);
  }
  const std::string& p = *store;
  struct stat sb;
  if (stat(p.c_str(), &sb) != 0) return Status::NotFound(p + ": no such file or directory");
  if (!S_ISDIR(sb.st_mode)) {
    // zenml.db itself: its local_stores/ is the grandparent (local_stores/default_zen_store/).
    return StoreLocation{std::nullopt, p, Parent(Parent(p)), "", ""};
  }
  if (Exists(Join(Join(p, "default_zen_store"), "zenml.db"))) {
    return StoreLocation{std::nullopt, Join(Join(p, "default_zen_store"), "zenml.db"), p, "", ""};
  }
  return FromConfigDir(p, env);
}

}  // namespace zenfs
