// Plain rows read from a ZenML store: what the catalog hands to the tree. Values only.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/timefmt.h"

namespace zenfs {

// Ids are as stored (32 lowercase hex digits in genuine stores, but never trusted).
struct PipelineRow {
  std::string id;
  std::string name;
  std::optional<Micros> created, updated;
};

struct RunRow {
  std::string id;
  std::string name;
  std::string pipeline_id;  // "" when NULL
  std::string status;
  std::optional<Micros> start_time, end_time, created, updated;
};

struct StepRow {
  std::string id;
  std::string run_id;
  std::string name;
  std::string status;
  std::string original_step_run_id;  // "" when NULL
  std::optional<Micros> start_time, end_time, created, updated;
};

// One row of step_run_output_artifact or step_run_input_artifact.
struct ArtifactLinkRow {
  std::string step_id;
  std::string name;
  std::string artifact_version_id;
};

// Only what paths and file access need; the descriptive columns are ArtifactDetail's,
// read when an output's meta.json is rendered (they were 40% of a large store's memory).
struct ArtifactVersionRow {
  std::string id;
  std::string uri;
  std::string artifact_store_id;
  std::optional<Micros> created, updated;
};

struct LogRow {
  std::string id;
  std::string uri;
  std::string step_run_id;
  std::string artifact_store_id;
  std::optional<Micros> created, updated;
};

// The earliest run of each pipeline_id value (RowScope::kPipelines): what lists and orders
// the pipelines without holding every run.
struct FirstRunRow {
  std::string pipeline_id;  // as stored ("" when NULL), perhaps naming no pipeline
  std::string run_id;
  std::optional<Micros> start_time, created;
};

// A local artifact store component: its id and configured root ("" when not set).
struct ArtifactStoreRow {
  std::string id;
  std::string configured_root;
};

// How much of the structure LoadRows reads, least first. A mount starts from kPipelines and
// reads the rest in the background (Tree).
enum class RowScope {
  kPipelines,  // pipelines, each one's first run (first_runs) and artifact stores: what
               // the root and the pipeline folders show
  kRuns,       // and every run: what runs/ folders and run folders show
  kAll,        // and everything below the runs
};

// The one ordering of SPEC §2: COALESCE(start_time, created), then created, then id.
struct OrderKey {
  Micros when = 0;
  Micros created = 0;
  std::string_view id;
  friend bool operator<(const OrderKey& a, const OrderKey& b) {
    if (a.when != b.when) return a.when < b.when;
    if (a.created != b.created) return a.created < b.created;
    return a.id < b.id;
  }
};

// A run's or a step's place in that ordering; unknown times sort first.
inline OrderKey OrderKeyOf(const std::optional<Micros>& start, const std::optional<Micros>& created,
                           std::string_view id) {
  const Micros c = created.value_or(std::numeric_limits<Micros>::min());
  return OrderKey{start.value_or(c), c, id};
}

// Everything the tree's structure needs, read in one read transaction.
struct StoreRows {
  RowScope scope = RowScope::kAll;  // what was read: lower scopes leave later vectors empty
  std::string schema_version;       // alembic version, "" if unknown
  std::vector<PipelineRow> pipelines;
  std::vector<FirstRunRow> first_runs;  // kPipelines only
  std::vector<RunRow> runs;
  std::vector<StepRow> steps;
  std::vector<ArtifactLinkRow> outputs;
  std::vector<ArtifactLinkRow> inputs;
  std::vector<ArtifactVersionRow> artifact_versions;
  std::vector<LogRow> logs;
  std::vector<ArtifactStoreRow> artifact_stores;
};

// One run_metadata row attached to a resource.
struct MetadataRow {
  std::string key;
  std::string value;  // JSON text
  std::string type;
  std::optional<Micros> created;
};

// The heavy, rarely needed columns of a run, for its meta.json.
struct RunDetail {
  std::optional<std::string> pipeline_configuration;  // JSON text
  std::optional<std::string> run_name_template;
  std::optional<std::string> schedule_id;
  std::optional<std::string> code_path;
  std::optional<std::string> pipeline_source;  // pipeline_spec's "source", JSON text
  std::optional<std::string> git_sha;
  std::optional<std::string> orchestrator_run_id;
  std::vector<MetadataRow> metadata;
};

// The descriptive columns of an artifact version, for its output's meta.json.
struct ArtifactDetail {
  std::string artifact_name;
  std::string version;
  std::string type;
  std::string materializer;  // as stored: JSON {"module","attribute",...} or a path
  std::string data_type;
  std::vector<MetadataRow> metadata;
};

// The heavy columns of a step, for its meta.json.
struct StepDetail {
  std::optional<std::string> docstring;
  std::optional<std::string> source_code;
  std::optional<std::string> cache_key;
  std::optional<std::string> step_config;  // JSON text of this step's configuration
  std::vector<MetadataRow> metadata;
};

}  // namespace zenfs
