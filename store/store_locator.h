// Finds the store a STORE argument means (SPEC §1): a SQLite zenml.db, or a MySQL/MariaDB
// database. Pure apart from stat/read of the paths given; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "store/mysql_database.h"
#include "store/status.h"
#include "store/zenml_rest.h"

namespace zenfs {

// The environment variables that steer the search, read once by main().
struct StoreEnv {
  std::string zenml_config_path;        // $ZENML_CONFIG_PATH
  std::string xdg_config_home;          // $XDG_CONFIG_HOME
  std::string home;                     // $HOME
  std::string zenml_local_stores_path;  // $ZENML_LOCAL_STORES_PATH
  // ZenML's own store variables: a store named by the environment alone (no STORE).
  std::string store_url;                // $ZENML_STORE_URL
  std::string store_username;           // $ZENML_STORE_USERNAME
  std::string store_password;           // $ZENML_STORE_PASSWORD
  std::string store_ssl_ca;             // $ZENML_STORE_SSL_CA
  std::string store_ssl_cert;           // $ZENML_STORE_SSL_CERT
  std::string store_ssl_key;            // $ZENML_STORE_SSL_KEY
  std::string store_ssl_verify;         // $ZENML_STORE_SSL_VERIFY_SERVER_CERT
  std::string store_api_key;            // $ZENML_STORE_API_KEY (a ZenML server's)
  std::string store_verify_ssl;         // $ZENML_STORE_VERIFY_SSL: false, or a CA bundle
};

struct StoreLocation {
  // A MySQL/MariaDB store (then db_path and local_stores_dir are empty).
  std::optional<MysqlConfig> mysql;
  // A ZenML server (then db_path and local_stores_dir are empty).
  std::optional<RestConfig> rest;
  std::string db_path;           // the SQLite file
  std::string local_stores_dir;  // the store's own local_stores/ (artifact relocation)
  // The project the config directory's config.yaml makes active (ZenML 0.80 and later:
  // `active_project_id`, a UUID; before: `active_workspace_name`). Empty when STORE is no
  // config directory or config.yaml names none. Hints for ChooseProject, never paths.
  std::string active_project_id;
  std::string active_workspace_name;
};

// `store` is a config directory, a local_stores/ folder, zenml.db itself or a mysql:// URL;
// nullopt means $ZENML_STORE_URL when set, else the user's ZenML config directory. A
// config.yaml whose store is `type: sql` with a MySQL URL is that MySQL store (its
// username, password, database and ssl_* fields apply; so do the ZENML_STORE_* variables
// with $ZENML_STORE_URL). A ZenML server is an http(s):// URL, a config.yaml whose store
// is `type: rest` (its credentials from credentials.yaml beside it, as `zenml login`
// writes them, else ZenML's own `api_key`/`username`/`password` fields of the store), or
// $ZENML_STORE_URL with $ZENML_STORE_API_KEY or $ZENML_STORE_USERNAME/PASSWORD (which
// apply to a server URL given as STORE too). NotFound when nothing is there,
// InvalidArgument for a malformed URL. Paths inside config.yaml come from
// the machine that wrote it and are never followed. config.yaml is read with yaml-cpp; a
// file that is not YAML, or not a mapping, is ignored (the SQLite default applies).
Result<StoreLocation> LocateStore(const std::optional<std::string>& store, const StoreEnv& env);

}  // namespace zenfs
