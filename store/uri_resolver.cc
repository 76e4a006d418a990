#include "store/uri_resolver.h"

#include <optional>
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

// "/" + comps joined by "/"; "/" for none.
std::string JoinAbsolute(const std::vector<std::string_view>& comps) {
  std::string out;
  for (std::size_t i = 0; i < comps.size(); ++i) {
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

// Common refusals for a path from the store or from the user: NUL bytes and "..".
std::optional<Status> Refuse(const std::string& what, std::string_view path,
                             const std::vector<std::string_view>& comps) {
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(what + " contains a NUL byte");
  }
  if (HasDotDot(comps)) return Status::InvalidArgument(what + " contains a \"..\" segment");
  return std::nullopt;
}

// comps[begin, end) joined by "/" ("" for none).
std::string JoinRelative(const std::vector<std::string_view>& comps, std::size_t begin) {
  std::string out;
  for (std::size_t i = begin; i < comps.size(); ++i) {
    if (!out.empty()) out += '/';
    out.append(comps[i]);
  }
  return out;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

bool IsUuidShaped(std::string_view name) {
  if (name.size() == 32) {
    for (const char c : name) {
      if (!IsHex(c)) return false;
    }
    return true;
  }
  if (name.size() != 36) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? name[i] != '-' : !IsHex(name[i])) return false;
  }
  return true;
}

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

UriResolver::UriResolver(std::vector<ArtifactRootRemap> remaps, std::string local_stores_dir,
                         bool shared)
    : remaps_(std::move(remaps)), local_stores_dir_(std::move(local_stores_dir)), shared_(shared) {}

Result<std::vector<RootCandidate>> UriResolver::Candidates(std::string_view uri,
                                                           std::string_view component_path) const {
  const std::string what = "URI " + Printable(uri);
  if (uri.empty() || uri[0] != '/') {
    // Covers relative paths and every "scheme://" form (file://host/..., s3://...): only
    // plain absolute paths name local files.
    return Status::InvalidArgument(what + " is not an absolute local path");
  }
  const std::vector<std::string_view> comps = Components(uri);
  if (std::optional<Status> refused = Refuse(what, uri, comps)) return *refused;

  // 1. The first remap whose OLD is a prefix decides alone, found or not.
  for (const ArtifactRootRemap& remap : remaps_) {
    const std::vector<std::string_view> old_comps = Components(remap.old_prefix);
    if (!HasPrefix(comps, old_comps)) continue;
    const std::vector<std::string_view> new_comps = Components(remap.new_prefix);
    return std::vector<RootCandidate>{
        {JoinAbsolute(new_comps), JoinRelative(comps, old_comps.size()), true, ""}};
  }

  std::vector<RootCandidate> out;
  // 2. ".../local_stores/<uuid>/...": under the mounted store's own local_stores folder,
  // wherever the URI says the store was when it was written. The <uuid> must look like
  // one: "default_zen_store" (the database's folder), "." or a name chosen to match a
  // symbolic link the writer planted are never roots.
  for (std::size_t i = comps.size(); i-- > 0;) {
    if (comps[i] != "local_stores" || i + 1 >= comps.size()) continue;
    if (!IsUuidShaped(comps[i + 1])) {
      return Status::InvalidArgument(what + ": local_stores/" + Printable(comps[i + 1]) +
                                     " is not an artifact store folder (not a UUID)");
    }
    if (!local_stores_dir_.empty()) {
      std::vector<std::string_view> root = Components(local_stores_dir_);
      root.push_back(comps[i + 1]);
      out.push_back({JoinAbsolute(root), JoinRelative(comps, i + 2), false, std::string(comps[i + 1])});
    }
    break;
  }

  // 3. The artifact store component's own path: the store's word, trusted only when
  // nobody but the mounting user reads the mount.
  if (!shared_ && !component_path.empty() && component_path[0] == '/' &&
      component_path.find('\0') == std::string_view::npos) {
    const std::vector<std::string_view> root = Components(component_path);
    if (!HasDotDot(root) && HasPrefix(comps, root)) {
      out.push_back({JoinAbsolute(root), JoinRelative(comps, root.size()), false, ""});
    }
  }
  if (out.empty()) {
    return Status::InvalidArgument(
        what + " is not under a trusted artifact root (the mounted store's local_stores/<uuid>"
               " folders, --artifact-root" +
        std::string(shared_ ? "; a component's own path counts only on a private mount)"
                            : " or its artifact store's path)"));
  }
  return out;
}

Result<std::string> UriResolver::CleanRelative(std::string_view rel) {
  const std::string what = "path " + Printable(rel);
  if (!rel.empty() && rel[0] == '/') return Status::InvalidArgument(what + " is not relative");
  const std::vector<std::string_view> comps = Components(rel);
  if (std::optional<Status> refused = Refuse(what, rel, comps)) return *refused;
  return JoinRelative(comps, 0);
}

}  // namespace zenfs
