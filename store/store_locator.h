// Finds the zenml.db a STORE argument means (SPEC §1). Pure apart from stat/read of the
// paths given; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "store/status.h"

namespace zenfs {

// The environment variables that steer the search, read once by main().
struct StoreEnv {
  std::string zenml_config_path;        // $ZENML_CONFIG_PATH
  std::string xdg_config_home;          // $XDG_CONFIG_HOME
  std::string home;                     // $HOME
  std::string zenml_local_stores_path;  // $ZENML_LOCAL_STORES_PATH
};

struct StoreLocation {
  std::string db_path;           // the SQLite file
  std::string local_stores_dir;  // the store's own local_stores/ (artifact relocation)
  // The project the config directory's config.yaml makes active (ZenML 0.80 and later:
  // `active_project_id`, a UUID; before: `active_workspace_name`). Empty when STORE is no
  // config directory or config.yaml names none. Hints for ChooseProject, never paths.
  std::string active_project_id;
  std::string active_workspace_name;
};

// `store` is a config directory, a local_stores/ folder or zenml.db itself; nullopt means
// the user's ZenML config directory. NotFound when nothing is there, Unsupported for a
// config whose store is a ZenML server (REST) or MySQL. Paths inside config.yaml come from
// the machine that wrote it and are never followed. config.yaml is read with yaml-cpp; a
// file that is not YAML, or not a mapping, is ignored (the SQLite default applies).
Result<StoreLocation> LocateStore(const std::optional<std::string>& store, const StoreEnv& env);

}  // namespace zenfs
