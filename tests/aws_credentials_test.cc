// The AWS credential chain and the S3 region/endpoint resolution (store/aws_credentials.h),
// link by link, with the environment passed in as a map and the shared files in a temp
// folder. Web identity against a real STS is in tests/s3_client_test.cc (moto).
#include "store/aws_credentials.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>

#include "tests/test_util.h"

namespace zenfs {
namespace {

using testing::TempDir;
using testing::WriteFile;

// Sets a file's mtime to `sec` seconds after the epoch: a rewrite within the same
// timestamp granule must still be seen, so the test moves the clock itself.
void SetMtime(const std::string& path, long sec) {
  struct timespec times[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

AwsChainOptions Isolated(const TempDir& dir) {
  AwsChainOptions o;
  o.env = {{"HOME", dir.path()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  return o;
}

TEST(AwsIniTest, SectionsKeysAndNesting) {
  const auto ini = ParseIni(
      "# comment\n; another\nstray = outside\n[default]\naws_access_key_id = AK \n"
      "AWS_Secret_Access_Key=sec=ret\n\n[profile  team ]\nregion = eu-west-1\ns3 =\n"
      "  endpoint_url = http://minio:9000\n  addressing_style = path\nendpoint_url = http://all\n"
      "[broken\nkey = lost\n[other]\nnoequals\n");
  ASSERT_EQ(ini.count("default"), 1u);
  EXPECT_EQ(ini.at("default").at("aws_access_key_id"), "AK");
  EXPECT_EQ(ini.at("default").at("aws_secret_access_key"), "sec=ret");
  ASSERT_EQ(ini.count("profile team"), 1u);
  EXPECT_EQ(ini.at("profile team").at("region"), "eu-west-1");
  EXPECT_EQ(ini.at("profile team").at("s3.endpoint_url"), "http://minio:9000");
  EXPECT_EQ(ini.at("profile team").at("s3.addressing_style"), "path");
  EXPECT_EQ(ini.at("profile team").at("endpoint_url"), "http://all");
  EXPECT_EQ(ini.count("broken"), 0u);
  EXPECT_TRUE(ini.at("other").empty());
  EXPECT_TRUE(ParseIni("").empty());
  EXPECT_TRUE(ParseIni(std::string("\0\0[\n=\n", 7)).empty());
}

TEST(AwsS3SettingsTest, RegionAndEndpointPrecedence) {
  const auto config = ParseIni(
      "[default]\nregion = us-west-2\n[profile team]\nregion = eu-west-1\n"
      "endpoint_url = http://general\ns3 =\n  endpoint_url = http://s3-only\n"
      "[profile plain]\nendpoint_url = http://plain\n");
  struct Case {
    std::map<std::string, std::string> env;
    std::string profile;
    std::string region;
    std::string endpoint;
  };
  const std::vector<Case> cases = {
      {{}, "", "us-west-2", ""},
      {{}, "default", "us-west-2", ""},
      {{}, "team", "eu-west-1", "http://s3-only"},
      {{}, "plain", "", "http://plain"},
      {{}, "missing", "", ""},
      {{{"AWS_DEFAULT_REGION", "ap-south-1"}}, "team", "ap-south-1", "http://s3-only"},
      {{{"AWS_REGION", "sa-east-1"}, {"AWS_DEFAULT_REGION", "ap-south-1"}}, "team", "sa-east-1",
       "http://s3-only"},
      {{{"AWS_ENDPOINT_URL", "http://env-all"}}, "team", "eu-west-1", "http://env-all"},
      {{{"AWS_ENDPOINT_URL", "http://env-all"}, {"AWS_ENDPOINT_URL_S3", "http://env-s3"}}, "plain",
       "", "http://env-s3"},
  };
  for (const auto& c : cases) {
    const auto s = ResolveAwsS3Settings(c.env, config, c.profile);
    EXPECT_EQ(s.region, c.region) << c.profile;
    EXPECT_EQ(s.endpoint_url, c.endpoint) << c.profile;
  }
}

TEST(AwsChainTest, EnvironmentComesFirst) {
  TempDir dir;
  WriteFile(dir.path() + "/creds", "[default]\naws_access_key_id=FILEKEY\naws_secret_access_key=filesecret\n");
  auto o = Isolated(dir);
  o.credentials_file = dir.path() + "/creds";
  o.env["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  o.env["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  o.env["AWS_SESSION_TOKEN"] = "envtoken";
  auto c = MakeAwsCredentialChain(o)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ENVKEY");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "envtoken");
  // Half a key in the environment is no key: the file's is used.
  o.env.erase("AWS_SECRET_ACCESS_KEY");
  c = MakeAwsCredentialChain(o)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "FILEKEY");
}

TEST(AwsChainTest, ProfilesFromBothFilesAndRereadWhenChanged) {
  TempDir dir;
  const std::string creds = dir.path() + "/credentials";
  const std::string config = dir.path() + "/config";
  WriteFile(creds, "[default]\naws_access_key_id=DEFKEY\naws_secret_access_key=def\n"
                   "[team]\naws_access_key_id = TEAMKEY1\naws_secret_access_key = team1\n"
                   "aws_session_token = tok1\n");
  WriteFile(config, "[profile cfgonly]\naws_access_key_id=CFGKEY\naws_secret_access_key=cfg\n"
                    "[team]\naws_access_key_id=NOTTHIS\naws_secret_access_key=x\n");
  SetMtime(creds, 1000000);
  auto o = Isolated(dir);
  o.env["AWS_SHARED_CREDENTIALS_FILE"] = creds;
  o.env["AWS_CONFIG_FILE"] = config;

  auto def = MakeAwsCredentialChain(o)->Get();
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->access_key_id, "DEFKEY");

  o.env["AWS_PROFILE"] = "cfgonly";  // only in config, as [profile cfgonly]
  auto cfg = MakeAwsCredentialChain(o)->Get();
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->access_key_id, "CFGKEY");

  o.profile = "team";  // -o aws_profile wins over AWS_PROFILE
  auto chain = MakeAwsCredentialChain(o);
  auto team = chain->Get();
  ASSERT_TRUE(team.ok()) << team.status().ToString();
  EXPECT_EQ(team->access_key_id, "TEAMKEY1");
  EXPECT_EQ(team->session_token, "tok1");

  // A rotated session token: the same provider sees the new file.
  WriteFile(creds, "[team]\naws_access_key_id = TEAMKEY2\naws_secret_access_key = team2\n"
                   "aws_session_token = tok2\n");
  SetMtime(creds, 1000001);
  auto rotated = chain->Get();
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->access_key_id, "TEAMKEY2");
  EXPECT_EQ(rotated->session_token, "tok2");

  // The key removed from the file: no credentials, and a message naming where it looked
  // but no secret.
  WriteFile(creds, "[team]\n");
  SetMtime(creds, 1000002);
  auto gone = chain->Get();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(gone.status().message().find("profile 'team'"), std::string::npos) << gone.status().message();
  EXPECT_NE(gone.status().message().find(creds), std::string::npos);
  EXPECT_EQ(gone.status().message().find("team2"), std::string::npos);
}

TEST(AwsChainTest, NothingFoundSaysWhatWasTried) {
  TempDir dir;
  auto o = Isolated(dir);
  auto c = MakeAwsCredentialChain(o)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kPermissionDenied);
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("environment"), std::string::npos) << m;
  EXPECT_NE(m.find(dir.path() + "/.aws/credentials"), std::string::npos) << m;
  EXPECT_NE(m.find("web identity"), std::string::npos) << m;
  EXPECT_NE(m.find("AWS_EC2_METADATA_DISABLED"), std::string::npos) << m;
}

TEST(AwsChainTest, WebIdentityWithAnUnreadableTokenStopsTheChain) {
  TempDir dir;
  auto o = Isolated(dir);
  o.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir.path() + "/no-such-token";
  o.env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/r";
  o.http = std::make_shared<http::Client>();
  auto c = MakeAwsCredentialChain(o)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(c.status().message().find("no-such-token"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace zenfs
