// Tests of the `zenfs demo` command line: --schema picks the ZenML schema (the newest by
// default), and a name it does not know is a usage error that writes nothing. The real
// binary runs; no mount is needed.
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount_util.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;

// The alembic version of the store in `dir`, or "" without one.
std::string AlembicVersion(const std::string& dir) {
  const std::string db = dir + "/local_stores/default_zen_store/zenml.db";
  if (!fs::exists(db)) return "";
  sqlite3* h = nullptr;
  std::string version;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, "SELECT version_num FROM alembic_version", -1, &st, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      version = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return version;
}

TEST(DemoCliTest, SchemaOptionPicksTheZenmlVersion) {
  TempDir tmp;
  struct Case {
    std::vector<std::string> schema;  // the --schema arguments, none for the default
    std::string alembic;
  };
  int n = 0;
  for (const Case& c : {Case{{}, "0.97.0"}, Case{{"--schema", "latest"}, "0.97.0"},
                        Case{{"--schema", "0.80"}, "0.80.2"}, Case{{"--schema=0.74"}, "0.74.0"}}) {
    const std::string dir = tmp.path() + "/store" + std::to_string(n++);
    std::vector<std::string> args{"demo", dir, "--runs", "1", "--artifact-bytes", "0"};
    args.insert(args.end(), c.schema.begin(), c.schema.end());
    const CommandResult r = RunZenfs(args, 120);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(AlembicVersion(dir), c.alembic) << dir;
  }
}

TEST(DemoCliTest, UnknownSchemaIsAUsageErrorAndWritesNothing) {
  TempDir tmp;
  for (const char* bad : {"0.9", "0.74.0", "LATEST", ""}) {
    const std::string dir = tmp.path() + "/store";
    const CommandResult r = RunZenfs({"demo", dir, "--schema", bad, "--artifact-bytes", "0"});
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--schema"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir)) << bad;
  }
}

}  // namespace
}  // namespace zenfs::testing
