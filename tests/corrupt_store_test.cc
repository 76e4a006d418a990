// A damaged-store matrix: copies of a demo store, each broken in one way (truncated,
// bytes overwritten, tables or columns missing, NULLs, garbage times, clashing names,
// cycles, hostile JSON and URIs), opened with the catalog and walked with Tree the way the
// kernel would. Every case must end in a clear error naming the database, or in a tree
// whose every meta.json is JSON; no case may show bytes from outside the artifact store,
// and no case may write the database.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fs/tree.h"
#include "demo/demo_writer.h"
#include "store/local_artifact_source.h"
#include "store/sql_catalog.h"
#include "tests/test_util.h"

namespace zenfs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr bool kSanitized = zenfs::testing::kSanitizedBuild;

// ---------------------------------------------------------------- SQL on a copy

// A read-write connection to a damaged copy, for the test only. Not thread-safe.
class Sql {
 public:
  explicit Sql(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  ~Sql() { sqlite3_close(db_); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  // Runs `sql` (one or more statements); a failure fails the test: a damage that did not
  // happen would make its case meaningless.
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << "setup SQL failed: " << (err ? err : "?") << "\n  in: " << sql.substr(0, 300);
    }
    sqlite3_free(err);
  }
  // Like Exec, but a failure is only reported to the caller.
  bool TryExec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  // The first column of every row, as text ("" for NULL).
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "setup SQL failed: " << sqlite3_errmsg(db_) << "\n  in: " << sql;
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.push_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string One(const std::string& sql) {
    auto rows = Column(sql);
    if (rows.empty()) {
      ADD_FAILURE() << "no row from: " << sql;
      return "";
    }
    return rows.front();
  }

 private:
  sqlite3* db_ = nullptr;
};

// SQL string literal.
std::string Q(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// `open` repeated n times, then `middle`, then `close` n times: deeply nested JSON.
std::string Nested(int n, const std::string& open, const std::string& middle, const std::string& close) {
  std::string out;
  out.reserve(static_cast<std::size_t>(n) * (open.size() + close.size()) + middle.size());
  for (int i = 0; i < n; ++i) out += open;
  out += middle;
  for (int i = 0; i < n; ++i) out += close;
  return out;
}

std::string Base64(const std::string& data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(data[i]) << 16 | static_cast<unsigned char>(data[i + 1]) << 8 |
                       static_cast<unsigned char>(data[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// ---------------------------------------------------------------- walking the tree

// What a case allows a walk to meet.
struct Policy {
  bool io_errors_ok = false;   // EIO from damaged pages (Corruption / IOError statuses)
  bool refusals_ok = false;    // EIO/EACCES for artifact or log files under refused URIs
};

// What a walk of the whole tree saw.
struct WalkReport {
  std::set<std::string> paths;                  // every listed path, relative to the root
  std::map<std::string, std::string> contents;  // files read in full (meta.json and others)
  std::map<std::string, std::string> targets;   // symlink targets
  std::vector<std::string> failures;            // what broke the contract
  std::vector<std::string> allowed_errors;      // errors the policy allowed, for the log
  int metas = 0;
  int max_depth = 0;
  bool depth_capped = false;
};

constexpr int kMaxDepth = 40;          // deeper than any real tree; symlink loops stop here
constexpr std::size_t kMaxNodes = 200000;
constexpr std::size_t kMaxFileBytes = 64u << 20;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Drives Tree like the kernel: paged readdir, lookup of every name, getattr, readlink,
// open and read of every file at odd chunk sizes. Never asserts; collects.
class Walker {
 public:
  Walker(Tree& tree, Policy policy) : tree_(tree), policy_(policy) {}

  WalkReport Run() {
    auto root = tree_.GetAttr(kRootIno);
    if (!root.ok()) {
      Problem("getattr /", root.status());
    } else {
      Dir(kRootIno, "", 0);
    }
    return std::move(report_);
  }

 private:
  void Problem(const std::string& what, const Status& s) {
    const int err = ToErrno(s);
    const bool io = s.code() == Status::Code::kCorruption || s.code() == Status::Code::kIOError;
    // A refused artifact or log file is an I/O or permission error for the user, like
    // any URI that does not resolve (SPEC §1), never another errno (`ls` would show it).
    const bool refused = err == EIO || err == EACCES || err == EPERM;
    const bool under_artifacts = what.find("/outputs/") != std::string::npos || EndsWith(what, "/logs") ||
                                 what.find("/logs/") != std::string::npos;
    std::string line = what + ": " + s.ToString();
    if (ToErrno(s) == 0) {
      report_.failures.push_back(line + " (an error status that maps to errno 0)");
    } else if ((policy_.io_errors_ok && io) || (policy_.refusals_ok && refused && under_artifacts)) {
      report_.allowed_errors.push_back(std::move(line));
    } else {
      report_.failures.push_back(std::move(line));
    }
  }

  void Dir(std::uint64_t ino, const std::string& path, int depth) {
    report_.max_depth = std::max(report_.max_depth, depth);
    if (depth >= kMaxDepth) {
      report_.depth_capped = true;
      return;
    }
    auto listing = tree_.OpenDir(ino);
    if (!listing.ok()) return Problem("opendir /" + path, listing.status());
    std::vector<const Listing::Item*> items;
    std::vector<std::string> names;
    std::uint64_t offset = 0;
    for (int calls = 0; calls < 1000000; ++calls) {
      std::size_t taken = 0;
      FillDir(**listing, ino, offset, [&](const DirSlot& s) {
        if (taken == 7) return false;  // a small reply buffer: seven slots a call
        ++taken;
        names.push_back(s.name);
        if (s.item != nullptr) items.push_back(s.item);
        offset = s.next;
        return true;
      });
      if (taken == 0) break;
    }
    if (names.size() < 2 || names[0] != "." || names[1] != "..") {
      report_.failures.push_back("readdir /" + path + " does not start with . and ..");
    }
    std::set<std::string> unique;
    for (const Listing::Item* item : items) {
      const std::string& name = item->name;
      const std::string child = path.empty() ? name : path + "/" + name;
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos || name.size() > 255) {
        report_.failures.push_back("bad name in /" + path + ": \"" + name + "\"");
        continue;
      }
      if (!unique.insert(name).second) report_.failures.push_back("duplicate name /" + child);
      if (report_.paths.size() >= kMaxNodes) {
        report_.depth_capped = true;
        return;
      }
      report_.paths.insert(child);
      auto e = tree_.Lookup(ino, name);
      if (!e.ok()) {
        Problem("lookup /" + child, e.status());
        continue;
      }
      if (e->attr.ino != item->ino) report_.failures.push_back("lookup /" + child + " gives another inode");
      auto again = tree_.GetAttr(e->attr.ino);
      if (!again.ok()) {
        Problem("getattr /" + child, again.status());
        continue;
      }
      const mode_t type = e->attr.mode & S_IFMT;
      if (type != item->type) report_.failures.push_back("/" + child + " is listed and looked up as different types");
      if (type == S_IFDIR) {
        Dir(e->attr.ino, child, depth + 1);
      } else if (type == S_IFLNK) {
        auto target = tree_.ReadLink(e->attr.ino);
        if (!target.ok()) {
          Problem("readlink /" + child, target.status());
        } else if (target->empty() || (*target)[0] == '/') {
          report_.failures.push_back("/" + child + " -> \"" + *target + "\" is not a relative link");
        } else {
          report_.targets[child] = *target;
        }
      } else if (type == S_IFREG) {
        File(e->attr, child);
      } else {
        report_.failures.push_back("/" + child + " has file type " + std::to_string(type));
      }
    }
  }

  void File(const Attr& attr, const std::string& path) {
    auto f = tree_.Open(attr.ino);
    if (!f.ok()) return Problem("open /" + path, f.status());
    std::string data;
    std::vector<char> buf(1000);
    for (;;) {
      auto n = tree_.Read(**f, data.size(), buf.size(), buf.data());
      if (!n.ok()) return Problem("read /" + path + " at " + std::to_string(data.size()), n.status());
      if (*n == 0) break;
      if (*n > buf.size()) {
        report_.failures.push_back("read /" + path + " returned more than asked");
        return;
      }
      data.append(buf.data(), *n);
      if (data.size() > kMaxFileBytes) {
        report_.failures.push_back("/" + path + " is larger than " + std::to_string(kMaxFileBytes) + " bytes");
        return;
      }
    }
    const std::string name = path.substr(path.rfind('/') + 1);
    const bool is_meta = name == "meta.json" && (path.find("/outputs/") == std::string::npos || IsOutputMeta(path));
    if (is_meta) {
      ++report_.metas;
      if (data.size() != attr.size) {
        report_.failures.push_back("/" + path + ": read " + std::to_string(data.size()) + " bytes, stat says " +
                                   std::to_string(attr.size));
      }
      const json j = json::parse(data, nullptr, false);
      if (!j.is_object()) report_.failures.push_back("/" + path + " is not a JSON object");
      if (data.empty() || data.back() != '\n') report_.failures.push_back("/" + path + " lacks a final newline");
    }
    report_.contents[path] = std::move(data);
  }

  // ".../outputs/<name>/meta.json": the output's own meta.json (not an artifact file).
  static bool IsOutputMeta(const std::string& path) {
    const std::size_t outputs = path.rfind("/outputs/");
    if (outputs == std::string::npos) return false;
    const std::string rest = path.substr(outputs + 9);
    return std::count(rest.begin(), rest.end(), '/') == 1;
  }

  Tree& tree_;
  Policy policy_;
  WalkReport report_;
};

// ---------------------------------------------------------------- the case table

enum class Expect {
  kRefused,  // a clear error at open or load time
  kWalks,    // opens, loads and walks cleanly
  kEither,   // one or the other (damaged bytes: SQLite decides how much it can read)
};

// One damaged copy.
struct Copy {
  std::string dir;            // the case's scratch directory
  std::string db;             // the damaged copy of zenml.db
  std::string artifact_root;  // the base store's artifact store root (shared by all cases)
};

struct Case {
  using Check = std::function<void(const Copy&, const WalkReport&)>;
  Case(std::string name_, std::function<void(Copy&)> damage_, Expect expect_ = Expect::kWalks,
       std::string refusal_says_ = "", Policy policy_ = {}, Check check_ = {})
      : name(std::move(name_)), damage(std::move(damage_)), expect(expect_),
        refusal_says(std::move(refusal_says_)), policy(policy_), check(std::move(check_)) {}

  std::string name;
  std::function<void(Copy&)> damage;
  Expect expect;
  std::string refusal_says;  // the refusal must also contain this ("" for nothing)
  Policy policy;
  Check check;  // more assertions on a walk
  // Needs the child's memory limit to fail fast if zenfs runs away (skipped under
  // sanitizers, which cannot run with one).
  bool huge = false;
};

std::vector<std::string> ListNames(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class CorruptStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new testing::TempDir();
    DemoOptions o;
    o.dir = base_->path() + "/store";
    o.schema = DemoSchema::kZenml074;  // pinned to the 0.74 layout its expectations assume
    o.artifact_bytes = 0;
    const Status s = WriteDemoStore(o);
    ASSERT_TRUE(s.ok()) << s.ToString();
    base_db_ = o.dir + "/local_stores/default_zen_store/zenml.db";
    for (const std::string& name : ListNames(o.dir + "/local_stores")) {
      if (name != "default_zen_store") artifact_root_ = o.dir + "/local_stores/" + name;
    }
    ASSERT_FALSE(artifact_root_.empty());
    char buf[PATH_MAX];
    ASSERT_NE(realpath(artifact_root_.c_str(), buf), nullptr);
    artifact_root_ = buf;
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }

  // Runs one case on a fresh copy of the base store. Outside sanitizer builds each case
  // runs in a child process with a memory limit, so that a crash, an escaped exception or
  // runaway memory is reported as that case's failure and the other cases still run (the
  // child's assertion failures are printed by gtest as they happen). Under sanitizers,
  // where fork costs about a second and a limit on address space is impossible, cases run
  // in-process and the huge ones are skipped.
  void RunCase(const Case& c) {
    Copy copy;
    copy.dir = cases_.path() + "/" + std::to_string(counter_++);
    fs::create_directories(copy.dir);
    copy.db = copy.dir + "/zenml.db";
    copy.artifact_root = artifact_root_;
    fs::copy_file(base_db_, copy.db);
    const auto started = std::chrono::steady_clock::now();
    const int outcome = kSanitized ? RunInProcess(c, copy) : RunInChild(c, copy);
    if (outcome == kWalked) ++walked_;
    if (outcome == kRefusedOk) ++refused_;
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (took > 2) std::printf("case \"%s\" took %.1f s\n", c.name.c_str(), took);
    std::error_code ec;
    fs::remove_all(copy.dir, ec);
  }

  int RunInProcess(const Case& c, Copy& copy) {
    failures_at_start_ = Failures();
    try {
      const int code = CaseBody(c, copy);
      return Failures() == failures_at_start_ ? code : kFailed;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "case \"" << c.name << "\": exception escaped: " << e.what();
      return kFailed;
    }
  }

  int RunInChild(const Case& c, Copy& copy) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      return kFailed;
    }
    if (pid == 0) {
      failures_at_start_ = Failures();
      int code = kFailed;
      try {
        // Far more than any case needs: a case that runs away fails fast instead of
        // taking the machine's memory.
        const rlimit limit{kChildMemory, kChildMemory};
        setrlimit(RLIMIT_AS, &limit);
        code = CaseBody(c, copy);
      } catch (const std::exception& e) {
        std::printf("case \"%s\": exception escaped: %s\n", c.name.c_str(), e.what());
        code = kFailed;
      } catch (...) {
        std::printf("case \"%s\": unknown exception escaped\n", c.name.c_str());
        code = kFailed;
      }
      if (Failures() != failures_at_start_) code = kFailed;
      std::fflush(nullptr);
      _exit(code);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kChildSeconds);
    int status = 0;
    for (;;) {
      const pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) {
        ADD_FAILURE() << "waitpid: " << std::strerror(errno);
        return kFailed;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ADD_FAILURE() << "case \"" << c.name << "\" did not finish within " << kChildSeconds << " s";
        return kFailed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling with a deadline
    }
    if (WIFSIGNALED(status)) {
      ADD_FAILURE() << "case \"" << c.name << "\" crashed with signal " << WTERMSIG(status) << " ("
                    << strsignal(WTERMSIG(status)) << ")";
      return kFailed;
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : kFailed;
    if (code != kWalked && code != kRefusedOk) {
      ADD_FAILURE() << "case \"" << c.name << "\" failed (see above)";
      return kFailed;
    }
    return code;
  }

  // Failed assertions of the current test so far (gtest records one part per failure).
  static int Failures() {
    const ::testing::TestResult* r = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int n = 0;
    for (int i = 0; i < r->total_part_count(); ++i) n += r->GetTestPartResult(i).failed() ? 1 : 0;
    return n;
  }

  // How a case ended (also the exit code of its child process).
  static constexpr int kWalked = 0, kRefusedOk = 2, kFailed = 1;
  static constexpr rlim_t kChildMemory = rlim_t{512} << 20;
  static constexpr int kChildSeconds = 120;

  // Damages the copy, opens and walks it, and checks the case's promise. Returns
  // kWalked or kRefusedOk (failures are recorded by gtest).
  int CaseBody(const Case& c, Copy& copy) {
    SCOPED_TRACE("case: " + c.name);
    int outcome = kWalked;
    c.damage(copy);
    if (Failures() != failures_at_start_) return kFailed;  // the damage failed; already reported
    const std::string sha_before = testing::FileSha256(copy.db);
    const std::vector<std::string> files_before = ListNames(copy.dir);
    {
      Logger log(Logger::Level::kError, false);
      auto cat = OpenSqliteCatalog(copy.db);
      Status s = cat.ok() ? Status::Ok() : cat.status();
      std::optional<StoreRows> rows;
      if (s.ok()) {
        auto r = (*cat)->LoadRows(RowScope::kAll);
        if (r.ok()) {
          rows = std::move(*r);
        } else {
          s = r.status();
        }
      }
      if (!s.ok()) {
        outcome = kRefusedOk;
        EXPECT_NE(c.expect, Expect::kWalks) << "refused a store it should read: " << s.ToString();
        EXPECT_NE(ToErrno(s), 0);
        char buf[PATH_MAX];
        const std::string real = realpath(copy.db.c_str(), buf) != nullptr ? buf : copy.db;
        EXPECT_TRUE(s.message().find(copy.db) != std::string::npos ||
                    s.message().find(real) != std::string::npos)
            << "the error does not name the database: " << s.ToString();
        if (!c.refusal_says.empty()) {
          EXPECT_NE(s.message().find(c.refusal_says), std::string::npos)
              << "the error does not say \"" << c.refusal_says << "\": " << s.ToString();
        }
      } else {
        EXPECT_NE(c.expect, Expect::kRefused) << "opened a store that must be refused";
        LocalArtifactSource source(UriResolver({}, fs::path(copy.artifact_root).parent_path().string(), false));
        TreeOptions opts;
        opts.store_path = copy.db;
        opts.refresh_seconds = 3600;
        Tree tree(**cat, source, log, opts, Snapshot::Build(std::move(*rows), 1));
        const WalkReport report = Walker(tree, c.policy).Run();
        std::string shown;
        for (std::size_t i = 0; i < report.failures.size() && i < 15; ++i) shown += "\n  " + report.failures[i];
        EXPECT_TRUE(report.failures.empty())
            << report.failures.size() << " problems walking the tree:" << shown;
        // Never a silently empty tree: the root's meta.json is there and is JSON.
        EXPECT_TRUE(report.contents.count("meta.json") != 0 || c.policy.io_errors_ok)
            << "no root meta.json";
        if (std::getenv("ZENFS_CORRUPT_VERBOSE") != nullptr) {
          for (const std::string& e : report.allowed_errors) std::printf("  allowed: %s\n", e.c_str());
        }
        if (c.check) c.check(copy, report);
      }
    }
    EXPECT_EQ(testing::FileSha256(copy.db), sha_before) << "zenfs changed the database";
    EXPECT_EQ(ListNames(copy.dir), files_before) << "zenfs created or removed files beside the database";
    return outcome;
  }

  // ZENFS_CORRUPT_CASE=<substring> runs only the cases whose name holds it, and names
  // each as it starts (to reproduce one case alone).
  void RunAll(const std::vector<Case>& cases) {
    const char* only = std::getenv("ZENFS_CORRUPT_CASE");
    for (const Case& c : cases) {
      if (only != nullptr && c.name.find(only) == std::string::npos) continue;
      if (c.huge && kSanitized) {
        std::printf("case \"%s\" skipped under sanitizers (no memory limit possible)\n", c.name.c_str());
        continue;
      }
      if (only != nullptr) std::fprintf(stderr, "case: %s\n", c.name.c_str());
      RunCase(c);
    }
    std::printf("%zu cases: %d refused, %d walked\n", cases.size(), refused_, walked_);
  }

  static testing::TempDir* base_;
  static std::string base_db_;
  static std::string artifact_root_;
  testing::TempDir cases_;
  int counter_ = 0;
  int refused_ = 0, walked_ = 0;
  int failures_at_start_ = 0;  // failed assertions when the running case began
};

testing::TempDir* CorruptStoreTest::base_ = nullptr;
std::string CorruptStoreTest::base_db_;
std::string CorruptStoreTest::artifact_root_;

// Damage helpers.
std::function<void(Copy&)> Exec(std::string sql) {
  return [sql](Copy& c) { Sql(c.db).Exec(sql); };
}

// Removes NOT NULL from the tables' declarations (PRAGMA writable_schema), so that the
// next connection may store NULLs where ZenML's schema forbids them, then runs `sql`.
std::function<void(Copy&)> WithNulls(std::vector<std::string> tables, std::string sql) {
  return [tables, sql](Copy& c) {
    {
      Sql db(c.db);
      std::string in;
      for (const std::string& t : tables) in += (in.empty() ? "" : ", ") + Q(t);
      db.Exec("PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') "
              "WHERE type = 'table' AND name IN (" + in + "); PRAGMA writable_schema = OFF;");
    }
    Sql(c.db).Exec(sql);  // a new connection reads the relaxed schema
  };
}

// Rebuilds `table` with the same columns and no constraints (no NOT NULL, UNIQUE or
// PRIMARY KEY), so that duplicates can be stored, then runs `sql`.
std::function<void(Copy&)> Unconstrained(std::string table, std::string sql) {
  return [table, sql](Copy& c) {
    Sql db(c.db);
    db.Exec("CREATE TABLE zenfs_test_tmp AS SELECT * FROM " + table + "; DROP TABLE " + table +
            "; ALTER TABLE zenfs_test_tmp RENAME TO " + table + ";");
    db.Exec(sql);
  };
}

// Drops a column: ALTER TABLE DROP COLUMN where SQLite allows it, else a rebuild of the
// table without it (a column in a constraint or index cannot be dropped in place).
std::function<void(Copy&)> DropColumn(std::string table, std::string col) {
  return [table, col](Copy& c) {
    Sql db(c.db);
    if (db.TryExec("ALTER TABLE " + table + " DROP COLUMN \"" + col + "\"")) return;
    std::string keep;
    for (const std::string& name : db.Column("SELECT name FROM pragma_table_info(" + Q(table) + ")")) {
      if (name != col) keep += (keep.empty() ? "\"" : ", \"") + name + "\"";
    }
    db.Exec("CREATE TABLE zenfs_test_tmp AS SELECT " + keep + " FROM " + table + "; DROP TABLE " + table +
            "; ALTER TABLE zenfs_test_tmp RENAME TO " + table + ";");
  };
}

// Carries the copy forward to what later ZenML migrations add (0.92 log sources and log
// stores, 0.95 nested runs and pipeline outputs, run index and in_progress, input_index,
// availability), where the base does not have it yet, then runs `sql`.
std::function<void(Copy&)> Newer(std::string sql) {
  return [sql](Copy& c) {
    Sql db(c.db);
    for (const char* add : {"ALTER TABLE pipeline_run ADD COLUMN \"index\" INTEGER NOT NULL DEFAULT 0",
                            "ALTER TABLE pipeline_run ADD COLUMN in_progress BOOLEAN NOT NULL DEFAULT 0",
                            "ALTER TABLE pipeline_run ADD COLUMN parent_run_id CHAR(32)",
                            "ALTER TABLE pipeline_run ADD COLUMN root_run_id CHAR(32)",
                            "ALTER TABLE pipeline_run ADD COLUMN child_key VARCHAR",
                            "ALTER TABLE artifact_version ADD COLUMN availability VARCHAR",
                            "ALTER TABLE step_run_input_artifact ADD COLUMN input_index INTEGER NOT NULL DEFAULT 0"}) {
      db.TryExec(add);  // present already in a newer base
    }
    db.Exec("CREATE TABLE IF NOT EXISTS pipeline_run_output (id CHAR(32) NOT NULL PRIMARY KEY, "
            "created DATETIME NOT NULL, updated DATETIME NOT NULL, name VARCHAR NOT NULL, output_index INTEGER "
            "NOT NULL, pipeline_run_id CHAR(32) NOT NULL, artifact_id CHAR(32) NOT NULL)");
    if (db.Column("SELECT name FROM pragma_table_info('logs') WHERE name = 'source'").empty()) {
      db.Exec("CREATE TABLE logs_new (id CHAR(32) NOT NULL PRIMARY KEY, created DATETIME NOT NULL, updated "
              "DATETIME NOT NULL, uri TEXT, source VARCHAR(255) NOT NULL, pipeline_run_id CHAR(32), step_run_id "
              "CHAR(32), artifact_store_id CHAR(32), log_store_id CHAR(32)); INSERT INTO logs_new SELECT id, "
              "created, updated, uri, 'step', pipeline_run_id, step_run_id, artifact_store_id, NULL FROM logs; "
              "DROP TABLE logs; ALTER TABLE logs_new RENAME TO logs;");
    }
    db.Exec(sql);
  };
}

std::function<void(Copy&)> Truncate(std::function<std::uintmax_t(std::uintmax_t)> size_of) {
  return [size_of](Copy& c) { fs::resize_file(c.db, size_of(fs::file_size(c.db))); };
}

// Overwrites 64 bytes at `offset` inside page `page` (1-based) with `pattern` (0xff, or
// 0 for pseudo-random bytes).
void Overwrite(const std::string& db, std::uint64_t page, std::uint64_t page_size, std::uint64_t offset,
               int pattern) {
  unsigned char bytes[64];
  std::uint32_t x = static_cast<std::uint32_t>(page * 2654435761u + offset + 1);
  for (unsigned char& b : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = pattern != 0 ? static_cast<unsigned char>(pattern) : static_cast<unsigned char>(x);
  }
  const int fd = open(db.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const off_t at = static_cast<off_t>((page - 1) * page_size + offset);
  EXPECT_EQ(pwrite(fd, bytes, sizeof bytes, at), static_cast<ssize_t>(sizeof bytes));
  close(fd);
}

// ---------------------------------------------------------------- the cases

TEST_F(CorruptStoreTest, TruncatedFiles) {
  Policy damaged{.io_errors_ok = true};
  RunAll({
      {"empty file", Truncate([](auto) { return 0; }), Expect::kRefused, "table pipeline"},
      {"header only (100 bytes)", Truncate([](auto) { return 100; }), Expect::kRefused, ""},
      {"first page only", Truncate([](auto) { return 4096; }), Expect::kRefused, ""},
      {"half", Truncate([](auto n) { return n / 2; }), Expect::kEither, "", damaged},
      {"half and 17 bytes", Truncate([](auto n) { return n / 2 + 17; }), Expect::kEither, "", damaged},
      {"all but the last page", Truncate([](auto n) { return n - 4096; }), Expect::kEither, "", damaged},
      {"all but the last byte", Truncate([](auto n) { return n - 1; }), Expect::kEither, "", damaged},
  });
}

TEST_F(CorruptStoreTest, OverwrittenPages) {
  // Which pages hold which table, from SQLite itself (dbstat), else the root pages.
  std::map<std::string, std::vector<std::uint64_t>> pages;
  std::uint64_t page_size = 4096;
  {
    Sql db(base_db_);
    page_size = std::stoull(db.One("PRAGMA page_size"));
    for (const char* table : {"sqlite_schema", "pipeline", "pipeline_run", "step_run", "step_run_output_artifact",
                              "artifact_version", "pipeline_deployment", "run_metadata", "logs"}) {
      std::vector<std::string> found;
      if (db.TryExec("SELECT 1 FROM dbstat LIMIT 1")) {
        found = db.Column(std::string("SELECT pageno FROM dbstat WHERE name = '") + table + "' ORDER BY pageno");
      } else if (std::string(table) == "sqlite_schema") {
        found = {"1"};
      } else {
        found = db.Column(std::string("SELECT rootpage FROM sqlite_master WHERE name = '") + table + "'");
      }
      ASSERT_FALSE(found.empty()) << table;
      // The root (first) page and the last page of the table.
      pages[table].push_back(std::stoull(found.front()));
      if (found.size() > 1) pages[table].push_back(std::stoull(found.back()));
    }
  }
  std::vector<Case> cases;
  int n = 0;
  for (const auto& [table, list] : pages) {
    for (std::uint64_t page : list) {
      // The b-tree page header, the cell pointer array, and cell content at the end.
      for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{8}, page_size - 64}) {
        // Page 1 starts with the 100-byte file header; its b-tree page header follows.
        const std::uint64_t at = page == 1 && offset == 8 ? 100 : offset;
        const int pattern = (n++ % 2 == 0) ? 0xff : 0;
        cases.push_back({table + " page " + std::to_string(page) + " offset " + std::to_string(at) +
                             (pattern != 0 ? " 0xff" : " random"),
                         [page, page_size, at, pattern](Copy& c) { Overwrite(c.db, page, page_size, at, pattern); },
                         Expect::kEither, "", Policy{.io_errors_ok = true}});
      }
    }
  }
  RunAll(cases);
}

TEST_F(CorruptStoreTest, MissingTables) {
  auto no_logs = [](const Copy&, const WalkReport& r) {
    for (const std::string& p : r.paths) EXPECT_FALSE(EndsWith(p, "/logs")) << p;
  };
  RunAll({
      {"no step_run", Exec("DROP TABLE step_run"), Expect::kRefused, "step_run"},
      {"no artifact_version", Exec("DROP TABLE artifact_version"), Expect::kRefused, "artifact_version"},
      {"no pipeline_run", Exec("DROP TABLE pipeline_run"), Expect::kRefused, "pipeline_run"},
      {"no pipeline", Exec("DROP TABLE pipeline"), Expect::kRefused, "pipeline"},
      {"no step_run_output_artifact", Exec("DROP TABLE step_run_output_artifact"), Expect::kRefused,
       "step_run_output_artifact"},
      {"no logs", Exec("DROP TABLE logs"), Expect::kWalks, "", {}, no_logs},
      {"no step_run_input_artifact", Exec("DROP TABLE step_run_input_artifact"), Expect::kWalks},
      {"no pipeline_deployment", Exec("DROP TABLE pipeline_deployment"), Expect::kWalks},
      {"no run_metadata", Exec("DROP TABLE run_metadata"), Expect::kWalks},
      {"no run_metadata_resource", Exec("DROP TABLE run_metadata_resource"), Expect::kWalks},
      {"no artifact", Exec("DROP TABLE artifact"), Expect::kWalks},
      {"no code_reference", Exec("DROP TABLE code_reference"), Expect::kWalks},
      {"no stack_component", Exec("DROP TABLE stack_component"), Expect::kWalks},
      {"no alembic_version", Exec("DROP TABLE alembic_version"), Expect::kWalks},
  });
}

TEST_F(CorruptStoreTest, MissingColumns) {
  RunAll({
      {"pipeline_run.start_time", DropColumn("pipeline_run", "start_time"), Expect::kWalks},
      {"pipeline_run.end_time", DropColumn("pipeline_run", "end_time"), Expect::kWalks},
      {"pipeline_run.created", DropColumn("pipeline_run", "created"), Expect::kWalks},
      {"pipeline_run.pipeline_id", DropColumn("pipeline_run", "pipeline_id"), Expect::kWalks},
      {"pipeline_run.deployment_id", DropColumn("pipeline_run", "deployment_id"), Expect::kWalks},
      {"pipeline_run.status", DropColumn("pipeline_run", "status"), Expect::kRefused, "pipeline_run.status"},
      {"pipeline_run.name", DropColumn("pipeline_run", "name"), Expect::kRefused, "pipeline_run.name"},
      {"step_run.start_time", DropColumn("step_run", "start_time"), Expect::kWalks},
      {"step_run.original_step_run_id", DropColumn("step_run", "original_step_run_id"), Expect::kWalks},
      {"step_run.source_code", DropColumn("step_run", "source_code"), Expect::kWalks},
      {"step_run.pipeline_run_id", DropColumn("step_run", "pipeline_run_id"), Expect::kRefused,
       "step_run.pipeline_run_id"},
      {"step_run.name", DropColumn("step_run", "name"), Expect::kRefused, "step_run.name"},
      {"pipeline.name", DropColumn("pipeline", "name"), Expect::kRefused, "pipeline.name"},
      {"artifact_version.uri", DropColumn("artifact_version", "uri"), Expect::kRefused, "artifact_version.uri"},
      {"artifact_version.materializer", DropColumn("artifact_version", "materializer"), Expect::kWalks},
      {"artifact_version.artifact_store_id", DropColumn("artifact_version", "artifact_store_id"), Expect::kWalks},
      {"step_run_output_artifact.name", DropColumn("step_run_output_artifact", "name"), Expect::kRefused,
       "step_run_output_artifact.name"},
      {"logs.uri", DropColumn("logs", "uri"), Expect::kWalks},
      {"run_metadata.value", DropColumn("run_metadata", "value"), Expect::kWalks},
      {"pipeline_deployment.step_configurations", DropColumn("pipeline_deployment", "step_configurations"),
       Expect::kWalks},
  });
}

// What later ZenML adds, damaged: sources, keys and names that are hostile, links to
// nothing, loops, values of the wrong type, tables and columns missing.
TEST_F(CorruptStoreTest, NewerZenmlTablesAndColumns) {
  // Every link the walk met stays inside the mount: a run's children/ and outputs/ links
  // climb exactly to the root, or to the run's steps, and name paths of the tree. `kind`:
  // the links the case makes, which the walk must have met.
  auto links_stay_inside = [](const char* kind) {
    return [kind](const Copy&, const WalkReport& r) {
      int seen = 0;
      for (const auto& [path, target] : r.targets) {
        if (path.find("/children/") != std::string::npos) {
          seen += std::string(kind) == "children";
          EXPECT_EQ(target.rfind("../../../../", 0), 0u) << path << " -> " << target;
          EXPECT_EQ(target.find("..", 12), std::string::npos) << path << " -> " << target;
          EXPECT_EQ(r.paths.count(target.substr(12)), 1u) << path << " -> " << target << " names no path";
        } else if (path.find("/runs/") != std::string::npos && path.find("/steps/") == std::string::npos &&
                   path.find("/outputs/") != std::string::npos) {
          seen += std::string(kind) == "outputs";
          EXPECT_EQ(target.rfind("../steps/", 0), 0u) << path << " -> " << target;
          EXPECT_EQ(target.find("..", 3), std::string::npos) << path << " -> " << target;
        }
      }
      EXPECT_GT(seen, 0) << "the walk met no " << kind << " link";
    };
  };
  const std::string hostile = "CASE rowid % 6 WHEN 0 THEN '../../etc' WHEN 1 THEN char(10) || 'x' || char(27) "
                              "WHEN 2 THEN replace(hex(zeroblob(300)), '0', 's') WHEN 3 THEN '' WHEN 4 THEN "
                              "CAST(X'ff00fe' AS TEXT) ELSE 'meta.json' END";
  RunAll({
      {"log sources hostile, several per step",
       Newer("INSERT INTO logs SELECT substr(id, 1, 24) || 'deadbeef', created, updated, uri, 'orchestrator', "
             "pipeline_run_id, step_run_id, artifact_store_id, log_store_id FROM logs; "
             "UPDATE logs SET source = " + hostile + " WHERE source != 'orchestrator'"),
       Expect::kWalks},
      {"logs in a log store (uri NULL), run-level logs",
       Newer("UPDATE logs SET uri = NULL WHERE rowid % 2 = 0; UPDATE logs SET step_run_id = NULL, source = "
             "'runner' WHERE rowid % 3 = 0"),
       Expect::kWalks},
      {"parents: self, loops, missing, hostile keys",
       Newer("UPDATE pipeline_run SET parent_run_id = id, child_key = 'self' WHERE rowid % 4 = 0; "
             "UPDATE pipeline_run SET parent_run_id = (SELECT id FROM pipeline_run p WHERE p.rowid = "
             "pipeline_run.rowid + 1), child_key = " + hostile + " WHERE rowid % 4 = 1; "
             "UPDATE pipeline_run SET parent_run_id = (SELECT id FROM pipeline_run p WHERE p.rowid = "
             "pipeline_run.rowid - 1), child_key = 'loop' WHERE rowid % 4 = 2; "
             "UPDATE pipeline_run SET parent_run_id = 'gone', child_key = NULL WHERE rowid % 4 = 3"),
       Expect::kWalks, "", {}, links_stay_inside("children")},
      {"many children with one key",
       Newer("UPDATE pipeline_run SET parent_run_id = (SELECT id FROM pipeline_run ORDER BY rowid LIMIT 1), "
             "child_key = 'same' WHERE rowid > 1"),
       Expect::kWalks, "", {}, links_stay_inside("children")},
      {"pipeline outputs dangling, duplicated, hostile",
       Newer("INSERT INTO pipeline_run_output SELECT printf('c%031d', o.rowid), "
             "'2025-01-01 00:00:00', '2025-01-01 00:00:00', " + std::string("CASE s.rowid % 6 WHEN 0 THEN "
             "'../../etc' WHEN 1 THEN 'x/y' WHEN 2 THEN '' WHEN 3 THEN 'dup' WHEN 4 THEN 'dup' ELSE 'meta.json' END") +
             ", s.rowid, s.pipeline_run_id, o.artifact_id FROM step_run_output_artifact o JOIN step_run s ON "
             "s.id = o.step_id; INSERT INTO pipeline_run_output VALUES ('a1', '', '', 'nowhere', 'x', 'no-run', "
             "'no-version'); INSERT INTO pipeline_run_output SELECT 'a2', '', '', 'gone version', 0, id, 'nope' "
             "FROM pipeline_run LIMIT 1"),
       Expect::kWalks, "", {}, links_stay_inside("outputs")},
      {"availability of every kind",
       Newer("UPDATE artifact_version SET availability = CASE rowid % 5 WHEN 0 THEN 'deleted' WHEN 1 THEN '' "
             "WHEN 2 THEN CAST(X'ff' AS TEXT) WHEN 3 THEN NULL ELSE 'available' END"),
       Expect::kWalks},
      {"input_index not a number", Newer("UPDATE step_run_input_artifact SET input_index = 'abc' || rowid"),
       Expect::kWalks},
      {"index and in_progress not numbers",
       Newer("UPDATE pipeline_run SET \"index\" = 'x', in_progress = 'maybe'"), Expect::kWalks},
  });
  RunAll({
      {"no pipeline_run_output", Newer("DROP TABLE pipeline_run_output"), Expect::kWalks},
      {"no logs.source", [](Copy& c) {
         Newer("SELECT 1")(c);
         DropColumn("logs", "source")(c);
       }, Expect::kWalks},
      {"no pipeline_run.parent_run_id", [](Copy& c) {
         Newer("UPDATE pipeline_run SET parent_run_id = id")(c);
         DropColumn("pipeline_run", "parent_run_id")(c);
       }, Expect::kWalks},
      {"no pipeline_run_output.output_index", [](Copy& c) {
         Newer("INSERT INTO pipeline_run_output SELECT 'b1', '', '', 'o', 0, s.pipeline_run_id, o.artifact_id "
               "FROM step_run_output_artifact o JOIN step_run s ON s.id = o.step_id LIMIT 1")(c);
         DropColumn("pipeline_run_output", "output_index")(c);
       }, Expect::kWalks},
  });
}

TEST_F(CorruptStoreTest, NullsWhereValuesAreExpected) {
  const std::vector<std::string> main = {"pipeline", "pipeline_run", "step_run", "artifact_version",
                                         "step_run_output_artifact", "logs", "run_metadata",
                                         "run_metadata_resource", "pipeline_deployment"};
  const std::string newest = "(SELECT id FROM pipeline_run ORDER BY start_time DESC LIMIT 1)";
  RunAll({
      {"run name", WithNulls(main, "UPDATE pipeline_run SET name = NULL WHERE id = " + newest)},
      {"every run name", WithNulls(main, "UPDATE pipeline_run SET name = NULL")},
      {"run status", WithNulls(main, "UPDATE pipeline_run SET status = NULL")},
      {"run id", WithNulls(main, "UPDATE pipeline_run SET id = NULL WHERE id = " + newest)},
      {"run times",
       WithNulls(main, "UPDATE pipeline_run SET start_time = NULL, end_time = NULL, created = NULL, updated = NULL")},
      {"run pipeline_id", WithNulls(main, "UPDATE pipeline_run SET pipeline_id = NULL WHERE id = " + newest)},
      {"step name", WithNulls(main, "UPDATE step_run SET name = NULL WHERE rowid % 2 = 0")},
      {"step status", WithNulls(main, "UPDATE step_run SET status = NULL")},
      {"step id", WithNulls(main, "UPDATE step_run SET id = NULL WHERE rowid % 3 = 0")},
      {"step pipeline_run_id", WithNulls(main, "UPDATE step_run SET pipeline_run_id = NULL WHERE rowid % 2 = 1")},
      {"step times",
       WithNulls(main, "UPDATE step_run SET start_time = NULL, end_time = NULL, created = NULL, updated = NULL")},
      {"step original_step_run_id + deployment_id",
       WithNulls(main, "UPDATE step_run SET original_step_run_id = NULL, deployment_id = NULL")},
      {"pipeline name", WithNulls(main, "UPDATE pipeline SET name = NULL")},
      {"pipeline id", WithNulls(main, "UPDATE pipeline SET id = NULL WHERE rowid = 1")},
      {"artifact_version uri", WithNulls(main, "UPDATE artifact_version SET uri = NULL WHERE rowid % 2 = 0"),
       Expect::kWalks, "", Policy{.refusals_ok = true}},
      {"artifact_version id", WithNulls(main, "UPDATE artifact_version SET id = NULL WHERE rowid % 2 = 1")},
      {"artifact_version descriptive columns",
       WithNulls(main, "UPDATE artifact_version SET version = NULL, type = NULL, materializer = NULL, "
                       "data_type = NULL, artifact_id = NULL, artifact_store_id = NULL, created = NULL, "
                       "updated = NULL")},
      {"output link name", WithNulls(main, "UPDATE step_run_output_artifact SET name = NULL")},
      {"output link ids",
       WithNulls(main, "UPDATE step_run_output_artifact SET artifact_id = NULL WHERE rowid % 2 = 0; "
                       "UPDATE step_run_output_artifact SET step_id = NULL WHERE rowid % 3 = 0")},
      // A log whose URI is NULL is listed and reads as EIO (SPEC §1: an unresolvable URI).
      {"logs columns",
       WithNulls(main, "UPDATE logs SET uri = NULL WHERE rowid % 2 = 0; "
                       "UPDATE logs SET artifact_store_id = NULL, created = NULL, updated = NULL"),
       Expect::kWalks, "", Policy{.refusals_ok = true}},
      {"run_metadata", WithNulls(main, "UPDATE run_metadata SET \"key\" = NULL WHERE rowid % 2 = 0; "
                                       "UPDATE run_metadata SET value = NULL, type = NULL WHERE rowid % 2 = 1")},
      {"deployment configurations",
       WithNulls(main, "UPDATE pipeline_deployment SET pipeline_configuration = NULL, step_configurations = NULL, "
                       "run_name_template = NULL, pipeline_spec = NULL")},
  });
}

TEST_F(CorruptStoreTest, GarbageInTimeColumns) {
  std::vector<Case> cases;
  for (const std::string value : {"'yesterday'", "'2026-13-45'", "'2026-02-30 10:00:00'", "12345", "-1",
                                  "1.5e300", "X'00ff'", "''", "'9999-12-31 23:59:59.999999'",
                                  "'0000-01-01 00:00:00'", "'2025-03-03 09:00:00.1234567890123'"}) {
    cases.push_back(
        {"time " + value,
         Exec("UPDATE pipeline_run SET start_time = " + value + ", created = " + value + ", end_time = " + value +
              ", updated = " + value + " WHERE rowid % 2 = 0; UPDATE step_run SET start_time = " + value +
              ", end_time = " + value + " WHERE rowid % 2 = 1; UPDATE artifact_version SET created = " + value +
              "; UPDATE pipeline SET created = " + value + "; UPDATE logs SET created = " + value +
              ", updated = " + value + "; UPDATE run_metadata SET created = " + value)});
  }
  cases.push_back({"end before start", Exec("UPDATE pipeline_run SET end_time = '1970-01-01 00:00:00'")});
  RunAll(cases);
}

TEST_F(CorruptStoreTest, DuplicateAndHostileNames) {
  const std::string newest = "(SELECT id FROM pipeline_run WHERE name LIKE 'example_pipeline%' "
                             "ORDER BY start_time DESC LIMIT 1)";
  // Every name in `dir` (a path relative to the root) that starts with `prefix`.
  auto count_in = [](const WalkReport& r, const std::string& dir, const std::string& prefix) {
    int n = 0;
    for (const std::string& p : r.paths) {
      if (p.size() > dir.size() + 1 && p.compare(0, dir.size() + 1, dir + "/") == 0 &&
          p.find('/', dir.size() + 1) == std::string::npos && p.compare(dir.size() + 1, prefix.size(), prefix) == 0) {
        ++n;
      }
    }
    return n;
  };
  RunAll({
      {"two runs with one name (different workspaces)",
       Exec("INSERT INTO pipeline_run (id, created, updated, name, start_time, end_time, status, deployment_id, "
            "user_id, workspace_id, pipeline_id) SELECT 'dddddddddddddddddddddddddddddddd', created, updated, name, "
            "start_time, end_time, status, deployment_id, user_id, 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', pipeline_id "
            "FROM pipeline_run WHERE id = " + newest),
       Expect::kWalks, "", {},
       [](const Copy& c, const WalkReport& r) {
         const std::string name = Sql(c.db).One("SELECT name FROM pipeline_run WHERE id = "
                                                "'dddddddddddddddddddddddddddddddd'");
         EXPECT_TRUE(r.paths.count("example_pipeline/runs/" + name)) << name;
         EXPECT_TRUE(r.paths.count("example_pipeline/runs/" + name + "~dddddddd/meta.json")) << name;
       }},
      {"two steps with one name in a run",
       Unconstrained("step_run",
                     "INSERT INTO step_run SELECT 'ffffffffffffffffffffffffffffffff', created, updated, name, "
                     "start_time, end_time, status, docstring, cache_key, source_code, code_hash, step_configuration, "
                     "original_step_run_id, deployment_id, pipeline_run_id, user_id, workspace_id, model_version_id "
                     "FROM step_run WHERE name = 'step_1' AND pipeline_run_id = " + newest),
       Expect::kWalks, "", {},
       [count_in](const Copy& c, const WalkReport& r) {
         const std::string run = Sql(c.db).One("SELECT p.name FROM pipeline_run p JOIN step_run s ON "
                                               "s.pipeline_run_id = p.id WHERE s.id = 'ffffffffffffffffffffffffffffffff'");
         EXPECT_EQ(count_in(r, "example_pipeline/runs/" + run + "/steps", "step_1"), 2);
         EXPECT_TRUE(r.paths.count("example_pipeline/runs/" + run + "/steps/step_1~ffffffff/meta.json"));
       }},
      {"two pipelines with one name",
       Exec("INSERT INTO pipeline (id, created, updated, name, workspace_id) SELECT "
            "'abababababababababababababababab', created, updated, name, 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' FROM "
            "pipeline WHERE name = 'example_pipeline'; UPDATE pipeline_run SET pipeline_id = "
            "'abababababababababababababababab' WHERE rowid = (SELECT max(rowid) FROM pipeline_run WHERE name LIKE "
            "'example_pipeline%')"),
       Expect::kWalks, "", {},
       [](const Copy&, const WalkReport& r) {
         EXPECT_TRUE(r.paths.count("example_pipeline"));
         EXPECT_TRUE(r.paths.count("example_pipeline~abababab/runs"));
       }},
      {"output names '..', '', 'a/b', 'meta.json', '.', '%'",
       Exec("UPDATE step_run_output_artifact SET name = CASE rowid % 6 WHEN 0 THEN '..' WHEN 1 THEN '' WHEN 2 THEN "
            "'a/b' WHEN 3 THEN 'meta.json' WHEN 4 THEN '.' ELSE '%' END"),
       Expect::kWalks, "", {},
       [](const Copy&, const WalkReport& r) {
         std::set<std::string> outputs;
         for (const std::string& p : r.paths) {
           const std::size_t at = p.rfind("/outputs/");
           if (at != std::string::npos && p.find('/', at + 9) == std::string::npos) outputs.insert(p.substr(at + 9));
         }
         for (const char* want : {"%2E%2E", "%", "a%2Fb", "%2E", "%25"}) {
           EXPECT_TRUE(outputs.count(want)) << "no output folder named " << want;
         }
         bool meta_renamed = false;
         for (const std::string& o : outputs) meta_renamed |= o.rfind("meta.json~", 0) == 0;
         EXPECT_TRUE(meta_renamed || outputs.count("meta.json")) << "no output for the name meta.json";
       }},
      {"run and step names clashing with fixed entries",
       Exec("UPDATE pipeline_run SET name = 'latest' WHERE id = " + newest +
            "; UPDATE step_run SET name = 'meta.json' WHERE name = 'step_2'; UPDATE pipeline SET name = 'meta.json' "
            "WHERE name = 'training_pipeline'"),
       Expect::kWalks, "", {},
       [](const Copy&, const WalkReport& r) {
         EXPECT_FALSE(r.targets.empty());
         for (const auto& [link, target] : r.targets) {
           if (EndsWith(link, "/latest")) {
             EXPECT_NE(target, "latest") << link;
           }
         }
       }},
      {"names with NUL, newline and invalid UTF-8",
       Exec("UPDATE pipeline_run SET name = CAST(X'6100620a63ff' AS TEXT) WHERE id = " + newest +
            "; UPDATE step_run SET name = CAST(X'c328' AS TEXT) WHERE name = 'step_1' AND rowid % 2 = 0")},
      {"a 1000-byte run name", Exec("UPDATE pipeline_run SET name = printf('%.1000c', 'x') WHERE id = " + newest)},
  });
}

TEST_F(CorruptStoreTest, CyclesInOriginalStepRun) {
  // Steps by rowid: A, B, C are the first three steps of the store.
  const std::string a = "(SELECT id FROM step_run ORDER BY rowid LIMIT 1 OFFSET 0)";
  const std::string b = "(SELECT id FROM step_run ORDER BY rowid LIMIT 1 OFFSET 1)";
  const std::string c = "(SELECT id FROM step_run ORDER BY rowid LIMIT 1 OFFSET 2)";
  RunAll({
      {"A -> B -> A", Exec("UPDATE step_run SET original_step_run_id = CASE id WHEN " + a + " THEN " + b + " ELSE " + a +
                           " END WHERE id IN (" + a + ", " + b + ")")},
      {"self-loop", Exec("UPDATE step_run SET original_step_run_id = id")},
      {"A -> B -> C -> A",
       Exec("UPDATE step_run SET original_step_run_id = CASE id WHEN " + a + " THEN " + b + " WHEN " + b + " THEN " +
            c + " ELSE " + a + " END WHERE id IN (" + a + ", " + b + ", " + c + ")")},
      {"original missing", Exec("UPDATE step_run SET original_step_run_id = '00000000000000000000000000000000'")},
  });
}

TEST_F(CorruptStoreTest, HostileJsonColumns) {
  const std::string deep_array = Nested(50000, "[", "1", "]");
  const std::string deep_object = Nested(50000, "{\"a\":", "1", "}");
  const std::string moderate = Nested(200, "[", "{}", "]");
  const std::string unclosed = Nested(5000, "[", "", "");
  // "\0zenml-compressed:zlib:v1:" followed by text that is not base64, and by base64 of
  // bytes that are not zlib.
  const std::string bad_compressed =
      "CAST(X'007a656e6d6c2d636f6d707265737365643a7a6c69623a76313a' || CAST('!!!not base64' AS BLOB) AS TEXT)";
  const std::string bad_zlib =
      "CAST(X'007a656e6d6c2d636f6d707265737365643a7a6c69623a76313a' || CAST('AAECAwQFBgc=' AS BLOB) AS TEXT)";
  std::vector<Case> cases;
  auto add_values = [&](const std::string& what, const std::string& set_sql_template) {
    struct Value {
      std::string label, sql;
      bool huge;
    };
    const std::vector<Value> values = {
        {"'{'", "'{'", false},
        {"'null'", "'null'", false},
        {"invalid UTF-8", "CAST(X'7b2261223a22ff22fe7d' AS TEXT)", false},
        {"200-deep", Q(moderate), false},
        {"50000-deep array", Q(deep_array), true},
        {"50000-deep object", Q(deep_object), true},
        {"5000 unclosed brackets", Q(unclosed), false},
        {"compressed, not base64", bad_compressed, false},
        {"compressed, not zlib", bad_zlib, false},
        {"50 kB string", "'\"' || printf('%.50000c', 'y') || '\"'", false},
    };
    for (const Value& v : values) {
      std::string sql = set_sql_template;
      for (std::size_t at; (at = sql.find("$V")) != std::string::npos;) sql.replace(at, 2, v.sql);
      cases.push_back({what + " = " + v.label, Exec(sql)});
      cases.back().huge = v.huge;
    }
  };
  add_values("pipeline_configuration", "UPDATE pipeline_deployment SET pipeline_configuration = $V; "
                                       "UPDATE pipeline_run SET pipeline_configuration = $V WHERE rowid % 2 = 0");
  add_values("step_configurations", "UPDATE pipeline_deployment SET step_configurations = $V");
  add_values("step_configurations[step_1]",
             "UPDATE pipeline_deployment SET step_configurations = '{\"step_1\": ' || $V || ', \"step_2\": "
             "{\"config\": {\"parameters\": ' || $V || '}}}'");
  add_values("run_metadata.value", "UPDATE run_metadata SET value = $V");
  add_values("materializer and data_type", "UPDATE artifact_version SET materializer = $V, data_type = $V");
  add_values("pipeline_spec", "UPDATE pipeline_deployment SET pipeline_spec = $V");
  add_values("stack_component.configuration", "UPDATE stack_component SET configuration = $V");
  // Base64 that decodes to hostile JSON (zenfs reads the artifact store's root from it).
  for (const auto& [label, text] : std::vector<std::pair<std::string, std::string>>{
           {"deep", Nested(1000, "{\"a\":", "1", "}")}, {"path not a string", "{\"path\": [1, {\"a\": null}]}"},
           {"path with ..", "{\"path\": \"/tmp/../../etc\"}"}, {"not json", "{{{"}}) {
    cases.push_back({"stack_component.configuration = base64(" + label + ")",
                     Exec("UPDATE stack_component SET configuration = " + Q(Base64(text)))});
  }
  RunAll(cases);
}

// Nothing from outside the artifact store root may be read through the tree: URIs with
// "..", symlinks out of the root (at the URI or below it), for outputs and logs.
TEST_F(CorruptStoreTest, UrisLeavingTheArtifactRoot) {
  const std::string passwd = testing::ReadFile("/etc/passwd");
  const std::string marker = "SECRET-OUTSIDE-THE-ARTIFACT-STORE";
  // Every artifact version / log of the store points at `uri`.
  auto all_outputs_at = [](const std::string& uri) {
    return "UPDATE artifact_version SET uri = " + Q(uri);
  };
  // A fresh folder at the top of the artifact store root for one case; `setup` fills it.
  auto evil = [](const std::string& name, std::function<void(const std::string& dir, const Copy&)> setup,
                 std::function<std::string(const std::string& dir, const Copy&)> sql) {
    return [name, setup, sql](Copy& c) {
      const std::string dir = c.artifact_root + "/evil-" + name + "-" + fs::path(c.dir).filename().string();
      fs::create_directories(dir);
      fs::create_directories(c.dir + "/outside");
      testing::WriteFile(c.dir + "/outside/secret.txt", "SECRET-OUTSIDE-THE-ARTIFACT-STORE\n");
      setup(dir, c);
      Sql(c.db).Exec(sql(dir, c));
    };
  };
  // No file read through the tree holds bytes from outside; output meta.json says why.
  auto no_leak = [passwd, marker](const Copy&, const WalkReport& r) {
    for (const auto& [path, data] : r.contents) {
      if (EndsWith(path, "meta.json")) continue;
      EXPECT_EQ(data.find(marker), std::string::npos) << path << " shows a file from outside the root";
      if (!passwd.empty()) {
        EXPECT_EQ(data.find(passwd.substr(0, passwd.find('\n'))), std::string::npos)
            << path << " shows /etc/passwd";
      }
    }
  };
  auto unavailable_outputs = [no_leak](const Copy& c, const WalkReport& r) {
    no_leak(c, r);
    int outputs = 0;
    for (const auto& [path, data] : r.contents) {
      if (!EndsWith(path, "meta.json") || path.find("/outputs/") == std::string::npos) continue;
      const json j = json::parse(data, nullptr, false);
      if (!j.is_object() || !j.contains("available")) continue;
      ++outputs;
      EXPECT_EQ(j["available"], false) << path;
      EXPECT_TRUE(j["unavailable_reason"].is_string()) << path;
    }
    EXPECT_GT(outputs, 0);
  };
  const Policy refusals{.refusals_ok = true};
  RunAll({
      {"uri <root>/../../etc", [all_outputs_at](Copy& c) { Sql(c.db).Exec(all_outputs_at(c.artifact_root + "/../../etc")); },
       Expect::kWalks, "", refusals, unavailable_outputs},
      {"uri <root>/x/../../../etc/passwd",
       [all_outputs_at](Copy& c) { Sql(c.db).Exec(all_outputs_at(c.artifact_root + "/x/../../../etc/passwd")); },
       Expect::kWalks, "", refusals, unavailable_outputs},
      {"uri is a symlink to /etc",
       evil("link-etc", [](const std::string& dir, const Copy&) { fs::create_directory_symlink("/etc", dir + "/etc"); },
            [all_outputs_at](const std::string& dir, const Copy&) { return all_outputs_at(dir + "/etc"); }),
       Expect::kWalks, "", refusals, unavailable_outputs},
      {"uri is a symlink to a file outside",
       evil("link-secret",
            [](const std::string& dir, const Copy& c) { fs::create_symlink(c.dir + "/outside/secret.txt", dir + "/s"); },
            [all_outputs_at](const std::string& dir, const Copy&) { return all_outputs_at(dir + "/s"); }),
       Expect::kWalks, "", refusals, unavailable_outputs},
      {"artifact folder holding symlinks out",
       evil("inner-links",
            [](const std::string& dir, const Copy& c) {
              testing::WriteFile(dir + "/ok.txt", "fine\n");
              fs::create_symlink("/etc/passwd", dir + "/passwd");
              fs::create_directory_symlink("/etc", dir + "/etc");
              fs::create_symlink(c.dir + "/outside/secret.txt", dir + "/secret");
              fs::create_directory_symlink(c.dir + "/outside", dir + "/outside");
              fs::create_directories(dir + "/sub");
              fs::create_symlink("../../../../../../../../../../etc/passwd", dir + "/sub/rel");
            },
            [all_outputs_at](const std::string& dir, const Copy&) { return all_outputs_at(dir); }),
       Expect::kWalks, "", refusals,
       [no_leak](const Copy& c, const WalkReport& r) {
         no_leak(c, r);
         int ok_files = 0;
         for (const auto& [path, data] : r.contents) {
           if (EndsWith(path, "/ok.txt")) {
             ++ok_files;
             EXPECT_EQ(data, "fine\n") << path;
           }
         }
         EXPECT_GT(ok_files, 0) << "the artifact's own files should still read";
       }},
      {"artifact folder with a symlink loop",
       evil("loop",
            [](const std::string& dir, const Copy&) {
              testing::WriteFile(dir + "/f.txt", "loop\n");
              fs::create_directory_symlink(".", dir + "/loop");
            },
            [all_outputs_at](const std::string& dir, const Copy&) {
              return all_outputs_at(dir) + " WHERE rowid = (SELECT min(rowid) FROM artifact_version)";
            }),
       Expect::kWalks, "", refusals,
       [](const Copy&, const WalkReport& r) {
         std::printf("symlink loop inside an artifact: walk reached depth %d%s\n", r.max_depth,
                     r.depth_capped ? " (the walk's cap; the tree itself goes deeper)" : "");
       }},
      {"log uri <root>/../../etc/passwd",
       [](Copy& c) { Sql(c.db).Exec("UPDATE logs SET uri = " + Q(c.artifact_root + "/../../etc/passwd")); },
       Expect::kWalks, "", refusals, no_leak},
      {"log uri is a symlink to a file outside",
       evil("log-link",
            [](const std::string& dir, const Copy& c) { fs::create_symlink(c.dir + "/outside/secret.txt", dir + "/l"); },
            [](const std::string& dir, const Copy&) { return "UPDATE logs SET uri = " + Q(dir + "/l"); }),
       Expect::kWalks, "", refusals, no_leak},
      {"log uri is a folder with a symlink to /etc",
       evil("log-dir",
            [](const std::string& dir, const Copy&) {
              testing::WriteFile(dir + "/chunk-1.log", "ok\n");
              fs::create_directory_symlink("/etc", dir + "/etc");
              fs::create_symlink("/etc/passwd", dir + "/chunk-2.log");
            },
            [](const std::string& dir, const Copy&) { return "UPDATE logs SET uri = " + Q(dir); }),
       Expect::kWalks, "", refusals, no_leak},
      {"relative and NUL uris",
       Exec("UPDATE artifact_version SET uri = CASE rowid % 3 WHEN 0 THEN 'etc/passwd' WHEN 1 THEN "
            "CAST(X'2f6574632f00706173737764' AS TEXT) ELSE '' END; UPDATE logs SET uri = '../../etc/passwd'"),
       Expect::kWalks, "", refusals, no_leak},
  });
}

}  // namespace
}  // namespace zenfs
