// Maps artifact and log URIs from the store onto local paths (SPEC §1). Holds only
// options after construction; thread-safe.
#pragma once

#include <memory>
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

struct ResolvedPath {
  std::string path;  // existing local path, inside root
  std::string root;  // the artifact store root the path was resolved against
};

class UriResolver {
 public:
  // `local_stores_dir` is the mounted store's own local_stores/ folder (may be empty).
  UriResolver(std::vector<ArtifactRootRemap> remaps, std::string local_stores_dir);

  // Resolves a URI from the store:
  //  1. the first remap whose OLD is a path prefix of the URI rewrites it (root = NEW);
  //  2. else a URI under "<anything>/local_stores/<uuid>/..." is used as is if it exists
  //     (root = ".../local_stores/<uuid>"), otherwise looked up under
  //     local_stores_dir/<uuid>/... (root = local_stores_dir/<uuid>);
  //  3. else, `store_root` (the artifact store's configured root, may be empty) is the
  //     root when the URI lies under it, and the URI itself otherwise.
  // Refused (InvalidArgument): a non-absolute URI, a ".." segment, a NUL, or a path whose
  // real path (symlinks followed) leaves the real path of its root. NotFound: the path
  // does not exist. Messages name the URI.
  Result<ResolvedPath> Resolve(std::string_view uri, std::string_view store_root = {}) const;

  // For a file below a resolved artifact (`base.path` a real path inside `base.root`, as
  // Resolve returns it): `rel` is a relative path ("a/b.txt"); refuses ".." segments and
  // symlinks out of `root`. Returns the local path.
  static Result<std::string> Contained(const ResolvedPath& base, std::string_view rel);

  class RootCache;

 private:
  std::vector<ArtifactRootRemap> remaps_;
  std::string local_stores_dir_;
  std::shared_ptr<RootCache> roots_;  // shared by copies; thread-safe
};

}  // namespace zenfs
