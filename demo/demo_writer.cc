// `zenfs demo`: a deterministic ZenML 0.74 store, database and artifact files.
//
// Every row is shaped like the rows ZenML 0.74 itself wrote into
// shared/reference/zenml-0.74-sample (the tables of the embedded schema, the same NOT NULL
// columns filled, the same JSON, time and id encodings), so ZenML could open the result.
// Ids, times and bytes come from counters and fixed seeds, never from the clock.
#include "demo/demo_writer.h"

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
#include <utility>
#include <vector>

#include "demo/schema_sql.h"
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
// 1 MiB blocks: fast, and the same bytes for the same size on every machine.
void WritePseudoRandomFile(const std::string& path, std::uint64_t bytes) {
  std::string block;
  std::uint64_t x = kSeed;
  OutFile f(path);
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
    f.Write(block);
  }
  f.Close();
}

// Creates directories and files on one background thread, in the order they were
// submitted, so that file-system work (most of a large demo's time) overlaps the SQLite
// inserts. All methods: the submitting thread only.
class FileWriter {
 public:
  FileWriter() : worker_([this] { Work(); }) {}
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
          if (j.dir) {
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

// One prepared INSERT, reused for every row. Not thread-safe.
class Insert {
 public:
  // INSERT INTO `table` (`columns`) VALUES (?, ...), one parameter per column.
  Insert(const Db& db, std::string_view table, std::string_view columns) : db_(&db) {
    std::string sql = "INSERT INTO ";
    sql.append(table).append(" (").append(columns).append(") VALUES (?");
    for (char c : columns) sql += c == ',' ? ",?" : "";
    sql += ")";
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      db.Fail("prepare: " + sql);
    }
    stmt_.reset(raw);
  }

  // Binds the arguments to ?1, ?2, ... and inserts one row. Text is bound without a
  // copy: the arguments outlive the call.
  template <typename... Args>
  void Run(const Args&... args) {
    sqlite3_reset(stmt_.get());
    int i = 0;
    (Bind(++i, args), ...);
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
};

// The inserts of the tables that grow with every run, prepared once.
struct Inserts {
  explicit Inserts(const Db& db)
      : run(db, "pipeline_run",
            "id, created, updated, name, orchestrator_run_id, start_time, end_time, status, "
            "orchestrator_environment, deployment_id, user_id, workspace_id, pipeline_id"),
        step(db, "step_run",
             "id, created, updated, name, start_time, end_time, status, docstring, cache_key, "
             "source_code, code_hash, original_step_run_id, deployment_id, pipeline_run_id, "
             "user_id, workspace_id"),
        parent(db, "step_run_parents", "parent_id, child_id"),
        input(db, "step_run_input_artifact", "name, type, step_id, artifact_id"),
        output(db, "step_run_output_artifact", "name, step_id, artifact_id"),
        artifact(db, "artifact", "id, created, updated, name, has_custom_name"),
        version(db, "artifact_version",
                "id, created, updated, version, version_number, type, uri, materializer, "
                "data_type, save_type, artifact_id, artifact_store_id, user_id, workspace_id"),
        metadata(db, "run_metadata",
                 "id, created, updated, user_id, workspace_id, \"key\", value, type, "
                 "publisher_step_id"),
        link(db, "run_metadata_resource", "id, resource_id, resource_type, run_metadata_id"),
        log(db, "logs", "id, created, updated, uri, step_run_id, artifact_store_id") {}
  Insert run, step, parent, input, output, artifact, version, metadata, link, log;
};

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
  bool custom_name() const { return artifact_name == name; }
};

struct InputPlan {
  std::string name;
  std::size_t step;    // the producer: an earlier step of the same pipeline
  std::size_t output;  // index into the producer's outputs
};

struct StepPlan {
  std::string name, docstring, source_code, code_hash;
  std::vector<InputPlan> inputs;
  std::vector<OutputPlan> outputs;
  std::vector<Json> parameters;  // per deployment
  bool varying_accuracy = false;  // logs an "accuracy" that differs from run to run
  std::vector<std::pair<std::string, std::string>> metadata;  // fixed floats: key, JSON
};

struct PipelinePlan {
  std::string name, module, id;
  std::vector<StepPlan> steps;
  std::vector<int> code_reference;  // per deployment: which code reference, or -1 for none
  std::vector<std::string> deployment_ids;
};

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
  PipelinePlan p{"example_pipeline", "example", "", {}, {}, {}};
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
  PipelinePlan p{"training_pipeline", "training", "", {}, {1}, {}};
  StepPlan load{"load_data", "Loads the iris features and labels.", "", ids->Hex(64),
                {}, {}, {Json::object()}, false, {}};
  load.outputs = {Output("features", "features", Content::kTable),
                  Output("labels", "labels", Content::kList)};
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
    if (std::find(up.begin(), up.end(), in.step) == up.end()) up.push_back(in.step);
  }
  return up;
}

// A step's "spec" ({source, upstream_steps, inputs, pipeline_parameter_name}), with keys
// sorted when it goes into pipeline_spec, as ZenML writes them there.
Json StepSpec(const PipelinePlan& p, const StepPlan& s, bool sorted) {
  Json inputs = Json::object(), upstream = Json::array();
  for (const InputPlan& in : s.inputs) {
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

std::string StepConfigurations(const PipelinePlan& p, std::size_t deployment) {
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
  return all.dump();
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

// One run being written. Step k starts at start + 20 ms + k * slot and runs for 70% of
// its slot (a failing step 25%, a cached one not at all).
struct RunContext {
  std::string id, deployment_id;
  int index;
  RunKind kind;
  Micros start, slot;
  const std::vector<StepRecord>* original;  // what a cached run copies

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
      : options_(options), dir_(std::move(dir)), db_(db), ids_(kSeed, BaseTime() - 86400 * kSec),
        insert_(db) {
    for (std::string* id : {&user_, &workspace_, &server_, &orchestrator_, &artifact_store_,
                            &stack_, &repository_}) {
      *id = ids_.Uuid();
    }
    root_ = dir_ + "/local_stores/" + Dashed(artifact_store_);
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
    PipelinePlan example = ExamplePlan(options_, &ids_);
    PipelinePlan training = TrainingPlan(options_, &ids_);
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
      const RunContext run{ids_.Uuid(), example.deployment_ids[std::size_t(deployment)], r, kind,
                           base + Micros{r} * 60 * kSec + jitter, slot, &first};
      std::vector<StepRecord> steps = WriteRun(&example, run);
      if (kind == RunKind::kCompleted) {
        AddMetadata("rows_processed", std::to_string(1000 + r), "int", run.start + kSec, nullptr,
                    run.id, "pipeline_run");
      }
      if (r == 0) first = std::move(steps);
    }

    const RunContext train{ids_.Uuid(), training.deployment_ids[0], 0, RunKind::kCompleted,
                           training_start, 10 * kSec, nullptr};
    WriteRun(&training, train);
    const Micros t = train.start + kSec;
    AddMetadata("dataset", "\"iris-v2\"", "str", t, nullptr, train.id, "pipeline_run");
    AddMetadata("hyperparameters", "{\"learning_rate\":0.01,\"epochs\":3}", "dict", t, nullptr,
                train.id, "pipeline_run");
    AddMetadata("num_samples", "150", "int", t, nullptr, train.id, "pipeline_run");
    files_.Finish();
  }

 private:
  // config.yaml as ZenML writes it, naming this directory (paths YAML single-quoted).
  void WriteConfigYaml() {
    const auto quote = [](const std::string& s) {
      std::string q = "'";
      for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
      return q + "'";
    };
    const std::string db = dir_ + "/local_stores/default_zen_store/zenml.db";
    files_.Write(dir_ + "/config.yaml",
                 "active_stack_id: " + Dashed(stack_) +
                     "\nactive_workspace_name: default\nanalytics_opt_in: false\nstore:\n"
                     "  backup_directory: " + quote(dir_ + "/database_backup") +
                     "\n  backup_strategy: in-memory\n  database: " + quote(db) +
                     "\n  driver: sqlite\n  max_overflow: 20\n  pool_pre_ping: true\n"
                     "  pool_size: 20\n  secrets_store:\n    type: sql\n  ssl: false\n"
                     "  ssl_verify_server_cert: false\n  type: sql\n  url: " +
                     quote("sqlite:///" + db) + "\nuser_id: " + Dashed(server_) +
                     "\nversion: 0.74.0\n");
  }

  // What a fresh ZenML 0.74 store starts with (user, workspace, server settings, the
  // default stack and the two flavors it names: ZenML only syncs flavors when it
  // migrates), plus a code repository with two commits.
  void WriteFixedRows(Micros t) {
    const std::string c = T(t);
    Insert(db_, "alembic_version", "version_num").Run("0.74.0");
    Insert(db_, "workspace", "id, created, updated, name, description")
        .Run(workspace_, c, c, "default", "");
    Insert(db_, "user",
           "id, created, updated, name, is_service_account, full_name, active, is_admin")
        .Run(user_, c, c, "default", 0, "", 1, 1);
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
    const std::string sdk = "https://sdkdocs.zenml.io/0.74.0/core_code_docs/";
    flavor.Run(ids_.Uuid(), c, c, "local", "artifact_store",
               "zenml.artifact_stores.local_artifact_store.LocalArtifactStoreFlavor",
               R"({"additionalProperties": false, "description": "Config class for the local )"
               R"(artifact store.\n\nAttributes:\n    path: The path to the local artifact )"
               R"(store.", "properties": {"path": {"default": "", "title": "Path", "type": )"
               R"("string"}}, "title": "LocalArtifactStoreConfig", "type": "object"})",
               "built-in", logos + "artifact_store/local.svg", docs + "artifact-stores/local",
               sdk + "core-artifact_stores/#zenml.artifact_stores.local_artifact_store", 0);
    flavor.Run(ids_.Uuid(), c, c, "local", "orchestrator",
               "zenml.orchestrators.local.local_orchestrator.LocalOrchestratorFlavor",
               R"({"additionalProperties": false, "description": "Local orchestrator config.", )"
               R"("properties": {}, "title": "LocalOrchestratorConfig", "type": "object"})",
               "built-in", logos + "orchestrator/local.png", docs + "orchestrators/local",
               sdk + "core-orchestrators/#zenml.orchestrators.local.local_orchestrator", 0);
    // configuration and labels are BLOBs of base64 JSON: "e30=" is {}, "bnVsbA==" null.
    Insert component(
        db_, "stack_component",
        "id, created, updated, name, type, flavor, configuration, labels, workspace_id");
    for (const auto& [id, type] : {std::pair{&orchestrator_, "orchestrator"},
                                   std::pair{&artifact_store_, "artifact_store"}}) {
      component.Run(*id, c, c, "default", type, "local", Blob{"e30="}, Blob{"bnVsbA=="},
                    workspace_);
    }
    Insert(db_, "stack", "id, created, updated, name, labels, workspace_id")
        .Run(stack_, c, c, "default", Blob{"e30="}, workspace_);
    Insert composition(db_, "stack_composition", "stack_id, component_id");
    composition.Run(stack_, artifact_store_);
    composition.Run(stack_, orchestrator_);
    Insert(db_, "code_repository",
           "id, created, updated, name, workspace_id, user_id, config, source, description")
        .Run(repository_, c, c, "zenfs-demo", workspace_, user_,
             "{\"owner\":\"zenfs\",\"repository\":\"demo\"}",
             Source("zenml.integrations.github.code_repositories.github_code_repository",
                    "GitHubCodeRepository", "internal")
                 .dump(),
             "The demo pipelines.");
    Insert reference(
        db_, "code_reference",
        "id, created, updated, workspace_id, code_repository_id, \"commit\", subdirectory");
    for (int i = 0; i < 2; ++i) {
      code_references_.push_back(ids_.Uuid());
      reference.Run(code_references_.back(), c, c, workspace_, repository_, ids_.Hex(40), "");
    }
  }

  // The pipeline row, its deployments (created from `t` on) and its artifact folders.
  void WritePipeline(PipelinePlan* p, Micros t) {
    const std::string c = T(t);
    p->id = ids_.Uuid();
    Insert(db_, "pipeline", "id, created, updated, name, workspace_id, user_id")
        .Run(p->id, c, c, p->name, workspace_, user_);
    const std::string configuration =
        Json{{"enable_cache", nullptr}, {"enable_artifact_metadata", nullptr},
             {"enable_artifact_visualization", nullptr}, {"enable_step_logs", nullptr},
             {"settings", Json::object()}, {"tags", nullptr}, {"extra", Json::object()},
             {"failure_hook_source", nullptr}, {"success_hook_source", nullptr},
             {"model", nullptr}, {"parameters", nullptr}, {"retry", nullptr},
             {"substitutions", Json::object()}, {"name", p->name}}
            .dump();
    const std::string spec = PipelineSpec(*p), run_name = p->name + "-{date}-{time}";
    Insert deployment(db_, "pipeline_deployment",
                      "id, created, updated, pipeline_configuration, step_configurations, "
                      "client_environment, run_name_template, client_version, server_version, "
                      "pipeline_version_hash, pipeline_spec, code_path, user_id, workspace_id, "
                      "stack_id, pipeline_id, code_reference_id");
    for (std::size_t d = 0; d < p->code_reference.size(); ++d) {
      const int ref = p->code_reference[d];
      const std::string id = ids_.Uuid(), created = T(t + Micros(d) * kMs);
      deployment.Run(id, created, created, configuration, StepConfigurations(*p, d), environment_,
                     run_name, "0.74.0", "0.74.0", ids_.Hex(32), spec, "", user_, workspace_,
                     stack_, p->id, OrNull{ref < 0 ? nullptr : &code_references_.at(ref)});
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
    const std::string orchestrator_run = Dashed(ids_.Uuid());
    insert_.run.Run(run.id, T(run.start + 300), T(end + 1400), p->name + "-" + when,
                    OrNull{run.kind == RunKind::kCached ? nullptr : &orchestrator_run},
                    T(run.start), T(end), failed ? "failed" : "completed", environment_,
                    run.deployment_id, user_, workspace_, p->id);
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
    StepRecord step{ids_.Uuid(), original ? original->cache_key : ids_.Hex(32), {}, {}};
    const char* status = original ? "cached" : fails ? "failed" : "completed";
    insert_.step.Run(step.id, T(t0 + 4 * kMs), T(t1 + 500), s.name, T(t0), T(t1), status,
                     s.docstring, step.cache_key, s.source_code, s.code_hash,
                     OrNull{original ? &original->id : nullptr}, run.deployment_id, run.id, user_,
                     workspace_);
    for (std::size_t up : Upstream(s)) insert_.parent.Run(earlier[up].id, step.id);
    for (const InputPlan& in : s.inputs) {
      insert_.input.Run(in.name, "step_output", step.id, earlier[in.step].outputs[in.output]);
    }
    if (original) {  // the original's artifact versions and metadata, no new files or logs
      step.outputs = original->outputs;
      for (const std::string& m : original->metadata_ids) Link(m, step.id, "step_run");
    } else if (!fails) {
      for (std::size_t j = 0; j < s.outputs.size(); ++j) {
        const Micros created = (t0 + t1) / 2 + Micros(j) * 100;
        step.outputs.push_back(WriteArtifactVersion(p, k, j, step.id, created, run.index));
      }
    }
    for (std::size_t j = 0; j < step.outputs.size(); ++j) {
      insert_.output.Run(s.outputs[j].name, step.id, step.outputs[j]);
    }
    if (original) return step;
    WriteLog(s, step.id, t0, t1, fails, run.index);
    if (fails) return step;
    const auto publish = [&](const std::string& key, const std::string& value, Micros t) {
      step.metadata_ids.push_back(
          AddMetadata(key, value, "float", t, &step.id, step.id, "step_run"));
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
  // files, its row (and its artifact's, at the first version) and its storage_size.
  std::string WriteArtifactVersion(PipelinePlan* p, std::size_t k, std::size_t j,
                                   const std::string& step_id, Micros t, int run) {
    const StepPlan& s = p->steps[k];
    OutputPlan& o = p->steps[k].outputs[j];
    const std::string c = T(t);
    if (o.artifact_id.empty()) {
      o.artifact_id = ids_.Uuid();
      insert_.artifact.Run(o.artifact_id, c, c, o.artifact_name, o.custom_name() ? 1 : 0);
    }
    const std::string id = ids_.Uuid();
    std::string uri = root_ + "/" + s.name + "/" + o.name + "/" + Dashed(step_id);
    files_.MakeDir(uri);
    uri += "/" + ids_.Hex(8);
    files_.MakeDir(uri);
    const auto value = std::int64_t(1000 * (std::int64_t{run} + 1) + 10 * (k + 1) + j);
    const std::int64_t size = WriteArtifactFiles(o.content, uri, value);
    ++o.versions;
    insert_.version.Run(id, c, c, std::to_string(o.versions), o.versions, o.type, uri,
                        o.materializer, o.data_type, "step_output", o.artifact_id,
                        artifact_store_, user_, workspace_);
    AddMetadata("storage_size", std::to_string(size), "int", t + 200, nullptr, id,
                "artifact_version");
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

  // <root>/<step>/logs/<uuid>.log in ZenML's format, and its row.
  void WriteLog(const StepPlan& s, const std::string& step_id, Micros t0, Micros t1, bool failed,
                int run) {
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
    const std::string uri = root_ + "/" + s.name + "/logs/" + Dashed(ids_.Uuid()) + ".log";
    files_.Write(uri, text);
    const std::string c = T(t0 + 6 * kMs);
    insert_.log.Run(ids_.Uuid(), c, c, uri, step_id, artifact_store_);
  }

  // A run_metadata row (value: JSON text) attached to one resource; returns its id.
  std::string AddMetadata(std::string_view key, const std::string& value, std::string_view type,
                          Micros t, const std::string* publisher, const std::string& resource_id,
                          std::string_view resource_type) {
    std::string id = ids_.Uuid();
    const std::string c = T(t);
    insert_.metadata.Run(id, c, c, user_, workspace_, key, value, type, OrNull{publisher});
    Link(id, resource_id, resource_type);
    return id;
  }
  void Link(const std::string& metadata_id, const std::string& resource_id,
            std::string_view resource_type) {
    insert_.link.Run(ids_.Uuid(), resource_id, resource_type, metadata_id);
  }

  const DemoOptions& options_;
  const std::string dir_;  // absolute
  const Db& db_;
  IdSource ids_;
  Inserts insert_;
  std::string user_, workspace_, server_, orchestrator_, artifact_store_, stack_, repository_;
  std::vector<std::string> code_references_;
  std::string root_;         // the artifact store's folder: <dir>/local_stores/<id-dashed>
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
      return Status::InvalidArgument(db_path + " already exists: refusing to overwrite a store");
    }
    std::error_code ec;
    std::filesystem::create_directories(store, ec);
    if (ec) return Status::IOError(store + ": " + ec.message());
    partial = db_path + ".zenfs-partial";
    ::unlink(partial.c_str());
    {
      Db db(partial);
      // One transaction and no journal: a failed write is thrown away whole, below.
      db.Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
              "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; BEGIN");
      db.Exec(kZenml074SchemaSql);
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
