#include "tests/moto_server.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <utility>
#include <vector>

#include "store/s3_xml.h"
#include "store/sigv4.h"
#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {

namespace {

using Clock = std::chrono::steady_clock;

// How long moto may take to come up on a loaded 2-core CI machine (importing moto and
// Flask takes a few seconds even on an idle one).
constexpr double kStartSeconds = 90;
// The IAM calls SetUpIam makes before authentication is on: CreateUser, CreateAccessKey,
// CreatePolicy, AttachUserPolicy, CreateRole, AttachRolePolicy.
constexpr int kSetupCalls = 6;
constexpr char kUser[] = "zenfs-test";
constexpr char kRole[] = "zenfs-web-identity";
// moto's account id for everything it creates.
constexpr char kAccount[] = "123456789012";
constexpr char kAllowAll[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sts:*"],"Resource":"*"}]})";
constexpr char kTrustAnyWebIdentity[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"zenfs-test-idp"},"Action":"sts:AssumeRoleWithWebIdentity"}]})";

std::string Python() {
  const char* p = std::getenv("ZENFS_PYTHON");
  return p != nullptr && *p != '\0' ? p : "python3";
}

}  // namespace

MotoServer::MotoServer(std::string base_dir, int port) : base_dir_(std::move(base_dir)), port_(port) {
  http::ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(5000);
  options.stall_timeout = std::chrono::milliseconds(30000);
  options.request_timeout = std::chrono::milliseconds(60000);
  options.retries = 0;
  http_ = std::make_shared<http::Client>(options);
}

std::unique_ptr<MotoServer> MotoServer::Start(const std::string& base_dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(base_dir, ec);
  // A port taken by someone else between the probe and moto's bind makes moto exit:
  // Launch notices, and another port is tried.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = FreeLoopbackPort(error);
    if (port == 0) return nullptr;
    std::unique_ptr<MotoServer> server(new MotoServer(base_dir, port));
    last = server->Launch();
    if (last.ok()) return server;
    // Only a moto that exited at start (a port taken) is worth another try.
    if (last.code() == Status::Code::kUnsupported) break;
  }
  *error = last.message();
  return nullptr;
}

MotoServer::~MotoServer() { Stop(); }

std::string MotoServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string MotoServer::web_identity_role_arn() const {
  return std::string("arn:aws:iam::") + kAccount + ":role/" + kRole;
}

Status MotoServer::Launch() {
  std::string error;
  // tests/moto_server.py: moto.server with the URL it checks signatures over fixed.
  // env(1) sets moto's environment and finds python3 on PATH.
  pid_ = SpawnLogged({"/usr/bin/env", "INITIAL_NO_AUTH_ACTION_COUNT=" + std::to_string(kSetupCalls),
                      // No real AWS configuration of this machine leaks into moto.
                      "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                      Python(), std::string(ZENFS_SOURCE_DIR) + "/tests/moto_server.py", "-H",
                      "127.0.0.1", "-p", std::to_string(port_)},
                     log_path(), /*own_group=*/true, &error);
  if (pid_ < 0) return Status::IOError(error);
  // Ready when moto's control API answers: resetting its unauthenticated allowance to
  // exactly the setup calls, whatever it counted so far.
  const auto deadline = Clock::now() + std::chrono::duration<double>(kStartSeconds);
  for (;;) {
    if (const auto status = WaitChild(pid_, 0)) {
      pid_ = -1;
      const std::string log = FileTail(log_path());
      if (log.find("No module named") != std::string::npos ||
          log.find("No such file or directory") != std::string::npos) {
        return Status::Unsupported(
            Python() + " (or its moto, or Flask) is missing: install it with `" + Python() +
            " -m pip install 'moto[server]'` (the tests' S3 server; see scripts/deps.sh). Log:\n" + log);
      }
      // Most likely another process took the port: Start tries another.
      return Status::IOError("moto exited at start (status " + std::to_string(*status) + "); log " +
                             log_path() + ":\n" + log);
    }
    if (AllowUnsigned(kSetupCalls).ok()) break;
    if (Clock::now() > deadline) {
      Stop();
      return Status::Unsupported("moto did not answer within " + std::to_string(int(kStartSeconds)) +
                             " s; log " + log_path() + ":\n" + FileTail(log_path()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Status s = SetUpIam();
  if (s.ok()) s = AllowUnsigned(0);
  if (!s.ok()) {
    Stop();
    return Status::Unsupported("setting up moto's IAM user: " + s.message() + "\nlog " + log_path() +
                           ":\n" + FileTail(log_path()));
  }
  return Status::Ok();
}

Status MotoServer::AllowUnsigned(int n) {
  http::Request req;
  req.method = "POST";
  req.url = endpoint() + "/moto-api/reset-auth";
  req.body = std::to_string(n);
  // moto reads the raw body; Flask hands a form-encoded one (curl's default type) to
  // request.form instead and leaves it empty.
  req.headers = {{"Content-Type", "text/plain"}};
  auto resp = http_->Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) {
    return Status::IOError("moto's reset-auth answered HTTP " + std::to_string(resp->status));
  }
  return Status::Ok();
}

Result<std::string> MotoServer::Iam(const std::vector<std::pair<std::string, std::string>>& params) {
  auto fields = params;
  fields.emplace_back("Version", "2010-05-08");
  http::Request req;
  req.method = "POST";
  req.url = endpoint() + "/";
  req.body = http::FormEncode(fields);
  sigv4::Request sreq;
  sreq.method = "POST";
  sreq.host = "127.0.0.1:" + std::to_string(port_);
  sreq.path = "/";
  sreq.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  sreq.payload_hash = sigv4::Sha256Hex(req.body);
  // Any key will do while moto's unauthenticated allowance lasts; the scope's service
  // ("iam") is how moto routes the call.
  const AwsCredentials setup_key{"AKIDZENFSSETUP000000", "setup-secret", "", std::nullopt};
  req.headers = sigv4::Sign(sreq, setup_key, {"us-east-1", "iam"},
                            std::chrono::system_clock::now(), false);
  req.idempotent = false;
  auto resp = http_->Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) {
    return Status::IOError("IAM " + params.front().second + ": HTTP " + std::to_string(resp->status) +
                           ": " + resp->body.substr(0, 500));
  }
  return resp->body;
}

Status MotoServer::SetUpIam() {
  auto user = Iam({{"Action", "CreateUser"}, {"UserName", kUser}});
  if (!user.ok()) return user.status();
  auto key = Iam({{"Action", "CreateAccessKey"}, {"UserName", kUser}});
  if (!key.ok()) return key.status();
  credentials_ = {};
  credentials_.access_key_id = s3xml::FirstText(*key, "AccessKeyId");
  credentials_.secret_access_key = s3xml::FirstText(*key, "SecretAccessKey");
  if (credentials_.access_key_id.empty() || credentials_.secret_access_key.empty()) {
    return Status::IOError("CreateAccessKey returned no key");
  }
  auto policy = Iam({{"Action", "CreatePolicy"}, {"PolicyName", "zenfs-allow-all"},
                     {"PolicyDocument", kAllowAll}});
  if (!policy.ok()) return policy.status();
  const std::string policy_arn = s3xml::FirstText(*policy, "Arn");
  if (policy_arn.empty()) return Status::IOError("CreatePolicy returned no ARN");
  auto attach = Iam({{"Action", "AttachUserPolicy"}, {"UserName", kUser}, {"PolicyArn", policy_arn}});
  if (!attach.ok()) return attach.status();
  auto role = Iam({{"Action", "CreateRole"}, {"RoleName", kRole},
                   {"AssumeRolePolicyDocument", kTrustAnyWebIdentity}});
  if (!role.ok()) return role.status();
  auto attach_role =
      Iam({{"Action", "AttachRolePolicy"}, {"RoleName", kRole}, {"PolicyArn", policy_arn}});
  if (!attach_role.ok()) return attach_role.status();
  return Status::Ok();
}

Result<AwsCredentials> MotoServer::CreateUserWithoutRights(const std::string& name) {
  // IAM calls are signed by the setup key, which moto knows nothing of: let them through.
  Status s = AllowUnsigned(2);
  if (!s.ok()) return s;
  auto user = Iam({{"Action", "CreateUser"}, {"UserName", name}});
  if (!user.ok()) return user.status();
  auto key = Iam({{"Action", "CreateAccessKey"}, {"UserName", name}});
  if (!key.ok()) return key.status();
  AwsCredentials out;
  out.access_key_id = s3xml::FirstText(*key, "AccessKeyId");
  out.secret_access_key = s3xml::FirstText(*key, "SecretAccessKey");
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return Status::IOError("CreateAccessKey returned no key");
  }
  return out;
}

void MotoServer::Stop() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGCONT);  // a paused group would not die of SIGTERM, and SIGKILL needs no wait
  kill(-pid_, SIGKILL);
  if (!WaitChild(pid_, 60)) std::cerr << "moto (pid " << pid_ << ") did not die of SIGKILL\n";
  pid_ = -1;
}

Status MotoServer::Restart() {
  Stop();
  return Launch();
}

void MotoServer::Pause() {
  if (pid_ > 0) kill(-pid_, SIGSTOP);
}

void MotoServer::Resume() {
  if (pid_ > 0) kill(-pid_, SIGCONT);
}

std::unique_ptr<S3Client> MotoServer::MakeClient(const AwsCredentials& credentials,
                                                 std::size_t list_page_size) const {
  S3Endpoint ep;
  ep.url = endpoint();
  ep.region = "us-east-1";
  ep.path_style = true;
  ep.list_page_size = list_page_size;
  return std::make_unique<S3Client>(
      http_, ep,
      std::make_shared<StaticCredentialsProvider>(
          credentials.access_key_id.empty() ? credentials_ : credentials));
}

}  // namespace zenfs::testing
