// A step's folder, its meta.json, its `output` link (a step with exactly one output) and
// its inputs/ (lineage: links to the outputs that produced what it read). Its logs are in
// backed.cc, its outputs/ folder in output.cc.
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fs/names.h"
#include "fs/nodes/node.h"

namespace zenfs {

namespace {

// A step's inputs by name (sorted), each's rows in input order: rows of one name are one
// input (several: a chunked input, ZenML 0.92+), listed only when every version is in the
// tree: its producing output, or, for a version no step produced (saved or registered by
// hand), its %artifacts folder. A version of another project (or gone) is in neither: the
// step's meta.json still names the input.
struct Input {
  std::string path_name;
  std::vector<int> versions;  // per row: index in rows().artifact_versions
};

std::vector<Input> InputsOf(const Snapshot& s, int step) {
  std::vector<Input> groups;
  std::vector<std::string> raw;
  std::vector<names::Child> children;
  for (int in : s.step(step).inputs) {
    const ArtifactLinkRow& link = s.rows().inputs[static_cast<std::size_t>(in)];
    auto it = std::find(raw.begin(), raw.end(), std::string_view(link.name));
    if (it == raw.end()) {
      raw.emplace_back(link.name);
      children.push_back({std::string(link.name), std::string(link.artifact_version_id)});
      groups.emplace_back();
      it = raw.end() - 1;
    }
    Input& g = groups[static_cast<std::size_t>(it - raw.begin())];
    const int v = s.FindVersion(link.artifact_version_id);
    g.versions.push_back(v >= 0 && s.ArtifactOf(v).first >= 0 ? v : -1);
  }
  const std::vector<std::string> paths = names::AssignNames(children, {});
  std::vector<Input> shown;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (std::find(groups[i].versions.begin(), groups[i].versions.end(), -1) != groups[i].versions.end()) continue;
    groups[i].path_name = paths[i];
    shown.push_back(std::move(groups[i]));
  }
  // By name: rows of different names have no order of their own (input_index orders only
  // a chunked input's rows), and a listing must not depend on the database's row order.
  std::sort(shown.begin(), shown.end(), [](const Input& a, const Input& b) { return a.path_name < b.path_name; });
  return shown;
}

const Input* FindInput(const std::vector<Input>& inputs, std::string_view path_name) {
  for (const Input& in : inputs) {
    if (in.path_name == path_name) return &in;
  }
  return nullptr;
}

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
    if (!st.inputs.empty()) AddItem(host, &l, "inputs", {NodeKind::kInputsDir, key.id, "", ""}, S_IFDIR);
    return l;
  }
  // Fixed names from the snapshot alone: the listing stats the logs.
  Result<NodeKey> Child(NodeHost&, const Snapshot& s, const NodeKey& key, const Loc& loc,
                        std::string_view name) const override {
    const Snapshot::Step& st = s.step(loc.step);
    if (name == "meta.json") return NodeKey{NodeKind::kStepMeta, key.id, "", ""};
    if (name == "outputs") return NodeKey{NodeKind::kOutputsDir, key.id, "", ""};
    if (name == "output" && st.outputs.size() == 1) return NodeKey{NodeKind::kOutputLink, key.id, "", ""};
    if (name == "inputs" && !st.inputs.empty()) return NodeKey{NodeKind::kInputsDir, key.id, "", ""};
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

// inputs/: one entry per input name. Its entries can change without the step changing
// (a producing run deleted): kept one refresh at most.
class InputsDirOps : public FolderOps {
 public:
  constexpr InputsDirOps() : FolderOps(By::kStep, RowScope::kAll, RowScope::kAll) {}
  double Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const override {
    return options.refresh_seconds;
  }
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    Listing l;
    for (const Input& in : InputsOf(s, loc.step)) {
      if (in.versions.size() == 1) {
        AddItem(host, &l, in.path_name, {NodeKind::kInputLink, key.id, in.path_name, ""}, S_IFLNK);
      } else {
        AddItem(host, &l, in.path_name, {NodeKind::kInputChunks, key.id, in.path_name, ""}, S_IFDIR);
      }
    }
    return l;
  }
};

// The input a key names: Loc.step the consuming step, Loc.input its place among the
// inputs shown, Loc.chunk the row (0 for a single version). NotFound when it is gone.
Result<Loc> LocateInput(const Snapshot& s, const NodeKey& key, bool chunks, bool chunk_link) {
  auto loc = LocateStep(s, key);
  if (!loc.ok()) return loc;
  const std::vector<Input> inputs = InputsOf(s, loc->step);
  const Input* in = FindInput(inputs, key.version);
  if (in == nullptr || (in->versions.size() > 1) != chunks) return Status::NotFound("input " + key.version + " is gone");
  loc->input = static_cast<int>(in - inputs.data());
  loc->chunk = 0;
  if (chunk_link) {
    const std::string& rel = key.rel;
    std::size_t i = 0;
    const bool digits = !rel.empty() && rel.size() <= 9 && (rel == "0" || rel[0] != '0') &&
                        std::all_of(rel.begin(), rel.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) i = std::stoul(rel);
    if (!digits || i >= in->versions.size()) return Status::NotFound("input " + key.version + "/" + rel + " is gone");
    loc->chunk = static_cast<int>(i);
  }
  return loc;
}

// Where an input row's link points, from `up` (the way from the link's folder to the root).
std::string InputTarget(const Snapshot& s, const Loc& loc, std::string_view up) {
  const Input in = InputsOf(s, loc.step)[static_cast<std::size_t>(loc.input)];
  return std::string(up) + s.VersionHome(in.versions[static_cast<std::size_t>(loc.chunk)]);
}

// inputs/<name> -> the output that produced the version the step read (for a version a
// cached step copied, the original's), in whatever pipeline and run it is; for a version
// no step produced, its folder %artifacts/<name>/<version>. Its target lives in another
// run, which can go: kept one refresh at most.
class InputLinkOps : public LinkOps {
 public:
  constexpr explicit InputLinkOps(bool chunk = false) : LinkOps(RowScope::kAll, RowScope::kAll), chunk_(chunk) {}
  double Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const override {
    return options.refresh_seconds;
  }
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateInput(s, key, chunk_, chunk_); }
  Result<std::string> ReadLink(const Snapshot& s, const Loc& loc) const override {
    // A chunk's link is one folder deeper: inputs/<name>/<i>.
    return InputTarget(s, loc, chunk_ ? "../../../../../../../" : "../../../../../../");
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override { return s.StepKey(loc.step).when; }

 private:
  bool chunk_;
};

class InputChunkLinkOps : public InputLinkOps {
 public:
  constexpr InputChunkLinkOps() : InputLinkOps(true) {}
};

// inputs/<name>/ for an input of several versions (chunked, ZenML 0.92+): links 0, 1, ...
// in input order.
class InputChunksOps : public FolderOps {
 public:
  constexpr InputChunksOps() : FolderOps(By::kStep, RowScope::kAll, RowScope::kAll) {}
  double Timeout(const TreeOptions& options, const Snapshot&, const Loc&) const override {
    return options.refresh_seconds;
  }
  Result<Loc> Locate(const Snapshot& s, const NodeKey& key) const override { return LocateInput(s, key, true, false); }
  Result<Listing> List(NodeHost& host, const Snapshot& s, const NodeKey& key, const Loc& loc) const override {
    const Input in = InputsOf(s, loc.step)[static_cast<std::size_t>(loc.input)];
    Listing l;
    for (std::size_t i = 0; i < in.versions.size(); ++i) {
      AddItem(host, &l, std::to_string(i), {NodeKind::kInputChunkLink, key.id, key.version, std::to_string(i)},
              S_IFLNK);
    }
    return l;
  }
};

}  // namespace

void AddStepKinds(KindTable* table) {
  Register<StepOps>(table, NodeKind::kStep);
  Register<StepMetaOps>(table, NodeKind::kStepMeta);
  Register<OutputLinkOps>(table, NodeKind::kOutputLink);
  Register<InputsDirOps>(table, NodeKind::kInputsDir);
  Register<InputLinkOps>(table, NodeKind::kInputLink);
  Register<InputChunksOps>(table, NodeKind::kInputChunks);
  Register<InputChunkLinkOps>(table, NodeKind::kInputChunkLink);
}

}  // namespace zenfs
