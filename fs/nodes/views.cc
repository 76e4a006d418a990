// Views beyond ZenML's own client, at the mount's root under `%` names (which escaping
// never gives a store name, SPEC §2): %by-id/<id>, a link to any pipeline, run, step or
// artifact version of the project shown, by its id.
#include <sys/stat.h>

#include <cctype>

#include "fs/nodes/node.h"

namespace zenfs {

namespace {

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
      const int step = s.ProducerOf(v);
      if (step >= 0 && s.step(step).run >= 0) {
        const int output = s.FindOutput(step, form);
        if (output >= 0) {
          loc.step = step;
          loc.output = output;
          loc.run = s.step(step).run;
          return loc;
        }
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
class ByIdDirOps : public NodeOps {
 public:
  constexpr ByIdDirOps() : NodeOps(true, RowScope::kPipelines, RowScope::kPipelines) {}
  RowScope LookupScope() const override { return RowScope::kAll; }
  Result<Loc> Locate(const Snapshot&, const NodeKey&) const override { return Loc{}; }
  Status Attrs(NodeHost&, const Snapshot& s, const NodeKey&, const Loc&, const Ownership&,
               Attr* a) const override {
    a->mtime = s.pipelines().empty() ? 0 : s.pipelines().front().first.when;
    return Status::Ok();
  }
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
    if (loc.step >= 0) return "../" + s.StepPath(loc.step);
    if (loc.run >= 0) return "../" + s.RunPath(loc.run);
    return "../" + s.pipelines()[static_cast<std::size_t>(loc.pipeline)].path_name;
  }

 protected:
  Micros LinkTime(const Snapshot& s, const Loc& loc) const override {
    return loc.step >= 0  ? s.StepKey(loc.step).when
           : loc.run >= 0 ? s.RunKey(loc.run).when
                          : s.pipelines()[static_cast<std::size_t>(loc.pipeline)].first.when;
  }
};

}  // namespace

void AddViewKinds(KindTable* table) {
  Register<ByIdDirOps>(table, NodeKind::kByIdDir);
  Register<ByIdLinkOps>(table, NodeKind::kByIdLink);
}

}  // namespace zenfs
