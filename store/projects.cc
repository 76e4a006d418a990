#include "store/projects.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace zenfs {

namespace {

std::string Quoted(const std::string& name) {
  return nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string NamesOf(const std::vector<ProjectRow>& projects) {
  std::string out;
  for (const ProjectRow& p : projects) out += (out.empty() ? "" : ", ") + Quoted(p.name);
  return out;
}

const ProjectRow* ByName(const std::vector<ProjectRow>& projects, const std::string& name) {
  auto it = std::find_if(projects.begin(), projects.end(), [&](const ProjectRow& p) { return p.name == name; });
  return it == projects.end() ? nullptr : &*it;
}

const ProjectRow* ById(const std::vector<ProjectRow>& projects, const std::string& id) {
  if (id.empty()) return nullptr;
  const std::string want = CanonicalId(id);
  auto it = std::find_if(projects.begin(), projects.end(),
                         [&](const ProjectRow& p) { return CanonicalId(p.id) == want; });
  return it == projects.end() ? nullptr : &*it;
}

}  // namespace

std::string CanonicalId(const std::string& id) {
  std::string hex;
  for (char c : id) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return id;
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return hex.size() == 32 ? hex : id;
}

Result<std::optional<ProjectRow>> ChooseProject(const std::vector<ProjectRow>& projects,
                                                const ProjectHints& hints) {
  if (projects.empty()) {
    if (!hints.requested.empty()) {
      return Status::NotFound("project " + Quoted(hints.requested) +
                              " asked for, but this store has no projects (ZenML before 0.80)");
    }
    return std::optional<ProjectRow>();
  }
  if (!hints.requested.empty()) {
    const ProjectRow* p = ByName(projects, hints.requested);
    if (p == nullptr) p = ById(projects, hints.requested);
    if (p == nullptr) {
      return Status::NotFound("no project " + Quoted(hints.requested) + " in this store; its projects: " +
                              NamesOf(projects));
    }
    return std::optional<ProjectRow>(*p);
  }
  for (const std::string* id : {&hints.env_project_id, &hints.config_project_id}) {
    if (const ProjectRow* p = ById(projects, *id)) return std::optional<ProjectRow>(*p);
  }
  if (!hints.config_workspace_name.empty()) {
    if (const ProjectRow* p = ByName(projects, hints.config_workspace_name)) return std::optional<ProjectRow>(*p);
  }
  if (const ProjectRow* p = ByName(projects, "default")) return std::optional<ProjectRow>(*p);
  if (projects.size() == 1) return std::optional<ProjectRow>(projects.front());
  return Status::InvalidArgument("the store has " + std::to_string(projects.size()) +
                                 " projects and none is chosen: " + NamesOf(projects) +
                                 "; pick one with --project NAME (-o project=NAME)");
}

}  // namespace zenfs
