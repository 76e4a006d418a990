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
    c.active_project_id = ScalarAt(root, "active_project_id");
    c.active_workspace_name = ScalarAt(root, "active_workspace_name");
  } catch (const YAML::Exception&) {
    return ConfigYaml{};
  }
  return c;
}

Result<StoreLocation> FromConfigDir(const std::string& dir, const StoreEnv& env) {
  const std::string config = Join(dir, "config.yaml");
  const ConfigYaml c = ReadConfigYaml(config);  // empty values when there is none
  {
    const std::string& type = c.store_type;
    const std::string& url = c.store_url;
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
  return StoreLocation{db, local_stores, c.active_project_id, c.active_workspace_name};
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
    return StoreLocation{p, Parent(Parent(p)), "", ""};
  }
  if (Exists(Join(Join(p, "default_zen_store"), "zenml.db"))) {
    return StoreLocation{Join(Join(p, "default_zen_store"), "zenml.db"), p, "", ""};
  }
  return FromConfigDir(p, env);
}

}  // namespace zenfs
