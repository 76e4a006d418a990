#include "fs/snapshot.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "fs/names.h"

namespace zenfs {

namespace {

// Directories at least this large get a sorted index; smaller ones are scanned.
constexpr std::size_t kIndexThreshold = 32;

// The first row with an id wins; duplicates (a damaged store) stay unreachable.
template <typename Row>
void IndexById(const std::vector<Row>& rows, PlaceIndex* index) {
  index->Build(rows.size(), [&](int i) { return rows[static_cast<std::size_t>(i)].id; });
}

template <typename Row>
int FindById(const PlaceIndex& index, const std::vector<Row>& rows, std::string_view id) {
  return index.Find(id, [&](int i) { return rows[static_cast<std::size_t>(i)].id; });
}

// The second halves of the pairs whose first is `first`, in a sorted vector of pairs.
std::vector<int> SecondsOf(const std::vector<std::pair<int, int>>& sorted, int first) {
  std::vector<int> out;
  auto it = std::lower_bound(sorted.begin(), sorted.end(), std::pair<int, int>(first, std::numeric_limits<int>::min()));
  for (; it != sorted.end() && it->first == first; ++it) out.push_back(it->second);
  return out;
}

// Moves `part` to the end of `flat` and empties it; the slice of `flat` it now is. `flat`
// has room reserved for every part it receives, so its elements never move.
template <typename T>
Slice<T> Append(std::vector<T>* flat, std::vector<T>* part) {
  const std::size_t at = flat->size();
  for (T& x : *part) flat->push_back(std::move(x));
  std::vector<T>().swap(*part);
  return Slice<T>(flat->data() + at, flat->size() - at);
}

}  // namespace

void NameIndex::Build(Slice<std::string> names) {
  names_ = names;
  index_.reset();
  if (names.size() < kIndexThreshold) return;
  index_ = std::make_unique<PlaceIndex>();
  index_->Build(names.size(), [&](int i) -> std::string_view { return names[static_cast<std::size_t>(i)]; });
}

int NameIndex::Find(std::string_view name) const {
  if (index_ != nullptr) return index_->Find(name, [&](int i) -> std::string_view { return names_[static_cast<std::size_t>(i)]; });
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::shared_ptr<const Snapshot> Snapshot::Build(StoreRows rows, std::uint64_t generation) {
  std::shared_ptr<Snapshot> s(new Snapshot());
  s->generation_ = generation;
  s->rows_ = std::move(rows);
  const StoreRows& r = s->rows_;
  IndexById(r.pipelines, &s->pipeline_by_id_);
  IndexById(r.runs, &s->run_by_id_);
  IndexById(r.steps, &s->step_by_id_);
  IndexById(r.artifact_versions, &s->version_by_id_);
  for (const ArtifactStoreRow& a : r.artifact_stores) {
    s->stores_.emplace(a.id, ArtifactStoreInfo{a.flavor, a.configured_root, a.endpoint_url, a.region_name});
  }

  // Runs into pipelines; runs whose pipeline is gone go to %unlisted. From kPipelines rows,
  // only each pipeline's first run is known, and its runs stay empty.
  struct Group {
    std::vector<int> runs;
    OrderKey first;
  };
  std::unordered_map<int, Group> runs_of;  // pipeline row (-1: unlisted) -> its runs
  s->runs_.resize(r.runs.size());
  // What runs and steps hold several of, gathered here, then packed into the flat arrays
  // their slices view (Pack).
  struct RunParts {
    std::vector<int> steps, children;
    std::vector<std::string> step_names, child_names;
    std::vector<Log> logs;
    std::vector<RunOutput> outputs;
  };
  struct StepParts {
    std::vector<Output> outputs;
    std::vector<std::string> output_names;
    std::vector<int> inputs;
    std::vector<Log> logs;
  };
  std::vector<RunParts> rp(r.runs.size());
  std::vector<StepParts> sp(r.steps.size());
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    if (s->FindRun(r.runs[i].id) != static_cast<int>(i)) continue;  // duplicate id
    runs_of[s->PipelineRowOf(r.runs[i].pipeline_id)].runs.push_back(static_cast<int>(i));
  }
  for (auto& [prow, group] : runs_of) {
    std::sort(group.runs.begin(), group.runs.end(),
              [&](int a, int b) { return s->RunKey(a) < s->RunKey(b); });
    group.first = s->RunKey(group.runs.front());
  }
  for (const FirstRunRow& f : r.first_runs) {
    const OrderKey key = OrderKeyOf(f.start_time, f.created, f.run_id);
    auto [it, fresh] = runs_of.try_emplace(s->PipelineRowOf(f.pipeline_id), Group{{}, key});
    if (!fresh && key < it->second.first) it->second.first = key;
  }
  for (auto& [prow, group] : runs_of) {
    Pipeline p;
    p.row = prow;
    if (prow < 0) {
      p.id = kUnlistedId;
      p.name = kUnlistedId;
    } else {
      p.id = r.pipelines[static_cast<std::size_t>(prow)].id;
      p.name = r.pipelines[static_cast<std::size_t>(prow)].name;
    }
    p.first = group.first;
    p.runs = std::move(group.runs);
    s->pipelines_.push_back(std::move(p));
  }
  std::sort(s->pipelines_.begin(), s->pipelines_.end(),
            [](const Pipeline& a, const Pipeline& b) { return a.first < b.first; });
  std::vector<names::Child> pchildren;
  for (const Pipeline& p : s->pipelines_) {
    if (p.row >= 0) pchildren.push_back({p.name, p.id});
  }
  const std::vector<std::string> pnames = names::AssignNames(pchildren, {"meta.json"});
  for (std::size_t i = 0, j = 0; i < s->pipelines_.size(); ++i) {
    Pipeline& p = s->pipelines_[i];
    p.path_name = p.row >= 0 ? pnames[j++] : std::string(kUnlistedId);
    s->pipeline_names_.push_back(p.path_name);
    std::vector<names::Child> rchildren;
    rchildren.reserve(p.runs.size());
    for (std::size_t k = 0; k < p.runs.size(); ++k) {
      const int run = p.runs[k];
      s->runs_[static_cast<std::size_t>(run)].pipeline = static_cast<int>(i);
      s->runs_[static_cast<std::size_t>(run)].pos = static_cast<int>(k);
      rchildren.push_back({std::string(r.runs[static_cast<std::size_t>(run)].name),
                           std::string(r.runs[static_cast<std::size_t>(run)].id)});
    }
    p.run_names = names::AssignNames(rchildren, RunsDirReserved());
    for (std::size_t k = 0; k < p.runs.size(); ++k) {
      const std::string_view status = r.runs[static_cast<std::size_t>(p.runs[k])].status;
      if (status == "completed") p.latest_completed = static_cast<int>(k);
      if (status == "failed") p.latest_failed = static_cast<int>(k);
    }
  }
  // Indexes point into the vectors they index, so build them once those stop moving.
  s->pipeline_index_.Build(&s->pipeline_names_);
  for (Pipeline& p : s->pipelines_) p.run_index.Build(&p.run_names);

  // Steps into runs, in execution order.
  s->steps_.resize(r.steps.size());
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const int run = s->FindRun(r.steps[i].run_id);
    if (run < 0 || s->FindStep(r.steps[i].id) != static_cast<int>(i)) continue;
    if (s->runs_[static_cast<std::size_t>(run)].pipeline < 0) continue;
    s->steps_[i].run = run;
    rp[static_cast<std::size_t>(run)].steps.push_back(static_cast<int>(i));
    s->steps_[i].original = s->FindStep(r.steps[i].original_step_run_id);
  }
  for (RunParts& run : rp) {
    std::sort(run.steps.begin(), run.steps.end(),
              [&](int a, int b) { return s->StepKey(a) < s->StepKey(b); });
    std::vector<names::Child> children;
    for (std::size_t k = 0; k < run.steps.size(); ++k) s->steps_[static_cast<std::size_t>(run.steps[k])].pos = static_cast<int>(k);
    for (int st : run.steps) {
      children.push_back({std::string(r.steps[static_cast<std::size_t>(st)].name),
                          std::string(r.steps[static_cast<std::size_t>(st)].id)});
    }
    run.step_names = names::AssignNames(children, {});
  }

  // Outputs, inputs and logs onto their steps.
  for (std::size_t i = 0; i < r.outputs.size(); ++i) {
    const int st = s->FindStep(r.outputs[i].step_id);
    if (st < 0 || s->steps_[static_cast<std::size_t>(st)].run < 0) continue;
    const int v = s->FindVersion(r.outputs[i].artifact_version_id);
    sp[static_cast<std::size_t>(st)].outputs.push_back({static_cast<int>(i), v, ""});
    if (v >= 0) s->steps_by_version_.emplace_back(v, st);
  }
  for (std::size_t i = 0; i < r.inputs.size(); ++i) {
    const int st = s->FindStep(r.inputs[i].step_id);
    if (st >= 0) sp[static_cast<std::size_t>(st)].inputs.push_back(static_cast<int>(i));
  }
  // Logs onto their steps, or their runs; the newest row of each name wins.
  auto add_log = [&](std::vector<Log>* logs, int row) {
    const LogRow& lr = r.logs[static_cast<std::size_t>(row)];
    const std::string raw = lr.source.empty() || lr.source == "step" ? "logs" : "logs." + std::string(lr.source);
    const std::string name = names::AssignNames({{raw, ""}}, {}).front();
    for (Log& l : *logs) {
      if (l.path_name != name) continue;
      if (r.logs[static_cast<std::size_t>(l.row)].created < lr.created) l.row = row;
      return;
    }
    logs->push_back({row, name});
  };
  for (std::size_t i = 0; i < r.logs.size(); ++i) {
    if (!r.logs[i].step_run_id.empty()) {
      const int st = s->FindStep(r.logs[i].step_run_id);
      if (st >= 0) add_log(&sp[static_cast<std::size_t>(st)].logs, static_cast<int>(i));
      continue;
    }
    const int run = s->FindRun(r.logs[i].pipeline_run_id);
    if (run >= 0) add_log(&rp[static_cast<std::size_t>(run)].logs, static_cast<int>(i));
  }
  auto sort_logs = [](std::vector<Log>* logs) {
    std::sort(logs->begin(), logs->end(), [](const Log& a, const Log& b) { return a.path_name < b.path_name; });
  };
  for (StepParts& step : sp) sort_logs(&step.logs);
  for (RunParts& run : rp) sort_logs(&run.logs);
  // A chunked input's rows (one name, several versions) keep their input_index order.
  for (StepParts& step : sp) {
    std::stable_sort(step.inputs.begin(), step.inputs.end(), [&](int a, int b) {
      return r.inputs[static_cast<std::size_t>(a)].index < r.inputs[static_cast<std::size_t>(b)].index;
    });
  }
  for (StepParts& step : sp) {
    std::sort(step.outputs.begin(), step.outputs.end(), [&](const Output& a, const Output& b) {
      const ArtifactLinkRow& la = r.outputs[static_cast<std::size_t>(a.link)];
      const ArtifactLinkRow& lb = r.outputs[static_cast<std::size_t>(b.link)];
      if (la.name != lb.name) return la.name < lb.name;
      return la.artifact_version_id < lb.artifact_version_id;
    });
    std::vector<names::Child> children;
    for (const Output& o : step.outputs) {
      const ArtifactLinkRow& l = r.outputs[static_cast<std::size_t>(o.link)];
      children.push_back({std::string(l.name), std::string(l.artifact_version_id)});
    }
    step.output_names = names::AssignNames(children, {});
    for (std::size_t k = 0; k < step.outputs.size(); ++k) step.outputs[k].path_name = step.output_names[k];
  }

  std::sort(s->steps_by_version_.begin(), s->steps_by_version_.end());

  // The producer of each artifact version: the oldest step outputting it that is not a
  // cached copy (falling back to the oldest of all).
  s->producer_.assign(r.artifact_versions.size(), -1);
  for (const auto& [v, st] : s->steps_by_version_) {
    int& best = s->producer_[static_cast<std::size_t>(v)];
    auto copied = [&](int x) { return s->steps_[static_cast<std::size_t>(x)].original >= 0 || r.steps[static_cast<std::size_t>(x)].status == "cached"; };
    if (best < 0 || (copied(best) && !copied(st)) ||
        (copied(best) == copied(st) && s->StepKey(st) < s->StepKey(best))) {
      best = st;
    }
  }
  // %artifacts: the versions grouped by their artifact's name (unique in a project; the
  // versions of an artifact whose row is gone group under ""), each artifact's oldest
  // first; artifacts are named in the order of their oldest versions, then listed by name.
  auto older = [&](int a, int b) {
    const ArtifactVersionRow& x = r.artifact_versions[static_cast<std::size_t>(a)];
    const ArtifactVersionRow& y = r.artifact_versions[static_cast<std::size_t>(b)];
    const Micros cx = x.created.value_or(std::numeric_limits<Micros>::min());
    const Micros cy = y.created.value_or(std::numeric_limits<Micros>::min());
    return cx != cy ? cx < cy : x.id < y.id;
  };
  {
    std::unordered_map<std::string_view, std::size_t> by_name;
    for (std::size_t v = 0; v < r.artifact_versions.size(); ++v) {
      const ArtifactVersionRow& row = r.artifact_versions[v];
      if (s->FindVersion(row.id) != static_cast<int>(v)) continue;  // duplicate id
      auto [it, fresh] = by_name.try_emplace(row.artifact_name, s->artifacts_.size());
      if (fresh) s->artifacts_.emplace_back();
      s->artifacts_[it->second].versions.push_back(static_cast<int>(v));
    }
    for (Artifact& a : s->artifacts_) std::sort(a.versions.begin(), a.versions.end(), older);
    std::sort(s->artifacts_.begin(), s->artifacts_.end(),
              [&](const Artifact& a, const Artifact& b) { return older(a.versions.front(), b.versions.front()); });
    std::vector<names::Child> children;
    for (const Artifact& a : s->artifacts_) {
      const ArtifactVersionRow& first = r.artifact_versions[static_cast<std::size_t>(a.versions.front())];
      children.push_back({std::string(first.artifact_name), std::string(first.id)});
    }
    const std::vector<std::string> shown = names::AssignNames(children, {});
    for (std::size_t i = 0; i < shown.size(); ++i) s->artifacts_[i].path_name = shown[i];
    std::sort(s->artifacts_.begin(), s->artifacts_.end(),
              [](const Artifact& a, const Artifact& b) { return a.path_name < b.path_name; });
    s->artifact_of_.assign(r.artifact_versions.size(), {-1, -1});
    for (std::size_t i = 0; i < s->artifacts_.size(); ++i) {
      Artifact& a = s->artifacts_[i];
      s->artifact_names_.push_back(a.path_name);
      std::vector<names::Child> versions;
      for (std::size_t k = 0; k < a.versions.size(); ++k) {
        const ArtifactVersionRow& row = r.artifact_versions[static_cast<std::size_t>(a.versions[k])];
        versions.push_back({std::string(row.version), std::string(row.id)});
        s->artifact_of_[static_cast<std::size_t>(a.versions[k])] = {static_cast<int>(i), static_cast<int>(k)};
      }
      a.version_names = names::AssignNames(versions, ArtifactDirReserved());
    }
    // Indexes point into the vectors they index: built once those stop moving.
    s->artifact_index_.Build(&s->artifact_names_);
    for (Artifact& a : s->artifacts_) a.version_index.Build(&a.version_names);
  }
  // Consumers: which steps shown read each version.
  for (std::size_t i = 0; i < r.inputs.size(); ++i) {
    const int st = s->FindStep(r.inputs[i].step_id);
    const int v = s->FindVersion(r.inputs[i].artifact_version_id);
    if (st >= 0 && v >= 0 && s->steps_[static_cast<std::size_t>(st)].run >= 0) {
      s->consumers_.emplace_back(v, static_cast<int>(i));
    }
  }
  std::sort(s->consumers_.begin(), s->consumers_.end());
  // Nested runs: each child under its parent, by child key (oldest first for equal keys).
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    Run& child = s->runs_[i];
    if (child.pipeline < 0 || r.runs[i].parent_run_id.empty()) continue;
    const int parent = s->FindRun(r.runs[i].parent_run_id);
    if (parent < 0 || parent == static_cast<int>(i) || s->runs_[static_cast<std::size_t>(parent)].pipeline < 0) continue;
    child.parent = parent;
    rp[static_cast<std::size_t>(parent)].children.push_back(static_cast<int>(i));
  }
  for (RunParts& run : rp) {
    if (run.children.empty()) continue;
    std::sort(run.children.begin(), run.children.end(), [&](int a, int b) { return s->RunKey(a) < s->RunKey(b); });
    std::vector<names::Child> children;
    for (int c : run.children) {
      children.push_back({std::string(r.runs[static_cast<std::size_t>(c)].child_key),
                          std::string(r.runs[static_cast<std::size_t>(c)].id)});
    }
    run.child_names = names::AssignNames(children, {});
  }
  // Into the flat arrays: room for every part first, so that the slices stay valid.
  {
    std::size_t ints = 0, names = 0, outputs = 0, logs = 0;
    for (const RunParts& x : rp) {
      ints += x.steps.size() + x.children.size();
      names += x.step_names.size() + x.child_names.size();
      logs += x.logs.size();
    }
    for (const StepParts& x : sp) {
      ints += x.inputs.size();
      names += x.output_names.size();
      outputs += x.outputs.size();
      logs += x.logs.size();
    }
    s->flat_ints_.reserve(ints);
    s->flat_names_.reserve(names);
    s->flat_outputs_.reserve(outputs);
    s->flat_logs_.reserve(logs);
    for (std::size_t i = 0; i < rp.size(); ++i) {
      Run& run = s->runs_[i];
      run.steps = Append(&s->flat_ints_, &rp[i].steps);
      run.step_names = Append(&s->flat_names_, &rp[i].step_names);
      run.step_index.Build(run.step_names);
      run.children = Append(&s->flat_ints_, &rp[i].children);
      run.child_names = Append(&s->flat_names_, &rp[i].child_names);
      run.logs = Append(&s->flat_logs_, &rp[i].logs);
    }
    for (std::size_t i = 0; i < sp.size(); ++i) {
      Step& step = s->steps_[i];
      step.outputs = Append(&s->flat_outputs_, &sp[i].outputs);
      step.output_names = Append(&s->flat_names_, &sp[i].output_names);
      step.output_index.Build(step.output_names);
      step.inputs = Append(&s->flat_ints_, &sp[i].inputs);
      step.logs = Append(&s->flat_logs_, &sp[i].logs);
    }
    std::vector<StepParts>().swap(sp);
  }
  // Named pipeline outputs: each links to the first step of its run (in execution order)
  // that output that artifact version.
  for (std::size_t i = 0; i < r.pipeline_outputs.size(); ++i) {
    const int run = s->FindRun(r.pipeline_outputs[i].run_id);
    if (run < 0 || s->runs_[static_cast<std::size_t>(run)].pipeline < 0) continue;
    RunOutput o;
    o.row = static_cast<int>(i);
    const int v = s->FindVersion(r.pipeline_outputs[i].artifact_version_id);
    if (v >= 0) {
      const std::vector<int> holders = s->StepsWithOutput(run, v);
      if (!holders.empty()) {
        o.step = holders.front();
        o.output = s->FindOutput(o.step, r.pipeline_outputs[i].artifact_version_id);
      }
    }
    rp[static_cast<std::size_t>(run)].outputs.push_back(std::move(o));
  }
  for (RunParts& run : rp) {
    if (run.outputs.empty()) continue;
    std::sort(run.outputs.begin(), run.outputs.end(), [&](const RunOutput& a, const RunOutput& b) {
      const PipelineOutputRow& x = r.pipeline_outputs[static_cast<std::size_t>(a.row)];
      const PipelineOutputRow& y = r.pipeline_outputs[static_cast<std::size_t>(b.row)];
      return x.index != y.index ? x.index < y.index : x.name < y.name;
    });
    std::vector<names::Child> outputs;
    for (const RunOutput& o : run.outputs) {
      const PipelineOutputRow& row = r.pipeline_outputs[static_cast<std::size_t>(o.row)];
      outputs.push_back({std::string(row.name), std::string(row.artifact_version_id)});
    }
    const std::vector<std::string> shown = names::AssignNames(outputs, {});
    for (std::size_t k = 0; k < shown.size(); ++k) run.outputs[k].path_name = shown[k];
  }
  std::size_t run_outputs = 0;
  for (const RunParts& x : rp) run_outputs += x.outputs.size();
  s->flat_run_outputs_.reserve(run_outputs);
  for (std::size_t i = 0; i < rp.size(); ++i) s->runs_[i].outputs = Append(&s->flat_run_outputs_, &rp[i].outputs);
  return s;
}

const Snapshot::Log* Snapshot::FindLog(Slice<Log> logs, std::string_view path_name) {
  for (const Log& l : logs) {
    if (l.path_name == path_name) return &l;
  }
  return nullptr;
}

std::string Snapshot::LogSource(int row) const {
  const Text source = rows_.logs[static_cast<std::size_t>(row)].source;
  return source.empty() ? std::string("step") : std::string(source);
}

OrderKey Snapshot::RunKey(int run) const {
  const RunRow& row = rows_.runs[static_cast<std::size_t>(run)];
  return OrderKeyOf(row.start_time, row.created, row.id);
}

OrderKey Snapshot::StepKey(int step) const {
  const StepRow& row = rows_.steps[static_cast<std::size_t>(step)];
  return OrderKeyOf(row.start_time, row.created, row.id);
}

int Snapshot::FindPipeline(std::string_view id) const {
  for (std::size_t i = 0; i < pipelines_.size(); ++i) {
    if (pipelines_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}
int Snapshot::PipelineRowOf(std::string_view id) const { return FindById(pipeline_by_id_, rows_.pipelines, id); }
int Snapshot::FindRun(std::string_view id) const { return FindById(run_by_id_, rows_.runs, id); }
int Snapshot::FindStep(std::string_view id) const { return FindById(step_by_id_, rows_.steps, id); }
int Snapshot::FindVersion(std::string_view id) const { return FindById(version_by_id_, rows_.artifact_versions, id); }

int Snapshot::FindOutput(int step, std::string_view version_id) const {
  const Step& st = steps_[static_cast<std::size_t>(step)];
  for (std::size_t k = 0; k < st.outputs.size(); ++k) {
    if (rows_.outputs[static_cast<std::size_t>(st.outputs[k].link)].artifact_version_id == version_id) {
      return static_cast<int>(k);
    }
  }
  return -1;
}

int Snapshot::ProducerOf(int version) const {
  if (version < 0 || static_cast<std::size_t>(version) >= producer_.size()) return -1;
  return producer_[static_cast<std::size_t>(version)];
}

std::pair<int, int> Snapshot::ArtifactOf(int version) const {
  if (version < 0 || static_cast<std::size_t>(version) >= artifact_of_.size()) return {-1, -1};
  return artifact_of_[static_cast<std::size_t>(version)];
}

int Snapshot::ProducingOutput(int version, int* output) const {
  const int step = ProducerOf(version);
  if (step < 0 || steps_[static_cast<std::size_t>(step)].run < 0) return -1;
  *output = FindOutput(step, rows_.artifact_versions[static_cast<std::size_t>(version)].id);
  return *output >= 0 ? step : -1;
}

std::string Snapshot::VersionPath(int version) const {
  const auto [a, k] = ArtifactOf(version);
  if (a < 0) return "";
  const Artifact& art = artifacts_[static_cast<std::size_t>(a)];
  return "%artifacts/" + art.path_name + "/" + art.version_names[static_cast<std::size_t>(k)];
}

std::string Snapshot::VersionHome(int version) const {
  int output = -1;
  const int step = ProducingOutput(version, &output);
  return step >= 0 ? OutputPath(step, output) : VersionPath(version);
}

std::vector<int> Snapshot::ConsumersOf(int version) const { return SecondsOf(consumers_, version); }

std::vector<int> Snapshot::StepsWithOutput(int version) const { return SecondsOf(steps_by_version_, version); }

std::vector<int> Snapshot::StepsWithOutput(int run, int version) const {
  std::vector<int> out = StepsWithOutput(version);
  std::erase_if(out, [&](int st) { return steps_[static_cast<std::size_t>(st)].run != run; });
  std::sort(out.begin(), out.end(), [&](int a, int c) { return StepKey(a) < StepKey(c); });
  return out;
}

std::string Snapshot::RunPath(int run) const {
  const Run& r = runs_[static_cast<std::size_t>(run)];
  const Pipeline& p = pipelines_[static_cast<std::size_t>(r.pipeline)];
  return p.path_name + "/runs/" + p.run_names[static_cast<std::size_t>(r.pos)];
}

std::string Snapshot::StepPath(int step) const {
  const Step& st = steps_[static_cast<std::size_t>(step)];
  const Run& r = runs_[static_cast<std::size_t>(st.run)];
  return RunPath(st.run) + "/steps/" + r.step_names[static_cast<std::size_t>(st.pos)];
}

std::string Snapshot::OutputPath(int step, int output) const {
  return StepPath(step) + "/outputs/" +
         steps_[static_cast<std::size_t>(step)].outputs[static_cast<std::size_t>(output)].path_name;
}

const std::vector<std::string>& Snapshot::RunsDirReserved() {
  static const std::vector<std::string> reserved{"latest", "latest-completed", "latest-failed"};
  return reserved;
}

const std::vector<std::string>& Snapshot::ArtifactDirReserved() {
  static const std::vector<std::string> reserved{"latest"};
  return reserved;
}

int Snapshot::LatestWithStatus(const Pipeline& p, std::string_view status) {
  if (status == "completed") return p.latest_completed;
  if (status == "failed") return p.latest_failed;
  return -1;
}

ArtifactStoreInfo Snapshot::StoreOf(std::string_view artifact_store_id) const {
  auto it = stores_.find(artifact_store_id);
  return it == stores_.end() ? ArtifactStoreInfo{} : it->second;
}

}  // namespace zenfs
