// Decides which trusted roots an artifact or log URI from the store may be read under
// (SPEC §1). Pure: no file system access, so nothing here can be raced; the artifact
// source opens every path beneath a descriptor of its root (store/local_artifact_source.h).
// Holds only options after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/status.h"

namespace zenfs {

struct ArtifactRootRemap {
  std::string old_prefix;  // as written in the store's URIs
  std::string new_prefix;  // where those files are on this machine
};

// Parses "OLD=NEW" (both non-empty, absolute paths). InvalidArgument otherwise.
Result<ArtifactRootRemap> ParseRemap(std::string_view text);

// One place a URI may be found: `rel` beneath the trusted folder `root`.
struct RootCandidate {
  std::string root;  // absolute, no trailing slash (except "/"), no "..", no NUL
  std::string rel;   // components joined by "/", "" for the root itself; no "..", no NUL
  // The admin named this root (--artifact-root NEW): it may itself be a symbolic link.
  // Roots taken from the store (local_stores/<uuid>, a component path) may not.
  bool admin = false;
  // For a root in the mounted store's local_stores folder: its name there (the <uuid>),
  // to be opened beneath that folder as it was when the mount started, never through
  // `root` (a folder above it may have become a link since).
  std::string store_folder;
};

// True for a UUID as ZenML writes it in folder names: 8-4-4-4-12 hex digits with dashes,
// or the same 32 digits without.
bool IsUuidShaped(std::string_view name);

class UriResolver {
 public:
  // `local_stores_dir` is the mounted store's own local_stores/ folder ("" if the store
  // has none: then no local_stores/<uuid> root exists). `shared` is true for a mount other
  // users read (allow_other / allow_root): then the store's own word (a component's path)
  // never makes a root.
  UriResolver(std::vector<ArtifactRootRemap> remaps, std::string local_stores_dir, bool shared);

  // The trusted roots `uri` may be read under, in the order to try them:
  //  1. the first remap whose OLD is a whole-component prefix of the URI decides alone:
  //     NEW, with the rest of the URI beneath it;
  //  2. else, for a URI whose last "local_stores/<x>" has a UUID-shaped <x>: the mounted
  //     store's local_stores_dir/<x>, with the rest beneath it (a non-UUID <x>, such as
  //     default_zen_store, the database's own folder, refuses the URI);
  //  3. and, on a private mount only, the artifact store component's `component_path`
  //     when the URI lies under it.
  // InvalidArgument (a message naming the URI and the reason, fit for meta.json) when no
  // root applies, or the URI is not an absolute local path, holds a ".." segment or NUL.
  Result<std::vector<RootCandidate>> Candidates(std::string_view uri,
                                                std::string_view component_path = {}) const;

  bool shared() const { return shared_; }
  // The mounted store's local_stores folder, "" if none.
  const std::string& local_stores_dir() const { return local_stores_dir_; }

  // Checks a path below an artifact, as the tree asks for it ("a/b.txt"): relative, no
  // ".." segment, no NUL. Returns it normalised (empty and "." segments dropped).
  static Result<std::string> CleanRelative(std::string_view rel);

 private:
  std::vector<ArtifactRootRemap> remaps_;
  std::string local_stores_dir_;
  bool shared_;
};

}  // namespace zenfs
