// The zenfs tree (SPEC §2): lookup, getattr, readdir, open, read, readlink over a catalog
// and an artifact source, in plain C++ that knows nothing of FUSE. The kernel adapter
// (fs/fuse_adapter.cc) decodes requests, calls these, and replies.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <sys/types.h>

#include "fs/inodes.h"
#include "fs/invalidations.h"
#include "fs/log.h"
#include "fs/meta.h"
#include "fs/nodes/node.h"
#include "fs/permissions.h"
#include "fs/snapshot.h"
#include "store/artifact_source.h"
#include "store/catalog.h"

namespace zenfs {

// One slot of a directory page: "." and ".." first, then the listing's items. `next` is
// the offset that resumes after this slot.
struct DirSlot {
  const char* name;
  std::uint64_t ino;
  mode_t type;
  std::uint64_t next;
  const Listing::Item* item;  // nullptr for "." and ".."
};

// Hands the slots of `listing` from `offset` (0 = start) to `add` until it returns false
// (the reply buffer is full) or the listing ends. Pure; thread-safe.
void FillDir(const Listing& listing, std::uint64_t dir_ino, std::uint64_t offset,
             const std::function<bool(const DirSlot&)>& add);

// Thread-safe: the FUSE session calls every method from several worker threads. What a
// node of each kind is and does is its handler's (fs/nodes/node.h); the tree keeps what
// is common to them all (the inode table, the caches, the snapshot and its refresh) and
// is their NodeHost.
class Tree : private NodeHost {
 public:
  Tree(Catalog& catalog, ArtifactSource& artifacts, Logger& log, TreeOptions options,
       std::shared_ptr<const Snapshot> initial);
  // Stops the render-ahead thread (a render under way finishes first).
  ~Tree();
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // Each successful Lookup (and each Remember) counts one kernel reference to the inode;
  // Forget drops them (the kernel's lookup-count rule).
  Result<Entry> Lookup(std::uint64_t parent, std::string_view name);
  void Forget(std::uint64_t ino, std::uint64_t nlookup);
  Result<Entry> GetAttr(std::uint64_t ino);
  Result<std::string> ReadLink(std::uint64_t ino);

  Result<std::shared_ptr<const Listing>> OpenDir(std::uint64_t ino);
  // Attributes of a listed child for readdirplus; counts a lookup like Lookup does.
  Result<Entry> Remember(const Listing::Item& item);
  // Whether a child's attributes come from memory alone. meta.json's size needs its
  // document rendered (store queries), so readdirplus leaves it to a lookup: `find` and
  // `ls` without -l then never render one.
  static bool AttrsAreCheap(const Listing::Item& item);

  // On a shared mount (perms.check_callers) refuses with PermissionDenied a caller who may
  // not read the file as it is now: the file actually opened (ArtifactFile::Info) and the
  // folders above it, not the attributes the kernel may have cached for an hour. The
  // default caller is root, who reads everything (tools and tests).
  Result<std::unique_ptr<OpenFile>> Open(std::uint64_t ino, const Caller& caller = Caller{});
  Result<std::size_t> Read(OpenFile& file, std::uint64_t offset, std::size_t size, char* buf);
  // The kernel closed `file` (its last descriptor): a document's page-cache reader ends.
  void Release(const OpenFile& file);
  // Documents whose kernel attributes and pages must go before their page cache can serve
  // again (see "Documents through the page cache" in tree.cc): forgets what the tree
  // knows of them; the caller then invalidates each inode (attributes and pages). For
  // the refresher thread: never from a request (notifying the kernel from a request may
  // deadlock on the page that request reads).
  std::vector<std::uint64_t> TakeStaleDocuments();

  // The current picture of the store. Never does I/O.
  std::shared_ptr<const Snapshot> Current();
  // Asks the store whether it changed (cheaply) and, if so, reads it again and swaps the
  // picture. Returns what the kernel must forget. Call from one thread (the refresher),
  // never from a request: it reads the whole structure of the store. A tree whose picture
  // is partial (a mount starts from RowScope::kPipelines) reads the next scope instead,
  // one per call, so a request that needs only runs waits for runs only; requests that
  // need more than the picture holds read it themselves (SnapshotFor).
  std::vector<Invalidation> Refresh();
  double refresh_seconds() const { return options_.refresh_seconds; }
  bool checks_callers() const { return options_.perms.check_callers; }
  // Counts for tests: how many inodes the kernel holds references to.
  std::size_t NodeCount();

 private:
  struct NodeRec {
    std::string key;  // PackKey
    std::uint64_t nlookup = 0;
  };

  Result<NodeKey> KeyOf(std::uint64_t ino);
  // The picture to answer from: the current one if it holds `need`; else one that does,
  // read now if no one has yet.
  Result<std::shared_ptr<const Snapshot>> SnapshotFor(RowScope need);
  // Reads `scope` of the structure and swaps it in; returns what the kernel must forget.
  // Caller holds reload_mu_.
  Result<std::vector<Invalidation>> ReloadLocked(RowScope scope);
  // The kind's attributes and timeout, with what every kind shares.
  Result<Entry> EntryOf(const Snapshot& s, const NodeKey& key);
  Result<NodeKey> Child(const Snapshot& s, const NodeKey& parent, std::string_view name);
  Result<ArtifactRef> Resolve(const std::string& uri, const ArtifactStoreInfo& store);

  // NodeHost: what the handlers ask of the tree.
  const TreeOptions& options() const override { return options_; }
  Catalog& catalog() override { return catalog_; }
  ArtifactSource& artifacts() override { return artifacts_; }
  Logger& log() override { return log_; }
  DagCache& pictures() override { return pictures_; }
  // Rendered by the kind's Render, one per node and generation.
  Result<std::shared_ptr<const std::string>> MetaText(const Snapshot& s, const NodeKey& key,
                                                     const Loc& loc) override;
  // MetaText's size, remembered per node and generation: a repeated `ls -l` asks for the
  // sizes of thousands of documents it never reads.
  Result<std::uint64_t> MetaSize(const Snapshot& s, const NodeKey& key, const Loc& loc) override;

  // A document's text as far as the kernel can tell versions apart: its size and a
  // 64-bit hash of its bytes.
  struct DocVersion {
    std::uint64_t size = 0;
    std::uint64_t hash = 0;
    bool known = false;
    bool operator==(const DocVersion&) const = default;
  };
  static DocVersion VersionOf(const std::string& text);
  // MetaText's version, remembered per node and generation like MetaSize.
  Result<DocVersion> MetaVersion(const Snapshot& s, const NodeKey& key, const Loc& loc);
  // What the tree knows of one document inode the kernel holds.
  struct DocState {
    DocVersion told;         // the version of the last attributes replied (size)
    bool told_mixed = false;  // replies of two versions since the kernel last forgot them
    DocVersion pages;        // the version the inode's page cache may hold
    int readers = 0;         // open files reading `pages` through the page cache
    bool queued = false;     // in stale_docs_
  };
  // The attributes a document's LOOKUP or GETATTR replies, `now` its current text: the
  // size of the version its page-cache readers read while there are any.
  void DocAttrs(std::uint64_t ino, const DocVersion& now, Attr* a);
  // Decides how `file` (a document's current text) is read: see tree.cc.
  void DocOpen(std::uint64_t ino, OpenFile* file);
  void QueueStaleLocked(std::uint64_t ino, DocState* d);  // caller holds doc_mu_
  // MetaVersion if `key` is a document, else a version not `known`.
  Result<DocVersion> DocumentVersion(const Snapshot& s, const NodeKey& key);
  // Render ahead (see tree.cc): after a lookup of `key`, a run's document, queues the
  // documents of the runs after its run for the render-ahead thread.
  void RenderAhead(const std::shared_ptr<const Snapshot>& s, const NodeKey& key);
  // The render-ahead thread: renders the queued runs' documents into the caches.
  void RenderAheadLoop();
  // Every meta.json of run `run` (its own, its steps' and their outputs'), rendered.
  void RenderRunDocuments(const Snapshot& s, int run);
  Result<ArtifactRef> OutputRef(const Snapshot& s, const Loc& loc) override;
  Result<ArtifactRef> LogRef(const Snapshot& s, int log_row) override;
  Result<std::shared_ptr<const ArtifactDetail>> DetailOf(const Snapshot& s, const Loc& loc) override;
  Result<ArtifactRef> VisualizationRef(const Snapshot& s, const Loc& loc, std::size_t index) override;
  // Counts one kernel reference to `key` and returns its inode number: its home
  // (HomeOf), or, when another key holds the home, the first free number of the fixed
  // sequence home + i * kProbeStep (i = 1, 2, ...), kept while the kernel holds it.
  Result<std::uint64_t> Count(const NodeKey& key);
  // The number Count gave `key` if the kernel holds it, else its home: for answers that
  // count no reference (readdir's d_ino, invalidations).
  std::uint64_t InoOf(const NodeKey& key) override;
  std::uint64_t HomeOf(const NodeKey& key) const;
  // Each invalidation of a home number also for the keys displaced from that home.
  void AddDisplaced(std::vector<Invalidation>* inv);
  // A directory's listing by its key (not its number, which may be another key's home).
  Result<std::shared_ptr<const Listing>> OpenDirOf(const NodeKey& key) override;
  Result<Ownership> BackedOwnershipOf(const ArtifactRef& ref, const std::string& rel,
                                      const FileInfo& info, bool fresh) override;
  // The folders from `/` down to and including `*dir` below the artifact (`dir` null:
  // down to the artifact's parent), outermost first; cached per folder unless `fresh`.
  Result<std::vector<FileInfo>> FoldersThrough(const ArtifactRef& ref, const std::string* dir, bool fresh);
  // The folders from `/` down to and including `prefix` beneath the artifact's root
  // ("": the root itself), outermost first: the root's own ancestors once per root, then
  // one stat beneath the root per folder, each cached and shared by every artifact below
  // it (artifacts of one store share all but their last folders).
  Result<std::vector<FileInfo>> RootChain(const ArtifactRef& ref, const std::string& prefix, bool fresh);
  // A chain from chain_cache_ under `ck` (unless `fresh`), else `compute`d and kept.
  Result<std::vector<FileInfo>> CachedChain(const std::string& ck, bool fresh,
                                            const std::function<Result<std::vector<FileInfo>>()>& compute);

  Catalog& catalog_;
  ArtifactSource& artifacts_;
  Logger& log_;
  const TreeOptions options_;

  std::mutex snap_mu_;  // guards snapshot_
  std::shared_ptr<const Snapshot> snapshot_;
  std::mutex reload_mu_;  // one reload at a time; guards the four below
  std::int64_t counter_ = 0;
  // Invalidations of a reload that a request started; the next Refresh returns them.
  std::vector<Invalidation> pending_;
  // A failed load of more than a partial picture holds: requests that need more get it
  // until `retry_at` instead of each reading the store again.
  Status load_error_;
  std::chrono::steady_clock::time_point retry_at_;

  std::mutex nodes_mu_;  // guards nodes_ and displaced_
  std::unordered_map<std::uint64_t, NodeRec> nodes_;
  // Keys the kernel holds under a number other than their home (a hash collision), by
  // PackKey: each also in nodes_, removed with it.
  struct Displaced {
    std::uint64_t ino = 0;
    std::uint64_t home = 0;
  };
  std::unordered_map<std::string, Displaced> displaced_;
  std::atomic<bool> any_displaced_{false};  // !displaced_.empty(), read without the lock
  // Drops `packed`'s displacement when the kernel forgot it. Caller holds nodes_mu_.
  void ForgetDisplaced(const std::string& packed);

  // Bounded caches, keyed by (generation, key); cleared wholesale when full.
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> meta_cache_;
  std::size_t meta_cache_bytes_ = 0;  // the documents' sizes in meta_cache_
  // dag.svg pictures: 0.3 s to lay out a 500-step run, so kept while their DOT is the same.
  DagCache pictures_{32u << 20};
  std::unordered_map<std::string, std::shared_ptr<const Listing>> listing_cache_;
  std::unordered_map<std::string, Result<ArtifactRef>> ref_cache_;
  // DetailOf's answers, by generation and artifact version id.
  std::unordered_map<std::string, std::shared_ptr<const ArtifactDetail>> detail_cache_;
  // FoldersThrough's answers: the folders above each artifact and each folder in it.
  std::unordered_map<std::string, Result<std::vector<FileInfo>>> chain_cache_;
  struct SizeAt {
    std::uint64_t generation = 0;
    DocVersion version;
  };
  std::unordered_map<std::string, SizeAt> meta_sizes_;  // by PackKey

  // Render ahead: runs queued (with the picture they are rendered from), the runs queued
  // since the picture of `ahead_generation_`, and the thread (started at the first run
  // queued).
  struct AheadJob {
    std::shared_ptr<const Snapshot> snapshot;
    int run = -1;
  };
  std::mutex ahead_mu_;  // guards the five below
  std::condition_variable ahead_cv_;
  std::deque<AheadJob> ahead_jobs_;
  std::unordered_set<int> ahead_queued_;
  std::uint64_t ahead_generation_ = 0;
  bool ahead_stop_ = false;
  std::thread ahead_thread_;

  std::mutex doc_mu_;  // guards docs_ and stale_docs_; may be taken under nodes_mu_, never before it
  std::unordered_map<std::uint64_t, DocState> docs_;  // by inode; dropped when forgotten
  std::vector<std::uint64_t> stale_docs_;
};

}  // namespace zenfs
