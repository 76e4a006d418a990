// Which project of a ZenML 0.80+ store the tree shows (SPEC §1 "Projects"). Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/rows.h"
#include "store/status.h"

namespace zenfs {

// What may name the project, strongest first.
struct ProjectHints {
  std::string requested;              // --project / -o project=: a name, or an id
  std::string env_project_id;         // $ZENML_ACTIVE_PROJECT_ID
  std::string config_project_id;      // config.yaml's active_project_id (0.80 and later)
  std::string config_workspace_name;  // config.yaml's active_workspace_name (before 0.80)
};

// The project to show, in SPEC's order: the one requested (by name, else by id; one that
// names no project is NotFound, listing the projects), else the environment's, else the
// config's active project id, else its older active workspace name matched by name, else
// the project named `default`, else the only one. An environment or config hint that names
// no project (a config copied from another store) falls through to the next rule: the
// user chose nothing here. Several projects and nothing chosen is InvalidArgument listing
// them. nullopt: the store has no projects (before 0.80); asking for one there is NotFound.
// Names in messages are JSON-quoted (control bytes escaped): they come from the store.
Result<std::optional<ProjectRow>> ChooseProject(const std::vector<ProjectRow>& projects,
                                                const ProjectHints& hints);

// An id as the store spells it: 32 lowercase hex digits, from either spelling of a UUID
// (ZenML's config files use the dashed one). Anything else comes back unchanged.
std::string CanonicalId(const std::string& id);

}  // namespace zenfs
