// The root folder and its meta.json (the %-named views in it, %by-id and %artifacts, are views.cc's).
#include <sys/stat.h>

#include "fs/nodes/node.h"

namespace zenfs {

Micros RootTime(const Snapshot& s) { return s.pipelines().empty() ? 0 : s.pipelines().front().first.when; }

namespace {

class RootOps : public RootLevelOps {
 public:
  constexpr RootOps() : RootLevelOps(RowScope::kPipelines) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey&, const Loc&) const override {
    Listing l;
    AddItem(host, &l, "meta.json", {NodeKind::kRootMeta, "", "", ""}, S_IFREG);
    AddItem(host, &l, "%by-id", {NodeKind::kByIdDir, "", "", ""}, S_IFDIR);
    AddItem(host, &l, "%artifacts", {NodeKind::kArtifactsDir, "", "", ""}, S_IFDIR);
    for (const Snapshot::Pipeline& p : s.pipelines()) {
      AddItem(host, &l, p.path_name, {NodeKind::kPipeline, p.id, "", ""}, S_IFDIR);
    }
    return l;
  }
  // From the snapshot's name index: one lookup must not build the listing.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey&, const Loc&,
                        std::string_view name) const override {
    if (name == "meta.json") return NodeKey{NodeKind::kRootMeta, "", "", ""};
    if (name == "%by-id") return NodeKey{NodeKind::kByIdDir, "", "", ""};
    if (name == "%artifacts") return NodeKey{NodeKind::kArtifactsDir, "", "", ""};
    const int p = s.FindPipelineByName(name);
    if (p < 0) return Status::NotFound(std::string(name));
    return NodeKey{NodeKind::kPipeline, s.pipelines()[static_cast<std::size_t>(p)].id, "", ""};
  }
};

class RootMetaOps : public MetaFileOps {
 public:
  constexpr RootMetaOps() : MetaFileOps(false, RowScope::kPipelines, RowScope::kPipelines) {}
  Result<Loc> Locate(const Snapshot&, const NodeKey&) const override { return Loc{}; }
  Result<std::string> Render(NodeHost& host, const Snapshot& s, const NodeKey&, const Loc&) const override {
    return meta::RenderRoot(s, host.options().store_path);
  }

 protected:
  std::optional<Micros> Updated(const Snapshot& s, const Loc&) const override { return RootTime(s); }
};

}  // namespace

void AddRootKinds(KindTable* table) {
  Register<RootOps>(table, NodeKind::kRoot);
  Register<RootMetaOps>(table, NodeKind::kRootMeta);
}

}  // namespace zenfs
