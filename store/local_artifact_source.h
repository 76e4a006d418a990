// Artifact bytes from local (or NFS-mounted) files, read with pread for exactly the range
// asked. Stateless apart from options; thread-safe.
#pragma once

#include "store/artifact_source.h"
#include "store/uri_resolver.h"

namespace zenfs {

class LocalArtifactSource final : public ArtifactSource {
 public:
  explicit LocalArtifactSource(UriResolver resolver) : resolver_(std::move(resolver)) {}

  Result<ArtifactRef> Locate(std::string_view uri, std::string_view store_root) override;
  Result<FileInfo> Stat(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::vector<DirEntryInfo>> List(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::unique_ptr<ArtifactFile>> Open(const ArtifactRef& ref, std::string_view rel) override;

 private:
  Result<std::string> PathOf(const ArtifactRef& ref, std::string_view rel) const;
  UriResolver resolver_;
};

}  // namespace zenfs
