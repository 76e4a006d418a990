// Where artifact and log bytes come from. The tree sees only this interface; the local
// implementation reads files, a second one could read object storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "store/status.h"
#include "store/timefmt.h"

namespace zenfs {

// A resolved artifact location: opaque to the tree, meaningful to its source.
struct ArtifactRef {
  std::string base;  // the artifact's own path (a folder or a file), for names and messages
  std::string root;  // the trusted root it must stay inside
  std::string rel;   // the artifact's path beneath `root` ("" for the root itself)
  // What the source holds open for the root (for the local source, a descriptor every
  // Stat/List/Open resolves beneath): kept alive by every copy of the reference.
  std::shared_ptr<const void> handle;
};

struct FileInfo {
  bool is_dir = false;
  std::uint64_t size = 0;
  std::uint64_t blocks = 0;  // 512-byte blocks actually used
  // Who owns the backing file and its permission bits (SPEC §4 "Permissions"). Sources
  // with no owner on disk (object storage) leave has_owner false; the tree then gives the
  // node the mount's owner and file mode.
  bool has_owner = false;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;  // permission bits only (07777)
};

struct DirEntryInfo {
  std::string name;
  bool is_dir = false;
};

// An open artifact file. ReadAt is safe from many threads at once.
class ArtifactFile {
 public:
  virtual ~ArtifactFile() = default;
  // Reads up to `n` bytes at `offset` into buf; fewer at end of file, 0 past it.
  virtual Result<std::size_t> ReadAt(std::uint64_t offset, std::size_t n, char* buf) = 0;
  // The file's current size (files of running steps grow).
  virtual Result<std::uint64_t> Size() = 0;
  // What was actually opened (fstat of the open file): owner, mode and size at open time.
  virtual Result<FileInfo> Info() = 0;
  // A descriptor of a regular file holding exactly these bytes, which a reader may read
  // at any offset (pread or splice) while this object lives; -1 when the bytes come only
  // through ReadAt (object storage, the REST source, caches). The FUSE adapter answers a
  // READ of a local artifact from it by splicing the page-cache pages into the reply
  // instead of copying them through a buffer.
  virtual int SpliceFd() const { return -1; }
};

// What the store says of the artifact store component an artifact version or log row
// names (stack_component of type artifact_store, its base64 JSON configuration). Store
// text: a source may use it only as SPEC §1 allows (a trusted root on a private mount,
// never on a shared one). Empty fields are unknown.
struct ArtifactStoreInfo {
  std::string flavor;        // "local", "s3", "gcp", ...
  std::string path;          // configuration "path": a folder, or s3://bucket/prefix
  std::string endpoint_url;  // configuration "client_kwargs"."endpoint_url" (S3-compatible)
  std::string region_name;   // configuration "client_kwargs"."region_name"
  friend bool operator==(const ArtifactStoreInfo&, const ArtifactStoreInfo&) = default;
};

// Thread-safe: every method may be called from any FUSE worker.
class ArtifactSource {
 public:
  virtual ~ArtifactSource() = default;
  // Resolves a URI from the store; `store` is what the store says of the artifact store
  // component that wrote it (all empty if unknown). NotFound / InvalidArgument /
  // PermissionDenied carry a message fit for meta.json.
  virtual Result<ArtifactRef> Locate(std::string_view uri, const ArtifactStoreInfo& store) = 0;
  // `rel` is "" for the artifact itself, else a relative path below it ("a/b.txt").
  virtual Result<FileInfo> Stat(const ArtifactRef& ref, std::string_view rel) = 0;
  virtual Result<std::vector<DirEntryInfo>> List(const ArtifactRef& ref, std::string_view rel) = 0;
  virtual Result<std::unique_ptr<ArtifactFile>> Open(const ArtifactRef& ref, std::string_view rel) = 0;
};

}  // namespace zenfs
