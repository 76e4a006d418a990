// A step's outputs/ folder, an output's folder and its meta.json. The artifact's files
// and folders below an output are in backed.cc. The same kinds, with no step in their
// keys, are the folders of versions no step produced (%artifacts/<name>/<version>).
#include <sys/stat.h>

#include <cstdint>
#include <utility>

#include "fs/names.h"
#include "fs/nodes/node.h"

namespace zenfs {

namespace {

// An output's files listed in its meta.json, at most.
constexpr std::size_t kMaxListedFiles = 10000;
// Bounds of the walk behind an output's meta.json "files": folders visited, and levels.
constexpr std::size_t kMaxWalkedFolders = 10000;
constexpr std::size_t kMaxWalkDepth = 64;

// The artifact version id an output shows (as stored), "" when it names none.
std::string OutputVersionId(const Snapshot& s, const Loc& loc) {
  if (loc.version >= 0) return std::string(s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].id);
  if (loc.step < 0) return "";
  const Snapshot::Output& o = s.step(loc.step).outputs[static_cast<std::size_t>(loc.output)];
  return std::string(s.rows().outputs[static_cast<std::size_t>(o.link)].artifact_version_id);
}

// What an output's meta.json says of its artifact beyond the rows: its detail rows and
// the files on disk.
meta::OutputFacts OutputFactsOf(NodeHost& host, const Snapshot& s, const Loc& loc) {
  meta::OutputFacts f;
  if (loc.version >= 0) {
    const std::string vid(s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].id);
    auto detail = host.DetailOf(s, loc);
    if (detail.ok()) {
      f.detail = **detail;
    } else {
      host.log().LogOnce(Logger::Level::kWarning, "md" + vid, detail.status().ToString());
    }
  }
  // Where each visualization's bytes come from: the artifact store, else the server.
  for (std::size_t i = 0; i < f.detail.visualizations.size(); ++i) {
    auto vref = host.VisualizationRef(s, loc, i);
    auto info = vref.ok() ? host.artifacts().Stat(*vref, "") : Result<FileInfo>(vref.status());
    if (info.ok() && !info->is_dir) {
      f.visualization_sources.emplace_back(kReadFromArtifactStore);
    } else if (ServedBytesOf(host, {ServedResource::kVisualization, OutputVersionId(s, loc), i}).ok()) {
      f.visualization_sources.emplace_back(kReadFromServer);
    } else {
      f.visualization_sources.push_back("unavailable: " +
                                        (info.ok() ? std::string("a folder, not a file") : info.status().message()));
    }
  }
  auto ref = host.OutputRef(s, loc);
  if (!ref.ok()) {
    f.unavailable_reason = ref.status().message();
    return f;
  }
  ArtifactSource& artifacts = host.artifacts();
  auto top = artifacts.Stat(*ref, "");
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
    auto entries = artifacts.List(*ref, dirs[d].first);
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
      auto info = artifacts.Stat(*ref, rel);
      f.files.push_back({rel, info.ok() ? info->size : 0});
    }
  }
  return f;
}

class OutputsDirOps : public FolderOps {
 public:
  constexpr OutputsDirOps() : FolderOps(By::kStep, RowScope::kAll, RowScope::kAll) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    Listing l;
    for (const Snapshot::Output& o : s.step(loc.step).outputs) {
      AddItem(host, &l, o.path_name,
              {NodeKind::kOutput, key.id,
               std::string(s.rows().outputs[static_cast<std::size_t>(o.link)].artifact_version_id), ""},
              S_IFDIR);
    }
    return l;
  }
  // From the snapshot's name index.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    const Snapshot::Step& st = s.step(loc.step);
    const int o = st.output_index.Find(name);
    if (o < 0) return Status::NotFound(std::string(name));
    return NodeKey{NodeKind::kOutput, key.id,
                   std::string(s.rows().outputs[static_cast<std::size_t>(st.outputs[static_cast<std::size_t>(o)].link)].artifact_version_id),
                   ""};
  }
};

// Whether an output's version has visualizations: from the structure row when the catalog
// filled it in (a `find` then reads no details), else from the version's details.
bool HasVisualizations(NodeHost& host, const Snapshot& s, const Loc& loc) {
  if (loc.version < 0) return false;
  const std::int8_t known = s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].visualizations;
  if (known >= 0) return known == 1;
  auto detail = host.DetailOf(s, loc);
  return detail.ok() && !(*detail)->visualizations.empty();
}

// An output's folder: its meta.json and the artifact's files (or the artifact itself,
// when it is a single file).
class OutputOps : public FolderOps {
 public:
  constexpr OutputOps() : FolderOps(By::kStep, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateOutput(s, key); }
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    auto l = ListBacked(host, s, key, loc, false, true);
    // %visualizations only when the version has some: as the structure rows say, else as
    // its details do (a failed detail read shows none: meta.json says why).
    if (l.ok() && HasVisualizations(host, s, loc)) {
      AddItem(host, &*l, std::string(meta::kVisualizationsDir), {NodeKind::kVisualizationsDir, key.id, key.version, ""},
              S_IFDIR);
    }
    return l;
  }
  Result<NodeKey> Child(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    // An artifact file named meta.json is listed under another name (ListBacked).
    if (name == "meta.json") return NodeKey{NodeKind::kOutputMeta, key.id, key.version, ""};
    return NodeOps::Child(host, s, key, loc, name);
  }
};

class OutputMetaOps : public MetaFileOps {
 public:
  constexpr OutputMetaOps() : MetaFileOps(false, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateOutput(s, key); }
  Result<std::string> Render(NodeHost& host, const Snapshot& s, const NodeKey&, const Loc& loc) const override {
    if (loc.step < 0) return meta::RenderVersion(s, loc.version, OutputFactsOf(host, s, loc));
    return meta::RenderOutput(s, loc.step, loc.output, OutputFactsOf(host, s, loc));
  }

 protected:
  std::optional<Micros> Updated(const Snapshot& s, const Loc& loc) const override {
    return loc.version >= 0 ? s.rows().artifact_versions[static_cast<std::size_t>(loc.version)].updated : std::nullopt;
  }
};

// An output's %visualizations/: a file per visualization of its artifact version,
// "<index>.<ext>" (names::VisualizationFileName).
class VisualizationsDirOps : public FolderOps {
 public:
  constexpr VisualizationsDirOps() : FolderOps(By::kStep, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateOutput(s, key); }
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    auto detail = host.DetailOf(s, loc);
    if (!detail.ok()) return detail.status();
    Listing l;
    const std::vector<VisualizationRow>& vis = (*detail)->visualizations;
    for (std::size_t i = 0; i < vis.size(); ++i) {
      AddItem(host, &l, names::VisualizationFileName(i, vis[i].type),
              {NodeKind::kVisualization, key.id, key.version, std::to_string(i)}, S_IFREG);
    }
    return l;
  }
};

// One visualization: the file its URI names, read lazily through the artifact source and
// confined like the artifact's own files (it may be one of them). Listed even when it
// cannot be read (reading says why), like logs; a URI naming a folder is such a file.
class VisualizationOps : public BackedOps {
 public:
  constexpr VisualizationOps() : BackedOps(false, RowScope::kAll, RowScope::kAll) {}
  bool MayHaveChildren() const override { return false; }
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateOutput(s, key); }
  Status Attrs(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc, const Ownership&,
               Attr* a) const override {
    const int v = loc.version;
    a->mtime = v >= 0 ? s.rows().artifact_versions[static_cast<std::size_t>(v)].created.value_or(0) : 0;
    Status st = DiskAttrs(host, s, key, loc, true, a);
    if (st.ok() && S_ISDIR(a->mode)) {
      a->mode = S_IFREG | TreeNodeOwnership(host.options().perms, false).mode;
      a->nlink = 1;
      a->size = a->blocks = 0;
    }
    return st;
  }
  Result<std::unique_ptr<OpenFile>> Open(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc,
                                         const Caller& caller) const override {
    auto f = BackedOps::Open(host, s, key, loc, caller);
    if (!f.ok() && f.status().code() == Status::Code::kIsDirectory) return Status::IOError(f.status().message());
    return f;
  }

 protected:
  Result<ArtifactRef> RefOf(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    return host.VisualizationRef(s, loc, IndexOf(key));
  }
  std::optional<ServedRef> ServedAs(const Snapshot&, const NodeKey& key, const Loc&) const override {
    return ServedRef{ServedResource::kVisualization, key.version, IndexOf(key)};
  }
  std::string RelOf(const NodeKey&) const override { return ""; }

 private:
  static std::size_t IndexOf(const NodeKey& key) {
    std::size_t i = 0;
    for (char c : key.rel) {
      if (c < '0' || c > '9' || i > (std::size_t{1} << 40)) return SIZE_MAX;
      i = i * 10 + static_cast<std::size_t>(c - '0');
    }
    return key.rel.empty() ? SIZE_MAX : i;
  }
};

}  // namespace

void AddOutputKinds(KindTable* table) {
  Register<OutputsDirOps>(table, NodeKind::kOutputsDir);
  Register<OutputOps>(table, NodeKind::kOutput);
  Register<OutputMetaOps>(table, NodeKind::kOutputMeta);
  Register<VisualizationsDirOps>(table, NodeKind::kVisualizationsDir);
  Register<VisualizationOps>(table, NodeKind::kVisualization);
}

}  // namespace zenfs
