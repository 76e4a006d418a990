// A run's folder, its meta.json, its steps/ folder, and what newer ZenML adds to a run:
// children/ (nested runs), outputs/ (named pipeline outputs) and run-level logs (the
// files themselves are backed.cc's).
#include <sys/stat.h>

#include "fs/nodes/node.h"

namespace zenfs {

namespace {

// Its fixed entries, and those that only some runs have (from the runs' picture: a run's
// own logs and outputs come with the runs).
class RunOps : public FolderOps {
 public:
  constexpr RunOps() : FolderOps(By::kRun, RowScope::kRuns, RowScope::kRuns) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    const Snapshot::Run& r = s.run(loc.run);
    Listing l;
    AddItem(host, &l, "meta.json", {NodeKind::kRunMeta, key.id, "", ""}, S_IFREG);
    AddItem(host, &l, "steps", {NodeKind::kStepsDir, key.id, "", ""}, S_IFDIR);
    AddItem(host, &l, "dag.svg", {NodeKind::kRunDag, key.id, "svg", ""}, S_IFREG);
    AddItem(host, &l, "dag.dot", {NodeKind::kRunDag, key.id, "dot", ""}, S_IFREG);
    if (!r.children.empty()) AddItem(host, &l, "children", {NodeKind::kChildrenDir, key.id, "", ""}, S_IFDIR);
    if (!r.outputs.empty()) AddItem(host, &l, "outputs", {NodeKind::kRunOutputsDir, key.id, "", ""}, S_IFDIR);
    AddLogItems(host, s, r.logs, {NodeKind::kRunLogs, key.id, "", ""}, &l);
    return l;
  }
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    const Snapshot::Run& r = s.run(loc.run);
    if (name == "meta.json") return NodeKey{NodeKind::kRunMeta, key.id, "", ""};
    if (name == "steps") return NodeKey{NodeKind::kStepsDir, key.id, "", ""};
    if (name == "dag.svg") return NodeKey{NodeKind::kRunDag, key.id, "svg", ""};
    if (name == "dag.dot") return NodeKey{NodeKind::kRunDag, key.id, "dot", ""};
    if (name == "children" && !r.children.empty()) return NodeKey{NodeKind::kChildrenDir, key.id, "", ""};
    if (name == "outputs" && !r.outputs.empty()) return NodeKey{NodeKind::kRunOutputsDir, key.id, "", ""};
    if (const Snapshot::Log* log = Snapshot::FindLog(r.logs, name); log != nullptr && HasFile(s, *log)) {
      return NodeKey{NodeKind::kRunLogs, key.id, std::string(name), ""};
    }
    return Status::NotFound(std::string(name));
  }
};

// A link of a run's folder: its target from the snapshot, its time the run's.
class RunLinkOps : public LinkOps {
 public:
  constexpr explicit RunLinkOps(RowScope scope) : LinkOps(scope, scope) {}

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override { return s.RunKey(loc.run).when; }
};

// children/<child key> -> the child run's own folder (under its own pipeline).
class ChildrenDirOps : public FolderOps {
 public:
  constexpr ChildrenDirOps() : FolderOps(By::kRun, RowScope::kRuns, RowScope::kRuns) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    const Snapshot::Run& r = s.run(loc.run);
    Listing l;
    for (std::size_t i = 0; i < r.children.size(); ++i) {
      AddItem(host, &l, r.child_names[i], {NodeKind::kChildLink, key.id, std::string(s.run_row(r.children[i]).id), ""},
              S_IFLNK);
    }
    return l;
  }
};

class ChildLinkOps : public RunLinkOps {
 public:
  constexpr ChildLinkOps() : RunLinkOps(RowScope::kRuns) {}
  // Loc.run is the parent, Loc.child the child, found again from the key.
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override {
    auto loc = LocateRun(s, key);
    if (!loc.ok()) return loc;
    const int child = s.FindRun(key.version);
    if (child < 0 || s.run(child).parent != loc->run) return Status::NotFound("child run " + key.version + " is gone");
    loc->child = child;
    return loc;
  }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    // From <pipeline>/runs/<run>/children/ up to the mount's root.
    return "../../../../" + s.RunPath(loc.child);
  }
};

// outputs/<name> -> the step output that provides the pipeline output. Lists from
// everything (kAll): an output no step of the run provides is not listed.
class RunOutputsDirOps : public FolderOps {
 public:
  constexpr RunOutputsDirOps() : FolderOps(By::kRun, RowScope::kRuns, RowScope::kAll) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    Listing l;
    for (const Snapshot::RunOutput& o : s.run(loc.run).outputs) {
      if (o.step < 0 || o.output < 0) continue;  // no step of the run provides it: meta.json says so
      AddItem(host, &l, o.path_name, {NodeKind::kRunOutputLink, key.id, o.path_name, ""}, S_IFLNK);
    }
    return l;
  }
};

class RunOutputLinkOps : public RunLinkOps {
 public:
  constexpr RunOutputLinkOps() : RunLinkOps(RowScope::kAll) {}
  // Loc.output is the pipeline output's place in the run's outputs.
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override {
    auto loc = LocateRun(s, key);
    if (!loc.ok()) return loc;
    const Slice<Snapshot::RunOutput> outs = s.run(loc->run).outputs;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      if (outs[i].path_name == key.version && outs[i].step >= 0 && outs[i].output >= 0) {
        loc->output = static_cast<int>(i);
        return loc;
      }
    }
    return Status::NotFound("pipeline output " + key.version + " is gone");
  }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    const Snapshot::RunOutput& o = s.run(loc.run).outputs[static_cast<std::size_t>(loc.output)];
    const Snapshot::Step& st = s.step(o.step);
    return "../steps/" + s.run(loc.run).step_names[static_cast<std::size_t>(st.pos)] + "/outputs/" +
           st.outputs[static_cast<std::size_t>(o.output)].path_name;
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
    return meta::RenderRun(s, loc.run, d, steps, LogFactsOf(host, s, s.run(loc.run).logs));
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

// The version a run's picture is kept under: the DOT says everything the picture shows,
// so the same DOT means the same picture.
std::string PictureVersion(const std::string& dot) {
  return std::to_string(std::hash<std::string>{}(dot)) + ":" + std::to_string(dot.size());
}

// dag.svg and dag.dot: the run's picture (fs/dag.h). Laying out a picture costs up to
// seconds, so a stat must never do it (`ls -lR` would pay for every run): like a /proc
// file, the size is 0 and the file is read with direct I/O, rendered when opened, so every
// tool that reads to the end gets the whole picture. The SVG is kept (Tree's DagCache)
// while the run's DOT stays the same: a finished run is laid out once. Once a current
// picture is kept, dag.svg's stat says its real size: browsers (Chromium's file://
// loader) read only st_size bytes and fstat right after opening, so its attributes are
// never cached by the kernel. Their names are, as long as their run's folder (the
// default Timeout): each name always means the same picture of its run, so `ls -l` of a
// run's folder stats them from the listing (READDIRPLUS) instead of looking each up
// again at every access.
class RunDagOps : public NodeOps {
 public:
  constexpr RunDagOps() : NodeOps(false, RowScope::kRuns, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateRun(s, key); }
  double AttrTimeout(const TreeOptions&, const Snapshot&, const Loc&) const override { return 0; }
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc, const Ownership& own,
               Attr* a) const override {
    a->mode = S_IFREG | own.mode;
    a->size = 0;
    a->mtime = s.RunKey(loc.run).when;
    a->io_size = kDirectIo;
    // Only for a picture someone opened (the cache holds it), and only from a picture of
    // the steps: the DOT (under a millisecond) is never made for a run nobody looked at.
    if (key.version == "svg" && s.scope() == RowScope::kAll) {
      const std::string kept = host.pictures().VersionOf(key.id);
      if (!kept.empty() && kept == PictureVersion(DagToDot(DagOf(s, loc.run)))) {
        if (auto picture = host.pictures().Find(key.id, kept)) a->size = picture->size();
      }
    }
    a->blocks = (a->size + 511) / 512;
    return Status::Ok();
  }
  Result<std::unique_ptr<OpenFile>> Open(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                                         const Caller& caller) const override {
    const TreeOptions& options = host.options();
    if (options.perms.check_callers && !MayRead(caller, TreeNodeOwnership(options.perms, false))) {
      return Status::PermissionDenied("the store is not readable by user " + std::to_string(caller.uid));
    }
    std::string dot = DagToDot(DagOf(s, loc.run));
    auto file = std::make_unique<OpenFile>();
    if (key.version == "dot") {
      file->content = std::make_shared<const std::string>(std::move(dot));
      return file;
    }
    const std::string version = PictureVersion(dot);
    if (auto kept = host.pictures().Find(key.id, version)) {
      file->content = std::move(kept);
      return file;
    }
    auto svg = RenderSvg(dot);
    if (!svg.ok()) {
      host.log().LogOnce(Logger::Level::kError, "dag" + key.id,
                         "dag.svg of run " + key.id + ": " + svg.status().ToString());
      return Status::IOError(svg.status().message());
    }
    auto picture = std::make_shared<const std::string>(std::move(*svg));
    host.pictures().Put(key.id, version, picture);
    file->content = std::move(picture);
    return file;
  }
};

}  // namespace

void AddRunKinds(KindTable* table) {
  Register<RunOps>(table, NodeKind::kRun);
  Register<RunMetaOps>(table, NodeKind::kRunMeta);
  Register<StepsDirOps>(table, NodeKind::kStepsDir);
  Register<ChildrenDirOps>(table, NodeKind::kChildrenDir);
  Register<ChildLinkOps>(table, NodeKind::kChildLink);
  Register<RunOutputsDirOps>(table, NodeKind::kRunOutputsDir);
  Register<RunOutputLinkOps>(table, NodeKind::kRunOutputLink);
  Register<RunDagOps>(table, NodeKind::kRunDag);
}

}  // namespace zenfs
