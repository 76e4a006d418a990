// Nodes backed by the artifact store: a step's logs (a file or a folder) and what is
// below them, and the files and folders of an output's artifact. Their owner, mode and
// size are those on disk (masked by the folders above, fs/permissions.h).
#include <sys/stat.h>

#include <optional>

#include "fs/names.h"
#include "fs/nodes/node.h"

namespace zenfs {

namespace {

// How an artifact entry named `disk` at the top of an output folder is shown: as it is,
// unless it is one of the folder's own names, then as AssignNames renamed it (`assigned`,
// escaped: "%visualizations" came back as "%25visualizations~<8 hex>").
std::string ShownTopName(const std::string& disk, const std::string& assigned) {
  if (disk == "meta.json") return assigned;
  if (disk == meta::kVisualizationsDir) return "%" + assigned.substr(3);
  return disk;
}

}  // namespace

Result<Listing> ListBacked(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                           bool logs, bool top) {
  Listing l;
  const bool run_logs = key.kind == NodeKind::kRunLogs || key.kind == NodeKind::kRunLogsEntry;
  const NodeKind child_kind = !logs ? NodeKind::kArtifactEntry : run_logs ? NodeKind::kRunLogsEntry : NodeKind::kLogsEntry;
  // The names zenfs gives an output folder's own entries; an artifact file or folder of
  // the same name at the top is shown with a suffix (names::AssignNames's rule).
  // "%visualizations" is reserved even where the version has none, so a name never
  // changes with what the store says; AssignNames escapes "%", so the clash is checked on
  // its escaped form and the escape taken back off.
  static const std::vector<std::string> kReserved = {"meta.json", names::Escape(meta::kVisualizationsDir)};
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
      AddItem(host, &l, ShownTopName(base, names::AssignNames({{base, ""}}, kReserved).front()),
              {child_kind, key.id, key.version, ""}, S_IFREG);
      return l;
    }
  }
  auto entries = artifacts.List(*ref, key.rel);
  if (!entries.ok()) return entries.status();
  std::vector<names::Child> children;
  children.reserve(entries->size());
  for (const DirEntryInfo& e : *entries) children.push_back({e.name, ""});
  // Names on disk are kept as they are; only a clash with a reserved name is renamed.
  const std::vector<std::string> shown =
      top ? names::AssignNames(children, kReserved) : std::vector<std::string>();
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const DirEntryInfo& e = (*entries)[i];
    std::string name = top ? ShownTopName(e.name, shown[i]) : e.name;
    AddItem(host, &l, std::move(name), {child_kind, key.id, key.version, JoinRel(key.rel, e.name)},
            e.is_dir ? S_IFDIR : S_IFREG);
  }
  return l;
}

void AddLogItems(NodeHost& host, const Snapshot& s, Slice<Snapshot::Log> logs,
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

std::vector<meta::LogFacts> LogFactsOf(NodeHost& host, const Snapshot& s, Slice<Snapshot::Log> logs) {
  std::vector<meta::LogFacts> facts;
  for (const Snapshot::Log& log : logs) {
    meta::LogFacts f{s.LogSource(log.row), false, "", ""};
    auto ref = host.LogRef(s, log.row);
    Result<FileInfo> info = ref.ok() ? host.artifacts().Stat(*ref, "") : Result<FileInfo>(ref.status());
    if (info.ok()) {
      f.available = true;
      f.read_from = kReadFromArtifactStore;
    } else if (auto served = ServedLog(s, log.row); served && ServedBytesOf(host, *served).ok()) {
      f.available = true;
      f.read_from = kReadFromServer;
    } else {
      f.unavailable_reason = info.status().message();
    }
    facts.push_back(std::move(f));
  }
  return facts;
}

Result<Listing> BackedOps::List(NodeHost& host, const Snapshot& s, const NodeKey& key,
                                const Loc& loc) const {
  return ListBacked(host, s, key, loc, logs_, false);
}

Result<std::shared_ptr<const std::string>> ServedBytesOf(NodeHost& host, const ServedRef& ref) {
  return host.catalog().ServedBytes(ref.what, ref.id, ref.index);
}

std::optional<ServedRef> ServedLog(const Snapshot& s, int log_row) {
  if (log_row < 0) return std::nullopt;
  const LogRow& row = s.rows().logs[static_cast<std::size_t>(log_row)];
  if (row.step_run_id.empty() || !(row.source.empty() || row.source == "step")) return std::nullopt;
  return ServedRef{ServedResource::kStepLogs, std::string(row.step_run_id), 0};
}

std::optional<ServedRef> BackedOps::ServedAs(const Snapshot&, const NodeKey&, const Loc&) const {
  return std::nullopt;
}

Result<ArtifactRef> BackedOps::RefOf(NodeHost& host, const Snapshot& s, const NodeKey&, const Loc& loc) const {
  return logs_ ? host.LogRef(s, loc.log) : host.OutputRef(s, loc);
}

Status BackedOps::DiskAttrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                            bool listed_anyway, Attr* a) const {
  auto ref = RefOf(host, s, key, loc);
  const std::string rel = RelOf(key);
  const mode_t unreadable = S_IFREG | TreeNodeOwnership(host.options().perms, false).mode;
  Result<FileInfo> info = ref.ok() ? host.artifacts().Stat(*ref, rel) : Result<FileInfo>(ref.status());
  if (!info.ok()) {
    // Out of reach here: what the server serves instead, a file of the tree's.
    if (auto served = ServedAs(s, key, loc)) {
      if (auto bytes = ServedBytesOf(host, *served); bytes.ok()) {
        a->mode = unreadable;
        a->size = (*bytes)->size();
        a->blocks = (a->size + 511) / 512;
        return Status::Ok();
      }
    }
    if (!listed_anyway) return info.status();
    a->mode = unreadable;
    return Status::Ok();
  }
  auto own = host.BackedOwnershipOf(*ref, rel, *info, false);
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
  auto ref = RefOf(host, s, key, loc);
  const std::string rel = RelOf(key);
  Result<std::unique_ptr<ArtifactFile>> f =
      ref.ok() ? host.artifacts().Open(*ref, rel) : Result<std::unique_ptr<ArtifactFile>>(ref.status());
  if (!f.ok()) {
    if (f.status().code() == Status::Code::kIsDirectory) return f.status();
    if (auto served = ServedAs(s, key, loc)) {
      auto bytes = ServedBytesOf(host, *served);
      if (bytes.ok()) {
        auto file = std::make_unique<OpenFile>();
        file->content = std::move(*bytes);
        file->cacheable = !logs_;
        file->keep_pages = !logs_;
        return file;
      }
      if (bytes.status().code() != Status::Code::kUnsupported) {
        f = Status::IOError(f.status().message() + "; through the server: " + bytes.status().message());
      }
    }
    host.log().LogOnce(Logger::Level::kError, key.id + key.version + key.rel,
                       "cannot read " + PathOf(s, loc) + ": " + f.status().ToString());
    return Status::IOError(f.status().message());
  }
  if (host.options().perms.check_callers && caller.uid != 0) {
    // The kernel checked attributes it may have cached for an hour; the file may have
    // been made private or replaced since. Decide on what was actually opened.
    auto info = (*f)->Info();
    auto own = info.ok() ? host.BackedOwnershipOf(*ref, rel, *info, true) : Result<Ownership>(info.status());
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
  file->keep_pages = !logs_;
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
  // A step's logs file or folder itself: the server gives its whole text.
  std::optional<ServedRef> ServedAs(const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    if (!kTop || !key.rel.empty()) return std::nullopt;
    return ServedLog(s, loc.log);
  }
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
