#include "store/local_artifact_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zenfs {

namespace {

FileInfo InfoOf(const struct stat& sb) {
  FileInfo info;
  info.is_dir = S_ISDIR(sb.st_mode);
  info.size = info.is_dir ? 0 : static_cast<std::uint64_t>(sb.st_size);
  info.blocks = static_cast<std::uint64_t>(sb.st_blocks);
  info.has_owner = true;
  info.uid = sb.st_uid;
  info.gid = sb.st_gid;
  info.mode = sb.st_mode & 07777;
  return info;
}

// Owns one descriptor for as long as a file is open in the mount (never one per inode).
class LocalFile final : public ArtifactFile {
 public:
  LocalFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~LocalFile() override { close(fd_); }
  LocalFile(const LocalFile&) = delete;
  LocalFile& operator=(const LocalFile&) = delete;

  Result<std::size_t> ReadAt(std::uint64_t offset, std::size_t n, char* buf) override {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r = pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::IOError(path_ + ": read failed: " + std::strerror(errno));
      }
      if (r == 0) break;
      done += static_cast<std::size_t>(r);
    }
    return done;
  }

  Result<std::uint64_t> Size() override {
    struct stat sb;
    if (fstat(fd_, &sb) != 0) return Status::IOError(path_ + ": " + std::strerror(errno));
    return static_cast<std::uint64_t>(sb.st_size);
  }

  Result<FileInfo> Info() override {
    struct stat sb;
    if (fstat(fd_, &sb) != 0) return Status::IOError(path_ + ": " + std::strerror(errno));
    return InfoOf(sb);
  }

 private:
  const int fd_;
  const std::string path_;
};

}  // namespace

Result<ArtifactRef> LocalArtifactSource::Locate(std::string_view uri, std::string_view store_root) {
  auto r = resolver_.Resolve(uri, store_root);
  if (!r.ok()) return r.status();
  return ArtifactRef{r->path, r->root};
}

Result<std::string> LocalArtifactSource::PathOf(const ArtifactRef& ref, std::string_view rel) const {
  if (rel.empty()) return ref.base;
  auto path = UriResolver::Contained(ResolvedPath{ref.base, ref.root}, rel);
  // A symlink or ".." out of the artifact store is refused: an I/O error for the caller
  // (EIO), never the bytes it points at.
  if (!path.ok() && path.status().code() == Status::Code::kInvalidArgument) {
    return Status::IOError("refused: " + path.status().message());
  }
  return path;
}

Result<FileInfo> LocalArtifactSource::Stat(const ArtifactRef& ref, std::string_view rel) {
  auto path = PathOf(ref, rel);
  if (!path.ok()) return path.status();
  struct stat sb;
  if (stat(path->c_str(), &sb) != 0) {
    if (errno == ENOENT) return Status::NotFound(*path + ": no such file");
    return Status::IOError(*path + ": " + std::strerror(errno));
  }
  return InfoOf(sb);
}

Result<std::vector<DirEntryInfo>> LocalArtifactSource::List(const ArtifactRef& ref,
                                                            std::string_view rel) {
  auto path = PathOf(ref, rel);
  if (!path.ok()) return path.status();
  DIR* d = opendir(path->c_str());
  if (d == nullptr) {
    if (errno == ENOTDIR) return Status::NotDirectory(*path);
    return Status::IOError(*path + ": cannot list: " + std::strerror(errno));
  }
  std::vector<DirEntryInfo> out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat sb;
      is_dir = stat((*path + "/" + name).c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
    }
    out.push_back({name, is_dir});
  }
  closedir(d);
  // Directory order on disk is arbitrary; a stable order keeps listings repeatable.
  std::sort(out.begin(), out.end(),
            [](const DirEntryInfo& a, const DirEntryInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::unique_ptr<ArtifactFile>> LocalArtifactSource::Open(const ArtifactRef& ref,
                                                                std::string_view rel) {
  auto path = PathOf(ref, rel);
  if (!path.ok()) return path.status();
  const int fd = open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(*path + ": no such file");
    return Status::IOError(*path + ": cannot open: " + std::strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
    close(fd);
    return Status::IsDirectory(*path);
  }
  return std::unique_ptr<ArtifactFile>(std::make_unique<LocalFile>(fd, *path));
}

}  // namespace zenfs
