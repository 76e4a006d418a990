#include "fs/invalidations.h"

#include <cstddef>
#include <optional>
#include <string_view>
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

void Inode(const InodeHash& ino_of, NodeKind kind, std::string_view id, std::vector<Invalidation>* out) {
  out->push_back({Invalidation::Kind::kInode, ino_of({kind, std::string(id), "", ""}), ""});
}

// The comparisons below decide, for every run, step and artifact version of the store,
// whether what the tree shows of it changed: they run on every refresh, so they compare
// fields in place (no text built, nothing allocated) and texts by their bytes' address
// first, since an incremental read (Catalog::LoadChanges) keeps the bytes of unchanged rows.

bool Same(std::string_view a, std::string_view b) {
  return (a.data() == b.data() && a.size() == b.size()) || a == b;
}

bool SameTimes(const std::optional<Micros>& a, const std::optional<Micros>& b) {
  return a.value_or(0) == b.value_or(0);
}

// The logs entries of a step or run as the tree shows them (names, files, uris).
bool SameLogs(const Snapshot& s, const std::vector<Snapshot::Log>& x, const Snapshot& t,
              const std::vector<Snapshot::Log>& y) {
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const LogRow& a = s.rows().logs[static_cast<std::size_t>(x[i].row)];
    const LogRow& b = t.rows().logs[static_cast<std::size_t>(y[i].row)];
    if (x[i].path_name != y[i].path_name || a.has_uri != b.has_uri || (a.has_uri && !Same(a.uri, b.uri))) return false;
  }
  return true;
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

// Whether a step shows the same in both pictures; equal means nothing to invalidate.
bool SameStep(const Snapshot& s, int x, const Snapshot& t, int y) {
  const StepRow& a = s.step_row(x);
  const StepRow& b = t.step_row(y);
  return Same(a.status, b.status) && SameTimes(a.start_time, b.start_time) && SameTimes(a.end_time, b.end_time) &&
         SameTimes(a.updated, b.updated) && s.step(x).output_names == t.step(y).output_names &&
         SameLogs(s, s.step(x).logs, t, t.step(y).logs);
}

bool SameRun(const Snapshot& s, int x, const Snapshot& t, int y) {
  const RunRow& a = s.run_row(x);
  const RunRow& b = t.run_row(y);
  const Snapshot::Run& p = s.run(x);
  const Snapshot::Run& q = t.run(y);
  if (!Same(a.status, b.status) || !SameTimes(a.start_time, b.start_time) || !SameTimes(a.end_time, b.end_time) ||
      !SameTimes(a.updated, b.updated) || p.child_names != q.child_names || p.outputs.size() != q.outputs.size()) {
    return false;
  }
  for (std::size_t i = 0; i < p.children.size(); ++i) {
    if (s.RunPath(p.children[i]) != t.RunPath(q.children[i])) return false;
  }
  const auto target = [](const Snapshot& z, const Snapshot::RunOutput& o) {
    return o.step >= 0 && o.output >= 0 ? z.OutputPath(o.step, o.output) : std::string();
  };
  for (std::size_t i = 0; i < p.outputs.size(); ++i) {
    if (p.outputs[i].path_name != q.outputs[i].path_name || target(s, p.outputs[i]) != target(t, q.outputs[i])) {
      return false;
    }
  }
  return SameLogs(s, p.logs, t, q.logs);
}

// Finds the row of `id` in the new picture: first at `at` plus the shift of the last row
// found (rows an incremental read kept stay in order, new rows come after them), else by
// the index. `find` looks up; `id_at(k)` is the new picture's id at k, k < `n`.
template <typename Find, typename IdAt>
int Match(std::size_t at, std::string_view id, std::size_t n, std::ptrdiff_t* shift, Find find, IdAt id_at) {
  const std::ptrdiff_t guess = static_cast<std::ptrdiff_t>(at) + *shift;
  if (guess >= 0 && static_cast<std::size_t>(guess) < n && Same(id_at(static_cast<std::size_t>(guess)), id)) {
    return static_cast<int>(guess);
  }
  const int k = find(id);
  if (k >= 0) *shift = k - static_cast<std::ptrdiff_t>(at);
  return k;
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

// Whether the same steps read a version under the same names (ids: a consumer's path
// changes only with names that are invalidated where they show).
bool SameConsumers(const Snapshot& s, int x, const Snapshot& t, int y) {
  const std::vector<int> a = s.ConsumersOf(x);
  const std::vector<int> b = t.ConsumersOf(y);
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const ArtifactLinkRow& p = s.rows().inputs[static_cast<std::size_t>(a[i])];
    const ArtifactLinkRow& q = t.rows().inputs[static_cast<std::size_t>(b[i])];
    if (!Same(p.step_id, q.step_id) || !Same(p.name, q.name)) return false;
  }
  return true;
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
    const auto producer = [](const Snapshot& s, int version) {
      int output = -1;
      const int step = s.ProducingOutput(version, &output);
      return step >= 0 ? std::string_view(s.step_row(step).id) : std::string_view();
    };
    const auto same = [&] {
      if (a.version_names != b.version_names) return false;
      for (std::size_t i = 0; i < a.versions.size(); ++i) {
        if (!Same(producer(before, a.versions[i]), producer(after, b.versions[i]))) return false;
      }
      return true;
    };
    if (same()) continue;
    const std::uint64_t dir = ino_of({NodeKind::kArtifactDir, "", a.path_name, ""});
    out->push_back({Invalidation::Kind::kInode, dir, ""});
    out->push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kArtifactLatest, "", a.path_name, ""}), ""});
    // Every version's name: one may have turned from a folder into a link.
    std::vector<std::string> names = a.version_names;
    names.insert(names.end(), b.version_names.begin(), b.version_names.end());
    for (const std::string& n : names) out->push_back({Invalidation::Kind::kEntry, dir, n});
  }
  std::ptrdiff_t shift = 0;
  const auto& versions = after.rows().artifact_versions;
  for (std::size_t v = 0; v < before.rows().artifact_versions.size(); ++v) {
    const int version = static_cast<int>(v);
    if (before.ArtifactOf(version).first < 0) continue;
    const std::string_view vid = before.rows().artifact_versions[v].id;
    const int nv = Match(
        v, vid, versions.size(), &shift, [&](std::string_view k) { return after.FindVersion(k); },
        [&](std::size_t k) { return std::string_view(versions[k].id); });
    if (nv < 0 || SameConsumers(before, version, after, nv)) continue;
    const std::string id(vid);
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
  std::ptrdiff_t run_shift = 0, step_shift = 0;
  const auto& runs = after.rows().runs;
  const auto& steps = after.rows().steps;
  for (std::size_t i = 0; i < before.rows().runs.size(); ++i) {
    const int run = static_cast<int>(i);
    if (before.run(run).pipeline < 0) continue;
    const std::string_view rid = before.run_row(run).id;
    const int nrun = Match(
        i, rid, runs.size(), &run_shift, [&](std::string_view k) { return after.FindRun(k); },
        [&](std::size_t k) { return std::string_view(runs[k].id); });
    if (nrun < 0 || after.run(nrun).pipeline < 0) continue;  // gone: its name was invalidated
    const std::string_view id = rid;
    const Snapshot::Run& a = before.run(run);
    const Snapshot::Run& b = after.run(nrun);
    bool changed = !SameRun(before, run, after, nrun);
    // A picture without steps never answered for anything that shows them (SnapshotFor),
    // so the kernel holds nothing of them to forget.
    if (before.scope() != RowScope::kAll) {
      if (changed) Inode(ino_of, NodeKind::kRun, id, &out);
      continue;
    }
    if (a.step_names != b.step_names) {
      DiffNames(ino_of({NodeKind::kStepsDir, std::string(id), "", ""}), a.step_names, b.step_names, &out);
      changed = true;
    }
    for (int st : a.steps) {
      const std::string_view step_id = before.step_row(st).id;
      const int nst = Match(
          static_cast<std::size_t>(st), step_id, steps.size(), &step_shift,
          [&](std::string_view k) { return after.FindStep(k); },
          [&](std::size_t k) { return std::string_view(steps[k].id); });
      if (nst < 0 || after.step(nst).run != nrun) continue;
      if (SameStep(before, st, after, nst)) continue;
      changed = true;
      const std::string sid(step_id);
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
        out.push_back({Invalidation::Kind::kInode, ino_of({NodeKind::kRunLogs, std::string(id), l.path_name, ""}), ""});
      }
      auto optional = [](const Snapshot& x, int r) {
        const Snapshot::Run& xr = x.run(r);
        return OptionalEntries(x, xr.logs, {xr.children.empty() ? "" : "children", xr.outputs.empty() ? "" : "outputs"});
      };
      DiffNames(ino_of({NodeKind::kRun, std::string(id), "", ""}), optional(before, run), optional(after, nrun), &out);
      DiffNames(ino_of({NodeKind::kChildrenDir, std::string(id), "", ""}), RunLinkNames(before, run, false),
                RunLinkNames(after, nrun, false), &out);
      DiffNames(ino_of({NodeKind::kRunOutputsDir, std::string(id), "", ""}), RunLinkNames(before, run, true),
                RunLinkNames(after, nrun, true), &out);
    }
  }
  // %artifacts shows what only a whole picture holds (SnapshotFor): nothing to forget before.
  if (before.scope() == RowScope::kAll) DiffArtifacts(before, after, ino_of, &out);
  return out;
}
}  // namespace zenfs
