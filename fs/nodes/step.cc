// A step's folder, its meta.json and its `output` link (a step with exactly one output).
// Its logs are in backed.cc, its outputs/ folder in output.cc.
#include <sys/stat.h>

#include "fs/nodes/node.h"

namespace zenfs {

namespace {

class StepOps : public FolderOps {
 public:
  constexpr StepOps() : FolderOps(By::kStep, RowScope::kAll, RowScope::kAll) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    const Snapshot::Step& st = s.step(loc.step);
    Listing l;
    AddItem(host, &l, "meta.json", {NodeKind::kStepMeta, key.id, "", ""}, S_IFREG);
    if (st.outputs.size() == 1) AddItem(host, &l, "output", {NodeKind::kOutputLink, key.id, "", ""}, S_IFLNK);
    AddLogItems(host, s, st.logs, {NodeKind::kLogs, key.id, "", ""}, &l);
    AddItem(host, &l, "outputs", {NodeKind::kOutputsDir, key.id, "", ""}, S_IFDIR);
    return l;
  }
  // Fixed names from the snapshot alone: the listing stats the logs.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    const Snapshot::Step& st = s.step(loc.step);
    if (name == "meta.json") return NodeKey{NodeKind::kStepMeta, key.id, "", ""};
    if (name == "outputs") return NodeKey{NodeKind::kOutputsDir, key.id, "", ""};
    if (name == "output" && st.outputs.size() == 1) return NodeKey{NodeKind::kOutputLink, key.id, "", ""};
    if (const Snapshot::Log* log = Snapshot::FindLog(st.logs, name); log != nullptr && HasFile(s, *log)) {
      return NodeKey{NodeKind::kLogs, key.id, name == "logs" ? "" : std::string(name), ""};
    }
    return Status::NotFound(std::string(name));
  }
};

class StepMetaOps : public MetaFileOps {
 public:
  constexpr StepMetaOps() : MetaFileOps(false, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateStep(s, key); }
  Result<std::string> Render(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    StepDetail d;
    Status st = host.catalog().GetStepDetail(std::string(s.step_row(loc.step).id),
                                             std::string(s.step_row(loc.step).name), &d);
    if (!st.ok()) {
      host.log().LogOnce(Logger::Level::kError, "step" + key.id, "meta.json of step " + key.id + ": " + st.ToString());
      return Status::IOError(st.message());
    }
    return meta::RenderStep(s, loc.step, d, LogFactsOf(host, s, s.step(loc.step).logs));
  }

 protected:
  std::optional<Micros> Updated(const Snapshot& s, const Loc& loc) const override {
    return s.step_row(loc.step).updated;
  }
};

// `output`: a link to outputs/<the one output>.
class OutputLinkOps : public LinkOps {
 public:
  constexpr OutputLinkOps() : LinkOps(RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateStep(s, key); }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    const Snapshot::Step& st = s.step(loc.step);
    if (st.outputs.size() != 1) return Status::NotFound("step has no single output");
    return "outputs/" + st.outputs[0].path_name;
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override { return s.StepKey(loc.step).when; }
};

}  // namespace

void AddStepKinds(KindTable* table) {
  Register<StepOps>(table, NodeKind::kStep);
  Register<StepMetaOps>(table, NodeKind::kStepMeta);
  Register<OutputLinkOps>(table, NodeKind::kOutputLink);
}

}  // namespace zenfs
