#include "fs/meta.h"

#include <algorithm>

#include "fs/names.h"
#include "store/json_limits.h"

namespace zenfs::meta {

using json = nlohmann::ordered_json;

namespace {

json Time(const std::optional<Micros>& t) {
  if (!t) return nullptr;
  return FormatIsoTime(*t);
}

json Opt(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}

json ParsedOrNull(const std::optional<std::string>& text) {
  if (!text || text->empty()) return nullptr;
  json j = ParseStoreJson<json>(*text);
  if (j.is_discarded()) return *text;
  return j;
}

json Duration(const std::optional<Micros>& start, const std::optional<Micros>& end) {
  if (!start || !end) return nullptr;
  // In double: two hostile times may be too far apart for int64 arithmetic.
  return (static_cast<double>(*end) - static_cast<double>(*start)) / 1e6;
}

// `name` (with U+FFFD for ill-formed bytes) and, when the mount shows it differently,
// `path_name`: the path name with ill-formed bytes written as %XX.
void AddName(json* j, std::string_view raw_text, const std::string& path_name) {
  const std::string raw(raw_text);
  (*j)["name"] = names::ToValidUtf8(raw);
  if (path_name == raw && names::IsValidUtf8(raw)) return;
  if (names::IsValidUtf8(path_name)) {
    (*j)["path_name"] = path_name;
    return;
  }
  std::string shown;
  std::size_t i = 0;
  while (i < path_name.size()) {
    std::size_t n = 1;
    while (i + n <= path_name.size() && n <= 4 && !names::IsValidUtf8(path_name.substr(i, n))) ++n;
    if (i + n <= path_name.size() && n <= 4) {
      shown += path_name.substr(i, n);
      i += n;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      const unsigned char c = static_cast<unsigned char>(path_name[i]);
      shown += '%';
      shown += kHex[c >> 4];
      shown += kHex[c & 15];
      ++i;
    }
  }
  (*j)["path_name"] = shown;
}

}  // namespace

namespace {

std::string PrettyDump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::size_t DumpedSize(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace).size();
}

// The child of `node` (an object or array) whose dump is the largest, and its key.
json* LargestChild(json& node, std::string* key, std::size_t* size) {
  json* best = nullptr;
  *size = 0;
  if (node.is_object()) {
    for (auto& [k, v] : node.items()) {
      const std::size_t n = DumpedSize(v);
      if (best == nullptr || n > *size) {
        best = &v;
        *key = k;
        *size = n;
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::size_t n = DumpedSize(node[i]);
      if (best == nullptr || n > *size) {
        best = &node[i];
        *key = std::to_string(i);
        *size = n;
      }
    }
  }
  return best;
}

// Escapes a key for a JSON pointer (RFC 6901).
std::string PointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace

// A document over kMaxMetaDocumentBytes loses its largest fields, largest first, until it
// fits: each becomes a note with its size, and "zenfs_cut" lists their JSON pointers.
// The field cut is the smallest one that alone brings the document under the cap, found
// by descending into the largest child while that child still suffices; when none does,
// the largest top-level field goes and the search starts over.
std::string Dump(const json& document) {
  std::string text = PrettyDump(document);
  if (text.size() <= kMaxMetaDocumentBytes || !document.is_object()) return text;
  json j = document;
  json cut = json::array();
  // Room for the notes and the list of cuts themselves.
  constexpr std::size_t kSlack = 64u << 10;
  while (text.size() > kMaxMetaDocumentBytes - kSlack) {
    const std::size_t excess = text.size() - (kMaxMetaDocumentBytes - kSlack);
    json* node = &j;
    std::string pointer;
    std::string key;
    std::size_t size = 0;
    json* child = LargestChild(*node, &key, &size);
    if (child == nullptr || size < 256) break;  // only notes and small fields left
    for (;;) {
      std::string sub_key;
      std::size_t sub_size = 0;
      json* sub = LargestChild(*child, &sub_key, &sub_size);
      if (sub == nullptr || sub_size < excess) break;
      pointer += "/" + PointerToken(key);
      node = child;
      child = sub;
      key = sub_key;
      size = sub_size;
    }
    *child = "(cut by zenfs: " + std::to_string(size) + " bytes, to keep meta.json within " +
             std::to_string(kMaxMetaDocumentBytes) + " bytes)";
    cut.push_back(pointer + "/" + PointerToken(key));
    j["zenfs_cut"] = cut;
    text = PrettyDump(j);
  }
  return text;
}

std::string DashedId(std::string_view id) {
  std::string s(id);
  if (s.size() != 32) return s;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return s;
  }
  return s.substr(0, 8) + "-" + s.substr(8, 4) + "-" + s.substr(12, 4) + "-" + s.substr(16, 4) + "-" +
         s.substr(20);
}

json ImportPath(const std::string& stored) {
  if (stored.empty()) return nullptr;
  const json j = ParseStoreJson<json>(stored);
  if (j.is_object() && j.contains("module") && j.contains("attribute") &&
      j["module"].is_string() && j["attribute"].is_string()) {
    return j["module"].get<std::string>() + "." + j["attribute"].get<std::string>();
  }
  if (j.is_string()) return j;
  return stored;
}

json MetadataObject(const std::vector<MetadataRow>& rows) {
  json out = json::object();
  // Rows come oldest first, so a later row for the same key replaces an earlier one.
  for (const MetadataRow& r : rows) {
    json v = ParseStoreJson<json>(r.value);
    out[names::ToValidUtf8(r.key)] = v.is_discarded() ? json(r.value) : std::move(v);
  }
  return out;
}

json StepParameters(const std::string& step_config_json) {
  const json j = ParseStoreJson<json>(step_config_json);
  if (!j.is_object()) return json::object();
  const json* cfg = &j;
  if (j.contains("config") && j["config"].is_object()) cfg = &j["config"];
  if (cfg->contains("parameters") && (*cfg)["parameters"].is_object()) return (*cfg)["parameters"];
  return json::object();
}

std::string RenderRoot(const Snapshot& s, const std::string& store_path) {
  json j;
  j["store"] = {{"path", store_path},
                {"schema_version", s.rows().schema_version.empty() ? json(nullptr)
                                                                   : json(s.rows().schema_version)}};
  // ZenML 0.80 and later: the project shown, and every project (stores without projects
  // keep their 0.74 shape).
  if (!s.rows().projects.empty()) {
    json project = nullptr;
    json all = json::array();
    for (const ProjectRow& p : s.rows().projects) {
      all.push_back(names::ToValidUtf8(p.name));
      if (p.id == s.rows().project_id) project = {{"name", names::ToValidUtf8(p.name)}, {"id", DashedId(p.id)}};
    }
    j["project"] = std::move(project);
    j["projects"] = std::move(all);
  }
  json pipelines = json::array();
  for (const Snapshot::Pipeline& p : s.pipelines()) pipelines.push_back(names::ToValidUtf8(p.name));
  j["pipelines"] = std::move(pipelines);
  return Dump(j);
}

std::string RenderPipeline(const Snapshot& s, int pipeline) {
  const Snapshot::Pipeline& p = s.pipelines()[static_cast<std::size_t>(pipeline)];
  json j;
  AddName(&j, p.name, p.path_name);
  j["id"] = p.row >= 0 ? json(DashedId(p.id)) : json(nullptr);
  j["first_run_time"] = Time(s.run_row(p.runs.front()).start_time ? s.run_row(p.runs.front()).start_time
                                                                  : s.run_row(p.runs.front()).created);
  j["run_count"] = p.runs.size();
  json runs = json::array();
  for (int r : p.runs) runs.push_back(names::ToValidUtf8(s.run_row(r).name));
  j["runs"] = std::move(runs);
  j["latest_run"] = names::ToValidUtf8(s.run_row(p.runs.back()).name);
  for (const char* status : {"completed", "failed"}) {
    const int k = Snapshot::LatestWithStatus(p, status);
    j[std::string("latest_") + status + "_run"] =
        k < 0 ? json(nullptr) : json(names::ToValidUtf8(s.run_row(p.runs[static_cast<std::size_t>(k)]).name));
  }
  return Dump(j);
}

namespace {

// logs_available and logs_unavailable_reason: {source: ...} for each logs row shown.
void AddLogFacts(json* j, const std::vector<LogFacts>& logs) {
  json available = json::object(), reasons = json::object(), from = json::object();
  for (const LogFacts& l : logs) {
    const std::string source = names::ToValidUtf8(l.source);
    available[source] = l.available;
    reasons[source] = l.available ? json(nullptr) : json(l.unavailable_reason);
    from[source] = l.available ? json(l.read_from) : json(nullptr);
  }
  (*j)["logs_available"] = std::move(available);
  (*j)["logs_unavailable_reason"] = std::move(reasons);
  (*j)["logs_read_from"] = std::move(from);
}

}  // namespace

std::string RenderRun(const Snapshot& s, int run, const RunDetail& d,
                      const std::vector<StepMetadata>& step_metadata, const std::vector<LogFacts>& logs) {
  const RunRow& row = s.run_row(run);
  const Snapshot::Run& r = s.run(run);
  const Snapshot::Pipeline& p = s.pipelines()[static_cast<std::size_t>(r.pipeline)];
  json j;
  AddName(&j, row.name, p.run_names[static_cast<std::size_t>(r.pos)]);
  j["id"] = DashedId(row.id);
  j["pipeline"] = names::ToValidUtf8(p.name);
  j["status"] = names::ToValidUtf8(row.status);
  j["start_time"] = Time(row.start_time);
  j["end_time"] = Time(row.end_time);
  j["duration_s"] = Duration(row.start_time, row.end_time);
  j["created"] = Time(row.created);
  j["updated"] = Time(row.updated);
  j["index"] = d.index ? json(*d.index) : json(nullptr);
  j["in_progress"] = d.in_progress ? json(*d.in_progress) : json(nullptr);
  j["git_sha"] = Opt(d.git_sha);
  j["orchestrator_run_id"] = Opt(d.orchestrator_run_id);
  j["runtime_configuration"] = {
      {"run_name", Opt(d.run_name_template)},
      {"schedule", d.schedule_id ? json(DashedId(*d.schedule_id)) : json(nullptr)},
      {"code_path", Opt(d.code_path)},
      {"source", ParsedOrNull(d.pipeline_source)},
      {"pipeline_configuration", ParsedOrNull(d.pipeline_configuration)},
  };
  // As ZenML's client reports it: the run's own metadata plus "<step>::<key>" of its steps.
  std::vector<MetadataRow> all = d.metadata;
  for (const StepMetadata& sm : step_metadata) {
    for (const MetadataRow& m : sm.rows) {
      all.push_back({sm.step_name + "::" + m.key, m.value, m.type, m.created});
    }
  }
  j["run_metadata"] = MetadataObject(all);
  json steps = json::array();
  for (int st : r.steps) steps.push_back(names::ToValidUtf8(s.step_row(st).name));
  j["steps"] = std::move(steps);
  // Nested runs (ZenML 0.95 and later): mount paths of the parent and of each child.
  j["parent_run"] = r.parent >= 0 ? json(s.RunPath(r.parent)) : json(nullptr);
  json children = json::object();
  for (int c : r.children) children[names::ToValidUtf8(s.run_row(c).child_key)] = s.RunPath(c);
  j["children"] = std::move(children);
  // Named pipeline outputs: the step output providing each, null if none of its steps.
  json outputs = json::object();
  for (const Snapshot::RunOutput& o : r.outputs) {
    const std::string name = names::ToValidUtf8(s.rows().pipeline_outputs[static_cast<std::size_t>(o.row)].name);
    outputs[name] = o.step >= 0 && o.output >= 0 ? json(s.OutputPath(o.step, o.output)) : json(nullptr);
  }
  j["outputs"] = std::move(outputs);
  AddLogFacts(&j, logs);
  return Dump(j);
}

std::string RenderStep(const Snapshot& s, int step, const StepDetail& d, const std::vector<LogFacts>& logs) {
  const StepRow& row = s.step_row(step);
  const Snapshot::Step& st = s.step(step);
  const Snapshot::Run& run = s.run(st.run);
  json j;
  AddName(&j, row.name, run.step_names[static_cast<std::size_t>(st.pos)]);
  j["id"] = DashedId(row.id);
  j["status"] = names::ToValidUtf8(row.status);
  j["start_time"] = Time(row.start_time);
  j["end_time"] = Time(row.end_time);
  j["duration_s"] = Duration(row.start_time, row.end_time);
  j["cache_key"] = Opt(d.cache_key);
  j["original_step_run"] = st.original >= 0 && s.step(st.original).run >= 0
                               ? json(s.StepPath(st.original))
                               : json(nullptr);
  j["original_step_run_id"] =
      row.original_step_run_id.empty() ? json(nullptr) : json(DashedId(row.original_step_run_id));
  j["parameters"] = d.step_config ? StepParameters(*d.step_config) : json::object();
  j["run_metadata"] = MetadataObject(d.metadata);
  j["docstring"] = Opt(d.docstring);
  j["source_code"] = Opt(d.source_code);
  // inputs: name -> the outputs holding that artifact version, this run's first.
  json inputs = json::object();
  for (int in : st.inputs) {
    const ArtifactLinkRow& link = s.rows().inputs[static_cast<std::size_t>(in)];
    json& list = inputs[names::ToValidUtf8(link.name)];
    if (list.is_null()) list = json::array();
    const int v = s.FindVersion(link.artifact_version_id);
    if (v < 0) continue;
    std::vector<int> holders = s.StepsWithOutput(st.run, v);
    const int producer = s.ProducerOf(v);
    if (producer >= 0 && std::find(holders.begin(), holders.end(), producer) == holders.end()) {
      holders.push_back(producer);
    }
    for (int h : holders) {
      const int o = s.FindOutput(h, link.artifact_version_id);
      if (o >= 0) list.push_back(s.OutputPath(h, o));
    }
  }
  j["inputs"] = std::move(inputs);
  json outputs = json::array();
  for (const Snapshot::Output& o : st.outputs) {
    outputs.push_back(names::ToValidUtf8(s.rows().outputs[static_cast<std::size_t>(o.link)].name));
  }
  j["outputs"] = std::move(outputs);
  AddLogFacts(&j, logs);
  return Dump(j);
}

namespace {

// What an output's and a %artifacts version's meta.json say of the artifact version
// (`version` -1: the store lacks it), after their name and id.
void AddVersionFields(json* out, const Snapshot& s, int version, const OutputFacts& f) {
  json& j = *out;
  if (version >= 0) {
    const ArtifactVersionRow& v = s.rows().artifact_versions[static_cast<std::size_t>(version)];
    const ArtifactDetail& d = f.detail;
    j["artifact_name"] = d.artifact_name.empty() ? json(nullptr) : json(d.artifact_name);
    j["version"] = d.version.empty() ? json(nullptr) : json(d.version);
    j["type"] = d.type.empty() ? json(nullptr) : json(d.type);
    j["data_type"] = ImportPath(d.data_type);
    j["materializer"] = ImportPath(d.materializer);
    j["uri"] = v.uri;
  } else {
    for (const char* k : {"artifact_name", "version", "type", "data_type", "materializer", "uri"}) {
      j[k] = nullptr;
    }
  }
  j["available"] = f.available;
  j["unavailable_reason"] = f.available ? json(nullptr) : json(f.unavailable_reason);
  json files = json::array();
  std::uint64_t total = 0;
  for (const OutputFacts::File& file : f.files) {
    files.push_back({{"path", file.path}, {"size", file.size}});
    total += file.size;
  }
  j["files"] = std::move(files);
  if (f.files_truncated) j["files_truncated"] = true;
  j["size_bytes"] = f.available ? json(total) : json(nullptr);
  // The files of %visualizations/, relative to the output folder, in ZenML's order.
  json vis = json::array();
  for (std::size_t i = 0; i < f.detail.visualizations.size(); ++i) {
    const VisualizationRow& v = f.detail.visualizations[i];
    json entry = {{"path", std::string(kVisualizationsDir) + "/" + names::VisualizationFileName(i, v.type)},
                  {"type", names::ToValidUtf8(v.type)},
                  {"uri", names::ToValidUtf8(v.uri)}};
    if (i < f.visualization_sources.size()) entry["read_from"] = f.visualization_sources[i];
    vis.push_back(std::move(entry));
  }
  j["visualizations"] = std::move(vis);
  j["run_metadata"] = MetadataObject(f.detail.metadata);
  const int producer = version >= 0 ? s.ProducerOf(version) : -1;
  j["producer"] = producer >= 0 && s.step(producer).run >= 0 ? json(s.StepPath(producer)) : json(nullptr);
  // The steps that read this version: mount paths (like `producer`) and input names,
  // sorted by path, then name; a step reading it under one name twice (chunks) once.
  std::vector<std::pair<std::string, std::string>> consumers;
  if (version >= 0) {
    for (int in : s.ConsumersOf(version)) {
      const ArtifactLinkRow& link = s.rows().inputs[static_cast<std::size_t>(in)];
      consumers.emplace_back(s.StepPath(s.FindStep(link.step_id)), names::ToValidUtf8(link.name));
    }
  }
  std::sort(consumers.begin(), consumers.end());
  consumers.erase(std::unique(consumers.begin(), consumers.end()), consumers.end());
  json list = json::array();
  for (auto& [step, input] : consumers) list.push_back({{"step", std::move(step)}, {"input", std::move(input)}});
  j["consumers"] = std::move(list);
}

}  // namespace

std::string RenderOutput(const Snapshot& s, int step, int output, const OutputFacts& f) {
  const Snapshot::Output& o = s.step(step).outputs[static_cast<std::size_t>(output)];
  const ArtifactLinkRow& link = s.rows().outputs[static_cast<std::size_t>(o.link)];
  json j;
  AddName(&j, link.name, o.path_name);
  j["artifact_version_id"] = DashedId(link.artifact_version_id);
  AddVersionFields(&j, s, o.version, f);
  return Dump(j);
}

std::string RenderVersion(const Snapshot& s, int version, const OutputFacts& f) {
  const ArtifactVersionRow& v = s.rows().artifact_versions[static_cast<std::size_t>(version)];
  const auto [a, k] = s.ArtifactOf(version);
  json j;
  AddName(&j, v.version,
          a >= 0 ? s.artifacts()[static_cast<std::size_t>(a)].version_names[static_cast<std::size_t>(k)]
                 : std::string(v.version));
  j["artifact_version_id"] = DashedId(v.id);
  AddVersionFields(&j, s, version, f);
  return Dump(j);
}

}  // namespace zenfs::meta
