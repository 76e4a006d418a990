// libFuzzer target over everything zenfs parses from a store: names, ids and links
// (Snapshot::Build and name assignment), times, JSON columns (configuration, metadata,
// materializer/data_type), compressed text, and URIs. Every input must end in a sane
// tree or a clear error: a crash, a sanitizer report, a hang or a failed check here is a
// finding.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fs/meta.h"
#include "fs/names.h"
#include "fs/snapshot.h"
#include "store/sql_catalog.h"
#include "store/timefmt.h"
#include "store/uri_resolver.h"

namespace {

using zenfs::Micros;

// Ids come from a small pool so that rows link to each other (and to missing rows).
std::string Id(FuzzedDataProvider& p) {
  static const char* const kPool[] = {"", "a", "b", "c", "0123456789abcdef0123456789abcdef",
                                      "%unlisted", "d/e", "x"};
  if (p.ConsumeBool()) return p.ConsumeRandomLengthString(40);
  return kPool[p.ConsumeIntegralInRange<int>(0, 7)];
}

std::optional<Micros> Time(FuzzedDataProvider& p) {
  switch (p.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return std::nullopt;
    case 1: return p.ConsumeIntegral<Micros>();
    case 2: return zenfs::ParseStoreTime(p.ConsumeRandomLengthString(32));
    default: return p.ConsumeIntegralInRange<Micros>(0, 4'000'000'000'000'000);
  }
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  zenfs::StoreRows rows;
  rows.schema_version = p.ConsumeRandomLengthString(16);
  // Row texts view bytes the rows' arena keeps (a temporary string would dangle).
  auto id = [&] { return rows.text->Keep(Id(p)); };
  auto str = [&](std::size_t max) { return rows.text->Keep(p.ConsumeRandomLengthString(max)); };
  const int n = p.ConsumeIntegralInRange<int>(0, 12);
  for (int i = 0; i < n && p.remaining_bytes() > 0; ++i) {
    switch (p.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
        rows.pipelines.push_back({id(), str(300), Time(p), Time(p)});
        break;
      case 1:
        // Parents and child keys of nested runs: ids from the same small set, so loops and
        // self-parents happen.
        rows.runs.push_back({id(), str(300), id(), str(12), Time(p), Time(p), Time(p), Time(p), id(), str(300)});
        break;
      case 2:
        rows.steps.push_back({id(), id(), str(64), str(12), id(), Time(p), Time(p), Time(p), Time(p)});
        break;
      case 3:
        rows.outputs.push_back({id(), str(64), id()});
        break;
      case 4:
        rows.inputs.push_back({id(), str(64), id(), p.ConsumeIntegral<std::int64_t>()});
        break;
      case 5:
        rows.artifact_versions.push_back({id(), str(64), id(), Time(p), Time(p), str(16)});
        break;
      case 6:
        rows.pipeline_outputs.push_back({id(), str(300), id(), p.ConsumeIntegral<std::int64_t>()});
        break;
      default:
        // A step's logs, or a run's (no step id), of any source, perhaps in a log store.
        rows.logs.push_back({id(), str(64), p.ConsumeBool() ? id() : rows.text->Keep(""), id(), Time(p), Time(p),
                             str(300), id(), p.ConsumeBool()});
        break;
    }
  }
  const std::string text = p.ConsumeRandomLengthString(200);
  auto snap = zenfs::Snapshot::Build(std::move(rows), 1);

  // Every document of the tree renders to valid JSON ending in a newline.
  auto valid = [](const std::string& doc) {
    Check(!doc.empty() && doc.back() == '\n', "meta.json ends with a newline");
    Check(!nlohmann::json::parse(doc, nullptr, false).is_discarded(), "meta.json parses");
  };
  valid(zenfs::meta::RenderRoot(*snap, "/db"));
  zenfs::RunDetail run_detail;
  run_detail.pipeline_configuration = text;
  run_detail.pipeline_source = text;
  run_detail.metadata.push_back({text, text, text, std::nullopt});
  zenfs::StepDetail step_detail;
  step_detail.step_config = text;
  step_detail.docstring = text;
  std::vector<std::string> seen_names;
  for (std::size_t pi = 0; pi < snap->pipelines().size(); ++pi) {
    const auto& pl = snap->pipelines()[pi];
    valid(zenfs::meta::RenderPipeline(*snap, static_cast<int>(pi)));
    for (int run : pl.runs) {
      const std::vector<zenfs::meta::LogFacts> log_facts = {{text, false, text, ""}, {"step", true, "", text}};
      valid(zenfs::meta::RenderRun(*snap, run, run_detail, {{text, run_detail.metadata}}, log_facts));
      const auto& r = snap->run(run);
      Check(r.children.size() == r.child_names.size(), "a name per child run");
      for (std::size_t c = 0; c < r.children.size(); ++c) {
        Check(snap->run(r.children[c]).parent == run && r.children[c] != run, "a child's parent is its run");
        Check(!r.child_names[c].empty() && r.child_names[c].size() <= zenfs::names::kMaxName &&
                  r.child_names[c].find('/') == std::string::npos,
              "child path name");
        (void)snap->RunPath(r.children[c]);
      }
      for (const auto& o : r.outputs) {
        Check(!o.path_name.empty() && o.path_name.find('/') == std::string::npos, "pipeline output path name");
        if (o.step >= 0) (void)snap->OutputPath(o.step, o.output);
      }
      for (const auto& l : r.logs) {
        Check(l.path_name.rfind("logs", 0) == 0 && l.path_name.find('/') == std::string::npos &&
                  l.path_name.size() <= zenfs::names::kMaxName,
              "run logs path name");
      }
      for (int step : snap->run(run).steps) {
        valid(zenfs::meta::RenderStep(*snap, step, step_detail, log_facts));
        for (const auto& l : snap->step(step).logs) {
          Check(l.path_name.rfind("logs", 0) == 0 && l.path_name.find('/') == std::string::npos &&
                    l.path_name.size() <= zenfs::names::kMaxName,
                "step logs path name");
        }
        for (std::size_t o = 0; o < snap->step(step).outputs.size(); ++o) {
          zenfs::meta::OutputFacts facts;
          facts.unavailable_reason = text;
          facts.detail = {text, text, text, text, text, run_detail.metadata, {{text, text}}};
          valid(zenfs::meta::RenderOutput(*snap, step, static_cast<int>(o), facts));
        }
        for (const std::string& name : snap->run(run).step_names) {
          Check(!name.empty() && name.size() <= zenfs::names::kMaxName, "step path name length");
          Check(name.find('/') == std::string::npos && name.find('\0') == std::string::npos,
                "step path name has no / or NUL");
        }
      }
    }
    for (const std::string& name : pl.run_names) {
      Check(!name.empty() && name.size() <= zenfs::names::kMaxName && name != "latest", "run path name");
      Check(name != "." && name != "..", "run path name is not . or ..");
    }
  }

  // Names: escaping round-trips; times: formatting round-trips.
  const auto back = zenfs::names::Unescape(zenfs::names::Escape(text));
  Check(back.has_value() && *back == text, "Escape round-trips");
  if (auto t = zenfs::ParseStoreTime(text)) {
    Check(zenfs::ParseStoreTime(zenfs::FormatStoreTime(*t)) == t, "time round-trips");
  }
  (void)zenfs::MaybeDecompress(std::string("\0zenml-compressed:zlib:v1:", 26) + text);
  (void)zenfs::meta::ImportPath(text);
  (void)zenfs::meta::StepParameters(text);

  // URIs: every candidate is an absolute root with a path beneath it that cannot climb.
  zenfs::UriResolver resolver({{"/nonexistent/old", "/tmp"}}, "/nonexistent/local_stores", false);
  auto r = resolver.Candidates(text, "/tmp");
  if (r.ok()) {
    for (const zenfs::RootCandidate& c : *r) {
      Check(!c.root.empty() && c.root[0] == '/', "a root is absolute");
      Check(c.rel.empty() || c.rel[0] != '/', "a path beneath a root is relative");
      Check(("/" + c.rel + "/").find("/../") == std::string::npos, "no \"..\" beneath a root");
      Check((c.root + c.rel).find('\0') == std::string::npos, "no NUL");
    }
  }
  return 0;
}
