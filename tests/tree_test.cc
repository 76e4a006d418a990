// Tree tests: drive the core the way the kernel would (lookup from the root, getattr,
// paged readdir, open, read at odd offsets) over a demo store, with an artifact source
// that counts what it is asked for.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <sqlite3.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fs/tree.h"
#include "demo/demo_writer.h"
#include "store/local_artifact_source.h"
#include "store/sql_catalog.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

using nlohmann::json;

// Wraps the real local source and counts calls: proof of which operations touch bytes.
class CountingSource final : public ArtifactSource {
 public:
  explicit CountingSource(ArtifactSource& inner) : inner_(inner) {}
  Result<ArtifactRef> Locate(std::string_view uri, const ArtifactStoreInfo& store) override {
    return inner_.Locate(uri, store);
  }
  Result<FileInfo> Stat(const ArtifactRef& ref, std::string_view rel) override {
    ++stats;
    return inner_.Stat(ref, rel);
  }
  Result<std::vector<DirEntryInfo>> List(const ArtifactRef& ref, std::string_view rel) override {
    ++lists;
    return inner_.List(ref, rel);
  }
  std::atomic<int> stats{0};
  std::atomic<int> lists{0};
  Result<std::unique_ptr<ArtifactFile>> Open(const ArtifactRef& ref, std::string_view rel) override {
    ++opens;
    auto f = inner_.Open(ref, rel);
    if (!f.ok()) return f.status();
    return std::unique_ptr<ArtifactFile>(std::make_unique<CountingFile>(std::move(*f), this));
  }
  std::atomic<int> opens{0};
  std::atomic<long> reads{0};
  std::atomic<long> bytes{0};

 private:
  class CountingFile final : public ArtifactFile {
   public:
    CountingFile(std::unique_ptr<ArtifactFile> f, CountingSource* owner) : f_(std::move(f)), owner_(owner) {}
    Result<std::size_t> ReadAt(std::uint64_t off, std::size_t n, char* buf) override {
      ++owner_->reads;
      auto r = f_->ReadAt(off, n, buf);
      if (r.ok()) owner_->bytes += static_cast<long>(*r);
      return r;
    }
    Result<std::uint64_t> Size() override { return f_->Size(); }
    Result<FileInfo> Info() override { return f_->Info(); }

   private:
    std::unique_ptr<ArtifactFile> f_;
    CountingSource* owner_;
  };
  ArtifactSource& inner_;
};

// Wraps the real catalog: counts loads of the runs and of the whole structure, and fails
// the next `fail_runs` loads of the runs and `fail_full` whole loads, as a damaged store
// would.
class CountingCatalog final : public Catalog {
 public:
  explicit CountingCatalog(Catalog& inner) : inner_(inner) {}
  Result<StoreRows> LoadRows(RowScope scope) override {
    if (scope == RowScope::kRuns) {
      ++runs_loads;
      if (fail_runs > 0) {
        --fail_runs;
        return Status::Corruption("injected: pipeline_run is damaged");
      }
    }
    if (scope == RowScope::kAll) {
      ++full_loads;
      if (fail_full > 0) {
        --fail_full;
        return Status::Corruption("injected: step_run is damaged");
      }
    }
    return inner_.LoadRows(scope);
  }
  Result<std::int64_t> ChangeCounter() override { return inner_.ChangeCounter(); }
  Status GetRunDetail(const std::string& id, RunDetail* out) override { return inner_.GetRunDetail(id, out); }
  Status GetStepDetail(const std::string& id, const std::string& name, StepDetail* out) override {
    return inner_.GetStepDetail(id, name, out);
  }
  Status GetArtifactDetail(const std::string& id, ArtifactDetail* out) override {
    return inner_.GetArtifactDetail(id, out);
  }
  Status GetMetadata(std::string_view type, const std::string& id, std::vector<MetadataRow>* out) override {
    return inner_.GetMetadata(type, id, out);
  }
  Result<std::vector<ProjectRow>> ListProjects() override { return inner_.ListProjects(); }
  void ShowProject(const std::string& id) override { inner_.ShowProject(id); }
  std::string Describe() const override { return inner_.Describe(); }

  std::atomic<int> runs_loads{0};
  std::atomic<int> fail_runs{0};
  std::atomic<int> full_loads{0};
  std::atomic<int> fail_full{0};

 private:
  Catalog& inner_;
};

class TreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoOptions o;
    o.dir = dir_.path() + "/store";
    o.runs = 6;
    o.schema = DemoSchema::kZenml074;  // pinned to the 0.74 layout its expectations assume
    o.artifact_bytes = (3u << 20) + 17;
    ASSERT_TRUE(WriteDemoStore(o).ok());
    Open();
  }
  // A tree over the store, starting from the whole structure or from part of it (a mount
  // starts from kPipelines).
  void Open(RowScope scope = RowScope::kAll, InodeHash inode_hash = {}) {
    tree_.reset();
    db_ = dir_.path() + "/store/local_stores/default_zen_store/zenml.db";
    auto cat = OpenSqliteCatalog(db_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    counting_catalog_ = std::make_unique<CountingCatalog>(*catalog_);
    local_ = std::make_unique<LocalArtifactSource>(UriResolver({}, dir_.path() + "/store/local_stores", false));
    counting_ = std::make_unique<CountingSource>(*local_);
    auto rows = catalog_->LoadRows(scope);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->scope, scope);
    ASSERT_FALSE(rows->pipelines.empty());
    ASSERT_EQ(rows->first_runs.empty(), scope != RowScope::kPipelines);
    ASSERT_EQ(rows->runs.empty(), scope == RowScope::kPipelines);
    ASSERT_EQ(rows->steps.empty(), scope != RowScope::kAll);
    ASSERT_EQ(rows->artifact_versions.empty(), scope != RowScope::kAll);
    TreeOptions opts;
    opts.store_path = db_;
    opts.refresh_seconds = 3600;
    opts.perms = perms_;
    opts.inode_hash = std::move(inode_hash);
    tree_ = std::make_unique<Tree>(*counting_catalog_, *counting_, log_, opts,
                                   Snapshot::Build(std::move(*rows), 1));
  }
  // The mount path of the first run of the first pipeline, from listings.
  std::string FirstRunPath() {
    auto runs = Walk("example_pipeline/runs");
    EXPECT_TRUE(runs.ok());
    if (!runs.ok()) return "";
    auto listing = tree_->OpenDir(runs->attr.ino);
    EXPECT_TRUE(listing.ok());
    if (!listing.ok()) return "";
    for (const Listing::Item& item : (*listing)->items) {
      if (item.type == S_IFDIR) return "example_pipeline/runs/" + item.name;  // not latest*
    }
    ADD_FAILURE() << "no runs";
    return "";
  }
  // Looks a path up component by component from the root, as the kernel does.
  Result<Entry> Walk(const std::string& path) {
    std::uint64_t ino = kRootIno;
    Result<Entry> e = Status::NotFound("empty path");
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '/')) {
      e = tree_->Lookup(ino, part);
      if (!e.ok()) return e;
      ino = e->attr.ino;
    }
    return e;
  }
  std::string ReadAll(std::uint64_t ino) {
    auto f = tree_->Open(ino);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return "";
    std::string out;
    char buf[4096];
    for (std::uint64_t off = 0;;) {
      auto n = tree_->Read(**f, off, sizeof buf, buf);
      EXPECT_TRUE(n.ok());
      if (!n.ok() || *n == 0) break;
      out.append(buf, *n);
      off += *n;
    }
    return out;
  }
  // Every path below `ino`, listed with a page size of `page` slots per readdir call.
  void Collect(std::uint64_t ino, const std::string& path, std::size_t page,
               std::vector<std::pair<std::string, Entry>>* out) {
    auto listing = tree_->OpenDir(ino);
    ASSERT_TRUE(listing.ok()) << path << ": " << listing.status().ToString();
    std::vector<std::string> names;
    std::uint64_t offset = 0;
    for (int calls = 0; calls < 100000; ++calls) {
      std::size_t taken = 0;
      std::uint64_t next = offset;
      FillDir(**listing, ino, offset, [&](const DirSlot& s) {
        if (taken == page) return false;
        ++taken;
        names.push_back(s.name);
        next = s.next;
        return true;
      });
      if (taken == 0) break;
      offset = next;
    }
    ASSERT_EQ(names.size(), (*listing)->items.size() + 2) << path;
    EXPECT_EQ(names[0], ".");
    EXPECT_EQ(names[1], "..");
    std::set<std::string> unique(names.begin(), names.end());
    EXPECT_EQ(unique.size(), names.size()) << "duplicate names in " << path;
    for (std::size_t i = 2; i < names.size(); ++i) {
      const std::string child = path.empty() ? names[i] : path + "/" + names[i];
      auto e = tree_->Lookup(ino, names[i]);
      ASSERT_TRUE(e.ok()) << child << ": " << e.status().ToString();
      out->push_back({child, *e});
      if (S_ISDIR(e->attr.mode)) Collect(e->attr.ino, child, page, out);
    }
  }

  // Deletes example_pipeline's newest run; checks what Refresh tells the kernel.
  void DeleteNewestRunAndRefresh(bool displaced);

  testing::TempDir dir_;
  std::string db_;
  Logger log_{Logger::Level::kError, false};
  std::unique_ptr<SqlCatalog> catalog_;
  std::unique_ptr<CountingCatalog> counting_catalog_;
  std::unique_ptr<LocalArtifactSource> local_;
  std::unique_ptr<CountingSource> counting_;
  std::unique_ptr<Tree> tree_;
  PermissionOptions perms_;  // what Open() gives the tree
};

TEST(PackKey, RoundTripsEveryKindOfId) {
  const std::string hex = "0195561569ce7b6ea6b7d4b3a8f1c2e0";
  const std::vector<NodeKey> keys = {
      {},
      {NodeKind::kRun, hex, "", ""},
      {NodeKind::kArtifactEntry, hex, "ffffffffffffffffffffffffffffffff", "d/e/f.bin"},
      {NodeKind::kStep, "0195561569CE7B6EA6B7D4B3A8F1C2E0", "", ""},    // upper case: kept raw
      {NodeKind::kStep, "01955615-69ce-7b6e-a6b7-d4b3a8f1c2e0", "", ""},  // dashed
      {NodeKind::kOutput, "x", std::string("a\0b", 3), "rel"},          // NUL inside
      {NodeKind::kLogsEntry, hex.substr(0, 31) + "g", "", std::string(300, 'r')},
      {NodeKind::kPipeline, std::string(1, '\x01'), std::string(1, '\x00'), ""},
  };
  for (const NodeKey& k : keys) {
    const std::string packed = PackKey(k);
    EXPECT_EQ(UnpackKey(packed), k) << k.id << "|" << k.version << "|" << k.rel;
    for (const NodeKey& other : keys) {
      if (!(other == k)) {
        EXPECT_NE(PackKey(other), packed) << k.id << " vs " << other.id;
      }
    }
  }
  // The common key fits in a kind byte and two tagged 16-byte ids, not three strings.
  EXPECT_EQ(PackKey(keys[2]).size() - keys[2].rel.size(), 1u + 2 * (1 + 16));
}

TEST_F(TreeTest, WalkWithTinyPagesSeesEveryEntryOnceAndReadsNoBytes) {
  std::vector<std::pair<std::string, Entry>> all;
  Collect(kRootIno, "", 1, &all);
  std::vector<std::pair<std::string, Entry>> all3;
  Collect(kRootIno, "", 3, &all3);
  ASSERT_EQ(all.size(), all3.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].first, all3[i].first);
  std::map<std::string, int> found;
  for (const auto& [path, e] : all) {
    ++found[path.substr(path.rfind('/') + 1)];
    auto again = tree_->GetAttr(e.attr.ino);
    ASSERT_TRUE(again.ok()) << path;
    EXPECT_EQ(again->attr.size, e.attr.size) << path;
  }
  EXPECT_GT(found["meta.json"], 20);
  EXPECT_GT(found["data.json"], 5);
  // example_pipeline's and training_pipeline's runs/latest, and each artifact's in %artifacts.
  auto artifacts = tree_->OpenDir(Walk("%artifacts")->attr.ino);
  ASSERT_TRUE(artifacts.ok());
  EXPECT_GT((*artifacts)->items.size(), 5u);
  EXPECT_EQ(found["latest"], 2 + static_cast<int>((*artifacts)->items.size()));
  EXPECT_GE(found["model.bin"], 1);
  // ls -lR touched every name and every size: no artifact byte was read or opened.
  EXPECT_EQ(counting_->opens.load(), 0);
  EXPECT_EQ(counting_->reads.load(), 0);
}

TEST_F(TreeTest, MetaJsonSizeIsExactAndRendersWithoutArtifactBytes) {
  std::vector<std::pair<std::string, Entry>> all;
  Collect(kRootIno, "", 64, &all);
  int metas = 0;
  for (const auto& [path, e] : all) {
    if (path.size() < 9 || path.substr(path.size() - 9) != "meta.json") continue;
    const std::string text = ReadAll(e.attr.ino);
    EXPECT_EQ(text.size(), e.attr.size) << path;
    const json j = json::parse(text, nullptr, false);
    EXPECT_TRUE(j.is_object()) << path;
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    ++metas;
  }
  EXPECT_GT(metas, 20);
  EXPECT_EQ(counting_->opens.load(), 0);
  EXPECT_EQ(counting_->reads.load(), 0);
}

TEST_F(TreeTest, ReadsOnlyTheRangeAskedAtOddOffsets) {
  // Find the large artifact and its file on disk through the output's meta.json.
  std::vector<std::pair<std::string, Entry>> all;
  Collect(kRootIno, "", 64, &all);
  std::string big_path;
  Entry big;
  for (const auto& [path, e] : all) {
    if (path.size() > 9 && path.substr(path.size() - 9) == "model.bin") {
      big_path = path;
      big = e;
    }
  }
  ASSERT_FALSE(big_path.empty());
  EXPECT_EQ(big.attr.size, (3u << 20) + 17);
  auto meta = Walk(big_path.substr(0, big_path.rfind('/')) + "/meta.json");
  ASSERT_TRUE(meta.ok());
  const json j = json::parse(ReadAll(meta->attr.ino));
  const std::string disk = j.at("uri").get<std::string>() + "/model.bin";
  const int fd = open(disk.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << disk;
  auto f = tree_->Open(big.attr.ino);
  ASSERT_TRUE(f.ok());
  const long before = counting_->bytes.load();
  for (std::uint64_t off : {0ull, 1ull, 4095ull, 65537ull, (3ull << 20) - 3, (3ull << 20) + 16, (3ull << 20) + 17, (5ull << 20)}) {
    char a[333] = {}, b[333] = {};
    auto n = tree_->Read(**f, off, sizeof a, a);
    ASSERT_TRUE(n.ok());
    const ssize_t m = pread(fd, b, sizeof b, static_cast<off_t>(off));
    ASSERT_EQ(static_cast<ssize_t>(*n), m) << off;
    EXPECT_EQ(std::string(a, *n), std::string(b, static_cast<std::size_t>(m))) << off;
  }
  close(fd);
  // Eight reads of at most 333 bytes: nothing beyond the ranges asked was read.
  EXPECT_LE(counting_->bytes.load() - before, 8 * 333);
}

TEST_F(TreeTest, InodesAreStableAcrossRemounts) {
  auto a = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(a.ok());
  auto target = tree_->ReadLink(a->attr.ino);
  ASSERT_TRUE(target.ok());
  const std::string path = "example_pipeline/runs/" + *target + "/steps/step_1/outputs/output/data.json";
  auto first = Walk(path);
  ASSERT_TRUE(first.ok()) << path;
  Open();
  auto second = Walk(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->attr.ino, second->attr.ino);
  EXPECT_NE(first->attr.ino, kRootIno);
}

// What a whole walk sees: every path's mode and size, and the bytes of its small files.
std::map<std::string, std::string> Seen(const std::vector<std::pair<std::string, Entry>>& entries,
                                        const std::function<std::string(std::uint64_t)>& read) {
  std::map<std::string, std::string> seen;
  for (const auto& [path, e] : entries) {
    std::string what = std::to_string(e.attr.mode) + " " + std::to_string(e.attr.size);
    if (S_ISREG(e.attr.mode) && e.attr.size < (64u << 10)) what += " " + read(e.attr.ino);
    seen[path] = what;
  }
  return seen;
}

// A hash where every key of a kind collides with every other of that kind: every node
// still works (lookup, getattr, readdir, open, read give what the real hash gives) under
// its own inode number, and forgetting a node frees its number.
TEST_F(TreeTest, InodeCollisionsAreResolved) {
  std::vector<std::pair<std::string, Entry>> plain;
  ASSERT_NO_FATAL_FAILURE(Collect(kRootIno, "", 1000, &plain));
  const auto expected = Seen(plain, [&](std::uint64_t ino) { return ReadAll(ino); });

  Open(RowScope::kAll, [](const NodeKey& k) { return 1000 + static_cast<std::uint64_t>(k.kind); });
  std::vector<std::pair<std::string, Entry>> colliding;
  ASSERT_NO_FATAL_FAILURE(Collect(kRootIno, "", 1000, &colliding));
  EXPECT_EQ(Seen(colliding, [&](std::uint64_t ino) { return ReadAll(ino); }), expected);
  std::map<std::uint64_t, std::string> by_ino;
  int displaced = 0;
  for (const auto& [path, e] : colliding) {
    by_ino.emplace(e.attr.ino, path);
    if (e.attr.ino > 1000 + 64) ++displaced;
    auto again = tree_->GetAttr(e.attr.ino);
    ASSERT_TRUE(again.ok()) << path;
    EXPECT_EQ(again->attr.ino, e.attr.ino) << path;
    EXPECT_EQ(again->attr.mode, e.attr.mode) << path;
  }
  EXPECT_EQ(by_ino.size(), colliding.size()) << "two paths share an inode number";
  EXPECT_GT(displaced, 10) << "the hash should have forced collisions";

  // Deterministic for the same order of lookups: a second tree gives the same numbers.
  Open(RowScope::kAll, [](const NodeKey& k) { return 1000 + static_cast<std::uint64_t>(k.kind); });
  std::vector<std::pair<std::string, Entry>> again;
  ASSERT_NO_FATAL_FAILURE(Collect(kRootIno, "", 1000, &again));
  ASSERT_EQ(again.size(), colliding.size());
  for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].second.attr.ino, colliding[i].second.attr.ino);

  // Forgotten, a displaced node's number is free again; the node comes back under a
  // number of its own.
  const auto p = again.back();
  tree_->Forget(p.second.attr.ino, 1);
  auto back = Walk(p.first);
  ASSERT_TRUE(back.ok()) << p.first << ": " << back.status().ToString();
  EXPECT_EQ(back->attr.mode, p.second.attr.mode);
}

TEST_F(TreeTest, UnknownNamesAndWrongKindsFail) {
  EXPECT_EQ(ToErrno(tree_->Lookup(kRootIno, "no_such_pipeline").status()), ENOENT);
  EXPECT_EQ(ToErrno(Walk("example_pipeline/runs/nope").status()), ENOENT);
  auto meta = Walk("example_pipeline/meta.json");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(ToErrno(tree_->Lookup(meta->attr.ino, "x").status()), ENOTDIR);
  EXPECT_EQ(ToErrno(tree_->OpenDir(meta->attr.ino).status()), ENOTDIR);
  auto dir = Walk("example_pipeline/runs");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(ToErrno(tree_->Open(dir->attr.ino).status()), EISDIR);
  EXPECT_EQ(ToErrno(tree_->ReadLink(dir->attr.ino).status()), EINVAL);
}

TEST_F(TreeTest, ForgetReleasesEveryReference) {
  const std::size_t base = tree_->NodeCount();
  auto e = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(e.ok());
  auto again = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(tree_->NodeCount(), base + 3);  // pipeline, runs, latest
  auto p = tree_->Lookup(kRootIno, "example_pipeline");
  ASSERT_TRUE(p.ok());
  auto runs = tree_->Lookup(p->attr.ino, "runs");
  ASSERT_TRUE(runs.ok());
  tree_->Forget(e->attr.ino, 2);
  tree_->Forget(runs->attr.ino, 3);
  tree_->Forget(p->attr.ino, 3);
  EXPECT_EQ(tree_->NodeCount(), base);
  EXPECT_EQ(ToErrno(tree_->GetAttr(e->attr.ino).status()), ESTALE);
}

TEST_F(TreeTest, ArtifactsCarryTheirFilesOwnerAndModeAndOpenChecksTheCaller) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);  // mkdtemp made it 0700
  for (std::string dir = dir_.path(); dir.size() > 1;) {
    dir = dir.substr(0, std::max<std::size_t>(dir.rfind('/'), 1));
    struct stat sb;
    if (stat(dir.c_str(), &sb) != 0 || (sb.st_mode & 0111) != 0111) GTEST_SKIP() << dir << " is not world-searchable";
  }
  auto latest = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(latest.ok());
  const std::string out = "example_pipeline/runs/" + *tree_->ReadLink(latest->attr.ino) + "/steps/step_1/outputs/output";
  auto meta = Walk(out + "/meta.json");
  ASSERT_TRUE(meta.ok());
  const std::string disk = json::parse(ReadAll(meta->attr.ino)).at("uri").get<std::string>() + "/data.json";
  ASSERT_EQ(chown(disk.c_str(), 4242, 4343), 0);
  ASSERT_EQ(chmod(disk.c_str(), 06660), 0);
  perms_.uid = 1000;
  perms_.gid = 1001;
  perms_.check_callers = true;
  Open();

  auto folder = Walk(out);
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(folder->attr.uid, 1000u);
  EXPECT_EQ(folder->attr.gid, 1001u);
  EXPECT_EQ(folder->attr.mode, S_IFDIR | 0555u);
  auto file = Walk(out + "/data.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->attr.uid, 4242u);
  EXPECT_EQ(file->attr.gid, 4343u);
  EXPECT_EQ(file->attr.mode, S_IFREG | 0440u) << "write, setuid and setgid bits cleared";

  struct Case {
    const char* who;
    Caller caller;
    bool may;
  };
  const Case cases[] = {
      {"owner", {4242, 1, {}}, true},
      {"group member", {5555, 4343, {}}, true},
      {"supplementary group", {5555, 1, {7, 4343}}, true},
      {"other", {5555, 1, {7}}, false},
      {"root", {0, 0, {}}, true},
  };
  for (const Case& c : cases) {
    auto f = tree_->Open(file->attr.ino, c.caller);
    EXPECT_EQ(f.ok(), c.may) << c.who << ": " << f.status().ToString();
    if (!c.may) {
      EXPECT_EQ(ToErrno(f.status()), EACCES) << c.who;
    }
  }
  // Made private after the kernel saw 0440: the open decides on the file as it is now.
  ASSERT_EQ(chmod(disk.c_str(), 0600), 0);
  EXPECT_EQ(ToErrno(tree_->Open(file->attr.ino, Caller{5555, 4343, {}}).status()), EACCES);
  EXPECT_TRUE(tree_->Open(file->attr.ino, Caller{4242, 1, {}}).ok());
  // A private mount leaves the check to the kernel (only the mounting user reaches it).
  perms_.check_callers = false;
  Open();
  auto again = Walk(out + "/data.json");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->attr.mode, S_IFREG | 0400u);
  EXPECT_TRUE(tree_->Open(again->attr.ino, Caller{5555, 1, {}}).ok());
}

TEST_F(TreeTest, MissingArtifactStillListsAndExplains) {
  auto latest = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(latest.ok());
  const std::string run = "example_pipeline/runs/" + *tree_->ReadLink(latest->attr.ino);
  auto meta = Walk(run + "/steps/step_1/outputs/output/meta.json");
  ASSERT_TRUE(meta.ok());
  const std::string uri = json::parse(ReadAll(meta->attr.ino)).at("uri").get<std::string>();
  std::filesystem::remove_all(uri);
  Open();  // a fresh mount of the damaged store
  auto out = Walk(run + "/steps/step_1/outputs/output");
  ASSERT_TRUE(out.ok());
  auto listing = tree_->OpenDir(out->attr.ino);
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ((*listing)->items.size(), 1u);
  EXPECT_EQ((*listing)->items[0].name, "meta.json");
  auto m2 = Walk(run + "/steps/step_1/outputs/output/meta.json");
  ASSERT_TRUE(m2.ok());
  const json j = json::parse(ReadAll(m2->attr.ino));
  EXPECT_EQ(j.at("available"), false);
  EXPECT_NE(j.at("unavailable_reason").get<std::string>().find(uri), std::string::npos);
  EXPECT_TRUE(j.at("files").empty());
}

}  // namespace
}  // namespace zenfs

namespace zenfs {
namespace {

// Also with every key of a kind colliding, the folders displaced from their home numbers
// (another pipeline's were looked up first) are invalidated under their own numbers.
TEST_F(TreeTest, RefreshSeesChangesAndNamesWhatTheKernelMustForget) {
  for (const bool colliding : {false, true}) {
    SCOPED_TRACE(colliding ? "colliding hash" : "real hash");
    if (colliding) {
      Open(RowScope::kAll, [](const NodeKey& k) { return 1000 + static_cast<std::uint64_t>(k.kind); });
      ASSERT_TRUE(Walk("training_pipeline/runs/latest").ok());
    }
    ASSERT_NO_FATAL_FAILURE(DeleteNewestRunAndRefresh(colliding));
  }
}

void TreeTest::DeleteNewestRunAndRefresh(bool displaced) {
  auto runs = Walk("example_pipeline/runs");
  ASSERT_TRUE(runs.ok());
  auto latest = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(latest.ok());
  const std::string newest = *tree_->ReadLink(latest->attr.ino);
  EXPECT_TRUE(tree_->Refresh().empty()) << "nothing changed yet";

  // A writer deletes the newest run, as `zenml pipeline runs delete` would.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  const std::string sql = "DELETE FROM pipeline_run WHERE name = '" + newest + "'";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  const std::vector<Invalidation> inv = tree_->Refresh();
  auto has = [&](const Invalidation& x) { return std::find(inv.begin(), inv.end(), x) != inv.end(); };
  EXPECT_TRUE(has({Invalidation::Kind::kEntry, runs->attr.ino, newest}));
  EXPECT_TRUE(has({Invalidation::Kind::kInode, runs->attr.ino, ""}));
  EXPECT_TRUE(has({Invalidation::Kind::kInode, latest->attr.ino, ""}));
  EXPECT_EQ(ToErrno(tree_->Lookup(runs->attr.ino, newest).status()), ENOENT);
  EXPECT_NE(*tree_->ReadLink(latest->attr.ino), newest);
  EXPECT_TRUE(tree_->Refresh().empty()) << "a second refresh finds nothing new";
  if (displaced) {
    EXPECT_GT(runs->attr.ino, 1000u + 64) << "the runs folder should have been displaced";
  }
}

TEST_F(TreeTest, FixedNamesAreLookedUpWithoutTouchingTheArtifactStore) {
  const std::string step = FirstRunPath() + "/steps/step_1";
  auto st = Walk(step);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const int stats = counting_->stats, lists = counting_->lists;
  // A step's listing stats its logs and an output's lists the artifact folder; a lookup
  // of a name every step or output has needs neither.
  for (const char* name : {"outputs", "output"}) {
    auto e = tree_->Lookup(st->attr.ino, name);
    ASSERT_TRUE(e.ok()) << name << ": " << e.status().ToString();
  }
  EXPECT_EQ(tree_->Lookup(st->attr.ino, "no-such-name").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(counting_->stats, stats);
  EXPECT_EQ(counting_->lists, lists);
  // The names still agree with the listing.
  auto listing = tree_->OpenDir(st->attr.ino);
  ASSERT_TRUE(listing.ok());
  std::set<std::string> listed;
  for (const Listing::Item& item : (*listing)->items) listed.insert(item.name);
  ASSERT_EQ(listed.count("logs"), 1u) << "the demo's step_1 has logs, whose listing would stat them";
  for (const char* name : {"meta.json", "outputs", "output", "logs"}) {
    EXPECT_EQ(listed.count(name) == 1, tree_->Lookup(st->attr.ino, name).ok()) << name;
  }
}

TEST_F(TreeTest, RunsOnlyPictureListsRunsAndReadsTheRestOnceWhenAsked) {
  std::vector<std::pair<std::string, Entry>> whole;
  Collect(kRootIno, "", 5, &whole);
  ASSERT_FALSE(whole.empty());

  Open(RowScope::kRuns);
  // The root, the pipelines, their runs/ folders and the run folders themselves answer
  // from the runs alone.
  auto root = tree_->OpenDir(kRootIno);
  ASSERT_TRUE(root.ok());
  for (const Listing::Item& p : (*root)->items) {
    auto pe = tree_->Lookup(kRootIno, p.name);
    ASSERT_TRUE(pe.ok()) << p.name << ": " << pe.status().ToString();
    if (!S_ISDIR(pe->attr.mode) || p.name.rfind('%', 0) == 0) continue;  // %by-id: no runs/
    auto runs = tree_->Lookup(pe->attr.ino, "runs");
    ASSERT_TRUE(runs.ok()) << p.name;
    auto listing = tree_->OpenDir(runs->attr.ino);
    ASSERT_TRUE(listing.ok()) << p.name;
    for (const Listing::Item& r : (*listing)->items) {
      auto re = tree_->Lookup(runs->attr.ino, r.name);
      ASSERT_TRUE(re.ok()) << p.name << "/runs/" << r.name << ": " << re.status().ToString();
      EXPECT_TRUE(tree_->GetAttr(re->attr.ino).ok());
      if (r.type == S_IFDIR) {  // not latest, latest-completed, latest-failed
        EXPECT_TRUE(tree_->OpenDir(re->attr.ino).ok());
      }
    }
  }
  EXPECT_EQ(counting_catalog_->full_loads.load(), 0) << "listing runs read the steps";

  // Anything below a run's folder reads the rest, once, and then shows what a tree
  // started from the whole structure shows.
  std::vector<std::pair<std::string, Entry>> two_stage;
  Collect(kRootIno, "", 5, &two_stage);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
  ASSERT_EQ(two_stage.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(two_stage[i].first, whole[i].first);
    EXPECT_EQ(two_stage[i].second.attr.ino, whole[i].second.attr.ino) << whole[i].first;
    EXPECT_EQ(two_stage[i].second.attr.mode, whole[i].second.attr.mode) << whole[i].first;
    EXPECT_EQ(two_stage[i].second.attr.size, whole[i].second.attr.size) << whole[i].first;
    EXPECT_EQ(two_stage[i].second.attr.mtime, whole[i].second.attr.mtime) << whole[i].first;
  }
  // The store did not change between the two reads: nothing for the kernel to forget.
  EXPECT_TRUE(tree_->Refresh().empty());
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
}

TEST_F(TreeTest, PipelinesOnlyPictureAnswersTheRootThenReadsRunsThenTheRest) {
  std::vector<std::pair<std::string, Entry>> whole;
  Collect(kRootIno, "", 6, &whole);
  ASSERT_FALSE(whole.empty());

  Open(RowScope::kPipelines);
  // The root, its meta.json and the pipeline folders (with their runs/ entries) answer
  // from the pipelines alone, with the same attributes as from the whole structure.
  auto same_as_whole = [&](const std::string& path, const Entry& e) {
    for (const auto& [p, w] : whole) {
      if (p != path) continue;
      EXPECT_EQ(e.attr.ino, w.attr.ino) << path;
      EXPECT_EQ(e.attr.mode, w.attr.mode) << path;
      EXPECT_EQ(e.attr.size, w.attr.size) << path;
      EXPECT_EQ(e.attr.mtime, w.attr.mtime) << path;
      return;
    }
    ADD_FAILURE() << path << " is not in the whole tree";
  };
  auto root = tree_->OpenDir(kRootIno);
  ASSERT_TRUE(root.ok());
  std::vector<std::uint64_t> runs_dirs;
  for (const Listing::Item& p : (*root)->items) {
    auto pe = tree_->Lookup(kRootIno, p.name);
    ASSERT_TRUE(pe.ok()) << p.name << ": " << pe.status().ToString();
    same_as_whole(p.name, *pe);
    if (!S_ISDIR(pe->attr.mode)) continue;
    if (p.name == "%artifacts") continue;  // its listing reads the whole structure
    ASSERT_TRUE(tree_->OpenDir(pe->attr.ino).ok()) << p.name;
    if (p.name.rfind('%', 0) == 0) continue;  // %by-id: lists empty, has no runs/
    auto runs = tree_->Lookup(pe->attr.ino, "runs");
    ASSERT_TRUE(runs.ok()) << p.name;
    same_as_whole(p.name + "/runs", *runs);
    runs_dirs.push_back(runs->attr.ino);
  }
  ASSERT_FALSE(runs_dirs.empty());
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 0) << "the root read the runs";
  EXPECT_EQ(counting_catalog_->full_loads.load(), 0);

  // Listing runs reads the runs (not the steps), once for every pipeline.
  for (std::uint64_t dir : runs_dirs) ASSERT_TRUE(tree_->OpenDir(dir).ok());
  EXPECT_EQ(tree_->Current()->scope(), RowScope::kRuns);
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 1);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 0);

  // Below a run, the rest; then the walk shows exactly what the whole tree shows.
  std::vector<std::pair<std::string, Entry>> staged;
  Collect(kRootIno, "", 6, &staged);
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 1);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
  ASSERT_EQ(staged.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(staged[i].first, whole[i].first);
    same_as_whole(staged[i].first, staged[i].second);
  }
  EXPECT_TRUE(tree_->Refresh().empty()) << "the store did not change between the reads";
}

TEST_F(TreeTest, PipelineMetaJsonFromAPipelinesOnlyPictureReadsTheRuns) {
  auto whole = Walk("example_pipeline/meta.json");
  ASSERT_TRUE(whole.ok());
  Open(RowScope::kPipelines);
  auto meta = Walk("example_pipeline/meta.json");
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->attr.size, whole->attr.size) << "run_count and the runs are in it";
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 1);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 0);
}

TEST_F(TreeTest, RunsThatCannotBeReadAreAnErrorBelowThePipelines) {
  Open(RowScope::kPipelines);
  counting_catalog_->fail_runs = 1;
  auto runs = Walk("example_pipeline/runs");
  ASSERT_TRUE(runs.ok()) << "the folder itself needs only its pipeline";
  auto listing = tree_->OpenDir(runs->attr.ino);
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(ToErrno(listing.status()), EIO);
  EXPECT_NE(listing.status().message().find("injected"), std::string::npos) << listing.status().ToString();
  auto meta = Walk("example_pipeline/meta.json");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(ToErrno(meta.status()), EIO);
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 1) << "remembered until the next refresh";
  EXPECT_TRUE(tree_->OpenDir(kRootIno).ok()) << "the root still lists";
  tree_->Refresh();
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 2);
  auto again = tree_->OpenDir(runs->attr.ino);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT((*again)->items.size(), 1u) << "latest and the runs";
}

TEST_F(TreeTest, RefreshReadsRunsThenTheRestOneScopeAtATime) {
  Open(RowScope::kPipelines);
  EXPECT_TRUE(tree_->Refresh().empty());
  EXPECT_EQ(tree_->Current()->scope(), RowScope::kRuns);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 0);
  EXPECT_TRUE(tree_->Refresh().empty());
  EXPECT_EQ(tree_->Current()->scope(), RowScope::kAll);
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 1);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
  // Whole: refreshes now read only when the store changes.
  EXPECT_TRUE(tree_->Refresh().empty());
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
}

TEST_F(TreeTest, RefreshReadsTheRestOfARunsOnlyPicture) {
  Open(RowScope::kRuns);
  EXPECT_TRUE(tree_->Refresh().empty());
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
  EXPECT_EQ(tree_->Current()->scope(), RowScope::kAll);
  const std::string run = FirstRunPath();
  auto steps = Walk(run + "/steps");
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  auto listing = tree_->OpenDir(steps->attr.ino);
  ASSERT_TRUE(listing.ok());
  EXPECT_FALSE((*listing)->items.empty());
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
}

TEST_F(TreeTest, StepsThatCannotBeReadAreAnErrorNotAnEmptyRun) {
  Open(RowScope::kRuns);
  counting_catalog_->fail_full = 1;
  const std::string run = FirstRunPath();
  ASSERT_TRUE(Walk(run).ok()) << "the run folder itself needs no steps";
  auto steps_dir = Walk(run + "/steps");
  ASSERT_TRUE(steps_dir.ok()) << "nor the steps/ folder's attributes";
  auto steps = tree_->OpenDir(steps_dir->attr.ino);
  ASSERT_FALSE(steps.ok());
  EXPECT_EQ(ToErrno(steps.status()), EIO);
  EXPECT_NE(steps.status().message().find("injected"), std::string::npos) << steps.status().ToString();
  // Remembered until the next refresh: requests do not each read the store again.
  auto meta = Walk(run + "/meta.json");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(ToErrno(meta.status()), EIO);
  EXPECT_EQ(counting_catalog_->full_loads.load(), 1);
  // Runs still list.
  auto runs = Walk("example_pipeline/runs");
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(tree_->OpenDir(runs->attr.ino).ok());
  // The refresher tries again, and then everything answers.
  tree_->Refresh();
  EXPECT_EQ(counting_catalog_->full_loads.load(), 2);
  auto again = Walk(run + "/steps");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto listing = tree_->OpenDir(again->attr.ino);
  ASSERT_TRUE(listing.ok());
  EXPECT_FALSE((*listing)->items.empty());
  EXPECT_TRUE(Walk(run + "/meta.json").ok());
}

// The steps cannot be read (a server timing out under load) for many intervals: runs
// written or deleted meanwhile still show, and the steps come once they read again.
TEST_F(TreeTest, RunsFollowTheStoreWhileTheStepsCannotBeRead) {
  Open(RowScope::kRuns);
  counting_catalog_->fail_full = 1000;
  auto latest = Walk("example_pipeline/runs/latest");
  ASSERT_TRUE(latest.ok());
  const std::string newest = *tree_->ReadLink(latest->attr.ino);
  tree_->Refresh();
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 0) << "nothing changed: the runs are not read again";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  const std::string sql = "DELETE FROM pipeline_run WHERE name = '" + newest + "'";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  tree_->Refresh();
  EXPECT_EQ(counting_catalog_->runs_loads.load(), 1);
  EXPECT_EQ(tree_->Current()->scope(), RowScope::kRuns);
  auto runs = Walk("example_pipeline/runs");
  ASSERT_TRUE(runs.ok());
  auto listing = tree_->OpenDir(runs->attr.ino);
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  for (const Listing::Item& item : (*listing)->items) EXPECT_NE(item.name, newest) << "the deleted run still lists";
  counting_catalog_->fail_full = 0;
  tree_->Refresh();
  EXPECT_EQ(tree_->Current()->scope(), RowScope::kAll);
}

TEST(PlaceIndex, FindsEveryKeyTheFirstPlaceWinsAndMissesAreMinusOne) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("id-" + std::to_string((i * 7919) % 1000));
  keys.push_back("id-3");  // a duplicate, later
  const auto key = [&](int i) -> std::string_view { return keys[static_cast<std::size_t>(i)]; };
  PlaceIndex index;
  index.Build(keys.size(), key);
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) EXPECT_EQ(index.Find(keys[i], key), static_cast<int>(i)) << keys[i];
  EXPECT_LT(index.Find("id-3", key), 1000) << "the first place of a duplicate";
  EXPECT_EQ(index.Find("id-1000", key), -1);
  EXPECT_EQ(index.Find("", key), -1);
  EXPECT_EQ(index.Find("id-", key), -1);
  EXPECT_EQ(PlaceIndex().Find("id-1", key), -1);
}

TEST(Slice, ReadsLikeTheVectorItViewsAndComparesByElements) {
  const std::vector<std::string> a{"x", "y"}, b{"x", "y"}, c{"x"};
  const Slice<std::string> sa(a);
  EXPECT_EQ(sa.size(), 2u);
  EXPECT_EQ(sa.front(), "x");
  EXPECT_EQ(sa.back(), "y");
  EXPECT_TRUE(sa == Slice<std::string>(b));
  EXPECT_TRUE(sa != Slice<std::string>(c));
  EXPECT_TRUE(Slice<std::string>().empty());
  EXPECT_EQ(static_cast<std::vector<std::string>>(sa), a);
}

TEST(NameIndex, SmallAndLargeDirectoriesFindTheSameNames) {
  for (int n : {3, 31, 32, 500}) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back("run-" + std::to_string(n - i));
    NameIndex index;
    index.Build(&names);
    for (int i = 0; i < n; ++i) EXPECT_EQ(index.Find(names[static_cast<std::size_t>(i)]), i) << n;
    EXPECT_EQ(index.Find("run-0"), -1) << n;
    EXPECT_EQ(index.Find("latest"), -1) << n;
  }
}

TEST(DiffSnapshots, FromRunsOnlyOnlyRunsThatChangedAreForgotten) {
  StoreRows rows;
  rows.pipelines.push_back({"p", "pipe", 1, 1});
  rows.runs.push_back({"a", "run a", "p", "running", 1, std::nullopt, 1, 1});
  rows.runs.push_back({"b", "run b", "p", "completed", 2, 3, 2, 3});
  StoreRows runs_only = rows;
  runs_only.scope = RowScope::kRuns;
  auto before = Snapshot::Build(runs_only, 1);
  rows.runs[0].status = "completed";
  rows.runs[0].end_time = 5;
  rows.steps.push_back({"s", "a", "train", "completed", "", 1, 5, 1, 5});
  rows.steps.push_back({"t", "b", "train", "completed", "", 2, 3, 2, 3});
  auto after = Snapshot::Build(rows, 2);
  const auto inv = DiffSnapshots(*before, *after);
  const Invalidation run_a{Invalidation::Kind::kInode, InodeOf({NodeKind::kRun, "a", "", ""}), ""};
  EXPECT_EQ(inv, std::vector<Invalidation>{run_a})
      << "steps were never shown from the runs-only picture; only run a changed";
}

TEST(DiffSnapshots, FromPipelinesOnlyOnlyAPipelineWhoseFirstRunMovedIsForgotten) {
  StoreRows rows;
  rows.pipelines.push_back({"p", "pipe", 1, 1});
  rows.pipelines.push_back({"q", "other", 1, 1});
  rows.runs.push_back({"a", "run a", "p", "completed", 10, 11, 10, 11});
  rows.runs.push_back({"b", "run b", "p", "completed", 20, 21, 20, 21});
  rows.runs.push_back({"c", "run c", "q", "completed", 30, 31, 30, 31});
  StoreRows first;
  first.scope = RowScope::kPipelines;
  first.pipelines = rows.pipelines;
  first.first_runs.push_back({"p", "a", 10, 10});
  first.first_runs.push_back({"q", "c", 30, 30});
  auto before = Snapshot::Build(first, 1);
  EXPECT_TRUE(DiffSnapshots(*before, *Snapshot::Build(rows, 2)).empty())
      << "no run list was shown from the pipelines-only picture";
  // A run of q older than its first one appeared between the two reads.
  rows.runs.push_back({"d", "run d", "q", "completed", 25, 26, 25, 26});
  const auto inv = DiffSnapshots(*before, *Snapshot::Build(rows, 2));
  const std::vector<Invalidation> want{
      {Invalidation::Kind::kInode, InodeOf({NodeKind::kPipeline, "q", "", ""}), ""},
      {Invalidation::Kind::kInode, InodeOf({NodeKind::kRunsDir, "q", "", ""}), ""}};
  EXPECT_EQ(inv, want);
}

TEST(DiffSnapshots, RunningRunThatFinishesIsInvalidatedFinishedOnesAreNot) {
  StoreRows rows;
  rows.pipelines.push_back({"p", "pipe", 1, 1});
  rows.runs.push_back({"old", "old run", "p", "completed", 1, 2, 1, 2});
  rows.runs.push_back({"new", "new run", "p", "running", 3, std::nullopt, 3, 3});
  rows.steps.push_back({"s", "new", "train", "running", "", 3, std::nullopt, 3, 3});
  auto before = Snapshot::Build(rows, 1);
  rows.runs[1].status = "completed";
  rows.runs[1].end_time = 9;
  rows.steps[0].status = "completed";
  rows.outputs.push_back({"s", "model", "v"});
  auto after = Snapshot::Build(rows, 2);
  const auto inv = DiffSnapshots(*before, *after);
  auto has_inode = [&](NodeKind k, const std::string& id) {
    const Invalidation x{Invalidation::Kind::kInode, InodeOf({k, id, "", ""}), ""};
    return std::find(inv.begin(), inv.end(), x) != inv.end();
  };
  EXPECT_TRUE(has_inode(NodeKind::kRunMeta, "new"));
  EXPECT_TRUE(has_inode(NodeKind::kStepMeta, "s"));
  EXPECT_TRUE(has_inode(NodeKind::kOutputsDir, "s"));
  EXPECT_FALSE(has_inode(NodeKind::kRunMeta, "old"));
  // The new output's name and the step's new `output` link drop any negative entry.
  const Invalidation out{Invalidation::Kind::kEntry, InodeOf({NodeKind::kOutputsDir, "s", "", ""}), "model"};
  EXPECT_NE(std::find(inv.begin(), inv.end(), out), inv.end());
  const Invalidation link{Invalidation::Kind::kEntry, InodeOf({NodeKind::kStep, "s", "", ""}), "output"};
  EXPECT_NE(std::find(inv.begin(), inv.end(), link), inv.end());
  // runs/latest-completed moves from the old run to the new one: its name and its link.
  const Invalidation view{Invalidation::Kind::kEntry, InodeOf({NodeKind::kRunsDir, "p", "", ""}), "latest-completed"};
  EXPECT_NE(std::find(inv.begin(), inv.end(), view), inv.end());
  const Invalidation view_link{Invalidation::Kind::kInode, InodeOf({NodeKind::kStatusLatest, "p", "completed", ""}), ""};
  EXPECT_NE(std::find(inv.begin(), inv.end(), view_link), inv.end());
  EXPECT_TRUE(has_inode(NodeKind::kPipelineMeta, "p"));
  // No run failed before or after: latest-failed is not named.
  const Invalidation failed{Invalidation::Kind::kEntry, InodeOf({NodeKind::kRunsDir, "p", "", ""}), "latest-failed"};
  EXPECT_EQ(std::find(inv.begin(), inv.end(), failed), inv.end());
  EXPECT_TRUE(DiffSnapshots(*after, *after).empty());
}

// A version registered by hand (the demo's iris_baseline) is a folder of %artifacts made
// like an output folder; a produced one is a link to its producing output; evaluate's input
// of the registered version links into %artifacts, and each meta.json names its consumers.
TEST_F(TreeTest, ArtifactsViewShowsEveryVersionByNameAndVersion) {
  auto latest = Walk("%artifacts/iris_baseline/latest");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(*tree_->ReadLink(latest->attr.ino), "1");
  auto dir = Walk("%artifacts/iris_baseline/1");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(S_ISDIR(dir->attr.mode));
  auto listing = tree_->OpenDir(dir->attr.ino);
  ASSERT_TRUE(listing.ok());
  std::set<std::string> names;
  for (const Listing::Item& item : (*listing)->items) names.insert(item.name);
  EXPECT_EQ(names, (std::set<std::string>{"meta.json", "data.json"}));
  auto data = Walk("%artifacts/iris_baseline/1/data.json");
  ASSERT_TRUE(data.ok());
  EXPECT_NE(ReadAll(data->attr.ino).find("accuracy"), std::string::npos);
  const auto meta = nlohmann::json::parse(ReadAll(Walk("%artifacts/iris_baseline/1/meta.json")->attr.ino));
  EXPECT_EQ(meta.at("name"), "1");
  EXPECT_EQ(meta.at("artifact_name"), "iris_baseline");
  EXPECT_TRUE(meta.at("producer").is_null());
  EXPECT_TRUE(meta.at("available").get<bool>());
  auto train = Walk("training_pipeline/runs/latest");
  ASSERT_TRUE(train.ok());
  const std::string evaluate = "training_pipeline/runs/" + *tree_->ReadLink(train->attr.ino) + "/steps/evaluate";
  EXPECT_EQ(meta.at("consumers"), nlohmann::json::parse(R"([{"step": ")" + evaluate + R"(", "input": "baseline"}])"));
  // evaluate's input: into %artifacts.
  auto input = Walk(evaluate + "/inputs/baseline");
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  EXPECT_EQ(*tree_->ReadLink(input->attr.ino), "../../../../../../%artifacts/iris_baseline/1");
  // %by-id of the version: its folder.
  auto by_id = Walk("%by-id/" + meta.at("artifact_version_id").get<std::string>());
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(*tree_->ReadLink(by_id->attr.ino), "../%artifacts/iris_baseline/1");
  // A produced version: a link to the producing output (the first, not the cached copy).
  auto produced = Walk("%artifacts/example_pipeline::step_1::output/1");
  ASSERT_TRUE(produced.ok()) << produced.status().ToString();
  EXPECT_TRUE(S_ISLNK(produced->attr.mode));
  const std::string target = *tree_->ReadLink(produced->attr.ino);
  EXPECT_EQ(target.rfind("../../example_pipeline/runs/", 0), 0u) << target;
  EXPECT_NE(target.find("/steps/step_1/outputs/output"), std::string::npos) << target;
  auto out_meta = Walk(target.substr(std::string("../../").size()) + "/meta.json");
  ASSERT_TRUE(out_meta.ok());
  const auto om = nlohmann::json::parse(ReadAll(out_meta->attr.ino));
  ASSERT_EQ(om.at("consumers").size(), 2u) << om.at("consumers");  // step_2 of run 0 and of its cached copy
  for (const auto& c : om.at("consumers")) EXPECT_EQ(c.at("input"), "data");
  EXPECT_EQ(ToErrno(Walk("%artifacts/iris_baseline/2").status()), ENOENT);
  EXPECT_EQ(ToErrno(Walk("%artifacts/no such artifact").status()), ENOENT);
}

TEST(SnapshotArtifacts, VersionsByNameOldestFirstLatestReservedConsumersSorted) {
  StoreRows rows;
  rows.pipelines.push_back({"p", "pipe", 1, 1});
  rows.runs.push_back({"r", "run", "p", "completed", 1, 2, 1, 2});
  rows.steps.push_back({"s1", "r", "make", "completed", "", 1, 2, 1, 2});
  rows.steps.push_back({"s2", "r", "use", "completed", "", 3, 4, 3, 4});
  rows.outputs.push_back({"s1", "out", "v2"});
  rows.inputs.push_back({"s2", "x", "v1"});
  rows.inputs.push_back({"s2", "a", "v1"});
  rows.inputs.push_back({"s2", "y", "gone"});
  // "data": v1 and v2 created together (the greater id is newer), v3 older and named latest.
  rows.artifact_versions.push_back({"v2", "/u2", "", 5, 5, "", "data", "2"});
  rows.artifact_versions.push_back({"v1", "/u1", "", 5, 5, "", "data", "1"});
  rows.artifact_versions.push_back({"v3", "/u3", "", 3, 3, "", "data", "latest"});
  rows.artifact_versions.push_back({"w1", "/w", "", 9, 9, "", "a/b", "1"});
  auto s = Snapshot::Build(rows, 1);
  ASSERT_EQ(s->artifact_names(), (std::vector<std::string>{"a%2Fb", "data"}));
  const Snapshot::Artifact& data = s->artifacts()[1];
  ASSERT_EQ(data.versions.size(), 3u);
  EXPECT_EQ(s->rows().artifact_versions[static_cast<std::size_t>(data.versions[0])].id, "v3");
  EXPECT_EQ(s->rows().artifact_versions[static_cast<std::size_t>(data.versions[2])].id, "v2");  // latest
  EXPECT_EQ(data.version_names[0].rfind("latest~", 0), 0u) << data.version_names[0];
  EXPECT_EQ(data.version_names[1], "1");
  EXPECT_EQ(data.version_names[2], "2");
  EXPECT_EQ(data.version_index.Find("2"), 2);
  EXPECT_EQ(data.version_index.Find("latest"), -1);
  const int v1 = s->FindVersion("v1"), v2 = s->FindVersion("v2");
  EXPECT_EQ(s->VersionPath(v1), "%artifacts/data/1");
  EXPECT_EQ(s->VersionHome(v1), "%artifacts/data/1");  // no step produced it
  EXPECT_EQ(s->VersionHome(v2), "pipe/runs/run/steps/make/outputs/out");
  EXPECT_EQ(s->ConsumersOf(v1), (std::vector<int>{0, 1}));
  EXPECT_TRUE(s->ConsumersOf(v2).empty());
  meta::OutputFacts facts;
  const auto m = nlohmann::json::parse(meta::RenderVersion(*s, v1, facts));
  EXPECT_EQ(m.at("name"), "1");
  EXPECT_EQ(m.at("artifact_version_id"), "v1");
  EXPECT_EQ(m.at("consumers"), nlohmann::json::parse(R"([{"step": "pipe/runs/run/steps/use", "input": "a"},
                                                        {"step": "pipe/runs/run/steps/use", "input": "x"}])"));
  EXPECT_TRUE(m.at("producer").is_null());
}

TEST(DiffSnapshots, ANewConsumerOrVersionInvalidatesMetaJsonAndArtifactFolders) {
  StoreRows rows;
  rows.pipelines.push_back({"p", "pipe", 1, 1});
  rows.runs.push_back({"r", "run", "p", "completed", 1, 2, 1, 2});
  rows.steps.push_back({"s1", "r", "make", "completed", "", 1, 2, 1, 2});
  rows.outputs.push_back({"s1", "out", "v1"});
  rows.artifact_versions.push_back({"v1", "/u1", "", 5, 5, "", "data", "1"});
  rows.artifact_versions.push_back({"h1", "/h1", "", 5, 5, "", "by hand", "1"});
  auto before = Snapshot::Build(rows, 1);
  rows.runs.push_back({"r2", "run 2", "p", "completed", 3, 4, 3, 4});
  rows.steps.push_back({"s2", "r2", "use", "completed", "", 3, 4, 3, 4});
  rows.inputs.push_back({"s2", "x", "v1"});
  rows.inputs.push_back({"s2", "y", "h1"});
  rows.artifact_versions.push_back({"v2", "/u2", "", 6, 6, "", "data", "2"});
  auto after = Snapshot::Build(rows, 2);
  const auto inv = DiffSnapshots(*before, *after);
  auto has = [&](Invalidation::Kind kind, const NodeKey& key, const std::string& name = "") {
    const Invalidation x{kind, InodeOf(key), name};
    return std::find(inv.begin(), inv.end(), x) != inv.end();
  };
  EXPECT_TRUE(has(Invalidation::Kind::kInode, {NodeKind::kOutputMeta, "s1", "v1", ""}));
  EXPECT_TRUE(has(Invalidation::Kind::kInode, {NodeKind::kOutputMeta, "", "v1", ""}));
  EXPECT_TRUE(has(Invalidation::Kind::kInode, {NodeKind::kOutputMeta, "", "h1", ""}));
  EXPECT_TRUE(has(Invalidation::Kind::kInode, {NodeKind::kArtifactDir, "", "data", ""}));
  EXPECT_TRUE(has(Invalidation::Kind::kInode, {NodeKind::kArtifactLatest, "", "data", ""}));
  EXPECT_TRUE(has(Invalidation::Kind::kEntry, {NodeKind::kArtifactDir, "", "data", ""}, "2"));
  EXPECT_FALSE(has(Invalidation::Kind::kInode, {NodeKind::kArtifactDir, "", "by hand", ""}));
  EXPECT_TRUE(DiffSnapshots(*after, *after).empty());
}

}  // namespace
}  // namespace zenfs
