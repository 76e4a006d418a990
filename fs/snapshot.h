// An immutable, indexed picture of a store's structure: which pipelines, runs, steps and
// outputs exist, their order, their path names, and how they link. Built once per store
// change from the catalog's rows, so every directory listing and lookup is a memory
// access instead of a table scan (ZenML's schema has no index for "runs of pipeline X" or
// "steps of run Y"). Immutable after Build; safe to share between threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/artifact_source.h"
#include "store/rows.h"

namespace zenfs {

// Places 0..n-1 sorted by a key each has where it is kept (a row's id, a child's name),
// searched by halves: 4 bytes an entry and one allocation in all (a hash map took 56 bytes
// and an allocation an entry, (key, place) pairs 24 bytes; a million-run store holds several
// million entries). `key(place)` gives a place's key as a std::string_view. Of equal keys,
// the first place wins.
class PlaceIndex {
 public:
  template <typename KeyOf>
  void Build(std::size_t n, KeyOf key) {
    places_.resize(n);
    for (std::size_t i = 0; i < n; ++i) places_[i] = static_cast<int>(i);
    std::sort(places_.begin(), places_.end(), [&](int a, int b) {
      const int c = std::string_view(key(a)).compare(std::string_view(key(b)));
      return c != 0 ? c < 0 : a < b;
    });
    places_.erase(std::unique(places_.begin(), places_.end(),
                              [&](int a, int b) { return std::string_view(key(a)) == std::string_view(key(b)); }),
                  places_.end());
    places_.shrink_to_fit();
  }
  template <typename KeyOf>
  int Find(std::string_view k, KeyOf key) const {
    auto it = std::lower_bound(places_.begin(), places_.end(), k,
                               [&](int p, std::string_view x) { return std::string_view(key(p)) < x; });
    return it != places_.end() && std::string_view(key(*it)) == k ? *it : -1;
  }

 private:
  std::vector<int> places_;
};

// A run of elements in one of a snapshot's flat arrays: what a run or a step holds a few
// of (its steps, names, outputs, logs). One flat array per kind for the whole picture, where
// a std::vector each took 24 bytes and a heap block of its own (a million-run store holds
// several million of them). Read like a const std::vector, and converts to one where a
// copy is wanted. Valid as long as the snapshot that made it.
template <typename T>
class Slice {
 public:
  constexpr Slice() = default;
  Slice(const std::vector<T>& v) : data_(v.data()), size_(static_cast<std::uint32_t>(v.size())) {}  // NOLINT: implicit
  Slice(const T* data, std::size_t size) : data_(data), size_(static_cast<std::uint32_t>(size)) {}
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  const T& front() const { return data_[0]; }
  const T& back() const { return data_[size_ - 1]; }
  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }  // NOLINT: implicit
  friend bool operator==(Slice a, Slice b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

 private:
  const T* data_ = nullptr;
  std::uint32_t size_ = 0;
};

// Names of one directory's children, searched by halves in large directories.
class NameIndex {
 public:
  void Build(Slice<std::string> names);
  void Build(const std::vector<std::string>* names) { Build(Slice<std::string>(*names)); }
  int Find(std::string_view name) const;  // index or -1

 private:
  Slice<std::string> names_;
  std::unique_ptr<PlaceIndex> index_;  // only for large directories
};

class Snapshot {
 public:
  static constexpr const char* kUnlistedId = "%unlisted";

  struct Pipeline {
    int row = -1;            // index in rows().pipelines; -1 for %unlisted
    std::string id;          // store id, or kUnlistedId
    std::string name;        // raw name ("%unlisted" for the orphan runs' folder)
    std::string path_name;   // name in the mount
    OrderKey first;          // the first run's key: the pipeline's place and mtime
    std::vector<int> runs;   // indexes in rows().runs, oldest first
    std::vector<std::string> run_names;  // path names, parallel to runs
    NameIndex run_index;
    // Places in `runs` of the newest run whose status is exactly `completed` / `failed`
    // (runs/latest-completed, runs/latest-failed), -1 when there is none.
    int latest_completed = -1, latest_failed = -1;
  };
  // The names a runs/ folder keeps for itself: a run named so gets the collision suffix.
  static const std::vector<std::string>& RunsDirReserved();
  // The place in p.runs that runs/latest-<status> names ("completed" or "failed"), or -1.
  static int LatestWithStatus(const Pipeline& p, std::string_view status);
  struct Output {
    int link = -1;           // index in rows().outputs
    int version = -1;        // index in rows().artifact_versions, -1 if missing
    std::string path_name;
  };
  // A logs row shown in a step's or a run's folder: `logs` for the step's own (source
  // `step`, or none before ZenML 0.92), `logs.<source>` for the others. The newest row of
  // each name; rows whose uri is NULL (a log store) have no file, only meta.json facts.
  struct Log {
    int row = -1;           // index in rows().logs
    std::string path_name;  // "logs" or "logs.<escaped source>"
  };
  // A named pipeline output (pipeline_run_output): a link to the step output providing it.
  struct RunOutput {
    int row = -1;           // index in rows().pipeline_outputs
    int step = -1, output = -1;  // the providing step and its output, -1 if none
    std::string path_name;
  };
  struct Step {
    int run = -1;
    int pos = -1;                      // place in the run's steps
    Slice<Output> outputs;             // by output name
    Slice<std::string> output_names;   // path names, parallel to outputs
    NameIndex output_index;
    Slice<int> inputs;                 // indexes in rows().inputs, in input order
    Slice<Log> logs;                   // by path name, `logs` first
    int original = -1;                 // the step a cached step copied, -1 if none
  };
  struct Run {
    int pipeline = -1;                 // index in pipelines()
    int pos = -1;                      // place in the pipeline's runs
    Slice<int> steps;                  // indexes in rows().steps, execution order
    Slice<std::string> step_names;
    NameIndex step_index;
    // Nested runs (ZenML 0.95 and later): the parent, and the children by child key.
    int parent = -1;
    Slice<int> children;               // run indexes, oldest first
    Slice<std::string> child_names;    // path names (escaped keys), parallel
    Slice<RunOutput> outputs;          // by output_index
    Slice<Log> logs;                   // run-level logs, by path name
  };

  // %artifacts/<name>/: the versions of one artifact of the project shown, by name.
  struct Artifact {
    std::string path_name;
    // Indexes in rows().artifact_versions, oldest first, as ZenML orders them (`created`;
    // ties by id, so the order never depends on the database's): the last is `latest`.
    std::vector<int> versions;
    std::vector<std::string> version_names;  // path names, parallel to versions
    NameIndex version_index;
  };
  // The names an artifact's folder keeps for itself: a version named so gets the suffix.
  static const std::vector<std::string>& ArtifactDirReserved();

  // `generation` identifies this picture (it goes into cache keys).
  static std::shared_ptr<const Snapshot> Build(StoreRows rows, std::uint64_t generation);

  std::uint64_t generation() const { return generation_; }
  const StoreRows& rows() const { return rows_; }
  // What the rows it was built from hold: below kAll, runs show no steps yet; at
  // kPipelines no pipeline has runs yet (only its first run's key).
  RowScope scope() const { return rows_.scope; }

  const std::vector<Pipeline>& pipelines() const { return pipelines_; }
  const std::vector<std::string>& pipeline_names() const { return pipeline_names_; }
  const Run& run(int i) const { return runs_[static_cast<std::size_t>(i)]; }
  const Step& step(int i) const { return steps_[static_cast<std::size_t>(i)]; }
  const RunRow& run_row(int i) const { return rows_.runs[static_cast<std::size_t>(i)]; }
  const StepRow& step_row(int i) const { return rows_.steps[static_cast<std::size_t>(i)]; }

  int FindPipeline(std::string_view id) const;  // -1 if absent
  int FindRun(std::string_view id) const;
  int FindStep(std::string_view id) const;
  int FindVersion(std::string_view id) const;
  int FindPipelineByName(std::string_view path_name) const { return pipeline_index_.Find(path_name); }
  // The output of a step that holds artifact version `id`, or -1.
  int FindOutput(int step, std::string_view version_id) const;

  // The step whose output first produced an artifact version (not a cached copy), -1 if
  // no step in the store did.
  int ProducerOf(int version) const;
  // Steps of `run` that output artifact version `version`.
  std::vector<int> StepsWithOutput(int run, int version) const;
  // Every step shown that outputs artifact version `version` (the producer, cached copies).
  std::vector<int> StepsWithOutput(int version) const;

  // %artifacts (built from kAll rows; empty below): by path name.
  const std::vector<Artifact>& artifacts() const { return artifacts_; }
  const std::vector<std::string>& artifact_names() const { return artifact_names_; }
  int FindArtifactByName(std::string_view path_name) const { return artifact_index_.Find(path_name); }
  // The artifact a version is listed under and its place there ({-1, -1} if none).
  std::pair<int, int> ArtifactOf(int version) const;
  // The output folder that produced a version (ProducerOf, shown in the tree): the step,
  // its output in *output; -1 when there is none.
  int ProducingOutput(int version, int* output) const;
  // Where a version is in the tree, relative to the root: its producing output, else its
  // %artifacts/<name>/<version> folder; "" when neither (not a version of the project).
  std::string VersionHome(int version) const;
  // %artifacts/<name>/<version> ("" when the version is listed under no artifact).
  std::string VersionPath(int version) const;
  // The rows of rows().inputs that read a version, in row order; only steps shown.
  std::vector<int> ConsumersOf(int version) const;

  // Mount paths relative to the root, as meta.json shows them.
  std::string RunPath(int run) const;
  std::string StepPath(int step) const;
  std::string OutputPath(int step, int output) const;
  // The run's order key (start or created time) and a step's.
  OrderKey RunKey(int run) const;
  OrderKey StepKey(int step) const;
  // The entry of `logs` named `path_name`, or nullptr.
  static const Log* FindLog(Slice<Log> logs, std::string_view path_name);
  // A log row's source as meta.json names it ("step" for the step's own).
  std::string LogSource(int row) const;
  // What the store says of the artifact store component a version's or log's store id
  // names (all empty if unknown).
  ArtifactStoreInfo StoreOf(std::string_view artifact_store_id) const;

 private:
  Snapshot() = default;

  std::uint64_t generation_ = 0;
  StoreRows rows_;
  std::vector<Pipeline> pipelines_;  // first-run order
  std::vector<std::string> pipeline_names_;
  NameIndex pipeline_index_;
  std::vector<Run> runs_;    // parallel to rows_.runs
  std::vector<Step> steps_;  // parallel to rows_.steps
  // The flat arrays the runs' and steps' slices view (filled once, never moved after).
  std::vector<int> flat_ints_;
  std::vector<std::string> flat_names_;
  std::vector<Output> flat_outputs_;
  std::vector<Log> flat_logs_;
  std::vector<RunOutput> flat_run_outputs_;
  int PipelineRowOf(std::string_view id) const;  // index in rows().pipelines, or -1
  PlaceIndex pipeline_by_id_, run_by_id_, step_by_id_, version_by_id_;  // by the rows' ids
  // (artifact version, step outputting it), sorted.
  std::vector<std::pair<int, int>> steps_by_version_;
  std::vector<int> producer_;                           // per artifact version
  std::vector<Artifact> artifacts_;                     // by path name
  std::vector<std::string> artifact_names_;             // parallel to artifacts_
  NameIndex artifact_index_;
  std::vector<std::pair<int, int>> artifact_of_;        // per artifact version: ArtifactOf
  std::vector<std::pair<int, int>> consumers_;          // (artifact version, input row), sorted
  std::unordered_map<std::string_view, ArtifactStoreInfo> stores_;
};

}  // namespace zenfs
