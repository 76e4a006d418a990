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
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/s3_client.h"
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
void ExportCredentials() {
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

}  // namespace
}  // namespace zenfs::testing
