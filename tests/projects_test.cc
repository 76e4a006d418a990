// Choosing the project a ZenML 0.80+ store shows (SPEC §1 "Projects"), and the hints that
// config.yaml gives.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/projects.h"
#include "store/store_locator.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

const std::vector<ProjectRow> kTwo = {{"0123456789abcdef0123456789abcdef", "default"},
                                      {"fedcba9876543210fedcba9876543210", "research"}};
const std::vector<ProjectRow> kNoDefault = {{"0123456789abcdef0123456789abcdef", "prod"},
                                            {"fedcba9876543210fedcba9876543210", "research"}};

std::string Chosen(const std::vector<ProjectRow>& projects, const ProjectHints& hints) {
  auto c = ChooseProject(projects, hints);
  if (!c.ok()) return "error: " + c.status().message();
  return *c ? (*c)->name : "(none)";
}

TEST(ChooseProject, FollowsTheOrderOfTheSpec) {
  EXPECT_EQ(Chosen(kTwo, {}), "default");
  EXPECT_EQ(Chosen(kTwo, {"research", "", "", ""}), "research");
  // By id, in either spelling of a UUID.
  EXPECT_EQ(Chosen(kTwo, {"fedcba98-7654-3210-fedc-ba9876543210", "", "", ""}), "research");
  EXPECT_EQ(Chosen(kTwo, {"", "FEDCBA98-7654-3210-FEDC-BA9876543210", "", ""}), "research");
  EXPECT_EQ(Chosen(kTwo, {"", "", "fedcba98-7654-3210-fedc-ba9876543210", ""}), "research");
  EXPECT_EQ(Chosen(kTwo, {"", "", "", "research"}), "research");
  // The request beats the environment, which beats the config file.
  EXPECT_EQ(Chosen(kTwo, {"default", "fedcba9876543210fedcba9876543210", "", ""}), "default");
  EXPECT_EQ(Chosen(kTwo, {"", "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210", ""}),
            "default");
  // Hints that name no project of this store fall through.
  EXPECT_EQ(Chosen(kTwo, {"", "11111111111111111111111111111111", "not-an-id", "gone"}), "default");
  // Only one project: it, whatever its name.
  EXPECT_EQ(Chosen({kNoDefault[1]}, {}), "research");
}

TEST(ChooseProject, RefusesWithTheListOfProjects) {
  auto none = ChooseProject(kNoDefault, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("\"prod\", \"research\""), std::string::npos) << none.status().message();
  EXPECT_NE(none.status().message().find("--project"), std::string::npos);
  auto missing = ChooseProject(kTwo, {"nope", "", "", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("\"default\", \"research\""), std::string::npos);
  // A hostile name cannot put control bytes on the user's terminal.
  auto hostile = ChooseProject({{"a", "x\x1b[2Jy"}, {"b", "z"}}, {});
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.status().message().find('\x1b'), std::string::npos);
  EXPECT_NE(hostile.status().message().find("\\u001b"), std::string::npos);
}

TEST(ChooseProject, StoresWithoutProjects) {
  auto c = ChooseProject({}, {"", "0123456789abcdef0123456789abcdef", "", "default"});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*c);
  EXPECT_EQ(ChooseProject({}, {"default", "", "", ""}).status().code(), Status::Code::kNotFound);
}

TEST(LocateStore, ReadsTheActiveProjectFromConfigYaml) {
  testing::TempDir d;
  std::filesystem::create_directories(d.path() + "/local_stores/default_zen_store");
  testing::WriteFile(d.path() + "/local_stores/default_zen_store/zenml.db", "");
  StoreEnv env;
  testing::WriteFile(d.path() + "/config.yaml",
                     "active_project_id: fedcba98-7654-3210-fedc-ba9876543210\n"
                     "active_stack_id: 0123\nstore:\n  type: sql\n  url: 'sqlite:////elsewhere/zenml.db'\n"
                     "version: 0.85.0\n");
  auto loc = LocateStore(d.path(), env);
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->active_project_id, "fedcba98-7654-3210-fedc-ba9876543210");
  EXPECT_EQ(loc->active_workspace_name, "");
  // Without a store section.
  testing::WriteFile(d.path() + "/config.yaml", "active_project_id: 0123\n");
  loc = LocateStore(d.path(), env);
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->active_project_id, "0123");
  // Flow style and quoting are YAML too.
  testing::WriteFile(d.path() + "/config.yaml", "{active_workspace_name: \"my ws\", store: {type: sql}}\n");
  loc = LocateStore(d.path(), env);
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->active_workspace_name, "my ws");
  // Not YAML, or not a mapping: ignored, the database is still found.
  for (const char* bad : {"store: [unclosed\n", "- a\n- b\n", "\t\x01\x02: :\n", "active_project_id: [1, 2]\n"}) {
    testing::WriteFile(d.path() + "/config.yaml", bad);
    loc = LocateStore(d.path(), env);
    ASSERT_TRUE(loc.ok()) << bad;
    EXPECT_EQ(loc->active_project_id, "") << bad;
  }
}

}  // namespace
}  // namespace zenfs
