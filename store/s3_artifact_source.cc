#include "store/s3_artifact_source.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>
#include <utility>

#include "store/uri_resolver.h"

namespace zenfs {

namespace {

constexpr std::size_t kBlock = BlockCache::kBlockSize;
// Listings and HEADs kept at most (each a folder's names: bounded by S3Client::List's
// max_keys); beyond it the expired ones go, then all.
constexpr std::size_t kMaxCachedListings = 4096;
// Endpoints a source keeps a client for (a private mount's store may name several).
constexpr std::size_t kMaxClients = 16;
// Blocks one open file holds beyond its read-ahead window (the block being read and the
// one before it, for readers whose requests arrive a little out of order).
constexpr std::size_t kHeldBehind = 2;

// Printable form of store text for messages: NUL and control bytes as '?'.
std::string Printable(std::string_view s) {
  std::string out;
  for (const char c : s) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out;
}

// An object's FileInfo: no owner (the tree gives it the mount's), its 512-byte blocks.
FileInfo FileOf(std::uint64_t size) {
  FileInfo f;
  f.size = size;
  f.blocks = (size + 511) / 512;
  return f;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// `key` is `prefix` or below it, component by component ("a/bc" is not below "a/b").
bool KeyUnder(std::string_view key, std::string_view prefix) {
  if (prefix.empty()) return true;
  return key == prefix || (StartsWith(key, prefix) && key.size() > prefix.size() && key[prefix.size()] == '/');
}

// "s3://bucket/key" of a located artifact.
std::string UriOf(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + (key.empty() ? "" : "/" + key);
}

Result<std::string> CheckEndpointUrl(const std::string& url, const char* what) {
  if (!StartsWith(url, "http://") && !StartsWith(url, "https://")) {
    return Status::InvalidArgument(std::string(what) + " " + http::Redact(url) + " is not an http:// or https:// URL");
  }
  std::string u = url;
  while (u.size() > 8 && u.back() == '/') u.pop_back();
  return u;
}

// AWS's own endpoints take virtual-hosted requests (bucket.s3.region.amazonaws.com);
// S3-compatible servers (MinIO, Ceph, moto) are addressed path-style.
bool IsAwsEndpoint(const std::string& url) {
  const std::size_t scheme = url.find("://");
  std::string host = url.substr(scheme + 3);
  host = host.substr(0, host.find_first_of("/:"));
  const std::string aws = ".amazonaws.com";
  return host.size() > aws.size() && host.compare(host.size() - aws.size(), aws.size(), aws) == 0;
}

}  // namespace

// ---- pure parts ----

std::string S3Root::ToString() const { return UriOf(bucket, prefix); }

Result<S3Root> ParseS3Root(std::string_view text) {
  auto uri = ParseS3Uri(text);
  if (!uri.ok()) return uri.status();
  std::string key = uri->key;
  while (!key.empty() && key.back() == '/') key.pop_back();
  if (!key.empty()) {
    // ZenML writes plain keys; "a//b" or "a/./b" would name another object than it seems.
    std::size_t start = 0;
    while (start <= key.size()) {
      const std::size_t end = std::min(key.find('/', start), key.size());
      const std::string_view seg = std::string_view(key).substr(start, end - start);
      if (seg.empty() || seg == "." || seg == "..") {
        return Status::InvalidArgument("URI " + Printable(text) + " has an empty, \".\" or \"..\" segment");
      }
      start = end + 1;
    }
  }
  return S3Root{uri->bucket, key};
}

Result<S3Endpoint> ChooseS3Endpoint(const S3SourceOptions& options, const ArtifactStoreInfo& store) {
  S3Endpoint e;
  // The store's word only on a private mount (see the header).
  const bool store_may = !options.shared;
  if (!options.region.empty()) {
    e.region = options.region;
  } else if (store_may && !store.region_name.empty()) {
    e.region = store.region_name;
  } else if (!options.default_region.empty()) {
    e.region = options.default_region;
  } else {
    e.region = "us-east-1";
  }
  Result<std::string> url = std::string();
  if (!options.endpoint.empty()) {
    url = CheckEndpointUrl(options.endpoint, "--s3-endpoint");
  } else if (store_may && !store.endpoint_url.empty()) {
    url = CheckEndpointUrl(store.endpoint_url, "the artifact store's endpoint_url");
  } else if (!options.default_endpoint.empty()) {
    url = CheckEndpointUrl(options.default_endpoint, "AWS_ENDPOINT_URL");
  } else {
    url = "https://s3." + e.region + ".amazonaws.com";
  }
  if (!url.ok()) return url.status();
  e.url = *url;
  e.path_style = !IsAwsEndpoint(e.url);
  return e;
}

Result<S3Root> TrustedS3Root(const S3SourceOptions& options, std::string_view uri,
                             const ArtifactStoreInfo& store) {
  auto parsed = ParseS3Root(uri);
  if (!parsed.ok()) return parsed.status();
  for (const S3Root& r : options.admin_roots) {
    if (r.bucket == parsed->bucket && KeyUnder(parsed->prefix, r.prefix)) return r;
  }
  std::string why;
  if (!options.shared && StartsWith(store.path, "s3://")) {
    auto component = ParseS3Root(store.path);
    if (component.ok() && component->bucket == parsed->bucket && KeyUnder(parsed->prefix, component->prefix)) {
      return *component;
    }
    why = component.ok() ? "outside its artifact store's path " + component->ToString()
                         : "its artifact store's path is refused: " + component.status().message();
  } else if (options.shared) {
    why = "on a shared mount only --artifact-root s3://... roots are trusted";
  } else {
    why = "its artifact store names no s3:// path";
  }
  std::string admin;
  for (const S3Root& r : options.admin_roots) admin += (admin.empty() ? "" : ", ") + r.ToString();
  return Status::InvalidArgument("URI " + Printable(uri) + " is outside every trusted S3 root (" + why +
                                 (admin.empty() ? "; no --artifact-root s3://... given"
                                                : "; --artifact-root: " + admin) +
                                 "): not read");
}

int ReadAheadWindow::Next(std::uint64_t offset, std::size_t length) {
  // Near where the reader left off: the kernel sends a sequential reader's requests from
  // several threads, a little out of order, so "near" is within two blocks.
  const std::uint64_t slack = 2 * kBlock;
  const bool near = offset + slack >= next_ && offset <= next_ + slack;
  if (near) {
    window_ = window_ == 0 ? 1 : std::min(window_ * 2, max_);
    next_ = std::max(next_, offset + length);
  } else {
    window_ = 0;
    next_ = offset + length;
  }
  return window_;
}

// ---- caches of listings and HEADs ----

struct S3ArtifactSource::Object {
  std::uint64_t size = 0;
  std::string etag;
};

struct S3ArtifactSource::Folder {
  std::map<std::string, Object> files;  // by name
  std::vector<std::string> dirs;        // names, sorted
  bool empty() const { return files.empty() && dirs.empty(); }
};

struct S3ArtifactSource::Cached {
  std::chrono::steady_clock::time_point until;
  Status status;  // not ok: the failure, kept until `until`
  std::shared_ptr<const Folder> folder;
  Object object;
};

namespace {

template <typename Map>
void PutCached(Map* m, const std::string& key, typename Map::mapped_type value) {
  if (m->size() >= kMaxCachedListings) {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = m->begin(); it != m->end();) it = it->second->until < now ? m->erase(it) : std::next(it);
    if (m->size() >= kMaxCachedListings) m->clear();
  }
  (*m)[key] = std::move(value);
}

}  // namespace

// ---- the read-ahead pool ----

// A fixed set of threads running fetches, with a bounded queue. Submit after Stop does
// nothing. Thread-safe.
class S3ArtifactSource::Pool {
 public:
  Pool(int threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~Pool() { Stop(); }
  // False when the queue is full or the pool stopped (the caller fetches itself, later).
  bool Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      stop_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();  // tasks catch nothing: they only call non-throwing code
    }
  }

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

namespace {

// One block of an open file, being fetched or fetched. Its bytes count against the
// source's read-ahead budget while it lives.
struct Block {
  explicit Block(std::shared_ptr<std::atomic<std::int64_t>> budget) : budget_(std::move(budget)) {
    budget_->fetch_add(static_cast<std::int64_t>(kBlock));
  }
  ~Block() { budget_->fetch_sub(static_cast<std::int64_t>(kBlock)); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  bool started = false;    // a thread is fetching it (or has)
  bool done = false;       // data or status is final
  bool readahead = false;  // fetched ahead, not for a waiting reader
  // Its bytes: `size` of them at `bytes`, in `buffer` (a cache block's own, or the one GET
  // of its run, shared by the run's blocks: no copy).
  std::shared_ptr<const char[]> buffer;
  const char* bytes = nullptr;
  std::size_t size = 0;
  Status status;

 private:
  std::shared_ptr<std::atomic<std::int64_t>> budget_;
};

// What an open file's reads share with the read-ahead tasks working for it. A task holds
// it only while it runs (weak otherwise), so closing the file drops its queued work.
struct FileState {
  std::shared_ptr<S3Client> client;
  std::shared_ptr<BlockCache> cache;
  CachedObject object;  // endpoint, bucket, key, ETag
  std::string shown;    // s3://bucket/key, for messages
  std::uint64_t size = 0;
  std::shared_ptr<std::atomic<std::int64_t>> budget;

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, std::shared_ptr<Block>> blocks;  // guarded by mu
  ReadAheadWindow window{8};                               // guarded by mu
  int in_flight = 0;                                       // read-ahead tasks; guarded by mu
  // The last fetch found its blocks in the cache: the next ones likely are too, and are
  // then read ahead one block a task (several tasks at once), not in runs that one task
  // would read one after the other. Guarded by mu.
  bool cache_warm = false;
  // Random reads so far, and the next block the fill fetches (S3SourceOptions::
  // max_fill_bytes); both guarded by mu.
  std::uint64_t random_reads = 0;
  std::uint64_t fill_next = 0;

  std::size_t BlockLength(std::uint64_t index) const {
    return static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, size - index * kBlock));
  }

  // Blocks first, first + 1, ... (`run`, claimed by the caller) and publishes them: those
  // the cache has from it, the rest by ONE conditional ranged GET from the first block the
  // cache misses to the end of the run (each block then put in the cache). No lock held.
  // One GET for several blocks: a server pays per request as well as per byte (s3rver
  // served 1 GiB in 1 MiB GETs at half the rate of 4 MiB ones, see README Benchmarks).
  void FetchRunInto(std::uint64_t first, const std::vector<std::shared_ptr<Block>>& run) {
    const bool cacheable = cache != nullptr && !object.etag.empty();
    struct Piece {
      std::shared_ptr<const char[]> buffer;
      const char* bytes = nullptr;
      std::size_t size = 0;
      Status status;
    };
    std::vector<Piece> pieces(run.size());
    // Buffers are left uninitialized (`new char[]`): zeroing megabytes that are then
    // overwritten was a sixth of the daemon's CPU time in a cold `cat` (perf).
    std::size_t missing = 0;  // the first block of the run the cache does not have
    for (; cacheable && missing < run.size(); ++missing) {
      const std::size_t len = BlockLength(first + missing);
      std::shared_ptr<char[]> block(new char[kBlock]);
      auto hit = cache->Get(object, first + missing, block.get());
      if (!hit.ok() || *hit != len) break;
      pieces[missing] = Piece{block, block.get(), len, Status::Ok()};
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      cache_warm = missing == run.size();
    }
    if (missing < run.size()) {
      const std::uint64_t from = (first + missing) * kBlock;
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(size, (first + run.size()) * kBlock) - from);
      std::shared_ptr<char[]> bytes(new char[n]);
      auto got = client->GetRange(object.bucket, object.key, from, n, bytes.get(), object.etag);
      Status s;
      if (!got.ok()) {
        s = got.status();
      } else if (*got != n) {
        s = Status::IOError(shown + ": " + std::to_string(*got) + " bytes where " + std::to_string(n) +
                            " were expected at offset " + std::to_string(from));
      }
      for (std::size_t i = missing; i < run.size(); ++i) {
        pieces[i].status = s;
        if (!s.ok()) continue;
        pieces[i] = Piece{bytes, bytes.get() + (i - missing) * kBlock, BlockLength(first + i), Status::Ok()};
        // A failed Put costs nothing but a refetch.
        if (cacheable) (void)cache->Put(object, first + i, std::string_view(pieces[i].bytes, pieces[i].size));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      for (std::size_t i = 0; i < run.size(); ++i) {
        run[i]->buffer = std::move(pieces[i].buffer);
        run[i]->bytes = pieces[i].bytes;
        run[i]->size = pieces[i].size;
        run[i]->status = std::move(pieces[i].status);
        run[i]->done = true;
      }
    }
    cv.notify_all();
  }

  // Fetches `b` (block `index`) alone and publishes it. No lock held.
  void FetchInto(std::uint64_t index, const std::shared_ptr<Block>& b) { FetchRunInto(index, {b}); }
};

class S3File final : public ArtifactFile {
 public:
  S3File(std::shared_ptr<FileState> state, std::shared_ptr<S3ArtifactSource::Pool> pool,
         const S3SourceOptions& options)
      : state_(std::move(state)), pool_(std::move(pool)), max_in_flight_(options.max_in_flight_per_file),
        max_window_(options.max_window_blocks), request_blocks_(std::max(1, options.max_request_blocks)),
        max_bytes_(static_cast<std::int64_t>(options.max_readahead_bytes)),
        random_read_worth_(options.random_read_worth), max_fill_bytes_(options.max_fill_bytes) {
    state_->window = ReadAheadWindow(max_window_);
  }

  Result<std::size_t> ReadAt(std::uint64_t offset, std::size_t n, char* buf) override {
    FileState& st = *state_;
    if (offset >= st.size || n == 0) return std::size_t{0};
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, st.size - offset));
    const std::uint64_t first = offset / kBlock, last = (offset + n - 1) / kBlock;
    std::vector<std::pair<std::uint64_t, std::shared_ptr<Block>>> mine, wanted;
    {
      std::unique_lock<std::mutex> lock(st.mu);
      const int window = st.window.Next(offset, n);
      if (window == 0) {
        // A random read: what is held is of no use to it, nor to what follows.
        st.blocks.clear();
        ++st.random_reads;
        if (FillWanted()) ScheduleFill();
        lock.unlock();
        return ReadRange(offset, n, buf);
      }
      for (std::uint64_t b = first; b <= last; ++b) {
        auto& slot = st.blocks[b];
        if (!slot) slot = std::make_shared<Block>(st.budget);
        if (!slot->started) {  // absent, or queued ahead and not begun: this reader takes it
          slot->started = true;
          slot->readahead = false;
          mine.emplace_back(b, slot);
        }
        wanted.emplace_back(b, slot);
      }
      ScheduleAhead(last, window);
      // Forget what lies behind the reader (a task still fetching one keeps its block).
      while (!st.blocks.empty() && st.blocks.begin()->first + kHeldBehind <= first) st.blocks.erase(st.blocks.begin());
      while (st.blocks.size() > static_cast<std::size_t>(max_window_) + kHeldBehind + (last - first + 1)) {
        st.blocks.erase(std::prev(st.blocks.end()));
      }
    }
    for (auto& [index, b] : mine) st.FetchInto(index, b);
    std::size_t copied = 0;
    for (auto& [index, b] : wanted) {
      {
        // (A structured binding cannot be captured by clang 14: the block by name.)
        const std::shared_ptr<Block>& waited = b;
        std::unique_lock<std::mutex> lock(st.mu);
        if (!waited->done) {
          // Another thread's GET (a read-ahead task's, or another reader's) holds this
          // worker as much as a request of its own would: it waits only if the client's
          // bound on waiting callers admits it, else it fails at once.
          lock.unlock();
          const http::Client::Admission admission = st.client->http().Admit();
          if (!admission.admitted()) return Status::IOError(st.shown + ": " + st.client->http().WaitingRefusal());
          lock.lock();
          st.cv.wait(lock, [&] { return waited->done; });
        }
      }
      if (!b->status.ok() && b->readahead) {
        // Fetched ahead and failed (perhaps a full queue of requests): this reader tries once itself.
        auto again = std::make_shared<Block>(st.budget);
        again->started = true;
        st.FetchInto(index, again);
        b = again;
      }
      if (!b->status.ok()) {
        // Not kept: the reader's next try fetches again.
        std::lock_guard<std::mutex> lock(st.mu);
        auto it = st.blocks.find(index);
        if (it != st.blocks.end() && it->second->done && !it->second->status.ok()) st.blocks.erase(it);
        return b->status;
      }
      const std::uint64_t start = index * kBlock;
      const std::uint64_t from = std::max(offset, start);
      const std::uint64_t to = std::min<std::uint64_t>(offset + n, start + b->size);
      if (to <= from) return Status::IOError(st.shown + ": block " + std::to_string(index) + " is short");
      std::memcpy(buf + (from - offset), b->bytes + (from - start), to - from);
      copied += to - from;
    }
    return copied;
  }

  Result<std::uint64_t> Size() override { return state_->size; }
  Result<FileInfo> Info() override { return FileOf(state_->size); }

 private:
  // Exactly [offset, offset + n): from the cache when every block it touches is there,
  // else one ranged GET (not cached: a block-sized fetch would make small reads cost MiB).
  Result<std::size_t> ReadRange(std::uint64_t offset, std::size_t n, char* buf) {
    FileState& st = *state_;
    const std::uint64_t first = offset / kBlock, last = (offset + n - 1) / kBlock;
    if (st.cache != nullptr && !st.object.etag.empty() && last - first < 2) {
      const std::unique_ptr<char[]> block(new char[kBlock]);  // not zeroed: Get fills it
      std::size_t copied = 0;
      for (std::uint64_t b = first; b <= last; ++b) {
        auto hit = st.cache->Get(st.object, b, block.get());
        if (!hit.ok() || *hit != st.BlockLength(b)) break;
        const std::uint64_t start = b * kBlock;
        const std::uint64_t from = std::max(offset, start), to = std::min<std::uint64_t>(offset + n, start + *hit);
        std::memcpy(buf + (from - offset), block.get() + (from - start), to - from);
        copied += to - from;
      }
      if (copied == n) return copied;
    }
    auto got = st.client->GetRange(st.object.bucket, st.object.key, offset, n, buf, st.object.etag);
    if (!got.ok()) return got.status();
    if (*got != n) {
      return Status::IOError(st.shown + ": " + std::to_string(*got) + " bytes where " + std::to_string(n) +
                             " were expected at offset " + std::to_string(offset));
    }
    return got;
  }

  // Queues fetches of the `window` blocks after `last` that are not held yet, within the
  // file's and the source's caps: runs of up to `request_blocks_` blocks, one GET each (one
  // block a task while the cache serves this file: FileState::cache_warm). Once
  // the window holds two runs, a short run at its edge waits until it is whole (else, the
  // reader moving one block at a time, every GET would be one block long again); before
  // that, and at the file's end, a run goes as it is. Caller holds state_->mu.
  void ScheduleAhead(std::uint64_t last, int window) {
    FileState& st = *state_;
    const std::uint64_t blocks = (st.size + kBlock - 1) / kBlock;
    const std::uint64_t end = std::min<std::uint64_t>(blocks, last + 1 + static_cast<std::uint64_t>(window));
    const std::size_t per_request = st.cache_warm ? 1 : static_cast<std::size_t>(request_blocks_);
    const std::size_t whole = static_cast<std::size_t>(window) >= 2 * per_request ? per_request : 1;
    std::vector<std::uint64_t> run;
    for (std::uint64_t b = last + 1; b <= end; ++b) {
      const bool absent = b < end && st.blocks.count(b) == 0;
      if (absent) run.push_back(b);
      const bool full = run.size() == per_request;
      const bool cut = !absent && !run.empty() && (b < end || run.size() >= whole || end == blocks);
      if (!full && !cut) continue;
      if (!Submit(run)) return;
      run.clear();
    }
  }

  // Queues one GET of the consecutive blocks `run`; false when a cap stops it (and the rest).
  bool Submit(const std::vector<std::uint64_t>& run) {
    FileState& st = *state_;
    if (st.in_flight >= max_in_flight_) return false;
    if (st.budget->load() + static_cast<std::int64_t>(run.size() * kBlock) > max_bytes_) return false;
    std::vector<std::shared_ptr<Block>> slots;
    for (std::size_t i = 0; i < run.size(); ++i) {
      slots.push_back(std::make_shared<Block>(st.budget));
      slots.back()->readahead = true;
    }
    std::weak_ptr<FileState> weak = state_;
    const bool queued = pool_->Submit([weak, first = run.front(), slots] {
      std::shared_ptr<FileState> s = weak.lock();
      if (s == nullptr) return;  // the file was closed
      std::vector<bool> mine(slots.size());
      {
        std::lock_guard<std::mutex> lock(s->mu);
        for (std::size_t i = 0; i < slots.size(); ++i) {
          mine[i] = !slots[i]->started;  // else a reader took it
          slots[i]->started = true;
        }
      }
      // What readers left, by stretches of consecutive blocks.
      for (std::size_t i = 0; i < slots.size();) {
        if (!mine[i]) {
          ++i;
          continue;
        }
        std::size_t j = i;
        while (j < slots.size() && mine[j]) ++j;
        s->FetchRunInto(first + i, std::vector<std::shared_ptr<Block>>(slots.begin() + i, slots.begin() + j));
        i = j;
      }
      std::lock_guard<std::mutex> lock(s->mu);
      --s->in_flight;
    });
    if (!queued) return false;
    ++st.in_flight;
    for (std::size_t i = 0; i < run.size(); ++i) st.blocks.emplace(run[i], slots[i]);
    return true;
  }

  // Whether the file's random reads have cost what fetching it whole would (see
  // S3SourceOptions::max_fill_bytes). Caller holds state_->mu.
  bool FillWanted() const {
    const FileState& st = *state_;
    return st.cache != nullptr && !st.object.etag.empty() && st.size <= max_fill_bytes_ &&
           st.random_reads * random_read_worth_ >= st.size;
  }

  // Queues GETs of the next blocks of the fill, within the file's and the source's caps,
  // each put in the cache and dropped (not held for the reader: its reads find them in the
  // cache). Driven by the reader's reads: a reader that stops, or closes the file, stops
  // the fill. A block that fails is not tried again by the fill (the reader's own GETs
  // still read it). Caller holds state_->mu.
  void ScheduleFill() {
    FileState& st = *state_;
    const std::uint64_t blocks = (st.size + kBlock - 1) / kBlock;
    while (st.fill_next < blocks && st.in_flight < max_in_flight_) {
      const std::uint64_t first = st.fill_next;
      const std::size_t count =
          static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(request_blocks_), blocks - first));
      if (st.budget->load() + static_cast<std::int64_t>(count * kBlock) > max_bytes_) return;
      std::vector<std::shared_ptr<Block>> slots;
      for (std::size_t i = 0; i < count; ++i) {
        slots.push_back(std::make_shared<Block>(st.budget));
        slots.back()->started = slots.back()->readahead = true;
      }
      std::weak_ptr<FileState> weak = state_;
      const bool queued = pool_->Submit([weak, first, slots] {
        std::shared_ptr<FileState> s = weak.lock();
        if (s == nullptr) return;  // the file was closed
        s->FetchRunInto(first, slots);
        std::lock_guard<std::mutex> lock(s->mu);
        --s->in_flight;
      });
      if (!queued) return;
      ++st.in_flight;
      st.fill_next += count;
    }
  }

  std::shared_ptr<FileState> state_;
  std::shared_ptr<S3ArtifactSource::Pool> pool_;
  const int max_in_flight_;
  const int max_window_;
  const int request_blocks_;
  const std::int64_t max_bytes_;
  const std::uint64_t random_read_worth_;
  const std::uint64_t max_fill_bytes_;
};

// What a located S3 artifact's ArtifactRef::handle holds.
struct Located {
  std::shared_ptr<S3Client> client;
  std::string bucket;
  std::string key;  // the artifact's own key, no trailing '/'
};

const Located* LocatedOf(const ArtifactRef& ref) { return static_cast<const Located*>(ref.handle.get()); }

}  // namespace

// ---- the source ----

S3ArtifactSource::S3ArtifactSource(S3SourceOptions options, std::shared_ptr<http::Client> http,
                                   std::shared_ptr<AwsCredentialsProvider> credentials,
                                   std::shared_ptr<BlockCache> cache)
    : options_(std::move(options)), http_(std::move(http)), credentials_(std::move(credentials)),
      cache_(std::move(cache)),
      pool_(std::make_shared<Pool>(std::max(1, options_.readahead_threads),
                                   static_cast<std::size_t>(std::max(1, options_.readahead_threads)) * 8)),
      readahead_bytes_(std::make_shared<std::atomic<std::int64_t>>(0)) {}

S3ArtifactSource::~S3ArtifactSource() { pool_->Stop(); }

void S3ArtifactSource::Warn(const std::string& key, const std::string& message) {
  if (options_.warn) options_.warn(key, message);
}

Result<std::shared_ptr<S3Client>> S3ArtifactSource::ClientFor(const S3Endpoint& endpoint) {
  const std::string key = endpoint.url + '\n' + endpoint.region + '\n' + (endpoint.path_style ? "p" : "v");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second;
  if (clients_.size() >= kMaxClients) {
    return Status::InvalidArgument("more than " + std::to_string(kMaxClients) +
                                   " S3 endpoints named by the store: " + http::Redact(endpoint.url) + " refused");
  }
  auto client = std::make_shared<S3Client>(http_, endpoint, credentials_);
  clients_.emplace(key, client);
  return client;
}

Result<ArtifactRef> S3ArtifactSource::Locate(std::string_view uri, const ArtifactStoreInfo& store) {
  auto root = TrustedS3Root(options_, uri, store);
  if (!root.ok()) {
    Warn(std::string(uri), root.status().message());
    return root.status();
  }
  auto parsed = ParseS3Root(uri);  // checked by TrustedS3Root
  auto endpoint = ChooseS3Endpoint(options_, store);
  if (!endpoint.ok()) return endpoint.status();
  auto client = ClientFor(*endpoint);
  if (!client.ok()) return client.status();
  const std::string& key = parsed->prefix;
  std::string rel = key.substr(std::min(key.size(), root->prefix.size()));
  if (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  ArtifactRef ref{UriOf(parsed->bucket, key), root->ToString(), rel,
                  std::make_shared<const Located>(Located{*client, parsed->bucket, key})};
  // Whether it is there (and what it is) is known at the first Stat; an error there
  // reaches meta.json the same way.
  return ref;
}

std::shared_ptr<const S3ArtifactSource::Cached> S3ArtifactSource::Remembered(
    const std::string& ck, const std::function<Status(Cached*)>& fetch) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = listings_.find(ck);
    if (it != listings_.end() && it->second->until > now) return it->second;
  }
  auto cached = std::make_shared<Cached>();
  cached->status = fetch(cached.get());
  cached->until = now + (cached->status.ok() ? options_.listing_ttl : options_.failure_ttl);
  std::lock_guard<std::mutex> lock(mu_);
  PutCached(&listings_, ck, cached);
  return cached;
}

namespace {

// A name a folder of the mount can hold (not empty, ".", "..", with no '/' or NUL).
bool PathName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

Result<std::shared_ptr<const S3ArtifactSource::Folder>> S3ArtifactSource::ListFolder(S3Client& client,
                                                                                  const std::string& bucket,
                                                                                  const std::string& prefix) {
  auto cached = Remembered("L" + client.endpoint().url + '\n' + bucket + '\n' + prefix, [&](Cached* c) {
    auto listing = client.List(bucket, prefix);
    if (!listing.ok()) return listing.status();
    auto folder = std::make_shared<Folder>();
    for (const S3Object& o : listing->objects) {
      // The folder's own marker object ("prefix/") has no name and is left out.
      if (StartsWith(o.key, prefix) && PathName(o.key.substr(prefix.size()))) {
        folder->files[o.key.substr(prefix.size())] = Object{o.size, o.etag};
      }
    }
    for (const std::string& p : listing->prefixes) {
      if (!StartsWith(p, prefix) || p.size() <= prefix.size() || p.back() != '/') continue;
      const std::string name = p.substr(prefix.size(), p.size() - prefix.size() - 1);
      if (PathName(name)) folder->dirs.push_back(name);
    }
    std::sort(folder->dirs.begin(), folder->dirs.end());
    folder->dirs.erase(std::unique(folder->dirs.begin(), folder->dirs.end()), folder->dirs.end());
    for (const std::string& d : folder->dirs) folder->files.erase(d);  // a name that is both: the folder wins
    c->folder = std::move(folder);
    return Status::Ok();
  });
  if (!cached->status.ok()) return cached->status;
  return cached->folder;
}

Result<S3ArtifactSource::Object> S3ArtifactSource::HeadObject(S3Client& client, const std::string& bucket,
                                                              const std::string& key) {
  auto cached = Remembered("H" + client.endpoint().url + '\n' + bucket + '\n' + key, [&](Cached* c) {
    auto head = client.Head(bucket, key);
    if (!head.ok()) return head.status();
    c->object = Object{head->size, head->etag};
    return Status::Ok();
  });
  if (!cached->status.ok()) return cached->status;
  return cached->object;
}

Result<FileInfo> S3ArtifactSource::StatKey(const ArtifactRef& ref, std::string_view rel, std::string* key,
                                           Object* object) {
  const Located* a = LocatedOf(ref);
  if (a == nullptr || a->client == nullptr) return Status::IOError("S3 artifact reference without a client");
  auto clean = UriResolver::CleanRelative(rel);
  if (!clean.ok()) return clean.status();
  *key = clean->empty() ? a->key : a->key + "/" + *clean;
  const std::string shown = UriOf(a->bucket, *key);
  FileInfo dir;
  dir.is_dir = true;
  if (clean->empty()) {
    // The artifact itself: a folder when anything lies below it, else a single object.
    auto below = ListFolder(*a->client, a->bucket, a->key + "/");
    if (below.ok() && !(*below)->empty()) return dir;
    auto head = HeadObject(*a->client, a->bucket, a->key);
    if (head.ok()) {
      *object = *head;
      return FileOf(head->size);
    }
    // A listing refused says more than the HEAD that followed it (a HEAD's 404 has no
    // body): its S3 code (NoSuchBucket, AccessDenied, ...) is the reason shown. A listing
    // that found nothing and a HEAD's 404: the object does not exist.
    const Status& why = below.ok() ? head.status() : below.status();
    const Status s = below.ok() && why.code() == Status::Code::kNotFound ? Status::NotFound(shown + " does not exist")
                                                                          : why;
    Warn(shown, "cannot read " + shown + ": " + s.message());
    return s;
  }
  const std::size_t slash = key->rfind('/');
  const std::string parent = key->substr(0, slash + 1), name = key->substr(slash + 1);
  auto folder = ListFolder(*a->client, a->bucket, parent);
  if (!folder.ok()) return folder.status();
  if (std::binary_search((*folder)->dirs.begin(), (*folder)->dirs.end(), name)) return dir;
  auto it = (*folder)->files.find(name);
  if (it == (*folder)->files.end()) return Status::NotFound(shown + " does not exist");
  *object = it->second;
  return FileOf(it->second.size);
}

Result<FileInfo> S3ArtifactSource::Stat(const ArtifactRef& ref, std::string_view rel) {
  std::string key;
  Object object;
  return StatKey(ref, rel, &key, &object);
}

Result<std::vector<DirEntryInfo>> S3ArtifactSource::List(const ArtifactRef& ref, std::string_view rel) {
  std::string key;
  Object object;
  auto info = StatKey(ref, rel, &key, &object);
  if (!info.ok()) return info.status();
  const Located* a = LocatedOf(ref);
  if (!info->is_dir) return Status::NotDirectory(UriOf(a->bucket, key));
  auto folder = ListFolder(*a->client, a->bucket, key + "/");
  if (!folder.ok()) return folder.status();
  std::vector<DirEntryInfo> out;
  out.reserve((*folder)->dirs.size() + (*folder)->files.size());
  for (const std::string& d : (*folder)->dirs) out.push_back({d, true});
  for (const auto& [name, o] : (*folder)->files) out.push_back({name, false});
  std::sort(out.begin(), out.end(), [](const DirEntryInfo& x, const DirEntryInfo& y) { return x.name < y.name; });
  return out;
}

Result<std::unique_ptr<ArtifactFile>> S3ArtifactSource::Open(const ArtifactRef& ref, std::string_view rel) {
  std::string key;
  Object object;
  auto info = StatKey(ref, rel, &key, &object);
  if (!info.ok()) return info.status();
  const Located* a = LocatedOf(ref);
  if (info->is_dir) return Status::IsDirectory(UriOf(a->bucket, key));
  auto state = std::make_shared<FileState>();
  state->client = a->client;
  state->cache = cache_;
  state->object = CachedObject{a->client->endpoint().url, a->bucket, key, object.etag};
  state->shown = UriOf(a->bucket, key);
  state->size = object.size;
  state->budget = readahead_bytes_;
  return std::unique_ptr<ArtifactFile>(std::make_unique<S3File>(std::move(state), pool_, options_));
}

}  // namespace zenfs
