// Plain rows read from a ZenML store: what the catalog hands to the tree. Values only.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/timefmt.h"

namespace zenfs {

// The text of a structure row: a view of bytes kept by the StoreRows it belongs to
// (StoreRows::text), so a large store's million ids and names cost their bytes, not a
// std::string and a heap block each. Made from TextArena::Keep or a string literal (rows
// written by hand); never from a std::string, whose bytes it would outlive.
class Text {
 public:
  constexpr Text() = default;
  constexpr Text(const char* literal) : v_(literal) {}  // NOLINT: implicit, for literals
  Text(const std::string&) = delete;
  Text(std::string&&) = delete;
  constexpr operator std::string_view() const { return v_; }  // NOLINT: implicit by design
  constexpr bool empty() const { return v_.empty(); }
  constexpr std::size_t size() const { return v_.size(); }
  friend constexpr bool operator==(Text a, Text b) { return a.v_ == b.v_; }
  friend constexpr bool operator==(Text a, std::string_view b) { return a.v_ == b; }
  friend constexpr bool operator==(Text a, const char* b) { return a.v_ == b; }
  friend constexpr auto operator<=>(Text a, Text b) { return a.v_ <=> b.v_; }

 private:
  friend class TextArena;
  constexpr explicit Text(std::string_view kept) : v_(kept) {}
  std::string_view v_;
};

// Ids are as stored (32 lowercase hex digits in genuine stores, but never trusted).
struct PipelineRow {
  Text id;
  Text name;
  std::optional<Micros> created, updated;
  friend bool operator==(const PipelineRow&, const PipelineRow&) = default;
};

struct RunRow {
  Text id;
  Text name;
  Text pipeline_id;  // "" when NULL
  Text status;
  std::optional<Micros> start_time, end_time, created, updated;
  Text parent_run_id = "";  // nested runs (ZenML 0.95 and later): "" when NULL
  Text child_key = "";      // the child's key under its parent ("" when NULL)
  friend bool operator==(const RunRow&, const RunRow&) = default;
};

struct StepRow {
  Text id;
  Text run_id;
  Text name;
  Text status;
  Text original_step_run_id;  // "" when NULL
  std::optional<Micros> start_time, end_time, created, updated;
  friend bool operator==(const StepRow&, const StepRow&) = default;
};

// One row of step_run_output_artifact or step_run_input_artifact.
struct ArtifactLinkRow {
  Text step_id;
  Text name;
  Text artifact_version_id;
  // An input's place among the step's inputs (input_index; several rows of one name are
  // a chunked input, in this order). 0 for outputs and for stores without the column.
  std::int64_t index = 0;
  friend bool operator==(const ArtifactLinkRow&, const ArtifactLinkRow&) = default;
};

// A named output of a pipeline run (pipeline_run_output, ZenML 0.95 and later): the
// artifact version that one of the run's steps output.
struct PipelineOutputRow {
  Text run_id;
  Text name;
  Text artifact_version_id;
  std::int64_t index = 0;  // output_index: the order of the run's outputs
  friend bool operator==(const PipelineOutputRow&, const PipelineOutputRow&) = default;
};

// Only what paths and file access need; the descriptive columns are ArtifactDetail's,
// read when an output's meta.json is rendered (they were 40% of a large store's memory).
struct ArtifactVersionRow {
  Text id;
  Text uri;
  Text artifact_store_id;
  std::optional<Micros> created, updated;
  // availability (2026 stores): "" (no column, or NULL) and "available" mean the bytes
  // are there; anything else (pending, upload_failed, deleted, ...) that they are not.
  Text availability = "";
  // The artifact's name (artifact.name through artifact_id; "" when unknown) and this
  // version's (artifact_version.version): %artifacts/<name>/<version>. A name's bytes are
  // kept once for all its versions (the catalogs intern them).
  Text artifact_name = "";
  Text version = "";
  // Whether the version has visualizations (artifact_visualization rows): 1 or 0, or -1
  // when the catalog does not say in the structure (the REST catalog: its details do).
  // Lets a listing show %visualizations without reading every output's details.
  std::int8_t visualizations = -1;
  friend bool operator==(const ArtifactVersionRow&, const ArtifactVersionRow&) = default;
};

// A logs row: a step's (step_run_id) or a whole run's (pipeline_run_id only).
struct LogRow {
  Text id;
  Text uri;
  Text step_run_id;        // "" for run-level logs
  Text artifact_store_id;
  std::optional<Micros> created, updated;
  Text source = "";           // ZenML 0.92 and later: "step", "orchestrator", ...; "" before
  Text pipeline_run_id = "";  // "" when NULL
  bool has_uri = true;        // false: kept in a log store (uri NULL), no file to read
  friend bool operator==(const LogRow&, const LogRow&) = default;
};

// Keeps the bytes the rows' Text fields view: appended into large blocks that never move.
class TextArena {
 public:
  // A copy of `s` that lives as long as the arena.
  Text Keep(std::string_view s);

 private:
  static constexpr std::size_t kBlock = 256 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;  // the last one is being filled
  std::vector<std::unique_ptr<char[]>> large_;   // one text each
  std::size_t used_ = 0, capacity_ = 0;
};

// Keeps each distinct text once in an arena: for values many rows repeat (an artifact's
// name on each of its versions, versions "1", "2", ...). Lives only while rows are read.
class TextInterner {
 public:
  explicit TextInterner(TextArena& arena) : arena_(arena) {}
  Text Keep(std::string_view s);

 private:
  TextArena& arena_;
  std::unordered_map<std::string_view, Text> kept_;  // keys view the arena's bytes
};

// The earliest run of each pipeline_id value (RowScope::kPipelines): what lists and orders
// the pipelines without holding every run.
struct FirstRunRow {
  std::string pipeline_id;  // as stored ("" when NULL), perhaps naming no pipeline
  std::string run_id;
  std::optional<Micros> start_time, created;
};

// A project (ZenML 0.80 and later): names are unique within one.
struct ProjectRow {
  std::string id;
  std::string name;
};

// An artifact store component (stack_component of type artifact_store): its id and what
// its configuration says ("" when not set). Store text, trusted only as SPEC §1 says.
struct ArtifactStoreRow {
  std::string id;
  std::string configured_root;  // configuration "path": a folder, or s3://bucket/prefix
  std::string flavor;           // the component's flavor: "local", "s3", ...
  std::string endpoint_url;     // configuration "client_kwargs"."endpoint_url"
  std::string region_name;      // configuration "client_kwargs"."region_name"
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

// What a catalog that reads only the changes (Catalog::LoadChanges) keeps of the read that
// gave some rows; opaque to everyone else. Immutable once made.
struct ChangeMarks {
  virtual ~ChangeMarks() = default;
};

// Everything the tree's structure needs, read in one read transaction.
struct StoreRows {
  // Owns the bytes the rows below view; shared by copies, so a copy's rows stay valid.
  std::shared_ptr<TextArena> text = std::make_shared<TextArena>();
  RowScope scope = RowScope::kAll;  // what was read: lower scopes leave later vectors empty
  std::string schema_version;       // alembic version, "" if unknown
  std::vector<ProjectRow> projects;  // every project of the store (none before 0.80)
  std::string project_id;            // the project shown, "" when the store has none
  std::vector<PipelineRow> pipelines;
  std::vector<FirstRunRow> first_runs;  // kPipelines only
  std::vector<RunRow> runs;
  std::vector<StepRow> steps;
  std::vector<ArtifactLinkRow> outputs;
  std::vector<ArtifactLinkRow> inputs;
  std::vector<ArtifactVersionRow> artifact_versions;
  std::vector<LogRow> logs;
  std::vector<PipelineOutputRow> pipeline_outputs;
  std::vector<ArtifactStoreRow> artifact_stores;
  // Set by a catalog that can read the next picture's changes from these rows (kAll only).
  std::shared_ptr<const ChangeMarks> marks;
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
  std::optional<std::int64_t> index;  // pipeline_run.index: its place among its pipeline's runs
  std::optional<bool> in_progress;    // pipeline_run.in_progress
  std::vector<MetadataRow> metadata;
};

// The descriptive columns of an artifact version, for its output's meta.json.
// A visualization ZenML saved with an artifact version (table artifact_visualization):
// its type as stored ("html", "image", "markdown", "csv", "json"; other text is kept) and
// its file's URI (store text, resolved like the artifact's own).
struct VisualizationRow {
  std::string type;
  std::string uri;
  friend bool operator==(const VisualizationRow&, const VisualizationRow&) = default;
};

struct ArtifactDetail {
  std::string artifact_name;
  std::string version;
  std::string type;
  std::string materializer;  // as stored: JSON {"module","attribute",...} or a path
  std::string data_type;
  std::vector<MetadataRow> metadata;
  // In ZenML's order, the one its server's /visualize?index=N counts: the relationship
  // loads them unordered, which is SQLite's rowid order and MySQL's order of the foreign
  // key's index (artifact_version_id, id); the SQL catalog orders by the row key to match.
  std::vector<VisualizationRow> visualizations;
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
