// The catalog: what a store holds about pipelines, runs, steps and outputs. zenfs's only
// view of the metadata store; a second backend (a ZenML server) implements it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/rows.h"
#include "store/status.h"

namespace zenfs {

// What a store's server can read from the artifact store itself (Catalog::ServedBytes).
enum class ServedResource {
  kStepLogs,       // a step's logs, by step id
  kVisualization,  // an artifact version's visualization, by version id and index
};

// The most ServedBytes gives of one resource: it is held in memory whole.
inline constexpr std::size_t kMaxServedBytes = 64u << 20;

// Implementations are safe to call from many threads at once.
class Catalog {
 public:
  virtual ~Catalog() = default;

  // The structure of the store (names, ids, times, links), read consistently: all of it,
  // or (a lower RowScope) only what lists pipelines, or pipelines and runs.
  virtual Result<StoreRows> LoadRows(RowScope scope) = 0;

  // The whole structure as LoadRows(RowScope::kAll) would read it now, made from `prev` (an
  // earlier kAll read of this catalog) and only what changed since. Unsupported when this
  // catalog or `prev` cannot tell (then LoadRows reads it all); any error means the same.
  virtual Result<StoreRows> LoadChanges(const StoreRows& prev) {
    (void)prev;
    return Status::Unsupported("this catalog reads the whole structure");
  }

  // A number that changes whenever the store may have changed since the last call that
  // returned it; cheap (no table scan).
  virtual Result<std::int64_t> ChangeCounter() = 0;

  virtual Status GetRunDetail(const std::string& run_id, RunDetail* out) = 0;
  virtual Status GetStepDetail(const std::string& step_id, const std::string& step_name,
                               StepDetail* out) = 0;
  // NotFound if the version is gone.
  virtual Status GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) = 0;
  virtual Status GetMetadata(std::string_view resource_type, const std::string& resource_id,
                             std::vector<MetadataRow>* out) = 0;

  // Every project of the store, by name (none before ZenML 0.80).
  virtual Result<std::vector<ProjectRow>> ListProjects() = 0;
  // From now on, LoadRows shows only project `id`'s pipelines, runs and steps ("": all).
  // Called once, before the first LoadRows, and never again.
  virtual void ShowProject(const std::string& id) = 0;

  // Where the store is, for meta.json and log lines.
  virtual std::string Describe() const = 0;

  // For a node that cannot reach the artifact store (the URI is under no trusted root, or
  // missing): the whole resource as the store's server reads it, at most kMaxServedBytes
  // (beyond: IOError), cached by the catalog. Optional: a store without a server (the SQL
  // catalogs) says Unsupported, and the node keeps its own reason.
  virtual Result<std::shared_ptr<const std::string>> ServedBytes(ServedResource what, const std::string& id,
                                                                 std::size_t index) {
    (void)what, (void)id, (void)index;
    return Status::Unsupported("the store has no server to read it through");
  }
};

}  // namespace zenfs
