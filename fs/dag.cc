#include "fs/dag.h"

#include <dlfcn.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "fs/snapshot.h"

namespace zenfs {

DagInput DagOf(const Snapshot& s, int run) {
  DagInput d;
  const StoreRows& rows = s.rows();
  d.run_name = std::string(s.run_row(run).name);
  const Slice<int> steps = s.run(run).steps;
  std::unordered_map<int, int> place;  // step index in the rows -> index in d.steps
  for (int st : steps) {
    const StepRow& row = s.step_row(st);
    place.emplace(st, static_cast<int>(d.steps.size()));
    d.steps.push_back(DagInput::Step{std::string(row.id), std::string(row.name), std::string(row.status),
                                     row.status == "cached" || s.step(st).original >= 0, row.start_time,
                                     row.end_time});
  }
  // Which outputs of which steps a step of this run read: the rest become sinks.
  std::vector<std::vector<bool>> read(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) read[i].assign(s.step(steps[i]).outputs.size(), false);
  std::map<std::string_view, int> source_of;  // artifact version id -> index in d.sources
  std::set<std::tuple<int, int, int, std::string>> seen;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const int st = steps[i];
    for (int in : s.step(st).inputs) {
      const ArtifactLinkRow& link = rows.inputs[static_cast<std::size_t>(in)];
      DagInput::Edge e;
      e.to = static_cast<int>(i);
      const int version = s.FindVersion(link.artifact_version_id);
      if (version >= 0) {
        for (int producer : s.StepsWithOutput(run, version)) {  // the earliest, not the reader
          if (producer == st) continue;
          const int k = s.FindOutput(producer, link.artifact_version_id);
          e.from = place.at(producer);
          if (k >= 0) {
            read[static_cast<std::size_t>(e.from)][static_cast<std::size_t>(k)] = true;
            const int out = s.step(producer).outputs[static_cast<std::size_t>(k)].link;
            e.name = std::string(rows.outputs[static_cast<std::size_t>(out)].name);
          }
          break;
        }
      }
      if (e.from < 0) {
        auto [it, added] = source_of.emplace(link.artifact_version_id, static_cast<int>(d.sources.size()));
        if (added) d.sources.push_back(DagInput::Source{std::string(link.artifact_version_id), std::string(link.name)});
        e.source = it->second;
        // The source node shows the name its first reader used; another reader's differs.
        if (d.sources[static_cast<std::size_t>(e.source)].name != std::string_view(link.name)) e.name = std::string(link.name);
      }
      if (seen.emplace(e.from, e.source, e.to, e.name).second) d.edges.push_back(std::move(e));
    }
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Snapshot::Step& st = s.step(steps[i]);
    for (std::size_t k = 0; k < st.outputs.size(); ++k) {
      if (read[i][k]) continue;
      d.sinks.push_back(DagInput::Sink{static_cast<int>(i),
                                       std::string(rows.outputs[static_cast<std::size_t>(st.outputs[k].link)].name)});
    }
  }
  return d;
}

std::string HumanDuration(Micros d) {
  if (d < 0) return "";
  constexpr Micros kSecond = 1000000;
  const Micros sec = d / kSecond;
  auto two = [](Micros a, const char* ua, Micros b, const char* ub) {
    std::string out = std::to_string(a) + " " + ua;
    if (b > 0) out += " " + std::to_string(b) + " " + ub;
    return out;
  };
  if (d < 1000) return "<1 ms";
  if (d < kSecond) return std::to_string(d / 1000) + " ms";
  if (sec < 10) return std::to_string(sec) + "." + std::to_string(d / 100000 % 10) + " s";
  if (sec < 60) return std::to_string(sec) + " s";
  if (sec < 3600) return two(sec / 60, "min", sec % 60, "s");
  if (sec < 86400) return two(sec / 3600, "h", sec / 60 % 60, "min");
  return two(sec / 86400, "d", sec / 3600 % 24, "h");
}

namespace {

// The length of the well-formed UTF-8 sequence at s[i] that XML allows as a character
// (no surrogates, overlong forms, U+FFFE or U+FFFF; controls are the caller's), or 0.
std::size_t XmlCharAt(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  if (n == 3 && c == 0xEF && b(i + 1) == 0xBF && b(i + 2) >= 0xBE) return 0;  // U+FFFE, U+FFFF
  return n;
}

// Appends `text` for the inside of a quoted DOT label that Graphviz shows as exactly that
// text: `"` and `\` escaped for DOT, `&` as "&amp;" (Graphviz reads entities in labels),
// a newline as DOT's line break, a tab or CR as a space, other control characters and
// invalid UTF-8 as U+FFFD. Cut at `max_bytes` of the text, ending in "…".
void AppendLabel(std::string& out, std::string_view text, std::size_t max_bytes = kDagMaxLabelBytes) {
  static constexpr const char* kReplacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = XmlCharAt(text, i);
    if (i + std::max<std::size_t>(n, 1) > max_bytes) {
      out += "\xE2\x80\xA6";
      return;
    }
    const char c = text[i];
    if (n == 0) {
      out += kReplacement;
      n = 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t' || c == '\r') {
      out += ' ';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      out += kReplacement;
    } else {
      out.append(text, i, n);
    }
    i += n;
  }
}

const char* FillOf(const DagInput::Step& st) {
  if (st.cached) return "#c6dbef";
  if (st.status == "completed") return "#c7e9c0";
  if (st.status == "failed") return "#fcbba1";
  if (st.status == "running") return "#fee391";
  return "#eeeeee";
}

}  // namespace

std::string DagToDot(const DagInput& dag, const DagBounds& bounds) {
  const std::size_t shown = std::min(dag.steps.size(), bounds.max_steps);
  auto drawn = [&](int step) { return step >= 0 && static_cast<std::size_t>(step) < shown; };
  // The edges drawn: those between drawn nodes, at most max_edges of them.
  std::vector<const DagInput::Edge*> edges;
  std::size_t left_out = 0;
  std::vector<bool> source_drawn(dag.sources.size(), false);
  for (const DagInput::Edge& e : dag.edges) {
    if (!drawn(e.to) || (e.source < 0 && !drawn(e.from))) continue;
    if (edges.size() == bounds.max_edges) {
      ++left_out;
      continue;
    }
    edges.push_back(&e);
    if (e.source >= 0) source_drawn[static_cast<std::size_t>(e.source)] = true;
  }
  // A large picture (past `labelled_edges` edges) is laid out with less effort: dot's
  // network simplex (x positions) and crossing minimization are capped, which took 500 steps
  // with 1000 far-reaching edges from 24 s to 2.5 s; a smaller one gets dot's full effort.
  const bool large = edges.size() > bounds.labelled_edges;
  std::string out =
      "// zenfs: one run's steps (boxes coloured by status: green completed, blue cached,\n"
      "// red failed, yellow running, grey other) and the artifacts passed between them.\n"
      "// The bound: at most " + std::to_string(bounds.max_steps) + " steps and " + std::to_string(bounds.max_edges) +
      " artifact edges are drawn (DagBounds in\n"
      "// zenfs's fs/dag.h); a larger run's picture ends in a note saying what was left out.\n"
      "digraph run {\n"
      "  graph [rankdir=TB, nodesep=0.5, " + std::string(large ? "nslimit=0.2, mclimit=0.1, " : "") +
      "fontname=\"Helvetica\", fontsize=16, labelloc=t, label=\"";
  AppendLabel(out, dag.run_name);
  out += "\"];\n"
         "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=12, color=\"#555555\"];\n"
         "  edge [fontname=\"Helvetica\", fontsize=10, color=\"#555555\"];\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const DagInput::Step& st = dag.steps[i];
    out += "  s" + std::to_string(i) + " [label=\"";
    AppendLabel(out, st.name);
    std::string second = st.cached ? "cached" : "";
    if (second.empty() && st.start && st.end) second = HumanDuration(*st.end - *st.start);
    if (second.empty()) second = st.status;
    if (!second.empty()) {
      out += "\\n";
      AppendLabel(out, second);
    }
    out += "\", fillcolor=\"";
    out += FillOf(st);
    out += "\"];\n";
  }
  for (std::size_t k = 0; k < dag.sources.size(); ++k) {
    if (!source_drawn[k]) continue;
    out += "  a" + std::to_string(k) + " [shape=ellipse, style=dashed, label=\"";
    AppendLabel(out, dag.sources[k].name);
    out += "\"];\n";
  }
  for (std::size_t k = 0; k < dag.sinks.size(); ++k) {
    if (!drawn(dag.sinks[k].step)) continue;
    const std::string id = "o" + std::to_string(k);
    out += "  " + id + " [shape=note, style=filled, fillcolor=\"#f7f7f7\", fontsize=10, label=\"";
    AppendLabel(out, dag.sinks[k].name);
    out += "\"];\n  s" + std::to_string(dag.sinks[k].step) + " -> " + id + " [style=dashed];\n";
  }
  // A label makes dot lay its edge out through a node of its own, which took a layout of
  // 100 steps and 288 long edges from 1.5 s to 7 s; past `labelled_edges` the names are
  // external labels (xlabel), placed after the layout.
  const char* label = large ? " [xlabel=\"" : " [label=\"";
  for (const DagInput::Edge* e : edges) {
    out += "  " + (e->source >= 0 ? "a" + std::to_string(e->source) : "s" + std::to_string(e->from)) + " -> s" +
           std::to_string(e->to);
    if (!e->name.empty()) {
      out += label;
      AppendLabel(out, e->name);
      out += "\"]";
    }
    out += ";\n";
  }
  auto count = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string note;
  if (shown < dag.steps.size()) note = count(dag.steps.size() - shown, "more step");
  if (left_out > 0) note += (note.empty() ? "" : " and ") + count(left_out, "more artifact edge");
  if (!note.empty()) {
    out += "  more [shape=plaintext, style=\"\", label=\"... and " + note + " (a picture shows at most " +
           count(bounds.max_steps, "step") + " and " + count(bounds.max_edges, "edge") + ")\"];\n";
  }
  out += "}\n";
  return out;
}

std::mutex& GraphvizMutex() {
  static std::mutex mu;
  return mu;
}

namespace {

// Graphviz's one context for the process, made at the first render under GraphvizMutex()
// and never freed: Graphviz keeps process-wide state anyway (cgraph's error function,
// attribute defaults), which is why renders are serialized rather than given contexts
// of their own. What Graphviz reports while a render runs is collected in `errors`.
struct Graphviz {
  GVC_t* gvc = nullptr;
  Status setup;
  std::string errors;
  std::array<std::string, 2> symbol_names;  // what builtins name; they outlive the context
  std::array<lt_symlist_t, 3> builtins{};
};

Graphviz& TheGraphviz() {  // only under GraphvizMutex()
  static Graphviz g;
  return g;
}

int CollectError(char* message) {  // only called inside a render, under GraphvizMutex()
  TheGraphviz().errors += message;
  return 0;
}

// Graphviz's plugins are the two it needs and nothing else: the dot layout and the svg
// renderer (libgvplugin_dot_layout and libgvplugin_core, from Graphviz's plugin folder,
// loaded once and kept), handed to the context as its built-in plugins without demand
// loading. So Graphviz does not read its plugin configuration (config6a, which Debian's
// libgvc6 writes at install; without it gvContext() loads no plugin at all and leaves its
// font table unmade), and loads no text layout plugin: pango would bring fontconfig,
// cairo and a glib thread into the daemon, leak fontconfig's memory, and make a
// picture depend on the fonts installed. Text widths come from Graphviz's own metrics of
// the standard PostScript fonts (Helvetica here), the same on every machine.
Status SetUp(Graphviz& g) {
  agseterrf(CollectError);
  const std::string dir = ZENFS_GRAPHVIZ_PLUGIN_DIR;
  std::size_t n = 0;
  for (const char* name : {"dot_layout", "core"}) {
    const std::string path = dir + "/libgvplugin_" + name + ".so." + ZENFS_GRAPHVIZ_PLUGIN_VERSION;
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // never closed: the context uses it
    if (lib == nullptr) return Status::IOError(std::string("cannot load Graphviz's plugin: ") + dlerror());
    g.symbol_names[n] = std::string("gvplugin_") + name + "_LTX_library";
    void* table = dlsym(lib, g.symbol_names[n].c_str());
    if (table == nullptr) return Status::IOError("Graphviz's plugin " + path + " has no " + g.symbol_names[n]);
    g.builtins[n] = lt_symlist_t{g.symbol_names[n].c_str(), table};
    ++n;
  }
  g.builtins[n] = lt_symlist_t{nullptr, nullptr};
  g.gvc = gvContextPlugins(g.builtins.data(), 0);
  if (g.gvc == nullptr) return Status::IOError("Graphviz: cannot make a context");
  return Status::Ok();
}

// Graphviz's collected messages as one line ("" when it said nothing).
std::string TakeErrors(Graphviz& g) {
  std::string m;
  for (char c : g.errors) {
    if (c == '\n') c = ' ';
    if (!(c == ' ' && (m.empty() || m.back() == ' '))) m += c;
  }
  while (!m.empty() && m.back() == ' ') m.pop_back();
  g.errors.clear();
  return m;
}

}  // namespace

Result<std::string> RenderSvg(const std::string& dot) {
  std::lock_guard<std::mutex> lock(GraphvizMutex());
  Graphviz& g = TheGraphviz();
  if (g.gvc == nullptr && g.setup.ok()) {
    g.setup = SetUp(g);
    g.errors.clear();
  }
  if (!g.setup.ok()) return g.setup;
  if (dot.find('\0') != std::string::npos) return Status::InvalidArgument("the DOT text holds a NUL byte");
  g.errors.clear();
  Agraph_t* graph = agmemread(dot.c_str());
  if (graph == nullptr) return Status::InvalidArgument("Graphviz cannot read the DOT text: " + TakeErrors(g));
  Result<std::string> out = Status::InvalidArgument("");
  if (gvLayout(g.gvc, graph, "dot") != 0) {
    out = Status::InvalidArgument("Graphviz cannot lay the graph out: " + TakeErrors(g));
  } else {
    char* data = nullptr;
    unsigned int length = 0;
    if (gvRenderData(g.gvc, graph, "svg", &data, &length) != 0 || data == nullptr) {
      out = Status::IOError("Graphviz cannot render SVG: " + TakeErrors(g));
    } else {
      out = std::string(data, length);
    }
    gvFreeRenderData(data);
    gvFreeLayout(g.gvc, graph);
  }
  agclose(graph);
  g.errors.clear();
  return out;
}

std::shared_ptr<const std::string> DagCache::Find(std::string_view run_id, std::string_view version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_run_.find(run_id);
  if (it == by_run_.end() || it->second->version != version) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->picture;
}

std::string DagCache::VersionOf(std::string_view run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_run_.find(run_id);
  return it == by_run_.end() ? std::string() : it->second->version;
}

void DagCache::Put(std::string_view run_id, std::string_view version, std::shared_ptr<const std::string> picture) {
  if (picture == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_run_.find(run_id); it != by_run_.end()) EraseLocked(it->second);
  if (picture->size() > max_bytes_) return;
  bytes_ += picture->size();
  lru_.push_front(Entry{std::string(run_id), std::string(version), std::move(picture)});
  by_run_.emplace(lru_.front().run_id, lru_.begin());
  while (bytes_ > max_bytes_) EraseLocked(std::prev(lru_.end()));
}

void DagCache::EraseLocked(std::list<Entry>::iterator it) {
  bytes_ -= it->picture->size();
  by_run_.erase(it->run_id);
  lru_.erase(it);
}

std::size_t DagCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

std::size_t DagCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace zenfs
