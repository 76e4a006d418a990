#include "store/rest_catalog.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "store/json_limits.h"
#include "store/sql_catalog.h"

namespace zenfs {

namespace {

using json = nlohmann::ordered_json;

// The largest page a ZenML server gives (PAGE_SIZE_MAXIMUM; more is a 422).
constexpr int kPageSize = 10000;

// How long one page of a list may take, sending nothing until it is whole: a ZenML 0.74
// server computes a page of 10,000 unhydrated runs in 5 minutes on a loaded 2-core
// machine (scripts/bench-server.sh), so the --rest-timeout that bounds details would fail
// every large store. A stalled list delays only the picture's next load (one reader, or
// the refresher): what is loaded keeps answering meanwhile, and details, the change poll
// and logins keep their short bounds.
constexpr std::chrono::milliseconds kPageWait = std::chrono::minutes(30);

// Lists of more than 200 items are read in pages of at most 2,000, 3 at once: below the
// client's 4 requests in flight, so a `meta.json` read during a reload still finds a
// connection, and at most 3 pages' JSON (2,000 hydrated runs: about 10 MB of text) held.
constexpr RestCatalog::Paging kPaging{200, 2000, 3};

// The field `key` of object `j`, or null.
const json& At(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

// An artifact version's version: a string in ZenML's API; a number is taken as its digits.
std::string VersionText(const json& j) {
  if (j.is_number_integer()) return j.dump();
  return Str(j);
}

std::optional<std::string> OptStr(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  return std::nullopt;
}

// JSON text of a value the server sends as an object (a configuration, a materializer's
// source): what the SQL store keeps in its column (keys in the server's order, which is
// ZenML's model order, as stored). null is absent.
std::optional<std::string> OptDump(const json& j) {
  if (j.is_null()) return std::nullopt;
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

std::optional<Micros> TimeOf(const json& j) {
  if (!j.is_string()) return std::nullopt;
  return ParseStoreTime(j.get<std::string>());
}

// An entity's id as the SQL store keeps it (32 hex digits).
std::string IdOf(const json& entity) { return UndashedId(Str(At(entity, "id"))); }

Text KeepId(StoreRows& rows, const json& entity) { return rows.text->Keep(IdOf(entity)); }
Text KeepStr(StoreRows& rows, const json& j) { return rows.text->Keep(Str(j)); }

// run_metadata as a hydrated entity carries it: {key: value}. The server keeps the latest
// value of each key (what MetadataObject shows of the SQL rows too); it names no type or
// time, so the keys come in the server's order, not the SQL catalog's oldest-first (the
// same object, its keys in another order; 0.74 has no list of metadata to order them by).
void AddMetadata(const json& run_metadata, std::vector<MetadataRow>* out) {
  if (!run_metadata.is_object()) return;
  for (const auto& [key, value] : run_metadata.items()) out->push_back({key, value.dump(), "", std::nullopt});
}

// A hydrated run's own metadata. The server adds its steps' as "<step>::<key>" (what
// ZenML's client shows); the SQL catalog gives the run's own rows only and the tree adds
// the steps' itself, so those keys are left out here.
void AddRunMetadata(const json& run_meta, std::vector<MetadataRow>* out) {
  const json& all = At(run_meta, "run_metadata");
  const json& steps = At(run_meta, "steps");
  if (!all.is_object()) return;
  for (const auto& [key, value] : all.items()) {
    const std::size_t sep = key.find("::");
    if (sep != std::string::npos && steps.is_object() && steps.contains(key.substr(0, sep))) continue;
    out->push_back({key, value.dump(), "", std::nullopt});
  }
}

}  // namespace

RestCatalog::RestCatalog(std::unique_ptr<RestSession> session)
    : session_(std::move(session)),
      paging_(kPaging),
      projects_(session_->major_version() > 0 || session_->minor_version() >= 80) {}

RestCatalog::~RestCatalog() = default;

Result<std::unique_ptr<RestCatalog>> RestCatalog::Open(std::unique_ptr<RestSession> session) {
  // The dialects: 0.74 (workspaces, no projects) up to 0.79 speak as recorded in
  // api-0.74.md; 0.80 to 0.89 scope pipelines, runs, steps and artifact versions by
  // project (the `project` filter of ZenML's ProjectScopedFilter, which those lists
  // always apply; GET /projects lists them). 0.90 renamed deployments to
  // snapshots, which a run's details read: not spoken yet, so refused rather than shown
  // with details missing.
  // What 0.90+ changes for the calls made here was read in zenml-io/zenml through the
  // code index (README "What newer servers change"): the newest
  // src/zenml/models/v2/core/pipeline_run.py (index id 54870541779: body.pipeline_id,
  // metadata without steps, snapshot/pipeline/outputs/log_collection in resources), the
  // newest src/zenml/models/v2/core/step_run.py (id 39030370058: inputs and outputs in
  // resources, metadata.snapshot_id), ProjectScopedFilter in
  // src/zenml/models/v2/base/scoped.py (id 446359952: the `project` filter), and
  // zenml-io/zenml-dashboard's route table (id 23204979259: /pipeline_snapshots/{id}).
  // The only older versions indexed are 0.6x/0.7x (WorkspaceScoped, e.g. commit
  // 004344c7a842be0ad95b296217160d6c6e025ae9): which release between 0.80 and 0.97 made
  // each move is not known, so no version-keyed mapping is written from it.
  const int major = session->major_version(), minor = session->minor_version();
  if (major == 0 && minor < 60) {
    return Status::Unsupported(session->Describe() + ": ZenML server " + session->version() +
                               " is older than the API zenfs speaks (0.74 to 0.89)");
  }
  if (major > 0 || minor >= 90) {
    return Status::Unsupported(session->Describe() + ": ZenML server " + session->version() +
                               ": zenfs speaks the REST API of ZenML 0.74 to 0.89 (0.90 renamed deployments to "
                               "snapshots); mount its database instead");
  }
  return std::unique_ptr<RestCatalog>(new RestCatalog(std::move(session)));
}

Result<json> RestCatalog::GetOne(const std::string& path) { return session_->Get(path); }

template <typename F>
Status RestCatalog::ForEachItem(const std::string& path, const std::string& query, bool project_scoped, F&& item) {
  std::string q = query;
  if (project_scoped && projects_ && !project_id_.empty()) {
    q += (q.empty() ? "" : "&") + std::string("project=") + http::PercentEncode(project_id_);
  }
  // Oldest first, so a run created while the pages are read lands on the last page.
  const std::string base = path + "?" + q + (q.empty() ? "" : "&") + "sort_by=asc:created&size=";
  struct Page {
    json items;
    int total_pages = 0;
    int total = -1;  // items in the whole list, when the server says
  };
  auto get = [&](int size, int page) -> Result<Page> {
    auto j = session_->Get(base + std::to_string(size) + "&page=" + std::to_string(page), kPageWait);
    if (!j.ok()) return j.status();
    Page out;
    const json& pages = At(*j, "total_pages");
    out.items = std::move((*j)["items"]);
    if (!out.items.is_array() || !pages.is_number_integer()) {
      return Status::Corruption(Describe() + ": GET " + path + ": not a page of items");
    }
    out.total_pages = pages.get<int>();
    const json& total = At(*j, "total");
    if (total.is_number_integer()) out.total = total.get<int>();
    return out;
  };
  // How many items there are, from a one-item page: a small list is read in one page; a
  // large one in pages fetched several at a time, the server's one process
  // overlapping its database work with its JSON (4 pages of 250 hydrated runs at once
  // took 0.57x the time of one page of 1,000: README, "Over a ZenML server").
  auto probe = get(1, 1);
  if (!probe.ok()) return probe.status();
  const int total = probe->total;
  if (total <= paging_.one_page_items) {
    for (int page = 1;; ++page) {
      auto p = get(kPageSize, page);
      if (!p.ok()) return p.status();
      for (const json& it : p->items) {
        if (it.is_object()) item(it);
      }
      if (page >= p->total_pages || p->items.empty()) return Status::Ok();
    }
  }
  const int parallel = std::max(1, paging_.parallel);
  const int size = std::max(1, std::min(paging_.page_items, (total + parallel - 1) / parallel));
  // A row deleted while the pages are read moves later rows one place up, so a row can
  // show on two pages (or, as with sequential pages, be missed until the next reload):
  // each id is taken once.
  std::unordered_set<std::string> seen;
  std::deque<std::future<Result<Page>>> pending;
  int next = 1;
  auto launch = [&] {
    const int page = next++;
    pending.push_back(std::async(std::launch::async, [&get, size, page] { return get(size, page); }));
  };
  const int planned = (total + size - 1) / size;
  while (next <= planned && static_cast<int>(pending.size()) < parallel) launch();
  Status status;
  for (int page = 1; !pending.empty(); ++page) {
    Result<Page> p = pending.front().get();  // the rest finish before this returns
    pending.pop_front();
    if (!status.ok()) continue;
    if (!p.ok()) {
      status = p.status();
      continue;
    }
    for (const json& it : p->items) {
      if (!it.is_object()) continue;
      const std::string id = Str(At(it, "id"));
      if (!id.empty() && !seen.insert(id).second) continue;
      item(it);
    }
    // Rows created meanwhile make more pages than planned: read on until the last.
    const bool more = page < p->total_pages && !p->items.empty();
    if (next <= planned || (more && pending.empty())) launch();
  }
  return status;
}

Result<std::vector<ProjectRow>> RestCatalog::ListProjects() {
  std::vector<ProjectRow> out;
  if (!projects_) return out;  // 0.74: workspaces, which SPEC's projects rule ignores
  Status s = ForEachItem("/projects", "hydrate=false", false, [&](const json& p) {
    out.push_back({IdOf(p), Str(At(p, "name"))});
  });
  if (!s.ok()) return s;
  std::sort(out.begin(), out.end(),
            [](const ProjectRow& a, const ProjectRow& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
  return out;
}

// The structure, from paged lists. What 0.74's unhydrated lists lack, and how it is got:
//  - a run's start and end time are in its metadata only: runs are listed hydrated. That
//    also makes the server load each run's steps; the alternative (a hydrated GET per run)
//    costs a request per run.
//  - a step's run (pipeline_run_id), its original (cached steps) and its logs are in its
//    metadata only, and 0.74 has no list of logs: steps are listed hydrated (about 1.6
//    times the bytes of the unhydrated list on the genuine sample), one list instead of a
//    request per run.
//  - a log names its artifact store in its own metadata only (a GET per log): it is
//    taken to be the store's only artifact store when there is exactly one, the case of
//    every local and most remote stacks; otherwise none (then --artifact-root finds it).
// The rest (pipelines, artifact versions) comes unhydrated. kPipelines reads the runs
// too: their first run per pipeline needs the start times, which only the hydrated list
// has. Having paid for them, it keeps them: asked for kPipelines, it answers kRuns (first
// runs included), so a mount lists the runs once, not twice (the hydrated list is most of
// a mount's time on a large server: scripts/bench-server.sh halved `mount; ls runs/`).
Result<StoreRows> RestCatalog::LoadRows(RowScope scope) {
  StoreRows rows;
  rows.scope = scope;
  // ZenML's alembic revision is its release number (0.74.0), so the server's version is
  // what the SQL catalog reads from alembic_version.
  rows.schema_version = session_->version();
  auto projects = ListProjects();
  if (!projects.ok()) return projects.status();
  rows.projects = std::move(*projects);
  rows.project_id = project_id_;
  Status s = ForEachItem("/pipelines", "hydrate=false", true, [&](const json& p) {
    const json& body = At(p, "body");
    rows.pipelines.push_back(
        {KeepId(rows, p), KeepStr(rows, At(p, "name")), TimeOf(At(body, "created")), TimeOf(At(body, "updated"))});
  });
  if (!s.ok()) return s;
  std::vector<RunRow> runs;
  s = ForEachItem("/runs", "hydrate=true", true, [&](const json& r) {
    const json& body = At(r, "body");
    const json& meta = At(r, "metadata");
    runs.push_back({KeepId(rows, r), KeepStr(rows, At(r, "name")), KeepId(rows, At(body, "pipeline")),
                    KeepStr(rows, At(body, "status")), TimeOf(At(meta, "start_time")), TimeOf(At(meta, "end_time")),
                    TimeOf(At(body, "created")), TimeOf(At(body, "updated"))});
  });
  if (!s.ok()) return s;
  if (scope == RowScope::kPipelines) {
    rows.scope = RowScope::kRuns;
    std::unordered_map<std::string_view, std::size_t> by_pipeline;
    for (const RunRow& r : runs) {
      auto [it, fresh] = by_pipeline.emplace(r.pipeline_id, rows.first_runs.size());
      if (fresh) {
        rows.first_runs.push_back({std::string(r.pipeline_id), std::string(r.id), r.start_time, r.created});
        continue;
      }
      FirstRunRow& best = rows.first_runs[it->second];
      if (OrderKeyOf(r.start_time, r.created, r.id) < OrderKeyOf(best.start_time, best.created, best.run_id)) {
        best.run_id = std::string(r.id);
        best.start_time = r.start_time;
        best.created = r.created;
      }
    }
  }
  rows.runs = std::move(runs);
  s = ForEachItem("/components", "type=artifact_store&hydrate=true", false, [&](const json& c) {
    const json& cfg = At(At(c, "metadata"), "configuration");
    // The flavor and the S3 flavor's client_kwargs, as the SQL catalog reads them
    // (store/s3_artifact_source.h); ZenML names the flavor flavor_name, older servers flavor.
    const json& body = At(c, "body");
    const std::string flavor = Str(At(body, "flavor_name")).empty() ? Str(At(body, "flavor")) : Str(At(body, "flavor_name"));
    const json& kwargs = At(cfg, "client_kwargs");
    rows.artifact_stores.push_back(
        {IdOf(c), Str(At(cfg, "path")), flavor, Str(At(kwargs, "endpoint_url")), Str(At(kwargs, "region_name"))});
  });
  if (!s.ok()) return s;
  if (scope != RowScope::kAll) return rows;
  const Text only_store = rows.artifact_stores.size() == 1 ? rows.text->Keep(rows.artifact_stores[0].id) : Text("");
  s = ForEachItem("/steps", "hydrate=true", true, [&](const json& st) {
    const json& body = At(st, "body");
    const json& meta = At(st, "metadata");
    const Text id = KeepId(rows, st);
    rows.steps.push_back({id, rows.text->Keep(UndashedId(Str(At(meta, "pipeline_run_id")))),
                          KeepStr(rows, At(st, "name")), KeepStr(rows, At(body, "status")),
                          rows.text->Keep(UndashedId(Str(At(meta, "original_step_run_id")))),
                          TimeOf(At(body, "start_time")), TimeOf(At(body, "end_time")), TimeOf(At(body, "created")),
                          TimeOf(At(body, "updated"))});
    const json& outputs = At(body, "outputs");
    if (outputs.is_object()) {
      for (const auto& [name, versions] : outputs.items()) {
        // 0.74 sends a list per name; a single version is taken too.
        const Text n = rows.text->Keep(name);
        if (versions.is_array()) {
          for (const json& v : versions) rows.outputs.push_back({id, n, KeepId(rows, v)});
        } else if (versions.is_object()) {
          rows.outputs.push_back({id, n, KeepId(rows, versions)});
        }
      }
    }
    const json& inputs = At(body, "inputs");
    if (inputs.is_object()) {
      for (const auto& [name, v] : inputs.items()) {
        if (v.is_object()) rows.inputs.push_back({id, rows.text->Keep(name), KeepId(rows, v)});
      }
    }
    const json& logs = At(meta, "logs");
    if (logs.is_object()) {
      const json& lb = At(logs, "body");
      const json& uri = At(lb, "uri");
      rows.logs.push_back({KeepId(rows, logs), KeepStr(rows, uri), id, only_store, TimeOf(At(lb, "created")),
                           TimeOf(At(lb, "updated")), "", "", uri.is_string()});
    }
  });
  if (!s.ok()) return s;
  // The unhydrated list carries the artifact's name (body.artifact, nested) and the version.
  TextInterner names(*rows.text);
  s = ForEachItem("/artifact_versions", "hydrate=false", true, [&](const json& v) {
    const json& body = At(v, "body");
    rows.artifact_versions.push_back({KeepId(rows, v), KeepStr(rows, At(body, "uri")),
                                      rows.text->Keep(UndashedId(Str(At(body, "artifact_store_id")))),
                                      TimeOf(At(body, "created")), TimeOf(At(body, "updated")), "",
                                      names.Keep(Str(At(At(body, "artifact"), "name"))),
                                      names.Keep(VersionText(At(body, "version")))});
  });
  if (!s.ok()) return s;
  return rows;
}

// What moved since the last poll, in four small requests (size=1, unhydrated): the
// totals of the lists (a deletion lowers one) and the newest `updated` of runs and steps
// (a new or changed run or step raises it). ZenML's `updated=gte:` filter takes whole
// seconds only, so the newest value itself (sort_by=desc:updated) is compared: exact to
// the microsecond, and as cheap.
Result<std::string> RestCatalog::Fingerprint() {
  std::string fp;
  struct Probe {
    const char* path;
    bool newest;
  };
  for (const Probe& p : {Probe{"/runs", true}, Probe{"/steps", true}, Probe{"/pipelines", false},
                         Probe{"/artifact_versions", false}}) {
    std::string q = std::string(p.path) + "?hydrate=false&size=1";
    if (projects_ && !project_id_.empty()) q += "&project=" + http::PercentEncode(project_id_);
    if (p.newest) q += "&sort_by=desc:updated";
    auto j = session_->Get(q);
    if (!j.ok()) return j.status();
    const json& total = At(*j, "total");
    if (!total.is_number_integer()) return Status::Corruption(Describe() + ": GET " + p.path + ": no total");
    fp += std::to_string(total.get<std::int64_t>()) + "/";
    if (p.newest) {
      const json& items = At(*j, "items");
      if (items.is_array() && !items.empty()) fp += Str(At(At(items[0], "body"), "updated"));
      fp += "/";
    }
  }
  return fp;
}

Result<std::int64_t> RestCatalog::ChangeCounter() {
  auto fp = Fingerprint();
  if (!fp.ok()) return fp.status();
  std::lock_guard<std::mutex> lock(counter_mu_);
  if (*fp != fingerprint_) {
    fingerprint_ = std::move(*fp);
    ++counter_;
  }
  return counter_;
}

Result<std::shared_ptr<const RestCatalog::Deployment>> RestCatalog::DeploymentOf(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(deployment_mu_);
    auto it = deployments_.find(id);
    if (it != deployments_.end()) return it->second;
  }
  auto j = GetOne("/pipeline_deployments/" + http::PercentEncode(id));
  if (!j.ok()) return j.status();
  const json& meta = At(*j, "metadata");
  auto d = std::make_shared<Deployment>();
  d->pipeline_configuration = OptDump(At(meta, "pipeline_configuration"));
  d->run_name_template = OptStr(At(meta, "run_name_template"));
  d->code_path = OptStr(At(meta, "code_path"));
  const json& spec = At(meta, "pipeline_spec");
  // The SQL catalog re-dumps the stored spec's source with sorted keys: so here too.
  if (spec.is_object() && spec.contains("source")) d->pipeline_source = nlohmann::json::parse(spec["source"].dump()).dump();
  const json& code_ref = At(meta, "code_reference");
  if (code_ref.is_object()) d->git_sha = OptStr(At(At(code_ref, "body"), "commit"));
  const json& schedule = At(meta, "schedule");
  if (schedule.is_object()) d->schedule_id = IdOf(schedule);
  const json& steps = At(meta, "step_configurations");
  if (steps.is_object()) {
    for (const auto& [name, value] : steps.items()) d->step_configs.emplace(name, value.dump());
  }
  std::lock_guard<std::mutex> lock(deployment_mu_);
  if (deployments_.size() >= kDeploymentCap) deployments_.clear();
  deployments_.emplace(id, d);
  return std::shared_ptr<const Deployment>(d);
}

// As the SQL catalog: the deployment's configuration, name template, code path, source
// and commit; the run's own orchestrator run id, schedule and metadata. 0.74 has no run
// index and no in_progress flag.
Status RestCatalog::GetRunDetail(const std::string& run_id, RunDetail* out) {
  auto j = GetOne("/runs/" + http::PercentEncode(run_id));
  if (!j.ok()) return j.status();
  const json& body = At(*j, "body");
  const json& meta = At(*j, "metadata");
  out->orchestrator_run_id = OptStr(At(meta, "orchestrator_run_id"));
  const json& schedule = At(body, "schedule");
  if (schedule.is_object()) out->schedule_id = IdOf(schedule);
  const std::string deployment_id = UndashedId(Str(At(body, "deployment_id")));
  if (!deployment_id.empty()) {
    auto d = DeploymentOf(deployment_id);
    if (!d.ok() && d.status().code() != Status::Code::kNotFound) return d.status();
    if (d.ok()) {
      out->pipeline_configuration = (*d)->pipeline_configuration;
      out->run_name_template = (*d)->run_name_template;
      out->code_path = (*d)->code_path;
      out->pipeline_source = (*d)->pipeline_source;
      out->git_sha = (*d)->git_sha;
      if ((*d)->schedule_id) out->schedule_id = (*d)->schedule_id;
    }
  } else {
    out->pipeline_configuration = OptDump(At(meta, "config"));
  }
  AddRunMetadata(meta, &out->metadata);
  return Status::Ok();
}

Status RestCatalog::GetStepDetail(const std::string& step_id, const std::string& step_name, StepDetail* out) {
  auto j = GetOne("/steps/" + http::PercentEncode(step_id));
  if (!j.ok()) return j.status();
  const json& meta = At(*j, "metadata");
  out->docstring = OptStr(At(meta, "docstring"));
  out->source_code = OptStr(At(meta, "source_code"));
  out->cache_key = OptStr(At(meta, "cache_key"));
  // The deployment's entry for the step, as the SQL catalog reads it; else the step's own
  // configuration (what the entry holds under "config").
  const std::string deployment_id = UndashedId(Str(At(meta, "deployment_id")));
  if (!deployment_id.empty()) {
    auto d = DeploymentOf(deployment_id);
    if (!d.ok() && d.status().code() != Status::Code::kNotFound) return d.status();
    if (d.ok()) {
      auto it = (*d)->step_configs.find(step_name);
      if (it != (*d)->step_configs.end()) out->step_config = it->second;
    }
  }
  if (!out->step_config && At(meta, "config").is_object()) out->step_config = json{{"config", meta["config"]}}.dump();
  AddMetadata(At(meta, "run_metadata"), &out->metadata);
  return Status::Ok();
}

Status RestCatalog::GetArtifactDetail(const std::string& version_id, ArtifactDetail* out) {
  auto j = GetOne("/artifact_versions/" + http::PercentEncode(version_id));
  if (!j.ok()) {
    if (j.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("artifact version " + version_id + " is gone");
    }
    return j.status();
  }
  const json& body = At(*j, "body");
  out->artifact_name = Str(At(At(body, "artifact"), "name"));
  out->version = Str(At(body, "version"));
  out->type = Str(At(body, "type"));
  out->materializer = OptDump(At(body, "materializer")).value_or("");
  out->data_type = OptDump(At(body, "data_type")).value_or("");
  AddMetadata(At(At(*j, "metadata"), "run_metadata"), &out->metadata);
  // Unhydrated visualizations, in the order /visualize?index=N counts.
  const json& vis = At(At(*j, "metadata"), "visualizations");
  if (vis.is_array()) {
    for (const json& v : vis) {
      const json& vb = At(v, "body");
      out->visualizations.push_back({Str(At(vb, "type")), Str(At(vb, "uri"))});
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<const std::string>> RestCatalog::ServedBytes(ServedResource what, const std::string& id,
                                                                    std::size_t index) {
  const bool logs = what == ServedResource::kStepLogs;
  const std::string key = (logs ? "l" : "v") + id + "/" + std::to_string(index);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(served_mu_);
    auto it = served_.find(key);
    if (it != served_.end() &&
        (!it->second.expires || now - it->second.fetched < std::chrono::duration<double>(kServedLogSeconds))) {
      return it->second.bytes;
    }
  }
  auto bytes = FetchServed(what, id, index);
  if (!bytes.ok()) return bytes.status();
  std::lock_guard<std::mutex> lock(served_mu_);
  if (auto it = served_.find(key); it != served_.end()) {
    served_bytes_ -= it->second.bytes->size();
    served_.erase(it);
  }
  if (served_bytes_ + (*bytes)->size() > kServedCacheBytes) {
    served_.clear();  // open files keep their own reference
    served_bytes_ = 0;
  }
  served_.emplace(key, Served{*bytes, now, logs});
  served_bytes_ += (*bytes)->size();
  return *bytes;
}

Result<std::shared_ptr<const std::string>> RestCatalog::FetchServed(ServedResource what, const std::string& id,
                                                                    std::size_t index) {
  const std::string too_large = "larger than zenfs reads through the server (" +
                                std::to_string(kMaxServedBytes >> 20) + " MiB)";
  if (what == ServedResource::kStepLogs) {
    auto j = session_->Get("/steps/" + http::PercentEncode(id) + "/logs?offset=0&length=" +
                           std::to_string(kMaxServedBytes + 1));
    if (!j.ok()) return j.status();
    if (!j->is_string()) return Status::IOError("the server's logs of step " + id + " are not text");
    auto text = std::make_shared<const std::string>(j->get<std::string>());
    if (text->size() > kMaxServedBytes) return Status::IOError("the logs of step " + id + " are " + too_large);
    return text;
  }
  auto j = session_->Get("/artifact_versions/" + http::PercentEncode(id) + "/visualize?index=" + std::to_string(index));
  if (!j.ok()) return j.status();
  const json& value = At(*j, "value");
  if (!value.is_string()) return Status::IOError("the server sent no visualization value");
  std::string bytes = value.get<std::string>();
  if (Str(At(*j, "type")) == "image") {
    auto decoded = DecodeBase64(bytes);
    if (!decoded) return Status::IOError("the server's image visualization is not base64");
    bytes = std::move(*decoded);
  }
  if (bytes.size() > kMaxServedBytes) return Status::IOError("the visualization is " + too_large);
  return std::make_shared<const std::string>(std::move(bytes));
}

Status RestCatalog::GetMetadata(std::string_view resource_type, const std::string& resource_id,
                                std::vector<MetadataRow>* out) {
  std::string path;
  const bool run = resource_type == "pipeline_run";
  if (run) path = "/runs/";
  else if (resource_type == "step_run") path = "/steps/";
  else if (resource_type == "artifact_version") path = "/artifact_versions/";
  else return Status::Ok();  // no other resource carries metadata zenfs shows
  auto j = GetOne(path + http::PercentEncode(resource_id));
  if (!j.ok()) return j.status();
  if (run) {
    AddRunMetadata(At(*j, "metadata"), out);
  } else {
    AddMetadata(At(At(*j, "metadata"), "run_metadata"), out);
  }
  return Status::Ok();
}

}  // namespace zenfs
