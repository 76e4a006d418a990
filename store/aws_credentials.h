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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "store/http.h"
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

// ---- The chain every AWS tool uses, and the region and endpoint of S3.

// The sections of an INI file as the AWS tools read it: "[name]" headers, "key = value"
// lines (keys lower-cased, values trimmed), '#' and ';' comment lines; indented lines
// (nested settings such as "s3 =\n  addressing_style = path") are kept as
// "parent.key". Never fails: a line it cannot read is skipped.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
IniSections ParseIni(std::string_view text);

// Where the chain looks. Everything it reads of the environment comes from `env` (a
// snapshot, so tests and a daemon pass exactly what they mean), never from getenv.
struct AwsChainOptions {
  std::map<std::string, std::string> env;
  std::string profile;           // -o aws_profile; "" = AWS_PROFILE, else "default"
  std::string credentials_file;  // -o credentials_file; "" = AWS_SHARED_CREDENTIALS_FILE,
                                 // else $HOME/.aws/credentials
  std::string config_file;       // "" = AWS_CONFIG_FILE, else $HOME/.aws/config
  // For STS (web identity); null: that link is skipped.
  std::shared_ptr<http::Client> http;
  // STS's URL; "" = AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else https://sts.amazonaws.com.
  std::string sts_endpoint;
  // The instance metadata service; "" = AWS_EC2_METADATA_SERVICE_ENDPOINT, else
  // http://169.254.169.254. AWS_EC2_METADATA_DISABLED=true turns the link off.
  std::string imds_endpoint;
  // Connect and whole-request bound of each IMDS call, so that a node off the cloud gives
  // up fast; after a failure IMDS is not asked again for `imds_retry_after`.
  std::chrono::milliseconds imds_timeout{1000};
  std::chrono::seconds imds_retry_after{60};
};

// The environment, a profile of the shared files (re-read when either file changes),
// web identity through STS AssumeRoleWithWebIdentity, IMDSv2; in that order, the first
// that has credentials wins. Temporary credentials (STS, IMDS) are kept until 5 minutes
// before they expire. Thread-safe.
std::shared_ptr<AwsCredentialsProvider> MakeAwsCredentialChain(AwsChainOptions options);

// The profile, credentials file and config file the options name (defaults applied).
std::string AwsProfileName(const AwsChainOptions& options);
std::string AwsCredentialsFile(const AwsChainOptions& options);
std::string AwsConfigFile(const AwsChainOptions& options);

// The region and endpoint of S3 as the AWS tools find them, from the environment and the
// parsed config file: region from AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`
// ("" when none says); endpoint from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
// `s3.endpoint_url` or `endpoint_url` ("" when none says). The profile's section is
// "[default]" or "[profile NAME]". Pure.
struct AwsS3Settings {
  std::string region;
  std::string endpoint_url;
};
AwsS3Settings ResolveAwsS3Settings(const std::map<std::string, std::string>& env,
                                   const IniSections& config, const std::string& profile);

}  // namespace zenfs
