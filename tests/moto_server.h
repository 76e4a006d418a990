// A private S3 server for the tests (issue 15): moto's server mode (moto.server, through
// tests/moto_server.py, which fixes the URL moto checks signatures over; the python3 on
// PATH, or $ZENFS_PYTHON) as this process's child, in its own process group, on 127.0.0.1
// and a free port, with authentication on.
//
// Authentication: moto starts with INITIAL_NO_AUTH_ACTION_COUNT set to the number of IAM
// calls the harness makes first (an IAM user, its access key, an allow-all policy for S3
// and STS attached to it, and a role for web identity with the same policy); every
// request after those must carry a valid SigV4 signature of a known key, so a wrong
// secret is refused (SignatureDoesNotMatch) and so is an unsigned request.
//
// moto keeps everything in memory: after Stop and Start the server is empty and the user
// has a new key (credentials() changes). Pause/Resume stop the process without losing
// anything: connections are accepted by the kernel but nothing answers (a stalled
// endpoint).
// Not thread-safe: one thread drives it (the S3 clients it makes are thread-safe).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/aws_credentials.h"
#include "store/http.h"
#include "store/s3_client.h"
#include "store/status.h"
#include "tests/server_environment.h"

namespace zenfs::testing {

class MotoServer {
 public:
  // Starts moto with its log in base_dir/moto.log (base_dir is created if missing) and
  // creates the IAM user; waits up to 90 s for it. Null with *error (and the log's tail)
  // on failure, saying so clearly when python3 has no moto.
  static std::unique_ptr<MotoServer> Start(const std::string& base_dir, std::string* error);
  ~MotoServer();  // Stop()
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT": the S3 (and STS, IAM) endpoint.
  std::string endpoint() const;
  std::string log_path() const { return base_dir_ + "/moto.log"; }
  bool running() const { return pid_ > 0; }

  // The IAM user's key: allowed every S3 and STS action.
  const AwsCredentials& credentials() const { return credentials_; }
  // The role that STS AssumeRoleWithWebIdentity may assume (any token): allowed the same.
  std::string web_identity_role_arn() const;

  // Kills the server's process group (SIGKILL) and reaps it: connections are refused.
  void Stop();
  // A fresh, empty server on the same port, with a new user and key (after Stop).
  Status Restart();
  // SIGSTOP / SIGCONT to the server's process group.
  void Pause();
  void Resume();

  // Lets the next `n` requests through without checking their signature (moto's
  // /moto-api/reset-auth); 0 checks every request again. AWS serves STS
  // AssumeRoleWithWebIdentity unsigned, but moto, once authentication is on, checks it
  // like any other call: a test of web identity allows that one call.
  Status AllowUnsigned(int n);

  // A new IAM user (`name`) with an access key and no policy: every S3 request it signs
  // is refused with AccessDenied. Its key.
  Result<AwsCredentials> CreateUserWithoutRights(const std::string& name);

  // An S3 client for this server with `credentials` (the user's when empty), a client of
  // its own with short timeouts, path-style.
  std::unique_ptr<S3Client> MakeClient(const AwsCredentials& credentials = {},
                                       std::size_t list_page_size = 1000) const;
  // The HTTP client the harness itself uses (short timeouts, no retries).
  const std::shared_ptr<http::Client>& http() const { return http_; }

 private:
  MotoServer(std::string base_dir, int port);
  // Spawns moto on port_ and waits until it answers; then creates the IAM user.
  Status Launch();
  Status SetUpIam();
  // One IAM query-API call (form POST), signed with a throwaway key: moto lets it
  // through while its unauthenticated allowance lasts. The response body.
  Result<std::string> Iam(const std::vector<std::pair<std::string, std::string>>& params);

  std::string base_dir_;
  int port_;
  pid_t pid_ = -1;
  std::shared_ptr<http::Client> http_;
  AwsCredentials credentials_;
};

// One MotoServer for a whole test binary (tests/server_environment.h).
class MotoEnvironment : public ServerEnvironment<MotoServer> {
 public:
  explicit MotoEnvironment(std::string root_dir)
      : ServerEnvironment(std::move(root_dir), "moto", "the moto S3 server") {}
};

}  // namespace zenfs::testing
