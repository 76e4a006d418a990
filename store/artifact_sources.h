// The artifact source a mount uses: `s3://` URIs go to the S3 source, everything else
// to the local one, so the tree sees one ArtifactSource whatever the store holds.
// Thread-safe (as both sources are).
#pragma once

#include <memory>

#include "store/artifact_source.h"

namespace zenfs {

class ArtifactSources final : public ArtifactSource {
 public:
  // `s3` may be null: then an s3:// URI is unavailable, with the reason.
  ArtifactSources(std::unique_ptr<ArtifactSource> local, std::unique_ptr<ArtifactSource> s3);

  Result<ArtifactRef> Locate(std::string_view uri, const ArtifactStoreInfo& store) override;
  Result<FileInfo> Stat(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::vector<DirEntryInfo>> List(const ArtifactRef& ref, std::string_view rel) override;
  Result<std::unique_ptr<ArtifactFile>> Open(const ArtifactRef& ref, std::string_view rel) override;

  // True for a URI (or an ArtifactRef's root) the S3 source serves.
  static bool IsS3(std::string_view uri_or_root);

 private:
  // The source a reference came from (its root says: s3://... or a local path).
  ArtifactSource* SourceOf(const ArtifactRef& ref) const;

  std::unique_ptr<ArtifactSource> local_;
  std::unique_ptr<ArtifactSource> s3_;
};

}  // namespace zenfs
