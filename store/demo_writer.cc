// `zenfs demo`: a deterministic ZenML 0.74 store, database and artifact files.
//
// Every row is shaped like the rows ZenML 0.74 itself wrote into
// shared/reference/zenml-0.74-sample (same tables from the embedded schema, same NOT NULL
// columns filled, same JSON and time encodings), so that ZenML could open the result.
// Ids, times and bytes come from counters and a fixed seed, never from the clock.
#include "store/demo_writer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "store/schema_sql.h"
#include "store/timefmt.h"

namespace zenfs {
namespace {

// ZenML writes JSON with keys in declaration order; ordered_json keeps ours that way.
using Json = nlohmann::ordered_json;

// Carries a Status from deep inside the writer to WriteDemoStore, its only catcher.
class DemoError : public std::runtime_error {
 public:
  explicit DemoError(Status s) : std::runtime_error(s.message()), status_(std::move(s)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

[[noreturn]] void FailIo(const std::string& message) { throw DemoError(Status::IOError(message)); }

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

// ---------------------------------------------------------------- ids and bytes

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
  IdSource(std::uint64_t seed, Micros start) : state_(seed), clock_ms_(static_cast<std::uint64_t>(start / 1000)) {}

  // 32 lowercase hex digits, a valid UUID without dashes (ZenML's CHAR(32)), laid out as
  // a version-7 UUID: 48 bits of a millisecond clock that ticks once per id, then 74
  // pseudo-random bits. ZenML itself uses uuid4; ids that grow keep every primary-key
  // index append-only, which makes a million-run demo's database 4x faster to write
  // (52 s instead of 215 s on a 2-core VM) in a quarter of the page cache.
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

// "8-4-4-4-12": how ZenML spells a UUID in paths and in config.yaml.
std::string Dashed(const std::string& id) {
  return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" +
         id.substr(16, 4) + "-" + id.substr(20);
}

// ---------------------------------------------------------------- files

// Creates one directory; an existing one is fine (a retried demo reuses the same ids).
void MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    FailIo(path + ": mkdir: " + std::strerror(errno));
  }
}

// Owns a file descriptor opened for writing a new file; every write error names the path.
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

  void Write(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) FailIo(path_ + ": write: " + std::strerror(errno));
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  // Close errors matter (NFS, full disks report late), so they are checked here.
  void Close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) FailIo(path_ + ": close: " + std::strerror(errno));
  }

 private:
  std::string path_;
  int fd_ = -1;
};

void WriteFile(const std::string& path, std::string_view data) {
  OutFile f(path);
  f.Write(data.data(), data.size());
  f.Close();
}

// `bytes` pseudo-random bytes from a fixed seed (xorshift64*, little-endian), written in
// 1 MiB blocks: fast, and identical for every call with the same size.
void WritePseudoRandomFile(const std::string& path, std::uint64_t bytes) {
  constexpr std::size_t kBlock = 1u << 20;
  std::vector<unsigned char> block(kBlock);
  std::uint64_t x = kSeed;
  OutFile f(path);
  for (std::uint64_t left = bytes; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBlock));
    for (std::size_t i = 0; i < n; i += 8) {
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      const std::uint64_t v = x * 0x2545f4914f6cdd1dull;
      for (std::size_t b = 0; b < 8 && i + b < n; ++b) block[i + b] = static_cast<unsigned char>(v >> (8 * b));
    }
    f.Write(block.data(), n);
    left -= n;
  }
  f.Close();
}

// Creates directories and files on one background thread, in the order they were
// submitted, so that file-system work (most of a large demo's time) overlaps the SQLite
// inserts. Every method: the submitting thread only.
class FileWriter {
 public:
  FileWriter() : worker_([this] { Work(); }) {}
  ~FileWriter() {  // after a failure: drop what is queued, stop the worker
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

  void MakeDir(std::string path) { Add({Job::kDir, std::move(path), {}, 0}); }
  // Returns the file's size, for storage_size, without waiting for the write.
  std::int64_t Write(std::string path, std::string data) {
    const auto size = static_cast<std::int64_t>(data.size());
    Add({Job::kFile, std::move(path), std::move(data), 0});
    return size;
  }
  std::int64_t WritePseudoRandom(std::string path, std::uint64_t bytes) {
    Add({Job::kRandom, std::move(path), {}, bytes});
    return static_cast<std::int64_t>(bytes);
  }
  // Waits until every submitted job is done; throws the first failure.
  void Finish() {
    Flush();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    ready_.notify_one();
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return idle_ || error_; });
    if (error_) throw DemoError(*error_);
  }

 private:
  struct Job {
    enum Kind { kDir, kFile, kRandom } kind;
    std::string path, data;
    std::uint64_t bytes;
  };
  static constexpr std::size_t kBatch = 256, kMaxBatches = 64;  // bounds the memory queued

  void Add(Job job) {
    batch_.push_back(std::move(job));
    if (batch_.size() >= kBatch) Flush();
  }
  void Flush() {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return queue_.size() < kMaxBatches || error_; });
    if (error_) throw DemoError(*error_);
    queue_.push_back(std::move(batch_));
    batch_.clear();
    ready_.notify_one();
  }
  void Work() {
    for (;;) {
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
          if (j.kind == Job::kDir) zenfs::MakeDir(j.path);
          if (j.kind == Job::kFile) WriteFile(j.path, j.data);
          if (j.kind == Job::kRandom) WritePseudoRandomFile(j.path, j.bytes);
        }
      } catch (const DemoError& e) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = e.status();
        break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_ = true;
    }
    space_.notify_one();
  }

  std::vector<Job> batch_;  // the submitting thread's, not yet queued
  std::mutex mu_;
  std::condition_variable ready_, space_;  // worker waits on ready_, submitter on space_
  std::deque<std::vector<Job>> queue_;     // guarded by mu_, like the three below
  bool done_ = false, idle_ = false;
  std::optional<Status> error_;
  std::thread worker_;  // last: starts once everything above exists
};

// ---------------------------------------------------------------- SQLite

struct Blob {  // a value SQLite must store as BLOB, as ZenML does for component configs
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
    const int rc = sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                     nullptr);
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
    FailIo(path_ + ": " + during + ": " + (get() != nullptr ? sqlite3_errmsg(get()) : "out of memory"));
  }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::string path_;
  std::unique_ptr<sqlite3, Closer> handle_;
};

// One prepared INSERT, reused for every row. Not thread-safe.
class Stmt {
 public:
  Stmt(const Db& db, const char* sql) : db_(&db) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
      db.Fail(std::string("prepare: ") + sql);
    }
    stmt_.reset(raw);
  }

  // Binds the arguments to ?1, ?2, ... and runs the statement once. Text is bound without
  // a copy: the arguments outlive the call.
  template <typename... Args>
  void Run(const Args&... args) {
    sqlite3_reset(stmt_.get());
    [[maybe_unused]] int i = 0;
    (Bind(++i, args), ...);
    if (sqlite3_step(stmt_.get()) != SQLITE_DONE) db_->Fail(sqlite3_sql(stmt_.get()));
  }

 private:
  void Check(int rc) const {
    if (rc != SQLITE_OK) db_->Fail(std::string("bind: ") + sqlite3_sql(stmt_.get()));
  }
  void Bind(int i, std::string_view v) {
    Check(sqlite3_bind_text(stmt_.get(), i, v.data() != nullptr ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void Bind(int i, Blob v) {
    Check(sqlite3_bind_blob(stmt_.get(), i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_STATIC));
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
};

// The statements of the per-run tables, prepared once.
struct Statements {
  explicit Statements(const Db& db)
      : run(db, "INSERT INTO pipeline_run (id, created, updated, name, orchestrator_run_id, start_time, "
                "end_time, status, orchestrator_environment, deployment_id, user_id, workspace_id, "
                "pipeline_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        step(db, "INSERT INTO step_run (id, created, updated, name, start_time, end_time, status, "
                 "docstring, cache_key, source_code, code_hash, original_step_run_id, deployment_id, "
                 "pipeline_run_id, user_id, workspace_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        parent(db, "INSERT INTO step_run_parents (parent_id, child_id) VALUES (?,?)"),
        input(db, "INSERT INTO step_run_input_artifact (name, type, step_id, artifact_id) "
                  "VALUES (?, 'step_output', ?, ?)"),
        output(db, "INSERT INTO step_run_output_artifact (name, step_id, artifact_id) VALUES (?,?,?)"),
        artifact(db, "INSERT INTO artifact (id, created, updated, name, has_custom_name) VALUES (?,?,?,?,?)"),
        version(db, "INSERT INTO artifact_version (id, created, updated, version, version_number, type, "
                    "uri, materializer, data_type, save_type, artifact_id, artifact_store_id, user_id, "
                    "workspace_id) VALUES (?,?,?,?,?,?,?,?,?,'step_output',?,?,?,?)"),
        metadata(db, "INSERT INTO run_metadata (id, created, updated, user_id, workspace_id, \"key\", "
                     "value, type, publisher_step_id) VALUES (?,?,?,?,?,?,?,?,?)"),
        link(db, "INSERT INTO run_metadata_resource (id, resource_id, resource_type, run_metadata_id) "
                 "VALUES (?,?,?,?)"),
        log(db, "INSERT INTO logs (id, created, updated, uri, step_run_id, artifact_store_id) "
                "VALUES (?,?,?,?,?,?)") {}
  Stmt run, step, parent, input, output, artifact, version, metadata, link, log;
};

// ---------------------------------------------------------------- what the pipelines look like

enum class Content { kInt, kFloat, kList, kDict, kTable, kBlob };

struct OutputPlan {
  std::string name;           // the step's output name, also a path segment of the uri
  std::string artifact_name;  // custom (Annotated) or ZenML's "<pipeline>::<step>::<output>"
  Content content;
  std::string type;           // artifact_version.type
  std::string materializer;   // {"module","attribute","type"} JSON
  std::string data_type;
  std::string artifact_id;    // set when its first version is written
  int versions = 0;
};

struct InputPlan {
  std::string name;
  int step;    // producing step (index into PipelinePlan::steps, always an earlier one)
  int output;  // index into that step's outputs
};

struct StepPlan {
  std::string name, docstring, source_code, code_hash;
  std::vector<InputPlan> inputs;
  std::vector<OutputPlan> outputs;
  std::vector<Json> parameters;  // per deployment
  bool reports_accuracy = false;  // logs an "accuracy" that varies by run
  std::vector<std::pair<std::string, std::string>> metadata;  // fixed float metadata: key, JSON value
};

struct PipelinePlan {
  std::string name, module, id;
  std::vector<StepPlan> steps;
  std::vector<int> code_reference;  // per deployment: index into the code references, or -1
  std::vector<std::string> deployment_ids;
};

Json Source(const std::string& module, const std::string& attribute, const std::string& type) {
  return Json{{"module", module}, {"attribute", attribute}, {"type", type}};
}

OutputPlan Output(std::string name, std::string artifact_name, Content content) {
  OutputPlan o{std::move(name), std::move(artifact_name), content, "DataArtifact", "", "", "", 0};
  const std::string built_in = "zenml.materializers.built_in_materializer";
  switch (content) {
    case Content::kInt:
    case Content::kFloat:
      o.materializer = Source(built_in, "BuiltInMaterializer", "internal").dump();
      o.data_type = Source("builtins", content == Content::kInt ? "int" : "float", "builtin").dump();
      break;
    case Content::kList:
    case Content::kDict:
      o.materializer = Source(built_in, "BuiltInContainerMaterializer", "internal").dump();
      o.data_type = Source("builtins", content == Content::kList ? "list" : "dict", "builtin").dump();
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

std::string StepSource(const StepPlan& s, const std::string& signature, const std::string& body) {
  return "@step\ndef " + s.name + "(" + signature + ") -> " +
         (s.outputs.size() == 1 ? std::string("int") : "Tuple[" + std::to_string(s.outputs.size()) + " x int]") +
         ":\n    \"\"\"" + s.docstring + "\"\"\"\n    " + body + "\n";
}

// example_pipeline: step_1 -> step_2 -> ..., each step consuming the previous step's first
// output; deployment d sets multiplier d+1.
PipelinePlan ExamplePlan(const DemoOptions& options, IdSource* ids) {
  PipelinePlan p{"example_pipeline", "example", "", {}, {}, {}};
  const int deployments = std::min(options.runs, kExampleDeployments);
  for (int d = 0; d < deployments; ++d) p.code_reference.push_back(d % 2 == 0 ? (d / 2) % 2 : -1);
  for (int k = 0; k < options.steps; ++k) {
    StepPlan s;
    s.name = "step_" + std::to_string(k + 1);
    for (int j = 0; j < options.outputs; ++j) {
      const std::string name = options.outputs == 1 ? "output" : "output_" + std::to_string(j + 1);
      s.outputs.push_back(Output(name, p.name + "::" + s.name + "::" + name, Content::kInt));
    }
    if (k == 0) {
      s.docstring = "Produces the starting value, scaled by `multiplier`.";
      s.source_code = StepSource(s, "multiplier: int = 1, label: str = \"\"", "return 1 * multiplier");
    } else {
      s.inputs.push_back({"data", k - 1, 0});
      s.docstring = "Scales the previous step's first output by `multiplier`.";
      s.source_code = StepSource(s, "data: int, multiplier: int = 1, label: str = \"\"", "return data * multiplier");
    }
    s.code_hash = ids->Hex(64);
    for (int d = 0; d < deployments; ++d) {
      s.parameters.push_back(Json{{"multiplier", d + 1}, {"label", "variant-" + std::to_string(d)}});
    }
    s.reports_accuracy = k == options.steps - 1;
    p.steps.push_back(std::move(s));
  }
  return p;
}

// training_pipeline: load_data -> train_model -> evaluate, with custom output names, one of
// them "eval résumé", a folder artifact, and the large `model` (absent when 0 bytes).
PipelinePlan TrainingPlan(const DemoOptions& options, IdSource* ids) {
  PipelinePlan p{"training_pipeline", "training", "", {}, {1}, {}};
  StepPlan load{"load_data", "Loads the iris features and labels.", "", ids->Hex(64), {}, {}, {Json::object()}, false, {}};
  load.outputs = {Output("features", "features", Content::kTable), Output("labels", "labels", Content::kList)};
  load.source_code = "@step\ndef load_data() -> Tuple[Annotated[FeatureTable, \"features\"], "
                     "Annotated[list, \"labels\"]]:\n    \"\"\"" + load.docstring + "\"\"\"\n    return read_iris()\n";
  StepPlan train{"train_model", "Fits a model and summarises the evaluation.", "", ids->Hex(64),
                 {{"features", 0, 0}, {"labels", 0, 1}}, {}, {Json{{"learning_rate", 0.01}, {"epochs", 3}}}, false,
                 {{"accuracy", "0.934"}, {"loss", "0.187"}}};
  if (options.artifact_bytes > 0) train.outputs.push_back(Output("model", "model", Content::kBlob));
  train.outputs.push_back(Output("eval résumé", "eval résumé", Content::kDict));
  train.source_code = "@step\ndef train_model(features: FeatureTable, labels: list, learning_rate: float, epochs: int)"
                      " -> Tuple[Annotated[BlobModel, \"model\"], Annotated[dict, \"eval résumé\"]]:\n    \"\"\"" +
                      train.docstring + "\"\"\"\n    return fit(features, labels, learning_rate, epochs)\n";
  const int resume = static_cast<int>(train.outputs.size()) - 1;
  StepPlan eval{"evaluate", "Reduces the evaluation summary to one accuracy.", "", ids->Hex(64),
                {{"report", 1, resume}, {"labels", 0, 1}}, {}, {Json::object()}, false, {}};
  eval.outputs = {Output("accuracy", "accuracy", Content::kFloat)};
  eval.source_code = "@step\ndef evaluate(report: dict, labels: list) -> Annotated[float, \"accuracy\"]:\n    \"\"\"" +
                     eval.docstring + "\"\"\"\n    return report[\"accuracy\"]\n";
  p.steps = {std::move(load), std::move(train), std::move(eval)};
  return p;
}

// The steps a step waits for: the producers of its inputs, each once, in input order.
std::vector<int> Upstream(const StepPlan& s) {
  std::vector<int> up;
  for (const InputPlan& in : s.inputs) {
    if (std::find(up.begin(), up.end(), in.step) == up.end()) up.push_back(in.step);
  }
  return up;
}

std::string StepConfigurations(const PipelinePlan& p, int deployment) {
  Json all = Json::object();
  for (const StepPlan& s : p.steps) {
    Json inputs = Json::object(), upstream = Json::array(), outputs = Json::object();
    for (const InputPlan& in : s.inputs) {
      const StepPlan& producer = p.steps[static_cast<std::size_t>(in.step)];
      inputs[in.name] = {{"step_name", producer.name}, {"output_name", producer.outputs[static_cast<std::size_t>(in.output)].name}};
    }
    for (int up : Upstream(s)) upstream.push_back(p.steps[static_cast<std::size_t>(up)].name);
    for (const OutputPlan& o : s.outputs) {
      const bool custom = o.artifact_name == o.name;
      outputs[o.name] = {{"materializer_source", Json::array({Json::parse(o.materializer)})},
                         {"default_materializer_source", nullptr},
                         {"artifact_config", custom ? Json{{"name", o.name}} : Json(nullptr)}};
    }
    Json spec = {{"source", Source(p.module, s.name, "user")}, {"upstream_steps", upstream},
                 {"inputs", inputs}, {"pipeline_parameter_name", s.name}};
    Json config = {{"enable_cache", nullptr}, {"enable_artifact_metadata", nullptr},
                   {"enable_artifact_visualization", nullptr}, {"enable_step_logs", nullptr},
                   {"step_operator", nullptr}, {"experiment_tracker", nullptr},
                   {"parameters", s.parameters[static_cast<std::size_t>(deployment)]},
                   {"settings", Json::object()}, {"extra", Json::object()},
                   {"failure_hook_source", nullptr}, {"success_hook_source", nullptr}, {"model", nullptr},
                   {"retry", nullptr}, {"substitutions", Json::object()}, {"outputs", outputs},
                   {"name", s.name}, {"caching_parameters", Json::object()},
                   {"external_input_artifacts", Json::object()},
                   {"model_artifacts_or_metadata", Json::object()}, {"client_lazy_loaders", Json::object()}};
    all[s.name] = {{"spec", spec}, {"config", config}};
  }
  return all.dump();
}

// ZenML writes pipeline_spec with sorted keys.
std::string PipelineSpec(const PipelinePlan& p) {
  Json steps = Json::array();
  for (const StepPlan& s : p.steps) {
    Json inputs = Json::object(), upstream = Json::array();
    for (const InputPlan& in : s.inputs) {
      const StepPlan& producer = p.steps[static_cast<std::size_t>(in.step)];
      inputs[in.name] = {{"output_name", producer.outputs[static_cast<std::size_t>(in.output)].name}, {"step_name", producer.name}};
    }
    for (int up : Upstream(s)) upstream.push_back(p.steps[static_cast<std::size_t>(up)].name);
    steps.push_back({{"inputs", inputs}, {"pipeline_parameter_name", s.name},
                     {"source", {{"attribute", s.name}, {"module", p.module}, {"type", "user"}}},
                     {"upstream_steps", upstream}});
  }
  return Json{{"parameters", Json::object()},
              {"source", {{"attribute", p.name}, {"module", p.module}, {"type", "user"}}},
              {"steps", steps}, {"version", "0.4"}}.dump();
}

// ---------------------------------------------------------------- the writer

enum class RunKind { kCompleted, kCached, kFailed };

// What a written step leaves for later steps of its run and for a cached copy of it.
struct StepRecord {
  std::string id, cache_key;
  std::vector<std::string> outputs;       // artifact_version ids, in OutputPlan order
  std::vector<std::string> metadata_ids;  // run_metadata rows attached to the step
};

// One run being written: run r starts at its own minute; step k of n gets a slice of
// the first 50 seconds (at most 10 s).
struct RunContext {
  std::string id, deployment_id;
  int index;
  RunKind kind;
  Micros start, slot;
  const std::vector<StepRecord>* original;  // the run a cached run copies
  Micros StepStart(int k) const { return start + 20 * kMs + k * slot; }
  Micros StepEnd(int k, bool fails) const { return StepStart(k) + (kind == RunKind::kCached ? 0 : fails ? slot / 4 : slot * 7 / 10); }
};

// Writes the rows and files of one demo store through an open transaction. Not
// thread-safe; one instance per store.
class DemoWriter {
 public:
  DemoWriter(const DemoOptions& options, std::string dir, Db& db)
      : options_(options), dir_(std::move(dir)), ids_(kSeed, BaseTime() - 86400 * kSec), db_(db), st_(db) {
    for (std::string* id : {&user_, &workspace_, &server_, &orchestrator_, &artifact_store_, &stack_, &repository_}) {
      *id = ids_.Uuid();
    }
    root_ = dir_ + "/local_stores/" + Dashed(artifact_store_);
    environment_ = Json{{"environment", "native"}, {"os", "linux"}, {"linux_distro", "debian"},
                        {"linux_distro_like", ""}, {"linux_distro_version", "12"}, {"python_version", "3.11.7"}}.dump();
  }

  void Write() {
    WriteConfigYaml();
    files_.MakeDir(root_);
    const Micros base = BaseTime();
    WriteFixedRows(base - 86400 * kSec);
    PipelinePlan example = ExamplePlan(options_, &ids_);
    PipelinePlan training = TrainingPlan(options_, &ids_);
    WritePipeline(&example, base - 2 * kSec);
    WritePipeline(&training, base + 3 * 3600 * kSec - 2 * kSec);

    // Run 1 is a fully cached copy of run 0 and run 2 fails; every other run completes.
    std::vector<StepRecord> first;
    const Micros slot = std::min<Micros>(10 * kSec, 50 * kSec / options_.steps);
    for (int r = 0; r < options_.runs; ++r) {
      const RunKind kind = r == 1 ? RunKind::kCached : r == 2 ? RunKind::kFailed : RunKind::kCompleted;
      const int deployment = kind == RunKind::kCached ? 0 : r % kExampleDeployments;
      const Micros jitter = static_cast<Micros>((static_cast<std::uint64_t>(r) * 2654435761u) % 900000);
      RunContext run{ids_.Uuid(), example.deployment_ids[static_cast<std::size_t>(deployment)], r, kind,
                     base + Micros{r} * 60 * kSec + jitter, slot, &first};
      std::vector<StepRecord> records = WriteRun(&example, run);
      if (kind == RunKind::kCompleted) {
        AddMetadata("rows_processed", std::to_string(1000 + r), "int", run.start + kSec, nullptr, run.id, "pipeline_run");
      }
      if (r == 0) first = std::move(records);
    }
    RunContext train{ids_.Uuid(), training.deployment_ids[0], 0, RunKind::kCompleted,
                     base + 3 * 3600 * kSec + 417 * kMs, 10 * kSec, nullptr};
    WriteRun(&training, train);
    AddMetadata("dataset", Json("iris-v2").dump(), "str", train.start + kSec, nullptr, train.id, "pipeline_run");
    AddMetadata("hyperparameters", Json{{"learning_rate", 0.01}, {"epochs", 3}}.dump(), "dict",
                train.start + kSec, nullptr, train.id, "pipeline_run");
    AddMetadata("num_samples", "150", "int", train.start + kSec, nullptr, train.id, "pipeline_run");
    files_.Finish();
  }

 private:
  // config.yaml as ZenML writes it, but naming this directory (paths YAML-quoted).
  void WriteConfigYaml() {
    const auto quote = [](const std::string& s) {
      std::string q = "'";
      for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
      return q + "'";
    };
    const std::string db = dir_ + "/local_stores/default_zen_store/zenml.db";
    files_.Write(dir_ + "/config.yaml",
              "active_stack_id: " + Dashed(stack_) + "\nactive_workspace_name: default\nanalytics_opt_in: false\n"
              "store:\n  backup_directory: " + quote(dir_ + "/database_backup") +
              "\n  backup_strategy: in-memory\n  database: " + quote(db) +
              "\n  driver: sqlite\n  max_overflow: 20\n  pool_pre_ping: true\n  pool_size: 20\n"
              "  secrets_store:\n    type: sql\n  ssl: false\n  ssl_verify_server_cert: false\n  type: sql\n"
              "  url: " + quote("sqlite:///" + db) + "\nuser_id: " + Dashed(server_) + "\nversion: 0.74.0\n");
  }

  // The rows a fresh ZenML 0.74 store starts with (user, workspace, settings, the default
  // stack and the flavors it names) plus a code repository with two commits.
  void WriteFixedRows(Micros t) {
    const std::string c = T(t);
    Stmt(db_, "INSERT INTO alembic_version (version_num) VALUES ('0.74.0')").Run();
    Stmt(db_, "INSERT INTO workspace (id, created, updated, name, description) VALUES (?,?,?,'default','')")
        .Run(workspace_, c, c);
    Stmt(db_, "INSERT INTO user (id, created, updated, name, is_service_account, full_name, active, is_admin) "
              "VALUES (?,?,?,'default',0,'',1,1)").Run(user_, c, c);
    Stmt(db_, "INSERT INTO server_settings (id, server_name, active, enable_analytics, display_announcements, "
              "display_updates, onboarding_state, last_user_activity, updated) "
              "VALUES (?,'default',1,0,1,1,'[\"starter_setup_completed\", \"pipeline_run\"]',?,?)").Run(server_, c, c);
    Stmt flavor(db_, "INSERT INTO flavor (id, created, updated, name, type, source, config_schema, integration, "
                     "logo_url, docs_url, sdk_docs_url, is_custom) VALUES (?,?,?,'local',?,?,?,'built-in',?,?,?,0)");
    flavor.Run(ids_.Uuid(), c, c, "artifact_store", "zenml.artifact_stores.local_artifact_store.LocalArtifactStoreFlavor",
               R"({"additionalProperties": false, "description": "Config class for the local artifact store.\n\nAttributes:\n    path: The path to the local artifact store.", "properties": {"path": {"default": "", "title": "Path", "type": "string"}}, "title": "LocalArtifactStoreConfig", "type": "object"})",
               "https://public-flavor-logos.s3.eu-central-1.amazonaws.com/artifact_store/local.svg",
               "https://docs.zenml.io/stack-components/artifact-stores/local",
               "https://sdkdocs.zenml.io/0.74.0/core_code_docs/core-artifact_stores/#zenml.artifact_stores.local_artifact_store");
    flavor.Run(ids_.Uuid(), c, c, "orchestrator", "zenml.orchestrators.local.local_orchestrator.LocalOrchestratorFlavor",
               R"({"additionalProperties": false, "description": "Local orchestrator config.", "properties": {}, "title": "LocalOrchestratorConfig", "type": "object"})",
               "https://public-flavor-logos.s3.eu-central-1.amazonaws.com/orchestrator/local.png",
               "https://docs.zenml.io/stack-components/orchestrators/local",
               "https://sdkdocs.zenml.io/0.74.0/core_code_docs/core-orchestrators/#zenml.orchestrators.local.local_orchestrator");
    // configuration and labels are BLOBs of base64 JSON: "e30=" is {}, "bnVsbA==" is null.
    Stmt component(db_, "INSERT INTO stack_component (id, created, updated, name, type, flavor, configuration, "
                        "labels, workspace_id) VALUES (?,?,?,'default',?,'local',?,?,?)");
    component.Run(orchestrator_, c, c, "orchestrator", Blob{"e30="}, Blob{"bnVsbA=="}, workspace_);
    component.Run(artifact_store_, c, c, "artifact_store", Blob{"e30="}, Blob{"bnVsbA=="}, workspace_);
    Stmt(db_, "INSERT INTO stack (id, created, updated, name, labels, workspace_id) VALUES (?,?,?,'default',?,?)")
        .Run(stack_, c, c, Blob{"e30="}, workspace_);
    Stmt composition(db_, "INSERT INTO stack_composition (stack_id, component_id) VALUES (?,?)");
    composition.Run(stack_, artifact_store_);
    composition.Run(stack_, orchestrator_);
    Stmt(db_, "INSERT INTO code_repository (id, created, updated, name, workspace_id, user_id, config, source, "
              "description) VALUES (?,?,?,'zenfs-demo',?,?,?,?,'The demo pipelines.')")
        .Run(repository_, c, c, workspace_, user_, Json{{"owner", "zenfs"}, {"repository", "demo"}}.dump(),
             Source("zenml.integrations.github.code_repositories.github_code_repository", "GitHubCodeRepository",
                    "internal").dump());
    Stmt reference(db_, "INSERT INTO code_reference (id, created, updated, workspace_id, code_repository_id, "
                        "\"commit\", subdirectory) VALUES (?,?,?,?,?,?,'')");
    for (int i = 0; i < 2; ++i) {
      code_references_.push_back(ids_.Uuid());
      reference.Run(code_references_.back(), c, c, workspace_, repository_, ids_.Hex(40));
    }
  }

  // The pipeline row, its deployments (created at `t`) and the shared artifact folders.
  void WritePipeline(PipelinePlan* p, Micros t) {
    const std::string c = T(t);
    p->id = ids_.Uuid();
    Stmt(db_, "INSERT INTO pipeline (id, created, updated, name, workspace_id, user_id) VALUES (?,?,?,?,?,?)")
        .Run(p->id, c, c, p->name, workspace_, user_);
    const std::string configuration =
        Json{{"enable_cache", nullptr}, {"enable_artifact_metadata", nullptr}, {"enable_artifact_visualization", nullptr},
             {"enable_step_logs", nullptr}, {"settings", Json::object()}, {"tags", nullptr}, {"extra", Json::object()},
             {"failure_hook_source", nullptr}, {"success_hook_source", nullptr}, {"model", nullptr},
             {"parameters", nullptr}, {"retry", nullptr}, {"substitutions", Json::object()}, {"name", p->name}}.dump();
    const std::string spec = PipelineSpec(*p), template_name = p->name + "-{date}-{time}", empty;
    Stmt deployment(db_, "INSERT INTO pipeline_deployment (id, created, updated, pipeline_configuration, "
                         "step_configurations, client_environment, run_name_template, client_version, "
                         "server_version, pipeline_version_hash, pipeline_spec, code_path, user_id, workspace_id, "
                         "stack_id, pipeline_id, code_reference_id) "
                         "VALUES (?,?,?,?,?,?,?,'0.74.0','0.74.0',?,?,?,?,?,?,?,?)");
    for (std::size_t d = 0; d < p->code_reference.size(); ++d) {
      const int ref = p->code_reference[d];
      p->deployment_ids.push_back(ids_.Uuid());
      const std::string dc = T(t + static_cast<Micros>(d) * kMs);
      deployment.Run(p->deployment_ids.back(), dc, dc, configuration, StepConfigurations(*p, static_cast<int>(d)),
                     environment_, template_name, ids_.Hex(32), spec, empty, user_, workspace_, stack_, p->id,
                     OrNull{ref < 0 ? nullptr : &code_references_[static_cast<std::size_t>(ref)]});
    }
    for (const StepPlan& s : p->steps) {
      files_.MakeDir(root_ + "/" + s.name);
      files_.MakeDir(root_ + "/" + s.name + "/logs");
      for (const OutputPlan& o : s.outputs) files_.MakeDir(root_ + "/" + s.name + "/" + o.name);
    }
  }

  // A run and its steps. A failed run stops at its failing step (step_2, or step_1 when
  // alone); a cached run copies `run.original` step by step.
  std::vector<StepRecord> WriteRun(PipelinePlan* p, const RunContext& run) {
    const int n = static_cast<int>(p->steps.size());
    const int fail_at = run.kind == RunKind::kFailed ? std::min(1, n - 1) : -1;
    const int last = fail_at >= 0 ? fail_at : n - 1;
    const Micros end = run.StepEnd(last, last == fail_at) + 5 * kMs;
    std::string name = p->name + "-" + T(run.start);
    std::replace(name.begin() + static_cast<std::ptrdiff_t>(p->name.size()) + 1, name.end(), '-', '_');
    std::replace(name.begin(), name.end(), ' ', '-');
    std::replace(name.begin(), name.end(), ':', '_');
    std::replace(name.begin(), name.end(), '.', '_');
    // ZenML leaves orchestrator_run_id empty on a run whose steps were all cached.
    const std::string orchestrator_run = Dashed(ids_.Uuid());
    st_.run.Run(run.id, T(run.start + 300), T(end + 1400), name,
                OrNull{run.kind == RunKind::kCached ? nullptr : &orchestrator_run}, T(run.start), T(end),
                run.kind == RunKind::kFailed ? "failed" : "completed", environment_, run.deployment_id, user_,
                workspace_, p->id);
    std::vector<StepRecord> records;
    for (int k = 0; k <= last; ++k) records.push_back(WriteStep(p, k, run, records, k == fail_at));
    return records;
  }

  StepRecord WriteStep(PipelinePlan* p, int k, const RunContext& run, const std::vector<StepRecord>& earlier, bool fails) {
    const StepPlan& s = p->steps[static_cast<std::size_t>(k)];
    const bool cached = run.kind == RunKind::kCached;
    const StepRecord* original = cached ? &(*run.original)[static_cast<std::size_t>(k)] : nullptr;
    const Micros t0 = run.StepStart(k), t1 = run.StepEnd(k, fails);
    StepRecord rec{ids_.Uuid(), original != nullptr ? original->cache_key : ids_.Hex(32), {}, {}};
    st_.step.Run(rec.id, T(t0 + 4 * kMs), T(t1 + 500), s.name, T(t0), T(t1),
                 cached ? "cached" : fails ? "failed" : "completed", s.docstring, rec.cache_key, s.source_code,
                 s.code_hash, OrNull{original != nullptr ? &original->id : nullptr}, run.deployment_id, run.id,
                 user_, workspace_);
    for (int up : Upstream(s)) st_.parent.Run(earlier[static_cast<std::size_t>(up)].id, rec.id);
    for (const InputPlan& in : s.inputs) {
      st_.input.Run(in.name, rec.id, earlier[static_cast<std::size_t>(in.step)].outputs[static_cast<std::size_t>(in.output)]);
    }
    if (original != nullptr) {  // same artifact versions and metadata rows, no new files
      rec.outputs = original->outputs;
      for (const std::string& m : original->metadata_ids) Link(m, rec.id, "step_run");
    } else if (!fails) {
      for (std::size_t j = 0; j < s.outputs.size(); ++j) {
        const Micros created = t0 + (t1 - t0) / 2 + static_cast<Micros>(j) * 100;
        rec.outputs.push_back(WriteArtifactVersion(p, k, j, rec.id, created, run.index));
      }
    }
    for (std::size_t j = 0; j < rec.outputs.size(); ++j) st_.output.Run(s.outputs[j].name, rec.id, rec.outputs[j]);
    if (!cached) WriteLog(s, rec.id, t0, t1, fails, run);
    if (cached || fails) return rec;
    for (const auto& [key, value] : s.metadata) {
      rec.metadata_ids.push_back(AddMetadata(key, value, "float", t1 - 10 * kMs, &rec.id, rec.id, "step_run"));
    }
    if (s.reports_accuracy) {
      if (run.index == 0) {  // a repeated key: readers must show the newest value
        rec.metadata_ids.push_back(AddMetadata("accuracy", "0.5", "float", t1 - 20 * kMs, &rec.id, rec.id, "step_run"));
      }
      const double accuracy = static_cast<double>(700 + (std::int64_t{run.index} * 7919) % 250) / 1000.0;
      rec.metadata_ids.push_back(AddMetadata("accuracy", Json(accuracy).dump(), "float", t1 - 10 * kMs, &rec.id, rec.id, "step_run"));
    }
    return rec;
  }

  // One new artifact version: its folder <root>/<step>/<output>/<step-run-id>/<8 hex>, its
  // files, its row (and its artifact's, for the first version) and its storage_size.
  std::string WriteArtifactVersion(PipelinePlan* p, int k, std::size_t j, const std::string& step_id, Micros t, int run) {
    StepPlan& s = p->steps[static_cast<std::size_t>(k)];
    OutputPlan& o = s.outputs[j];
    const std::string c = T(t);
    if (o.artifact_id.empty()) {
      o.artifact_id = ids_.Uuid();
      st_.artifact.Run(o.artifact_id, c, c, o.artifact_name, o.artifact_name == o.name ? 1 : 0);
    }
    const std::string id = ids_.Uuid();
    std::string uri = root_ + "/" + s.name + "/" + o.name + "/" + Dashed(step_id);
    files_.MakeDir(uri);
    uri += "/" + ids_.Hex(8);
    files_.MakeDir(uri);
    const std::int64_t size = WriteArtifactFiles(o.content, uri, 1000 * (std::int64_t{run} + 1) + 10 * (k + 1) + static_cast<std::int64_t>(j));
    ++o.versions;
    st_.version.Run(id, c, c, std::to_string(o.versions), o.versions, o.type, uri, o.materializer, o.data_type,
                    o.artifact_id, artifact_store_, user_, workspace_);
    AddMetadata("storage_size", std::to_string(size), "int", t + 200, nullptr, id, "artifact_version");
    return id;
  }

  // The files a materializer would leave in `dir`; returns their total size.
  std::int64_t WriteArtifactFiles(Content content, const std::string& dir, std::int64_t value) {
    switch (content) {
      case Content::kInt: return files_.Write(dir + "/data.json", std::to_string(value));
      case Content::kFloat: return files_.Write(dir + "/data.json", "0.934");
      case Content::kList: return files_.Write(dir + "/data.json", "[0, 0, 1, 1, 2, 2]");
      case Content::kDict:
        return files_.Write(dir + "/data.json", Json{{"accuracy", 0.934}, {"f1", 0.927}, {"note", "résumé of the held-out evaluation"}}.dump());
      case Content::kTable: {
        files_.MakeDir(dir + "/schema");
        const std::int64_t csv = files_.Write(dir + "/df.csv", "sepal_length,sepal_width,petal_length,petal_width\n"
                                              "5.1,3.5,1.4,0.2\n4.9,3.0,1.4,0.2\n7.0,3.2,4.7,1.4\n6.4,3.2,4.5,1.5\n");
        return csv + files_.Write(dir + "/schema/columns.json",
                                  R"({"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "dtype": "float64"})");
      }
      case Content::kBlob: return files_.WritePseudoRandom(dir + "/model.bin", options_.artifact_bytes);
    }
    return 0;
  }

  // <root>/<step>/logs/<uuid>.log in ZenML's format, and its row. Cached steps get none.
  void WriteLog(const StepPlan& s, const std::string& step_id, Micros t0, Micros t1, bool failed, const RunContext& run) {
    const auto stamp = [](Micros t) { return "[" + T(t).substr(0, 19) + " UTC] "; };
    std::string text = stamp(t0) + "Step " + s.name + " has started.\n\n";
    if (failed) {
      text += stamp(t1) + "Failed to run step " + s.name + " after 1 retries. Exiting.\n\n" + stamp(t1) +
              "boom\nTraceback (most recent call last):\n  File \"pipelines.py\", line 12, in " + s.name + "\n    raise RuntimeError(\"boom\")\nRuntimeError: boom\n\n";
    } else {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(t1 - t0) / kSec);
      text += stamp(t0) + "Run " + std::to_string(run.index) + " of " + s.name + " produced " +
              std::to_string(s.outputs.size()) + " output(s).\n\n" + stamp(t1) + "Step " + s.name + " has finished in " + seconds + "s.\n\n";
    }
    const std::string uri = root_ + "/" + s.name + "/logs/" + Dashed(ids_.Uuid()) + ".log";
    files_.Write(uri, text);
    const std::string c = T(t0 + 6 * kMs);
    st_.log.Run(ids_.Uuid(), c, c, uri, step_id, artifact_store_);
  }

  // A run_metadata row (value: JSON text) attached to one resource; returns its id.
  std::string AddMetadata(std::string_view key, const std::string& value, std::string_view type, Micros t,
                          const std::string* publisher, const std::string& resource_id, std::string_view resource_type) {
    std::string id = ids_.Uuid();
    const std::string c = T(t);
    st_.metadata.Run(id, c, c, user_, workspace_, key, value, type, OrNull{publisher});
    Link(id, resource_id, resource_type);
    return id;
  }
  void Link(const std::string& metadata_id, const std::string& resource_id, std::string_view resource_type) {
    st_.link.Run(ids_.Uuid(), resource_id, resource_type, metadata_id);
  }

  const DemoOptions& options_;
  const std::string dir_;  // absolute DIR
  IdSource ids_;
  Db& db_;
  Statements st_;
  std::string user_, workspace_, server_, orchestrator_, artifact_store_, stack_, repository_;
  std::vector<std::string> code_references_;
  std::string root_;         // the artifact store's folder: <DIR>/local_stores/<id-dashed>
  std::string environment_;  // client and orchestrator environment JSON
  FileWriter files_;
};

Status Validate(const DemoOptions& o) {
  if (o.dir.empty()) return Status::InvalidArgument("demo: no directory given");
  if (o.runs < 0) return Status::InvalidArgument("demo: --runs must be >= 0");
  if (o.steps < 1 || o.steps > 1000) return Status::InvalidArgument("demo: --steps must be in 1..1000");
  if (o.outputs < 1 || o.outputs > 1000) return Status::InvalidArgument("demo: --outputs must be in 1..1000");
  return Status::Ok();
}

}  // namespace

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
      return Status::InvalidArgument(db_path + " already exists: refusing to overwrite a ZenML store");
    }
    std::error_code ec;
    std::filesystem::create_directories(store, ec);
    if (ec) return Status::IOError(store + ": " + ec.message());
    partial = db_path + ".zenfs-partial";
    ::unlink(partial.c_str());
    {
      Db db(partial);
      // One transaction without a journal: a failed write is discarded as a whole below.
      db.Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
              "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; BEGIN");
      db.Exec(kZenml074SchemaSql);
      DemoWriter(options, dir, db).Write();
      db.Exec("COMMIT; PRAGMA journal_mode=DELETE");
    }
    if (::rename(partial.c_str(), db_path.c_str()) != 0) FailIo(db_path + ": rename: " + std::strerror(errno));
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
