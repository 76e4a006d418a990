// meta.json fields: the pure helpers, and documents rendered from hand-made rows.
#include <gtest/gtest.h>

#include "fs/meta.h"
#include "store/json_limits.h"
#include "fs/snapshot.h"

namespace zenfs {
namespace {

using json = nlohmann::ordered_json;

TEST(Meta, DashedId) {
  EXPECT_EQ(meta::DashedId("e85c424743374e849f3afbab889a99f8"), "e85c4247-4337-4e84-9f3a-fbab889a99f8");
  EXPECT_EQ(meta::DashedId("E85C424743374E849F3AFBAB889A99F8"), "E85C4247-4337-4E84-9F3A-FBAB889A99F8");
  EXPECT_EQ(meta::DashedId("short"), "short");
  EXPECT_EQ(meta::DashedId("z85c424743374e849f3afbab889a99f8"), "z85c424743374e849f3afbab889a99f8");
  EXPECT_EQ(meta::DashedId(""), "");
}

// A document over the cap loses its largest field (the smallest one that suffices), keeps
// the rest, stays valid JSON and says what was cut.
TEST(Meta, DumpCutsTheLargestFieldsOfAnOversizedDocument) {
  json j;
  j["name"] = "run";
  j["runtime_configuration"] = {{"run_name", "r"},
                                {"pipeline_configuration", std::string(9u << 20, 'p')}};
  j["run_metadata"] = {{"small", 1}, {"large", std::string(3u << 20, 'm')}};
  const std::string text = meta::Dump(j);
  ASSERT_LE(text.size(), kMaxMetaDocumentBytes);
  const json back = json::parse(text, nullptr, false);
  ASSERT_TRUE(back.is_object());
  EXPECT_EQ(back["zenfs_cut"], json::array({"/runtime_configuration/pipeline_configuration"}));
  const std::string note = back["runtime_configuration"]["pipeline_configuration"];
  EXPECT_NE(note.find("cut by zenfs"), std::string::npos) << note;
  EXPECT_EQ(back["runtime_configuration"]["run_name"], "r");
  EXPECT_EQ(back["run_metadata"]["large"].get<std::string>().size(), 3u << 20);

  // Many fields, none large enough alone: cut largest first until it fits.
  json many;
  for (int i = 0; i < 12; ++i) many["k" + std::to_string(i)] = std::string((1u << 20) + i, 'v');
  const std::string cut = meta::Dump(many);
  ASSERT_LE(cut.size(), kMaxMetaDocumentBytes);
  const json m = json::parse(cut, nullptr, false);
  ASSERT_TRUE(m.is_object());
  ASSERT_TRUE(m["zenfs_cut"].is_array());
  EXPECT_EQ(m["zenfs_cut"][0], "/k11");  // the largest went first
  EXPECT_EQ(m["k0"].get<std::string>().size(), 1u << 20);

  // Under the cap: unchanged, no zenfs_cut.
  json small = {{"a", std::string(1000, 'x')}};
  EXPECT_EQ(meta::Dump(small), small.dump(2) + "\n");
}

TEST(Meta, ImportPath) {
  EXPECT_EQ(meta::ImportPath(R"({"module":"builtins","attribute":"int","type":"builtin"})"), "builtins.int");
  EXPECT_EQ(meta::ImportPath("zenml.materializers.Old"), "zenml.materializers.Old");
  EXPECT_EQ(meta::ImportPath(R"("a.b")"), "a.b");
  EXPECT_TRUE(meta::ImportPath("").is_null());
  EXPECT_EQ(meta::ImportPath(R"({"module":1})"), R"({"module":1})");
}

TEST(Meta, MetadataNewestWinsAndValuesAreParsed) {
  const std::vector<MetadataRow> rows = {
      {"accuracy", "0.5", "float", 1},
      {"name", "\"x\"", "str", 2},
      {"accuracy", "0.9", "float", 3},
      {"broken", "{not json", "str", 4},
      {"nested", R"({"a": [1, 2]})", "dict", 5},
  };
  const json j = meta::MetadataObject(rows);
  EXPECT_EQ(j.at("accuracy"), 0.9);
  EXPECT_EQ(j.at("name"), "x");
  EXPECT_EQ(j.at("broken"), "{not json");
  EXPECT_EQ(j.at("nested").at("a").size(), 2u);
}

TEST(Meta, StepParameters) {
  EXPECT_EQ(meta::StepParameters(R"({"spec": {}, "config": {"parameters": {"lr": 0.1}}})").at("lr"), 0.1);
  EXPECT_EQ(meta::StepParameters(R"({"parameters": {"k": 3}})").at("k"), 3);
  EXPECT_TRUE(meta::StepParameters("{}").empty());
  EXPECT_TRUE(meta::StepParameters("not json").empty());
  EXPECT_TRUE(meta::StepParameters(R"({"config": {"parameters": 5}})").empty());
}

// A store of one pipeline, two runs (the second cached from the first), by hand.
StoreRows TwoRuns() {
  StoreRows r;
  r.pipelines.push_back({"p1", "pipe", 100, 200});
  r.runs.push_back({"r1", "run one", "p1", "completed", 1000000, 3500000, 900000, 4000000});
  r.runs.push_back({"r2", "run\xff two", "p1", "completed", std::nullopt, std::nullopt, 5000000, 6000000});
  r.steps.push_back({"s1", "r1", "train", "completed", "", 1000000, 2000000, 1000000, 2000000});
  r.steps.push_back({"s2", "r2", "train", "cached", "s1", 5000000, 5000000, 5000000, 5000000});
  r.outputs.push_back({"s1", "model", "v1"});
  r.outputs.push_back({"s2", "model", "v1"});
  r.artifact_versions.push_back({"v1", "/x/y", "", 1500000, 1600000});
  return r;
}

TEST(Meta, RunDocument) {
  auto s = Snapshot::Build(TwoRuns(), 1);
  RunDetail d;
  d.git_sha = "abc123";
  d.pipeline_configuration = R"({"name": "pipe"})";
  const json j = json::parse(meta::RenderRun(*s, s->FindRun("r1"), d, {{"train", {{"loss", "0.25", "float", 1}}}}, {}));
  EXPECT_EQ(j.at("name"), "run one");
  EXPECT_EQ(j.at("status"), "completed");
  EXPECT_EQ(j.at("start_time"), "1970-01-01T00:00:01.000000Z");
  EXPECT_EQ(j.at("end_time"), "1970-01-01T00:00:03.500000Z");
  EXPECT_EQ(j.at("duration_s"), 2.5);
  EXPECT_EQ(j.at("git_sha"), "abc123");
  EXPECT_EQ(j.at("runtime_configuration").at("pipeline_configuration").at("name"), "pipe");
  EXPECT_EQ(j.at("run_metadata").at("train::loss"), 0.25);
  EXPECT_EQ(j.at("steps"), json::array({"train"}));

  const std::string text = meta::RenderRun(*s, s->FindRun("r2"), RunDetail{}, {}, {});
  const json k = json::parse(text);
  EXPECT_TRUE(k.at("start_time").is_null());
  EXPECT_TRUE(k.at("duration_s").is_null());
  EXPECT_TRUE(k.at("git_sha").is_null());
  // Ill-formed UTF-8: U+FFFD in the name, the path's own bytes shown as %XX.
  EXPECT_EQ(k.at("name"), "run\xef\xbf\xbd two");
  EXPECT_EQ(k.at("path_name"), "run%FF two");
  EXPECT_EQ(text.substr(0, 4), "{\n  ");
  EXPECT_EQ(text.back(), '\n');
}

TEST(Meta, CachedStepPointsAtOriginalAndProducer) {
  auto s = Snapshot::Build(TwoRuns(), 1);
  const int s2 = s->FindStep("s2");
  const json step = json::parse(meta::RenderStep(*s, s2, StepDetail{}, {}));
  EXPECT_EQ(step.at("status"), "cached");
  EXPECT_EQ(step.at("original_step_run"), "pipe/runs/run one/steps/train");
  EXPECT_EQ(step.at("outputs"), json::array({"model"}));
  meta::OutputFacts f;
  f.available = true;
  f.files = {{"a.json", 3}, {"d/b.bin", 10}};
  f.detail.materializer = R"({"module":"m","attribute":"M"})";
  f.detail.data_type = R"({"module":"builtins","attribute":"dict"})";
  const json out = json::parse(meta::RenderOutput(*s, s2, 0, f));
  EXPECT_EQ(out.at("producer"), "pipe/runs/run one/steps/train");
  EXPECT_EQ(out.at("size_bytes"), 13);
  EXPECT_EQ(out.at("data_type"), "builtins.dict");
  EXPECT_EQ(out.at("materializer"), "m.M");
  EXPECT_TRUE(out.at("unavailable_reason").is_null());
  meta::OutputFacts missing;
  missing.unavailable_reason = "URI /x/y does not exist";
  const json gone = json::parse(meta::RenderOutput(*s, s2, 0, missing));
  EXPECT_EQ(gone.at("available"), false);
  EXPECT_EQ(gone.at("unavailable_reason"), "URI /x/y does not exist");
  EXPECT_TRUE(gone.at("size_bytes").is_null());
  EXPECT_EQ(gone.at("visualizations"), json::array());
}

TEST(Meta, OutputListsItsVisualizationsWhereTheyAreReadFrom) {
  auto s = Snapshot::Build(TwoRuns(), 1);
  const int s2 = s->FindStep("s2");
  meta::OutputFacts f;
  f.detail.visualizations = {{"html", "/a/v.html"}, {"image", "/a/v.png"}, {"HT\xffML", "/a/x"}};
  f.visualization_sources = {"artifact store", "server", "unavailable: gone"};
  const json out = json::parse(meta::RenderOutput(*s, s2, 0, f));
  EXPECT_EQ(out.at("visualizations"),
            json::parse(R"([{"path": "%visualizations/0.html", "type": "html", "uri": "/a/v.html",
                             "read_from": "artifact store"},
                            {"path": "%visualizations/1.png", "type": "image", "uri": "/a/v.png", "read_from": "server"},
                            {"path": "%visualizations/2", "type": "HT\ufffdML", "uri": "/a/x",
                             "read_from": "unavailable: gone"}])"));
}

TEST(Meta, PipelineAndRootOrderRunsOldestFirst) {
  StoreRows r = TwoRuns();
  r.pipelines.push_back({"p0", "early", 1, 1});
  r.runs.push_back({"r0", "first ever", "p0", "failed", 10, 20, 10, 20});
  r.runs.push_back({"orphan", "lost run", "gone", "completed", 50, 60, 50, 60});
  auto s = Snapshot::Build(std::move(r), 1);
  const json root = json::parse(meta::RenderRoot(*s, "/db"));
  EXPECT_EQ(root.at("pipelines"), json::array({"early", "%unlisted", "pipe"}));
  const int pipe = s->FindPipeline("p1");
  const json p = json::parse(meta::RenderPipeline(*s, pipe));
  EXPECT_EQ(p.at("runs"), json::array({"run one", "run\xef\xbf\xbd two"}));
  EXPECT_EQ(p.at("run_count"), 2);
  EXPECT_EQ(p.at("first_run_time"), "1970-01-01T00:00:01.000000Z");
}

}  // namespace
}  // namespace zenfs
