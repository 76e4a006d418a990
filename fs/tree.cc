#include "fs/tree.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "fs/names.h"

namespace zenfs {

namespace {

constexpr mode_t kLinkMode = S_IFLNK | 0777;
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
// An output's files listed in its meta.json, at most.
constexpr std::size_t kMaxListedFiles = 10000;
// Bounds of the walk behind an output's meta.json "files": folders visited, and levels.
constexpr std::size_t kMaxWalkedFolders = 10000;
constexpr std::size_t kMaxWalkDepth = 64;

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

bool IsDirKind(NodeKind k) {
  switch (k) {
    case NodeKind::kRoot: case NodeKind::kPipeline: case NodeKind::kRunsDir: case NodeKind::kRun:
    case NodeKind::kStepsDir: case NodeKind::kStep: case NodeKind::kOutputsDir: case NodeKind::kOutput:
      return true;
    default:
      return false;
  }
}

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
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
  // Read first, swap after: readers keep the old picture until the new one is whole.
  auto rows = catalog_.LoadRows(scope);
  std::shared_ptr<const Snapshot> before = Current();
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
  return inv;
}

namespace {

// How much of the store (RowScope) a node's attributes need. The mount starts from
// pipelines only: the root and the pipeline folders answer at once, runs/ once the runs
// are read, everything below a run once the rest is.
RowScope AttrScope(NodeKind kind) {
  switch (kind) {
    case NodeKind::kRoot:
    case NodeKind::kRootMeta:
    case NodeKind::kPipeline:
    case NodeKind::kRunsDir:
      return RowScope::kPipelines;
    case NodeKind::kPipelineMeta:  // run_count, the runs
    case NodeKind::kLatest:
    case NodeKind::kRun:
    case NodeKind::kStepsDir:
      return RowScope::kRuns;
    default:  // a run's meta.json lists its steps
      return RowScope::kAll;
  }
}

// How much its contents need: a listing (and the names in it), a document, a link target.
RowScope ContentScope(NodeKind kind) {
  switch (kind) {
    case NodeKind::kRoot:
    case NodeKind::kRootMeta:
    case NodeKind::kPipeline:
      return RowScope::kPipelines;
    case NodeKind::kPipelineMeta:
    case NodeKind::kRunsDir:
    case NodeKind::kLatest:
    case NodeKind::kRun:
      return RowScope::kRuns;
    default:
      return RowScope::kAll;
  }
}

}  // namespace

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
  }
}

// ---- locating keys in a snapshot ----

Result<Tree::Loc> Tree::Locate(const Snapshot& s, const NodeKey& key) {
  Loc loc;
  switch (key.kind) {
    case NodeKind::kRoot:
    case NodeKind::kRootMeta:
      return loc;
    case NodeKind::kPipeline:
    case NodeKind::kPipelineMeta:
    case NodeKind::kRunsDir:
    case NodeKind::kLatest:
      loc.pipeline = s.FindPipeline(key.id);
      if (loc.pipeline < 0) return Status::NotFound("pipeline " + key.id + " is gone");
      return loc;
    case NodeKind::kRun:
    case NodeKind::kRunMeta:
    case NodeKind::kStepsDir:
      loc.run = s.FindRun(key.id);
      if (loc.run < 0 || s.run(loc.run).pipeline < 0) return Status::NotFound("run " + key.id + " is gone");
      loc.pipeline = s.run(loc.run).pipeline;
      return loc;
    default:
      break;
  }
  loc.step = s.FindStep(key.id);
  if (loc.step < 0 || s.step(loc.step).run < 0) return Status::NotFound("step " + key.id + " is gone");
  loc.run = s.step(loc.step).run;
  loc.pipeline = s.run(loc.run).pipeline;
  if (key.kind == NodeKind::kOutput || key.kind == NodeKind::kOutputMeta ||
      key.kind == NodeKind::kArtifactEntry) {
    loc.output = s.FindOutput(loc.step, key.version);
    if (loc.output < 0) return Status::NotFound("output " + key.version + " of step " + key.id + " is gone");
  }
  return loc;
}

// ---- artifacts ----

Result<ArtifactRef> Tree::Resolve(const std::string& uri, const std::string& store_root) {
  const std::string ck = uri + '\x01' + store_root;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = ref_cache_.find(ck);
    if (it != ref_cache_.end()) return it->second;
  }
  Result<ArtifactRef> r = artifacts_.Locate(uri, store_root);
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&ref_cache_, ck, r, kRefCacheCap);
  return r;
}

Result<std::vector<FileInfo>> Tree::FoldersThrough(const ArtifactRef& ref, const std::string* dir,
                                                   bool fresh) {
  // Keys: the base for the folders above it, base NUL dir NUL for the others (paths hold
  // no NUL).
  const std::string ck = dir == nullptr ? ref.base : ref.base + '\0' + *dir + '\0';
  if (!fresh) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = chain_cache_.find(ck);
    if (it != chain_cache_.end()) return it->second;
  }
  Result<std::vector<FileInfo>> chain = std::vector<FileInfo>();
  if (dir == nullptr) {
    chain = StatAncestors(ref.base);
  } else {
    const std::size_t slash = dir->rfind('/');
    const std::string parent = slash == std::string::npos ? "" : dir->substr(0, slash);
    chain = FoldersThrough(ref, dir->empty() ? nullptr : &parent, fresh);
    if (chain.ok()) {
      auto info = artifacts_.Stat(ref, *dir);
      if (info.ok()) {
        chain->push_back(*info);
      } else {
        chain = info.status();
      }
    }
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&chain_cache_, ck, chain, kRefCacheCap);
  return chain;
}

Result<Ownership> Tree::BackedOwnershipOf(const ArtifactRef& ref, const std::string& rel,
                                          const FileInfo& info, bool fresh) {
  if (!info.has_owner) return BackedOwnership(options_.perms, info, {});
  // Only a local path has folders above it (an owner on disk with a base that is not an
  // absolute path would be a source's bug: refuse the node).
  if (ref.base.empty() || ref.base[0] != '/') return Status::IOError(ref.base + ": no local path to check");
  const std::size_t slash = rel.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  auto chain = FoldersThrough(ref, rel.empty() ? nullptr : &parent, fresh);
  if (!chain.ok()) return chain.status();
  return BackedOwnership(options_.perms, info, *chain);
}

Result<ArtifactRef> Tree::OutputRef(const Snapshot& s, const Loc& loc) {
  const Snapshot::Output& o = s.step(loc.step).outputs[static_cast<std::size_t>(loc.output)];
  if (o.version < 0) {
    return Status::NotFound("artifact version " +
                            std::string(s.rows().outputs[static_cast<std::size_t>(o.link)].artifact_version_id) +
                            " is missing from the store");
  }
  const ArtifactVersionRow& v = s.rows().artifact_versions[static_cast<std::size_t>(o.version)];
  return Resolve(std::string(v.uri), s.StoreRootOf(v.artifact_store_id));
}

Result<ArtifactRef> Tree::LogRef(const Snapshot& s, const Loc& loc) {
  const int log = s.step(loc.step).log;
  if (log < 0) return Status::NotFound("step has no logs");
  const LogRow& row = s.rows().logs[static_cast<std::size_t>(log)];
  return Resolve(std::string(row.uri), s.StoreRootOf(row.artifact_store_id));
}

meta::OutputFacts Tree::OutputFactsOf(const Snapshot& s, const Loc& loc) {
  meta::OutputFacts f;
  const Snapshot::Output& o = s.step(loc.step).outputs[static_cast<std::size_t>(loc.output)];
  if (o.version >= 0) {
    const std::string vid(s.rows().artifact_versions[static_cast<std::size_t>(o.version)].id);
    Status ds = catalog_.GetArtifactDetail(vid, &f.detail);
    if (!ds.ok()) log_.LogOnce(Logger::Level::kWarning, "md" + vid, ds.ToString());
  }
  auto ref = OutputRef(s, loc);
  if (!ref.ok()) {
    f.unavailable_reason = ref.status().message();
    return f;
  }
  auto top = artifacts_.Stat(*ref, "");
  if (!top.ok()) {
    f.unavailable_reason = top.status().message();
    return f;
  }
  f.available = true;
  if (!top->is_dir) {
    const std::string& base = ref->base;
    f.files.push_back({base.substr(base.rfind('/') + 1), top->size});
    return f;
  }
  // Breadth-first walk of the artifact's folder: names and sizes only, never bytes.
  // Bounded in folders and depth as well as files (the source lists no symbolic links,
  // so no loop; the bounds hold whatever the folder holds): beyond them, files_truncated.
  std::vector<std::pair<std::string, std::size_t>> dirs{{"", 0}};  // path, depth
  for (std::size_t d = 0; d < dirs.size(); ++d) {
    auto entries = artifacts_.List(*ref, dirs[d].first);
    if (!entries.ok()) continue;
    for (const DirEntryInfo& e : *entries) {
      const std::string rel = JoinRel(dirs[d].first, e.name);
      if (e.is_dir) {
        if (dirs.size() >= kMaxWalkedFolders || dirs[d].second + 1 > kMaxWalkDepth) {
          f.files_truncated = true;
        } else {
          dirs.emplace_back(rel, dirs[d].second + 1);
        }
        continue;
      }
      if (f.files.size() >= kMaxListedFiles) {
        f.files_truncated = true;
        return f;
      }
      auto info = artifacts_.Stat(*ref, rel);
      f.files.push_back({rel, info.ok() ? info->size : 0});
    }
  }
  return f;
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
  std::string text;
  switch (key.kind) {
    case NodeKind::kRootMeta:
      text = meta::RenderRoot(s, options_.store_path);
      break;
    case NodeKind::kPipelineMeta:
      text = meta::RenderPipeline(s, loc.pipeline);
      break;
    case NodeKind::kRunMeta: {
      RunDetail d;
      Status st = catalog_.GetRunDetail(std::string(s.run_row(loc.run).id), &d);
      std::vector<meta::StepMetadata> steps;
      for (int step : s.run(loc.run).steps) {
        if (!st.ok()) break;
        meta::StepMetadata sm{std::string(s.step_row(step).name), {}};
        st = catalog_.GetMetadata("step_run", std::string(s.step_row(step).id), &sm.rows);
        steps.push_back(std::move(sm));
      }
      if (!st.ok()) {
        log_.LogOnce(Logger::Level::kError, "run" + key.id, "meta.json of run " + key.id + ": " + st.ToString());
        return Status::IOError(st.message());
      }
      text = meta::RenderRun(s, loc.run, d, steps);
      break;
    }
    case NodeKind::kStepMeta: {
      StepDetail d;
      Status st = catalog_.GetStepDetail(std::string(s.step_row(loc.step).id), std::string(s.step_row(loc.step).name), &d);
      if (!st.ok()) {
        log_.LogOnce(Logger::Level::kError, "step" + key.id, "meta.json of step " + key.id + ": " + st.ToString());
        return Status::IOError(st.message());
      }
      text = meta::RenderStep(s, loc.step, d);
      break;
    }
    case NodeKind::kOutputMeta:
      text = meta::RenderOutput(s, loc.step, loc.output, OutputFactsOf(s, loc));
      break;
    default:
      return Status::InvalidArgument("not a meta.json");
  }
  auto shared = std::make_shared<const std::string>(std::move(text));
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
  std::string packed = PackKey(key);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = meta_sizes_.find(packed);
    if (it != meta_sizes_.end() && it->second.generation == s.generation()) return it->second.size;
  }
  auto text = MetaText(s, key, loc);
  if (!text.ok()) return text.status();
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (meta_sizes_.size() >= kSizeCacheCap) meta_sizes_.clear();
  meta_sizes_[std::move(packed)] = {s.generation(), (*text)->size()};
  return (*text)->size();
}

// ---- attributes ----

bool IsFinishedStatus(std::string_view status) {
  return status == "completed" || status == "failed" || status == "cached" || status == "stopped";
}

double Tree::TimeoutFor(const Snapshot& s, const NodeKey& key, const Loc& loc) const {
  // A meta.json also names other runs (a cached step's original, an output's producer,
  // inputs), which can be deleted while this run stays as it is: its size is never
  // cached for longer than one refresh.
  switch (key.kind) {
    case NodeKind::kRootMeta:
    case NodeKind::kPipelineMeta:
    case NodeKind::kRunMeta:
    case NodeKind::kStepMeta:
    case NodeKind::kOutputMeta:
      return options_.refresh_seconds;
    default:
      break;
  }
  // The root, pipelines and their run lists change whenever a run starts; a run's own
  // folder can change only until it finishes.
  if (loc.run < 0 || !IsFinishedStatus(s.run_row(loc.run).status)) return options_.refresh_seconds;
  return std::max(options_.finished_timeout, options_.refresh_seconds);
}

Result<Entry> Tree::EntryOf(const Snapshot& s, const NodeKey& key) {
  auto loc = Locate(s, key);
  if (!loc.ok()) return loc.status();
  Entry e;
  Attr& a = e.attr;
  a.ino = InoOf(key);
  // The tree's own nodes; artifact and logs nodes replace this below.
  const Ownership tree_own = TreeNodeOwnership(options_.perms, IsDirKind(key.kind));
  a.uid = tree_own.uid;
  a.gid = tree_own.gid;
  a.io_size = kArtifactIo;
  e.timeout = TimeoutFor(s, key, *loc);
  auto run_time = [&](int run) { return s.RunKey(run).when; };
  auto step_time = [&](int step) { return s.StepKey(step).when; };
  const std::optional<Micros> version_created =
      loc->output >= 0 && s.step(loc->step).outputs[static_cast<std::size_t>(loc->output)].version >= 0
          ? s.rows().artifact_versions[static_cast<std::size_t>(
                s.step(loc->step).outputs[static_cast<std::size_t>(loc->output)].version)].created
          : std::nullopt;
  if (IsDirKind(key.kind)) {
    a.mode = S_IFDIR | tree_own.mode;
    a.nlink = 2;
  }
  switch (key.kind) {
    case NodeKind::kRoot:
      a.mtime = s.pipelines().empty() ? 0 : s.pipelines().front().first.when;
      break;
    case NodeKind::kPipeline:
    case NodeKind::kRunsDir:
      a.mtime = s.pipelines()[static_cast<std::size_t>(loc->pipeline)].first.when;
      break;
    case NodeKind::kRun:
    case NodeKind::kStepsDir:
      a.mtime = run_time(loc->run);
      break;
    case NodeKind::kStep:
    case NodeKind::kOutputsDir:
    case NodeKind::kOutput:
      a.mtime = step_time(loc->step);
      break;
    case NodeKind::kLatest: {
      const Snapshot::Pipeline& p = s.pipelines()[static_cast<std::size_t>(loc->pipeline)];
      a.mode = kLinkMode;
      a.size = p.run_names.back().size();
      a.mtime = run_time(p.runs.back());
      break;
    }
    case NodeKind::kOutputLink: {
      const Snapshot::Step& st = s.step(loc->step);
      if (st.outputs.size() != 1) return Status::NotFound("step has no single output");
      a.mode = kLinkMode;
      a.size = std::strlen("outputs/") + st.outputs[0].path_name.size();
      a.mtime = step_time(loc->step);
      break;
    }
    case NodeKind::kRootMeta:
    case NodeKind::kPipelineMeta:
    case NodeKind::kRunMeta:
    case NodeKind::kStepMeta:
    case NodeKind::kOutputMeta: {
      auto size = MetaSize(s, key, *loc);
      if (!size.ok()) return size.status();
      a.mode = S_IFREG | tree_own.mode;
      a.size = *size;
      a.blocks = (a.size + 511) / 512;
      std::optional<Micros> updated;
      if (key.kind == NodeKind::kRootMeta) {
        a.mtime = s.pipelines().empty() ? 0 : s.pipelines().front().first.when;
      } else if (key.kind == NodeKind::kPipelineMeta) {
        const int prow = s.pipelines()[static_cast<std::size_t>(loc->pipeline)].row;
        updated = prow >= 0 ? s.rows().pipelines[static_cast<std::size_t>(prow)].updated : std::nullopt;
      } else if (key.kind == NodeKind::kRunMeta) {
        updated = s.run_row(loc->run).updated;
      } else if (key.kind == NodeKind::kStepMeta) {
        updated = s.step_row(loc->step).updated;
      } else {
        const int v = s.step(loc->step).outputs[static_cast<std::size_t>(loc->output)].version;
        updated = v >= 0 ? s.rows().artifact_versions[static_cast<std::size_t>(v)].updated : std::nullopt;
      }
      if (updated) a.mtime = *updated;
      a.io_size = kDirectIo;
      break;
    }
    case NodeKind::kLogs:
    case NodeKind::kLogsEntry:
    case NodeKind::kArtifactEntry: {
      const bool logs = key.kind != NodeKind::kArtifactEntry;
      auto ref = logs ? LogRef(s, *loc) : OutputRef(s, *loc);
      if (logs) {
        a.io_size = kDirectIo;
        const LogRow& row = s.rows().logs[static_cast<std::size_t>(s.step(loc->step).log)];
        a.mtime = row.updated.value_or(row.created.value_or(0));
      } else {
        a.mtime = version_created.value_or(0);
      }
      // Listed so users see there are logs; reading says why they cannot be had.
      const mode_t unreadable_logs = S_IFREG | TreeNodeOwnership(options_.perms, false).mode;
      if (!ref.ok()) {
        if (key.kind != NodeKind::kLogs) return ref.status();
        a.mode = unreadable_logs;
        break;
      }
      auto info = artifacts_.Stat(*ref, key.rel);
      if (!info.ok()) {
        if (key.kind != NodeKind::kLogs) return info.status();
        a.mode = unreadable_logs;
        break;
      }
      auto own = BackedOwnershipOf(*ref, key.rel, *info, false);
      if (!own.ok()) return own.status();
      a.mode = (info->is_dir ? S_IFDIR : S_IFREG) | own->mode;
      a.uid = own->uid;
      a.gid = own->gid;
      a.nlink = info->is_dir ? 2 : 1;
      a.size = info->size;
      a.blocks = info->blocks;
      break;
    }
  }
  return e;
}

// ---- children ----

Result<Listing> Tree::ListChildren(const Snapshot& s, const NodeKey& key, const Loc& loc) {
  Listing l;
  auto add = [&](std::string name, NodeKey k, mode_t type) {
    const std::uint64_t ino = InoOf(k);
    l.items.push_back({std::move(name), std::move(k), ino, type});
  };
  switch (key.kind) {
    case NodeKind::kRoot:
      add("meta.json", {NodeKind::kRootMeta, "", "", ""}, S_IFREG);
      for (const Snapshot::Pipeline& p : s.pipelines()) add(p.path_name, {NodeKind::kPipeline, p.id, "", ""}, S_IFDIR);
      break;
    case NodeKind::kPipeline:
      add("meta.json", {NodeKind::kPipelineMeta, key.id, "", ""}, S_IFREG);
      add("runs", {NodeKind::kRunsDir, key.id, "", ""}, S_IFDIR);
      break;
    case NodeKind::kRunsDir: {
      const Snapshot::Pipeline& p = s.pipelines()[static_cast<std::size_t>(loc.pipeline)];
      add("latest", {NodeKind::kLatest, key.id, "", ""}, S_IFLNK);
      l.items.reserve(p.runs.size() + 1);
      for (std::size_t i = 0; i < p.runs.size(); ++i) {
        add(p.run_names[i], {NodeKind::kRun, std::string(s.run_row(p.runs[i]).id), "", ""}, S_IFDIR);
      }
      break;
    }
    case NodeKind::kRun:
      add("meta.json", {NodeKind::kRunMeta, key.id, "", ""}, S_IFREG);
      add("steps", {NodeKind::kStepsDir, key.id, "", ""}, S_IFDIR);
      break;
    case NodeKind::kStepsDir: {
      const Snapshot::Run& r = s.run(loc.run);
      for (std::size_t i = 0; i < r.steps.size(); ++i) {
        add(r.step_names[i], {NodeKind::kStep, std::string(s.step_row(r.steps[i]).id), "", ""}, S_IFDIR);
      }
      break;
    }
    case NodeKind::kStep: {
      const Snapshot::Step& st = s.step(loc.step);
      add("meta.json", {NodeKind::kStepMeta, key.id, "", ""}, S_IFREG);
      if (st.outputs.size() == 1) add("output", {NodeKind::kOutputLink, key.id, "", ""}, S_IFLNK);
      if (st.log >= 0) {
        auto ref = LogRef(s, loc);
        bool dir = false;
        if (ref.ok()) {
          auto info = artifacts_.Stat(*ref, "");
          dir = info.ok() && info->is_dir;
        }
        add("logs", {NodeKind::kLogs, key.id, "", ""}, dir ? S_IFDIR : S_IFREG);
      }
      add("outputs", {NodeKind::kOutputsDir, key.id, "", ""}, S_IFDIR);
      break;
    }
    case NodeKind::kOutputsDir: {
      const Snapshot::Step& st = s.step(loc.step);
      for (const Snapshot::Output& o : st.outputs) {
        add(o.path_name,
            {NodeKind::kOutput, key.id,
             std::string(s.rows().outputs[static_cast<std::size_t>(o.link)].artifact_version_id), ""},
            S_IFDIR);
      }
      break;
    }
    case NodeKind::kOutput:
    case NodeKind::kArtifactEntry:
    case NodeKind::kLogs:
    case NodeKind::kLogsEntry: {
      const bool logs = key.kind == NodeKind::kLogs || key.kind == NodeKind::kLogsEntry;
      const NodeKind child_kind = logs ? NodeKind::kLogsEntry : NodeKind::kArtifactEntry;
      if (key.kind == NodeKind::kOutput) add("meta.json", {NodeKind::kOutputMeta, key.id, key.version, ""}, S_IFREG);
      auto ref = logs ? LogRef(s, loc) : OutputRef(s, loc);
      if (!ref.ok()) {
        // The output folder still shows meta.json, which says why the files are missing.
        if (key.kind == NodeKind::kOutput) break;
        return ref.status();
      }
      if (key.kind == NodeKind::kOutput) {
        auto top = artifacts_.Stat(*ref, "");
        if (!top.ok()) break;
        if (!top->is_dir) {
          // An artifact stored as a single file shows as that file.
          // Its key's empty `rel` means the artifact itself.
          const std::string base = ref->base.substr(ref->base.rfind('/') + 1);
          add(names::AssignNames({{base, ""}}, {"meta.json"}).front(),
              {child_kind, key.id, key.version, ""}, S_IFREG);
          break;
        }
      }
      auto entries = artifacts_.List(*ref, key.rel);
      if (!entries.ok()) return entries.status();
      std::vector<names::Child> children;
      children.reserve(entries->size());
      for (const DirEntryInfo& e : *entries) children.push_back({e.name, ""});
      // Names on disk are kept as they are; only a clash with meta.json is renamed.
      const std::vector<std::string> shown =
          key.kind == NodeKind::kOutput ? names::AssignNames(children, {"meta.json"})
                                        : std::vector<std::string>();
      for (std::size_t i = 0; i < entries->size(); ++i) {
        const DirEntryInfo& e = (*entries)[i];
        std::string name = key.kind == NodeKind::kOutput && (*entries)[i].name == "meta.json" ? shown[i] : e.name;
        add(std::move(name), {child_kind, key.id, key.version, JoinRel(key.rel, e.name)},
            e.is_dir ? S_IFDIR : S_IFREG);
      }
      break;
    }
    default:
      return Status::NotDirectory("not a directory");
  }
  return l;
}

Result<NodeKey> Tree::Child(const Snapshot& s, const NodeKey& parent, std::string_view name) {
  auto loc = Locate(s, parent);
  if (!loc.ok()) return loc.status();
  const auto not_found = [&] { return Status::NotFound(std::string(name)); };
  // The catalog's own directories answer from the snapshot's name indexes (one lookup in
  // a directory of 100,000 runs must not build its listing), and fixed names from the
  // snapshot alone (a step's listing stats its logs, an output's lists the artifact).
  switch (parent.kind) {
    case NodeKind::kPipeline:
      if (name == "meta.json") return NodeKey{NodeKind::kPipelineMeta, parent.id, "", ""};
      if (name == "runs") return NodeKey{NodeKind::kRunsDir, parent.id, "", ""};
      return not_found();
    case NodeKind::kRun:
      if (name == "meta.json") return NodeKey{NodeKind::kRunMeta, parent.id, "", ""};
      if (name == "steps") return NodeKey{NodeKind::kStepsDir, parent.id, "", ""};
      return not_found();
    case NodeKind::kStep: {
      const Snapshot::Step& st = s.step(loc->step);
      if (name == "meta.json") return NodeKey{NodeKind::kStepMeta, parent.id, "", ""};
      if (name == "outputs") return NodeKey{NodeKind::kOutputsDir, parent.id, "", ""};
      if (name == "output" && st.outputs.size() == 1) return NodeKey{NodeKind::kOutputLink, parent.id, "", ""};
      if (name == "logs" && st.log >= 0) return NodeKey{NodeKind::kLogs, parent.id, "", ""};
      return not_found();
    }
    case NodeKind::kOutput:
      // An artifact file named meta.json is listed under another name (ListChildren).
      if (name == "meta.json") return NodeKey{NodeKind::kOutputMeta, parent.id, parent.version, ""};
      break;
    case NodeKind::kRoot: {
      if (name == "meta.json") return NodeKey{NodeKind::kRootMeta, "", "", ""};
      const int p = s.FindPipelineByName(name);
      if (p < 0) return not_found();
      return NodeKey{NodeKind::kPipeline, s.pipelines()[static_cast<std::size_t>(p)].id, "", ""};
    }
    case NodeKind::kRunsDir: {
      if (name == "latest") return NodeKey{NodeKind::kLatest, parent.id, "", ""};
      const Snapshot::Pipeline& p = s.pipelines()[static_cast<std::size_t>(loc->pipeline)];
      const int r = p.run_index.Find(name);
      if (r < 0) return not_found();
      return NodeKey{NodeKind::kRun, std::string(s.run_row(p.runs[static_cast<std::size_t>(r)]).id), "", ""};
    }
    case NodeKind::kStepsDir: {
      const Snapshot::Run& run = s.run(loc->run);
      const int st = run.step_index.Find(name);
      if (st < 0) return not_found();
      return NodeKey{NodeKind::kStep, std::string(s.step_row(run.steps[static_cast<std::size_t>(st)]).id), "", ""};
    }
    case NodeKind::kOutputsDir: {
      const Snapshot::Step& st = s.step(loc->step);
      const int o = st.output_index.Find(name);
      if (o < 0) return not_found();
      return NodeKey{NodeKind::kOutput, parent.id,
                     std::string(s.rows().outputs[static_cast<std::size_t>(st.outputs[static_cast<std::size_t>(o)].link)].artifact_version_id),
                     ""};
    }
    default:
      break;
  }
  auto listing = OpenDirOf(parent);
  if (!listing.ok()) return listing.status();
  for (const Listing::Item& item : (*listing)->items) {
    if (item.name == name) return item.key;
  }
  return not_found();
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
  if (!IsDirKind(pkey->kind) && pkey->kind != NodeKind::kArtifactEntry && pkey->kind != NodeKind::kLogs &&
      pkey->kind != NodeKind::kLogsEntry) {
    return Status::NotDirectory("not a directory");
  }
  auto snap = SnapshotFor(ContentScope(pkey->kind));
  if (!snap.ok()) return snap.status();
  auto key = Child(**snap, *pkey, name);
  if (!key.ok()) return key.status();
  if ((*snap)->scope() < AttrScope(key->kind)) {
    // The name resolved from a partial picture; its attributes need more of the store.
    snap = SnapshotFor(AttrScope(key->kind));
    if (!snap.ok()) return snap.status();
    key = Child(**snap, *pkey, name);
    if (!key.ok()) return key.status();
  }
  auto e = EntryOf(**snap, *key);
  if (!e.ok()) return e.status();
  auto ino = Count(*key);
  if (!ino.ok()) return ino.status();
  e->attr.ino = *ino;
  return e;
}

bool Tree::AttrsAreCheap(const Listing::Item& item) {
  switch (item.key.kind) {
    case NodeKind::kRootMeta:
    case NodeKind::kPipelineMeta:
    case NodeKind::kRunMeta:
    case NodeKind::kStepMeta:
    case NodeKind::kOutputMeta:
      return false;
    default:
      return true;
  }
}

Result<Entry> Tree::Remember(const Listing::Item& item) {
  auto snap = SnapshotFor(AttrScope(item.key.kind));
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
  auto snap = SnapshotFor(AttrScope(key->kind));
  if (!snap.ok()) return snap.status();
  auto e = EntryOf(**snap, *key);
  // The kernel holds this inode, so its object existed: gone now means deleted under the
  // mount (an open file's fstat), which is ESTALE rather than "no such name".
  if (!e.ok() && e.status().code() == Status::Code::kNotFound) return Status::Stale(e.status().message());
  if (e.ok()) e->attr.ino = ino;
  return e;
}

Result<std::string> Tree::ReadLink(std::uint64_t ino) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  auto got = SnapshotFor(ContentScope(key->kind));
  if (!got.ok()) return got.status();
  const std::shared_ptr<const Snapshot> snap = std::move(*got);
  auto loc = Locate(*snap, *key);
  if (!loc.ok()) return loc.status();
  if (key->kind == NodeKind::kLatest) {
    return snap->pipelines()[static_cast<std::size_t>(loc->pipeline)].run_names.back();
  }
  if (key->kind == NodeKind::kOutputLink) {
    const Snapshot::Step& st = snap->step(loc->step);
    if (st.outputs.size() != 1) return Status::NotFound("step has no single output");
    return "outputs/" + st.outputs[0].path_name;
  }
  return Status::InvalidArgument("not a symlink");
}

Result<std::shared_ptr<const Listing>> Tree::OpenDir(std::uint64_t ino) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  return OpenDirOf(*key);
}

Result<std::shared_ptr<const Listing>> Tree::OpenDirOf(const NodeKey& key) {
  auto got = SnapshotFor(ContentScope(key.kind));
  if (!got.ok()) return got.status();
  const std::shared_ptr<const Snapshot> snap = std::move(*got);
  const std::string ck = CacheKey(snap->generation(), key);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = listing_cache_.find(ck);
    if (it != listing_cache_.end()) return it->second;
  }
  auto loc = Locate(*snap, key);
  if (!loc.ok()) return loc.status();
  auto listing = ListChildren(*snap, key, *loc);
  if (!listing.ok()) return listing.status();
  auto shared = std::make_shared<const Listing>(std::move(*listing));
  std::lock_guard<std::mutex> lock(cache_mu_);
  PutCapped(&listing_cache_, ck, shared);
  return shared;
}

Result<std::unique_ptr<OpenFile>> Tree::Open(std::uint64_t ino, const Caller& caller) {
  auto key = KeyOf(ino);
  if (!key.ok()) return key.status();
  auto got = SnapshotFor(ContentScope(key->kind));
  if (!got.ok()) return got.status();
  const std::shared_ptr<const Snapshot> snap = std::move(*got);
  auto loc = Locate(*snap, *key);
  if (!loc.ok()) return loc.status();
  auto file = std::make_unique<OpenFile>();
  switch (key->kind) {
    case NodeKind::kRootMeta:
    case NodeKind::kPipelineMeta:
    case NodeKind::kRunMeta:
    case NodeKind::kStepMeta:
    case NodeKind::kOutputMeta: {
      if (options_.perms.check_callers && !MayRead(caller, TreeNodeOwnership(options_.perms, false))) {
        return Status::PermissionDenied("the store is not readable by user " + std::to_string(caller.uid));
      }
      auto text = MetaText(*snap, *key, *loc);
      if (!text.ok()) return text.status();
      file->content = std::move(*text);
      return file;
    }
    case NodeKind::kArtifactEntry:
    case NodeKind::kLogs:
    case NodeKind::kLogsEntry: {
      const bool logs = key->kind != NodeKind::kArtifactEntry;
      auto ref = logs ? LogRef(*snap, *loc) : OutputRef(*snap, *loc);
      Result<std::unique_ptr<ArtifactFile>> f =
          ref.ok() ? artifacts_.Open(*ref, key->rel) : Result<std::unique_ptr<ArtifactFile>>(ref.status());
      if (!f.ok()) {
        if (f.status().code() == Status::Code::kIsDirectory) return f.status();
        log_.LogOnce(Logger::Level::kError, key->id + key->version + key->rel,
                     "cannot read " + snap->StepPath(loc->step) + ": " + f.status().ToString());
        return Status::IOError(f.status().message());
      }
      if (options_.perms.check_callers && caller.uid != 0) {
        // The kernel checked attributes it may have cached for an hour; the file may have
        // been made private or replaced since. Decide on what was actually opened.
        auto info = (*f)->Info();
        auto own = info.ok() ? BackedOwnershipOf(*ref, key->rel, *info, true) : Result<Ownership>(info.status());
        if (!own.ok()) {
          log_.LogOnce(Logger::Level::kError, "perm" + key->id + key->version + key->rel,
                       "cannot check permissions of " + snap->StepPath(loc->step) + ": " + own.status().ToString());
          return Status::PermissionDenied(own.status().message());
        }
        if (!MayRead(caller, *own)) {
          return Status::PermissionDenied(snap->StepPath(loc->step) + ": not readable by user " +
                                          std::to_string(caller.uid));
        }
      }
      file->file = std::move(*f);
      // Artifact bytes never change once written; logs of a running step grow.
      file->cacheable = !logs;
      return file;
    }
    default:
      if (IsDirKind(key->kind)) return Status::IsDirectory("is a directory");
      return Status::InvalidArgument("cannot open this node");
  }
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
