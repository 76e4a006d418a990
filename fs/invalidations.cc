#include "fs/invalidations.h"

#include <unordered_map>

namespace zenfs {

namespace {

// Appends invalidations for a folder whose children went from `before` to `after`: the
// folder itself (its cached listing and attributes) and every name that came or went.
void DiffNames(std::uint64_t dir, const std::vector<std::string>& before,
               const std::vector<std::string>& after, std::vector<Invalidation>* out) {
  if (before == after) return;
  out->push_back({Invalidation::Kind::kInode, dir, ""});
  std::unordered_map<std::string_view, int> seen;
  for (const std::string& n : before) seen[n] |= 1;
  for (const std::string& n : after) seen[n] |= 2;
  for (const auto& [name, where] : seen) {
    if (where != 3 && !name.empty()) out->push_back({Invalidation::Kind::kEntry, dir, std::string(name)});
  }
}

void Inode(const InodeHash& ino_of, NodeKind kind, const std::string& id, std::vector<Invalidation>* out) {
  out->push_back({Invalidation::Kind::kInode, ino_of({kind, id, "", ""}), ""});
}

// The logs entries of a step or run as the tree shows them (names, files, uris).
std::string LogsPrint(const Snapshot& s, const std::vector<Snapshot::Log>& logs) {
  std::string p;
  for (const Snapshot::Log& l : logs) {
    const LogRow& row = s.rows().logs[static_cast<std::size_t>(l.row)];
    p += '\x03' + l.path_name + '\x04' + (row.has_uri ? std::string(row.uri) : std::string("\x05"));
  }
  return p;
}

// The entries of a step's or run's folder that come and go: `output` (exactly one
// output), `children`, `outputs` (a run's), and the logs that have a file.
std::vector<std::string> OptionalEntries(const Snapshot& s, const std::vector<Snapshot::Log>& logs,
                                         std::initializer_list<const char*> present) {
  std::vector<std::string> names(present.begin(), present.end());
  for (const Snapshot::Log& l : logs) {
    if (s.rows().logs[static_cast<std::size_t>(l.row)].has_uri) names.push_back(l.path_name);
  }
  return names;
}

// A step's state as the tree shows it; equal fingerprints mean nothing to invalidate.
std::string StepPrint(const Snapshot& s, int step) {
  const StepRow& r = s.step_row(step);
  std::string p = std::string(r.status) + '\x01' + std::to_string(r.start_time.value_or(0)) + '\x01' +
                  std::to_string(r.end_time.value_or(0)) + '\x01' + std::to_string(r.updated.value_or(0));
  for (const std::string& o : s.step(step).output_names) p += '\x02' + o;
  return p + LogsPrint(s, s.step(step).logs);
}

std::string RunPrint(const Snapshot& s, int run) {
  const RunRow& r = s.run_row(run);
  const Snapshot::Run& x = s.run(run);
  std::string p = std::string(r.status) + '\x01' + std::to_string(r.start_time.value_or(0)) + '\x01' +
                  std::to_string(r.end_time.value_or(0)) + '\x01' + std::to_string(r.updated.value_or(0));
  for (std::size_t i = 0; i < x.children.size(); ++i) p += '\x02' + x.child_names[i] + '\x04' + s.RunPath(x.children[i]);
  for (const Snapshot::RunOutput& o : x.outputs) {
    p += '\x06' + o.path_name + '\x04' + (o.step >= 0 && o.output >= 0 ? s.OutputPath(o.step, o.output) : "");
  }
  return p + LogsPrint(s, x.logs);
}

std::vector<std::string> RunLinkNames(const Snapshot& s, int run, bool outputs) {
  std::vector<std::string> names;
  const Snapshot::Run& x = s.run(run);
  if (!outputs) return x.child_names;
  for (const Snapshot::RunOutput& o : x.outputs) {
    if (o.step >= 0 && o.output >= 0) names.push_back(o.path_name);
  }
  return names;
}

// Which steps read a version under which names (ids: a consumer's path changes only with
// names that are invalidated where they show).
std::string ConsumersPrint(const Snapshot& s, int version) {
  std::string p;
  for (int in : s.ConsumersOf(version)) {
    const ArtifactLinkRow& link = s.rows().inputs[static_cast<std::size_t>(in)];
    p += std::string(link.step_id) + '\x04' + std::string(link.name) + '\x02';
  }
  return p;
}

// %artifacts: its names, each artifact's versions and what they are (a link to the
// producing output, or the version's own folder), `latest`, and each output's meta.json
// whose `consumers` changed (a step that read the version started or went).
void DiffArtifacts(const Snapshot& before, const Snapshot& after, const InodeHash& ino_of,
                   std::vector<Invalidation>* out) {
  const std::uint64_t top = ino_of({NodeKind::kArtifactsDir, "", "", ""});
  DiffNames(top, before.artifact_names(), after.artifact_names(), out);
  for (const Snapshot::Artifact& a : before.artifacts()) {
    const int k = after.FindArtifactByName(a.path_name);
    if (k < 0) continue;  // its name in %artifacts was invalidated above
    const Snapshot::Artifact& b = after.artifacts()[static_cast<std::size_t>(k)];
    // By the producing step's id, not its path (a link's target is kept one refresh only).
    auto print = [](const Snapshot& s, const Snapshot::Artifact& x) {
      std::string p;
      for (std::size_t i = 0; i < x.versions.size(); ++i) {
        int output = -1;
        const int step = s.ProducingOutput(x.versions[i], &output);
        p += x.version_names[i] + '\x04' + (step >= 0 ? std::string(s.step_row(step).id) : "") + '\x02';
      }
      return p;
    };
    if (print(before, a) == print(after, b)) continue;
    const std::uint64_t dir = ino_of({NodeKind::kArtifactDir, "", a.path_name, ""});
    out->push_back({Invalidation::Kind::kInode, dir, ""});
    out->push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kArtifactLatest, "", a.path_name, ""}), ""});
    // Every version's name: one may have turned from a folder into a link.
    std::vector<std::string> names = a.version_names;
    names.insert(names.end(), b.version_names.begin(), b.version_names.end());
    for (const std::string& n : names) out->push_back({Invalidation::Kind::kEntry, dir, n});
  }
  for (std::size_t v = 0; v < before.rows().artifact_versions.size(); ++v) {
    const int version = static_cast<int>(v);
    const std::string id(before.rows().artifact_versions[v].id);
    const int nv = after.FindVersion(id);
    if (nv < 0 || before.ArtifactOf(version).first < 0) continue;
    if (ConsumersPrint(before, version) == ConsumersPrint(after, nv)) continue;
    out->push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kOutputMeta, "", id, ""}), ""});
    for (int st : before.StepsWithOutput(version)) {
      out->push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kOutputMeta, std::string(before.step_row(st).id), id, ""}), ""});
    }
  }
}

}  // namespace

std::vector<Invalidation> DiffSnapshots(const Snapshot& before, const Snapshot& after,
                                        const InodeHash& ino_of) {
  std::vector<Invalidation> out;
  DiffNames(kRootIno, before.pipeline_names(), after.pipeline_names(), &out);
  if (before.pipeline_names() != after.pipeline_names()) Inode(ino_of, NodeKind::kRootMeta, "", &out);
  // The root's time is its first pipeline's first run's.
  auto root_time = [](const Snapshot& s) { return s.pipelines().empty() ? 0 : s.pipelines().front().first.when; };
  if (root_time(before) != root_time(after)) {
    out.push_back({Invalidation::Kind::kInode, kRootIno, ""});
    Inode(ino_of, NodeKind::kRootMeta, "", &out);
  }
  for (const Snapshot::Pipeline& p : before.pipelines()) {
    const int q = after.FindPipeline(p.id);
    if (q < 0) continue;  // its name in the root was invalidated above
    const Snapshot::Pipeline& np = after.pipelines()[static_cast<std::size_t>(q)];
    if (before.scope() == RowScope::kPipelines) {
      // Its runs were never listed: only its own time (its first run's) can be stale.
      if (p.first.when != np.first.when) {
        Inode(ino_of, NodeKind::kPipeline, p.id, &out);
        Inode(ino_of, NodeKind::kRunsDir, p.id, &out);
      }
      continue;
    }
    if (p.run_names != np.run_names || p.runs.size() != np.runs.size()) {
      DiffNames(ino_of({NodeKind::kRunsDir, p.id, "", ""}), p.run_names, np.run_names, &out);
      Inode(ino_of, NodeKind::kPipelineMeta, p.id, &out);
      Inode(ino_of, NodeKind::kLatest, p.id, &out);
      Inode(ino_of, NodeKind::kPipeline, p.id, &out);
    }
    // runs/latest-<status> moves when a run reaches the status, appears with the first and
    // goes with the last such run.
    for (const char* status : {"completed", "failed"}) {
      auto target = [&](const Snapshot& x, const Snapshot::Pipeline& xp) {
        const int k = Snapshot::LatestWithStatus(xp, status);
        return k < 0 ? std::string() : std::string(x.run_row(xp.runs[static_cast<std::size_t>(k)]).id);
      };
      if (target(before, p) == target(after, np)) continue;
      const std::string name = std::string("latest-") + status;
      out.push_back({Invalidation::Kind::kEntry, ino_of({NodeKind::kRunsDir, p.id, "", ""}), name});
      out.push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kStatusLatest, p.id, status, ""}), ""});
      out.push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kRunsDir, p.id, "", ""}), ""});
      Inode(ino_of, NodeKind::kPipelineMeta, p.id, &out);
    }
  }
  for (std::size_t i = 0; i < before.rows().runs.size(); ++i) {
    const int run = static_cast<int>(i);
    if (before.run(run).pipeline < 0) continue;
    const std::string id(before.run_row(run).id);
    const int nrun = after.FindRun(id);
    if (nrun < 0 || after.run(nrun).pipeline < 0) continue;  // gone: its name was invalidated
    const Snapshot::Run& a = before.run(run);
    const Snapshot::Run& b = after.run(nrun);
    bool changed = RunPrint(before, run) != RunPrint(after, nrun);
    // A picture without steps never answered for anything that shows them (SnapshotFor),
    // so the kernel holds nothing of them to forget.
    if (before.scope() != RowScope::kAll) {
      if (changed) Inode(ino_of, NodeKind::kRun, id, &out);
      continue;
    }
    if (a.step_names != b.step_names) {
      DiffNames(ino_of({NodeKind::kStepsDir, id, "", ""}), a.step_names, b.step_names, &out);
      changed = true;
    }
    for (int st : a.steps) {
      const std::string sid(before.step_row(st).id);
      const int nst = after.FindStep(sid);
      if (nst < 0 || after.step(nst).run != nrun) continue;
      if (StepPrint(before, st) == StepPrint(after, nst)) continue;
      changed = true;
      Inode(ino_of, NodeKind::kStep, sid, &out);
      Inode(ino_of, NodeKind::kStepMeta, sid, &out);
      for (const Snapshot::Log& l : before.step(st).logs) {
        out.push_back({Invalidation::Kind::kInode,
                       ino_of({NodeKind::kLogs, sid, l.path_name == "logs" ? "" : l.path_name, ""}), ""});
      }
      Inode(ino_of, NodeKind::kOutputLink, sid, &out);
      DiffNames(ino_of({NodeKind::kOutputsDir, sid, "", ""}), before.step(st).output_names,
                after.step(nst).output_names, &out);
      auto optional = [](const Snapshot& x, int step) {
        return OptionalEntries(x, x.step(step).logs, {x.step(step).outputs.size() == 1 ? "output" : ""});
      };
      DiffNames(ino_of({NodeKind::kStep, sid, "", ""}), optional(before, st), optional(after, nst), &out);
    }
    if (changed) {
      Inode(ino_of, NodeKind::kRun, id, &out);
      Inode(ino_of, NodeKind::kRunMeta, id, &out);
      for (const Snapshot::Log& l : a.logs) {
        out.push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kRunLogs, id, l.path_name, ""}), ""});
      }
      auto optional = [](const Snapshot& x, int r) {
        const Snapshot::Run& xr = x.run(r);
        return OptionalEntries(x, xr.logs, {xr.children.empty() ? "" : "children", xr.outputs.empty() ? "" : "outputs"});
      };
      DiffNames(ino_of({NodeKind::kRun, id, "", ""}), optional(before, run), optional(after, nrun), &out);
      DiffNames(ino_of({NodeKind::kChildrenDir, id, "", ""}), RunLinkNames(before, run, false),
                RunLinkNames(after, nrun, false), &out);
      DiffNames(ino_of({NodeKind::kRunOutputsDir, id, "", ""}), RunLinkNames(before, run, true),
                RunLinkNames(after, nrun, true), &out);
    }
  }
  // %artifacts shows what only a whole picture holds (SnapshotFor): nothing to forget before.
  if (before.scope() == RowScope::kAll) DiffArtifacts(before, after, ino_of, &out);
  return out;
}
}  // namespace zenfs
