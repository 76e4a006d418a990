// A picture of one run (runs/<run>/dag.svg and dag.dot): its steps and the artifacts
// passed between them, laid out top to bottom by Graphviz's `dot` layout, in process.
//
// Three pure stages, so each is tested alone: DagOf reads a run out of a Snapshot into a
// DagInput (plain values), DagToDot writes that as DOT text (every store string escaped),
// RenderSvg lays the DOT out and renders it as SVG with Graphviz's libraries (cgraph +
// gvc), never by running `dot`. DagCache keeps rendered pictures, capped by bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/status.h"
#include "store/timefmt.h"

namespace zenfs {

class Snapshot;

// The bounds of a picture. dot's layout grows much faster than linearly with the graph:
// 500 steps with 1,000 edges between far apart steps took 24 s at dot's full effort, 1.6-1.9 s
// with the capped effort a large picture gets (README figures). A run past a bound gets a
// picture of its first max_steps steps (execution order) and their first max_edges edges,
// and a note "... and K more steps" / "... and M more artifact edges".
struct DagBounds {
  std::size_t max_steps = 500;
  std::size_t max_edges = 1000;
  // Past this many edges, edge names are external labels (xlabel) and dot's effort is capped.
  std::size_t labelled_edges = 120;
};
inline constexpr std::size_t kDagMaxSteps = DagBounds{}.max_steps;
// Longer names are cut (at a UTF-8 character boundary) and end in "…" in the picture.
inline constexpr std::size_t kDagMaxLabelBytes = 160;

// One run's steps and artifact edges, as plain values.
struct DagInput {
  struct Step {
    std::string id;       // store id
    std::string name;     // the step's name as stored (not the escaped path name)
    std::string status;   // as stored: completed, cached, failed, running, ...
    bool cached = false;  // status "cached" or a copy of another step run
    std::optional<Micros> start, end;
  };
  // An artifact version a step of this run read that no step of this run output (saved
  // or registered by hand, or made by another run): a node of its own.
  struct Source {
    std::string version_id;  // the artifact version's id as the input row names it
    std::string name;        // the name the first consumer read it under
  };
  // An output no step of this run read (a final model, a report): a node of its own.
  struct Sink {
    int step = -1;     // index in steps
    std::string name;  // the output name
  };
  // An artifact passed along: from a step (`from`) or from a source (`source`) to a step.
  struct Edge {
    int from = -1;      // index in steps, or -1
    int source = -1;    // index in sources when from is -1
    int to = -1;        // index in steps
    std::string name;   // the producer's output name ("" for edges from a source)
  };
  std::string run_name;
  std::vector<Step> steps;  // execution order
  std::vector<Source> sources;
  std::vector<Sink> sinks;
  std::vector<Edge> edges;  // by consumer, then in input order; no duplicates
};

// Run `run` (an index in s.rows().runs) as a DagInput. Deterministic: the same snapshot
// gives the same input. Pure; thread-safe (the snapshot is immutable).
DagInput DagOf(const Snapshot& s, int run);

// "1.2 s", "42 s", "3 min 4 s", "2 h 5 min", "3 d 4 h"; "" for a negative duration.
std::string HumanDuration(Micros d);

// DOT text of the picture: steps as boxes coloured by status and labelled "name\n<duration>"
// ("cached", or the status, when there is no duration), edges labelled with the output
// name, within `bounds`. Node ids are s<i> (steps), a<i> (sources), o<i> (sinks) and `more`
// (the bounds' note); no store string is ever an id or in a comment, and in labels each is
// escaped for DOT and for Graphviz's label entities, with invalid UTF-8 and control
// characters replaced. Pure.
std::string DagToDot(const DagInput& dag, const DagBounds& bounds = {});

// Lays `dot` out (dot's layout) and renders it as SVG, in this process. A DOT text that
// does not parse or lay out (or holds a NUL byte) is an InvalidArgument naming Graphviz's
// message; Graphviz whose two plugins cannot be loaded is an IOError. Thread-safe: renders
// are serialized by GraphvizMutex().
Result<std::string> RenderSvg(const std::string& dot);

// Graphviz's libraries keep global state and are not thread-safe: every use of them in
// the process (RenderSvg, and tests that parse DOT with agmemread) holds this mutex.
std::mutex& GraphvizMutex();

// Rendered pictures by run id, each with the version (a caller's string that changes when
// the run's picture would) it was made for; least recently used pictures leave first once
// their bytes pass the cap. One entry per run id: a Put for a new version replaces the old.
// A version that changes exactly when the picture does: a hash of the run's DOT text
// (DagToDot is cheap next to RenderSvg: 0.1 ms against 0.3 s at 500 steps). Thread-safe.
class DagCache {
 public:
  explicit DagCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  DagCache(const DagCache&) = delete;
  DagCache& operator=(const DagCache&) = delete;

  // The picture kept for `run_id` at `version`, or nullptr.
  std::shared_ptr<const std::string> Find(std::string_view run_id, std::string_view version);
  // The version kept for `run_id` ("" if none), without touching its place in the LRU
  // order (a stat is no use of the picture).
  std::string VersionOf(std::string_view run_id) const;
  // Keeps `picture` (not when it alone is larger than the cap).
  void Put(std::string_view run_id, std::string_view version, std::shared_ptr<const std::string> picture);
  std::size_t bytes() const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string run_id;
    std::string version;
    std::shared_ptr<const std::string> picture;
  };
  void EraseLocked(std::list<Entry>::iterator it);

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> by_run_;  // keys view lru_'s run_id
  std::size_t bytes_ = 0;
};

}  // namespace zenfs
