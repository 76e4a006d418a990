#include "store/store_locator.h"

#include <sys/stat.h>

#include <fstream>
#include <string_view>

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
std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

// Reads `store.type` and `store.url` from config.yaml. ZenML writes this file as a flat
// two-level mapping, so a scan of the indented keys under "store:" is enough; anything
// unexpected simply yields empty values (and the SQLite default applies).
void ReadStoreConfig(const std::string& path, std::string* type, std::string* url) {
  std::ifstream in(path);
  std::string line;
  bool in_store = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const bool indented = line[0] == ' ' || line[0] == '\t';
    if (!indented) {
      in_store = line.rfind("store:", 0) == 0;
      continue;
    }
    if (!in_store) continue;
    const std::string t = Trim(line);
    if (t.rfind("type:", 0) == 0) *type = Trim(std::string_view(t).substr(5));
    if (t.rfind("url:", 0) == 0) *url = Trim(std::string_view(t).substr(4));
  }
}

Result<StoreLocation> FromConfigDir(const std::string& dir, const StoreEnv& env) {
  const std::string config = Join(dir, "config.yaml");
  if (Exists(config)) {
    std::string type, url;
    ReadStoreConfig(config, &type, &url);
    if (type == "rest" || url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
      return Status::Unsupported(config + ": the store is a ZenML server (" + url +
                                 "); zenfs reads only local SQLite stores");
    }
    if (type == "sql" && url.rfind("mysql", 0) == 0) {
      return Status::Unsupported(config + ": the store is MySQL (" + url +
                                 "); zenfs reads only local SQLite stores");
    }
  }
  const std::string local_stores = !env.zenml_local_stores_path.empty()
                                       ? env.zenml_local_stores_path
                                       : Join(dir, "local_stores");
  const std::string db = Join(Join(local_stores, "default_zen_store"), "zenml.db");
  if (!Exists(db)) {
    return Status::NotFound(dir + ": no ZenML store here (looked for " + db + ")");
  }
  return StoreLocation{db, local_stores};
}

}  // namespace

Result<StoreLocation> LocateStore(const std::optional<std::string>& store, const StoreEnv& env) {
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
    return StoreLocation{p, Parent(Parent(p))};
  }
  if (Exists(Join(Join(p, "default_zen_store"), "zenml.db"))) {
    return StoreLocation{Join(Join(p, "default_zen_store"), "zenml.db"), p};
  }
  return FromConfigDir(p, env);
}

}  // namespace zenfs
