// The `-o` parser of the mount command (src/options.h): case tables of lists that must
// be understood and lists that must be refused.
#include "src/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zenfs {
namespace {

const std::vector<LongOption> kLong = {
    {"artifact-root", true}, {"refresh", true}, {"log-level", true},
    {"threads", true},       {"foreground", false}, {"debug", false}};

struct Good {
  std::vector<std::string> lists;
  std::vector<std::string> args;
  std::vector<std::string> fuse;
};

TEST(ExpandMountOptions, UnderstandsEveryKind) {
  const std::vector<Good> cases = {
      {{}, {}, {}},
      {{"allow_other"}, {}, {"allow_other"}},
      {{"ro,allow_other,nofail,_netdev"}, {}, {"ro", "allow_other"}},
      {{"refresh=5"}, {"--refresh", "5"}, {}},
      {{"artifact_root=s3://b/p=/data/b"}, {"--artifact-root", "s3://b/p=/data/b"}, {}},
      {{"artifact-root=/a=/b"}, {"--artifact-root", "/a=/b"}, {}},
      {{"log_level=debug,foreground"}, {"--log-level", "debug", "--foreground"}, {}},
      {{"artifact_root=/a=/b", "artifact_root=/c=/d"},
       {"--artifact-root", "/a=/b", "--artifact-root", "/c=/d"}, {}},
      // What mount.fuse3 runs for an fstab line: it adds dev,suid.
      {{"ro,allow_other,refresh=5,dev,suid"}, {"--refresh", "5"}, {"ro", "allow_other", "dev", "suid"}},
      {{"noauto,auto,user,users,owner,group,defaults"}, {}, {}},
      {{"x-systemd.automount,x-systemd.requires=network-online.target,comment=systemd.x"}, {}, {}},
      {{"uid=1000,gid=100,file_mode=0444,dir_mode=0555"}, {}, {"uid=1000", "gid=100", "file_mode=0444", "dir_mode=0555"}},
      {{",,allow_root,,"}, {}, {"allow_root"}},
      {{"default_permissions,rw,noatime,fsname=x"}, {}, {"default_permissions", "rw", "noatime", "fsname=x"}},
      {{"debug"}, {"--debug"}, {}},
  };
  for (const Good& c : cases) {
    auto r = ExpandMountOptions(c.lists, kLong);
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(c.lists) << ": " << r.status().ToString();
    EXPECT_EQ(r->args, c.args) << ::testing::PrintToString(c.lists);
    EXPECT_EQ(r->fuse, c.fuse) << ::testing::PrintToString(c.lists);
  }
}

TEST(ExpandMountOptions, RefusesWhatItDoesNotKnow) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"frobnicate", "frobnicate"},
      {"allow_other,bogus=1", "bogus=1"},
      {"refresh", "needs a value"},           // a valued option without its value
      {"foreground=yes", "takes no value"},   // a flag with a value
      {"nofail=1", "nofail=1"},               // mount's flags take no value
      {"uid", "uid"},                         // uid needs a value
      {"allow_other=1", "allow_other=1"},
      {"=5", "=5"},
      {"comment", "comment"},
  };
  for (const auto& [list, says] : cases) {
    auto r = ExpandMountOptions({list}, kLong);
    ASSERT_FALSE(r.ok()) << list;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << list;
    EXPECT_NE(r.status().message().find(says), std::string::npos) << list << ": " << r.status().message();
  }
}

TEST(ExpandMountOptions, NewLongOptionsGetTheirSpellingForFree) {
  auto r = ExpandMountOptions({"cache_dir=/var/cache/z,project=p"}, {{"cache-dir", true}, {"project", true}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->args, (std::vector<std::string>{"--cache-dir", "/var/cache/z", "--project", "p"}));
  EXPECT_FALSE(ExpandMountOptions({"cache_dir=/x"}, kLong).ok());
}

}  // namespace
}  // namespace zenfs
