// Nodes backed by the artifact store: a step's logs (a file or a folder) and what is
// below them, and the files and folders of an output's artifact. Their owner, mode and
// size are those on disk (masked by the folders above, fs/permissions.h).
#include <sys/stat.h>

#include "fs/names.h"
#include "fs/nodes/node.h"

namespace zenfs {

Result<Listing> ListBacked(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                           bool logs, bool top) {
  Listing l;
  const bool run_logs = key.kind == NodeKind::kRunLogs || key.kind == NodeKind::kRunLogsEntry;
  const NodeKind child_kind = !logs ? NodeKind::kArtifactEntry : run_logs ? NodeKind::kRunLogsEntry : NodeKind::kLogsEntry;
  if (top) AddItem(host, &l, "meta.json", {NodeKind::kOutputMeta, key.id, key.version, ""}, S_IFREG);
  auto ref = logs ? host.LogRef(s, loc.log) : host.OutputRef(s, loc);
  if (!ref.ok()) {
    // The output folder still shows meta.json, which says why the files are missing.
    if (top) return l;
    return ref.status();
  }
  ArtifactSource& artifacts = host.artifacts();
  if (top) {
    auto info = artifacts.Stat(*ref, "");
    if (!info.ok()) return l;
    if (!info->is_dir) {
      // An artifact stored as a single file shows as that file.
      // Its key's empty `rel` means the artifact itself.
      const std::string base = ref->base.substr(ref->base.rfind('/') + 1);
      AddItem(host, &l, names::AssignNames({{base, ""}}, {"meta.json"}).front(),
              {child_kind, key.id, key.version, ""}, S_IFREG);
      return l;
    }
  }
  auto entries = artifacts.List(*ref, key.rel);
  if (!entries.ok()) return entries.status();
  std::vector<names::Child> children;
  children.reserve(entries->size());
  for (const DirEntryInfo& e : *entries) children.push_back({e.name, ""});
  // Names on disk are kept as they are; only a clash with meta.json is renamed.
  const std::vector<std::string> shown =
      top ? names::AssignNames(children, {"meta.json"}) : std::vector<std::string>();
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const DirEntryInfo& e = (*entries)[i];
    std::string name = top && e.name == "meta.json" ? shown[i] : e.name;
    AddItem(host, &l, std::move(name), {child_kind, key.id, key.version, JoinRel(key.rel, e.name)},
            e.is_dir ? S_IFDIR : S_IFREG);
  }
  return l;
}

void AddLogItems(NodeHost& host, const Snapshot& s, const std::vector<Snapshot::Log>& logs,
                 const NodeKey& key, Listing* l) {
  for (const Snapshot::Log& log : logs) {
    if (!HasFile(s, log)) continue;
    auto ref = host.LogRef(s, log.row);
    bool dir = false;
    if (ref.ok()) {
      auto info = host.artifacts().Stat(*ref, "");
      dir = info.ok() && info->is_dir;
    }
    NodeKey k = key;
    // A step's own `logs` keeps the key it had before logs had sources (and its inode).
    k.version = key.kind == NodeKind::kLogs && log.path_name == "logs" ? "" : log.path_name;
    AddItem(host, l, log.path_name, std::move(k), dir ? S_IFDIR : S_IFREG);
  }
}

std::vector<meta::LogFacts> LogFactsOf(NodeHost& host, const Snapshot& s, const std::vector<Snapshot::Log>& logs) {
  std::vector<meta::LogFacts> facts;
  for (const Snapshot::Log& log : logs) {
    meta::LogFacts f{s.LogSource(log.row), false, ""};
    auto ref = host.LogRef(s, log.row);
    if (!ref.ok()) {
      f.unavailable_reason = ref.status().message();
    } else if (auto info = host.artifacts().Stat(*ref, ""); !info.ok()) {
      f.unavailable_reason = info.status().message();
    } else {
      f.available = true;
    }
    facts.push_back(std::move(f));
  }
  return facts;
}

Result<Listing> BackedOps::List(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                const Loc& loc) const {
  return ListBacked(host, s, key, loc, logs_, false);
}

Status BackedOps::DiskAttrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                            bool listed_anyway, Attr* a) const {
  auto ref = logs_ ? host.LogRef(s, loc.log) : host.OutputRef(s, loc);
  const mode_t unreadable = S_IFREG | TreeNodeOwnership(host.options().perms, false).mode;
  if (!ref.ok()) {
    if (!listed_anyway) return ref.status();
    a->mode = unreadable;
    return Status::Ok();
  }
  auto info = host.artifacts().Stat(*ref, key.rel);
  if (!info.ok()) {
    if (!listed_anyway) return info.status();
    a->mode = unreadable;
    return Status::Ok();
  }
  auto own = host.BackedOwnershipOf(*ref, key.rel, *info, false);
  if (!own.ok()) return own.status();
  a->mode = (info->is_dir ? S_IFDIR : S_IFREG) | own->mode;
  a->uid = own->uid;
  a->gid = own->gid;
  a->nlink = info->is_dir ? 2 : 1;
  a->size = info->size;
  a->blocks = info->blocks;
  return Status::Ok();
}

Result<std::unique_ptr<OpenFile>> BackedOps::Open(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                                  const Loc& loc, const Caller& caller) const {
  auto ref = logs_ ? host.LogRef(s, loc.log) : host.OutputRef(s, loc);
  Result<std::unique_ptr<ArtifactFile>> f =
      ref.ok() ? host.artifacts().Open(*ref, key.rel) : Result<std::unique_ptr<ArtifactFile>>(ref.status());
  if (!f.ok()) {
    if (f.status().code() == Status::Code::kIsDirectory) return f.status();
    host.log().LogOnce(Logger::Level::kError, key.id + key.version + key.rel,
                       "cannot read " + PathOf(s, loc) + ": " + f.status().ToString());
    return Status::IOError(f.status().message());
  }
  if (host.options().perms.check_callers && caller.uid != 0) {
    // The kernel checked attributes it may have cached for an hour; the file may have
    // been made private or replaced since. Decide on what was actually opened.
    auto info = (*f)->Info();
    auto own = info.ok() ? host.BackedOwnershipOf(*ref, key.rel, *info, true) : Result<Ownership>(info.status());
    if (!own.ok()) {
      host.log().LogOnce(Logger::Level::kError, "perm" + key.id + key.version + key.rel,
                         "cannot check permissions of " + PathOf(s, loc) + ": " + own.status().ToString());
      return Status::PermissionDenied(own.status().message());
    }
    if (!MayRead(caller, *own)) {
      return Status::PermissionDenied(PathOf(s, loc) + ": not readable by user " +
                                      std::to_string(caller.uid));
    }
  }
  auto file = std::make_unique<OpenFile>();
  file->file = std::move(*f);
  // Artifact bytes never change once written; logs of a running step grow.
  file->cacheable = !logs_;
  return file;
}

namespace {

// Logs (kTop: the file or folder itself, listed even when it cannot be read) and what is
// below a logs folder: a step's or a run's. Served with direct I/O: running steps' logs grow.
// kScope: a step's logs need the steps (kAll), a run's only the runs.
template <bool kTop, RowScope kScope>
class LogsOps : public BackedOps {
 public:
  constexpr LogsOps() : BackedOps(true, kScope, kScope) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateLog(s, key); }
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc, const Ownership&,
               Attr* a) const override {
    a->io_size = kDirectIo;
    const LogRow& row = s.rows().logs[static_cast<std::size_t>(loc.log)];
    a->mtime = row.updated.value_or(row.created.value_or(0));
    return DiskAttrs(host, s, key, loc, kTop, a);
  }
};

// A file or folder of an output's artifact (key.rel "": an artifact that is one file).
class ArtifactEntryOps : public BackedOps {
 public:
  constexpr ArtifactEntryOps() : BackedOps(false, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateOutput(s, key); }
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc, const Ownership&,
               Attr* a) const override {
    a->mtime = loc.version >= 0 ? s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].created.value_or(0) : 0;
    return DiskAttrs(host, s, key, loc, false, a);
  }
};

}  // namespace

void AddBackedKinds(KindTable* table) {
  Register<LogsOps<true, RowScope::kAll>>(table, NodeKind::kLogs);
  Register<LogsOps<false, RowScope::kAll>>(table, NodeKind::kLogsEntry);
  Register<LogsOps<true, RowScope::kRuns>>(table, NodeKind::kRunLogs);
  Register<LogsOps<false, RowScope::kRuns>>(table, NodeKind::kRunLogsEntry);
  Register<ArtifactEntryOps>(table, NodeKind::kArtifactEntry);
}

}  // namespace zenfs
