#include "tests/zenml_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// uvicorn finishes its requests and exits on SIGTERM within a few seconds.
constexpr double kStopSeconds = 30;
// What the server's Python needs from the machine's interpreter (the script installs
// the rest from Debian's packages): checked first, so a missing one is one clear line
// instead of a traceback at the end of a log.
constexpr char kPythonModules[] = "pydantic, pydantic_settings, jinja2, orjson, cryptography";

// The script's first start on a machine unpacks its environment into the shared workdir
// (rm -rf, then tar): two test binaries starting at once must not both do that. A start
// holds an exclusive lock on WORKDIR.lock while the environment is not yet the tarball's
// (the script's own stamp: the first 16 hex digits of its SHA-256), released once that
// start is over; the starts after it see the stamp and run side by side.
class UnpackLock {
 public:
  UnpackLock(const std::string& workdir, const std::string& script, double timeout_s) {
    const std::string tarball =
        fs::path(script).parent_path().string() + "/zenml-0.74-server-env.tar.xz";
    fs::create_directories(fs::path(workdir).parent_path());
    fd_ = open((workdir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (flock(fd_, LOCK_EX | LOCK_NB) != 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const std::string stamp = ReadFile(workdir + "/env.stamp");
    if (stamp.substr(0, 16) == FileSha256(tarball).substr(0, 16)) Release();
  }
  ~UnpackLock() { Release(); }
  void Release() {
    if (fd_ >= 0) close(fd_);  // closing drops the flock
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The id of the server the store at `db` belongs to (server_settings.id, 32 hex digits
// as ZenML stores UUIDs), "" if it cannot be read.
std::string StoreServerId(const std::string& db) {
  sqlite3* handle = nullptr;
  std::string id;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(handle, 10000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT id FROM server_settings", -1, &stmt, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) id = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return id;
}

std::string WithoutDashes(std::string s) {
  std::erase(s, '-');
  return s;
}

// SIGTERM to the group, a generous wait for the leader, then SIGKILL to the group.
void StopGroup(pid_t pid) {
  kill(-pid, SIGTERM);
  if (!WaitChild(pid, kStopSeconds)) {
    std::cerr << "the ZenML server (pid " << pid << ") ignored SIGTERM for " << kStopSeconds
              << " s; killing it\n";
    kill(-pid, SIGKILL);
    WaitChild(pid, kStopSeconds);
  }
  kill(-pid, SIGKILL);  // whatever the script started and left behind (apt-get, tar)
}

// The server's `detail` for a message: ["CredentialsNotValid", "..."] or a string.
std::string Detail(const http::Response& r) {
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("detail")) return j["detail"].dump();
  return r.body.substr(0, 300);
}

Result<std::string> TokenOf(const Result<http::Response>& r, const std::string& what) {
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return Status::PermissionDenied(what + ": HTTP " + std::to_string(r->status) + " " + Detail(*r));
  }
  const auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string()) {
    return Status::IOError(what + ": no access_token in the response");
  }
  return j["access_token"].get<std::string>();
}

http::ClientOptions HarnessClientOptions() {
  http::ClientOptions o;
  // Generous: the server answers a login in a second or two on an idle machine, and the
  // tests run beside sanitizer builds on two cores.
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.stall_timeout = std::chrono::milliseconds(60000);
  o.request_timeout = std::chrono::milliseconds(120000);
  o.queue_timeout = std::chrono::milliseconds(120000);
  o.retries = 0;  // the harness polls where it waits; a test's request is sent once
  o.user_agent = "zenfs-tests";
  return o;
}

}  // namespace

std::string ZenmlServerScript() {
  if (const char* env = std::getenv("ZENFS_ZENML_SERVER_SCRIPT"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(
      fs::path(ZENFS_SOURCE_DIR) / ".." / "shared" / "zenml-server" / "start-zenml-server.sh", ec);
  return p.string();
}

ZenmlServer::ZenmlServer(std::string base_dir, std::string db_path, std::string workdir, int port,
                         std::vector<std::string> env)
    : base_dir_(std::move(base_dir)),
      db_path_(std::move(db_path)),
      workdir_(std::move(workdir)),
      env_(std::move(env)),
      port_(port),
      client_(HarnessClientOptions()) {}

std::unique_ptr<ZenmlServer> ZenmlServer::Create(const std::string& db, const std::string& base_dir,
                                                 std::string* error, const std::string& workdir,
                                                 std::vector<std::string> env) {
  const std::string script = ZenmlServerScript();
  if (access(script.c_str(), X_OK) != 0) {
    *error = "the ZenML server script " + script +
             " is missing (the shared reference beside the checkout, or set "
             "ZENFS_ZENML_SERVER_SCRIPT)";
    return nullptr;
  }
  const CommandResult py =
      RunCommand({"python3", "-c", std::string("import ") + kPythonModules}, 120);
  if (py.exit_code != 0) {
    *error = std::string("the ZenML server needs python3 with ") + kPythonModules +
             " (the machine's Python; the script adds the rest from Debian): " +
             (py.timed_out ? "python3 timed out" : py.err.empty() ? py.out : py.err);
    return nullptr;
  }
  std::error_code ec;
  fs::create_directories(base_dir, ec);
  const std::string copy = base_dir + "/zenml.db";
  if (ec || !fs::copy_file(db, copy, fs::copy_options::overwrite_existing, ec)) {
    *error = "cannot copy " + db + " to " + copy + ": " + ec.message();
    return nullptr;
  }
  for (int attempt = 1; attempt <= 5; ++attempt) {
    const int port = FreeLoopbackPort(error);
    if (port == 0) return nullptr;
    auto server = std::unique_ptr<ZenmlServer>(new ZenmlServer(base_dir, copy, workdir, port, env));
    bool port_taken = false;
    const Status status = server->Launch(&port_taken);
    if (status.ok()) return server;
    *error = status.message();
    if (!port_taken) return nullptr;
  }
  return nullptr;
}

ZenmlServer::~ZenmlServer() { Stop(); }

void ZenmlServer::Stop() {
  if (pid_ <= 0) return;
  StopGroup(pid_);
  pid_ = -1;
}

Status ZenmlServer::Start() {
  if (pid_ > 0) return Status::Ok();
  bool port_taken = false;
  return Launch(&port_taken);
}

Status ZenmlServer::Launch(bool* port_taken) {
  *port_taken = false;
  const std::string script = ZenmlServerScript();
  const std::string log = log_path();
  UnpackLock lock(workdir_, script, kStartSeconds);
  const std::size_t log_before = ReadFile(log).size();  // earlier starts' lines
  std::string error;
  const auto started = Clock::now();
  std::vector<std::string> argv{script, db_path_, std::to_string(port_), workdir_};
  if (!env_.empty()) {
    // env(1) puts the variables in front and execs the script (same process, same group).
    std::vector<std::string> with{"/usr/bin/env"};
    with.insert(with.end(), env_.begin(), env_.end());
    argv.insert(argv.begin(), with.begin(), with.end());
  }
  pid_ = SpawnLogged(argv, log, /*own_group=*/true, &error);
  if (pid_ < 0) return Status::IOError(error);
  const auto deadline = started + std::chrono::duration<double>(kStartSeconds);
  http::Request health;
  health.url = Url() + "/health";
  std::string last = "no answer yet";
  for (;;) {
    int wstatus = 0;
    if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      kill(-pid_, SIGKILL);  // what the script started (apt-get, tar) goes with it
      pid_ = -1;
      const std::string text = ReadFile(log);
      *port_taken = text.find("address already in use", log_before) != std::string::npos ||
                    text.find("Address already in use", log_before) != std::string::npos;
      return Status::IOError("the ZenML server exited while starting (wait status " +
                             std::to_string(wstatus) + "); " + log + ":\n" + FileTail(log, 4000));
    }
    if (auto r = client_.Send(health); r.ok() && r->status == 200) {
      // The server answering on the port must be ours, serving our store: a stranger
      // may have bound the port first (then ours exits, and Create tries another).
      http::Request info_req;
      info_req.url = Url() + "/api/v1/info";
      const auto info = client_.Send(info_req);
      const auto j = info.ok() ? nlohmann::json::parse(info->body, nullptr, false)
                               : nlohmann::json(nullptr);
      const std::string ours = StoreServerId(db_path_);
      if (j.is_object() && j.contains("id") && j["id"].is_string() && !ours.empty() &&
          WithoutDashes(j["id"].get<std::string>()) == WithoutDashes(ours)) {
        std::cerr << "ZenML server (pid " << pid_ << ") on " << Url() << " ready in "
                  << std::chrono::duration<double>(Clock::now() - started).count()
                  << " s; store and log in " << base_dir_ << "\n";
        return Status::Ok();
      }
      last = "GET /api/v1/info named another server than the store's";
    } else {
      last = r.ok() ? "GET /health gave HTTP " + std::to_string(r->status) : r.status().message();
    }
    if (Clock::now() >= deadline) {
      Stop();
      return Status::IOError("the ZenML server did not answer on " + Url() + " within " +
                             std::to_string(static_cast<int>(kStartSeconds)) + " s (" + last +
                             "); " + log + ":\n" + FileTail(log, 4000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::string ZenmlServer::Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

Result<http::Response> ZenmlServer::Call(const std::string& method, const std::string& path,
                                         const std::string& token, const std::string& json) {
  http::Request req;
  req.method = method;
  req.url = Url() + path;
  req.idempotent = method == "GET" || method == "HEAD";
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  if (!json.empty()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = json;
  }
  return client_.Send(req);
}

Result<http::Response> ZenmlServer::ApiKeyLogin(const std::string& key) {
  http::Request req;
  req.method = "POST";
  req.url = Url() + "/api/v1/login";
  req.idempotent = false;
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.body = http::FormEncode({{"grant_type", "zenml-api-key"}, {"password", key}});
  return client_.Send(req);
}

Result<std::string> ZenmlServer::LoginWithApiKey(const std::string& key) {
  return TokenOf(ApiKeyLogin(key), "logging in with an API key");
}

Result<std::string> ZenmlServer::Login(const std::string& user, const std::string& password) {
  http::Request req;
  req.method = "POST";
  req.url = Url() + "/api/v1/login";
  req.idempotent = false;
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.body = http::FormEncode({{"username", user}, {"password", password}});
  return TokenOf(client_.Send(req), "logging in as " + user);
}

Result<std::string> ZenmlServer::CreateApiKey(const std::string& name) {
  const auto token = Login("default", "");
  if (!token.ok()) return token.status();
  const auto account = Call("POST", "/api/v1/service_accounts", *token,
                            nlohmann::json{{"name", name}, {"active", true}}.dump());
  if (!account.ok()) return account.status();
  const auto a = nlohmann::json::parse(account->body, nullptr, false);
  if (account->status != 200 || !a.is_object() || !a.contains("id") || !a["id"].is_string()) {
    return Status::IOError("creating the service account " + name + ": HTTP " +
                           std::to_string(account->status) + " " + Detail(*account));
  }
  const auto key = Call("POST", "/api/v1/service_accounts/" + a["id"].get<std::string>() + "/api_keys",
                        *token, nlohmann::json{{"name", name}}.dump());
  if (!key.ok()) return key.status();
  const auto k = nlohmann::json::parse(key->body, nullptr, false);
  if (key->status != 200 || !k.is_object() || !k.contains("body") || !k["body"].is_object() ||
      !k["body"].contains("key") || !k["body"]["key"].is_string()) {
    return Status::IOError("creating an API key for " + name + ": HTTP " +
                           std::to_string(key->status) + " " + Detail(*key));
  }
  return k["body"]["key"].get<std::string>();
}

Status ZenmlServer::RevokeApiKey(const std::string& name) {
  const auto token = Login("default", "");
  if (!token.ok()) return token.status();
  // The API key routes take the account's id, not its name.
  const auto account = Call("GET", "/api/v1/service_accounts/" + http::PercentEncode(name), *token);
  if (!account.ok()) return account.status();
  const auto a = nlohmann::json::parse(account->body, nullptr, false);
  if (account->status != 200 || !a.is_object() || !a.contains("id") || !a["id"].is_string()) {
    return Status::NotFound("no service account " + name + ": HTTP " +
                            std::to_string(account->status) + " " + Detail(*account));
  }
  const auto updated =
      Call("PUT", "/api/v1/service_accounts/" + a["id"].get<std::string>() + "/api_keys/" +
                      http::PercentEncode(name),
           *token, nlohmann::json{{"active", false}}.dump());
  if (!updated.ok()) return updated.status();
  if (updated->status != 200) {
    return Status::IOError("deactivating the API key " + name + ": HTTP " +
                           std::to_string(updated->status) + " " + Detail(*updated));
  }
  return Status::Ok();
}

// ---- ZenmlEnvironment

namespace {
// The environment's server: gtest environments are process-wide by design.
std::unique_ptr<ZenmlServer>& SharedServer() {
  static std::unique_ptr<ZenmlServer> server;
  return server;
}
std::string& SharedError() {
  static std::string error = "the ZenML server environment was not set up";
  return error;
}
std::string& SharedDemoDir() {
  static std::string dir;
  return dir;
}
}  // namespace

void ZenmlEnvironment::SetUp() {
  std::error_code ec;
  fs::create_directories(root_dir_, ec);
  std::string pattern = root_dir_ + "/zenml-server-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    SharedError() = "mkdtemp under " + root_dir_ + ": " + std::strerror(errno);
    return;
  }
  base_dir_ = pattern;
  const std::string demo = base_dir_ + "/demo";
  const CommandResult r = RunZenfs({"demo", demo, "--schema", "0.74"}, 300);
  if (r.exit_code != 0) {
    SharedError() = "zenfs demo " + demo + " --schema 0.74 failed (exit " +
                    std::to_string(r.exit_code) + "): " + r.err;
    return;
  }
  SharedDemoDir() = demo;
  std::string error;
  SharedServer() = ZenmlServer::Create(demo + "/local_stores/default_zen_store/zenml.db",
                                       base_dir_ + "/server", &error);
  if (SharedServer() == nullptr) SharedError() = "cannot start the ZenML server: " + error;
}

void ZenmlEnvironment::TearDown() {
  SharedServer().reset();  // stops it
  if (base_dir_.empty()) return;
  if (::testing::UnitTest::GetInstance()->Passed()) {
    std::error_code ec;
    fs::remove_all(base_dir_, ec);
  } else {
    std::cerr << "a test failed: the ZenML server's store and log stay in " << base_dir_ << "\n";
  }
}

ZenmlServer* ZenmlEnvironment::Shared(std::string* why) {
  if (SharedServer() == nullptr) *why = SharedError();
  return SharedServer().get();
}

const std::string& ZenmlEnvironment::DemoDir() { return SharedDemoDir(); }

ZenmlServer* SharedZenmlServer() {
  std::string why;
  ZenmlServer* server = ZenmlEnvironment::Shared(&why);
  if (server == nullptr) ADD_FAILURE() << why;
  return server;
}

}  // namespace zenfs::testing
