#include "fs/nodes/node.h"

#include <sys/stat.h>

#include <algorithm>

namespace zenfs {

bool IsFinishedStatus(std::string_view status) {
  return status == "completed" || status == "failed" || status == "cached" || status == "stopped";
}

// ---- defaults ----

double NodeOps::Timeout(const TreeOptions& options, const Snapshot& s, const Loc& loc) const {
  if (loc.run < 0 || !IsFinishedStatus(s.run_row(loc.run).status)) return options.refresh_seconds;
  return std::max(options.finished_timeout, options.refresh_seconds);
}

Result<Listing> NodeOps::List(NodeHost&, const Snapshot&, const NodeKey&, const Loc&) const {
  return Status::NotDirectory("not a directory");
}

Result<NodeKey> NodeOps::Child(NodeHost& host, const Snapshot&, const NodeKey& key, const Loc&,
                               std::string_view name) const {
  auto listing = host.OpenDirOf(key);
  if (!listing.ok()) return listing.status();
  for (const Listing::Item& item : (*listing)->items) {
    if (item.name == name) return item.key;
  }
  return Status::NotFound(std::string(name));
}

Result<std::unique_ptr<OpenFile>> NodeOps::Open(NodeHost&, const Snapshot&, const NodeKey&, const Loc&,
                                                const Caller&) const {
  if (IsDir()) return Status::IsDirectory("is a directory");
  return Status::InvalidArgument("cannot open this node");
}

Result<std::string> NodeOps::ReadLink(const Snapshot&, const Loc&) const {
  return Status::InvalidArgument("not a symlink");
}

Result<std::string> NodeOps::Render(NodeHost&, const Snapshot&, const NodeKey&, const Loc&) const {
  return Status::InvalidArgument("not a meta.json");
}

// ---- the table ----

namespace {

// A kind no level registered: a programming error, answered as a node that is gone.
class UnknownOps : public NodeOps {
 public:
  constexpr UnknownOps() : NodeOps(false, RowScope::kPipelines, RowScope::kPipelines) {}
  Result<Loc> Locate(const Snapshot&, const NodeKey&) const override {
    return Status::NotFound("unknown node kind");
  }
  Status Attrs(NodeHost&, const Snapshot&, const NodeKey&, const Loc&, const Ownership&, Attr*) const override {
    return Status::NotFound("unknown node kind");
  }
};

}  // namespace

const NodeOps& OpsOf(NodeKind kind) {
  static const KindTable table = [] {
    KindTable t{};
    AddRootKinds(&t);
    AddPipelineKinds(&t);
    AddRunKinds(&t);
    AddStepKinds(&t);
    AddOutputKinds(&t);
    AddBackedKinds(&t);
    AddViewKinds(&t);
    return t;
  }();
  static const UnknownOps unknown;
  const auto i = static_cast<std::size_t>(kind);
  return i < table.size() && table[i] != nullptr ? *table[i] : unknown;
}

// ---- locating keys in a snapshot ----

Result<Loc> LocatePipeline(const Snapshot& s, const NodeKey& key) {
  Loc loc;
  loc.pipeline = s.FindPipeline(key.id);
  if (loc.pipeline < 0) return Status::NotFound("pipeline " + key.id + " is gone");
  return loc;
}

Result<Loc> LocateRun(const Snapshot& s, const NodeKey& key) {
  Loc loc;
  loc.run = s.FindRun(key.id);
  if (loc.run < 0 || s.run(loc.run).pipeline < 0) return Status::NotFound("run " + key.id + " is gone");
  loc.pipeline = s.run(loc.run).pipeline;
  return loc;
}

Result<Loc> LocateStep(const Snapshot& s, const NodeKey& key) {
  Loc loc;
  loc.step = s.FindStep(key.id);
  if (loc.step < 0 || s.step(loc.step).run < 0) return Status::NotFound("step " + key.id + " is gone");
  loc.run = s.step(loc.step).run;
  loc.pipeline = s.run(loc.run).pipeline;
  return loc;
}

Result<Loc> LocateOutput(const Snapshot& s, const NodeKey& key) {
  if (key.id.empty()) {
    // A version no step produced: its folder under %artifacts.
    Loc loc;
    loc.version = s.FindVersion(key.version);
    if (loc.version < 0 || s.ArtifactOf(loc.version).first < 0) {
      return Status::NotFound("artifact version " + key.version + " is gone");
    }
    return loc;
  }
  auto loc = LocateStep(s, key);
  if (!loc.ok()) return loc;
  loc->output = s.FindOutput(loc->step, key.version);
  if (loc->output < 0) return Status::NotFound("output " + key.version + " of step " + key.id + " is gone");
  loc->version = s.step(loc->step).outputs[static_cast<std::size_t>(loc->output)].version;
  return loc;
}

Result<Loc> LocateLog(const Snapshot& s, const NodeKey& key) {
  const bool of_run = key.kind == NodeKind::kRunLogs || key.kind == NodeKind::kRunLogsEntry;
  auto loc = of_run ? LocateRun(s, key) : LocateStep(s, key);
  if (!loc.ok()) return loc;
  const std::string name = key.version.empty() ? "logs" : key.version;
  const Snapshot::Log* l = Snapshot::FindLog(of_run ? s.run(loc->run).logs : s.step(loc->step).logs, name);
  if (l == nullptr || !s.rows().logs[static_cast<std::size_t>(l->row)].has_uri) {
    return Status::NotFound(name + " of " + key.id + " is gone");
  }
  loc->log = l->row;
  return loc;
}

std::string PathOf(const Snapshot& s, const Loc& loc) {
  if (loc.step >= 0) return s.StepPath(loc.step);
  if (loc.run >= 0) return s.RunPath(loc.run);
  if (loc.version >= 0) return s.VersionPath(loc.version);
  return "";
}

// ---- for the handlers ----

void AddItem(NodeHost& host, Listing* l, std::string name, NodeKey key, mode_t type) {
  const std::uint64_t ino = host.InoOf(key);
  l->items.push_back({std::move(name), std::move(key), ino, type});
}

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// ---- folders ----

Result<Loc> FolderOps::Locate(const Snapshot& s, const NodeKey& key) const {
  switch (by_) {
    case By::kPipeline:
      return LocatePipeline(s, key);
    case By::kRun:
      return LocateRun(s, key);
    case By::kStep:
      break;
  }
  return LocateStep(s, key);
}

Status LinkOps::Attrs(NodeHost&, const Snapshot& s, const NodeKey&, const Loc& loc, const Ownership&,
                      Attr* a) const {
  auto target = ReadLink(s, loc);
  if (!target.ok()) return target.status();
  a->mode = kLinkMode;
  a->size = target->size();
  a->mtime = LinkTime(s, loc);
  return Status::Ok();
}

Status RootLevelOps::Attrs(NodeHost&, const Snapshot& s, const NodeKey&, const Loc&, const Ownership&,
                           Attr* a) const {
  a->mtime = RootTime(s);
  return Status::Ok();
}

Status FolderOps::Attrs(NodeHost&, const Snapshot& s, const NodeKey&, const Loc& loc, const Ownership&,
                        Attr* a) const {
  switch (by_) {
    case By::kPipeline:
      a->mtime = s.pipelines()[static_cast<std::size_t>(loc.pipeline)].first.when;
      break;
    case By::kRun:
      a->mtime = s.RunKey(loc.run).when;
      break;
    case By::kStep:
      // An output folder of no step (a version under %artifacts): the version's time.
      a->mtime = loc.step >= 0 ? s.StepKey(loc.step).when
                               : s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].created.value_or(0);
      break;
  }
  return Status::Ok();
}

// ---- meta.json ----

double MetaFileOps::Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const {
  return options.refresh_seconds;
}

Status MetaFileOps::Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                          const Ownership& own, Attr* a) const {
  auto size = host.MetaSize(s, key, loc);
  if (!size.ok()) return size.status();
  a->mode = S_IFREG | own.mode;
  a->size = *size;
  a->blocks = (a->size + 511) / 512;
  if (const std::optional<Micros> updated = Updated(s, loc)) a->mtime = *updated;
  a->io_size = kDirectIo;
  return Status::Ok();
}

Result<std::unique_ptr<OpenFile>> MetaFileOps::Open(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                                    const Loc& loc, const Caller& caller) const {
  const TreeOptions& options = host.options();
  if (options.perms.check_callers && !MayRead(caller, TreeNodeOwnership(options.perms, false))) {
    return Status::PermissionDenied("the store is not readable by user " + std::to_string(caller.uid));
  }
  auto text = host.MetaText(s, key, loc);
  if (!text.ok()) return text.status();
  auto file = std::make_unique<OpenFile>();
  file->content = std::move(*text);
  return file;
}

}  // namespace zenfs
