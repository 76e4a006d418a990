// AWS credentials as every AWS tool finds them (issue 15): the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), a profile of the shared
// files (AWS_PROFILE / -o aws_profile, ~/.aws/credentials and ~/.aws/config or
// -o credentials_file / AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), web identity
// (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN through STS AssumeRoleWithWebIdentity), and
// the instance metadata service (IMDSv2), in that order. Credentials read from files are
// read again when the file changes (rotated session tokens); temporary ones are renewed
// before they expire. Secrets never appear in messages.
// Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "store/status.h"

namespace zenfs {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys
  std::optional<std::chrono::system_clock::time_point> expires;
};

class AwsCredentialsProvider {
 public:
  virtual ~AwsCredentialsProvider() = default;
  // The credentials to sign the next request with. kPermissionDenied (with a message that
  // says which sources were tried, never a secret) when none are found.
  virtual Result<AwsCredentials> Get() = 0;
};

// Credentials fixed when made: tests, and callers that found them elsewhere. Thread-safe.
class StaticCredentialsProvider final : public AwsCredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials credentials)
      : credentials_(std::move(credentials)) {}
  Result<AwsCredentials> Get() override { return credentials_; }

 private:
  const AwsCredentials credentials_;
};

}  // namespace zenfs
