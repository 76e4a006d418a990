#include "store/artifact_sources.h"

#include <utility>

namespace zenfs {

ArtifactSources::ArtifactSources(std::unique_ptr<ArtifactSource> local, std::unique_ptr<ArtifactSource> s3)
    : local_(std::move(local)), s3_(std::move(s3)) {}

bool ArtifactSources::IsS3(std::string_view uri_or_root) { return uri_or_root.substr(0, 5) == "s3://"; }

ArtifactSource* ArtifactSources::SourceOf(const ArtifactRef& ref) const {
  return IsS3(ref.root) ? s3_.get() : local_.get();
}

Result<ArtifactRef> ArtifactSources::Locate(std::string_view uri, const ArtifactStoreInfo& store) {
  if (!IsS3(uri)) return local_->Locate(uri, store);
  if (s3_ == nullptr) return Status::Unsupported("URI " + std::string(uri.substr(0, 256)) + ": this mount reads no S3");
  return s3_->Locate(uri, store);
}

Result<FileInfo> ArtifactSources::Stat(const ArtifactRef& ref, std::string_view rel) {
  ArtifactSource* s = SourceOf(ref);
  if (s == nullptr) return Status::IOError(ref.base + ": no source for it");
  return s->Stat(ref, rel);
}

Result<std::vector<DirEntryInfo>> ArtifactSources::List(const ArtifactRef& ref, std::string_view rel) {
  ArtifactSource* s = SourceOf(ref);
  if (s == nullptr) return Status::IOError(ref.base + ": no source for it");
  return s->List(ref, rel);
}

Result<std::unique_ptr<ArtifactFile>> ArtifactSources::Open(const ArtifactRef& ref, std::string_view rel) {
  ArtifactSource* s = SourceOf(ref);
  if (s == nullptr) return Status::IOError(ref.base + ": no source for it");
  return s->Open(ref, rel);
}

}  // namespace zenfs
