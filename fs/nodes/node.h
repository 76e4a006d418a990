// A node kind is one place. Every kind of node in the tree (NodeKind, fs/inodes.h) has a
// handler, a NodeOps, that holds all of its behaviour: where its key points in a snapshot,
// its attributes and how long the kernel may cache them, its listing, how a child's name
// resolves, how it opens, its link target, its meta.json document. The handlers live a
// file per level of the tree (fs/nodes/root.cc, pipeline.cc, run.cc, step.cc, output.cc;
// backed.cc for the files that come from the artifact store: artifacts and logs), and
// OpsOf (fs/nodes/node.cc) finds a kind's handler in the table each level fills.
//
// Tree (fs/tree.h) keeps what is common to every kind: the inode table, the caches, the
// snapshot and its refresh. It is the handlers' NodeHost: what they may ask of it.
//
// Adding a kind: its value in NodeKind (at the end: inode numbers hash the value), a
// NodeOps subclass in its level's file, registered in that file's Add...Kinds (Register).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>

#include "fs/dag.h"
#include "fs/inodes.h"
#include "fs/log.h"
#include "fs/meta.h"
#include "fs/permissions.h"
#include "fs/snapshot.h"
#include "store/artifact_source.h"
#include "store/catalog.h"

namespace zenfs {

struct TreeOptions {
  PermissionOptions perms;  // owners and modes of the nodes (fs/permissions.h)
  double refresh_seconds = 2.0;  // how often to ask the store whether it changed
  // How long the kernel may cache what cannot change any more: finished runs' folders and
  // files, and artifact files. Deletions are still invalidated explicitly.
  double finished_timeout = 3600.0;
  std::string store_path;        // shown in the root's meta.json
  InodeHash inode_hash;          // empty: InodeOf
  // Render the documents of the runs after a looked-up run's in the background (fs/tree.cc
  // "render ahead"). Only for a store whose details are read from a local file (SQLite):
  // against a ZenML server or a database server, reads nobody asked for would load a
  // machine the team shares, and a document rendered ahead hides the server's state
  // (a failing server still "serves" it).
  bool render_ahead = false;
};

struct Attr {
  std::uint64_t ino = 0;
  mode_t mode = 0;  // type and permission bits
  std::uint64_t size = 0;
  std::uint64_t blocks = 0;  // 512-byte units
  // st_blksize, the read size tools pick their buffers by: kArtifactIo for artifact files
  // and folders, kDirectIo for what is served with direct I/O (meta.json, logs).
  std::uint32_t io_size = 0;
  std::uint32_t nlink = 1;
  Micros mtime = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Artifact bytes go through the kernel's page cache in 1 MiB requests (SPEC §4: `cp`,
// `rsync` and `du` behave). A direct-I/O read instead pins the reader's whole buffer for
// every read(), however short the file: with 1 MiB, `cat meta.json` spent more time
// faulting in and unmapping its fresh 1 MiB buffer than zenfs spent answering (`cat`'s
// buffer is max(st_blksize, 128 KiB)). So files served with direct I/O say 128 KiB.
inline constexpr std::uint32_t kArtifactIo = 1u << 20;
inline constexpr std::uint32_t kDirectIo = 128u << 10;

// A lookup's answer: the attributes and how long the kernel may cache the name (`timeout`)
// and the attributes (`attr_timeout`).
struct Entry {
  Attr attr;
  double timeout = 0;
  double attr_timeout = 0;
};

// One directory's children in one snapshot: every page of a READDIR pass within a
// generation comes from the same listing, so offsets stay consistent. Immutable; shared
// between threads.
struct Listing {
  struct Item {
    std::string name;
    NodeKey key;
    std::uint64_t ino = 0;
    mode_t type = 0;  // S_IFDIR, S_IFREG or S_IFLNK
  };
  std::vector<Item> items;
};

// An open file: meta.json's bytes fixed at open, or an artifact/log file.
struct OpenFile {
  // meta.json's document: one copy per node and generation, shared by every open of it
  // and the tree's cache (20 opens of a large document hold it once).
  std::shared_ptr<const std::string> content;
  std::unique_ptr<ArtifactFile> file;  // for artifact and log files
  bool cacheable = false;              // read through the kernel's page cache (not direct I/O)
  bool keep_pages = false;             // the kernel keeps the inode's cached pages at this open
  // A document read through the page cache: its inode, counted as one of the document's
  // page-cache readers until Tree::Release (0: not counted).
  std::uint64_t doc_ino = 0;
};

// Whether a run status is final: completed, failed, cached, stopped (ZenML never changes
// a run after that, so the kernel may cache it long).
bool IsFinishedStatus(std::string_view status);

// Where a key points in a snapshot (indexes, -1 where not applicable). For a run's
// outputs/ link, `output` is its place in the run's outputs.
struct Loc {
  int pipeline = -1, run = -1, step = -1, output = -1;
  int log = -1;    // a logs entry's row in rows().logs
  int child = -1;  // a children/ link's child run
  // An inputs/ entry: its place among the step's inputs shown, and a chunk's place in it.
  int input = -1, chunk = -1;
  // An output's artifact version (index in rows().artifact_versions; -1 when the store
  // lacks it); for a version no step produced, shown under %artifacts, `step` is -1.
  // `artifact`: a %artifacts/<name> folder's place in Snapshot::artifacts().
  int version = -1, artifact = -1;
};

// What a handler may ask of the tree: the store, and what the tree caches or numbers.
class NodeHost {
 public:
  virtual const TreeOptions& options() const = 0;
  virtual Catalog& catalog() = 0;
  virtual ArtifactSource& artifacts() = 0;
  virtual Logger& log() = 0;
  // Rendered run pictures (dag.svg), kept across generations while their DOT is the same.
  virtual DagCache& pictures() = 0;
  // The number a child is listed under (no kernel reference counted).
  virtual std::uint64_t InoOf(const NodeKey& key) = 0;
  // Where an output's artifact and a step's logs are (cached per generation).
  virtual Result<ArtifactRef> OutputRef(const Snapshot& s, const Loc& loc) = 0;
  virtual Result<ArtifactRef> LogRef(const Snapshot& s, int log_row) = 0;
  // An output's artifact version's details, read once per generation (its meta.json and
  // its %visualizations share them); NotFound when the output has no version row.
  virtual Result<std::shared_ptr<const ArtifactDetail>> DetailOf(const Snapshot& s, const Loc& loc) = 0;
  // Where the file of visualization `index` of an output's artifact version is: its URI
  // resolved and confined like the artifact's own (the same artifact store).
  virtual Result<ArtifactRef> VisualizationRef(const Snapshot& s, const Loc& loc, std::size_t index) = 0;
  // A meta.json's document and its size (rendered by the kind's Render, cached).
  virtual Result<std::shared_ptr<const std::string>> MetaText(const Snapshot& s, const NodeKey& key,
                                                             const Loc& loc) = 0;
  virtual Result<std::uint64_t> MetaSize(const Snapshot& s, const NodeKey& key, const Loc& loc) = 0;
  // The owner and mode of an artifact or logs node whose backing file is `info`: its own
  // bits masked by the folders above it (fs/permissions.h). `fresh` stats every folder
  // now (Open); otherwise they come from a cache cleared at each reload.
  virtual Result<Ownership> BackedOwnershipOf(const ArtifactRef& ref, const std::string& rel,
                                              const FileInfo& info, bool fresh) = 0;
  // A directory's listing by its key, cached per generation.
  virtual Result<std::shared_ptr<const Listing>> OpenDirOf(const NodeKey& key) = 0;

 protected:
  ~NodeHost() = default;
};

// One kind's behaviour. The defaults are those of a node with no children that cannot be
// opened; each kind overrides what it does.
class NodeOps {
 public:
  // `dir`: a folder of the tree. `attr_scope`: how much of the store (RowScope) its
  // attributes need; `content_scope`: how much its contents need (a listing and the names
  // in it, a document, a link target). The mount starts from pipelines only.
  constexpr NodeOps(bool dir, RowScope attr_scope, RowScope content_scope)
      : dir_(dir), attr_scope_(attr_scope), content_scope_(content_scope) {}
  virtual ~NodeOps() = default;

  bool IsDir() const { return dir_; }
  RowScope AttrScope() const { return attr_scope_; }
  RowScope ContentScope() const { return content_scope_; }
  // How much of the store a lookup of a name below it needs: its content's, unless a
  // kind lists less than it can look up (%by-id lists nothing, finds every step).
  virtual RowScope LookupScope() const { return content_scope_; }
  // Whether a name can be looked up below it (folders; artifact and log entries, which
  // are folders or files as the disk says).
  virtual bool MayHaveChildren() const { return dir_; }
  // Whether its attributes come from memory alone (Tree::AttrsAreCheap).
  virtual bool AttrsAreCheap() const { return true; }
  // meta.json: a rendered document whose text can change while the kernel holds it.
  virtual bool IsDocument() const { return false; }

  virtual Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const = 0;
  // How long the kernel may cache its attributes and entry. Default: the root, pipelines
  // and their run lists change whenever a run starts; a run's own folder can change only
  // until it finishes.
  virtual double Timeout(const TreeOptions& options, const Snapshot& s, const Loc& loc) const;
  // How long the kernel may cache its attributes alone. Default: Timeout.
  virtual double AttrTimeout(const TreeOptions& options, const Snapshot& s, const Loc& loc) const {
    return Timeout(options, s, loc);
  }
  // Fills the kind's attributes. `a` arrives with the tree's owner (`own`), kArtifactIo,
  // and for folders S_IFDIR | own.mode and two links.
  virtual Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                       const Ownership& own, Attr* a) const = 0;
  virtual Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key,
                               const Loc& loc) const;
  // The key of child `name`. Default: searched in the listing (OpenDirOf).
  virtual Result<NodeKey> Child(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                                std::string_view name) const;
  virtual Result<std::unique_ptr<OpenFile>> Open(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                                 const Loc& loc, const Caller& caller) const;
  virtual Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const;
  // A meta.json's document (NodeHost::MetaText caches it).
  virtual Result<std::string> Render(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                     const Loc& loc) const;

 private:
  bool dir_;
  RowScope attr_scope_;
  RowScope content_scope_;
};

// The handler of `kind`.
const NodeOps& OpsOf(NodeKind kind);

// ---- for the handlers ----

// The table OpsOf reads, filled by each level's Add...Kinds (one per file).
inline constexpr std::size_t kNodeKindCount = static_cast<std::size_t>(NodeKind::kArtifactLatest) + 1;
using KindTable = std::array<const NodeOps*, kNodeKindCount>;
// Makes the one handler of class Ops the handler of `kind`.
template <typename Ops>
void Register(KindTable* table, NodeKind kind) {
  static const Ops ops;
  (*table)[static_cast<std::size_t>(kind)] = &ops;
}
void AddRootKinds(KindTable* table);
void AddPipelineKinds(KindTable* table);
void AddRunKinds(KindTable* table);
void AddStepKinds(KindTable* table);
void AddOutputKinds(KindTable* table);
void AddBackedKinds(KindTable* table);
void AddViewKinds(KindTable* table);

// Where the object a key names is: Locate for keys by pipeline, run, step, or output
// (step id and artifact version id; a version no step produced has no step id: its
// %artifacts folder is an output folder of no step, Loc.step -1).
Result<Loc> LocatePipeline(const Snapshot& s, const NodeKey& key);
Result<Loc> LocateRun(const Snapshot& s, const NodeKey& key);
Result<Loc> LocateStep(const Snapshot& s, const NodeKey& key);
Result<Loc> LocateOutput(const Snapshot& s, const NodeKey& key);
// A logs entry: of a step (kLogs, kLogsEntry) or of a run (kRunLogs, kRunLogsEntry), by
// its path name in key.version ("" for a step's `logs`).
Result<Loc> LocateLog(const Snapshot& s, const NodeKey& key);
// The root's time (its first pipeline's first run's), also that of the %-named views in it.
Micros RootTime(const Snapshot& s);
// The mount path of what a Loc points at (its step, else its run), for messages.
std::string PathOf(const Snapshot& s, const Loc& loc);

inline constexpr mode_t kLinkMode = S_IFLNK | 0777;

// Appends a child to a listing, numbered by the host.
void AddItem(NodeHost& host, Listing* l, std::string name, NodeKey key, mode_t type);
std::string JoinRel(const std::string& dir, const std::string& name);

// A symbolic link of the tree: its size is its target's length (ReadLink), its time
// LinkTime's.
class LinkOps : public NodeOps {
 public:
  constexpr LinkOps(RowScope attr_scope, RowScope content_scope) : NodeOps(false, attr_scope, content_scope) {}
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc, const Ownership& own,
               Attr* a) const override;

 protected:
  virtual Micros LinkTime(const Snapshot& s, const Loc& loc) const = 0;
};

// A folder of the tree found by its pipeline, run or step (Locate), whose time is that
// object's (a pipeline's: its first run's).
class FolderOps : public NodeOps {
 public:
  enum class By { kPipeline, kRun, kStep };
  constexpr FolderOps(By by, RowScope attr_scope, RowScope content_scope)
      : NodeOps(true, attr_scope, content_scope), by_(by) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override;
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
               const Ownership& own, Attr* a) const override;

 private:
  By by_;
};

// A folder at the root level (the root, its %-named views): found in every snapshot, its
// attributes from the pipelines alone, its time the root's.
class RootLevelOps : public NodeOps {
 public:
  constexpr explicit RootLevelOps(RowScope content_scope) : NodeOps(true, RowScope::kPipelines, content_scope) {}
  Result<Loc> Locate(const Snapshot&, const NodeKey&) const override { return Loc{}; }
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc, const Ownership& own,
               Attr* a) const override;
};

// A meta.json: its document rendered by Render, its time the object's last update.
class MetaFileOps : public NodeOps {
 public:
  using NodeOps::NodeOps;
  bool AttrsAreCheap() const override { return false; }
  bool IsDocument() const override { return true; }
  // A meta.json also names other runs (a cached step's original, an output's producer,
  // inputs), which can be deleted while this run stays as it is: its size is never
  // cached for longer than one refresh.
  double Timeout(const TreeOptions& options, const Snapshot& s, const Loc& loc) const override;
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
               const Ownership& own, Attr* a) const override;
  Result<std::unique_ptr<OpenFile>> Open(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                         const Loc& loc, const Caller& caller) const override;

 protected:
  // The document's mtime, if the object has one.
  virtual std::optional<Micros> Updated(const Snapshot& s, const Loc& loc) const = 0;
};

// A resource the store's server reads for zenfs (Catalog::ServedBytes).
struct ServedRef {
  ServedResource what;
  std::string id;
  std::size_t index = 0;
};

// Files and folders from the artifact store: an output's artifact (`logs` false) or a
// step's logs, the folder or file itself (key.rel "") and what is below it.
class BackedOps : public NodeOps {
 public:
  constexpr BackedOps(bool logs, RowScope attr_scope, RowScope content_scope)
      : NodeOps(false, attr_scope, content_scope), logs_(logs) {}
  bool MayHaveChildren() const override { return true; }
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key,
                       const Loc& loc) const override;
  Result<std::unique_ptr<OpenFile>> Open(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                         const Loc& loc, const Caller& caller) const override;

 protected:
  // What the store's server serves in place of the node's bytes when the artifact source
  // cannot reach them (Catalog::ServedBytes); default none.
  virtual std::optional<ServedRef> ServedAs(const Snapshot& s, const NodeKey& key, const Loc& loc) const;
  // Where the node's bytes are (default: its output's artifact or its logs row), and its
  // path below that ("" for the file or folder itself; default: key.rel).
  virtual Result<ArtifactRef> RefOf(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const;
  virtual std::string RelOf(const NodeKey& key) const { return key.rel; }
  // The attributes of the file or folder on disk; `listed_anyway`: when it cannot be
  // had, still a file (logs are listed so users see there are logs; reading says why
  // they cannot be had).
  Status DiskAttrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                   bool listed_anyway, Attr* a) const;
  bool logs_;
};

// The bytes the server serves for `ref`, when the catalog offers them.
Result<std::shared_ptr<const std::string>> ServedBytesOf(NodeHost& host, const ServedRef& ref);

// What the server serves for a logs row: a step's own logs (GET /steps/{id}/logs gives
// those only), else nothing.
std::optional<ServedRef> ServedLog(const Snapshot& s, int log_row);

// meta.json's word for where bytes read through the server come from.
inline constexpr std::string_view kReadFromServer = "server";
inline constexpr std::string_view kReadFromArtifactStore = "artifact store";

// Whether a logs entry has a file to show (not a log store's row).
inline bool HasFile(const Snapshot& s, const Snapshot::Log& log) {
  return s.rows().logs[static_cast<std::size_t>(log.row)].has_uri;
}
// Appends the logs entries that have a file to a step's or run's listing: a file or a
// folder, as the disk says. `key`: the entries' kind and id (kLogs or kRunLogs).
void AddLogItems(NodeHost& host, const Snapshot& s, Slice<Snapshot::Log> logs,
                 const NodeKey& key, Listing* l);

// What meta.json says of each logs row of a step or run: whether it can be read, and why not.
std::vector<meta::LogFacts> LogFactsOf(NodeHost& host, const Snapshot& s, Slice<Snapshot::Log> logs);

// The listing of an artifact or logs folder below `key` (an output folder, `top`, also
// shows its meta.json, and an artifact that is a single file as that file).
Result<Listing> ListBacked(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                           bool logs, bool top);

}  // namespace zenfs
