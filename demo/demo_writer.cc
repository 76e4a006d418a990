// `zenfs demo`: a deterministic ZenML store, database and artifact files, in one of three
// schemas (--schema): 0.74, 0.80 (0.80.2) or latest (0.97.0, the default), each the tables
// of its embedded demo/schema/zenml-<version>.sql (provenance in each file's header).
//
// Every row is shaped like the rows ZenML itself wrote into shared/reference/zenml-0.74-
// sample (the same NOT NULL columns filled, the same JSON, time and id encodings), with
// the columns each later schema renamed or added, so ZenML could open the result. Ids,
// times and bytes come from counters and fixed seeds, never from the clock. One writer
// serves every schema; a Dialect holds what differs.
//
// What the store holds:
// - Every schema: in the default workspace (0.74) or project (0.80+), example_pipeline
//   (--runs runs of --steps steps with --outputs outputs: run 1 a fully cached copy of run
//   0, run 2 failed at its second step, git commits on every other deployment, a varying
//   "accuracy") and training_pipeline (one run: load_data -> train_model -> evaluate, the
//   --artifact-bytes "model", outputs named "features", "labels", "eval résumé",
//   "accuracy", a folder artifact, run and step metadata; "features" has an HTML and a
//   PNG visualization in its folder, as a materializer's save_visualizations leaves them;
//   evaluate also reads "baseline", version 1 of "iris_baseline", registered by hand: no
//   step produced it). These rows (ids, names, times)
//   and files are the same in every schema; only the columns around them differ
//   (workspace_id/project_id, pipeline_deployment/pipeline_snapshot, deployment_id/
//   snapshot_id, the step_configurations JSON column/step_configuration rows). Every step
//   that ran has its "step" logs file under <artifact store>/<step>/logs/.
// - 0.80 and latest: a second project, "research", whose own training_pipeline (the name
//   the default project uses too) has two completed runs without the large artifact;
//   config.yaml names the default project as active (active_project_id).
// - latest (0.97.0), also: snapshots with one step_configuration row per step; runs with
//   in_progress 0 and index 1, 2, ... per pipeline; steps at version 1; and, in the default
//   project, pipelines of their own for what ZenML added after 0.80:
//   * nested_pipeline (prepare -> launch_folds), one run: prepare has two logs rows, source
//     "step" and "orchestrator", both files; the run has a run-level log (source "client",
//     no step, a file under <artifact store>/nested_pipeline/logs/); its named output
//     "dataset" is prepare's output.
//   * fold_pipeline (split -> score), one run, nested_pipeline's child "fold 1"
//     (parent_run_id = root_run_id = the nested_pipeline run): score's input "batches" is
//     both of split's outputs (a chunked input, input_index 0 and 1); score's output "plot"
//     failed to upload (availability "upload_failed": no folder, no files); score's logs are
//     in the log store (a "log_store" stack component "otel": uri NULL); its named output
//     "score" is score's output "score".
//   * cleanup_pipeline, one run archived as ZenML's execution archive leaves one (after
//     0.97.0; without its marker columns): the run's orchestrator_environment,
//     exception_info, pipeline_configuration, client_environment NULL, its steps'
//     exception_info and step_configuration NULL, its snapshot's pipeline_configuration and
//     client_environment "{}", pipeline_spec, source_code, description NULL, its
//     step_configuration rows deleted.
//   * "unlisted", the pipeline ZenML's snapshot migration creates for runs without one (no
//     user, its fixed description), with one run.
//   The log sources "orchestrator" and "client" and the log store's flavor are
//   illustrative: ZenML stores any string there.
#include "demo/demo_writer.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "demo/schema_sql.h"
#include "store/s3_artifact_source.h"
#include "store/s3_client.h"
#include "store/timefmt.h"

namespace zenfs {
namespace {

// ZenML writes JSON keys in declaration order; ordered_json keeps ours that way.
using Json = nlohmann::ordered_json;

// Carries a Status from deep inside the writer to WriteDemoStore, its only catcher.
class DemoError : public std::runtime_error {
 public:
  explicit DemoError(Status s) : std::runtime_error(s.message()), status_(std::move(s)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

[[noreturn]] void FailIo(const std::string& message) {
  throw DemoError(Status::IOError(message));
}

constexpr Micros kMs = 1000;
constexpr Micros kSec = 1000 * kMs;
constexpr int kExampleDeployments = 4;  // example runs cycle through this many deployments
constexpr std::uint64_t kSeed = 0x7a656e6673646d6full;  // "zenfsdmo"

// 2025-03-03 09:00:00 UTC, when the first demo run starts.
Micros BaseTime() {
  using namespace std::chrono;
  const auto t = sys_days{year{2025} / March / 3} + hours{9};
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

std::string T(Micros t) { return FormatStoreTime(t); }

// ------------------------------------------------------------------------ ids

std::uint64_t SplitMix64(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void AppendHex(std::uint64_t v, int digits, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kDigits[(v >> (4 * i)) & 0xf]);
}

// The deterministic source of ids and hex digests: a counter and one SplitMix64 stream,
// so the same options give the same ids in the same order. Not thread-safe.
class IdSource {
 public:
  IdSource(std::uint64_t seed, Micros start)
      : state_(seed), clock_ms_(static_cast<std::uint64_t>(start / kMs)) {}

  // 32 lowercase hex digits, a valid UUID without dashes (ZenML's CHAR(32)), laid out as
  // a version-7 UUID: 48 bits of a millisecond clock that ticks once per id, then 74
  // pseudo-random bits. ZenML itself uses uuid4; ids that grow keep every primary-key
  // index append-only, which makes a million-run demo database 4x faster to write
  // (52 s instead of 215 s on a 2-core VM) with a quarter of the page cache.
  std::string Uuid() {
    const std::uint64_t hi = (++clock_ms_ << 16) | 0x7000ull | (SplitMix64(&state_) & 0xfffull);
    const std::uint64_t lo = (SplitMix64(&state_) >> 2) | 0x8000000000000000ull;
    std::string s;
    s.reserve(32);
    AppendHex(hi, 16, &s);
    AppendHex(lo, 16, &s);
    return s;
  }
  std::string Hex(int digits) {
    std::string s;
    for (; digits > 0; digits -= 16) AppendHex(SplitMix64(&state_), std::min(digits, 16), &s);
    return s;
  }

 private:
  std::uint64_t state_;
  std::uint64_t clock_ms_;
};

// The `user.password` of the store's `default` user: what ZenML's client writes for it,
// passlib's bcrypt hash ("$2b$12$", 22 characters of salt, 31 of hash) of the empty
// password. A ZenML server logs `default` in (username=default&password=) only when that
// hash verifies: a NULL password refuses every login. The salt comes from a fixed seed like
// every other byte of a demo store, so the hash is one constant, computed once per process
// (cost 12, as passlib's default: a quarter of a second).
const std::string& EmptyPasswordHash() {
  static const std::string hash = [] {
    std::uint64_t state = kSeed ^ 0x6263727970740000ull;  // "bcrypt"
    char random[16];
    for (std::size_t i = 0; i < sizeof(random); i += 8) {
      const std::uint64_t v = SplitMix64(&state);
      std::memcpy(random + i, &v, 8);
    }
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn("$2b$", 12, random, sizeof(random), salt, sizeof(salt)) == nullptr) {
      FailIo(std::string("crypt_gensalt_rn($2b$): ") + std::strerror(errno));
    }
    const auto data = std::make_unique<crypt_data>();  // 32 KiB: not on the stack
    const char* out = crypt_rn("", salt, data.get(), sizeof(crypt_data));
    // libxcrypt fails with null or a string starting with '*'.
    if (out == nullptr || out[0] == '*') FailIo("crypt_rn: bcrypt is not available");
    return std::string(out);
  }();
  return hash;
}

// "8-4-4-4-12": how ZenML spells a UUID in paths and in config.yaml.
std::string Dashed(const std::string& id) {
  return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" +
         id.substr(16, 4) + "-" + id.substr(20);
}

// ------------------------------------------------------------------------ files

// Creates one directory; an existing one is fine (a retried demo reuses the same ids).
void MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    FailIo(path + ": mkdir: " + std::strerror(errno));
  }
}

// A new file being written; every error names its path. Closes on destruction. Not
// thread-safe.
class OutFile {
 public:
  explicit OutFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) FailIo(path_ + ": open: " + std::strerror(errno));
  }
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  void Write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) FailIo(path_ + ": write: " + std::strerror(errno));
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Close errors matter: NFS and full disks report them late.
  void Close() {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) FailIo(path_ + ": close: " + std::strerror(errno));
  }

 private:
  std::string path_;
  int fd_ = -1;
};

void WriteFile(const std::string& path, std::string_view data) {
  OutFile f(path);
  f.Write(data);
  f.Close();
}

// `bytes` pseudo-random bytes (xorshift64* from a fixed seed, little-endian), generated in
// 1 MiB blocks handed to `sink` in order: fast, and the same bytes for the same size on
// every machine.
template <typename Sink>
void PseudoRandomBlocks(std::uint64_t bytes, Sink sink) {
  std::string block;
  std::uint64_t x = kSeed;
  for (std::uint64_t left = bytes; left > 0; left -= block.size()) {
    block.resize(static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 20)));
    for (std::size_t i = 0; i < block.size(); i += 8) {
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      const std::uint64_t v = x * 0x2545f4914f6cdd1dull;
      for (std::size_t b = 0; b < 8 && i + b < block.size(); ++b) {
        block[i + b] = static_cast<char>(v >> (8 * b));
      }
    }
    sink(block);
  }
}

void WritePseudoRandomFile(const std::string& path, std::uint64_t bytes) {
  OutFile f(path);
  PseudoRandomBlocks(bytes, [&](const std::string& block) { f.Write(block); });
  f.Close();
}

// Where `zenfs demo --artifact-store s3://...` puts the files whose paths start with
// `root` ("s3://bucket/prefix"): objects of `bucket`, keys as the paths say. Folders are
// not objects in S3: nothing to make.
struct Uploader {
  std::shared_ptr<S3Client> client;
  std::string bucket;

  static bool Takes(const std::string& path) { return path.rfind("s3://", 0) == 0; }
  void Put(const std::string& path, std::string_view data) const {
    const std::string key = path.substr(std::string("s3://").size() + bucket.size() + 1);
    if (Status s = client->Put(bucket, key, data); !s.ok()) throw DemoError(s);
  }
};

// `data` as base64 (a stack component's configuration BLOB).
std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Creates directories and files on one background thread, in the order they were
// submitted, so that file-system work (most of a large demo's time) overlaps the SQLite
// inserts. All methods: the submitting thread only.
class FileWriter {
 public:
  // Paths starting with s3:// go to `uploader` (which must then be set).
  explicit FileWriter(std::optional<Uploader> uploader = std::nullopt)
      : uploader_(std::move(uploader)), worker_([this] { Work(); }) {}
  ~FileWriter() {  // after a failure: drop what is queued and stop
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.clear();
      done_ = true;
    }
    ready_.notify_one();
    worker_.join();
  }
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void MakeDir(std::string path) { Add({std::move(path), {}, 0, true}); }
  // Returns the file's size (for storage_size) without waiting for the write.
  std::int64_t Write(std::string path, std::string data) {
    const auto size = static_cast<std::int64_t>(data.size());
    Add({std::move(path), std::move(data), 0, false});
    return size;
  }
  std::int64_t WritePseudoRandom(std::string path, std::uint64_t bytes) {
    Add({std::move(path), {}, bytes, false});
    return static_cast<std::int64_t>(bytes);
  }
  // Returns once every submitted job is done; throws the first failure.
  void Finish() {
    Flush();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    ready_.notify_one();
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return idle_; });
    if (error_) throw DemoError(*error_);
  }

 private:
  struct Job {
    std::string path, data;
    std::uint64_t random_bytes;  // > 0: a pseudo-random file instead of `data`
    bool dir;
  };
  static constexpr std::size_t kBatch = 256, kMaxBatches = 64;  // bounds the queued memory

  void Add(Job job) {
    batch_.push_back(std::move(job));
    if (batch_.size() >= kBatch) Flush();
  }
  void Flush() {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return queue_.size() < kMaxBatches || idle_; });
    if (error_) throw DemoError(*error_);
    queue_.push_back(std::move(batch_));
    batch_.clear();
    ready_.notify_one();
  }
  void Work() {
    std::optional<Status> error;
    while (!error) {
      std::vector<Job> jobs;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return !queue_.empty() || done_; });
        if (queue_.empty()) break;
        jobs = std::move(queue_.front());
        queue_.pop_front();
      }
      space_.notify_one();
      try {
        for (const Job& j : jobs) {
          if (uploader_ && Uploader::Takes(j.path)) {
            Upload(j);
          } else if (j.dir) {
            zenfs::MakeDir(j.path);
          } else if (j.random_bytes > 0) {
            WritePseudoRandomFile(j.path, j.random_bytes);
          } else {
            WriteFile(j.path, j.data);
          }
        }
      } catch (const DemoError& e) {
        error = e.status();
      } catch (const std::exception& e) {  // nothing may escape a thread: it would terminate
        error = Status::IOError(std::string("writing artifact files: ") + e.what());
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::move(error);
      idle_ = true;  // the worker is gone: nobody waits for space any more
    }
    space_.notify_one();
  }

  void Upload(const Job& j) const {
    if (j.dir) return;
    if (j.random_bytes == 0) return uploader_->Put(j.path, j.data);
    std::string body;
    body.reserve(static_cast<std::size_t>(j.random_bytes));
    PseudoRandomBlocks(j.random_bytes, [&](const std::string& block) { body += block; });
    uploader_->Put(j.path, body);
  }

  const std::optional<Uploader> uploader_;
  std::vector<Job> batch_;  // the submitter's, not yet queued
  std::mutex mu_;
  std::condition_variable ready_, space_;  // the worker waits on ready_, the submitter on space_
  std::deque<std::vector<Job>> queue_;     // this and the three below: guarded by mu_
  bool done_ = false, idle_ = false;
  std::optional<Status> error_;
  std::thread worker_;  // last: starts once everything above exists
};

// ------------------------------------------------------------------------ SQLite

struct Blob {  // a value SQLite must store as a BLOB, as ZenML does for component configs
  std::string_view bytes;
};
struct OrNull {  // text, or NULL when there is none
  const std::string* text;
};

// The connection the demo writes through; every error names the database file. Not
// thread-safe.
class Db {
 public:
  explicit Db(std::string path) : path_(std::move(path)) {
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
    handle_.reset(raw);
    if (rc != SQLITE_OK) Fail("open");
  }
  sqlite3* get() const { return handle_.get(); }

  void Exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : sqlite3_errmsg(get());
      sqlite3_free(error);
      FailIo(path_ + ": " + message);
    }
  }
  [[noreturn]] void Fail(const std::string& during) const {
    FailIo(path_ + ": " + during + ": " + (get() ? sqlite3_errmsg(get()) : "out of memory"));
  }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::string path_;
  std::unique_ptr<sqlite3, Closer> handle_;
};

// One prepared statement, reused for every row. Not thread-safe.
class Statement {
 public:
  Statement(const Db& db, const std::string& sql) : db_(&db) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      db.Fail("prepare: " + sql);
    }
    stmt_.reset(raw);
  }

  // Binds the arguments to ?1, ?2, ... and runs the statement once (an INSERT: inserts
  // one row). Text is bound without a copy: the arguments outlive the call.
  template <typename... Args>
  void Run(const Args&... args) {
    Begin(args...);
    End();
  }
  // The same in parts, for rows whose trailing columns only some schemas have: Begin
  // binds from ?1 on, each More continues where the last call stopped, End runs. Text is
  // still bound without a copy, so it must outlive End: a temporary string is refused at
  // compile time, and a named one must still be in scope when End runs.
  template <typename... Args>
  Statement& Begin(Args&&... args) {
    sqlite3_reset(stmt_.get());
    next_ = 0;
    return More(std::forward<Args>(args)...);
  }
  template <typename... Args>
  Statement& More(Args&&... args) {
    static_assert(((std::is_lvalue_reference_v<Args> ||
                    !std::is_same_v<std::remove_cvref_t<Args>, std::string>) && ...),
                  "a temporary std::string would be gone before End: name it first");
    (Bind(++next_, args), ...);
    return *this;
  }
  void End() {
    if (sqlite3_step(stmt_.get()) != SQLITE_DONE) db_->Fail(sqlite3_sql(stmt_.get()));
  }

 private:
  void Check(int rc) const {
    if (rc != SQLITE_OK) db_->Fail(std::string("bind: ") + sqlite3_sql(stmt_.get()));
  }
  void Bind(int i, std::string_view v) {
    Check(sqlite3_bind_text(stmt_.get(), i, v.data() != nullptr ? v.data() : "",
                            static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void Bind(int i, Blob v) {
    Check(sqlite3_bind_blob(stmt_.get(), i, v.bytes.data(), static_cast<int>(v.bytes.size()),
                            SQLITE_STATIC));
  }
  void Bind(int i, OrNull v) {
    if (v.text == nullptr) return Check(sqlite3_bind_null(stmt_.get(), i));
    Bind(i, std::string_view(*v.text));
  }
  void Bind(int i, std::int64_t v) { Check(sqlite3_bind_int64(stmt_.get(), i, v)); }
  void Bind(int i, int v) { Check(sqlite3_bind_int64(stmt_.get(), i, v)); }

  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  const Db* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  int next_ = 0;  // the last parameter bound since Begin
};

// INSERT INTO `table` (`columns`) VALUES (?, ...), one parameter per column.
class Insert : public Statement {
 public:
  Insert(const Db& db, std::string_view table, std::string_view columns)
      : Statement(db, Sql(table, columns)) {}

 private:
  static std::string Sql(std::string_view table, std::string_view columns) {
    std::string sql = "INSERT INTO ";
    sql.append(table).append(" (").append(columns).append(") VALUES (?");
    for (char c : columns) sql += c == ',' ? ",?" : "";
    return sql + ")";
  }
};

// ------------------------------------------------------------------------ schemas

// What differs between the schemas the writer can write; one writer serves them all.
struct Dialect {
  const char* sql;             // demo/schema/zenml-<version>.sql, with its alembic row
  const char* version;         // ZenML's version: config.yaml, client/server_version
  bool projects;               // 0.80+: `project` replaces `workspace`, artifacts are scoped
  bool snapshots;              // 0.97: pipeline_snapshot + step_configuration rows, newer columns
  const char* scope;           // "workspace_id" or "project_id"
  const char* snapshot_table;  // "pipeline_deployment" or "pipeline_snapshot"
  const char* snapshot;        // "deployment_id" or "snapshot_id"
};

const Dialect& DialectOf(DemoSchema schema) {
  static const Dialect k074{.sql = kZenml074SchemaSql, .version = "0.74.0", .projects = false,
                            .snapshots = false, .scope = "workspace_id",
                            .snapshot_table = "pipeline_deployment", .snapshot = "deployment_id"};
  static const Dialect k080{.sql = kZenml080SchemaSql, .version = "0.80.2", .projects = true,
                            .snapshots = false, .scope = "project_id",
                            .snapshot_table = "pipeline_deployment", .snapshot = "deployment_id"};
  static const Dialect k097{.sql = kZenmlLatestSchemaSql, .version = "0.97.0", .projects = true,
                            .snapshots = true, .scope = "project_id",
                            .snapshot_table = "pipeline_snapshot", .snapshot = "snapshot_id"};
  switch (schema) {
    case DemoSchema::kZenml074: return k074;
    case DemoSchema::kZenml080: return k080;
    case DemoSchema::kLatest: return k097;
  }
  return k097;  // not reached: Validate refuses other values
}

// `base` with "<scope>" and "<snapshot>" replaced by the dialect's column names, then
// `extra` appended when the schema has those columns.
std::string Columns(const Dialect& d, std::string base, bool with_extra = false,
                    std::string_view extra = "") {
  for (const auto& [from, to] : {std::pair<std::string_view, std::string_view>{"<scope>", d.scope},
                                 {"<snapshot>", d.snapshot}}) {
    for (std::size_t at; (at = base.find(from)) != std::string::npos;) {
      base.replace(at, from.size(), to);
    }
  }
  if (with_extra) base.append(", ").append(extra);
  return base;
}

// The inserts of the tables that grow with every run, prepared once for the dialect.
struct Inserts {
  Inserts(const Db& db, const Dialect& d)
      : run(db, "pipeline_run",
            Columns(d,
                    "id, created, updated, name, orchestrator_run_id, start_time, end_time, "
                    "status, orchestrator_environment, <snapshot>, user_id, <scope>, pipeline_id",
                    d.snapshots,
                    "in_progress, \"index\", enable_heartbeat, parent_run_id, root_run_id, "
                    "child_key")),
        step(db, "step_run",
             Columns(d,
                     "id, created, updated, name, start_time, end_time, status, docstring, "
                     "cache_key, source_code, code_hash, original_step_run_id, <snapshot>, "
                     "pipeline_run_id, user_id, <scope>",
                     d.snapshots, "version, is_retriable")),
        parent(db, "step_run_parents", "parent_id, child_id"),
        input(db, "step_run_input_artifact",
              Columns(d, "name, type, step_id, artifact_id", d.snapshots, "input_index")),
        output(db, "step_run_output_artifact", "name, step_id, artifact_id"),
        artifact(db, "artifact",
                 Columns(d, "id, created, updated, name, has_custom_name", d.projects,
                         "user_id, project_id")),
        version(db, "artifact_version",
                Columns(d,
                        "id, created, updated, version, version_number, type, uri, materializer, "
                        "data_type, save_type, artifact_id, artifact_store_id, user_id, <scope>",
                        d.snapshots, "availability")),
        metadata(db, "run_metadata",
                 Columns(d,
                         "id, created, updated, user_id, <scope>, \"key\", value, type, "
                         "publisher_step_id")),
        link(db, "run_metadata_resource", "id, resource_id, resource_type, run_metadata_id"),
        log(db, "logs",
            Columns(d, "id, created, updated, uri, step_run_id, artifact_store_id", d.snapshots,
                    "pipeline_run_id, log_store_id, source, log_key, project_id, user_id")),
        visualization(db, "artifact_visualization", "id, created, updated, type, uri, artifact_version_id") {}
  Insert run, step, parent, input, output, artifact, version, metadata, link, log, visualization;
};

// ------------------------------------------------------------------------ visualizations

// The HTML visualization of the demo's feature table.
std::string DemoVisualizationHtml() {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>features</title></head><body>\n"
         "<table border=\"1\"><tr><th></th><th>sepal_length</th><th>sepal_width</th>"
         "<th>petal_length</th><th>petal_width</th></tr>\n"
         "<tr><th>mean</th><td>5.85</td><td>3.225</td><td>3.0</td><td>0.825</td></tr>\n"
         "</table>\n</body></html>\n";
}

void AppendBigEndian32(std::uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

// A PNG chunk: length, type, data, CRC-32 of type and data.
void AppendPngChunk(const char* type, const std::string& data, std::string* out) {
  AppendBigEndian32(static_cast<std::uint32_t>(data.size()), out);
  const std::string body = std::string(type, 4) + data;
  out->append(body);
  AppendBigEndian32(static_cast<std::uint32_t>(
                        crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))),
                    out);
}

// The PNG visualization: a 64x48 RGB bar chart of the four features' means on white,
// drawn here (8-bit RGB, no filters, zlib-compressed), so every run writes the same bytes.
std::string DemoVisualizationPng() {
  constexpr std::uint32_t kWidth = 64, kHeight = 48;
  const int heights[] = {40, 22, 20, 6};  // the means of the HTML table, scaled
  const unsigned char colors[][3] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28}};
  std::string raw;
  for (std::uint32_t y = 0; y < kHeight; ++y) {
    raw.push_back('\0');  // filter: none
    for (std::uint32_t x = 0; x < kWidth; ++x) {
      const std::uint32_t bar = x / 16, in_bar = x % 16;
      const bool filled = in_bar >= 3 && in_bar < 13 && kHeight - y <= static_cast<std::uint32_t>(heights[bar]);
      for (int c = 0; c < 3; ++c) raw.push_back(static_cast<char>(filled ? colors[bar][c] : 0xff));
    }
  }
  std::string packed(compressBound(static_cast<uLong>(raw.size())), '\0');
  uLongf packed_size = static_cast<uLongf>(packed.size());
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 9) != Z_OK) {
    FailIo("zlib failed to compress the demo PNG");
  }
  packed.resize(packed_size);
  std::string ihdr;
  AppendBigEndian32(kWidth, &ihdr);
  AppendBigEndian32(kHeight, &ihdr);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, no filter, no interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendPngChunk("IHDR", ihdr, &png);
  AppendPngChunk("IDAT", packed, &png);
  AppendPngChunk("IEND", "", &png);
  return png;
}

// ------------------------------------------------------------------------ the pipelines

enum class Content { kInt, kFloat, kList, kDict, kTable, kBlob };

struct OutputPlan {
  std::string name;           // the step's output name, also a folder name in the uri
  std::string artifact_name;  // custom (Annotated) or ZenML's "<pipeline>::<step>::<output>"
  Content content;
  std::string type;  // artifact_version.type
  std::string materializer, data_type;  // {"module","attribute","type"} JSON
  std::string artifact_id;              // set when the first version is written
  int versions = 0;
  // artifact_version.availability (0.97): anything but "available" leaves no files.
  std::string availability = "available";
  // Its materializer's save_visualizations writes an HTML and a PNG visualization.
  bool visualized = false;
  bool custom_name() const { return artifact_name == name; }
};

struct InputPlan {
  std::string name;
  std::size_t step;    // the producer: an earlier step of the same pipeline
  std::size_t output;  // index into the producer's outputs
  // How many of the producer's outputs, from `output` on, this one input receives: above
  // 1 it is a chunked input (0.97), one row per artifact version ordered by input_index.
  std::size_t count = 1;
  // Set: an artifact version no step produced (saved or registered by hand), passed to the
  // step as it is (an input row of type "external"; `step` and `output` unused). It is no
  // upstream step and not in the pipeline's spec, as ZenML records such inputs.
  std::string external = "";
};

struct StepPlan {
  std::string name, docstring, source_code, code_hash;
  std::vector<InputPlan> inputs;
  std::vector<OutputPlan> outputs;
  std::vector<Json> parameters;  // per deployment
  bool varying_accuracy = false;  // logs an "accuracy" that differs from run to run
  std::vector<std::pair<std::string, std::string>> metadata;  // fixed floats: key, JSON
  bool log_store = false;  // its logs live in a log store: a row without a uri, no file
};

struct PipelinePlan {
  std::string name, module, id;
  std::vector<StepPlan> steps;
  std::vector<int> code_reference;  // per deployment: which code reference, or -1 for none
  std::vector<std::string> deployment_ids;  // the deployments (0.97: snapshots)
  std::string project;                      // its workspace or project; "" is the default
  int runs = 0;                             // runs written so far: pipeline_run.index
  bool unlisted = false;  // ZenML's "unlisted" pipeline: no user, a fixed description
};

PipelinePlan Plan(std::string name, std::string module, std::vector<int> code_reference) {
  PipelinePlan p;
  p.name = std::move(name);
  p.module = std::move(module);
  p.code_reference = std::move(code_reference);
  return p;
}

Json Source(const std::string& module, const std::string& attribute, const std::string& type) {
  return Json{{"module", module}, {"attribute", attribute}, {"type", type}};
}

OutputPlan Output(std::string name, std::string artifact_name, Content content) {
  OutputPlan o{std::move(name), std::move(artifact_name), content, "DataArtifact", "", "", "", 0};
  const std::string built_in = "zenml.materializers.built_in_materializer";
  const auto builtin = [](const char* type) { return Source("builtins", type, "builtin").dump(); };
  switch (content) {
    case Content::kInt:
    case Content::kFloat:
      o.materializer = Source(built_in, "BuiltInMaterializer", "internal").dump();
      o.data_type = builtin(content == Content::kInt ? "int" : "float");
      break;
    case Content::kList:
    case Content::kDict:
      o.materializer = Source(built_in, "BuiltInContainerMaterializer", "internal").dump();
      o.data_type = builtin(content == Content::kList ? "list" : "dict");
      break;
    case Content::kTable:
      o.materializer = Source("training.materializers", "FeatureTableMaterializer", "user").dump();
      o.data_type = Source("training.data", "FeatureTable", "user").dump();
      break;
    case Content::kBlob:
      o.type = "ModelArtifact";
      o.materializer = Source("training.materializers", "BlobModelMaterializer", "user").dump();
      o.data_type = Source("training.model", "BlobModel", "user").dump();
      break;
  }
  return o;
}

std::string PythonStep(const StepPlan& s, const std::string& arguments, const std::string& returns,
                       const std::string& body) {
  return "@step\ndef " + s.name + "(" + arguments + ") -> " + returns + ":\n    \"\"\"" +
         s.docstring + "\"\"\"\n    " + body + "\n";
}

// example_pipeline: step_1 -> step_2 -> ..., each consuming the previous step's first
// output; deployment d sets multiplier d+1, and every other deployment has a git commit.
PipelinePlan ExamplePlan(const DemoOptions& options, IdSource* ids) {
  PipelinePlan p = Plan("example_pipeline", "example", {});
  const int deployments = std::min(options.runs, kExampleDeployments);
  for (int d = 0; d < deployments; ++d) p.code_reference.push_back(d % 2 == 0 ? (d / 2) % 2 : -1);
  std::string returns = options.outputs == 1 ? "int" : "Tuple[int";
  for (int j = 1; j < options.outputs; ++j) returns += j + 1 < options.outputs ? ", int" : ", int]";
  for (int k = 0; k < options.steps; ++k) {
    StepPlan s;
    s.name = "step_" + std::to_string(k + 1);
    for (int j = 0; j < options.outputs; ++j) {
      const std::string name = options.outputs == 1 ? "output" : "output_" + std::to_string(j + 1);
      s.outputs.push_back(Output(name, p.name + "::" + s.name + "::" + name, Content::kInt));
    }
    if (k == 0) {
      s.docstring = "Produces the starting value, scaled by `multiplier`.";
      s.source_code = PythonStep(s, "multiplier: int = 1, label: str = \"\"", returns,
                                 "return 1 * multiplier");
    } else {
      s.inputs.push_back({"data", static_cast<std::size_t>(k - 1), 0});
      s.docstring = "Scales the previous step's first output by `multiplier`.";
      s.source_code = PythonStep(s, "data: int, multiplier: int = 1, label: str = \"\"", returns,
                                 "return data * multiplier");
    }
    s.code_hash = ids->Hex(64);
    for (int d = 0; d < deployments; ++d) {
      s.parameters.push_back({{"multiplier", d + 1}, {"label", "variant-" + std::to_string(d)}});
    }
    s.varying_accuracy = k == options.steps - 1;
    p.steps.push_back(std::move(s));
  }
  return p;
}

// training_pipeline: load_data -> train_model -> evaluate, with custom output names (one
// of them "eval résumé"), a folder artifact, and the large `model` (absent at 0 bytes).
PipelinePlan TrainingPlan(const DemoOptions& options, IdSource* ids) {
  PipelinePlan p = Plan("training_pipeline", "training", {1});
  StepPlan load{"load_data", "Loads the iris features and labels.", "", ids->Hex(64),
                {}, {}, {Json::object()}, false, {}};
  load.outputs = {Output("features", "features", Content::kTable),
                  Output("labels", "labels", Content::kList)};
  load.outputs[0].visualized = true;
  load.source_code = PythonStep(
      load, "", "Tuple[Annotated[FeatureTable, \"features\"], Annotated[list, \"labels\"]]",
      "return read_iris()");

  StepPlan train{"train_model", "Fits a model and summarises its evaluation.", "", ids->Hex(64),
                 {{"features", 0, 0}, {"labels", 0, 1}}, {},
                 {Json{{"learning_rate", 0.01}, {"epochs", 3}}}, false,
                 {{"accuracy", "0.934"}, {"loss", "0.187"}}};
  if (options.artifact_bytes > 0) train.outputs.push_back(Output("model", "model", Content::kBlob));
  train.outputs.push_back(Output("eval résumé", "eval résumé", Content::kDict));
  train.source_code = PythonStep(
      train, "features: FeatureTable, labels: list, learning_rate: float, epochs: int",
      "Tuple[Annotated[BlobModel, \"model\"], Annotated[dict, \"eval résumé\"]]",
      "return fit(features, labels, learning_rate, epochs)");

  StepPlan eval{"evaluate", "Reduces the evaluation summary to one accuracy.", "", ids->Hex(64),
                {{"report", 1, train.outputs.size() - 1}, {"labels", 0, 1}}, {},
                {Json::object()}, false, {}};
  eval.outputs = {Output("accuracy", "accuracy", Content::kFloat)};
  eval.source_code = PythonStep(eval, "report: dict, labels: list",
                                "Annotated[float, \"accuracy\"]", "return report[\"accuracy\"]");
  p.steps = {std::move(load), std::move(train), std::move(eval)};
  return p;
}

// The steps a step waits for: the producers of its inputs, each once, in input order.
std::vector<std::size_t> Upstream(const StepPlan& s) {
  std::vector<std::size_t> up;
  for (const InputPlan& in : s.inputs) {
    if (in.external.empty() && std::find(up.begin(), up.end(), in.step) == up.end()) up.push_back(in.step);
  }
  return up;
}

// A step's "spec" ({source, upstream_steps, inputs, pipeline_parameter_name}), with keys
// sorted when it goes into pipeline_spec, as ZenML writes them there.
Json StepSpec(const PipelinePlan& p, const StepPlan& s, bool sorted) {
  Json inputs = Json::object(), upstream = Json::array();
  for (const InputPlan& in : s.inputs) {
    if (!in.external.empty()) continue;
    const StepPlan& producer = p.steps[in.step];
    const std::string& output = producer.outputs[in.output].name;
    inputs[in.name] = sorted ? Json{{"output_name", output}, {"step_name", producer.name}}
                             : Json{{"step_name", producer.name}, {"output_name", output}};
  }
  for (std::size_t up : Upstream(s)) upstream.push_back(p.steps[up].name);
  if (sorted) {
    return {{"inputs", inputs}, {"pipeline_parameter_name", s.name},
            {"source", {{"attribute", s.name}, {"module", p.module}, {"type", "user"}}},
            {"upstream_steps", upstream}};
  }
  return {{"source", Source(p.module, s.name, "user")}, {"upstream_steps", upstream},
          {"inputs", inputs}, {"pipeline_parameter_name", s.name}};
}

// Every step's {"spec", "config"} by name: a deployment's step_configurations column
// (0.74, 0.80), one step_configuration row's config each (0.97).
Json StepConfigurations(const PipelinePlan& p, std::size_t deployment) {
  Json all = Json::object();
  for (const StepPlan& s : p.steps) {
    Json outputs = Json::object();
    for (const OutputPlan& o : s.outputs) {
      outputs[o.name] = {{"materializer_source", Json::array({Json::parse(o.materializer)})},
                         {"default_materializer_source", nullptr},
                         {"artifact_config", o.custom_name() ? Json{{"name", o.name}} : Json()}};
    }
    const Json none = Json::object();
    Json config = {{"enable_cache", nullptr}, {"enable_artifact_metadata", nullptr},
                   {"enable_artifact_visualization", nullptr}, {"enable_step_logs", nullptr},
                   {"step_operator", nullptr}, {"experiment_tracker", nullptr},
                   {"parameters", s.parameters[deployment]}, {"settings", none}, {"extra", none},
                   {"failure_hook_source", nullptr}, {"success_hook_source", nullptr},
                   {"model", nullptr}, {"retry", nullptr}, {"substitutions", none},
                   {"outputs", outputs}, {"name", s.name}, {"caching_parameters", none},
                   {"external_input_artifacts", none}, {"model_artifacts_or_metadata", none},
                   {"client_lazy_loaders", none}};
    all[s.name] = {{"spec", StepSpec(p, s, false)}, {"config", config}};
  }
  return all;
}

std::string PipelineSpec(const PipelinePlan& p) {
  Json steps = Json::array();
  for (const StepPlan& s : p.steps) steps.push_back(StepSpec(p, s, true));
  return Json{{"parameters", Json::object()},
              {"source", {{"attribute", p.name}, {"module", p.module}, {"type", "user"}}},
              {"steps", steps}, {"version", "0.4"}}
      .dump();
}

// ------------------------------------------------------------------------ the writer

enum class RunKind { kCompleted, kCached, kFailed };

// What a written step leaves for later steps of its run and for a cached copy of it.
struct StepRecord {
  std::string id, cache_key;
  std::vector<std::string> outputs;       // artifact_version ids, in OutputPlan order
  std::vector<std::string> metadata_ids;  // run_metadata rows attached to the step
};

// A nested run's place under its parent (0.97): pipeline_run.parent_run_id, root_run_id
// and child_key.
struct ParentLink {
  std::string parent, root, key;
};

// One run being written. Step k starts at start + 20 ms + k * slot and runs for 70% of
// its slot (a failing step 25%, a cached one not at all).
struct RunContext {
  std::string id, deployment_id;
  int index;  // the run's number, which its values and accuracy derive from
  RunKind kind;
  Micros start, slot;
  const std::vector<StepRecord>* original;  // what a cached run copies
  const ParentLink* parent = nullptr;       // set for a nested (child) run

  Micros StepStart(std::size_t k) const { return start + 20 * kMs + Micros(k) * slot; }
  Micros StepEnd(std::size_t k, bool fails) const {
    if (kind == RunKind::kCached) return StepStart(k);
    return StepStart(k) + (fails ? slot / 4 : slot * 7 / 10);
  }
};

// Writes the rows and files of one demo store inside the caller's transaction. Not
// thread-safe; one instance per store.
class DemoWriter {
 public:
  DemoWriter(const DemoOptions& options, std::string dir, const Db& db)
      : options_(options), d_(DialectOf(options.schema)), dir_(std::move(dir)), db_(db),
        main_ids_(kSeed, BaseTime() - 86400 * kSec),
        extra_ids_(kSeed ^ 0x5a5a5a5a5a5a5a5aull, BaseTime() + 30 * 86400 * kSec),
        visualization_ids_(kSeed ^ 0x7669737669737669ull, BaseTime() + 60 * 86400 * kSec),
        insert_(db, d_),
        files_(options.artifact_store.empty()
                   ? std::nullopt
                   : std::optional<Uploader>(Uploader{options.s3, ParseS3Root(options.artifact_store)->bucket})) {
    for (std::string* id : {&user_, &scope_, &server_, &orchestrator_, &artifact_store_,
                            &stack_, &repository_}) {
      *id = ids_->Uuid();
    }
    // In a bucket (checked by WriteDemoStore), ZenML's keys below the component's path.
    root_ = options.artifact_store.empty() ? dir_ + "/local_stores/" + Dashed(artifact_store_)
                                           : ParseS3Root(options.artifact_store)->ToString();
    environment_ = Json{{"environment", "native"}, {"os", "linux"}, {"linux_distro", "debian"},
                        {"linux_distro_like", ""}, {"linux_distro_version", "12"},
                        {"python_version", "3.11.7"}}
                       .dump();
  }

  // Returns once every row is inserted and every file written.
  void Write() {
    WriteConfigYaml();
    files_.MakeDir(root_);
    const Micros base = BaseTime();
    WriteFixedRows(base - 86400 * kSec);
    PipelinePlan example = ExamplePlan(options_, ids_);
    PipelinePlan training = TrainingPlan(options_, ids_);
    const Micros training_start = base + 3 * 3600 * kSec + 417 * kMs;
    WritePipeline(&example, base - 2 * kSec);
    WritePipeline(&training, training_start - 2 * kSec);

    // Run 1 is a fully cached copy of run 0, run 2 fails, every other run completes.
    std::vector<StepRecord> first;
    const Micros slot = std::min<Micros>(10 * kSec, 50 * kSec / options_.steps);
    for (int r = 0; r < options_.runs; ++r) {
      const RunKind kind = r == 1   ? RunKind::kCached
                           : r == 2 ? RunKind::kFailed
                                    : RunKind::kCompleted;
      const int deployment = kind == RunKind::kCached ? 0 : r % kExampleDeployments;
      const Micros jitter = Micros((std::uint64_t(r) * 2654435761u) % 900000);
      const RunContext run{ids_->Uuid(), example.deployment_ids[std::size_t(deployment)], r, kind,
                           base + Micros{r} * 60 * kSec + jitter, slot, &first};
      std::vector<StepRecord> steps = WriteRun(&example, run);
      if (kind == RunKind::kCompleted) {
        AddMetadata("rows_processed", std::to_string(1000 + r), "int", run.start + kSec, nullptr,
                    run.id, "pipeline_run", scope_);
      }
      if (r == 0) first = std::move(steps);
    }

    // evaluate also reads a baseline registered by hand an hour before: a version no step
    // produced (%artifacts shows it as a folder; evaluate's inputs/baseline links there).
    training.steps[2].inputs.push_back(
        {"baseline", 0, 0, 1, WriteRegisteredArtifact(Output("iris_baseline", "iris_baseline", Content::kDict),
                                                      training_start - 3600 * kSec)});
    const RunContext train{ids_->Uuid(), training.deployment_ids[0], 0, RunKind::kCompleted,
                           training_start, 10 * kSec, nullptr};
    WriteRun(&training, train);
    const Micros t = train.start + kSec;
    AddMetadata("dataset", "\"iris-v2\"", "str", t, nullptr, train.id, "pipeline_run", scope_);
    AddMetadata("hyperparameters", "{\"learning_rate\":0.01,\"epochs\":3}", "dict", t, nullptr,
                train.id, "pipeline_run", scope_);
    AddMetadata("num_samples", "150", "int", t, nullptr, train.id, "pipeline_run", scope_);

    // What only newer schemas hold comes after, with ids from a stream of its own, so the
    // rows above are the same in every schema.
    ids_ = &extra_ids_;
    if (d_.projects) WriteResearchProject(base + 4 * 3600 * kSec);
    if (d_.snapshots) WriteNewerFeatures(base + 5 * 3600 * kSec);
    files_.Finish();
  }

 private:
  // config.yaml as ZenML writes it, naming this directory (paths YAML single-quoted).
  // 0.80 and later name the active project by id instead of the workspace by name.
  void WriteConfigYaml() {
    const auto quote = [](const std::string& s) {
      std::string q = "'";
      for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
      return q + "'";
    };
    const std::string db = dir_ + "/local_stores/default_zen_store/zenml.db";
    const std::string active = d_.projects ? "active_project_id: " + Dashed(scope_)
                                           : std::string("active_workspace_name: default");
    files_.Write(dir_ + "/config.yaml",
                 "active_stack_id: " + Dashed(stack_) + "\n" + active +
                     "\nanalytics_opt_in: false\nstore:\n"
                     "  backup_directory: " + quote(dir_ + "/database_backup") +
                     "\n  backup_strategy: in-memory\n  database: " + quote(db) +
                     "\n  driver: sqlite\n  max_overflow: 20\n  pool_pre_ping: true\n"
                     "  pool_size: 20\n  secrets_store:\n    type: sql\n  ssl: false\n"
                     "  ssl_verify_server_cert: false\n  type: sql\n  url: " +
                     quote("sqlite:///" + db) + "\nuser_id: " + Dashed(server_) +
                     "\nversion: " + d_.version + "\n");
  }

  // The workspace (0.74) or project (0.80+) row.
  void WriteScope(const std::string& id, const std::string& created, const std::string& name,
                  const std::string& description) {
    if (d_.projects) {
      Insert(db_, "project", "id, created, updated, name, display_name, description")
          .Run(id, created, created, name, name, description);
    } else {
      Insert(db_, "workspace", "id, created, updated, name, description")
          .Run(id, created, created, name, description);
    }
  }

  // What a fresh ZenML store starts with (user, workspace or project, server settings, the
  // default stack and the two flavors it names: ZenML only syncs flavors when it
  // migrates), plus a code repository with two commits.
  void WriteFixedRows(Micros t) {
    const std::string c = T(t);
    WriteScope(scope_, c, "default", "");
    // `default` as ZenML's client creates it: active, an admin, not a service account,
    // the empty password's hash (what a server's login checks).
    Insert(db_, "user",
           "id, created, updated, name, is_service_account, full_name, active, is_admin, "
           "password")
        .Run(user_, c, c, "default", 0, "", 1, 1, EmptyPasswordHash());
    Insert(db_, "server_settings",
           "id, server_name, active, enable_analytics, display_announcements, display_updates, "
           "onboarding_state, last_user_activity, updated")
        .Run(server_, "default", 1, 0, 1, 1, R"(["starter_setup_completed", "pipeline_run"])", c,
             c);
    Insert flavor(db_, "flavor",
                  "id, created, updated, name, type, source, config_schema, integration, logo_url, "
                  "docs_url, sdk_docs_url, is_custom");
    const std::string logos = "https://public-flavor-logos.s3.eu-central-1.amazonaws.com/";
    const std::string docs = "https://docs.zenml.io/stack-components/";
    const std::string sdk =
        "https://sdkdocs.zenml.io/" + std::string(d_.version) + "/core_code_docs/";
    flavor.Run(ids_->Uuid(), c, c, "local", "artifact_store",
               "zenml.artifact_stores.local_artifact_store.LocalArtifactStoreFlavor",
               R"({"additionalProperties": false, "description": "Config class for the local )"
               R"(artifact store.\n\nAttributes:\n    path: The path to the local artifact )"
               R"(store.", "properties": {"path": {"default": "", "title": "Path", "type": )"
               R"("string"}}, "title": "LocalArtifactStoreConfig", "type": "object"})",
               "built-in", logos + "artifact_store/local.svg", docs + "artifact-stores/local",
               sdk + "core-artifact_stores/#zenml.artifact_stores.local_artifact_store", 0);
    if (!options_.artifact_store.empty()) {
      flavor.Run(ids_->Uuid(), c, c, "s3", "artifact_store",
                 "zenml.integrations.s3.flavors.s3_artifact_store_flavor.S3ArtifactStoreFlavor",
                 R"({"additionalProperties": false, "description": "Configuration for the S3 )"
                 R"(Artifact Store.", "properties": {"path": {"title": "Path", "type": "string"}, )"
                 R"("client_kwargs": {"title": "Client Kwargs", "type": "object"}}, "required": )"
                 R"(["path"], "title": "S3ArtifactStoreConfig", "type": "object"})",
                 "s3", logos + "artifact_store/aws.png", docs + "artifact-stores/s3",
                 sdk + "integration_code_docs/integrations-s3/", 0);
    }
    flavor.Run(ids_->Uuid(), c, c, "local", "orchestrator",
               "zenml.orchestrators.local.local_orchestrator.LocalOrchestratorFlavor",
               R"({"additionalProperties": false, "description": "Local orchestrator config.", )"
               R"("properties": {}, "title": "LocalOrchestratorConfig", "type": "object"})",
               "built-in", logos + "orchestrator/local.png", docs + "orchestrators/local",
               sdk + "core-orchestrators/#zenml.orchestrators.local.local_orchestrator", 0);
    // configuration and labels are BLOBs of base64 JSON: "e30=" is {}, "bnVsbA==" null.
    // Components and stacks belong to a workspace in 0.74 and to no project from 0.80 on.
    Insert component(db_, "stack_component",
                     Columns(d_, "id, created, updated, name, type, flavor, configuration, labels",
                             !d_.projects, d_.scope));
    // An S3 artifact store: its path and, for an S3-compatible server, client_kwargs.
    Json s3_config = Json::object();
    if (!options_.artifact_store.empty()) {
      s3_config["path"] = root_;
      if (!options_.s3_endpoint.empty()) s3_config["client_kwargs"] = Json{{"endpoint_url", options_.s3_endpoint}};
    }
    const std::string s3_blob = Base64(s3_config.dump());
    for (const auto& [id, type] : {std::pair{&orchestrator_, "orchestrator"},
                                   std::pair{&artifact_store_, "artifact_store"}}) {
      const bool s3 = id == &artifact_store_ && !options_.artifact_store.empty();
      // Views the rows keep until End(): of s3_blob, never of a temporary.
      const std::string_view configuration = s3 ? std::string_view(s3_blob) : std::string_view("e30=");
      component.Begin(*id, c, c, "default", type, s3 ? "s3" : "local", Blob{configuration}, Blob{"bnVsbA=="});
      if (!d_.projects) component.More(scope_);
      component.End();
    }
    Insert stack(db_, "stack",
                 Columns(d_, "id, created, updated, name, labels", !d_.projects, d_.scope));
    stack.Begin(stack_, c, c, "default", Blob{"e30="});
    if (!d_.projects) stack.More(scope_);
    stack.End();
    Insert composition(db_, "stack_composition", "stack_id, component_id");
    composition.Run(stack_, artifact_store_);
    composition.Run(stack_, orchestrator_);
    Insert(db_, "code_repository",
           Columns(d_, "id, created, updated, name, <scope>, user_id, config, source, description"))
        .Run(repository_, c, c, "zenfs-demo", scope_, user_,
             "{\"owner\":\"zenfs\",\"repository\":\"demo\"}",
             Source("zenml.integrations.github.code_repositories.github_code_repository",
                    "GitHubCodeRepository", "internal")
                 .dump(),
             "The demo pipelines.");
    Insert reference(
        db_, "code_reference",
        Columns(d_, "id, created, updated, <scope>, code_repository_id, \"commit\", subdirectory"));
    for (int i = 0; i < 2; ++i) {
      code_references_.push_back(ids_->Uuid());
      reference.Run(code_references_.back(), c, c, scope_, repository_, ids_->Hex(40), "");
    }
  }

  // The pipeline row, its deployments or snapshots (created from `t` on; 0.97 also their
  // step_configuration rows) and its artifact folders.
  void WritePipeline(PipelinePlan* p, Micros t) {
    const std::string c = T(t);
    p->id = ids_->Uuid();
    if (p->project.empty()) p->project = scope_;
    Insert(db_, "pipeline",
           Columns(d_, "id, created, updated, name, <scope>, user_id, description"))
        .Run(p->id, c, c, p->name, p->project, OrNull{p->unlisted ? nullptr : &user_},
             OrNull{p->unlisted ? &kUnlistedDescription : nullptr});
    const std::string configuration =
        Json{{"enable_cache", nullptr}, {"enable_artifact_metadata", nullptr},
             {"enable_artifact_visualization", nullptr}, {"enable_step_logs", nullptr},
             {"settings", Json::object()}, {"tags", nullptr}, {"extra", Json::object()},
             {"failure_hook_source", nullptr}, {"success_hook_source", nullptr},
             {"model", nullptr}, {"parameters", nullptr}, {"retry", nullptr},
             {"substitutions", Json::object()}, {"name", p->name}}
            .dump();
    const std::string spec = PipelineSpec(*p), run_name = p->name + "-{date}-{time}";
    // 0.97 snapshots keep step configurations in rows of their own and count the steps.
    Insert deployment(db_, d_.snapshot_table,
                      Columns(d_,
                              "id, created, updated, pipeline_configuration, client_environment, "
                              "run_name_template, client_version, server_version, "
                              "pipeline_version_hash, pipeline_spec, code_path, user_id, <scope>, "
                              "stack_id, pipeline_id, code_reference_id",
                              true,
                              d_.snapshots ? "is_dynamic, step_count" : "step_configurations"));
    Insert step_configuration(db_, d_.snapshots ? "step_configuration" : d_.snapshot_table,
                              d_.snapshots ? "id, created, updated, \"index\", name, config, "
                                             "snapshot_id"
                                           : "id");
    for (std::size_t d = 0; d < p->code_reference.size(); ++d) {
      const int ref = p->code_reference[d];
      const std::string id = ids_->Uuid(), created = T(t + Micros(d) * kMs), hash = ids_->Hex(32);
      const Json steps = StepConfigurations(*p, d);
      deployment.Begin(id, created, created, configuration, environment_, run_name, d_.version,
                       d_.version, hash, spec, "", user_, p->project, stack_, p->id,
                       OrNull{ref < 0 ? nullptr : &code_references_.at(ref)});
      const std::string all_steps = d_.snapshots ? "" : steps.dump();
      if (d_.snapshots) {
        deployment.More(0, static_cast<std::int64_t>(p->steps.size())).End();
        int index = 0;
        for (const auto& [name, step] : steps.items()) {
          step_configuration.Run(extra_ids_.Uuid(), created, created, index++, name, step.dump(),
                                 id);
        }
      } else {
        deployment.More(all_steps).End();
      }
      p->deployment_ids.push_back(id);
    }
    for (const StepPlan& s : p->steps) {
      files_.MakeDir(root_ + "/" + s.name);
      files_.MakeDir(root_ + "/" + s.name + "/logs");
      for (const OutputPlan& o : s.outputs) files_.MakeDir(root_ + "/" + s.name + "/" + o.name);
    }
  }

  // A run and its steps. A failed run stops at its failing step (step 2, or step 1 when
  // alone); a cached run copies `run.original` step by step.
  std::vector<StepRecord> WriteRun(PipelinePlan* p, const RunContext& run) {
    const std::size_t n = p->steps.size();
    const bool failed = run.kind == RunKind::kFailed;
    const std::size_t last = failed ? std::min<std::size_t>(1, n - 1) : n - 1;
    const Micros end = run.StepEnd(last, failed) + 5 * kMs;
    // "<pipeline>-2025_03_03-09_00_00_000000", ZenML's {date}-{time}.
    std::string when = T(run.start);
    std::replace(when.begin(), when.end(), '-', '_');
    std::replace(when.begin(), when.end(), ' ', '-');
    std::replace(when.begin(), when.end(), ':', '_');
    std::replace(when.begin(), when.end(), '.', '_');
    // ZenML leaves orchestrator_run_id empty on a run whose steps were all cached.
    const std::string orchestrator_run = Dashed(ids_->Uuid()), name = p->name + "-" + when;
    const std::string created = T(run.start + 300), updated = T(end + 1400), start = T(run.start),
                      stop = T(end);
    insert_.run.Begin(run.id, created, updated, name,
                      OrNull{run.kind == RunKind::kCached ? nullptr : &orchestrator_run}, start,
                      stop, failed ? "failed" : "completed", environment_, run.deployment_id,
                      user_, p->project, p->id);
    ++p->runs;
    if (d_.snapshots) {
      // Every demo run has finished: in_progress is 0. index counts the pipeline's runs
      // from 1 in creation order; heartbeats are off.
      const ParentLink* link = run.parent;
      insert_.run.More(0, p->runs, 0, OrNull{link ? &link->parent : nullptr},
                       OrNull{link ? &link->root : nullptr}, OrNull{link ? &link->key : nullptr});
    }
    insert_.run.End();
    std::vector<StepRecord> steps;
    for (std::size_t k = 0; k <= last; ++k) {
      steps.push_back(WriteStep(p, k, run, steps, failed && k == last));
    }
    return steps;
  }

  StepRecord WriteStep(PipelinePlan* p, std::size_t k, const RunContext& run,
                       const std::vector<StepRecord>& earlier, bool fails) {
    const StepPlan& s = p->steps[k];
    const StepRecord* original = run.kind == RunKind::kCached ? &(*run.original)[k] : nullptr;
    const Micros t0 = run.StepStart(k), t1 = run.StepEnd(k, fails);
    StepRecord step{ids_->Uuid(), original ? original->cache_key : ids_->Hex(32), {}, {}};
    const char* status = original ? "cached" : fails ? "failed" : "completed";
    const std::string created = T(t0 + 4 * kMs), updated = T(t1 + 500), start = T(t0),
                      stop = T(t1);
    insert_.step.Begin(step.id, created, updated, s.name, start, stop, status, s.docstring,
                       step.cache_key, s.source_code, s.code_hash,
                       OrNull{original ? &original->id : nullptr}, run.deployment_id, run.id,
                       user_, p->project);
    if (d_.snapshots) insert_.step.More(1, 0);  // the first attempt; no retries configured
    insert_.step.End();
    for (std::size_t up : Upstream(s)) insert_.parent.Run(earlier[up].id, step.id);
    for (const InputPlan& in : s.inputs) {
      for (std::size_t i = 0; i < in.count; ++i) {
        insert_.input.Begin(in.name, in.external.empty() ? "step_output" : "external", step.id,
                            in.external.empty() ? earlier[in.step].outputs[in.output + i] : in.external);
        if (d_.snapshots) insert_.input.More(static_cast<std::int64_t>(i));
        insert_.input.End();
      }
    }
    if (original) {  // the original's artifact versions and metadata, no new files or logs
      step.outputs = original->outputs;
      for (const std::string& m : original->metadata_ids) Link(m, step.id, "step_run");
    } else if (!fails) {
      for (std::size_t j = 0; j < s.outputs.size(); ++j) {
        const Micros made = (t0 + t1) / 2 + Micros(j) * 100;
        step.outputs.push_back(WriteArtifactVersion(p, k, j, step.id, made, run.index));
      }
    }
    for (std::size_t j = 0; j < step.outputs.size(); ++j) {
      insert_.output.Run(s.outputs[j].name, step.id, step.outputs[j]);
    }
    if (original) return step;
    WriteLog(s, step.id, p->project, t0, t1, fails, run.index);
    if (fails) return step;
    const auto publish = [&](const std::string& key, const std::string& value, Micros t) {
      step.metadata_ids.push_back(
          AddMetadata(key, value, "float", t, &step.id, step.id, "step_run", p->project));
    };
    for (const auto& [key, value] : s.metadata) publish(key, value, t1 - 10 * kMs);
    if (s.varying_accuracy) {
      if (run.index == 0) publish("accuracy", "0.5", t1 - 20 * kMs);  // repeated: newest wins
      const double accuracy = double(700 + (std::int64_t{run.index} * 7919) % 250) / 1000;
      publish("accuracy", Json(accuracy).dump(), t1 - 10 * kMs);
    }
    return step;
  }

  // A new artifact version: its folder <root>/<step>/<output>/<step-run-id>/<8 hex>, its
  // files, its row (and its artifact's, at the first version) and its storage_size. An
  // unavailable one (0.97) keeps its uri but has no folder, no files and no size.
  std::string WriteArtifactVersion(PipelinePlan* p, std::size_t k, std::size_t j,
                                   const std::string& step_id, Micros t, int run) {
    const StepPlan& s = p->steps[k];
    OutputPlan& o = p->steps[k].outputs[j];
    const std::string c = T(t);
    if (o.artifact_id.empty()) {
      o.artifact_id = ids_->Uuid();
      insert_.artifact.Begin(o.artifact_id, c, c, o.artifact_name, o.custom_name() ? 1 : 0);
      if (d_.projects) insert_.artifact.More(user_, p->project);
      insert_.artifact.End();
    }
    const std::string id = ids_->Uuid();
    const bool available = o.availability == "available";
    std::string uri = root_ + "/" + s.name + "/" + o.name + "/" + Dashed(step_id);
    if (available) files_.MakeDir(uri);
    uri += "/" + ids_->Hex(8);
    std::int64_t size = 0;
    if (available) {
      files_.MakeDir(uri);
      const auto value = std::int64_t(1000 * (std::int64_t{run} + 1) + 10 * (k + 1) + j);
      size = WriteArtifactFiles(o.content, uri, value);
      if (o.visualized) size += WriteVisualizations(uri, id, t);
    }
    const std::string version = std::to_string(++o.versions);
    insert_.version.Begin(id, c, c, version, o.versions, o.type, uri,
                          o.materializer, o.data_type, "step_output", o.artifact_id,
                          artifact_store_, user_, p->project);
    if (d_.snapshots) insert_.version.More(o.availability);
    insert_.version.End();
    if (available) {
      AddMetadata("storage_size", std::to_string(size), "int", t + 200, nullptr, id,
                  "artifact_version", p->project);
    }
    return id;
  }

  // What a materializer's save_visualizations leaves, as ZenML saves it: the files in the
  // artifact's own folder `dir` (the names BaseMaterializer's documentation uses), then
  // one artifact_visualization row each, in the order of the dict it returns (the order
  // ZenML keeps). Returns the files' total size (ZenML's storage_size counts them).
  std::int64_t WriteVisualizations(const std::string& dir, const std::string& version_id, Micros t) {
    const std::pair<std::string, std::string> files[] = {
        {"html", dir + "/visualization.html"}, {"image", dir + "/visualization.png"}};
    std::int64_t size = files_.Write(files[0].second, DemoVisualizationHtml());
    size += files_.Write(files[1].second, DemoVisualizationPng());
    Micros at = t + 50;
    for (const auto& [type, uri] : files) {
      const std::string c = T(at++);
      insert_.visualization.Run(visualization_ids_.Uuid(), c, c, type, uri, version_id);
    }
    return size;
  }

  // An artifact saved outside any step, as ZenML's register_artifact leaves it: an artifact
  // and its version 1 (save_type "preexisting"), its files under <root>/registered/, and no
  // step_run_output_artifact row. Returns the version's id.
  std::string WriteRegisteredArtifact(const OutputPlan& o, Micros t) {
    const std::string c = T(t), artifact = ids_->Uuid(), id = ids_->Uuid();
    insert_.artifact.Begin(artifact, c, c, o.artifact_name, 1);
    if (d_.projects) insert_.artifact.More(user_, scope_);
    insert_.artifact.End();
    files_.MakeDir(root_ + "/registered");
    const std::string uri = root_ + "/registered/" + o.artifact_name;
    files_.MakeDir(uri);
    const std::int64_t size = WriteArtifactFiles(o.content, uri, 0);
    insert_.version.Begin(id, c, c, "1", 1, o.type, uri, o.materializer, o.data_type, "preexisting", artifact,
                          artifact_store_, user_, scope_);
    if (d_.snapshots) insert_.version.More(o.availability);
    insert_.version.End();
    AddMetadata("storage_size", std::to_string(size), "int", t + 200, nullptr, id, "artifact_version", scope_);
    return id;
  }

  // The files a materializer would leave in `dir`; returns their total size.
  std::int64_t WriteArtifactFiles(Content content, const std::string& dir, std::int64_t value) {
    switch (content) {
      case Content::kInt: return files_.Write(dir + "/data.json", std::to_string(value));
      case Content::kFloat: return files_.Write(dir + "/data.json", "0.934");
      case Content::kList: return files_.Write(dir + "/data.json", "[0, 0, 1, 1, 2, 2]");
      case Content::kDict:
        return files_.Write(dir + "/data.json",
                            R"({"accuracy": 0.934, "f1": 0.927, "note": "résumé of the eval"})");
      case Content::kTable: {
        files_.MakeDir(dir + "/schema");
        const std::int64_t csv = files_.Write(
            dir + "/df.csv",
            "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n"
            "4.9,3.0,1.4,0.2\n7.0,3.2,4.7,1.4\n6.4,3.2,4.5,1.5\n");
        return csv + files_.Write(dir + "/schema/columns.json",
                                  R"({"columns": ["sepal_length", "sepal_width", )"
                                  R"("petal_length", "petal_width"], "dtype": "float64"})");
      }
      case Content::kBlob:
        return files_.WritePseudoRandom(dir + "/model.bin", options_.artifact_bytes);
    }
    return 0;
  }

  // <root>/<step>/logs/<uuid>.log in ZenML's format, and its row ("step" logs). A step
  // whose logs live in a log store gets a row without a uri and no file.
  void WriteLog(const StepPlan& s, const std::string& step_id, const std::string& project,
                Micros t0, Micros t1, bool failed, int run) {
    const auto stamp = [](Micros t) { return "[" + T(t).substr(0, 19) + " UTC] "; };
    std::string text = stamp(t0) + "Step " + s.name + " has started.\n\n";
    if (failed) {
      text += stamp(t1) + "Failed to run step " + s.name + " after 1 retries. Exiting.\n\n" +
              stamp(t1) + "boom\nTraceback (most recent call last):\n  File \"pipelines.py\", " +
              "line 12, in " + s.name +
              "\n    raise RuntimeError(\"boom\")\nRuntimeError: boom\n\n";
    } else {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.3f", double(t1 - t0) / kSec);
      text += stamp(t0) + "Run " + std::to_string(run) + ": " + s.name + " writes " +
              std::to_string(s.outputs.size()) + " output(s).\n\n" + stamp(t1) + "Step " +
              s.name + " has finished in " + seconds + "s.\n\n";
    }
    if (s.log_store) return AddLog(nullptr, &step_id, "step", project, t0 + 6 * kMs, {});
    AddLog(nullptr, &step_id, "step", project, t0 + 6 * kMs,
           LogFile{root_ + "/" + s.name + "/logs", std::move(text)});
  }

  // A log file to write: its folder (under the artifact store) and its text.
  struct LogFile {
    std::string folder, text;
  };
  // A logs row of `run` or of `step` (exactly one is set) and, given `file`, the file
  // <folder>/<uuid>.log; without one the logs are in the demo's log store (0.97).
  // Before 0.97 a row has neither source nor key.
  void AddLog(const std::string* run, const std::string* step, std::string_view source,
              const std::string& project, Micros t, std::optional<LogFile> file) {
    std::string uri;
    if (file) {
      uri = file->folder + "/" + Dashed(ids_->Uuid()) + ".log";
      files_.Write(uri, std::move(file->text));
    }
    const std::string id = ids_->Uuid(), c = T(t);
    // ZenML's key (0.97): "<run id>-<step id>-<source>", ids dashed, "None" for a missing one.
    const std::string key = (run ? Dashed(*run) : "None") + "-" +
                            (step ? Dashed(*step) : "None") + "-" + std::string(source);
    insert_.log.Begin(id, c, c, OrNull{file ? &uri : nullptr}, OrNull{step},
                      OrNull{file ? &artifact_store_ : nullptr});
    if (d_.snapshots) {
      insert_.log.More(OrNull{run}, OrNull{file ? nullptr : &log_store_}, source, key, project,
                       user_);
    }
    insert_.log.End();
  }

  // A run_metadata row (value: JSON text) attached to one resource; returns its id.
  std::string AddMetadata(std::string_view key, const std::string& value, std::string_view type,
                          Micros t, const std::string* publisher, const std::string& resource_id,
                          std::string_view resource_type, const std::string& project) {
    std::string id = ids_->Uuid();
    const std::string c = T(t);
    insert_.metadata.Run(id, c, c, user_, project, key, value, type, OrNull{publisher});
    Link(id, resource_id, resource_type);
    return id;
  }
  void Link(const std::string& metadata_id, const std::string& resource_id,
            std::string_view resource_type) {
    insert_.link.Run(ids_->Uuid(), resource_id, resource_type, metadata_id);
  }

  // 0.80+: a second project, "research", whose own training_pipeline (the name the
  // default project uses too) has two runs of its own; no large artifact.
  void WriteResearchProject(Micros t) {
    const std::string project = ids_->Uuid();
    WriteScope(project, T(t - 86400 * kSec), "research", "Experiments beside the default project.");
    DemoOptions small = options_;
    small.artifact_bytes = 0;
    PipelinePlan training = TrainingPlan(small, ids_);
    training.project = project;
    training.code_reference = {-1};  // the code repository is the default project's
    WritePipeline(&training, t - 2 * kSec);
    for (int r = 0; r < 2; ++r) {
      const RunContext run{ids_->Uuid(), training.deployment_ids[0], 10 + r, RunKind::kCompleted,
                           t + Micros{r} * 600 * kSec, 10 * kSec, nullptr};
      WriteRun(&training, run);
    }
  }

  // 0.97: what ZenML added after 0.80, each once, in the default project, on pipelines of
  // their own so example_pipeline and training_pipeline stay as in the older schemas.
  void WriteNewerFeatures(Micros t) {
    const std::string c = T(t - 86400 * kSec);
    log_store_ = ids_->Uuid();
    Insert(db_, "stack_component",
           "id, created, updated, name, type, flavor, configuration, labels")
        .Run(log_store_, c, c, "otel", "log_store", "otel", Blob{"e30="}, Blob{"bnVsbA=="});

    // nested_pipeline: prepare -> launch_folds, whose run starts a fold_pipeline run (its
    // child "fold 1"). fold_pipeline: split -> score, score's input "batches" is both of
    // split's outputs (a chunked input); score's "plot" failed to upload.
    PipelinePlan nested = Plan("nested_pipeline", "nested", {-1});
    nested.steps.push_back(FeatureStep("prepare", "Loads the folds' data.", {},
                                       {Output("dataset", "dataset", Content::kList)}));
    nested.steps.push_back(FeatureStep("launch_folds", "Runs fold_pipeline for each fold.",
                                       {{"data", 0, 0}},
                                       {Output("summary", "summary", Content::kDict)}));
    PipelinePlan folds = Plan("fold_pipeline", "folds", {-1});
    folds.steps.push_back(FeatureStep("split", "Splits the fold into two batches.", {},
                                      {Output("batch_1", "batch_1", Content::kList),
                                       Output("batch_2", "batch_2", Content::kList)}));
    folds.steps.push_back(FeatureStep("score", "Scores both batches together.",
                                      {{"batches", 0, 0, 2}},
                                      {Output("score", "score", Content::kFloat),
                                       Output("plot", "plot", Content::kDict)}));
    folds.steps[1].outputs[1].availability = "upload_failed";
    folds.steps[1].log_store = true;
    WritePipeline(&nested, t - 2 * kSec);
    WritePipeline(&folds, t - kSec);
    const RunContext parent{ids_->Uuid(), nested.deployment_ids[0], 20, RunKind::kCompleted, t,
                            10 * kSec, nullptr};
    const std::vector<StepRecord> parent_steps = WriteRun(&nested, parent);
    const ParentLink link{parent.id, parent.id, "fold 1"};
    const RunContext child{ids_->Uuid(), folds.deployment_ids[0],   21, RunKind::kCompleted,
                           parent.StepStart(1) + kSec, 3 * kSec, nullptr, &link};
    const std::vector<StepRecord> child_steps = WriteRun(&folds, child);

    // More logs: prepare's orchestrator logs beside its step logs, and the parent run's own
    // client logs (a run-level row without a step).
    AddLog(nullptr, &parent_steps[0].id, "orchestrator", scope_, parent.StepStart(0) + 7 * kMs,
           LogFile{root_ + "/prepare/logs", "[orchestrator] pod for step prepare scheduled\n"});
    files_.MakeDir(root_ + "/nested_pipeline");
    files_.MakeDir(root_ + "/nested_pipeline/logs");
    AddLog(&parent.id, nullptr, "client", scope_, t + 2 * kMs,
           LogFile{root_ + "/nested_pipeline/logs", "[client] submitted nested_pipeline\n"});

    // Named pipeline outputs: each run's output names an artifact version of its steps.
    Insert outputs(db_, "pipeline_run_output",
                   "id, created, updated, name, output_index, pipeline_run_id, artifact_id");
    const std::string pc = T(parent.StepEnd(1, false) + 2 * kMs);
    outputs.Run(ids_->Uuid(), pc, pc, "dataset", 0, parent.id, parent_steps[0].outputs[0]);
    const std::string cc = T(child.StepEnd(1, false) + 2 * kMs);
    outputs.Run(ids_->Uuid(), cc, cc, "score", 0, child.id, child_steps[1].outputs[0]);

    // cleanup_pipeline: one run, archived afterwards as ZenML's execution archive leaves a
    // run: its detail columns NULL, its snapshot's configuration emptied, its step
    // configurations deleted (identity, status, times, artifacts and logs stay).
    PipelinePlan cleanup = Plan("cleanup_pipeline", "cleanup", {-1});
    cleanup.steps.push_back(FeatureStep("vacuum", "Removes stale caches.", {},
                                        {Output("report", "report", Content::kDict)}));
    WritePipeline(&cleanup, t + 3600 * kSec - 2 * kSec);
    const RunContext archived{ids_->Uuid(), cleanup.deployment_ids[0], 22, RunKind::kCompleted,
                              t + 3600 * kSec, 5 * kSec, nullptr};
    WriteRun(&cleanup, archived);
    Archive(archived.id, archived.deployment_id);

    // The "unlisted" pipeline ZenML's snapshot migration creates for runs without one.
    PipelinePlan unlisted = Plan("unlisted", "adhoc", {-1});
    unlisted.unlisted = true;
    unlisted.steps.push_back(FeatureStep("adhoc_step", "A step run outside any pipeline.", {},
                                         {Output("value", "value", Content::kInt)}));
    WritePipeline(&unlisted, t + 7200 * kSec - 2 * kSec);
    WriteRun(&unlisted, RunContext{ids_->Uuid(), unlisted.deployment_ids[0], 23,
                                   RunKind::kCompleted, t + 7200 * kSec, 5 * kSec, nullptr});
  }

  // A step of the newer-feature pipelines: no parameters, one configuration.
  StepPlan FeatureStep(std::string name, std::string docstring, std::vector<InputPlan> inputs,
                       std::vector<OutputPlan> outputs) {
    StepPlan s{std::move(name), std::move(docstring), "", ids_->Hex(64), std::move(inputs),
               std::move(outputs), {Json::object()}, false, {}, false};
    s.source_code = PythonStep(s, "", "...", "...");
    return s;
  }

  // What ZenML's execution archive (after 0.97.0) does to a run and its snapshot, less the
  // archive_bundle_id markers 0.97.0 does not have.
  void Archive(const std::string& run_id, const std::string& snapshot_id) {
    for (const auto& [sql, id] : {
             std::pair{"UPDATE pipeline_run SET orchestrator_environment = NULL, exception_info "
                       "= NULL, pipeline_configuration = NULL, client_environment = NULL "
                       "WHERE id = ?",
                       &run_id},
             std::pair{"UPDATE step_run SET exception_info = NULL, step_configuration = NULL "
                       "WHERE pipeline_run_id = ?",
                       &run_id},
             std::pair{"UPDATE pipeline_snapshot SET pipeline_configuration = '{}', "
                       "client_environment = '{}', pipeline_spec = NULL, source_code = NULL, "
                       "description = NULL WHERE id = ?",
                       &snapshot_id},
             std::pair{"DELETE FROM step_configuration WHERE snapshot_id = ?", &snapshot_id}}) {
      Statement(db_, sql).Run(*id);
    }
  }

  static inline const std::string kUnlistedDescription =
      "Auto-created pipeline for snapshots without pipeline reference";

  const DemoOptions& options_;
  const Dialect& d_;
  const std::string dir_;  // absolute
  const Db& db_;
  IdSource main_ids_;   // every row every schema has
  IdSource extra_ids_;  // rows only newer schemas have, and 0.97's step_configuration rows
  // artifact_visualization rows: their own sequence, so they move no other id.
  IdSource visualization_ids_;
  IdSource* ids_ = &main_ids_;
  Inserts insert_;
  std::string user_, scope_, server_, orchestrator_, artifact_store_, stack_, repository_;
  std::string log_store_;  // 0.97: the stack component holding log-store logs
  std::vector<std::string> code_references_;
  std::string root_;  // the artifact store's folder, <dir>/local_stores/<id-dashed>, or its s3:// path
  std::string environment_;  // client and orchestrator environment JSON
  FileWriter files_;
};

Status Validate(const DemoOptions& o) {
  if (o.dir.empty()) return Status::InvalidArgument("demo: no directory given");
  if (o.runs < 0) return Status::InvalidArgument("demo: --runs must be >= 0");
  if (o.steps < 1 || o.steps > 1000) {
    return Status::InvalidArgument("demo: --steps must be between 1 and 1000");
  }
  if (o.outputs < 1 || o.outputs > 1000) {
    return Status::InvalidArgument("demo: --outputs must be between 1 and 1000");
  }
  if (static_cast<std::size_t>(o.schema) >= std::size(kDemoSchemaNames)) {
    return Status::InvalidArgument("demo: unknown --schema");
  }
  if (!o.artifact_store.empty()) {
    auto root = ParseS3Root(o.artifact_store);
    if (!root.ok()) return Status::InvalidArgument("demo: --artifact-store: " + root.status().message());
    if (o.s3 == nullptr) return Status::InvalidArgument("demo: --artifact-store without an S3 client");
  }
  return Status::Ok();
}

}  // namespace

std::optional<DemoSchema> ParseDemoSchema(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kDemoSchemaNames); ++i) {
    if (name == kDemoSchemaNames[i]) return static_cast<DemoSchema>(i);
  }
  return std::nullopt;
}

Status WriteDemoStore(const DemoOptions& options) {
  if (Status s = Validate(options); !s.ok()) return s;
  std::string partial;  // the database while it is written; renamed to zenml.db when complete
  try {
    std::string dir = std::filesystem::absolute(options.dir).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    const std::string store = dir + "/local_stores/default_zen_store";
    const std::string db_path = store + "/zenml.db";
    struct stat st;
    if (::stat(db_path.c_str(), &st) == 0) {
      return Status::InvalidArgument(db_path + " already exists: refusing to overwrite a store");
    }
    std::error_code ec;
    std::filesystem::create_directories(store, ec);
    if (ec) return Status::IOError(store + ": " + ec.message());
    if (!options.artifact_store.empty()) {
      // Before the database: a bucket that cannot be made is a clear error, not half a store.
      if (Status s = options.s3->CreateBucket(ParseS3Root(options.artifact_store)->bucket); !s.ok()) {
        return Status::IOError("demo: --artifact-store " + options.artifact_store + ": " + s.message());
      }
    }
    partial = db_path + ".zenfs-partial";
    ::unlink(partial.c_str());
    {
      Db db(partial);
      // One transaction and no journal: a failed write is thrown away whole, below.
      db.Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
              "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; BEGIN");
      db.Exec(DialectOf(options.schema).sql);
      DemoWriter(options, dir, db).Write();
      db.Exec("COMMIT; PRAGMA journal_mode=DELETE");
    }
    if (::rename(partial.c_str(), db_path.c_str()) != 0) {
      FailIo(db_path + ": rename: " + std::strerror(errno));
    }
    return Status::Ok();
  } catch (const DemoError& e) {
    if (!partial.empty()) ::unlink(partial.c_str());
    return e.status();
  } catch (const std::exception& e) {
    if (!partial.empty()) ::unlink(partial.c_str());
    return Status::IOError("demo store in " + options.dir + ": " + e.what());
  }
}

}  // namespace zenfs
