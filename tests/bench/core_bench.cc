// Microbenchmarks of the core's hot paths, without a mount: what one FUSE request costs
// inside zenfs before the kernel round trip (~11 µs same CPU, 55-60 µs across CPUs) is
// added. Google Benchmark (libbenchmark-dev); CMake target `zenfs_core_bench`, built only
// when the package is found and ZENFS_SANITIZE is off.
//
// Run it:
//   BUILD_DIR=/tmp/benchbuild scripts/build.sh && /tmp/benchbuild/zenfs_core_bench
//   /tmp/benchbuild/zenfs_core_bench --benchmark_filter=Lookup --benchmark_repetitions=5
//   scripts/bench.sh --core            # the same, reusing bench.sh's cached store
//
// The store: a deep demo store written once per process with zenfs::WriteDemoStore
// (20,000 runs x 5 steps x 2 outputs, artifact_bytes 0: ~1.5 million rows' worth of
// structure). Writing it takes a minute or two. Environment knobs:
//   ZENFS_CORE_BENCH_RUNS=N     runs of example_pipeline (default 20000)
//   ZENFS_CORE_BENCH_STORE=DIR  use (or, if it holds no store yet, write and keep) the demo
//                               store in DIR instead of a temporary directory that is
//                               removed at exit. Its size knobs are then whatever wrote it.
//
// What is measured (all through zenfs::Tree / Snapshot / meta, as the FUSE adapter calls
// them; "cycling" variants walk over every run so that the Tree's bounded caches miss):
//   BM_LoadRows              SqlCatalog::LoadRows of the whole store (mount + refresh cost)
//   BM_SnapshotBuild         Snapshot::Build of those rows (rows copied outside the timing)
//   BM_DiffSnapshots         DiffSnapshots of two pictures built from the same rows (a
//                            refresh that changed little: what the diff costs by itself)
//   BM_LookupRun             Tree::Lookup(runs dir, run name) + the matching Forget
//   BM_GetAttrRunDir         Tree::GetAttr of a run directory (inode already known)
//   BM_GetAttrRunMeta/hot    Tree::GetAttr of one run's meta.json (size needs the text; cached)
//   BM_GetAttrRunMeta/cycle  the same over every run's meta.json (cache misses: SQL + render)
//   BM_OpenDirRuns           Tree::OpenDir of the runs directory (the listing of all runs)
//   BM_FillDirPage           FillDir of one ~100-entry page of that listing at a random offset
//   BM_RenderRun / Step      meta::RenderRun / RenderStep with the detail rows fetched beforehand
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "fs/invalidations.h"
#include "fs/log.h"
#include "fs/meta.h"
#include "fs/tree.h"
#include "demo/demo_writer.h"
#include "store/local_artifact_source.h"
#include "fs/snapshot.h"
#include "store/sql_catalog.h"

namespace zenfs {
namespace {

// The temporary store directory, removed at exit however the process ends normally.
std::string& TempStore() {
  static std::string dir;
  return dir;
}
void RemoveTempStore() {
  if (TempStore().empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(TempStore(), ec);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "zenfs_core_bench: %s\n", what.c_str());
  std::exit(1);
}

// The store, catalog, rows and a Tree over them; built on first use, shared by every
// benchmark of the process.
class Fixture {
 public:
  static Fixture& Get() {
    static Fixture f;
    return f;
  }

  std::unique_ptr<SqlCatalog> catalog;
  std::unique_ptr<LocalArtifactSource> artifacts;
  Logger log{Logger::Level::kError, false};
  StoreRows rows;  // as loaded once; Snapshot::Build copies of it
  std::shared_ptr<const Snapshot> snapshot;
  std::unique_ptr<Tree> tree;
  std::uint64_t runs_ino = 0;
  std::vector<std::string> run_names;      // the runs directory's children (not "latest")
  std::vector<std::uint64_t> run_inos;     // looked up once, parallel to run_names
  std::vector<std::uint64_t> run_meta_inos;
  int example = -1;                        // example_pipeline's index in the snapshot

  ~Fixture() {
    tree.reset();
    catalog.reset();
  }

 private:
  Fixture() {
    std::string dir;
    const char* keep = std::getenv("ZENFS_CORE_BENCH_STORE");
    if (keep != nullptr && *keep != '\0') {
      dir = keep;
    } else {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/zenfs-core-bench-XXXXXX";
      if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp " + pattern);
      TempStore() = pattern;
      std::atexit(RemoveTempStore);
      dir = pattern + "/store";
    }
    const std::string db = dir + "/local_stores/default_zen_store/zenml.db";
    if (!std::filesystem::exists(db)) {
      DemoOptions o;
      o.dir = dir;
      o.schema = DemoSchema::kZenml074;  // pinned to the 0.74 layout its expectations assume
      const char* runs = std::getenv("ZENFS_CORE_BENCH_RUNS");
      o.runs = runs != nullptr && *runs != '\0' ? std::atoi(runs) : 20000;
      o.steps = 5;
      o.outputs = 2;
      o.artifact_bytes = 0;
      std::fprintf(stderr, "zenfs_core_bench: writing a demo store of %d runs x 5 steps x 2 outputs in %s\n",
                   o.runs, dir.c_str());
      Status s = WriteDemoStore(o);
      if (!s.ok()) Die("demo store: " + s.ToString());
    }
    auto cat = OpenSqliteCatalog(db);
    if (!cat.ok()) Die("open " + db + ": " + cat.status().ToString());
    catalog = std::move(*cat);
    artifacts = std::make_unique<LocalArtifactSource>(UriResolver({}, dir + "/local_stores", false));
    auto loaded = catalog->LoadRows(RowScope::kAll);
    if (!loaded.ok()) Die("LoadRows: " + loaded.status().ToString());
    rows = std::move(*loaded);
    snapshot = Snapshot::Build(rows, 1);
    TreeOptions opts;
    opts.store_path = db;
    opts.refresh_seconds = 1e9;  // never ask the store whether it changed
    tree = std::make_unique<Tree>(*catalog, *artifacts, log, opts, snapshot);

    auto pipe = tree->Lookup(kRootIno, "example_pipeline");
    if (!pipe.ok()) Die("lookup example_pipeline: " + pipe.status().ToString());
    auto runs = tree->Lookup(pipe->attr.ino, "runs");
    if (!runs.ok()) Die("lookup runs: " + runs.status().ToString());
    runs_ino = runs->attr.ino;
    auto listing = tree->OpenDir(runs_ino);
    if (!listing.ok()) Die("opendir runs: " + listing.status().ToString());
    for (const Listing::Item& item : (*listing)->items) {
      if ((item.type & S_IFMT) != S_IFDIR) continue;  // skip the "latest" symlink
      auto e = tree->Lookup(runs_ino, item.name);
      if (!e.ok()) Die("lookup run " + item.name + ": " + e.status().ToString());
      auto m = tree->Lookup(e->attr.ino, "meta.json");
      if (!m.ok()) Die("lookup meta.json of " + item.name + ": " + m.status().ToString());
      run_names.push_back(item.name);
      run_inos.push_back(e->attr.ino);
      run_meta_inos.push_back(m->attr.ino);
    }
    if (run_names.empty()) Die("the store has no runs");
    for (std::size_t i = 0; i < snapshot->pipelines().size(); ++i) {
      if (snapshot->pipelines()[i].name == "example_pipeline") example = static_cast<int>(i);
    }
    if (example < 0) Die("no example_pipeline in the snapshot");
    std::fprintf(stderr, "zenfs_core_bench: %zu runs, %zu steps, %zu outputs in the store\n",
                 rows.runs.size(), rows.steps.size(), rows.outputs.size());
  }
};

// A fixed pseudo-random order over n items, so each benchmark visits the same sequence.
std::vector<std::size_t> Shuffled(std::size_t n) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(42);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

void BM_LoadRows(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  for (auto _ : state) {
    auto rows = f.catalog->LoadRows(RowScope::kAll);
    if (!rows.ok()) state.SkipWithError("LoadRows failed");
    benchmark::DoNotOptimize(rows);
  }
  state.counters["runs"] = static_cast<double>(f.rows.runs.size());
}
BENCHMARK(BM_LoadRows)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_SnapshotBuild(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  std::uint64_t gen = 2;
  for (auto _ : state) {
    state.PauseTiming();
    StoreRows copy = f.rows;
    state.ResumeTiming();
    auto s = Snapshot::Build(std::move(copy), gen++);
    benchmark::DoNotOptimize(s);
    state.PauseTiming();
    s.reset();  // freeing the old picture is not part of building the new one
    state.ResumeTiming();
  }
  state.counters["runs"] = static_cast<double>(f.rows.runs.size());
  state.counters["steps"] = static_cast<double>(f.rows.steps.size());
}
BENCHMARK(BM_SnapshotBuild)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_DiffSnapshots(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  auto after = Snapshot::Build(StoreRows(f.rows), 2);
  std::size_t n = 0;
  for (auto _ : state) {
    auto inv = DiffSnapshots(*f.snapshot, *after);
    n = inv.size();
    benchmark::DoNotOptimize(inv);
  }
  state.counters["invalidations"] = static_cast<double>(n);
}
BENCHMARK(BM_DiffSnapshots)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_LookupRun(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const auto order = Shuffled(f.run_names.size());
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& name = f.run_names[order[i++ % order.size()]];
    auto e = f.tree->Lookup(f.runs_ino, name);
    if (!e.ok()) {
      state.SkipWithError("lookup failed");
      break;
    }
    f.tree->Forget(e->attr.ino, 1);  // the kernel's forget, so node counts stay flat
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupRun);

void BM_GetAttrRunDir(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const auto order = Shuffled(f.run_inos.size());
  std::size_t i = 0;
  for (auto _ : state) {
    auto e = f.tree->GetAttr(f.run_inos[order[i++ % order.size()]]);
    if (!e.ok()) {
      state.SkipWithError("getattr failed");
      break;
    }
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetAttrRunDir);

// Arg 0: the same meta.json every time (rendered once, then cached). Arg 1: every run's
// meta.json in turn, more of them than the Tree's caches hold.
void BM_GetAttrRunMeta(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const bool cycle = state.range(0) != 0;
  const auto order = Shuffled(f.run_meta_inos.size());
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint64_t ino = cycle ? f.run_meta_inos[order[i++ % order.size()]] : f.run_meta_inos[0];
    auto e = f.tree->GetAttr(ino);
    if (!e.ok()) {
      state.SkipWithError("getattr failed");
      break;
    }
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(cycle ? "cycle" : "hot");
}
BENCHMARK(BM_GetAttrRunMeta)->Arg(0)->Arg(1);

void BM_OpenDirRuns(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  for (auto _ : state) {
    auto l = f.tree->OpenDir(f.runs_ino);
    if (!l.ok()) {
      state.SkipWithError("opendir failed");
      break;
    }
    benchmark::DoNotOptimize(l);
  }
  state.counters["entries"] = static_cast<double>(f.run_names.size());
}
BENCHMARK(BM_OpenDirRuns)->Unit(benchmark::kMicrosecond);

void BM_FillDirPage(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  auto l = f.tree->OpenDir(f.runs_ino);
  if (!l.ok()) {
    state.SkipWithError("opendir failed");
    return;
  }
  const Listing& listing = **l;
  const std::size_t n = listing.items.size();
  std::mt19937_64 rng(7);
  std::size_t added = 0;
  for (auto _ : state) {
    const std::uint64_t offset = rng() % (n + 2);
    int page = 0;
    FillDir(listing, f.runs_ino, offset, [&](const DirSlot& slot) {
      benchmark::DoNotOptimize(slot.name);
      return ++page < 100;  // a reply buffer holding ~100 entries
    });
    added += static_cast<std::size_t>(page);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(added));
}
BENCHMARK(BM_FillDirPage);

void BM_RenderRun(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const Snapshot& s = *f.snapshot;
  const int run = s.pipelines()[static_cast<std::size_t>(f.example)].runs.at(s.pipelines()[static_cast<std::size_t>(f.example)].runs.size() / 2);
  RunDetail d;
  if (!f.catalog->GetRunDetail(std::string(s.run_row(run).id), &d).ok()) Die("GetRunDetail");
  std::vector<meta::StepMetadata> steps;
  for (int step : s.run(run).steps) {
    meta::StepMetadata sm{std::string(s.step_row(step).name), {}};
    if (!f.catalog->GetMetadata("step_run", std::string(s.step_row(step).id), &sm.rows).ok()) Die("GetMetadata");
    steps.push_back(std::move(sm));
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = meta::RenderRun(s, run, d, steps, {});
    bytes += text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_RenderRun);

void BM_RenderStep(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const Snapshot& s = *f.snapshot;
  const auto& runs = s.pipelines()[static_cast<std::size_t>(f.example)].runs;
  const int run = runs.at(runs.size() / 2);
  const int step = s.run(run).steps[s.run(run).steps.size() / 2];
  StepDetail d;
  if (!f.catalog->GetStepDetail(std::string(s.step_row(step).id), std::string(s.step_row(step).name), &d).ok()) Die("GetStepDetail");
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = meta::RenderStep(s, step, d, {});
    bytes += text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_RenderStep);

}  // namespace
}  // namespace zenfs

BENCHMARK_MAIN();
