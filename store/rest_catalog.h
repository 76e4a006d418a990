// The catalog over a ZenML server's REST API (SPEC §1: a store given as a server URL):
// the same rows and details as the SQL catalog gives for the store behind the server.
// Speaks ZenML 0.74's API, and 0.80's project-scoped lists; other versions are refused
// with a message naming them (RestCatalog::Open).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/catalog.h"
#include "store/zenml_rest.h"

namespace zenfs {

class RestCatalog final : public Catalog {
 public:
  // Unsupported for a server version whose API zenfs does not speak.
  static Result<std::unique_ptr<RestCatalog>> Open(std::unique_ptr<RestSession> session);
  ~RestCatalog() override;

  Result<StoreRows> LoadRows(RowScope scope) override;
  Result<std::int64_t> ChangeCounter() override;
  Status GetRunDetail(const std::string& run_id, RunDetail* out) override;
  Status GetStepDetail(const std::string& step_id, const std::string& step_name, StepDetail* out) override;
  Status GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) override;
  Status GetMetadata(std::string_view resource_type, const std::string& resource_id,
                     std::vector<MetadataRow>* out) override;
  Result<std::vector<ProjectRow>> ListProjects() override;
  void ShowProject(const std::string& id) override { project_id_ = id; }
  std::string Describe() const override { return session_->Describe(); }
  // GET /steps/{id}/logs (offset 0, the cap plus one byte: the server returns the file's
  // bytes decoded as UTF-8) and /artifact_versions/{id}/visualize?index=N (an image's value
  // is base64; other types are text the server read in Python's text mode, so "\r\n"
  // comes back as "\n"). Visualizations are kept (immutable), logs for kServedLogSeconds
  // (a running step's grow); all of it at most kServedCacheBytes.
  Result<std::shared_ptr<const std::string>> ServedBytes(ServedResource what, const std::string& id,
                                                         std::size_t index) override;

  RestSession& session() { return *session_; }

  // How lists are paged: lists of more than `one_page_items` items are read in pages of at
  // most `page_items`, `parallel` at once (defaults in rest_catalog.cc; tests make small
  // lists take the parallel path).
  struct Paging {
    int one_page_items, page_items, parallel;
  };
  void SetPaging(Paging p) { paging_ = p; }

 private:
  explicit RestCatalog(std::unique_ptr<RestSession> session);
  // Every item of the paged list at `path` (e.g. "/runs") with `query` (without page and
  // size), page by page at the largest size the server takes, the project filter added
  // for project-scoped lists when a project is shown.
  template <typename F>
  Status ForEachItem(const std::string& path, const std::string& query, bool project_scoped, F&& item);
  // One hydrated entity, e.g. "/runs/<id>".
  Result<nlohmann::ordered_json> GetOne(const std::string& path);
  // What the change poll compares: totals and the newest `updated` of the lists.
  Result<std::string> Fingerprint();

  std::unique_ptr<RestSession> session_;
  Paging paging_;
  const bool projects_;      // 0.80 and later: lists are scoped by project
  std::string project_id_;   // set once by ShowProject, before any read

  std::mutex counter_mu_;
  std::string fingerprint_;  // guarded
  std::int64_t counter_ = 0;  // guarded

  // A deployment's run-level fields and step configurations: deployments never change
  // once written, and every run and step of it asks for the same one. The last
  // kDeploymentCap asked for are kept (as the SQL catalog keeps them).
  struct Deployment {
    std::optional<std::string> pipeline_configuration, run_name_template, code_path, pipeline_source, git_sha,
        schedule_id;
    std::unordered_map<std::string, std::string> step_configs;
  };
  static constexpr std::size_t kDeploymentCap = 64;
  Result<std::shared_ptr<const Deployment>> DeploymentOf(const std::string& id);
  std::mutex deployment_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Deployment>> deployments_;  // guarded

  static constexpr double kServedLogSeconds = 2.0;
  static constexpr std::size_t kServedCacheBytes = 128u << 20;
  struct Served {
    std::shared_ptr<const std::string> bytes;
    std::chrono::steady_clock::time_point fetched;
    bool expires = false;
  };
  Result<std::shared_ptr<const std::string>> FetchServed(ServedResource what, const std::string& id,
                                                         std::size_t index);
  std::mutex served_mu_;
  std::unordered_map<std::string, Served> served_;  // guarded
  std::size_t served_bytes_ = 0;                    // guarded: the sizes in served_
};

}  // namespace zenfs
