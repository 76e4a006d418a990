// A run's folder, its meta.json and its steps/ folder.
#include <sys/stat.h>

#include "fs/nodes/node.h"

namespace zenfs {

namespace {

class RunOps : public FolderOps {
 public:
  constexpr RunOps() : FolderOps(By::kRun, RowScope::kRuns, RowScope::kRuns) {}
  Result<Listing> List(NodeHost& host, const Snapshot&, const NodeKey& key, const Loc&) const override {
    Listing l;
    AddItem(host, &l, "meta.json", {NodeKind::kRunMeta, key.id, "", ""}, S_IFREG);
    AddItem(host, &l, "steps", {NodeKind::kStepsDir, key.id, "", ""}, S_IFDIR);
    return l;
  }
  Result<NodeKey> Child(NodeHost&, const Snapshot&, const NodeKey& key, const Loc&,
                        std::string_view name) const override {
    if (name == "meta.json") return NodeKey{NodeKind::kRunMeta, key.id, "", ""};
    if (name == "steps") return NodeKey{NodeKind::kStepsDir, key.id, "", ""};
    return Status::NotFound(std::string(name));
  }
};

// A run's meta.json lists its steps (and their metadata).
class RunMetaOps : public MetaFileOps {
 public:
  constexpr RunMetaOps() : MetaFileOps(false, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateRun(s, key); }
  Result<std::string> Render(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    RunDetail d;
    Status st = host.catalog().GetRunDetail(std::string(s.run_row(loc.run).id), &d);
    std::vector<meta::StepMetadata> steps;
    for (int step : s.run(loc.run).steps) {
      if (!st.ok()) break;
      meta::StepMetadata sm{std::string(s.step_row(step).name), {}};
      st = host.catalog().GetMetadata("step_run", std::string(s.step_row(step).id), &sm.rows);
      steps.push_back(std::move(sm));
    }
    if (!st.ok()) {
      host.log().LogOnce(Logger::Level::kError, "run" + key.id, "meta.json of run " + key.id + ": " + st.ToString());
      return Status::IOError(st.message());
    }
    return meta::RenderRun(s, loc.run, d, steps);
  }

 protected:
  std::optional<Micros> Updated(const Snapshot& s, const Loc& loc) const override {
    return s.run_row(loc.run).updated;
  }
};

class StepsDirOps : public FolderOps {
 public:
  constexpr StepsDirOps() : FolderOps(By::kRun, RowScope::kRuns, RowScope::kAll) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey&, const Loc& loc) const override {
    const Snapshot::Run& r = s.run(loc.run);
    Listing l;
    for (std::size_t i = 0; i < r.steps.size(); ++i) {
      AddItem(host, &l, r.step_names[i], {NodeKind::kStep, std::string(s.step_row(r.steps[i]).id), "", ""}, S_IFDIR);
    }
    return l;
  }
  // From the snapshot's name index.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey&, const Loc& loc,
                        std::string_view name) const override {
    const Snapshot::Run& run = s.run(loc.run);
    const int st = run.step_index.Find(name);
    if (st < 0) return Status::NotFound(std::string(name));
    return NodeKey{NodeKind::kStep, std::string(s.step_row(run.steps[static_cast<std::size_t>(st)]).id), "", ""};
  }
};

}  // namespace

void AddRunKinds(KindTable* table) {
  Register<RunOps>(table, NodeKind::kRun);
  Register<RunMetaOps>(table, NodeKind::kRunMeta);
  Register<StepsDirOps>(table, NodeKind::kStepsDir);
}

}  // namespace zenfs
