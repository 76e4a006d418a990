// Views beyond ZenML's own client, at the mount's root under `%` names (which escaping
// never gives a store name, SPEC §2): %by-id/<id>, a link to any pipeline, run, step or
// artifact version of the project shown, by its id; %artifacts/<name>/<version>, every
// artifact version by its artifact's name and its version (ZenML's
// get_artifact_version(name, version)), and %artifacts/<name>/latest.
#include <sys/stat.h>

#include <cctype>

#include "fs/nodes/node.h"

namespace zenfs {

namespace {

Micros VersionTime(const Snapshot& s, int version) {
  return s.rows().artifact_versions[static_cast<std::size_t>(version)].created.value_or(0);
}

// Lower-case 32 hex digits for an id written either way ZenML shows ids: dashed
// (8-4-4-4-12) or 32 hex digits, in any case; "" for anything else.
std::string NormalizeId(std::string_view name) {
  std::string hex;
  if (name.size() == 36) {
    for (std::size_t i = 0; i < name.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (name[i] == '-')) return "";
      if (!dash) hex += name[i];
    }
  } else if (name.size() == 32) {
    hex = name;
  } else {
    return "";
  }
  for (char& c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return "";
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex;
}

// What an id names in the snapshot: Loc.output (with .step) for an artifact version, the
// output folder of the step that produced it; Loc.step; Loc.run; Loc.pipeline. The store
// keeps ids as 32 hex digits (SQL stores) or dashed (a ZenML server): both are tried.
Result<Loc> LocateId(const Snapshot& s, std::string_view id) {
  const std::string hex = NormalizeId(id);
  if (hex.empty()) return Status::NotFound("not an id");
  for (const std::string& form : {hex, meta::DashedId(hex)}) {
    Loc loc;
    if (const int v = s.FindVersion(form); v >= 0) {
      const int step = s.ProducingOutput(v, &loc.output);
      if (step >= 0) {
        loc.step = step;
        loc.run = s.step(step).run;
        return loc;
      }
      if (s.ArtifactOf(v).first >= 0) {
        // No step produced it: its %artifacts folder.
        loc.output = -1;
        loc.version = v;
        return loc;
      }
    }
    if (const int step = s.FindStep(form); step >= 0 && s.step(step).run >= 0) {
      loc.step = step;
      loc.run = s.step(step).run;
      return loc;
    }
    if (const int run = s.FindRun(form); run >= 0 && s.run(run).pipeline >= 0) {
      loc.run = run;
      return loc;
    }
    if (const int p = s.FindPipeline(form); p >= 0) {
      loc.pipeline = p;
      return loc;
    }
  }
  return Status::NotFound("no pipeline, run, step or artifact version has id " + std::string(id));
}

// %by-id/: lists nothing (a store may hold millions of ids), but every id resolves.
class ByIdDirOps : public RootLevelOps {
 public:
  constexpr ByIdDirOps() : RootLevelOps(RowScope::kPipelines) {}
  RowScope LookupScope() const override { return RowScope::kAll; }
  Result<Listing> List(NodeHost&, const Snapshot&, const NodeKey&, const Loc&) const override {
    return Listing{};
  }
  // O(log n): the snapshot's id indexes.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey&, const Loc&,
                        std::string_view name) const override {
    auto loc = LocateId(s, name);
    if (!loc.ok()) return loc.status();
    return NodeKey{NodeKind::kByIdLink, std::string(name), "", ""};
  }
};

// %by-id/<id> -> the object's folder. Its key holds the name it was looked up by.
class ByIdLinkOps : public LinkOps {
 public:
  constexpr ByIdLinkOps() : LinkOps(RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateId(s, key.id); }
  // The object may be deleted at any time and an id is never listed, so no change can
  // name it: the kernel keeps it one refresh at most.
  double Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const override {
    return options.refresh_seconds;
  }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    if (loc.output >= 0) return "../" + s.OutputPath(loc.step, loc.output);
    if (loc.version >= 0) return "../" + s.VersionPath(loc.version);
    if (loc.step >= 0) return "../" + s.StepPath(loc.step);
    if (loc.run >= 0) return "../" + s.RunPath(loc.run);
    return "../" + s.pipelines()[static_cast<std::size_t>(loc.pipeline)].path_name;
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override {
    return loc.step >= 0      ? s.StepKey(loc.step).when
           : loc.version >= 0 ? VersionTime(s, loc.version)
           : loc.run >= 0     ? s.RunKey(loc.run).when
                              : s.pipelines()[static_cast<std::size_t>(loc.pipeline)].first.when;
  }
};

// ---- %artifacts ----

// %artifacts/: one folder per artifact name of the project shown (few: a store has far
// fewer artifacts than versions), listed. Its time is the root's.
class ArtifactsDirOps : public RootLevelOps {
 public:
  constexpr ArtifactsDirOps() : RootLevelOps(RowScope::kAll) {}
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey&, const Loc&) const override {
    Listing l;
    for (const Snapshot::Artifact& a : s.artifacts()) {
      AddItem(host, &l, a.path_name, {NodeKind::kArtifactDir, "", a.path_name, ""}, S_IFDIR);
    }
    return l;
  }
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey&, const Loc&,
                        std::string_view name) const override {
    if (s.FindArtifactByName(name) < 0) return Status::NotFound(std::string(name));
    return NodeKey{NodeKind::kArtifactDir, "", std::string(name), ""};
  }
};

// An artifact's folder (key.version: its path name): Loc.artifact.
Result<Loc> LocateArtifact(const Snapshot& s, const NodeKey& key) {
  Loc loc;
  loc.artifact = s.FindArtifactByName(key.version);
  if (loc.artifact < 0) return Status::NotFound("artifact " + key.version + " is gone");
  return loc;
}

const Snapshot::Artifact& ArtifactAt(const Snapshot& s, const Loc& loc) {
  return s.artifacts()[static_cast<std::size_t>(loc.artifact)];
}

// A version's entry in its artifact's folder: a link to the output that produced it, or,
// for a version no step produced, its own folder (an output folder of no step).
NodeKey VersionKey(const Snapshot& s, int version) {
  const std::string id(s.rows().artifact_versions[static_cast<std::size_t>(version)].id);
  int output = -1;
  if (s.ProducingOutput(version, &output) >= 0) return {NodeKind::kArtifactVersionLink, id, "", ""};
  return {NodeKind::kOutput, "", id, ""};
}

// %artifacts/<name>/: its versions by version (escaped; `latest` reserved) and `latest`.
// A version appears whenever one is saved, so it is kept one refresh at most.
class ArtifactDirOps : public NodeOps {
 public:
  constexpr ArtifactDirOps() : NodeOps(true, RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateArtifact(s, key); }
  Status Attrs(NodeHost&, const Snapshot& s, const NodeKey&, const Loc& loc, const Ownership&,
               Attr* a) const override {
    a->mtime = VersionTime(s, ArtifactAt(s, loc).versions.back());
    return Status::Ok();
  }
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    const Snapshot::Artifact& a = ArtifactAt(s, loc);
    Listing l;
    AddItem(host, &l, "latest", {NodeKind::kArtifactLatest, "", key.version, ""}, S_IFLNK);
    for (std::size_t k = 0; k < a.versions.size(); ++k) {
      NodeKey child = VersionKey(s, a.versions[k]);
      const mode_t type = child.kind == NodeKind::kOutput ? S_IFDIR : S_IFLNK;
      AddItem(host, &l, a.version_names[k], std::move(child), type);
    }
    return l;
  }
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    if (name == "latest") return NodeKey{NodeKind::kArtifactLatest, "", key.version, ""};
    const Snapshot::Artifact& a = ArtifactAt(s, loc);
    const int k = a.version_index.Find(name);
    if (k < 0) return Status::NotFound(std::string(name));
    return VersionKey(s, a.versions[static_cast<std::size_t>(k)]);
  }
};

// %artifacts/<name>/<version> -> the output folder that produced it (through a cached
// step, the original's: the output's `producer`), in whatever pipeline and run.
class ArtifactVersionLinkOps : public LinkOps {
 public:
  constexpr ArtifactVersionLinkOps() : LinkOps(RowScope::kAll, RowScope::kAll) {}
  // Its target lives in a run, which can be deleted: kept one refresh at most.
  double Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const override {
    return options.refresh_seconds;
  }
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override {
    Loc loc;
    loc.version = s.FindVersion(key.id);
    loc.step = loc.version >= 0 ? s.ProducingOutput(loc.version, &loc.output) : -1;
    if (loc.step < 0 || s.ArtifactOf(loc.version).first < 0) {
      return Status::NotFound("artifact version " + key.id + " has no producing output");
    }
    loc.run = s.step(loc.step).run;
    return loc;
  }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    return "../../" + s.OutputPath(loc.step, loc.output);
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override { return VersionTime(s, loc.version); }
};

// %artifacts/<name>/latest -> the newest version's entry beside it.
class ArtifactLatestOps : public LinkOps {
 public:
  constexpr ArtifactLatestOps() : LinkOps(RowScope::kAll, RowScope::kAll) {}
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateArtifact(s, key); }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    return ArtifactAt(s, loc).version_names.back();
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override {
    return VersionTime(s, ArtifactAt(s, loc).versions.back());
  }
};

}  // namespace

void AddViewKinds(KindTable* table) {
  Register<ByIdDirOps>(table, NodeKind::kByIdDir);
  Register<ByIdLinkOps>(table, NodeKind::kByIdLink);
  Register<ArtifactsDirOps>(table, NodeKind::kArtifactsDir);
  Register<ArtifactDirOps>(table, NodeKind::kArtifactDir);
  Register<ArtifactVersionLinkOps>(table, NodeKind::kArtifactVersionLink);
  Register<ArtifactLatestOps>(table, NodeKind::kArtifactLatest);
}

}  // namespace zenfs
