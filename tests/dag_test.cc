// A picture of each run (fs/dag.h): the DOT text parses with Graphviz's own parser and has
// one node per step and one edge per artifact passed between steps; the SVG is well-formed
// XML (libxml2) that shows every step's name, hostile names included, as text; the bound
// holds; renders from many threads at once are all complete; the cache keeps its cap.
#include <graphviz/cgraph.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "demo/demo_writer.h"
#include "fs/dag.h"
#include "fs/snapshot.h"
#include "store/sql_catalog.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

// What Graphviz's parser sees in a DOT text: step nodes (ids s<i>), all nodes, the edges
// between two step nodes, and the step nodes' labels as the parser decoded them.
struct DotShape {
  bool parsed = false;
  int steps = 0, nodes = 0, step_edges = 0;
  std::set<std::tuple<std::string, std::string, std::string>> edges;  // (from, to, label)
  std::string more_label;  // the bound's note, "" when absent
};

bool IsStepNode(const char* name) { return name[0] == 's' && std::isdigit(static_cast<unsigned char>(name[1])); }

DotShape ParseDot(const std::string& dot) {
  std::lock_guard<std::mutex> lock(GraphvizMutex());
  DotShape shape;
  Agraph_t* g = agmemread(dot.c_str());
  if (g == nullptr) return shape;
  shape.parsed = true;
  char label_attr[] = "label";
  for (Agnode_t* n = agfstnode(g); n != nullptr; n = agnxtnode(g, n)) {
    ++shape.nodes;
    const char* name = agnameof(n);
    if (IsStepNode(name)) ++shape.steps;
    if (std::string_view(name) == "more") shape.more_label = agget(n, label_attr);
    for (Agedge_t* e = agfstout(g, n); e != nullptr; e = agnxtout(g, e)) {
      const char* to = agnameof(aghead(e));
      if (!IsStepNode(name) || !IsStepNode(to)) continue;
      ++shape.step_edges;
      const char* label = agget(e, label_attr);
      shape.edges.emplace(name, to, label == nullptr ? "" : label);
    }
  }
  agclose(g);
  return shape;
}

// The SVG parsed strictly (no network, no DTD); the text of each <text> element.
struct SvgText {
  bool well_formed = false;
  std::string error;
  std::vector<std::string> texts;
};

void CollectTexts(xmlNode* node, std::vector<std::string>* out) {
  for (xmlNode* n = node; n != nullptr; n = n->next) {
    if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "text") == 0) {
      xmlChar* content = xmlNodeGetContent(n);
      out->emplace_back(content == nullptr ? "" : reinterpret_cast<const char*>(content));
      xmlFree(content);
    }
    CollectTexts(n->children, out);
  }
}

SvgText ParseSvg(const std::string& svg) {
  SvgText out;
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  xmlDocPtr doc = xmlCtxtReadMemory(ctxt, svg.data(), static_cast<int>(svg.size()), "dag.svg", nullptr,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  out.well_formed = doc != nullptr && ctxt->wellFormed != 0;
  if (const xmlError* e = xmlCtxtGetLastError(ctxt); e != nullptr && e->message != nullptr) out.error = e->message;
  if (doc != nullptr) {
    xmlNode* root = xmlDocGetRootElement(doc);
    if (root == nullptr || xmlStrcmp(root->name, BAD_CAST "svg") != 0) out.well_formed = false;
    CollectTexts(root, &out.texts);
    xmlFreeDoc(doc);
  }
  xmlFreeParserCtxt(ctxt);
  return out;
}

bool HasText(const SvgText& svg, const std::string& text) {
  return std::find(svg.texts.begin(), svg.texts.end(), text) != svg.texts.end();
}

// A snapshot of a store at `db` (every row).
std::shared_ptr<const Snapshot> SnapshotOf(const std::string& db) {
  auto cat = OpenSqliteCatalog(db);
  EXPECT_TRUE(cat.ok()) << cat.status().ToString();
  if (!cat.ok()) return nullptr;
  auto rows = (*cat)->LoadRows(RowScope::kAll);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return nullptr;
  return Snapshot::Build(std::move(*rows), 1);
}

// The edges a run's picture must have, found from the rows alone: (producer, consumer,
// output name) for every input row of a step of the run whose artifact version a different
// step of the same run output (the earliest such step in the run's order).
std::set<std::tuple<std::string, std::string, std::string>> ExpectedEdges(const Snapshot& s, int run) {
  const StoreRows& rows = s.rows();
  const std::vector<int>& steps = s.run(run).steps;  // execution order
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (std::size_t c = 0; c < steps.size(); ++c) {
    const std::string_view consumer = s.step_row(steps[c]).id;
    for (const ArtifactLinkRow& in : rows.inputs) {
      if (in.step_id != consumer) continue;
      bool found = false;
      for (std::size_t p = 0; p < steps.size() && !found; ++p) {
        if (p == c) continue;
        for (const ArtifactLinkRow& o : rows.outputs) {
          if (o.step_id == s.step_row(steps[p]).id && o.artifact_version_id == in.artifact_version_id) {
            out.emplace("s" + std::to_string(p), "s" + std::to_string(c), std::string(o.name));
            found = true;
            break;
          }
        }
      }
    }
  }
  return out;
}

// Every run of `s`: the DOT has one node per step and exactly the expected step edges; the
// SVG is well-formed and shows each step's name. Returns the number of step edges seen.
int CheckEveryRun(const Snapshot& s) {
  int edges = 0;
  for (std::size_t r = 0; r < s.rows().runs.size(); ++r) {
    const int run = static_cast<int>(r);
    SCOPED_TRACE("run " + std::string(s.run_row(run).name));
    const DagInput dag = DagOf(s, run);
    EXPECT_EQ(dag.steps.size(), s.run(run).steps.size());
    const std::string dot = DagToDot(dag);
    EXPECT_EQ(dot, DagToDot(DagOf(s, run))) << "the same snapshot gives the same picture";
    const DotShape shape = ParseDot(dot);
    EXPECT_TRUE(shape.parsed) << dot;
    EXPECT_EQ(shape.steps, static_cast<int>(s.run(run).steps.size())) << dot;
    EXPECT_EQ(shape.edges, ExpectedEdges(s, run)) << dot;
    EXPECT_EQ(shape.step_edges, static_cast<int>(shape.edges.size())) << "no edge twice: " << dot;
    edges += shape.step_edges;
    auto svg = RenderSvg(dot);
    EXPECT_TRUE(svg.ok()) << svg.status().ToString();
    if (!svg.ok()) continue;
    const SvgText parsed = ParseSvg(*svg);
    EXPECT_TRUE(parsed.well_formed) << parsed.error;
    for (int st : s.run(run).steps) {
      EXPECT_TRUE(HasText(parsed, std::string(s.step_row(st).name))) << std::string_view(s.step_row(st).name);
    }
  }
  return edges;
}

class DagStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xmlInitParser();
    DemoOptions o;
    o.dir = dir_.path() + "/store";
    o.runs = 6;
    o.steps = 4;
    o.outputs = 2;
    o.artifact_bytes = 0;
    ASSERT_TRUE(WriteDemoStore(o).ok());
    snap_ = SnapshotOf(o.dir + "/local_stores/default_zen_store/zenml.db");
    ASSERT_NE(snap_, nullptr);
  }
  testing::TempDir dir_;
  std::shared_ptr<const Snapshot> snap_;
};

TEST_F(DagStoreTest, EveryRunOfADemoStoreHasItsStepsAndArtifacts) {
  EXPECT_GT(CheckEveryRun(*snap_), 0) << "the demo store's runs pass artifacts between steps";
}

TEST_F(DagStoreTest, StepsAreColouredAndLabelledByStatus) {
  bool cached = false, failed = false, completed = false;
  for (std::size_t r = 0; r < snap_->rows().runs.size(); ++r) {
    const DagInput dag = DagOf(*snap_, static_cast<int>(r));
    const std::string dot = DagToDot(dag);
    for (const DagInput::Step& st : dag.steps) {
      if (st.cached) {
        cached = true;
        EXPECT_NE(dot.find("\\ncached\", fillcolor=\"#c6dbef\""), std::string::npos) << dot;
      } else if (st.status == "failed") {
        failed = true;
        EXPECT_NE(dot.find("fillcolor=\"#fcbba1\""), std::string::npos) << dot;
      } else if (st.status == "completed" && st.start && st.end) {
        completed = true;
        const std::string label = st.name + "\\n" + HumanDuration(*st.end - *st.start) + "\", fillcolor=\"#c7e9c0\"";
        EXPECT_NE(dot.find(label), std::string::npos) << label << " in " << dot;
      }
    }
  }
  EXPECT_TRUE(cached && failed && completed) << "the demo store has cached, failed and completed steps";
}

TEST(DagSampleTest, EveryRunOfTheGenuineSamples) {
  const std::vector<std::string> samples = testing::ZenmlSamples();
  if (samples.empty()) GTEST_SKIP() << "ZENFS_ZENML_SAMPLE is not set";
  xmlInitParser();
  for (const std::string& dir : samples) {
    SCOPED_TRACE(dir);
    auto s = SnapshotOf(dir + "/local_stores/default_zen_store/zenml.db");
    ASSERT_NE(s, nullptr);
    ASSERT_FALSE(s->rows().runs.empty());
    EXPECT_GT(CheckEveryRun(*s), 0) << "the sample's demo_pipeline passes artifacts between steps";
  }
}

// A run written by hand whose every store string is hostile.
DagInput HostileDag() {
  DagInput d;
  d.run_name = "run \"]; x -> y [ <b>&amp;</b>";
  const std::vector<std::string> names = {
      "he said \"hi\"", "back\\slash\\n \\N \\G", "<script>alert(1)</script>", "\"]; a -> b [",
      "a&amp;b &lt; &#65; &", "line one\nline two", std::string("nul\0ctl\x01\x1f\x7f", 10),
      "bad \xff\xfe utf8 \xed\xa0\x80 \xef\xbf\xbe", "naïve ✓ 名前", "}"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    // The first shows its status (it has no times), the others their duration.
    const std::optional<Micros> start = i == 0 ? std::nullopt : std::optional<Micros>(0);
    d.steps.push_back(DagInput::Step{"id" + std::to_string(i), names[i], i == 0 ? "weird\"status" : "completed",
                                     false, start, 1500000});
    if (i > 0) d.edges.push_back(DagInput::Edge{static_cast<int>(i) - 1, -1, static_cast<int>(i), names[i - 1]});
  }
  d.sources.push_back(DagInput::Source{"v", "<source> \"x\""});
  d.edges.push_back(DagInput::Edge{-1, 0, 3, ""});
  d.sinks.push_back(DagInput::Sink{9, "out\\put\n<sink>"});
  return d;
}

TEST(DagTest, HostileNamesSurviveAsText) {
  xmlInitParser();
  const DagInput d = HostileDag();
  const std::string dot = DagToDot(d);
  const DotShape shape = ParseDot(dot);
  ASSERT_TRUE(shape.parsed) << dot;
  EXPECT_EQ(shape.steps, 10) << dot;
  EXPECT_EQ(shape.nodes, 12) << "10 steps, a source and a sink; no node injected: " << dot;
  EXPECT_EQ(shape.step_edges, 9) << dot;
  auto svg = RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  const SvgText parsed = ParseSvg(*svg);
  ASSERT_TRUE(parsed.well_formed) << parsed.error << "\n" << *svg;
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  for (const std::string& text :
       {std::string("run \"]; x -> y [ <b>&amp;</b>"), std::string("he said \"hi\""),
        std::string("back\\slash\\n \\N \\G"), std::string("<script>alert(1)</script>"),
        std::string("\"]; a -> b ["), std::string("a&amp;b &lt; &#65; &"), std::string("line one"),
        std::string("line two"), "nul" + r + "ctl" + r + r + r, "bad " + r + r + " utf8 " + r + r + r + " " + r + r + r,
        std::string("naïve ✓ 名前"), std::string("}"), std::string("<source> \"x\""), std::string("out\\put"),
        std::string("<sink>"), std::string("weird\"status"), std::string("1.5 s")}) {
    EXPECT_TRUE(HasText(parsed, text)) << "\"" << text << "\" not shown as text in\n" << *svg;
  }
  EXPECT_EQ(svg->find("<script"), std::string::npos) << "no element made from a name";
}

TEST(DagTest, LongNamesAreCutAtACharacterBoundary) {
  DagInput d;
  std::string name;
  while (name.size() < 3 * kDagMaxLabelBytes) name += "é";  // two bytes each
  d.steps.push_back(DagInput::Step{"id", name, "completed", false, std::nullopt, std::nullopt});
  auto svg = RenderSvg(DagToDot(d));
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  const SvgText parsed = ParseSvg(*svg);
  ASSERT_TRUE(parsed.well_formed) << parsed.error;
  EXPECT_TRUE(HasText(parsed, name.substr(0, kDagMaxLabelBytes) + "…")) << *svg;
}

DagInput Chain(int steps) {
  DagInput d;
  d.run_name = "long";
  for (int i = 0; i < steps; ++i) {
    d.steps.push_back(DagInput::Step{"id" + std::to_string(i), "step_" + std::to_string(i), "completed", false,
                                     std::nullopt, std::nullopt});
    if (i > 0) d.edges.push_back(DagInput::Edge{i - 1, -1, i, "output"});
  }
  d.sinks.push_back(DagInput::Sink{steps - 1, "model"});
  return d;
}

TEST(DagTest, RunsWithManyStepsGetABoundedPicture) {
  const DotShape small = ParseDot(DagToDot(Chain(20), DagBounds{5, 1000, 120}));
  ASSERT_TRUE(small.parsed);
  EXPECT_EQ(small.steps, 5);
  EXPECT_EQ(small.step_edges, 4);
  EXPECT_EQ(small.nodes, 6) << "five steps and the note; the sink's step is not drawn";
  EXPECT_NE(small.more_label.find("and 15 more steps"), std::string::npos) << small.more_label;

  const DotShape bounded = ParseDot(DagToDot(Chain(static_cast<int>(kDagMaxSteps) + 7)));
  ASSERT_TRUE(bounded.parsed);
  EXPECT_EQ(bounded.steps, static_cast<int>(kDagMaxSteps));
  EXPECT_NE(bounded.more_label.find("and 7 more steps"), std::string::npos) << bounded.more_label;

  const DotShape whole = ParseDot(DagToDot(Chain(static_cast<int>(kDagMaxSteps))));
  ASSERT_TRUE(whole.parsed);
  EXPECT_EQ(whole.steps, static_cast<int>(kDagMaxSteps));
  EXPECT_EQ(whole.nodes, static_cast<int>(kDagMaxSteps) + 1) << "every step and the sink, no note";
  EXPECT_TRUE(whole.more_label.empty());
}

TEST(DagTest, RunsWithManyEdgesGetABoundedPicture) {
  DagInput d = Chain(10);  // and every step reads every earlier step's output: 45 edges
  d.edges.clear();
  for (int to = 1; to < 10; ++to) {
    for (int from = 0; from < to; ++from) d.edges.push_back(DagInput::Edge{from, -1, to, "out"});
  }
  const std::string dot = DagToDot(d, DagBounds{500, 10, 5});
  const DotShape shape = ParseDot(dot);
  ASSERT_TRUE(shape.parsed);
  EXPECT_EQ(shape.steps, 10);
  EXPECT_EQ(shape.step_edges, 10);
  EXPECT_NE(shape.more_label.find("and 35 more artifact edges"), std::string::npos) << shape.more_label;
  EXPECT_NE(dot.find("[xlabel=\"out\"]"), std::string::npos) << "past 5 edges, names are external labels";
  EXPECT_EQ(dot.find("[label=\"out\"]"), std::string::npos) << dot;

  const std::string labelled = DagToDot(d, DagBounds{500, 1000, 45});
  EXPECT_EQ(ParseDot(labelled).step_edges, 45);
  EXPECT_TRUE(ParseDot(labelled).more_label.empty());
  EXPECT_EQ(labelled.find("xlabel"), std::string::npos) << labelled;
  auto svg = RenderSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_TRUE(ParseSvg(*svg).well_formed);
  EXPECT_TRUE(HasText(ParseSvg(*svg), "out")) << "external labels are drawn too";
}

TEST(DagTest, BadDotIsAnErrorAndTheNextRenderWorks) {
  for (const std::string& bad : {std::string("digraph { a -> "), std::string(""), std::string("not dot at all"),
                                 std::string("digraph { a [label=\"x] }"), std::string("digraph { a }\0b -> c", 20)}) {
    auto svg = RenderSvg(bad);
    ASSERT_FALSE(svg.ok()) << bad;
    EXPECT_EQ(svg.status().code(), Status::Code::kInvalidArgument) << svg.status().ToString();
    auto good = RenderSvg(DagToDot(Chain(3)));
    ASSERT_TRUE(good.ok()) << "after \"" << bad << "\": " << good.status().ToString();
    EXPECT_NE(good->find("step_2"), std::string::npos);
  }
}

// Graphviz's plugin configuration (config6a) is not needed: a copy of the libraries made
// without the package's scripts renders the same. Runs this binary again with GVBINDIR
// (where Graphviz looks for that configuration) naming an empty folder: the context is
// made once a process.
TEST(DagTest, RendersWithoutGraphvizPluginConfiguration) {
  if (std::getenv("ZENFS_DAG_CHILD") != nullptr) {
    auto svg = RenderSvg(DagToDot(Chain(3)));
    ASSERT_TRUE(svg.ok()) << svg.status().ToString();
    EXPECT_NE(svg->find("step_2"), std::string::npos);
    return;
  }
  testing::TempDir empty;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("GVBINDIR", empty.path().c_str(), 1);
    setenv("ZENFS_DAG_CHILD", "1", 1);
    execl("/proc/self/exe", "dag_child", "--gtest_filter=DagTest.RendersWithoutGraphvizPluginConfiguration",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child's status " << status;
}

TEST_F(DagStoreTest, EightThreadsRenderingManyRunsAllGetCompletePictures) {
  const int runs = static_cast<int>(snap_->rows().runs.size());
  std::vector<std::string> dots;
  for (int r = 0; r < runs; ++r) dots.push_back(DagToDot(DagOf(*snap_, r)));
  std::atomic<int> complete{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (int k = 0; k < runs; ++k) {
          const int r = (k + t) % runs;
          auto svg = RenderSvg(dots[static_cast<std::size_t>(r)]);
          const SvgText parsed = svg.ok() ? ParseSvg(*svg) : SvgText{};
          bool ok = parsed.well_formed;
          for (int st : snap_->run(r).steps) ok = ok && HasText(parsed, std::string(snap_->step_row(st).name));
          (ok ? complete : bad)++;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(complete.load(), 8 * 3 * runs);
}

TEST(DagTest, HumanDurations) {
  const std::vector<std::pair<Micros, std::string>> cases = {
      {-1, ""},           {0, "<1 ms"},        {999, "<1 ms"},          {1000, "1 ms"},
      {999999, "999 ms"}, {1000000, "1.0 s"}, {1234567, "1.2 s"},      {9999999, "9.9 s"},
      {10000000, "10 s"}, {59999999, "59 s"}, {60000000, "1 min"},     {184000000, "3 min 4 s"},
      {3600000000, "1 h"}, {7500000000, "2 h 5 min"}, {86400000000, "1 d"}, {273600000000, "3 d 4 h"}};
  for (const auto& [d, want] : cases) EXPECT_EQ(HumanDuration(d), want) << d;
}

TEST(DagCacheTest, KeepsOnePictureARunAndItsCap) {
  DagCache cache(100);
  auto pic = [](char c, std::size_t n) { return std::make_shared<const std::string>(n, c); };
  cache.Put("r1", "v1", pic('a', 40));
  ASSERT_NE(cache.Find("r1", "v1"), nullptr);
  EXPECT_EQ(*cache.Find("r1", "v1"), std::string(40, 'a'));
  EXPECT_EQ(cache.Find("r1", "v2"), nullptr) << "another version of the run is not this picture";
  EXPECT_EQ(cache.Find("r2", "v1"), nullptr);
  cache.Put("r1", "v2", pic('b', 30));
  EXPECT_EQ(cache.Find("r1", "v1"), nullptr) << "a new version replaces the old";
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), 30u);
  cache.Put("r2", "v", pic('c', 30));
  cache.Put("r3", "v", pic('d', 30));
  ASSERT_NE(cache.Find("r1", "v2"), nullptr);  // r1 used last, r2 least recently
  cache.Put("r4", "v", pic('e', 30));           // 120 bytes: r2 leaves
  EXPECT_EQ(cache.Find("r2", "v"), nullptr);
  EXPECT_NE(cache.Find("r1", "v2"), nullptr);
  EXPECT_NE(cache.Find("r3", "v"), nullptr);
  EXPECT_NE(cache.Find("r4", "v"), nullptr);
  EXPECT_EQ(cache.bytes(), 90u);
  cache.Put("r5", "v", pic('f', 101));  // larger than the cap: not kept, nothing evicted
  EXPECT_EQ(cache.Find("r5", "v"), nullptr);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(DagCacheTest, ManyThreadsStayWithinTheCap) {
  DagCache cache(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string run = "r" + std::to_string((i * 7 + t) % 50);
        if (cache.Find(run, "v") == nullptr) cache.Put(run, "v", std::make_shared<const std::string>(60 + i % 40, 'x'));
        EXPECT_LE(cache.bytes(), 1000u);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_LE(cache.bytes(), 1000u);
  EXPECT_GT(cache.size(), 0u);
}

}  // namespace
}  // namespace zenfs
