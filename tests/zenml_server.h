// A real ZenML 0.74 server for the tests (issue 14): ZenML's own FastAPI app, started by
// ../shared/zenml-server/start-zenml-server.sh as this process's child, on 127.0.0.1 and
// a free port, over a private copy of a zenml.db. The tests talk to it through the one
// HTTP layer of zenfs (store/http.h), as the REST catalog does.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/http.h"
#include "store/status.h"

namespace zenfs::testing {

// The server's script: $ZENFS_ZENML_SERVER_SCRIPT when set, else
// ZENFS_SOURCE_DIR/../shared/zenml-server/start-zenml-server.sh (the shared reference
// beside the checkout, where CI finds the genuine samples too).
std::string ZenmlServerScript();

// One ZenML server process over its own copy of a store. Start (and the destructor, and
// Stop) run in the thread that created it; the request helpers are thread-safe.
//
// The child runs in its own process group (the script may run apt-get and tar before it
// execs python3) with PR_SET_PDEATHSIG(SIGKILL), so a crashed test process does not leave
// the server running; Stop sends SIGTERM to the whole group, waits, then SIGKILLs it.
// The destructor stops it, also when a test failed. Files stay in base_dir for whoever
// owns it (the environment removes them when every test passed).
class ZenmlServer {
 public:
  // Copies `db` to base_dir/zenml.db (the server writes the store it serves: logins,
  // accounts, settings), then starts the server on a free loopback port and waits (up to
  // kStartSeconds) until GET /health answers and /api/v1/info names this store's server.
  // `workdir` is where the script unpacks its Python environment (shared between runs, so
  // that happens once per machine). Null with *error on failure, with the log's tail.
  // `env` (NAME=VALUE) is added to the server's environment: ZenML reads its server
  // settings from ZENML_SERVER_* variables (ZENML_SERVER_JWT_TOKEN_EXPIRE_MINUTES, ...).
  static std::unique_ptr<ZenmlServer> Create(const std::string& db, const std::string& base_dir,
                                             std::string* error,
                                             const std::string& workdir = kDefaultWorkdir,
                                             std::vector<std::string> env = {});
  ~ZenmlServer();
  ZenmlServer(const ZenmlServer&) = delete;
  ZenmlServer& operator=(const ZenmlServer&) = delete;

  static constexpr char kDefaultWorkdir[] = "/var/tmp/zenml-0.74-server";
  // How long a start may take on a loaded 2-core CI machine: 5-10 s on an idle one, 48 s
  // measured beside three other builds (Python imports all of ZenML first); the first
  // start on a machine also unpacks the environment.
  static constexpr double kStartSeconds = 180;

  // Stops the server (SIGTERM to its process group, a generous wait, SIGKILL). Idempotent.
  // The store and the port stay: Start brings the same server back where clients look.
  void Stop();
  // Starts the server again on the same port and store; Ok if it is already running.
  // (Another process may have taken the port meanwhile: then an error, never a stranger.)
  Status Start();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  // "http://127.0.0.1:PORT", no trailing slash.
  std::string Url() const;
  // The store the server serves (the copy): tests may write runs into it.
  const std::string& db_path() const { return db_path_; }
  const std::string& base_dir() const { return base_dir_; }
  // The server's stdout and stderr, across restarts.
  std::string log_path() const { return base_dir_ + "/server.log"; }

  // One request to the server: `path` starts with '/', `token` (when not empty) goes in
  // an Authorization: Bearer header, a non-empty `json` body is sent as application/json.
  // POSTs are not retried. An HTTP error status is a Response, not an error.
  Result<http::Response> Call(const std::string& method, const std::string& path,
                              const std::string& token = "", const std::string& json = "");
  // POST /api/v1/login with username and password (the form ZenML's client sends): the
  // bearer token, or an error naming the status and the server's detail.
  Result<std::string> Login(const std::string& user, const std::string& password);
  // POST /api/v1/login with grant_type=zenml-api-key: the bearer token, or an error.
  Result<std::string> LoginWithApiKey(const std::string& key);
  // The raw login response for an API key (tests of refused keys look at the status).
  Result<http::Response> ApiKeyLogin(const std::string& key);
  // As the admin `default` (empty password): creates the service account `name` and an
  // API key of the same name for it, and returns the key (ZENKEY_..., shown once). Names
  // are unique per store: a second call with the same name fails (HTTP 409).
  Result<std::string> CreateApiKey(const std::string& name);
  // As the admin: deactivates the API key CreateApiKey(name) made, as an admin revoking a
  // tool's access does. The key no longer logs in, and tokens it gave are refused too.
  Status RevokeApiKey(const std::string& name);

 private:
  ZenmlServer(std::string base_dir, std::string db_path, std::string workdir, int port,
              std::vector<std::string> env);
  // Spawns the script and waits until this store's server answers on port_. *port_taken
  // is set when the child exited because the port was in use.
  Status Launch(bool* port_taken);

  std::string base_dir_;
  std::string db_path_;
  std::string workdir_;
  std::vector<std::string> env_;
  int port_;
  pid_t pid_ = -1;
  http::Client client_;
};

// One ZenmlServer for a whole test binary, over a demo store: SetUp writes
// `zenfs demo DIR --schema 0.74` (the layout the 0.74 server serves) under a fresh folder
// of `root_dir` and starts the server over a copy of its zenml.db; TearDown stops it and
// removes the folder unless a test failed (then it stays, with the server's log, and the
// path is printed). Register it once in main; tests reach it through Shared().
class ZenmlEnvironment : public ::testing::Environment {
 public:
  explicit ZenmlEnvironment(std::string root_dir) : root_dir_(std::move(root_dir)) {}
  void SetUp() override;
  void TearDown() override;
  // The running server, or null (with the reason in *why) when SetUp could not start it.
  static ZenmlServer* Shared(std::string* why);
  // The demo store's config directory (its artifacts under local_stores/, for
  // --artifact-root); "" before SetUp.
  static const std::string& DemoDir();

 private:
  std::string root_dir_;
  std::string base_dir_;
};

// The shared server, or null and a test failure (a missing server is never a skip: CI
// must not pass without having talked to the real thing).
ZenmlServer* SharedZenmlServer();

}  // namespace zenfs::testing
