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
};

// `store` is a config directory, a local_stores/ folder or zenml.db itself; nullopt means
// the user's ZenML config directory. NotFound when nothing is there, Unsupported for a
// config whose store is a ZenML server (REST) or MySQL. Paths inside config.yaml come from
// the machine that wrote it and are never followed.
Result<StoreLocation> LocateStore(const std::optional<std::string>& store, const StoreEnv& env);

}  // namespace zenfs
