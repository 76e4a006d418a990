// A pipeline's folder, its meta.json, its runs/ folder and the runs/latest,
// runs/latest-completed and runs/latest-failed links.
#include <sys/stat.h>

#include "fs/nodes/node.h"

namespace zenfs {

namespace {

// The statuses with a runs/latest-<status> link.
constexpr const char* kStatusViews[] = {"completed", "failed"};

const Snapshot::Pipeline& PipelineAt(const Snapshot& s, const Loc& loc) {
  return s.pipelines()[static_cast<std::size_t>(loc.pipeline)];
}

class PipelineOps : public FolderOps {
 public:
  constexpr PipelineOps() : FolderOps(By::kPipeline, RowScope::kPipelines, RowScope::kPipelines) {}
  Result<Listing> List(NodeHost& host, const Snapshot&, const NodeKey& key, const Loc&) const override {
    Listing l;
    AddItem(host, &l, "meta.json", {NodeKind::kPipelineMeta, key.id, "", ""}, S_IFREG);
    AddItem(host, &l, "runs", {NodeKind::kRunsDir, key.id, "", ""}, S_IFDIR);
    return l;
  }
  Result<NodeKey> Child(NodeHost&, const Snapshot&, const NodeKey& key, const Loc&,
                        std::string_view name) const override {
    if (name == "meta.json") return NodeKey{NodeKind::kPipelineMeta, key.id, "", ""};
    if (name == "runs") return NodeKey{NodeKind::kRunsDir, key.id, "", ""};
    return Status::NotFound(std::string(name));
  }
};

// Its run_count and runs need the runs.
class PipelineMetaOps : public MetaFileOps {
 public:
  constexpr PipelineMetaOps() : MetaFileOps(false, RowScope::kRuns, RowScope::kRuns) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocatePipeline(s, key); }
  Result<std::string> Render(NodeHost&, const Snapshot& s, const NodeKey&, const Loc& loc) const override {
    return meta::RenderPipeline(s, loc.pipeline);
  }

 protected:
  std::optional<Micros> Updated(const Snapshot& s, const Loc& loc) const override {
    const int prow = PipelineAt(s, loc).row;
    return prow >= 0 ? s.rows().pipelines[static_cast<std::size_t>(prow)].updated : std::nullopt;
  }
};

class RunsDirOps : public FolderOps {
 public:
  constexpr RunsDirOps() : FolderOps(By::kPipeline, RowScope::kPipelines, RowScope::kRuns) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    const Snapshot::Pipeline& p = PipelineAt(s, loc);
    Listing l;
    AddItem(host, &l, "latest", {NodeKind::kLatest, key.id, "", ""}, S_IFLNK);
    for (const char* status : kStatusViews) {
      if (Snapshot::LatestWithStatus(p, status) >= 0) {
        AddItem(host, &l, std::string("latest-") + status, {NodeKind::kStatusLatest, key.id, status, ""}, S_IFLNK);
      }
    }
    l.items.reserve(p.runs.size() + 3);
    for (std::size_t i = 0; i < p.runs.size(); ++i) {
      AddItem(host, &l, p.run_names[i], {NodeKind::kRun, std::string(s.run_row(p.runs[i]).id), "", ""}, S_IFDIR);
    }
    return l;
  }
  // From the snapshot's name index: one lookup in a folder of 100,000 runs must not build
  // its listing.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    if (name == "latest") return NodeKey{NodeKind::kLatest, key.id, "", ""};
    const Snapshot::Pipeline& p = PipelineAt(s, loc);
    for (const char* status : kStatusViews) {
      if (name == std::string("latest-") + status) {
        if (Snapshot::LatestWithStatus(p, status) < 0) return Status::NotFound(std::string(name));
        return NodeKey{NodeKind::kStatusLatest, key.id, status, ""};
      }
    }
    const int r = p.run_index.Find(name);
    if (r < 0) return Status::NotFound(std::string(name));
    return NodeKey{NodeKind::kRun, std::string(s.run_row(p.runs[static_cast<std::size_t>(r)]).id), "", ""};
  }
};

// runs/latest: a link to the newest run's folder.
class LatestOps : public NodeOps {
 public:
  constexpr LatestOps() : NodeOps(false, RowScope::kRuns, RowScope::kRuns) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocatePipeline(s, key); }
  Status Attrs(NodeHost&, const Snapshot& s, const NodeKey&, const Loc& loc, const Ownership&,
               Attr* a) const override {
    const Snapshot::Pipeline& p = PipelineAt(s, loc);
    a->mode = kLinkMode;
    a->size = p.run_names.back().size();
    a->mtime = s.RunKey(p.runs.back()).when;
    return Status::Ok();
  }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    return PipelineAt(s, loc).run_names.back();
  }
};

// runs/latest-completed, runs/latest-failed: a link to the newest run with exactly that
// status (ZenML's own spelling; a cached or stopped run is neither). Absent when no run has
// it; it moves when a newer run reaches the status.
class StatusLatestOps : public LinkOps {
 public:
  constexpr StatusLatestOps() : LinkOps(RowScope::kRuns, RowScope::kRuns) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override {
    auto loc = LocatePipeline(s, key);
    if (!loc.ok()) return loc;
    const int k = Snapshot::LatestWithStatus(PipelineAt(s, *loc), key.version);
    if (k < 0) return Status::NotFound("no " + key.version + " run");
    loc->run = PipelineAt(s, *loc).runs[static_cast<std::size_t>(k)];
    return loc;
  }
  // It can move whenever a run finishes: never cached longer than one refresh.
  double Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const override {
    return options.refresh_seconds;
  }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    return PipelineAt(s, loc).run_names[static_cast<std::size_t>(s.run(loc.run).pos)];
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override { return s.RunKey(loc.run).when; }
};

}  // namespace

void AddPipelineKinds(KindTable* table) {
  Register<PipelineOps>(table, NodeKind::kPipeline);
  Register<PipelineMetaOps>(table, NodeKind::kPipelineMeta);
  Register<RunsDirOps>(table, NodeKind::kRunsDir);
  Register<LatestOps>(table, NodeKind::kLatest);
  Register<StatusLatestOps>(table, NodeKind::kStatusLatest);
}

}  // namespace zenfs
