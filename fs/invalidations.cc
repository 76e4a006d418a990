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

// A step's state as the tree shows it; equal fingerprints mean nothing to invalidate.
std::string StepPrint(const Snapshot& s, int step) {
  const StepRow& r = s.step_row(step);
  std::string p = std::string(r.status) + '\x01' + std::to_string(r.start_time.value_or(0)) + '\x01' +
                  std::to_string(r.end_time.value_or(0)) + '\x01' + std::to_string(r.updated.value_or(0));
  for (const std::string& o : s.step(step).output_names) p += '\x02' + o;
  p += '\x03' + std::to_string(s.step(step).log);
  if (s.step(step).log >= 0) p += s.rows().logs[static_cast<std::size_t>(s.step(step).log)].uri;
  return p;
}

std::string RunPrint(const Snapshot& s, int run) {
  const RunRow& r = s.run_row(run);
  return std::string(r.status) + '\x01' + std::to_string(r.start_time.value_or(0)) + '\x01' +
         std::to_string(r.end_time.value_or(0)) + '\x01' + std::to_string(r.updated.value_or(0));
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
      Inode(ino_of, NodeKind::kLogs, sid, &out);
      Inode(ino_of, NodeKind::kOutputLink, sid, &out);
      DiffNames(ino_of({NodeKind::kOutputsDir, sid, "", ""}), before.step(st).output_names,
                after.step(nst).output_names, &out);
      // The fixed entries that come and go: `output` (exactly one output) and `logs`.
      auto fixed = [](const Snapshot::Step& x) {
        return std::vector<std::string>{x.outputs.size() == 1 ? "output" : "", x.log >= 0 ? "logs" : ""};
      };
      const std::vector<std::string> fixed_before = fixed(before.step(st));
      const std::vector<std::string> fixed_after = fixed(after.step(nst));
      DiffNames(ino_of({NodeKind::kStep, sid, "", ""}), fixed_before, fixed_after, &out);
    }
    if (changed) {
      Inode(ino_of, NodeKind::kRun, id, &out);
      Inode(ino_of, NodeKind::kRunMeta, id, &out);
    }
  }
  return out;
}
}  // namespace zenfs
