// Node keys and their inode numbers: what a node stands for (NodeKind, NodeKey), its
// home inode number (a hash of the key) and the key packed in few bytes for the table of
// inodes the kernel holds (Tree keeps that table and resolves collisions).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace zenfs {

inline constexpr std::uint64_t kRootIno = 1;  // FUSE_ROOT_ID

enum class NodeKind : std::uint8_t {
  kRoot, kRootMeta, kPipeline, kPipelineMeta, kRunsDir, kLatest, kRun, kRunMeta, kStepsDir,
  kStep, kStepMeta, kOutputLink, kLogs, kLogsEntry, kOutputsDir, kOutput, kOutputMeta,
  kArtifactEntry,
  // A run's children/ folder and a link in it (version: the child run's id); its outputs/
  // folder and a link in it (version: the output's name); its own logs (version: the
  // entry's path name) and what is below them.
  kChildrenDir, kChildLink, kRunOutputsDir, kRunOutputLink, kRunLogs, kRunLogsEntry,
  // runs/latest-completed and runs/latest-failed (version: the status).
  kStatusLatest,
  // %by-id/ and a link in it (id: the object's id as stored; version: the name looked up).
  kByIdDir, kByIdLink,
  // runs/<run>/dag.svg and dag.dot (version: "svg" or "dot").
  kRunDag,
  // A step's inputs/ folder; an input that is one artifact version (a link; version: its
  // path name); a chunked input's folder (version: its path name) and a link in it (rel:
  // its place, "0", "1", ...).
  kInputsDir, kInputLink, kInputChunks, kInputChunkLink,
  // An output's %visualizations/ folder (id, version: the output's) and a file in it
  // (rel: its index, "0", "1", ...).
  kVisualizationsDir, kVisualization,
  // %artifacts/, an artifact's folder in it (version: its path name), a version's link to
  // its producing output (id: the version's id) and the folder's `latest` (version: the
  // artifact's path name). A version no step produced is a kOutput with no step id.
  kArtifactsDir, kArtifactDir, kArtifactVersionLink, kArtifactLatest,
};

// What a node stands for, by store ids: stable across remounts, VACUUM and store changes.
struct NodeKey {
  NodeKind kind = NodeKind::kRoot;
  std::string id;       // pipeline, run or step id
  std::string version;  // an output's artifact version id; a log entry's path name ("" for
                        // a step's `logs`); a child run's id; a pipeline output's name
  std::string rel;      // path below an artifact or log folder ("" for the folder itself)
  bool operator==(const NodeKey&) const = default;
};

// A key's home inode number (InodeOf; tests pass one that collides).
using InodeHash = std::function<std::uint64_t(const NodeKey&)>;

// The inode number of a key: a hash of (kind, ids), never 0 or kRootIno except the root.
// A node's home: Tree gives a key whose home another key holds the next free number of
// a fixed probe sequence instead (Tree::Count).
std::uint64_t InodeOf(const NodeKey& key);

// A key in few bytes, for the table of every inode the kernel holds (hundreds of
// thousands after a walk): ids of 32 lowercase hex digits take 16 bytes, anything else
// is kept as it is. UnpackKey(PackKey(k)) == k for every key.
std::string PackKey(const NodeKey& key);
NodeKey UnpackKey(std::string_view packed);

}  // namespace zenfs
