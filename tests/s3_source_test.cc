// The S3 artifact source through the real binary on real mounts, against the binary's S3
// server (tests/moto_server.h, authentication on): a demo store whose artifacts were
// uploaded by `zenfs demo --artifact-store`, compared file by file with its local twin
// (the same demo written to a folder: the demo is deterministic, so every artifact and log
// file has the same bytes at the same mount path).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <functional>
#include <future>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/block_cache.h"
#include "store/s3_artifact_source.h"
#include "store/s3_client.h"
#include "tests/fault_proxy.h"
#include "tests/hostile_util.h"
#include "tests/mount_util.h"
#include "tests/moto_server.h"
#include "tests/test_util.h"

namespace zenfs::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBucket = "zenfs-source-tests";
constexpr const char* kPrefix = "team/artifacts";
// Generous: a loaded 2-core machine; what these bounds catch is a hang.
constexpr double kCallBound = 60;

std::string Root() { return std::string("s3://") + kBucket + "/" + kPrefix; }

// ---- the binary's moto server (tests/moto_server.h)

// The shared server, or null and a test failure (a missing server is never a skip).
MotoServer* Server() {
  std::string why;
  MotoServer* server = MotoEnvironment::Shared(&why);
  if (server == nullptr) ADD_FAILURE() << why;
  return server;
}
std::string S3Endpoint() { return Server() != nullptr ? Server()->endpoint() : "http://127.0.0.1:1"; }
std::string S3AccessKey() { return Server() != nullptr ? Server()->credentials().access_key_id : "?"; }
std::string S3SecretKey() { return Server() != nullptr ? Server()->credentials().secret_access_key : "?"; }
bool S3ServerRunning() { return Server() != nullptr && Server()->running(); }
std::unique_ptr<S3Client> S3TestClient() { return Server()->MakeClient(); }

// The server's key in this process's environment, where every zenfs it runs finds it
// (the first link of the credentials chain); nothing else of the chain is tried.
// Every secret a test gave zenfs: no log line or meta.json may show one (the last test).
std::set<std::string>& SecretsGiven() {
  static std::set<std::string> secrets;
  return secrets;
}

void ExportCredentials() {
  SecretsGiven().insert(S3SecretKey());
  setenv("AWS_ACCESS_KEY_ID", S3AccessKey().c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", S3SecretKey().c_str(), 1);
  setenv("AWS_REGION", "us-east-1", 1);
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_ENDPOINT_URL");
  unsetenv("AWS_ENDPOINT_URL_S3");
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

// `zenfs demo DIR --artifact-store` with the suite's knobs: uploads the S3 store's objects.
CommandResult WriteS3Demo(const std::string& dir) {
  ExportCredentials();
  return RunZenfs({"demo", dir, "--artifact-store", Root(), "--s3-endpoint", S3Endpoint(), "--runs", "3",
                   "--artifact-bytes", "6M", "--schema", "latest"},
                  300);
}

void StopS3Server() { Server()->Stop(); }
// After a Stop: moto restarts empty with a new key, so the objects are uploaded again
// (the demo's keys and bytes are the same every time).
void StartS3Server(const std::string& scratch) {
  if (Server() == nullptr || Server()->running()) return;
  const Status s = Server()->Restart();
  ASSERT_TRUE(s.ok()) << s.ToString();
  const CommandResult again = WriteS3Demo(scratch + "/reupload-" + std::to_string(getpid()) + "-" +
                                          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  ASSERT_EQ(again.exit_code, 0) << again.err;
}

// The tree's entries without meta.json documents (they name each store's own URIs and
// paths): what the S3 store and its local twin must show alike.
std::map<std::string, std::string> ArtifactTree(const std::string& mnt) {
  std::map<std::string, std::string> out;
  for (auto& [path, hash] : HashTree(mnt)) {
    if (fs::path(path).filename() != "meta.json") out[path] = hash;
  }
  return out;
}

// Every file's size below `mnt` (meta.json documents left out).
std::map<std::string, std::uint64_t> Sizes(const std::string& mnt) {
  std::map<std::string, std::uint64_t> out;
  for (auto& [path, hash] : ArtifactTree(mnt)) {
    auto st = Lstat(mnt + "/" + path);
    if (st && S_ISREG(st->st_mode)) out[path] = static_cast<std::uint64_t>(st->st_size);
  }
  return out;
}

// Every meta.json below `mnt`, concatenated.
std::string AllMeta(const std::string& mnt) {
  std::string out;
  for (auto& [path, hash] : HashTree(mnt)) {
    if (fs::path(path).filename() == "meta.json") out += ReadAll(mnt + "/" + path).value_or("") + "\n";
  }
  return out;
}

class S3SourceTest : public ::testing::Test {
 protected:
  // One S3 store and its local twin for the whole suite (uploading is the slow part).
  static void SetUpTestSuite() {
    scratch_ = new WorldScratch();
    s3_store_ = scratch_->path() + "/s3-store";
    local_store_ = scratch_->path() + "/local-store";
    written_ = WriteS3Demo(s3_store_);
    local_written_ = RunZenfs({"demo", local_store_, "--runs", "3", "--artifact-bytes", "6M", "--schema", "latest"}, 300);
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }

  void SetUp() override {
    ZENFS_SKIP_WITHOUT_FUSE();
    ASSERT_EQ(written_.exit_code, 0) << written_.out << written_.err;
    ASSERT_EQ(local_written_.exit_code, 0) << local_written_.err;
    ASSERT_TRUE(S3ServerRunning()) << "the S3 server is down";
    ExportCredentials();
  }
  void TearDown() override { StartS3Server(scratch_->path()); }

  // A fresh folder below the suite's scratch (world-traversable).
  std::string Folder(const std::string& name) {
    const std::string p = scratch_->path() + "/" + name + "-" + std::to_string(++folders_);
    fs::create_directories(p);
    chmod(p.c_str(), 0755);
    return p;
  }

  std::unique_ptr<Mount> MountStore(const std::string& store, std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--s3-timeout", "2", "--log-level", "debug"});
    auto m = std::make_unique<Mount>(Mount::Options{store, Folder("mnt"), extra});
    EXPECT_TRUE(m->ok()) << m->error();
    return m;
  }

  // The model's path below a mount (the 6 MiB artifact of training_pipeline).
  static std::string ModelOf(const std::string& mnt) {
    for (auto& [path, hash] : HashTree(mnt + "/training_pipeline")) {
      if (fs::path(path).filename() == "model.bin") return mnt + "/training_pipeline/" + path;
    }
    return "";
  }

  static inline WorldScratch* scratch_ = nullptr;
  static inline std::string s3_store_, local_store_;
  static inline CommandResult written_, local_written_;
  static inline int folders_ = 0;  // suite-wide: every test gets folders of its own
};

TEST_F(S3SourceTest, EveryFileAsUploadedColdThenWarm) {
  auto local = MountStore(local_store_, {});
  const std::map<std::string, std::string> want = ArtifactTree(local->path());
  const std::map<std::string, std::uint64_t> sizes = Sizes(local->path());
  ASSERT_GT(want.size(), 50u);
  const std::string cache = Folder("cache");
  for (const char* state : {"cold", "warm"}) {
    auto s3 = MountStore(s3_store_, {"--cache-dir", cache + "/zenfs"});
    ASSERT_TRUE(s3->ok());
    EXPECT_EQ(Sizes(s3->path()), sizes) << state << ": sizes differ";
    EXPECT_EQ(ArtifactTree(s3->path()), want) << state << ": bytes or folders differ";
    // The output's meta.json names its S3 URI and its files.
    const std::string model = ModelOf(s3->path());
    ASSERT_FALSE(model.empty());
    const auto meta = ReadJson(fs::path(model).parent_path().string() + "/meta.json");
    EXPECT_EQ(meta.value("available", false), true) << meta.dump();
    EXPECT_EQ(meta.value("uri", "").rfind(Root() + "/", 0), 0u) << meta.dump();
    // Secrets never reach a log line or a file the mount shows.
    const std::string log = s3->DaemonLog(), documents = AllMeta(s3->path());
    for (const std::string& secret : {S3SecretKey(), S3AccessKey()}) {
      EXPECT_EQ(log.find(secret), std::string::npos) << state << ": the daemon's log shows a credential";
      EXPECT_EQ(documents.find(secret), std::string::npos) << state << ": a meta.json shows a credential";
    }
  }
  std::size_t cached = 0;
  for (auto& e : fs::recursive_directory_iterator(cache)) cached += e.is_regular_file() ? 1 : 0;
  EXPECT_GT(cached, 6u) << "the cold reads left no blocks in the cache";
}

TEST_F(S3SourceTest, AWarmCacheServesItsBlocksWithTheServerStopped) {
  auto local = MountStore(local_store_, {});
  const std::string want = ReadAll(ModelOf(local->path())).value_or("local model unreadable");
  const std::string small_rel = "example_pipeline/runs/latest/steps/step_1/output/data.json";
  const std::string cache = Folder("cache") + "/zenfs";
  {
    auto warm = MountStore(s3_store_, {"--cache-dir", cache});
    ASSERT_TRUE(warm->ok());
    EXPECT_EQ(ReadAll(ModelOf(warm->path())), want);
  }
  auto s3 = MountStore(s3_store_, {"--cache-dir", cache});
  ASSERT_TRUE(s3->ok());
  // Listed while the server answers (listings are kept): the model, read before, and a
  // small file never read.
  const std::string model = ModelOf(s3->path());
  ASSERT_FALSE(model.empty());
  ASSERT_TRUE(Lstat(s3->path() + "/" + small_rel)) << std::strerror(errno);
  StopS3Server();
  EXPECT_EQ(ReadAll(model), want) << "the cached blocks were not served";
  const auto start = std::chrono::steady_clock::now();
  errno = 0;
  const auto small = ReadAll(s3->path() + "/" + small_rel);
  EXPECT_FALSE(small) << "read without a server: " << small.value_or("") << "\n" << s3->DaemonLog();
  EXPECT_EQ(errno, EIO);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), kCallBound)
      << "an unreachable server must give EIO, not a hang";
  // The mount itself still answers.
  EXPECT_TRUE(ListDir(s3->path()));
}

TEST_F(S3SourceTest, RandomReadsReadTheirBytes) {
  auto local = MountStore(local_store_, {});
  auto s3 = MountStore(s3_store_, {"--no-cache"});
  ASSERT_TRUE(s3->ok());
  const std::string want = ReadAll(ModelOf(local->path())).value_or("");
  ASSERT_EQ(want.size(), 6u << 20);
  const int fd = open(ModelOf(s3->path()).c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::mt19937_64 rng(15);
  std::string buf(8192, '\0');
  for (int i = 0; i < 200; ++i) {
    // 4 KiB reads anywhere, some across a 1 MiB block boundary, some past the end.
    std::uint64_t off = rng() % (want.size() + 4096);
    if (i % 10 == 0) off = ((rng() % 6) + 1) * (1u << 20) - 2048;
    const ssize_t n = pread(fd, buf.data(), 4096, static_cast<off_t>(off));
    const std::size_t expect = off >= want.size() ? 0 : std::min<std::size_t>(4096, want.size() - off);
    ASSERT_EQ(n, static_cast<ssize_t>(expect)) << "at " << off << ": " << std::strerror(errno);
    ASSERT_EQ(buf.substr(0, expect), want.substr(std::min<std::size_t>(off, want.size()), expect)) << "at " << off;
  }
  close(fd);
}

TEST_F(S3SourceTest, ZenfsLsShowsTheSameTree) {
  const CommandResult s3 = RunZenfs({"ls", s3_store_}, 120), local = RunZenfs({"ls", local_store_}, 120);
  ASSERT_EQ(s3.exit_code, 0) << s3.err;
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(s3.out, local.out);
  EXPECT_NE(s3.out.find("/model.bin\n"), std::string::npos);
}

TEST_F(S3SourceTest, ASharedMountReadsOnlyTheAdminsRoots) {
  auto priv = MountStore(s3_store_, {"--no-cache"});
  ASSERT_TRUE(priv->ok());
  const std::string model_rel = ModelOf(priv->path()).substr(priv->path().size() + 1);
  const std::string want = ReadAll(priv->path() + "/" + model_rel).value_or("private read failed");
  ASSERT_EQ(want.size(), 6u << 20);
  const std::string output = fs::path(model_rel).parent_path().string();
  // The store's component names the bucket; a shared mount does not trust it, nor a root
  // for another bucket or prefix. The admin's endpoint: the store's is not used either.
  for (const std::vector<std::string>& roots :
       {std::vector<std::string>{}, {"--artifact-root", "s3://another-bucket"},
        {"--artifact-root", std::string("s3://") + kBucket + "/team/other"}}) {
    std::vector<std::string> extra = {"-o", "allow_other", "--no-cache", "--s3-endpoint", S3Endpoint()};
    extra.insert(extra.end(), roots.begin(), roots.end());
    auto shared = MountStore(s3_store_, extra);
    ASSERT_TRUE(shared->ok());
    const auto meta = ReadJson(shared->path() + "/" + output + "/meta.json");
    EXPECT_EQ(meta.value("available", true), false) << meta.dump();
    EXPECT_NE(meta.value("unavailable_reason", "").find("trusted S3 root"), std::string::npos) << meta.dump();
    errno = 0;
    EXPECT_FALSE(ReadAll(shared->path() + "/" + model_rel));
  }
  auto admin = MountStore(s3_store_, {"-o", "allow_other", "--no-cache", "--s3-endpoint", S3Endpoint(),
                                      "--artifact-root", std::string("s3://") + kBucket + "/team"});
  ASSERT_TRUE(admin->ok());
  EXPECT_EQ(ReadAll(admin->path() + "/" + model_rel), want) << "an admin's root is read";
}

TEST_F(S3SourceTest, AUriOutsideTheComponentIsNeverRead) {
  // A copy of the store whose first data.json output points into another bucket the
  // node's credentials can read.
  const std::string store = Folder("store");
  fs::copy(s3_store_, store, fs::copy_options::recursive);
  const std::string marker = "OUTSIDE-THE-ARTIFACT-STORE";
  auto client = S3TestClient();
  ASSERT_TRUE(client->CreateBucket("zenfs-elsewhere").ok());
  ASSERT_TRUE(client->Put("zenfs-elsewhere", "secret/data.json", marker).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((store + "/local_stores/default_zen_store/zenml.db").c_str(), &db), SQLITE_OK);
  const char* sql =
      "UPDATE artifact_version SET uri = 's3://zenfs-elsewhere/secret' WHERE uri LIKE '%/step_1/output/%'";
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_GT(sqlite3_changes(db), 0);
  sqlite3_close(db);
  auto m = MountStore(store, {"--no-cache"});
  ASSERT_TRUE(m->ok());
  const auto meta = ReadJson(m->path() + "/example_pipeline/runs/latest/steps/step_1/outputs/output/meta.json");
  EXPECT_EQ(meta.value("available", true), false) << meta.dump();
  EXPECT_NE(meta.value("unavailable_reason", "").find("outside"), std::string::npos) << meta.dump();
  for (auto& [path, hash] : HashTree(m->path())) {
    EXPECT_EQ(ReadAll(m->path() + "/" + path).value_or("").find(marker), std::string::npos) << path;
  }
}


// ---- Faults (issue 15, point 5): a FaultProxy (tests/fault_proxy.h) between a mount and
// the server, switched while the mount runs. Reads are made by children (sha256sum, dd):
// a read that hangs is killed at its bound instead of hanging the test.

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A proxy in front of the suite's server (null and a failure when it cannot listen).
std::unique_ptr<FaultProxy> ProxyToServer() {
  std::string error;
  auto proxy = Server() != nullptr ? FaultProxy::Start("127.0.0.1", Server()->port(), &error) : nullptr;
  EXPECT_NE(proxy, nullptr) << error;
  return proxy;
}

// What reading a whole file gave: its SHA-256, or the reader's error.
struct Digest {
  std::string hex;    // "" when the read failed
  std::string error;  // sha256sum's message ("...: Input/output error"), or "timed out"
  double seconds = 0;
  bool eio() const { return error.find("Input/output error") != std::string::npos; }
};

Digest Sha256Of(const std::string& path, double bound = kCallBound) {
  const auto start = Clock::now();
  const CommandResult r = RunCommand({"sha256sum", path}, bound);
  Digest d;
  d.seconds = SecondsSince(start);
  if (r.exit_code == 0 && r.out.size() >= 64) {
    d.hex = r.out.substr(0, 64);
  } else {
    d.error = r.timed_out ? "timed out after " + std::to_string(bound) + " s" : r.err;
  }
  return d;
}

// Drops a file's pages from the kernel's page cache, so the next read reaches the daemon.
void DropPageCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

// A figure of /proc/PID/status ("Threads", "VmRSS" in KiB), -1 if unreadable.
long ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return -1;
}

// Polls `done` every 100 ms until it holds or `bound` seconds passed.
bool WaitFor(const std::function<bool()>& done, double bound = kCallBound) {
  const auto start = Clock::now();
  while (!done()) {
    if (SecondsSince(start) > bound) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

class S3FaultTest : public S3SourceTest {
 protected:
  void SetUp() override {
    S3SourceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    proxy_ = ProxyToServer();
    ASSERT_NE(proxy_, nullptr);
    // The right bytes: the local twin's SHA-256 of every file, by mount path.
    auto local = MountStore(local_store_, {});
    ASSERT_TRUE(local->ok());
    want_ = ArtifactTree(local->path());
  }

  // A mount of the S3 store whose requests go through the proxy.
  std::unique_ptr<Mount> MountThroughProxy(const std::string& cache_dir, double timeout_s = 2,
                                           std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--s3-endpoint", proxy_->Url()});
    if (cache_dir.empty()) {
      extra.push_back("--no-cache");
    } else {
      extra.insert(extra.end(), {"--cache-dir", cache_dir});
    }
    extra.insert(extra.end(), {"--s3-timeout", std::to_string(timeout_s), "--log-level", "debug"});
    auto m = std::make_unique<Mount>(Mount::Options{s3_store_, Folder("mnt"), extra});
    EXPECT_TRUE(m->ok()) << m->error();
    return m;
  }

  // The artifact files of a mount (below some outputs/ folder), mount-relative, and the
  // model among them.
  std::vector<std::string> ArtifactFiles() const {
    std::vector<std::string> out;
    for (auto& [path, hash] : want_) {
      if (path.find("/outputs/") != std::string::npos && hash != "dir" && hash.rfind("->", 0) != 0 &&
          path.find("/runs/latest") == std::string::npos && path.rfind("%by-id", 0) != 0) {
        out.push_back(path);
      }
    }
    return out;
  }
  std::string ModelRel() const {
    for (const std::string& p : ArtifactFiles()) {
      if (fs::path(p).filename() == "model.bin") return p;
    }
    return "";
  }

  // After a fault: with the endpoint refusing every connection (as a stopped server), a
  // read that must come from the cache (the page cache dropped) gives EIO or exactly
  // the right bytes, never other bytes; then the proxy passes again.
  void ExpectWarmReadRightOrEio(const Mount& m, const std::string& rel, const char* after) {
    proxy_->SetMode(FaultProxy::Mode::kReset);
    proxy_->DropAll();
    DropPageCache(m.path() + "/" + rel);
    const Digest d = Sha256Of(m.path() + "/" + rel);
    EXPECT_TRUE(d.hex == want_.at(rel) || d.eio())
        << after << ": a warm read with the server away gave " << (d.hex.empty() ? d.error : "wrong bytes");
    proxy_->SetMode(FaultProxy::Mode::kPass);
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::map<std::string, std::string> want_;
};

TEST_F(S3FaultTest, AStalledEndpointGivesEioWithinItsTimeout) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  auto m = MountThroughProxy(Folder("cache") + "/zenfs");
  ASSERT_TRUE(m->ok());
  // Listed while the server answers: the read is what stalls.
  ASSERT_TRUE(Lstat(m->path() + "/" + model)) << std::strerror(errno);
  proxy_->SetMode(FaultProxy::Mode::kStall);
  const Digest stalled = Sha256Of(m->path() + "/" + model);
  EXPECT_TRUE(stalled.eio()) << "a stalled endpoint: " << (stalled.hex.empty() ? stalled.error : "bytes read");
  // --s3-timeout 2: a few tries of a few seconds; what this bound catches is a hang.
  EXPECT_LT(stalled.seconds, kCallBound) << "a stalled endpoint must give EIO, not a hang";
  EXPECT_GT(proxy_->faults(), 0u);
  ExpectWarmReadRightOrEio(*m, model, "a stall");
  proxy_->DropAll();  // the stalled connections end; the next read takes new ones
  EXPECT_EQ(Sha256Of(m->path() + "/" + model).hex, want_.at(model)) << "the endpoint answers again";
}

TEST_F(S3FaultTest, ResetsAnd503sAreRetriedThenEio) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  // The model (6 MiB) and two small files.
  std::vector<std::string> files = {model};
  for (const std::string& rel : ArtifactFiles()) {
    if (rel != model && files.size() < 3) files.push_back(rel);
  }
  struct Fault {
    FaultProxy::Mode mode;
    std::size_t cut_bytes;
    const char* name;
  };
  // Cut inside the headers, and inside a body (a block half received).
  for (const Fault& f : {Fault{FaultProxy::Mode::kReset, 0, "reset"},
                         Fault{FaultProxy::Mode::kResetMidResponse, 16, "reset inside the headers"},
                         Fault{FaultProxy::Mode::kResetMidResponse, 300 << 10, "reset inside the body"},
                         Fault{FaultProxy::Mode::k503, 0, "503"}}) {
    SCOPED_TRACE(f.name);
    // A cache of this round's own: every read is cold.
    auto m = MountThroughProxy(Folder("cache") + "/zenfs");
    ASSERT_TRUE(m->ok());
    for (const std::string& rel : files) ASSERT_TRUE(Lstat(m->path() + "/" + rel)) << rel;
    proxy_->SetCutBytes(f.cut_bytes);
    proxy_->SetMode(f.mode);
    // The model's blocks never arrive whole: EIO, after the request was tried again.
    const std::uint64_t before = proxy_->faults();
    const Digest broken = Sha256Of(m->path() + "/" + model);
    EXPECT_TRUE(broken.eio()) << (broken.hex.empty() ? broken.error : "bytes read");
    EXPECT_LT(broken.seconds, kCallBound);
    EXPECT_GE(proxy_->faults() - before, 3u) << "the request was not retried";
    // Small files: the right bytes (a response shorter than the cut) or EIO.
    for (const std::string& rel : files) {
      if (rel == model) continue;
      const Digest d = Sha256Of(m->path() + "/" + rel);
      EXPECT_TRUE(d.hex == want_.at(rel) || d.eio()) << rel << ": " << (d.hex.empty() ? d.error : "wrong bytes");
      EXPECT_LT(d.seconds, kCallBound) << rel;
    }
    proxy_->SetMode(FaultProxy::Mode::kPass);
    for (const std::string& rel : files) {
      DropPageCache(m->path() + "/" + rel);
      EXPECT_EQ(Sha256Of(m->path() + "/" + rel).hex, want_.at(rel)) << rel << ": after the fault";
    }
    ExpectWarmReadRightOrEio(*m, model, f.name);
  }
}

TEST_F(S3FaultTest, AStalledEndpointStallsNoOtherRequest) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  const std::vector<std::string> files = ArtifactFiles();
  const std::string cached = files.front() == model ? files.back() : files.front();
  const std::string output = fs::path(model).parent_path().string();
  const std::string run = output.substr(0, output.find("/steps/"));
  // --s3-timeout 30: a stalled request holds on for 30 s or more, so a check that waited
  // for one (a FUSE worker held by a stalled read) overruns its bound below.
  auto m = MountThroughProxy(Folder("cache") + "/zenfs", 30);
  ASSERT_TRUE(m->ok());
  ASSERT_GT(m->pid(), 0);
  for (const std::string& rel : files) ASSERT_TRUE(Lstat(m->path() + "/" + rel)) << rel;
  ASSERT_EQ(Sha256Of(m->path() + "/" + cached).hex, want_.at(cached));  // now in the block cache
  const long threads_before = ProcStatus(m->pid(), "Threads");
  const long rss_before = ProcStatus(m->pid(), "VmRSS");
  proxy_->SetMode(FaultProxy::Mode::kStall);
  // Six times as many readers as S3 requests may be in flight (8): each reads 4 KiB of
  // the model at its own offset, 128 KiB apart, with O_DIRECT (through the page cache,
  // readers of neighbouring pages would wait for one request). The kernel passes on at
  // most its max_background (12) of them at once; the rest wait in the kernel, holding
  // no worker.
  constexpr int kReaders = 48;
  struct Reader {
    std::thread thread;
    CommandResult result;
  };
  std::vector<Reader> readers(kReaders);
  for (int i = 0; i < kReaders; ++i) {
    readers[i].thread = std::thread([&, i] {
      readers[i].result = RunCommand({"dd", "if=" + m->path() + "/" + model, "bs=4096", "count=1",
                                      "skip=" + std::to_string(i * 32), "iflag=direct", "status=none"},
                                     300);
    });
  }
  // Requests are stalled (the in-flight cap's worth at least), and the readers had time
  // to queue behind them.
  EXPECT_TRUE(WaitFor([&] { return proxy_->faults() >= 8; })) << proxy_->faults() << " requests stalled";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // Everything that needs no S3 request answers meanwhile.
  constexpr double kCheckBound = 20;
  const auto check = [&](const std::vector<std::string>& argv) {
    const auto start = Clock::now();
    const CommandResult r = RunCommand(argv, kCheckBound);
    EXPECT_EQ(r.exit_code, 0) << argv.front() << " " << argv.back() << (r.timed_out ? ": timed out" : ": ")
                              << r.err << " (" << SecondsSince(start) << " s)";
    return r;
  };
  check({"ls", "-la", m->path() + "/" + output});
  check({"stat", m->path() + "/" + model});
  check({"ls", "-la", m->path()});
  const CommandResult meta = check({"cat", m->path() + "/" + output + "/meta.json"});
  EXPECT_NE(meta.out.find("\"available\": true"), std::string::npos) << meta.out;
  check({"cat", m->path() + "/" + run + "/dag.dot"});
  DropPageCache(m->path() + "/" + cached);
  const CommandResult warm = check({"sha256sum", m->path() + "/" + cached});
  EXPECT_EQ(warm.out.substr(0, 64), want_.at(cached)) << "a cached object while others stall";
  // Threads and memory: bounded by the pools, not by the readers.
  const long threads = ProcStatus(m->pid(), "Threads"), rss = ProcStatus(m->pid(), "VmRSS");
  // (--threads 8, and 36 more for S3 reads; 4 read-ahead threads; a few of the daemon's own.)
  EXPECT_LE(threads, 64) << "threads before the stall: " << threads_before;
  EXPECT_LE(rss, rss_before + (256 << 10)) << "KiB of RSS";
  std::cerr << "daemon with " << kReaders << " stalled readers: " << threads << " threads (" << threads_before
            << " before), " << rss / 1024 << " MiB RSS (" << rss_before / 1024 << " before), "
            << proxy_->faults() << " requests stalled\n";
  // The endpoint answers again: every reader ends with the right bytes or EIO.
  proxy_->SetMode(FaultProxy::Mode::kPass);
  proxy_->DropAll();
  for (int i = 0; i < kReaders; ++i) readers[i].thread.join();
  auto local = MountStore(local_store_, {});
  const std::string model_bytes = ReadAll(local->path() + "/" + model).value_or("");
  ASSERT_EQ(model_bytes.size(), 6u << 20);
  for (int i = 0; i < kReaders; ++i) {
    const CommandResult& r = readers[i].result;
    if (r.exit_code == 0) {
      EXPECT_EQ(r.out, model_bytes.substr(static_cast<std::size_t>(i) * (128 << 10), 4096)) << "reader " << i;
    } else {
      EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << "reader " << i << ": " << r.err;
    }
  }
  EXPECT_EQ(Sha256Of(m->path() + "/" + model).hex, want_.at(model));
}

// The model of the S3 store read in this process, through the proxy, by an S3 source
// made as a mount makes it with the given client and source options.
class S3InProcessTest : public S3FaultTest {
 protected:
  void SetUp() override {
    S3FaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The model's URI, as its output's meta.json names it.
    const std::string model = ModelRel();
    ASSERT_FALSE(model.empty());
    auto m = MountThroughProxy("");
    ASSERT_TRUE(m->ok());
    const std::string meta = ReadAll(m->path() + "/" + fs::path(model).parent_path().string() + "/meta.json").value_or("");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(meta, match, std::regex("\"uri\": \"(s3://[^\"]+)\""))) << meta;
    uri_ = match[1];
  }

  // Opens the model through a new source (kept in source_).
  Result<std::unique_ptr<ArtifactFile>> OpenModel(const http::ClientOptions& o, S3SourceOptions so,
                                                  std::shared_ptr<BlockCache> cache) {
    auto root = ParseS3Root(Root());
    if (!root.ok()) return root.status();
    so.admin_roots = {*root};
    so.endpoint = proxy_->Url();
    so.region = "us-east-1";
    source_ = std::make_unique<S3ArtifactSource>(
        so, std::make_shared<http::Client>(o),
        std::make_shared<StaticCredentialsProvider>(AwsCredentials{S3AccessKey(), S3SecretKey(), "", {}}),
        std::move(cache));
    auto ref = source_->Locate(uri_, ArtifactStoreInfo{"s3", Root(), "", ""});
    if (!ref.ok()) return ref.status();
    return source_->Open(*ref, "model.bin");
  }

  std::string uri_;
  std::unique_ptr<S3ArtifactSource> source_;
};

TEST_F(S3InProcessTest, AReaderWaitingOnAnotherReadersRequestIsBoundedToo) {
  // Room for one request in flight and no caller waiting, and bounds long enough that a
  // wait would show.
  using namespace std::chrono_literals;
  http::ClientOptions o;
  o.max_in_flight = 1;
  o.max_waiting = 0;
  o.retries = 0;
  o.stall_timeout = o.request_timeout = o.queue_timeout = 120s;
  auto file = OpenModel(o, {}, nullptr);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  proxy_->SetMode(FaultProxy::Mode::kStall);
  // The first reader's GET of block 0 stalls: the one request in flight.
  std::vector<char> first(64 << 10), second(64 << 10);
  auto first_read = std::async(std::launch::async, [&] { return (*file)->ReadAt(0, first.size(), first.data()); });
  ASSERT_TRUE(WaitFor([&] { return proxy_->faults() >= 1; })) << "the first GET never reached the endpoint";
  // The next reader goes on where the first left off: it needs block 0 too, being fetched.
  // Waiting would hold its thread for as long as the stall; it fails at once instead.
  auto second_read = std::async(std::launch::async, [&] { return (*file)->ReadAt(first.size(), second.size(), second.data()); });
  const bool returned = second_read.wait_for(30s) == std::future_status::ready;
  proxy_->SetMode(FaultProxy::Mode::kPass);
  proxy_->DropAll();
  ASSERT_TRUE(returned) << "a reader beyond the bound waited on another reader's stalled GET";
  const Result<std::size_t> refused = second_read.get();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("too many requests waiting"), std::string::npos)
      << refused.status().ToString();
  first_read.get();  // the stalled GET ended with the dropped connection: bytes or an error
  // With the endpoint answering, the same file reads (once the read-ahead tasks still
  // holding the one request are done).
  Result<std::size_t> again = Status::IOError("not read");
  EXPECT_TRUE(WaitFor([&] {
    again = (*file)->ReadAt(first.size(), second.size(), second.data());
    return again.ok();
  })) << again.status().ToString();
  if (again.ok()) {
    EXPECT_EQ(*again, second.size());
  }
}

// Bytes below `dir`, in regular files.
std::uint64_t BytesBelow(const std::string& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}

TEST_F(S3InProcessTest, AFileReadDenselyAtRandomIsFilledIntoTheCache) {
  // The right bytes: the local twin's model.
  std::string want;
  {
    auto local = MountStore(local_store_, {});
    ASSERT_TRUE(local->ok());
    want = ReadAll(local->path() + "/" + ModelRel()).value_or("");
  }
  ASSERT_EQ(want.size(), 6u << 20);
  // 4 KiB reads 8 KiB into blocks 5, 2, 0, 4, 1, 5, 3, 0, ...: each more than two blocks
  // from the last one's end (and the first from the file's start), so none is taken for
  // a sequential reader's.
  const std::vector<std::uint64_t> blocks = {5, 2, 0, 4, 1, 5, 3, 0};
  int reads = 0;
  const auto read_some = [&](ArtifactFile& file, int count) {
    for (int i = 0; i < count; ++i, ++reads) {
      const std::uint64_t offset = blocks[static_cast<std::size_t>(reads) % blocks.size()] * (1u << 20) + 8192;
      char buf[4096];
      auto got = file.ReadAt(offset, sizeof buf, buf);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, sizeof buf);
      ASSERT_EQ(std::string_view(buf, sizeof buf), std::string_view(want).substr(offset, sizeof buf)) << offset;
    }
  };
  for (const bool fill : {false, true}) {
    SCOPED_TRACE(fill ? "with the fill" : "without the fill");
    const std::string dir = Folder("fill") + "/cache";  // made 0700 by Open
    auto cache = BlockCache::Open(BlockCacheOptions{dir, 1ull << 30, 0});
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    S3SourceOptions so;
    so.max_fill_bytes = fill ? (1ull << 30) : 0;
    auto file = OpenModel(http::ClientOptions{}, so, std::move(*cache));
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    // 11 reads are worth less than the 6 MiB file (512 KiB a GET): each fetches its 4 KiB.
    reads = 0;
    read_some(**file, 11);
    if (HasFatalFailure()) return;
    // (The cache folder holds a few bytes of its own besides blocks.)
    EXPECT_LT(BytesBelow(dir), 1u << 20) << "sparse random reads put blocks in the cache";
    // Reading on: with the fill, the whole file comes into the cache while the reader
    // goes on; without, random reads never put a block there.
    const bool filled = WaitFor([&] {
      read_some(**file, 8);
      return BytesBelow(dir) >= want.size();
    }, fill ? kCallBound : 3);
    if (HasFatalFailure()) return;
    EXPECT_EQ(filled, fill) << BytesBelow(dir) << " bytes in the cache after " << reads << " reads";
  }
}

TEST_F(S3FaultTest, AServerKilledMidReadGivesEioOrTheRightBytes) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  std::string want;
  {
    auto local = MountStore(local_store_, {});
    want = ReadAll(local->path() + "/" + model).value_or("");
  }
  ASSERT_EQ(want.size(), 6u << 20);
  const std::string cache = Folder("cache") + "/zenfs";
  {
    // Straight to the server (its endpoint is the store's): the server itself dies.
    auto m = MountStore(s3_store_, {"--cache-dir", cache});
    ASSERT_TRUE(m->ok());
    const int fd = open((m->path() + "/" + model).c_str(), O_RDONLY);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string buf(256 << 10, '\0');
    std::uint64_t offset = 0;
    int error = 0;
    while (offset < want.size()) {
      if (offset == 1u << 20) StopS3Server();  // a reader streaming, read-ahead under way
      const ssize_t n = pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (n <= 0) {
        error = n < 0 ? errno : 0;
        break;
      }
      ASSERT_EQ(buf.substr(0, static_cast<std::size_t>(n)), want.substr(offset, static_cast<std::size_t>(n)))
          << "wrong bytes at " << offset << " with the server killed";
      offset += static_cast<std::uint64_t>(n);
    }
    close(fd);
    EXPECT_TRUE(offset == want.size() || error == EIO) << "stopped at " << offset << ": " << std::strerror(error);
    // A warm read (page cache dropped) with the server gone: what the cache holds is right.
    DropPageCache(m->path() + "/" + model);
    const Digest warm = Sha256Of(m->path() + "/" + model);
    EXPECT_TRUE(warm.hex == want_.at(model) || warm.eio()) << (warm.hex.empty() ? warm.error : "wrong bytes");
  }
  StartS3Server(scratch_->path());  // the same objects again, and a new key in the environment
  auto again = MountStore(s3_store_, {"--cache-dir", cache});
  ASSERT_TRUE(again->ok());
  EXPECT_EQ(Sha256Of(again->path() + "/" + model).hex, want_.at(model)) << "after the server came back";
}

TEST_F(S3FaultTest, ADamagedCacheBlockIsFetchedAgain) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  const std::string cache = Folder("cache") + "/zenfs";
  auto m = MountThroughProxy(cache);
  ASSERT_TRUE(m->ok());
  ASSERT_EQ(Sha256Of(m->path() + "/" + model).hex, want_.at(model));
  // Every block in the folder damaged: half cut short, half with a byte flipped in the
  // middle (store/block_cache.h's layout: blocks/<2 hex>/<hash>.<index>).
  std::vector<std::string> blocks;
  for (auto& e : fs::recursive_directory_iterator(cache + "/blocks")) {
    if (e.is_regular_file() && e.path().filename().string().rfind(".tmp", 0) != 0) blocks.push_back(e.path());
  }
  ASSERT_GE(blocks.size(), 6u) << "the model's blocks are not in the cache";
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto size = fs::file_size(blocks[i]);
    if (i % 2 == 0) {
      fs::resize_file(blocks[i], size / 2);
    } else {
      std::fstream f(blocks[i], std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(size / 2));
      const char c = static_cast<char>(f.get());
      f.seekp(static_cast<std::streamoff>(size / 2));
      f.put(static_cast<char>(c ^ 0x5a));
    }
  }
  // With the server away the damaged blocks are not served: EIO, never their bytes.
  proxy_->SetMode(FaultProxy::Mode::kReset);
  DropPageCache(m->path() + "/" + model);
  const Digest away = Sha256Of(m->path() + "/" + model);
  EXPECT_TRUE(away.eio()) << (away.hex.empty() ? away.error : away.hex == want_.at(model) ? "right bytes?" : "damaged bytes served");
  // With the server back they are fetched again, and cached again.
  proxy_->SetMode(FaultProxy::Mode::kPass);
  DropPageCache(m->path() + "/" + model);
  EXPECT_EQ(Sha256Of(m->path() + "/" + model).hex, want_.at(model)) << "fetched again";
  proxy_->SetMode(FaultProxy::Mode::kReset);
  DropPageCache(m->path() + "/" + model);
  EXPECT_EQ(Sha256Of(m->path() + "/" + model).hex, want_.at(model)) << "cached again";
  proxy_->SetMode(FaultProxy::Mode::kPass);
}

TEST_F(S3FaultTest, TwoDaemonsShareOneCacheFolder) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  const std::vector<std::string> files = ArtifactFiles();
  const std::string cache = Folder("cache") + "/zenfs";
  auto a = MountThroughProxy(cache), b = MountThroughProxy(cache);
  ASSERT_TRUE(a->ok() && b->ok());
  // Four readers on each mount, all reading every file (the model first) at once.
  std::vector<std::thread> readers;
  std::mutex mu;
  std::vector<std::string> wrong;
  for (const Mount* m : {a.get(), b.get()}) {
    for (int i = 0; i < 4; ++i) {
      readers.emplace_back([&, m, i] {
        std::vector<std::string> order = files;
        std::rotate(order.begin(), order.begin() + (i % 2 == 0 ? 0 : static_cast<long>(order.size() / 2)), order.end());
        for (const std::string& rel : order) {
          const Digest d = Sha256Of(m->path() + "/" + rel);
          if (d.hex != want_.at(rel)) {
            std::lock_guard<std::mutex> lock(mu);
            wrong.push_back(rel + ": " + (d.hex.empty() ? d.error : "wrong bytes"));
          }
        }
      });
    }
  }
  for (std::thread& t : readers) t.join();
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " reads went wrong, the first: " << wrong.front();
  // A third daemon on the same folder, the server away: it serves the blocks the others
  // fetched for an object its own credentials listed, and nothing else (store/block_cache.h:
  // the ETag it listed is its proof of access).
  auto c = MountThroughProxy(cache);
  ASSERT_TRUE(c->ok());
  ASSERT_TRUE(Lstat(c->path() + "/" + model));
  std::string unlisted;
  for (const std::string& rel : files) {
    if (fs::path(rel).parent_path() != fs::path(model).parent_path()) unlisted = rel;
  }
  ASSERT_FALSE(unlisted.empty());
  proxy_->SetMode(FaultProxy::Mode::kReset);
  EXPECT_EQ(Sha256Of(c->path() + "/" + model).hex, want_.at(model)) << "the shared blocks were not served";
  const Digest never = Sha256Of(c->path() + "/" + unlisted);
  EXPECT_TRUE(never.hex.empty()) << unlisted << " was served without being listed by this mount";
  proxy_->SetMode(FaultProxy::Mode::kPass);
}

// What the daemon logged about `what`: the lines naming it.
std::vector<std::string> LinesWith(const std::string& log, const std::string& what) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < log.size()) {
    const std::size_t end = std::min(log.find('\n', start), log.size());
    const std::string line = log.substr(start, end - start);
    if (line.find(what) != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

TEST_F(S3FaultTest, RefusalsAreShownAndLoggedOnce) {
  const std::string model = ModelRel();
  ASSERT_FALSE(model.empty());
  const std::string output = fs::path(model).parent_path().string();
  const auto& good = Server()->credentials();
  auto nobody = Server()->CreateUserWithoutRights("zenfs-nobody-" + std::to_string(++folders_));
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  struct Case {
    const char* name;
    std::string key, secret, token;
    std::string reason;  // in meta.json and the log
  };
  const std::string fake_token = "zenfs-session-token-" + std::to_string(getpid()) + "-never-shown";
  for (const Case& c : {Case{"wrong secret", good.access_key_id, good.secret_access_key + "x", "", "SignatureDoesNotMatch"},
                        Case{"no rights", nobody->access_key_id, nobody->secret_access_key, "", "AccessDenied"},
                        Case{"a session token no one issued", good.access_key_id, good.secret_access_key, fake_token, ""}}) {
    SCOPED_TRACE(c.name);
    setenv("AWS_ACCESS_KEY_ID", c.key.c_str(), 1);
    setenv("AWS_SECRET_ACCESS_KEY", c.secret.c_str(), 1);
    SecretsGiven().insert(c.secret);
    if (!c.token.empty()) {
      setenv("AWS_SESSION_TOKEN", c.token.c_str(), 1);
      SecretsGiven().insert(c.token);
    }
    auto m = MountThroughProxy("");
    ExportCredentials();
    ASSERT_TRUE(m->ok());
    // Read again and again (past the time a failure is kept, 5 s): logged once all the same.
    for (int i = 0; i < 3; ++i) {
      if (i == 2) std::this_thread::sleep_for(std::chrono::seconds(6));
      const auto meta = ReadJson(m->path() + "/" + output + "/meta.json");
      (void)ReadAll(m->path() + "/" + model);
      if (c.reason.empty()) continue;  // (what moto makes of an unknown token is moto's business)
      EXPECT_EQ(meta.value("available", true), false) << meta.dump();
      EXPECT_NE(meta.value("unavailable_reason", "").find(c.reason), std::string::npos) << meta.dump();
    }
    const std::string log = m->DaemonLog();
    if (!c.reason.empty()) {
      const std::vector<std::string> lines = LinesWith(log, c.reason);
      EXPECT_GE(lines.size(), 1u) << log;
      std::map<std::string, int> per_line;
      for (const std::string& l : lines) ++per_line[l];
      for (const auto& [l, n] : per_line) EXPECT_EQ(n, 1) << "logged " << n << " times: " << l;
    }
    for (const std::string& secret : {c.secret, good.secret_access_key, fake_token}) {
      EXPECT_EQ(log.find(secret), std::string::npos) << "the log shows a secret";
      EXPECT_EQ(AllMeta(m->path()).find(secret), std::string::npos) << "a meta.json shows a secret";
    }
  }
}

TEST_F(S3FaultTest, MissingObjectsAndBucketsAreShown) {
  const std::string run = "example_pipeline/runs/example_pipeline-2025_03_03-09_00_00_000000/steps/";
  const std::string labels = "training_pipeline/runs/latest/steps/load_data/outputs/labels";
  // A copy of the store: step_1's outputs in a bucket that does not exist (an admin's
  // root, so it is read), step_2's at keys that do not exist, and the labels in an
  // object deleted after the mount listed it.
  const std::string store = Folder("store");
  fs::copy(s3_store_, store, fs::copy_options::recursive);
  const std::string doomed = std::string(kPrefix) + "/zenfs-doomed";
  auto client = S3TestClient();
  ASSERT_TRUE(client->Put(kBucket, doomed + "/data.json", "{\"doomed\": true}\n").ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((store + "/local_stores/default_zen_store/zenml.db").c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE artifact_version SET uri = 's3://zenfs-no-such-bucket/team/x' WHERE uri LIKE '%/step_1/output/%';"
      "UPDATE artifact_version SET uri = uri || '-gone' WHERE uri LIKE '%/step_2/output/%';"
      "UPDATE artifact_version SET uri = '" + Root() + "/zenfs-doomed' WHERE uri LIKE '%/load_data/labels/%';";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto m = MountStore(store, {"--no-cache", "--artifact-root", "s3://zenfs-no-such-bucket"});
  ASSERT_TRUE(m->ok());
  ASSERT_TRUE(Lstat(m->path() + "/" + labels + "/data.json")) << std::strerror(errno);
  const CommandResult removed = RunCommand(
      {"python3", "-c",
       "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')"
       ".delete_object(Bucket=sys.argv[2], Key=sys.argv[3])",
       S3Endpoint(), kBucket, doomed + "/data.json"},
      120);
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  struct Case {
    std::string output;
    std::string reason;  // in meta.json's unavailable_reason
    std::string logged;  // in the log
  };
  for (const Case& c : {Case{run + "step_1/outputs/output", "NoSuchBucket", "NoSuchBucket"},
                        Case{run + "step_2/outputs/output", "does not exist", "-gone does not exist"}}) {
    for (int i = 0; i < 3; ++i) {
      const auto meta = ReadJson(m->path() + "/" + c.output + "/meta.json");
      EXPECT_EQ(meta.value("available", true), false) << c.output << ": " << meta.dump();
      EXPECT_NE(meta.value("unavailable_reason", "").find(c.reason), std::string::npos) << meta.dump();
    }
  }
  for (int i = 0; i < 3; ++i) {
    errno = 0;
    EXPECT_FALSE(ReadAll(m->path() + "/" + labels + "/data.json")) << "a deleted object read";
    EXPECT_EQ(errno, EIO);
  }
  const std::string log = m->DaemonLog();
  for (const char* what : {"NoSuchBucket", "NoSuchKey"}) {
    const std::vector<std::string> lines = LinesWith(log, what);
    EXPECT_GE(lines.size(), 1u) << what << " not logged:\n" << log;
    std::map<std::string, int> per_line;
    for (const std::string& l : lines) ++per_line[l];
    for (const auto& [l, n] : per_line) EXPECT_EQ(n, 1) << "logged " << n << " times: " << l;
  }
}

// Last of the suite: every daemon's log the tests above left (next to each mountpoint)
// and every meta.json of the store, grepped for every secret the tests gave zenfs.
TEST_F(S3FaultTest, NoSecretInAnyLogOrMetaJson) {
  auto m = MountThroughProxy(Folder("cache") + "/zenfs");
  ASSERT_TRUE(m->ok());
  const std::string documents = AllMeta(m->path());
  std::size_t logs = 0;
  for (auto& e : fs::recursive_directory_iterator(scratch_->path())) {
    if (!e.is_regular_file() || e.path().string().size() < 10 ||
        e.path().string().compare(e.path().string().size() - 10, 10, ".zenfs.log") != 0) {
      continue;
    }
    ++logs;
    const std::string log = ReadFile(e.path());
    for (const std::string& secret : SecretsGiven()) {
      EXPECT_EQ(log.find(secret), std::string::npos) << e.path() << " shows a secret";
    }
  }
  EXPECT_GT(logs, 0u);
  EXPECT_FALSE(SecretsGiven().empty());
  for (const std::string& secret : SecretsGiven()) {
    EXPECT_EQ(documents.find(secret), std::string::npos) << "a meta.json shows a secret";
  }
}

}  // namespace
}  // namespace zenfs::testing
