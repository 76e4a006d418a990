// Artifact and log bytes from local (or NFS-mounted) files, read with pread for exactly
// the range asked, and never from outside a trusted root (SPEC §1).
//
// Every Stat, List and Open resolves its path beneath a descriptor held for the root,
// never from a path string: with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), or, where the kernel has no openat2, one
// component at a time with openat(O_NOFOLLOW), checking that each stays on the root's
// file system. Symbolic links below a root are never followed, even to a place inside
// it: ZenML writes none, and a link that is not followed cannot be swapped to point
// out. What was opened is checked with fstat: only regular files and folders are served;
// symbolic links, FIFOs, sockets and devices are left out of listings and look up as
// not found. A file is opened O_NONBLOCK, so a FIFO swapped in can never block a worker.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/artifact_source.h"
#include "store/uri_resolver.h"

namespace zenfs {

class LocalArtifactSource final : public ArtifactSource {
 public:
  // How paths are opened beneath a root. kAuto uses openat2 when the kernel has it.
  enum class Mode { kAuto, kOpenat2, kWalk };

  // Opens the resolver's local_stores folder now and holds it: the store's artifact
  // roots are found beneath the folder the store had when the mount started.
  explicit LocalArtifactSource(UriResolver resolver, Mode mode = Mode::kAuto);
  LocalArtifactSource(const LocalArtifactSource&) = delete;
  LocalArtifactSource& operator=(const LocalArtifactSource&) = delete;

  Result<ArtifactRef> Locate(std::string_view uri, const ArtifactStoreInfo& store) override;
  Result<FileInfo> Stat(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::vector<DirEntryInfo>> List(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::unique_ptr<ArtifactFile>> Open(const ArtifactRef& ref, std::string_view rel) override;

  Mode mode() const { return mode_; }

  class Root;  // an open root folder

 private:
  // The open root for a candidate, shared by every reference under it. An error (the
  // root is missing, or is a symbolic link the store chose) says why it cannot be used.
  Result<std::shared_ptr<const Root>> OpenRoot(const RootCandidate& c);

  UriResolver resolver_;
  Mode mode_;
  // The mounted store's local_stores folder, opened when the source was made; null if none.
  std::shared_ptr<const Root> stores_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Root>> roots_;  // by path; capped
};

}  // namespace zenfs
