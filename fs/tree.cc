#include "fs/tree.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace zenfs {

namespace {

// Caches hold at most this many entries, then start over: memory stays bounded whatever
// the store's size or the number of lookups.
constexpr std::size_t kCacheCap = 4096;
// The bytes of meta.json documents the cache keeps for later opens.
constexpr std::size_t kMetaCacheBytes = 64u << 20;
// Resolved artifact and log locations: one per output a walk touches, ~500 bytes each
// (URI, base and root). A walk uses them run by run, so a few thousand are plenty.
constexpr std::size_t kRefCacheCap = 8192;
// meta.json sizes are small entries: enough for every document of a 100,000-run pipeline.
constexpr std::size_t kSizeCacheCap = 1 << 20;
// Render ahead: how many runs after a looked-up run's document get theirs rendered; the
// runs waiting at most (a reader faster than the renderer drops the oldest); the runs
// remembered as queued per picture.
constexpr int kRenderAheadRuns = 8;
constexpr std::size_t kMaxAheadJobs = 64;
constexpr std::size_t kMaxAheadQueued = 1 << 16;

std::string CacheKey(std::uint64_t generation, const NodeKey& k) {
  std::string s = std::to_string(generation);
  s += '\x01';
  s += static_cast<char>(k.kind);
  s += k.id;
  s += '\x01';
  s += k.version;
  s += '\x01';
  s += k.rel;
  return s;
}

template <typename V>
void PutCapped(std::unordered_map<std::string, V>* map, std::string key, V value,
               std::size_t cap = kCacheCap) {
  if (map->size() >= cap) map->clear();
  map->insert_or_assign(std::move(key), std::move(value));
}

}  // namespace

Tree::Tree(Catalog& catalog, ArtifactSource& artifacts, Logger& log, TreeOptions options,
           std::shared_ptr<const Snapshot> initial)
    : catalog_(catalog),
      artifacts_(artifacts),
      log_(log),
      options_(std::move(options)),
      snapshot_(std::move(initial)) {
  auto c = catalog_.ChangeCounter();
  if (c.ok()) counter_ = *c;
  nodes_[kRootIno] = NodeRec{PackKey(NodeKey{}), 1};
}

Tree::~Tree() {
  {
    std::lock_guard<std::mutex> lock(ahead_mu_);
    ahead_stop_ = true;
    ahead_jobs_.clear();
  }
  ahead_cv_.notify_all();
  if (ahead_thread_.joinable()) ahead_thread_.join();
}

std::shared_ptr<const Snapshot> Tree::Current() {
  std::lock_guard<std::mutex> lock(snap_mu_);
  return snapshot_;
}

std::vector<Invalidation> Tree::Refresh() {
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::vector<Invalidation> out = std::move(pending_);
  pending_.clear();
  const RowScope have = Current()->scope();
  if (have == RowScope::kAll) {
    auto counter = catalog_.ChangeCounter();
    if (!counter.ok()) {
      log_.LogOnce(Logger::Level::kWarning, "change-counter", counter.status().ToString());
      return out;
    }
    if (*counter == counter_) return out;
  }
  auto changes = ReloadLocked(have == RowScope::kPipelines ? RowScope::kRuns : RowScope::kAll);
  if (!changes.ok() && have == RowScope::kRuns) {
    // The steps could not be read (a slow server, a timeout): the runs still follow the
    // store, so a run written or deleted meanwhile shows while the steps keep retrying.
    auto counter = catalog_.ChangeCounter();
    if (counter.ok() && *counter != counter_) changes = ReloadLocked(RowScope::kRuns);
  }
  if (!changes.ok()) {
    // Keep serving the last good picture; the next interval tries again.
    log_.Warning("could not read the store again: " + changes.status().ToString());
    return out;
  }
  out.insert(out.end(), changes->begin(), changes->end());
  return out;
}

Result<std::vector<Invalidation>> Tree::ReloadLocked(RowScope scope) {
  // The counter first: a change committed during the read shows at the next check.
  auto counter = catalog_.ChangeCounter();
  if (!counter.ok()) return counter.status();
  // Read first, swap after: readers keep the old picture until the new one is whole. Only the
  // changes when the catalog can (Catalog::LoadChanges); a full read when that fails.
  std::shared_ptr<const Snapshot> before = Current();
  // This thread's CPU time in ms: what each step of a reload costs, for the debug log line.
  const auto cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  const double t0 = cpu_ms();
  Result<StoreRows> rows = Status::Unsupported("");
  if (scope == RowScope::kAll && before->scope() == RowScope::kAll) rows = catalog_.LoadChanges(before->rows());
  const bool changes_only = rows.ok();
  if (!rows.ok()) rows = catalog_.LoadRows(scope);
  const double t1 = cpu_ms();
  if (!rows.ok()) {
    if (before->scope() < scope) {
      load_error_ = Status::IOError(std::string("cannot read the store's ") +
                                    (scope == RowScope::kRuns ? "runs: " : "steps: ") +
                                    rows.status().message());
      retry_at_ = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(options_.refresh_seconds));
      log_.LogOnce(Logger::Level::kError, "load-" + std::to_string(static_cast<int>(scope)),
                   load_error_.ToString());
    }
    return rows.status();
  }
  load_error_ = Status::Ok();
  auto after = Snapshot::Build(std::move(*rows), before->generation() + 1);
  const double t2 = cpu_ms();
  counter_ = *counter;
  {
    std::lock_guard<std::mutex> lock(snap_mu_);
    snapshot_ = after;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    meta_cache_.clear();
    meta_cache_bytes_ = 0;
    meta_sizes_.clear();
    listing_cache_.clear();
    ref_cache_.clear();
    chain_cache_.clear();
  }
  std::vector<Invalidation> inv =
      DiffSnapshots(*before, *after, [this](const NodeKey& k) { return HomeOf(k); });
  AddDisplaced(&inv);
  char line[160];
  std::snprintf(line, sizeof line, "reload (%s): read %.1f ms, build %.1f ms, diff %.1f ms of CPU",
                changes_only ? "changes" : "whole", t1 - t0, t2 - t1, cpu_ms() - t2);
  log_.Log(Logger::Level::kDebug, line);
  return inv;
}

Result<std::shared_ptr<const Snapshot>> Tree::SnapshotFor(RowScope need) {
  std::shared_ptr<const Snapshot> snap = Current();
  if (snap->scope() >= need) return snap;
  // One reader loads; requests arriving meanwhile wait here and then find it done.
  std::lock_guard<std::mutex> reload(reload_mu_);
  snap = Current();
  if (snap->scope() >= need) return snap;
  if (!load_error_.ok() && std::chrono::steady_clock::now() < retry_at_) return load_error_;
  auto changes = ReloadLocked(need);
  // load_error_ is unset when the read failed before it began (the change counter).
  if (!changes.ok()) return load_error_.ok() ? changes.status() : load_error_;
  pending_.insert(pending_.end(), changes->begin(), changes->end());
  return Current();
}

std::size_t Tree::NodeCount() {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  return nodes_.size();
}

Result<NodeKey> Tree::KeyOf(std::uint64_t ino) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return Status::Stale("inode " + std::to_string(ino) + " is not known");
  return UnpackKey(it->second.key);
}

std::uint64_t Tree::HomeOf(const NodeKey& key) const {
  if (key.kind == NodeKind::kRoot || !options_.inode_hash) return InodeOf(key);
  const std::uint64_t h = options_.inode_hash(key);
  return h <= kRootIno ? h + 2 : h;
}

// Collisions are resolved by order of first reference: of two keys with one home, the
// one the kernel looked up first keeps it. The same store gives the same numbers after a
// remount whenever no two keys collide (every key at its home); with a collision, the
// numbers of the colliding keys depend on which was looked up first, and a displaced key
// forgotten and looked up again takes the first free number of its sequence then.
Result<std::uint64_t> Tree::Count(const NodeKey& key) {
  // An odd step visits every number before it repeats; far from home, so keys whose homes
  // are neighbours do not probe into each other's sequences.
  constexpr std::uint64_t kProbeStep = 0x9e3779b97f4a7c15ull;
  constexpr int kMaxProbes = 64;
  std::string packed = PackKey(key);
  const std::uint64_t home = HomeOf(key);
  std::lock_guard<std::mutex> lock(nodes_mu_);
  auto d = displaced_.find(packed);
  std::uint64_t ino = d != displaced_.end() ? d->second.ino : home;
  for (int i = 1; d == displaced_.end(); ++i) {
    auto it = nodes_.find(ino);
    if (it == nodes_.end() || it->second.key == packed) break;
    if (i > kMaxProbes) {
      log_.Error("no free inode number for " + key.id + "/" + key.rel);
      return Status::IOError("inode numbers exhausted");
    }
    ino = home + static_cast<std::uint64_t>(i) * kProbeStep;
    if (ino <= kRootIno) ino += 2;
  }
  if (ino != home && d == displaced_.end()) {
    log_.Warning("inode collision: " + key.id + "/" + key.rel + " takes " + std::to_string(ino) +
                 " instead of " + std::to_string(home));
    displaced_.emplace(packed, Displaced{ino, home});
    any_displaced_.store(true, std::memory_order_release);
  }
  auto [it, inserted] = nodes_.try_emplace(ino, NodeRec{std::move(packed), 0});
  ++it->second.nlookup;
  return ino;
}

std::uint64_t Tree::InoOf(const NodeKey& key) {
  const std::uint64_t home = HomeOf(key);
  // Listings ask for every child: no lock while nothing is displaced (the common case).
  if (!any_displaced_.load(std::memory_order_acquire)) return home;
  std::lock_guard<std::mutex> lock(nodes_mu_);
  auto d = displaced_.find(PackKey(key));
  return d != displaced_.end() ? d->second.ino : home;
}

void Tree::ForgetDisplaced(const std::string& packed) {
  if (displaced_.empty() || displaced_.erase(packed) == 0) return;
  any_displaced_.store(!displaced_.empty(), std::memory_order_release);
}

void Tree::AddDisplaced(std::vector<Invalidation>* inv) {
  std::unordered_multimap<std::uint64_t, std::uint64_t> by_home;
  {
    std::lock_guard<std::mutex> lock(nodes_mu_);
    for (const auto& [key, d] : displaced_) by_home.emplace(d.home, d.ino);
  }
  if (by_home.empty()) return;
  const std::size_t n = inv->size();
  for (std::size_t i = 0; i < n; ++i) {
    auto [first, last] = by_home.equal_range((*inv)[i].ino);
    for (auto it = first; it != last; ++it) {
      Invalidation copy = (*inv)[i];
      copy.ino = it->second;
      inv->push_back(std::move(copy));
    }
  }
}

void Tree::Forget(std::uint64_t ino, std::uint64_t nlookup) {
  if (ino == kRootIno) return;
  std::lock_guard<std::mutex> lock(nodes_mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) {
    log_.Error("forget of unknown inode " + std::to_string(ino));
    return;
  }
  if (it->second.nlookup < nlookup) {
    // The kernel never forgets more than it was told; if it seems to, the count is wrong.
    log_.Error("lookup count underflow on inode " + std::to_string(ino));
    ForgetDisplaced(it->second.key);
    nodes_.erase(it);
    return;
  }
  it->second.nlookup -= nlookup;
  if (it->second.nlookup == 0) {
    ForgetDisplaced(it->second.key);
    nodes_.erase(it);
    // The kernel dropped the inode, its attributes and pages with it (open files hold a
    // reference, so no reader is alive). A later LOOKUP starts it afresh.
    std::lock_guard<std::mutex> docs(doc_mu_);
    docs_.erase(ino);
  }
}

// ---- artifacts ----

Result<ArtifactRef> Tree::Resolve(const std::string& uri, const ArtifactStoreInfo& store) {
  // Each field with its length first: store text cannot forge another field's boundary.
  std::string ck;
  for (const std::string* f : {&uri, &store.path, &store.flavor, &store.endpoint_url, &store.region_name}) {
    ck += std::to_string(f->size()) + ':' + *f;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = ref_cache_.find(ck);
    if (it != ref_cache_.end()) return it->second;
  }
  Result<ArtifactRef> r = artifacts_.Locate(uri, store);
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&ref_cache_, ck, r, kRefCacheCap);
  return r;
}

Result<std::vector<FileInfo>> Tree::CachedChain(
    const std::string& ck, bool fresh, const std::function<Result<std::vector<FileInfo>>()>& compute) {
  if (!fresh) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = chain_cache_.find(ck);
    if (it != chain_cache_.end()) return it->second;
  }
  Result<std::vector<FileInfo>> chain = compute();
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&chain_cache_, ck, chain, kRefCacheCap);
  return chain;
}

namespace {

// `chain` with one more folder, stat'ed only when the chain above it is good.
Result<std::vector<FileInfo>> Extend(Result<std::vector<FileInfo>> chain,
                                     const std::function<Result<FileInfo>()>& stat_folder) {
  if (!chain.ok()) return chain;
  auto info = stat_folder();
  if (!info.ok()) return info.status();
  chain->push_back(*info);
  return chain;
}

// "a/b/c" -> "a/b"; "a" -> "".
std::string ParentOf(const std::string& rel) {
  const std::size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

Result<std::vector<FileInfo>> Tree::FoldersThrough(const ArtifactRef& ref, const std::string* dir,
                                                   bool fresh) {
  // Keys: the base for the folders above it, base NUL dir NUL for the others (paths hold
  // no NUL).
  const std::string ck = dir == nullptr ? ref.base : ref.base + '\0' + *dir + '\0';
  return CachedChain(ck, fresh, [&]() -> Result<std::vector<FileInfo>> {
    if (dir == nullptr) {
      // Below the root nothing is a link (the source follows none), so the folders above
      // the artifact are the root's chain and the folders of its path beneath the root.
      return ref.rel.empty() ? StatAncestors(ref.root) : RootChain(ref, ParentOf(ref.rel), fresh);
    }
    const std::string parent = ParentOf(*dir);
    return Extend(FoldersThrough(ref, dir->empty() ? nullptr : &parent, fresh),
                  [&] { return artifacts_.Stat(ref, *dir); });
  });
}

Result<std::vector<FileInfo>> Tree::RootChain(const ArtifactRef& ref, const std::string& prefix, bool fresh) {
  // Keys start with NUL, unlike FoldersThrough's (absolute paths).
  const std::string ck = std::string(1, '\0') + ref.root + '\0' + prefix;
  return CachedChain(ck, fresh, [&]() -> Result<std::vector<FileInfo>> {
    if (prefix.empty()) return StatFolderChain(ref.root);
    return Extend(RootChain(ref, ParentOf(prefix), fresh), [&] {
      return artifacts_.Stat(ArtifactRef{ref.root + "/" + prefix, ref.root, prefix, ref.handle}, "");
    });
  });
}

Result<Ownership> Tree::BackedOwnershipOf(const ArtifactRef& ref, const std::string& rel,
                                          const FileInfo& info, bool fresh) {
  if (!info.has_owner) return BackedOwnership(options_.perms, info, {});
  // Only a local path has folders above it (an owner on disk with a base that is not an
  // absolute path would be a source's bug: refuse the node).
  if (ref.base.empty() || ref.base[0] != '/') return Status::IOError(ref.base + ": no local path to check");
  const std::string parent = ParentOf(rel);
  auto chain = FoldersThrough(ref, rel.empty() ? nullptr : &parent, fresh);
  if (!chain.ok()) return chain.status();
  return BackedOwnership(options_.perms, info, *chain);
}

namespace {

// The artifact version row of an output whose files may be read: NotFound with the
// reason otherwise.
Result<const ArtifactVersionRow*> ReadableVersion(const Snapshot& s, const Loc& loc) {
  if (loc.version < 0) {
    const Snapshot::Output& o = s.step(loc.step).outputs[static_cast<std::size_t>(loc.output)];
    return Status::NotFound("artifact version " +
                            std::string(s.rows().outputs[static_cast<std::size_t>(o.link)].artifact_version_id) +
                            " is missing from the store");
  }
  const ArtifactVersionRow& v = s.rows().artifact_versions[static_cast<std::size_t>(loc.version)];
  if (!v.availability.empty() && v.availability != "available") {
    return Status::NotFound("the artifact version's availability is \"" + std::string(v.availability) +
                            "\", not \"available\": nothing is read");
  }
  return &v;
}

}  // namespace

Result<ArtifactRef> Tree::OutputRef(const Snapshot& s, const Loc& loc) {
  auto v = ReadableVersion(s, loc);
  if (!v.ok()) return v.status();
  return Resolve(std::string((*v)->uri), s.StoreOf((*v)->artifact_store_id));
}

Result<std::shared_ptr<const ArtifactDetail>> Tree::DetailOf(const Snapshot& s, const Loc& loc) {
  if (loc.version < 0) return Status::NotFound("no artifact version row");
  const std::string vid(s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].id);
  const std::string ck = std::to_string(s.generation()) + '\x01' + vid;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = detail_cache_.find(ck);
    if (it != detail_cache_.end()) return it->second;
  }
  auto detail = std::make_shared<ArtifactDetail>();
  Status st = catalog_.GetArtifactDetail(vid, detail.get());
  if (!st.ok()) return st;  // not kept: the next request asks again
  std::shared_ptr<const ArtifactDetail> shared = std::move(detail);
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&detail_cache_, ck, shared);
  return shared;
}

Result<ArtifactRef> Tree::VisualizationRef(const Snapshot& s, const Loc& loc, std::size_t index) {
  auto v = ReadableVersion(s, loc);
  if (!v.ok()) return v.status();
  auto detail = DetailOf(s, loc);
  if (!detail.ok()) return detail.status();
  if (index >= (*detail)->visualizations.size()) return Status::NotFound("no visualization " + std::to_string(index));
  return Resolve((*detail)->visualizations[index].uri, s.StoreOf((*v)->artifact_store_id));
}

Result<ArtifactRef> Tree::LogRef(const Snapshot& s, int log_row) {
  if (log_row < 0) return Status::NotFound("no logs");
  const LogRow& row = s.rows().logs[static_cast<std::size_t>(log_row)];
  if (!row.has_uri) {
    return Status::NotFound("kept in a log store (the logs row has no uri): zenfs reads log files only");
  }
  return Resolve(std::string(row.uri), s.StoreOf(row.artifact_store_id));
}

// ---- meta.json ----

Result<std::shared_ptr<const std::string>> Tree::MetaText(const Snapshot& s, const NodeKey& key,
                                                          const Loc& loc) {
  const std::string ck = CacheKey(s.generation(), key);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = meta_cache_.find(ck);
    if (it != meta_cache_.end()) return it->second;
  }
  auto text = OpsOf(key.kind).Render(*this, s, key, loc);
  if (!text.ok()) return text.status();
  auto shared = std::make_shared<const std::string>(std::move(*text));
  std::lock_guard<std::mutex> lock(cache_mu_);
  // A document rendered twice at once (two first opens) is kept once: the first wins.
  auto [it, fresh] = meta_cache_.emplace(ck, shared);
  if (!fresh) return it->second;
  meta_cache_bytes_ += shared->size();
  // Bounded in count and bytes (documents are up to kMaxMetaDocumentBytes each); open
  // files keep their own reference, so clearing never frees a document in use.
  if (meta_cache_.size() > kCacheCap || meta_cache_bytes_ > kMetaCacheBytes) {
    meta_cache_.clear();
    meta_cache_.emplace(ck, shared);
    meta_cache_bytes_ = shared->size();
  }
  return shared;
}

Result<std::uint64_t> Tree::MetaSize(const Snapshot& s, const NodeKey& key, const Loc& loc) {
  auto v = MetaVersion(s, key, loc);
  if (!v.ok()) return v.status();
  return v->size;
}

Tree::DocVersion Tree::VersionOf(const std::string& text) {
  return DocVersion{text.size(), std::hash<std::string_view>{}(text), true};
}

Result<Tree::DocVersion> Tree::MetaVersion(const Snapshot& s, const NodeKey& key, const Loc& loc) {
  std::string packed = PackKey(key);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = meta_sizes_.find(packed);
    if (it != meta_sizes_.end() && it->second.generation == s.generation()) return it->second.version;
  }
  auto text = MetaText(s, key, loc);
  if (!text.ok()) return text.status();
  const DocVersion v = VersionOf(**text);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (meta_sizes_.size() >= kSizeCacheCap) meta_sizes_.clear();
  meta_sizes_[std::move(packed)] = {s.generation(), v};
  return v;
}

// ---- render ahead ----
//
// A meta.json's LOOKUP waits for its document to be rendered (its exact size is the
// attribute): detail rows read by primary key, the artifact's files listed, the JSON
// built, about 0.2 ms. A reader that goes through many runs' documents one by one (`cat`
// of every meta.json, `ls -lR`, `grep -r`) waits for each in turn, and measured, that was
// most of what it waited for beyond bindfs. So a lookup of a run's document (the run's,
// a step's, an output's) also queues the next kRenderAheadRuns runs of its pipeline
// (oldest first: the order of their dated names, the order `ls` walks them) for one
// background thread, which renders their documents into the caches while the reader's
// other requests go on; its lookups then find them rendered.
// Only the caches are filled, by generation like every render: what the kernel is told
// (DocAttrs) and how a document opens (DocOpen) are decided as before, from the text
// current in the reader's own picture, and a changed store gives a new generation whose
// documents are rendered anew. The work is bounded: a few runs per lookup, each run
// queued once per picture, at most kMaxAheadJobs waiting.

void Tree::RenderAhead(const std::shared_ptr<const Snapshot>& s, const NodeKey& key) {
  if (!options_.render_ahead) return;
  if (key.kind != NodeKind::kRunMeta && key.kind != NodeKind::kStepMeta && key.kind != NodeKind::kOutputMeta) return;
  auto loc = OpsOf(key.kind).Locate(*s, key);
  if (!loc.ok()) return;
  const int run = loc->run >= 0 ? loc->run : (loc->step >= 0 ? s->step(loc->step).run : -1);
  if (run < 0) return;
  const Snapshot::Run& r = s->run(run);
  if (r.pipeline < 0 || r.pos < 0) return;
  const std::vector<int>& runs = s->pipelines()[static_cast<std::size_t>(r.pipeline)].runs;
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(ahead_mu_);
    if (ahead_stop_) return;
    if (ahead_generation_ != s->generation() || ahead_queued_.size() >= kMaxAheadQueued) {
      ahead_generation_ = s->generation();
      ahead_queued_.clear();
    }
    ahead_queued_.insert(run);  // the reader renders its own run
    const std::size_t end = std::min(runs.size(), static_cast<std::size_t>(r.pos) + 1 + kRenderAheadRuns);
    for (std::size_t p = static_cast<std::size_t>(r.pos) + 1; p < end; ++p) {
      if (!ahead_queued_.insert(runs[p]).second) continue;
      if (ahead_jobs_.size() >= kMaxAheadJobs) ahead_jobs_.pop_front();
      ahead_jobs_.push_back(AheadJob{s, runs[p]});
      queued = true;
    }
    if (queued && !ahead_thread_.joinable()) ahead_thread_ = std::thread([this] { RenderAheadLoop(); });
  }
  if (queued) ahead_cv_.notify_one();
}

void Tree::RenderAheadLoop() {
  std::unique_lock<std::mutex> lock(ahead_mu_);
  while (true) {
    ahead_cv_.wait(lock, [this] { return ahead_stop_ || !ahead_jobs_.empty(); });
    if (ahead_stop_) return;
    AheadJob job = std::move(ahead_jobs_.front());
    ahead_jobs_.pop_front();
    lock.unlock();
    // A job of a picture a refresh replaced is dropped: its documents will not be asked
    // for, and the old picture is not kept alive by a queue.
    if (job.snapshot->generation() == Current()->generation()) RenderRunDocuments(*job.snapshot, job.run);
    job.snapshot.reset();  // not kept while waiting: a refresh may free the picture
    lock.lock();
  }
}

void Tree::RenderRunDocuments(const Snapshot& s, int run) {
  std::vector<NodeKey> keys;
  keys.push_back({NodeKind::kRunMeta, std::string(s.run_row(run).id), "", ""});
  for (int step : s.run(run).steps) {
    const std::string step_id(s.step_row(step).id);
    keys.push_back({NodeKind::kStepMeta, step_id, "", ""});
    for (const Snapshot::Output& o : s.step(step).outputs) {
      keys.push_back({NodeKind::kOutputMeta, step_id,
                      std::string(s.rows().outputs[static_cast<std::size_t>(o.link)].artifact_version_id), ""});
    }
  }
  for (const NodeKey& key : keys) {
    {
      std::lock_guard<std::mutex> lock(ahead_mu_);
      if (ahead_stop_) return;
    }
    auto loc = OpsOf(key.kind).Locate(s, key);
    // Errors are the reader's to see, when it asks: a render that fails is not cached.
    if (loc.ok()) (void)MetaVersion(s, key, *loc);
  }
}

// ---- documents through the page cache ----
//
// A meta.json is read through the kernel's page cache (one READ per file, none when read
// again), although a finished run's documents still change now and then (metadata added
// later, an output's consumers, an artifact store that appears or goes). The kernel keeps
// ONE page cache and ONE size (i_size) per inode, shared by every open of it, while each
// open file here holds the text of the moment it was opened. Two dangers follow:
//  - a mix: pages filled by an open of one version are read by an open of another;
//  - a cut: a read through the page cache stops at i_size, the size of the last
//    attributes replied (LOOKUP, GETATTR) that the kernel still holds as valid; if that is
//    another version's size, the reader gets its document cut or padded.
// (Direct I/O has neither: each read goes to the open file's own text, to its own end.)
// So per document inode the tree keeps (DocState):
//  - `pages`, `readers`: the version the page cache may hold and how many open files read
//    it through the page cache. Only opens of that version join while readers are alive,
//    so the pages only ever hold that version's bytes (the kernel refills dropped pages
//    from a reader's own file).
//  - `told`: the version of the last attributes replied, and `told_mixed` if replies of
//    two versions went out since the kernel last forgot them (the kernel keeps the reply
//    of the request it sent last, not the one answered last: it cannot be known which).
// The rules:
//  1. Attributes (DocAttrs): while readers are alive, the size is that of `pages`: the
//     readers' reads through the page cache end exactly at their own end even when the
//     kernel asks the size again (the refresher's invalidations, attribute timeouts). An
//     open of a newer text meanwhile reads by direct I/O (rule 2), whatever i_size says;
//     stat shows the readers' size until the last one closes (then the current one, by
//     the next GETATTR: the attributes time out after one refresh interval).
//  2. Open (DocOpen) of text T:
//     - readers alive and T == pages: joins them through the page cache;
//     - readers alive and T != pages: direct I/O (and it leaves their pages be);
//     - no readers, and the kernel's size is T's (told == T, not mixed): through the page
//       cache, the first reader of T; if the pages may hold another version, the open
//       replies keep_cache=0, and the kernel drops the inode's pages before it reads;
//     - no readers, and the kernel may hold another size: direct I/O, and the inode is
//       queued for the refresher (TakeStaleDocuments).
//  3. The refresher, for a queued inode with no readers, forgets `told` and `pages` (so
//     opens read by direct I/O meanwhile), then invalidates the inode's attributes and
//     pages (fuse_lowlevel_notify_inval_inode). That also bumps the inode's attribute
//     version, so a GETATTR reply to a request sent before it is ignored by the kernel:
//     from then on the kernel holds only sizes replied after, each recorded in `told`. The
//     next GETATTR (cat's fstat) records T, and the open after it reads through the page
//     cache again. A document whose text changed thus costs one or two direct opens.
// This needs no list of what a document says: a change is seen by comparing texts (hash
// and size) at open, so a change DiffSnapshots does not name is still never a mix or a
// cut. DiffSnapshots's invalidations of documents only make stat show the change sooner.
// A 64-bit hash of equal size colliding between two versions of one document is the one
// way to serve a stale page; it is left at that.

void Tree::DocAttrs(std::uint64_t ino, const DocVersion& now, Attr* a) {
  std::lock_guard<std::mutex> lock(doc_mu_);
  DocState& d = docs_[ino];
  const DocVersion& v = d.readers > 0 ? d.pages : now;
  if (d.told.known && d.told != v) d.told_mixed = true;
  d.told = v;
  a->size = v.size;
  a->blocks = (v.size + 511) / 512;
}

void Tree::QueueStaleLocked(std::uint64_t ino, DocState* d) {
  if (d->queued) return;
  d->queued = true;
  stale_docs_.push_back(ino);
}

void Tree::DocOpen(std::uint64_t ino, OpenFile* file) {
  const DocVersion v = VersionOf(*file->content);
  std::lock_guard<std::mutex> lock(doc_mu_);
  DocState& d = docs_[ino];
  if (d.readers > 0) {
    file->keep_pages = true;  // the readers' pages stay either way
    file->cacheable = d.pages == v;
  } else if (d.told == v && v.known && !d.told_mixed) {
    file->cacheable = true;
    file->keep_pages = d.pages == v;
    d.pages = v;
  } else {
    file->cacheable = false;
    file->keep_pages = true;
    QueueStaleLocked(ino, &d);
  }
  if (file->cacheable) {
    ++d.readers;
    file->doc_ino = ino;
  }
}

void Tree::Release(const OpenFile& file) {
  if (file.doc_ino == 0) return;
  std::lock_guard<std::mutex> lock(doc_mu_);
  auto it = docs_.find(file.doc_ino);
  if (it == docs_.end() || it->second.readers <= 0) {
    log_.Error("release of an uncounted document reader on inode " + std::to_string(file.doc_ino));
    return;
  }
  --it->second.readers;
}

std::vector<std::uint64_t> Tree::TakeStaleDocuments() {
  std::lock_guard<std::mutex> lock(doc_mu_);
  std::vector<std::uint64_t> out;
  std::vector<std::uint64_t> later;
  for (std::uint64_t ino : stale_docs_) {
    auto it = docs_.find(ino);
    if (it == docs_.end()) continue;  // forgotten by the kernel: nothing of it is cached
    DocState& d = it->second;
    if (d.readers > 0) {
      later.push_back(ino);  // their version stays until they close
      continue;
    }
    d = DocState{};
    out.push_back(ino);
  }
  stale_docs_ = std::move(later);
  return out;
}

// ---- attributes ----

Result<Entry> Tree::EntryOf(const Snapshot& s, const NodeKey& key) {
  const NodeOps& ops = OpsOf(key.kind);
  auto loc = ops.Locate(s, key);
  if (!loc.ok()) return loc.status();
  Entry e;
  Attr& a = e.attr;
  a.ino = InoOf(key);
  // The tree's own nodes; artifact and logs nodes replace this.
  const Ownership tree_own = TreeNodeOwnership(options_.perms, ops.IsDir());
  a.uid = tree_own.uid;
  a.gid = tree_own.gid;
  a.io_size = kArtifactIo;
  e.timeout = ops.Timeout(options_, s, *loc);
  e.attr_timeout = ops.AttrTimeout(options_, s, *loc);
  if (ops.IsDir()) {
    a.mode = S_IFDIR | tree_own.mode;
    a.nlink = 2;
  }
  Status st = ops.Attrs(*this, s, key, *loc, tree_own, &a);
  if (!st.ok()) return st;
  return e;
}

// ---- children ----

Result<NodeKey> Tree::Child(const Snapshot& s, const NodeKey& parent, std::string_view name) {
  const NodeOps& ops = OpsOf(parent.kind);
  auto loc = ops.Locate(s, parent);
  if (!loc.ok()) return loc.status();
  return ops.Child(*this, s, parent, *loc, name);
}

void FillDir(const Listing& listing, std::uint64_t dir_ino, std::uint64_t offset,
             const std::function<bool(const DirSlot&)>& add) {
  const std::uint64_t total = listing.items.size() + 2;
  for (std::uint64_t k = offset; k < total; ++k) {
    DirSlot slot;
    slot.next = k + 1;
    if (k < 2) {
      slot.name = k == 0 ? "." : "..";
      slot.ino = dir_ino;
      slot.type = S_IFDIR;
      slot.item = nullptr;
    } else {
      const Listing::Item& item = listing.items[k - 2];
      slot.name = item.name.c_str();
      slot.ino = item.ino;
      slot.type = item.type;
      slot.item = &item;
    }
    if (!add(slot)) return;
  }
}

// ---- operations ----

Result<Entry> Tree::Lookup(std::uint64_t parent, std::string_view name) {
  auto pkey = KeyOf(parent);
  if (!pkey.ok()) return pkey.status();
  if (!OpsOf(pkey->kind).MayHaveChildren()) return Status::NotDirectory("not a directory");
  auto snap = SnapshotFor(OpsOf(pkey->kind).LookupScope());
  if (!snap.ok()) return snap.status();
  auto key = Child(**snap, *pkey, name);
  if (!key.ok()) return key.status();
  const RowScope attr_scope = OpsOf(key->kind).AttrScope();
  if ((*snap)->scope() < attr_scope) {
    // The name resolved from a partial picture; its attributes need more of the store.
    snap = SnapshotFor(attr_scope);
    if (!snap.ok()) return snap.status();
    key = Child(**snap, *pkey, name);
    if (!key.ok()) return key.status();
  }
  auto e = EntryOf(**snap, *key);
  if (!e.ok()) return e.status();
  auto doc = DocumentVersion(**snap, *key);
  if (!doc.ok()) return doc.status();
  auto ino = Count(*key);
  if (!ino.ok()) return ino.status();
  e->attr.ino = *ino;
  if (doc->known) {
    DocAttrs(*ino, *doc, &e->attr);
    RenderAhead(*snap, *key);
  }
  return e;
}

Result<Tree::DocVersion> Tree::DocumentVersion(const Snapshot& s, const NodeKey& key) {
  const NodeOps& ops = OpsOf(key.kind);
  if (!ops.IsDocument()) return DocVersion{};
  auto loc = ops.Locate(s, key);
  if (!loc.ok()) return loc.status();
  return MetaVersion(s, key, *loc);
}

bool Tree::AttrsAreCheap(const Listing::Item& item) {
  return OpsOf(item.key.kind).AttrsAreCheap();
}

Result<Entry> Tree::Remember(const Listing::Item& item) {
  auto snap = SnapshotFor(OpsOf(item.key.kind).AttrScope());
  if (!snap.ok()) return snap.status();
  auto e = EntryOf(**snap, item.key);
  if (!e.ok()) return e.status();
  auto ino = Count(item.key);
  if (!ino.ok()) return ino.status();
  e->attr.ino = *ino;
  return e;
}

Result<Entry> Tree::GetAttr(std::uint64_t ino) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  auto snap = SnapshotFor(OpsOf(key->kind).AttrScope());
  if (!snap.ok()) return snap.status();
  auto e = EntryOf(**snap, *key);
  // The kernel holds this inode, so its object existed: gone now means deleted under the
  // mount (an open file's fstat), which is ESTALE rather than "no such name".
  if (!e.ok() && e.status().code() == Status::Code::kNotFound) return Status::Stale(e.status().message());
  if (!e.ok()) return e;
  e->attr.ino = ino;
  auto doc = DocumentVersion(**snap, *key);
  if (!doc.ok()) return doc.status();
  if (doc->known) DocAttrs(ino, *doc, &e->attr);
  return e;
}

Result<std::string> Tree::ReadLink(std::uint64_t ino) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  const NodeOps& ops = OpsOf(key->kind);
  auto got = SnapshotFor(ops.ContentScope());
  if (!got.ok()) return got.status();
  const std::shared_ptr<const Snapshot> snap = std::move(*got);
  auto loc = ops.Locate(*snap, *key);
  if (!loc.ok()) return loc.status();
  return ops.ReadLink(*snap, *loc);
}

Result<std::shared_ptr<const Listing>> Tree::OpenDir(std::uint64_t ino) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  return OpenDirOf(*key);
}

Result<std::shared_ptr<const Listing>> Tree::OpenDirOf(const NodeKey& key) {
  const NodeOps& ops = OpsOf(key.kind);
  auto got = SnapshotFor(ops.ContentScope());
  if (!got.ok()) return got.status();
  const std::shared_ptr<const Snapshot> snap = std::move(*got);
  const std::string ck = CacheKey(snap->generation(), key);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = listing_cache_.find(ck);
    if (it != listing_cache_.end()) return it->second;
  }
  auto loc = ops.Locate(*snap, key);
  if (!loc.ok()) return loc.status();
  auto listing = ops.List(*this, *snap, key, *loc);
  if (!listing.ok()) return listing.status();
  auto shared = std::make_shared<const Listing>(std::move(*listing));
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&listing_cache_, ck, shared);
  return shared;
}

Result<std::unique_ptr<OpenFile>> Tree::Open(std::uint64_t ino, const Caller& caller) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  const NodeOps& ops = OpsOf(key->kind);
  auto got = SnapshotFor(ops.ContentScope());
  if (!got.ok()) return got.status();
  const std::shared_ptr<const Snapshot> snap = std::move(*got);
  auto loc = ops.Locate(*snap, *key);
  if (!loc.ok()) return loc.status();
  auto file = ops.Open(*this, *snap, *key, *loc, caller);
  if (file.ok() && ops.IsDocument()) DocOpen(ino, file->get());
  return file;
}

Result<std::size_t> Tree::Read(OpenFile& file, std::uint64_t offset, std::size_t size, char* buf) {
  if (!file.file) {
    if (offset >= file.content->size()) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(size, file.content->size() - offset);
    std::memcpy(buf, file.content->data() + offset, n);
    return n;
  }
  auto n = file.file->ReadAt(offset, size, buf);
  if (!n.ok()) {
    log_.LogOnce(Logger::Level::kError, n.status().message(), n.status().ToString());
    return Status::IOError(n.status().message());
  }
  return n;
}

}  // namespace zenfs
