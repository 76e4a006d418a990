#include "store/uri_resolver.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace zenfs {

namespace {

// Path components of `path`: empty segments (repeated or trailing slashes) and "."
// segments dropped; ".." kept, for the caller to refuse.
std::vector<std::string_view> Components(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t slash = path.find('/', i);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view seg = path.substr(i, end - i);
    if (!seg.empty() && seg != ".") out.push_back(seg);
    i = end + 1;
  }
  return out;
}

// "/" + comps[begin, end) joined by "/"; "/" for none.
std::string JoinAbsolute(const std::vector<std::string_view>& comps, std::size_t begin,
                         std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    out += '/';
    out.append(comps[i]);
  }
  return out.empty() ? "/" : out;
}

// `base` (trailing slashes ignored) + the components comps[begin, end).
std::string Append(std::string_view base, const std::vector<std::string_view>& comps,
                   std::size_t begin) {
  while (base.size() > 1 && base.back() == '/') base.remove_suffix(1);
  std::string out(base == "/" ? std::string_view() : base);
  for (std::size_t i = begin; i < comps.size(); ++i) {
    out += '/';
    out.append(comps[i]);
  }
  return out.empty() ? "/" : out;
}

// True if `prefix` is a whole-component prefix of `comps`.
bool HasPrefix(const std::vector<std::string_view>& comps,
               const std::vector<std::string_view>& prefix) {
  if (prefix.size() > comps.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (comps[i] != prefix[i]) return false;
  }
  return true;
}

bool HasDotDot(const std::vector<std::string_view>& comps) {
  for (const std::string_view c : comps) {
    if (c == "..") return true;
  }
  return false;
}

// A URI as it may appear in a message: NUL bytes shown as "\0" (a message is a C string
// in more than one place, e.g. syslog).
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out;
}

// strerror, thread-safe. Handles both the GNU and the XSI strerror_r.
[[maybe_unused]] const char* PickError(const char* gnu_result, const char*) { return gnu_result; }
[[maybe_unused]] const char* PickError(int, const char* buf) { return buf; }
std::string ErrnoText(int err) {
  char buf[256] = {0};
  return PickError(strerror_r(err, buf, sizeof buf), buf);
}

// realpath(3) of `path` (which must exist), or the errno that explains why not.
struct RealPath {
  std::string path;
  int err = 0;
};

RealPath Real(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> p(realpath(path.c_str(), nullptr), &std::free);
  if (p == nullptr) return {std::string(), errno};
  return {std::string(p.get()), 0};
}

// True if real path `path` is `root` or lies below it (component boundaries).
bool IsWithin(std::string_view path, std::string_view root) {
  if (root == "/") return true;
  if (path.size() < root.size() || path.substr(0, root.size()) != root) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

// If no component of `path` below `real_root` is a symlink, `path` is its own real path
// and lies inside the root by construction (its components hold no ".."): found with one
// lstat per component instead of realpath(3)'s readlink of every component from "/".
// nullopt when a symlink (or anything unusual) is on the way: the caller resolves it the
// slow way. `path` must be `root` + "/" + components, with `root` the unresolved root.
std::optional<RealPath> WalkPlain(const std::string& path, const std::string& root,
                                  const std::string& real_root) {
  if (path.size() < root.size() || path.compare(0, root.size(), root) != 0) return std::nullopt;
  if (path.size() > root.size() && path[root.size()] != '/' && root != "/") return std::nullopt;
  std::string real = real_root == "/" ? std::string() : real_root;
  for (const std::string_view c : Components(std::string_view(path).substr(root.size()))) {
    if (c == "..") return std::nullopt;
    real += '/';
    real.append(c);
    struct stat sb;
    if (lstat(real.c_str(), &sb) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return RealPath{std::string(), errno};
      return std::nullopt;
    }
    if (S_ISLNK(sb.st_mode)) return std::nullopt;
  }
  if (real.empty()) real = "/";
  return RealPath{real, 0};
}

}  // namespace

// Real paths of artifact store roots. Roots are few and do not move while mounted, so
// each is resolved once. A root that cannot be resolved (a store written on another
// machine: every URI is tried where it was written first) is remembered for a few
// seconds only, since it may appear later.
class UriResolver::RootCache {
 public:
  RealPath Get(const std::string& root) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = real_.find(root);
      if (it != real_.end() && (it->second.err == 0 || now < it->second.until)) {
        return {it->second.path, it->second.err};
      }
    }
    const RealPath r = Real(root);
    std::lock_guard<std::mutex> lock(mu_);
    if (real_.size() >= kCap) real_.clear();
    real_[root] = Entry{r.path, r.err, now + kRetry};
    return r;
  }

 private:
  struct Entry {
    std::string path;
    int err = 0;
    std::chrono::steady_clock::time_point until;  // when a failure is tried again
  };
  static constexpr std::size_t kCap = 4096;
  static constexpr std::chrono::seconds kRetry{5};
  std::mutex mu_;
  std::unordered_map<std::string, Entry> real_;
};

namespace {

// Checks that `path` exists and stays inside `root`, and returns both as real paths
// (symlinks followed). `what` is how messages name the thing asked for ("URI /x");
// `show_path` adds the path looked for to a not-found message, when it differs from that.
// `root` is resolved through `roots`, or taken as real already when `roots` is null.
Result<ResolvedPath> Check(const std::string& what, const std::string& path,
                           const std::string& root, bool show_path,
                           UriResolver::RootCache* roots) {
  auto not_found = [&]() -> Status {
    if (!show_path) return Status::NotFound(what + " does not exist");
    return Status::NotFound(what + " does not exist (looked for " + Printable(path) + ")");
  };
  const RealPath real_root = roots != nullptr ? roots->Get(root) : RealPath{root, 0};
  if (real_root.err == ENOENT || real_root.err == ENOTDIR) return not_found();
  if (real_root.err != 0) {
    return Status::IOError(what + ": cannot resolve its root " + Printable(root) + ": " +
                           ErrnoText(real_root.err));
  }
  std::optional<RealPath> real = WalkPlain(path, root, real_root.path);
  if (!real) real = Real(path);
  if (real->err == ENOENT || real->err == ENOTDIR) return not_found();
  if (real->err != 0) {
    return Status::IOError(what + ": cannot resolve " + Printable(path) + ": " +
                           ErrnoText(real->err));
  }
  if (!IsWithin(real->path, real_root.path)) {
    return Status::InvalidArgument(what + " resolves to " + Printable(real->path) +
                                   ", outside its artifact store root " +
                                   Printable(real_root.path));
  }
  return ResolvedPath{std::move(real->path), real_root.path};
}

// Common refusals for a path from the store or from the user: NUL bytes and "..".
std::optional<Status> Refuse(const std::string& what, std::string_view path,
                             const std::vector<std::string_view>& comps) {
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(what + " contains a NUL byte");
  }
  if (HasDotDot(comps)) return Status::InvalidArgument(what + " contains a \"..\" segment");
  return std::nullopt;
}

}  // namespace

Result<ArtifactRootRemap> ParseRemap(std::string_view text) {
  // Both sides are absolute, so the separator is the first "=" followed by "/": an "="
  // inside OLD is fine as long as no "/" follows it ("/data=v2/x=/mnt/x" maps
  // "/data=v2/x"). No rule can tell every such path apart; this one is at least stated.
  const std::string shown = "--artifact-root " + Printable(text);
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(shown + ": contains a NUL byte");
  }
  const std::size_t eq = text.find("=/");
  if (eq == std::string_view::npos || eq == 0 || text[0] != '/') {
    return Status::InvalidArgument(shown + ": expected OLD=NEW with two absolute paths");
  }
  // A store URI with ".." is refused, so an OLD with one could never match.
  if (HasDotDot(Components(text.substr(0, eq)))) {
    return Status::InvalidArgument(shown + ": OLD contains a \"..\" segment");
  }
  return ArtifactRootRemap{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

UriResolver::UriResolver(std::vector<ArtifactRootRemap> remaps, std::string local_stores_dir)
    : remaps_(std::move(remaps)),
      local_stores_dir_(std::move(local_stores_dir)),
      roots_(std::make_shared<RootCache>()) {}

Result<ResolvedPath> UriResolver::Resolve(std::string_view uri,
                                          std::string_view store_root) const {
  const std::string what = "URI " + Printable(uri);
  if (uri.empty() || uri[0] != '/') {
    return Status::InvalidArgument(what + " is not an absolute path");
  }
  const std::vector<std::string_view> comps = Components(uri);
  if (std::optional<Status> refused = Refuse(what, uri, comps)) return *refused;
  const std::string as_is = JoinAbsolute(comps, 0, comps.size());

  // 1. The first remap whose OLD is a prefix decides, found or not.
  for (const ArtifactRootRemap& remap : remaps_) {
    const std::vector<std::string_view> old_comps = Components(remap.old_prefix);
    if (!HasPrefix(comps, old_comps)) continue;
    const std::string root = Append(remap.new_prefix, {}, 0);
    return Check(what, Append(root, comps, old_comps.size()), root, true, roots_.get());
  }

  // 2. ".../local_stores/<uuid>/...": as is if it is there, else under our own store.
  for (std::size_t i = comps.size(); i-- > 0;) {
    if (comps[i] != "local_stores" || i + 1 >= comps.size()) continue;
    const std::string root = JoinAbsolute(comps, 0, i + 2);
    // Any failure of the path as is (missing, or a directory of another user's home
    // that this user may not enter) falls through to the relocated path.
    Result<ResolvedPath> here = Check(what, as_is, root, false, roots_.get());
    if (here.ok() || here.status().code() == Status::Code::kInvalidArgument ||
        local_stores_dir_.empty()) {
      return here;
    }
    const std::vector<std::string_view> uuid = {comps[i + 1]};
    const std::string moved_root = Append(local_stores_dir_, uuid, 0);
    const std::string moved = Append(moved_root, comps, i + 2);
    Result<ResolvedPath> there = Check(what, moved, moved_root, true, roots_.get());
    if (there.ok() || there.status().code() != Status::Code::kNotFound) return there;
    return Status::NotFound(what + " does not exist (looked for " + Printable(as_is) +
                            " and " + Printable(moved) + ")");
  }

  // 3. Under the artifact store's configured root, or on its own.
  if (!store_root.empty() && store_root[0] == '/' &&
      store_root.find('\0') == std::string_view::npos &&
      HasPrefix(comps, Components(store_root))) {
    return Check(what, as_is, Append(store_root, {}, 0), false, roots_.get());
  }
  return Check(what, as_is, as_is, false, roots_.get());
}

Result<std::string> UriResolver::Contained(const ResolvedPath& base, std::string_view rel) {
  const std::string what = "file " + Printable(rel) + " of " + Printable(base.path);
  if (!rel.empty() && rel[0] == '/') {
    return Status::InvalidArgument(what + " is not a relative path");
  }
  const std::vector<std::string_view> comps = Components(rel);
  if (std::optional<Status> refused = Refuse(what, rel, comps)) return *refused;
  const std::string path = Append(base.path, comps, 0);
  // `base` is a real path inside its root (Resolve made it so), so when nothing below it
  // is a symlink, the path is real and inside the root without walking `base` again.
  if (std::optional<RealPath> real = WalkPlain(path, base.path, base.path)) {
    if (real->err == ENOENT || real->err == ENOTDIR) return Status::NotFound(what + " does not exist");
    if (real->err == 0) return std::move(real->path);
  }
  Result<ResolvedPath> checked = Check(what, path, base.root, false, nullptr);
  if (!checked.ok()) return checked.status();
  return std::move(checked->path);
}

}  // namespace zenfs
