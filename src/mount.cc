#include "src/mount.h"

#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "fs/fuse_adapter.h"
#include "fs/log.h"
#include "fs/tree.h"
#include "store/artifact_sources.h"
#include "store/local_artifact_source.h"
#include "store/s3_artifact_source.h"
#include "store/projects.h"
#include "fs/snapshot.h"
#include "store/mysql_database.h"
#include "store/rest_catalog.h"
#include "store/sql_catalog.h"
#include "store/store_locator.h"

extern char** environ;

namespace zenfs {

namespace {

// A store opened and read once, ready to be served.
struct OpenedStore {
  StoreLocation location;
  // What the root's meta.json and log lines name: the database file's absolute path, or
  // a MySQL URL without its password. `file`: the SQLite file (for its permissions).
  std::string shown;
  bool file = false;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<ArtifactSource> artifacts;
  std::shared_ptr<const Snapshot> snapshot;
  // FUSE workers the artifact sources may hold waiting on a remote server (S3).
  int remote_workers = 0;
};

StoreEnv EnvFromProcess() {
  auto get = [](const char* n) {
    const char* v = std::getenv(n);
    return std::string(v != nullptr ? v : "");
  };
  return StoreEnv{get("ZENML_CONFIG_PATH"),        get("XDG_CONFIG_HOME"),
                  get("HOME"),                     get("ZENML_LOCAL_STORES_PATH"),
                  get("ZENML_STORE_URL"),          get("ZENML_STORE_USERNAME"),
                  get("ZENML_STORE_PASSWORD"),     get("ZENML_STORE_SSL_CA"),
                  get("ZENML_STORE_SSL_CERT"),     get("ZENML_STORE_SSL_KEY"),
                  get("ZENML_STORE_SSL_VERIFY_SERVER_CERT"), get("ZENML_STORE_API_KEY"),
                  get("ZENML_STORE_VERIFY_SSL")};
}

// Opens the store and reads its structure. Errors name the file and the problem; their
// exit code is kExitStore except for a bad --artifact-root (kExitUsage).
// `shared`: other users read the mount (allow_other, allow_root), so the store's own word
// never makes an artifact root (SPEC §1).
// The first line of a password (or API key) file, without its line end.
Result<std::string> ReadPasswordFile(const std::string& path, const char* option = "--password-file") {
  std::ifstream in(path);
  if (!in) return Status::NotFound(std::string(option) + " " + path + ": cannot be read");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Where a store's connection says the server went away or came back: the console until
// the daemon's own log exists.
using LogTarget = std::shared_ptr<std::atomic<Logger*>>;

// What the AWS chain reads of this process's environment (AWS_* and HOME), snapshotted.
std::map<std::string, std::string> AwsEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    if (name.substr(0, 4) == "AWS_" || name == "HOME") env.emplace(name, entry.substr(eq + 1));
  }
  return env;
}

// S3 requests in flight at once, and callers that may wait for one (beyond those, a
// request fails at once): together with the read-ahead threads, the FUSE workers a
// stalled endpoint can hold. A mount that reads S3 gets that many workers more than
// --threads, so `ls`, `stat`, meta.json and cached reads always find a free one.
constexpr int kS3InFlight = 8;
constexpr int kS3Waiting = 24;
constexpr int kS3ReadaheadThreads = 4;

// A mount's HTTP client options with `timeout_seconds` T (--s3-timeout, --rest-timeout):
// connecting takes at most min(T, 3 s), no byte moving for T and waiting T for a free
// handle are failures, a whole try gets max(6T, min_request); busy answers, resets and
// stalls are retried twice with backoff. So a reader waits about 3T at worst, then gets
// EIO, never hangs.
http::ClientOptions BoundedHttpOptions(double timeout_seconds, std::chrono::milliseconds min_request,
                                       int max_in_flight) {
  http::ClientOptions o;
  const auto t = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000));
  o.connect_timeout = std::min<std::chrono::milliseconds>(t, std::chrono::milliseconds(3000));
  o.stall_timeout = t;
  o.request_timeout = std::max<std::chrono::milliseconds>(6 * t, min_request);
  o.queue_timeout = t;
  o.retries = 2;
  o.max_in_flight = max_in_flight;
  return o;
}

// The S3 client of a mount: its own requests in flight (not the REST catalog's), and a
// bound on the callers waiting for one.
http::ClientOptions S3HttpOptions(const S3Args& a) {
  http::ClientOptions o = BoundedHttpOptions(a.timeout_seconds, std::chrono::milliseconds(30000), kS3InFlight);
  o.max_waiting = kS3Waiting;
  return o;
}

// The REST catalog's client: 4 in flight, so a stalled server holds at most 4 FUSE
// workers; a try may take a minute (a page of 10,000 hydrated runs).
http::ClientOptions RestHttpOptions(double timeout_seconds) {
  return BoundedHttpOptions(timeout_seconds, std::chrono::milliseconds(60000), 4);
}

// How a mount (or the demo) reaches S3 besides the store's word: the credentials chain of
// store/aws_credentials.h (--aws-profile and --credentials-file in place of AWS_PROFILE and
// AWS_SHARED_CREDENTIALS_FILE), the environment's and the profile's region and endpoint,
// and an HTTP client of S3's own (not the REST catalog's: its own cap in flight).
struct AwsSetup {
  std::shared_ptr<http::Client> http;
  std::shared_ptr<AwsCredentialsProvider> credentials;
  std::string default_endpoint, default_region;
};

AwsSetup MakeAws(const S3Args& a) {
  AwsChainOptions o;
  o.env = AwsEnvironment();
  o.profile = a.aws_profile;
  o.credentials_file = a.credentials_file;
  AwsSetup out;
  out.http = std::make_shared<http::Client>(S3HttpOptions(a));
  o.http = out.http;
  std::ifstream config(AwsConfigFile(o));
  std::stringstream text;
  if (config) text << config.rdbuf();
  const AwsS3Settings settings = ResolveAwsS3Settings(o.env, ParseIni(text.str()), AwsProfileName(o));
  out.default_endpoint = settings.endpoint_url;
  out.default_region = settings.region;
  out.credentials = MakeAwsCredentialChain(std::move(o));
  return out;
}

// Whether the store's artifacts (or the admin's roots) may be in S3: only then are an S3
// source, its client and the cache folder made (a local store creates no cache folder).
bool WantsS3(const StoreRows& rows, const std::vector<S3Root>& admin_roots) {
  if (!admin_roots.empty()) return true;
  return std::any_of(rows.artifact_stores.begin(), rows.artifact_stores.end(), [](const ArtifactStoreRow& a) {
    return a.flavor == "s3" || ArtifactSources::IsS3(a.configured_root);
  });
}

// The local source and, when the store may hold S3 artifacts, the S3 one behind one
// dispatching source. A cache folder that cannot be used is a usage error.
Result<std::unique_ptr<ArtifactSource>> MakeArtifactSources(std::unique_ptr<LocalArtifactSource> local,
                                                            std::vector<S3Root> admin_roots, const StoreRows& rows,
                                                            bool shared, const S3Args& a, const LogTarget& log,
                                                            int* exit_code, int* remote_workers) {
  if (!WantsS3(rows, admin_roots)) return std::unique_ptr<ArtifactSource>(std::make_unique<ArtifactSources>(std::move(local), nullptr));
  *remote_workers = kS3InFlight + kS3Waiting + kS3ReadaheadThreads;
  S3SourceOptions o;
  o.readahead_threads = kS3ReadaheadThreads;
  o.admin_roots = std::move(admin_roots);
  o.shared = shared;
  o.endpoint = a.endpoint;
  o.region = a.region;
  AwsSetup aws = MakeAws(a);
  o.default_endpoint = aws.default_endpoint;
  o.default_region = aws.default_region;
  if (log != nullptr) {
    o.warn = [log](const std::string& key, const std::string& message) {
      log->load()->LogOnce(Logger::Level::kWarning, "s3 " + key, message);
    };
  }
  std::shared_ptr<BlockCache> cache;
  if (!a.no_cache) {
    // The one cache folder of SPEC §5 (store/block_cache.h says where by default).
    Result<std::string> dir = a.cache_dir.empty() ? DefaultCacheDir() : Result<std::string>(a.cache_dir);
    if (!dir.ok()) {
      *exit_code = kExitUsage;
      return Status::InvalidArgument(dir.status().message() + " (set --cache-dir, or --no-cache)");
    }
    auto opened = BlockCache::Open(BlockCacheOptions{*dir, a.cache_size, BlockCacheOptions{}.min_free_bytes});
    if (!opened.ok()) {
      *exit_code = kExitUsage;
      return Status::InvalidArgument("--cache-dir " + *dir + ": " + opened.status().message());
    }
    cache = std::move(*opened);
    o.max_fill_bytes = a.cache_size / 4;
  }
  auto s3 = std::make_unique<S3ArtifactSource>(std::move(o), aws.http, aws.credentials, std::move(cache));
  return std::unique_ptr<ArtifactSource>(std::make_unique<ArtifactSources>(std::move(local), std::move(s3)));
}

Result<OpenedStore> OpenStore(const std::optional<std::string>& store, const StoreArgs& args,
                              RowScope scope, bool shared, const LogTarget& log, int* exit_code) {
  const std::vector<std::string>& roots = args.artifact_roots;
  const std::string& project = args.project;
  *exit_code = kExitUsage;
  std::vector<ArtifactRootRemap> remaps;
  std::vector<S3Root> s3_roots;
  for (const std::string& r : roots) {
    if (ArtifactSources::IsS3(r)) {
      // s3://bucket/prefix: an allow-list entry (no rewrite), see store/s3_artifact_source.h.
      auto s3_root = ParseS3Root(r);
      if (!s3_root.ok()) return Status::InvalidArgument("--artifact-root " + r + ": " + s3_root.status().message());
      s3_roots.push_back(std::move(*s3_root));
      continue;
    }
    auto remap = ParseRemap(r);
    if (!remap.ok()) return Status::InvalidArgument("--artifact-root " + r + ": " + remap.status().message());
    remaps.push_back(std::move(*remap));
  }
  *exit_code = kExitStore;
  auto loc = LocateStore(store, EnvFromProcess());
  if (!loc.ok()) return loc.status();
  Result<std::unique_ptr<Catalog>> catalog = Status::NotFound("");
  auto as_catalog = [](auto opened) -> Result<std::unique_ptr<Catalog>> {
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<Catalog>(std::move(*opened));
  };
  if (loc->rest) {
    RestConfig& rest = *loc->rest;
    if (!args.api_key_file.empty()) {
      auto key = ReadPasswordFile(args.api_key_file, "--api-key-file");
      if (!key.ok()) return key.status();
      if (key->empty()) return Status::InvalidArgument("--api-key-file " + args.api_key_file + ": the first line is empty");
      rest.api_key = *key;
    }
    if (args.insecure) rest.verify_tls = false;
    if (!args.ca_file.empty()) rest.ca_file = args.ca_file;
    if (!rest.ca_file.empty() && rest.ca_file[0] != '/' && !args.base_dir.empty()) {
      rest.ca_file = args.base_dir + "/" + rest.ca_file;
    }
    RestSession::Notify notify;
    if (log != nullptr) notify = [log](const std::string& message) { log->load()->Error(message); };
    auto session = RestSession::Open(rest, RestHttpOptions(args.rest_timeout_seconds), std::move(notify));
    if (!session.ok()) return session.status();
    catalog = as_catalog(RestCatalog::Open(std::move(*session)));
  } else if (loc->mysql) {
    if (!args.password_file.empty()) {
      auto password = ReadPasswordFile(args.password_file);
      if (!password.ok()) return password.status();
      loc->mysql->password = *password;
    }
    if (!args.base_dir.empty()) {
      for (std::string* f : {&loc->mysql->ssl_ca, &loc->mysql->ssl_cert, &loc->mysql->ssl_key}) {
        if (!f->empty() && (*f)[0] != '/') *f = args.base_dir + "/" + *f;
      }
    }
    MysqlDatabase::Notify notify;
    if (log != nullptr) {
      notify = [log](bool up, const std::string& message) {
        Logger* l = log->load();
        up ? l->Info(message) : l->Error(message);
      };
    }
    auto db = MysqlDatabase::Open(*loc->mysql, std::move(notify));
    if (!db.ok()) return db.status();
    catalog = as_catalog(SqlCatalog::Open(std::move(*db)));
  } else {
    catalog = as_catalog(OpenSqliteCatalog(loc->db_path));
  }
  if (!catalog.ok()) return catalog.status();
  auto projects = (*catalog)->ListProjects();
  if (!projects.ok()) {
    return Status::Corruption((*catalog)->Describe() + ": cannot read its projects: " + projects.status().message());
  }
  const char* env_project = std::getenv("ZENML_ACTIVE_PROJECT_ID");
  auto chosen = ChooseProject(*projects, ProjectHints{project, env_project != nullptr ? env_project : "",
                                                      loc->active_project_id, loc->active_workspace_name});
  if (!chosen.ok()) return Status::InvalidArgument((*catalog)->Describe() + ": " + chosen.status().message());
  if (*chosen) (*catalog)->ShowProject((*chosen)->id);
  auto rows = (*catalog)->LoadRows(scope);
  if (!rows.ok()) {
    return Status::Corruption((*catalog)->Describe() + ": cannot read the store: " + rows.status().message());
  }
  OpenedStore o;
  o.location = *loc;
  if (loc->mysql || loc->rest) {
    // A database or ZenML server has no folder of its own: artifacts come from
    // --artifact-root (or their artifact store component's path, on a private mount).
    o.catalog = std::move(*catalog);
    o.shown = o.catalog->Describe();
    auto sources = MakeArtifactSources(std::make_unique<LocalArtifactSource>(UriResolver(std::move(remaps), "", shared)),
                                       std::move(s3_roots), *rows, shared, args.s3, log, exit_code,
                          &o.remote_workers);
    if (!sources.ok()) return sources.status();
    o.artifacts = std::move(*sources);
    o.snapshot = Snapshot::Build(std::move(*rows), 1);
    *exit_code = kExitOk;
    return o;
  }
  // Shown in the root's meta.json: absolute, so it means the same from any directory.
  char abs[PATH_MAX];
  if (realpath(loc->db_path.c_str(), abs) != nullptr) o.location.db_path = abs;
  o.shown = o.location.db_path;
  o.file = true;
  o.catalog = std::move(*catalog);
  // The store's local_stores folder holds artifact store folders only when the database
  // is where ZenML puts it, local_stores/default_zen_store/zenml.db; a bare zenml.db
  // elsewhere has none (its grandparent is no artifact folder of anyone's).
  // Absolute (the resolver works on absolute paths only) and resolved once, now.
  std::string local_stores;
  const std::string db_dir = o.location.db_path.substr(0, o.location.db_path.rfind('/'));
  if (db_dir.substr(db_dir.rfind('/') + 1) == "default_zen_store" &&
      realpath(loc->local_stores_dir.c_str(), abs) != nullptr) {
    local_stores = abs;
  }
  auto sources =
      MakeArtifactSources(std::make_unique<LocalArtifactSource>(UriResolver(std::move(remaps), local_stores, shared)),
                          std::move(s3_roots), *rows, shared, args.s3, log, exit_code,
                          &o.remote_workers);
  if (!sources.ok()) return sources.status();
  o.artifacts = std::move(*sources);
  o.snapshot = Snapshot::Build(std::move(*rows), 1);
  *exit_code = kExitOk;
  return o;
}

// Undoes \040-style escapes of /proc/self/mountinfo.
std::string Unoctal(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() + 0 && i + 3 <= s.size() - 1 + 1) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The mount visible exactly at `path`, from /proc/self/mountinfo.
struct MountEntry {
  std::string type;  // "" if nothing is mounted there
  std::string dev;   // "major:minor"
};

MountEntry MountedAt(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  MountEntry found;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, opts, f;
    fields >> id >> parent >> dev >> root >> point >> opts;
    while (fields >> f && f != "-") {}
    std::string fstype;
    fields >> fstype;
    // The last mount on a path is the visible one.
    if (Unoctal(point) == path) found = {fstype, dev};
  }
  return found;
}

std::string MountedType(const std::string& path) { return MountedAt(path).type; }

// The kernel reads ahead only 128 KiB on a FUSE mount, so a sequential `cat` of a large
// artifact arrives as 128 KiB requests with little read-ahead on the backing file.
// 1 MiB (the largest request zenfs takes) doubled cold and first-read throughput here.
// Writable by root only; others keep the default, with a note in the debug log.
void RaiseReadahead(const std::string& mountpoint, Logger& log) {
  const MountEntry m = MountedAt(mountpoint);
  if (m.type != "fuse.zenfs" || m.dev.empty()) return;
  std::ofstream ra("/sys/class/bdi/" + m.dev + "/read_ahead_kb");
  ra << 1024 << std::flush;
  if (!ra) log.Log(Logger::Level::kDebug, "read-ahead stays at the kernel's default (no access to /sys/class/bdi)");
}

Status LazyUnmount(const std::string& path) {
  if (geteuid() == 0) {
    if (umount2(path.c_str(), MNT_DETACH) == 0) return Status::Ok();
  }
  const char* argv[] = {"fusermount3", "-uz", path.c_str(), nullptr};
  pid_t pid;
  if (posix_spawnp(&pid, "fusermount3", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return Status::IOError("cannot run fusermount3");
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return Status::Ok();
  return Status::IOError("fusermount3 -uz " + path + " failed");
}

// A directory nothing is mounted on; a dead zenfs mount there is lazily unmounted first.
// statfs, not stat: a dead FUSE mount may still answer stat from the kernel's attribute
// cache, but statfs always reaches the daemon and fails with ENOTCONN.
Result<std::string> CheckMountpoint(const std::string& mp, Logger& log) {
  struct statvfs vfs;
  if (statvfs(mp.c_str(), &vfs) != 0) {
    if (errno == ENOTCONN) {
      char buf[PATH_MAX];
      const std::string abs = realpath(mp.c_str(), buf) != nullptr ? buf : mp;
      const std::string type = MountedType(abs);
      if (type != "fuse.zenfs") {
        return Status::InvalidArgument(mp + ": a dead mount of another filesystem (" + type + ") is there");
      }
      log.Warning("replacing the dead zenfs mount on " + mp);
      Status s = LazyUnmount(abs);
      if (!s.ok()) return s;
      if (statvfs(mp.c_str(), &vfs) != 0) {
        return Status::InvalidArgument(mp + ": " + std::strerror(errno));
      }
    } else if (errno == ENOENT) {
      return Status::NotFound("mountpoint " + mp + " does not exist");
    } else {
      return Status::InvalidArgument("mountpoint " + mp + ": " + std::strerror(errno));
    }
  }
  struct stat sb;
  if (stat(mp.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    return Status::InvalidArgument("mountpoint " + mp + " is not a directory");
  }
  char buf[PATH_MAX];
  if (realpath(mp.c_str(), buf) == nullptr) {
    return Status::InvalidArgument("mountpoint " + mp + ": " + std::strerror(errno));
  }
  const std::string abs = buf;
  const std::string type = MountedType(abs);
  if (!type.empty()) {
    return Status::InvalidArgument("mountpoint " + mp + " is already mounted (" + type + ")");
  }
  return abs;
}

// Splits -o lists; takes uid=/gid=/file_mode=/dir_mode= for zenfs (libfuse's low-level API
// ignores them) and adds default_permissions to allow_other, so the kernel checks the
// modes of fs/permissions.h; on a shared mount Tree::Open checks them again.
Status ParseFuseOptions(const std::vector<std::string>& in, std::vector<std::string>* fuse_opts,
                        TreeOptions* tree) {
  bool allow_other = false, default_permissions = false;
  PermissionOptions& perms = tree->perms;
  for (const std::string& list : in) {
    std::stringstream ss(list);
    std::string opt;
    while (std::getline(ss, opt, ',')) {
      if (opt.empty()) continue;
      auto number = [&](const std::string& v, unsigned* out) {
        char* end = nullptr;
        errno = 0;
        const unsigned long n = std::strtoul(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || errno != 0 || n > UINT_MAX - 1) return false;
        *out = static_cast<unsigned>(n);
        return true;
      };
      unsigned id = 0;
      if (opt.rfind("uid=", 0) == 0) {
        if (!number(opt.substr(4), &id)) return Status::InvalidArgument("-o " + opt + ": not a user id");
        perms.uid_override = id;
        continue;
      }
      if (opt.rfind("gid=", 0) == 0) {
        if (!number(opt.substr(4), &id)) return Status::InvalidArgument("-o " + opt + ": not a group id");
        perms.gid_override = id;
        continue;
      }
      if (opt.rfind("file_mode=", 0) == 0 || opt.rfind("dir_mode=", 0) == 0) {
        const bool file = opt[0] == 'f';
        auto mode = ParseMode(opt.substr(opt.find('=') + 1));
        if (!mode.ok()) return Status::InvalidArgument("-o " + opt + ": " + mode.status().message());
        (file ? perms.file_mode : perms.dir_mode) = *mode;
        continue;
      }
      if (opt == "allow_other") allow_other = true;
      if (opt == "allow_other" || opt == "allow_root") perms.check_callers = true;
      if (opt == "default_permissions") default_permissions = true;
      if (opt.rfind("fsname=", 0) == 0 || opt.rfind("subtype=", 0) == 0) continue;
      fuse_opts->push_back(opt);
    }
  }
  if (allow_other && !default_permissions) fuse_opts->push_back("default_permissions");
  // Never device nodes or set-user-id programs from a store, whatever -o says (mount.fuse3
  // adds dev,suid for root): a shared node's users would run what a store writer put there.
  fuse_opts->push_back("nosuid");
  fuse_opts->push_back("nodev");
  // A read-only kernel mount: writes fail with EROFS before they reach zenfs, and reading
  // a directory does not mark its atime stale (which would cost a GETATTR per folder on
  // every walk, defeating the attribute cache).
  fuse_opts->push_back("ro");
  fuse_opts->push_back("fsname=zenfs");
  fuse_opts->push_back("subtype=zenfs");
  return Status::Ok();
}

// `path` made absolute against the working directory, when it names something on disk
// (store URLs and missing paths stay as given): the daemon leaves its caller's directory.
std::string AbsoluteIfLocal(const std::string& path) {
  struct stat sb;
  if (path.empty() || path[0] == '/' || stat(path.c_str(), &sb) != 0) return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// What a daemon owes the system it runs in. It leaves its caller's working directory
// (which could otherwise never be unmounted while it runs), so "/" is its directory. A
// umask of 027: nothing zenfs may create (cache files, under a 0700 folder anyway) is
// ever world-readable, while the admin group may read it. Every descriptor it inherited
// beyond stdin/stdout/stderr and `keep` is closed: a caller's open file, socket or lock
// must not live as long as the mount.
void BecomeDaemon(int keep) {
  if (chdir("/") != 0) {
    // "/" always exists; nothing to do but carry on in the old directory.
  }
  umask(027);
  if (keep > 3) close_range(3, static_cast<unsigned>(keep) - 1, 0);
  close_range(static_cast<unsigned>(std::max(keep, 2)) + 1, ~0U, 0);
}

// Type=notify readiness for systemd (sd_notify(3)): READY=1 once the mount answers, which
// is only after the session loop runs, so a thread of its own waits for a statfs of the
// mountpoint (never cached: it always reaches the daemon) to succeed; STOPPING=1 when the
// mount goes away. Does nothing without NOTIFY_SOCKET. Start and Stop: one thread.
class ReadyNotifier {
 public:
  explicit ReadyNotifier(std::string mountpoint) : mountpoint_(std::move(mountpoint)) {}
  ~ReadyNotifier() { Stop(); }
  ReadyNotifier(const ReadyNotifier&) = delete;
  ReadyNotifier& operator=(const ReadyNotifier&) = delete;

  void Start() {
    if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
    waiter_ = std::thread([this] {
      while (!stop_.load()) {
        struct statvfs vfs;
        if (statvfs(mountpoint_.c_str(), &vfs) == 0 && MountedType(mountpoint_) == "fuse.zenfs") {
          sd_notifyf(0, "READY=1\nSTATUS=serving on %s", mountpoint_.c_str());
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  // Once the mount is gone (the session loop returned).
  void Stop() {
    if (!waiter_.joinable()) return;
    stop_.store(true);
    waiter_.join();
    sd_notify(0, "STOPPING=1");
  }

 private:
  std::string mountpoint_;
  std::atomic<bool> stop_{false};
  std::thread waiter_;
};

}  // namespace

Result<std::shared_ptr<S3Client>> MakeS3Client(const S3Args& a, const std::string& endpoint) {
  AwsSetup aws = MakeAws(a);
  S3SourceOptions o;
  o.endpoint = endpoint.empty() ? a.endpoint : endpoint;
  o.region = a.region;
  o.default_endpoint = aws.default_endpoint;
  o.default_region = aws.default_region;
  auto e = ChooseS3Endpoint(o, {});
  if (!e.ok()) return e.status();
  return std::make_shared<S3Client>(aws.http, *e, aws.credentials);
}

int MountCommand(const MountArgs& given) {
  MountArgs args = given;
  if (args.store) args.store = AbsoluteIfLocal(*args.store);
  args.mountpoint = AbsoluteIfLocal(args.mountpoint);
  if (!args.password_file.empty()) args.password_file = AbsoluteIfLocal(args.password_file);
  if (!args.api_key_file.empty()) args.api_key_file = AbsoluteIfLocal(args.api_key_file);
  if (!args.ca_file.empty()) args.ca_file = AbsoluteIfLocal(args.ca_file);
  // A MySQL URL's relative TLS files, too, are the caller's folder's (found in OpenStore).
  char cwd[PATH_MAX];
  const std::string caller_dir = getcwd(cwd, sizeof cwd) != nullptr ? cwd : "";
  // Two malloc arenas, not one per worker thread: the daemon's memory is the store's
  // picture plus small, short-lived request buffers, and per-thread arenas kept tens of
  // MiB of freed request memory each after a walk.
  mallopt(M_ARENA_MAX, 2);
  Logger::Level level = Logger::Level::kInfo;
  Logger::ParseLevel(args.log_level, &level);
  Logger console(level, false);

  TreeOptions topts;
  topts.perms.uid = getuid();
  topts.perms.gid = getgid();
  topts.refresh_seconds = args.refresh_seconds;
  ServeOptions sopts;
  sopts.debug = args.debug;
  sopts.max_threads = args.threads;
  Status s = ParseFuseOptions(args.options, &sopts.fuse_options, &topts);
  if (!s.ok()) {
    std::cerr << console.ErrorPrefix() << "zenfs mount: " << s.message() << "\n";
    return kExitUsage;
  }
  // Reads the store and checks the mountpoint: in this process when in the foreground,
  // in the daemon otherwise (the parent never holds the store's picture in memory).
  std::optional<OpenedStore> store;
  auto log_target = std::make_shared<std::atomic<Logger*>>(&console);
  auto prepare = [&](int* code) -> Status {
    // Only the pipelines (and each one's first run) before mounting, so the root answers
    // at once whatever the store's size; the tree reads the runs, then steps, outputs and
    // logs right after, in the background.
    const std::vector<std::string>& fo = sopts.fuse_options;
    const bool shared = std::find(fo.begin(), fo.end(), "allow_other") != fo.end() ||
                        std::find(fo.begin(), fo.end(), "allow_root") != fo.end();
    auto opened = OpenStore(args.store,
                            StoreArgs{args.artifact_roots, args.project, args.password_file, args.api_key_file,
                                      args.insecure, args.ca_file, caller_dir, args.s3, args.rest_timeout_seconds},
                            RowScope::kPipelines, shared, log_target, code);
    if (!opened.ok()) return opened.status();
    store = std::move(*opened);
    sopts.max_threads = args.threads + store->remote_workers;
    topts.store_path = store->shown;
    // The tree's own nodes are as readable as the store itself (SPEC §4). A database server
    // has no file: whoever mounts it decides, with allow_other, who may read it.
    topts.perms.store_world_readable = !store->file || WorldReadable(topts.store_path);
    topts.render_ahead = store->file;
    auto mp = CheckMountpoint(args.mountpoint, console);
    if (!mp.ok()) {
      *code = kExitMount;
      return mp.status();
    }
    sopts.mountpoint = *mp;
    return Status::Ok();
  };

  if (args.foreground) {
    int code = kExitOk;
    s = prepare(&code);
    if (!s.ok()) {
      std::cerr << console.ErrorPrefix() << "zenfs mount: " << s.message() << "\n";
      return code;
    }
    Tree tree(*store->catalog, *store->artifacts, console, topts, std::move(store->snapshot));
    bool mounted = false;
    ReadyNotifier ready(sopts.mountpoint);
    s = ServeMount(tree, console, sopts, [&](const Status& m) {
      mounted = m.ok();
      if (!m.ok()) return;
      RaiseReadahead(sopts.mountpoint, console);
      console.Info("serving " + topts.store_path + " on " + sopts.mountpoint);
      ready.Start();
    });
    ready.Stop();
    if (!s.ok()) {
      std::cerr << console.ErrorPrefix() << "zenfs mount: " << s.message() << "\n";
      return mounted ? kExitMount : (s.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitMount);
    }
    console.Info("unmounted " + sopts.mountpoint);
    return kExitOk;
  }

  // Background: the child reads the store, mounts and serves; the parent returns once the
  // mount answers, with the child's exit code and message if it could not.
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    std::cerr << "zenfs mount: pipe: " << std::strerror(errno) << "\n";
    return kExitMount;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::cerr << "zenfs mount: fork: " << std::strerror(errno) << "\n";
    return kExitMount;
  }
  if (pid > 0) {
    close(pipefd[1]);
    char result = 0;
    std::string message;
    char c;
    const bool got = read(pipefd[0], &result, 1) == 1;
    while (read(pipefd[0], &c, 1) == 1) message += c;
    close(pipefd[0]);
    if (!got || result != 0) {
      std::cerr << "zenfs mount: " << (message.empty() ? "the daemon died while mounting" : message) << "\n";
      int st = 0;
      waitpid(pid, &st, 0);
      return got ? result : kExitMount;
    }
    // The kernel mount exists; a statfs (never cached) proves the daemon answers.
    struct statvfs vfs;
    if (statvfs(args.mountpoint.c_str(), &vfs) != 0) {
      std::cerr << "zenfs mount: the mount does not answer: " << std::strerror(errno) << "\n";
      return kExitMount;
    }
    return kExitOk;
  }
  close(pipefd[0]);
  setsid();
  BecomeDaemon(pipefd[1]);
  auto report = [&](char result, const std::string& msg) {
    (void)!write(pipefd[1], &result, 1);
    (void)!write(pipefd[1], msg.data(), msg.size());
    close(pipefd[1]);
  };
  int code = kExitOk;
  s = prepare(&code);
  if (!s.ok()) {
    report(static_cast<char>(code), s.message());
    _exit(code);
  }
  Logger daemon_log(level, true);
  log_target->store(&daemon_log);
  Tree tree(*store->catalog, *store->artifacts, daemon_log, topts, std::move(store->snapshot));
  s = ServeMount(tree, daemon_log, sopts, [&](const Status& m) {
    if (m.ok()) RaiseReadahead(sopts.mountpoint, daemon_log);
    const char result = m.ok() ? 0 : static_cast<char>(m.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitMount);
    report(result, m.ok() ? "" : m.message());
    if (m.ok()) {
      // Detach from the terminal only now, so mount errors still reach the user.
      const int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 2) close(devnull);
      }
      daemon_log.Info("serving " + topts.store_path + " on " + sopts.mountpoint);
    }
  });
  if (!s.ok()) daemon_log.Error(s.ToString());
  _exit(s.ok() ? kExitOk : kExitMount);
}

int UmountCommand(const std::string& mountpoint) {
  char buf[PATH_MAX];
  const std::string abs = realpath(mountpoint.c_str(), buf) != nullptr ? buf : mountpoint;
  const std::string type = MountedType(abs);
  if (type.empty()) {
    std::cerr << "zenfs umount: " << mountpoint << " is not mounted\n";
    return kExitMount;
  }
  if (geteuid() == 0) {
    if (umount2(abs.c_str(), 0) == 0) return kExitOk;
    // A dead daemon's mount (ENOTCONN) or a busy one: detach it.
    if (umount2(abs.c_str(), MNT_DETACH) == 0) return kExitOk;
    std::cerr << "zenfs umount: " << mountpoint << ": " << std::strerror(errno) << "\n";
    return kExitMount;
  }
  const char* argv[] = {"fusermount3", "-u", abs.c_str(), nullptr};
  pid_t pid;
  if (posix_spawnp(&pid, "fusermount3", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    std::cerr << "zenfs umount: cannot run fusermount3\n";
    return kExitMount;
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return kExitOk;
  Status s = LazyUnmount(abs);
  if (s.ok()) return kExitOk;
  std::cerr << "zenfs umount: " << s.message() << "\n";
  return kExitMount;
}

namespace {

void Walk(Tree& tree, std::uint64_t ino, const std::string& path, std::ostream& out, int* errors) {
  auto listing = tree.OpenDir(ino);
  if (!listing.ok()) {
    std::cerr << "zenfs ls: " << path << ": " << listing.status().ToString() << "\n";
    ++*errors;
    return;
  }
  for (const Listing::Item& item : (*listing)->items) {
    const std::string child = path.empty() ? item.name : path + "/" + item.name;
    out << child << "\n";
    if (item.type == S_IFDIR) {
      auto e = tree.Lookup(ino, item.name);
      if (!e.ok()) {
        std::cerr << "zenfs ls: " << child << ": " << e.status().ToString() << "\n";
        ++*errors;
        continue;
      }
      Walk(tree, e->attr.ino, child, out, errors);
      tree.Forget(e->attr.ino, 1);
    }
  }
}

}  // namespace

int LsCommand(const std::optional<std::string>& store, const std::string& path, const StoreArgs& args) {
  int code = kExitOk;
  // Read by the user who runs it: a private reader. It reads no bytes: no cache.
  StoreArgs a = args;
  a.s3.no_cache = true;
  auto opened = OpenStore(store, a, RowScope::kAll, false, nullptr, &code);
  if (!opened.ok()) {
    std::cerr << "zenfs ls: " << opened.status().message() << "\n";
    return code;
  }
  Logger log(Logger::Level::kWarning, false);
  TreeOptions topts;
  topts.store_path = opened->shown;
  topts.refresh_seconds = 1e9;  // one consistent picture for the whole listing
  Tree tree(*opened->catalog, *opened->artifacts, log, topts, opened->snapshot);
  std::uint64_t ino = kRootIno;
  std::string shown;
  std::stringstream parts(path);
  std::string part;
  mode_t mode = S_IFDIR;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == ".") continue;
    auto e = tree.Lookup(ino, part);
    if (!e.ok()) {
      std::cerr << "zenfs ls: " << path << ": " << e.status().ToString() << "\n";
      return kExitUsage;
    }
    ino = e->attr.ino;
    mode = e->attr.mode & S_IFMT;
    shown = shown.empty() ? part : shown + "/" + part;
  }
  int errors = 0;
  if (!shown.empty()) std::cout << shown << "\n";
  if (mode == S_IFDIR) Walk(tree, ino, shown, std::cout, &errors);
  return errors == 0 ? kExitOk : kExitStore;
}

}  // namespace zenfs
