#include "store/local_artifact_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace zenfs {

// A trusted root, held open (O_PATH) for as long as a reference under it exists.
class LocalArtifactSource::Root {
 public:
  Root(int fd, dev_t dev, std::string path) : fd_(fd), dev_(dev), path_(std::move(path)) {}
  ~Root() { close(fd_); }
  Root(const Root&) = delete;
  Root& operator=(const Root&) = delete;
  int fd() const { return fd_; }
  dev_t dev() const { return dev_; }
  const std::string& path() const { return path_; }

 private:
  const int fd_;
  const dev_t dev_;
  const std::string path_;
};

namespace {

using Root = LocalArtifactSource::Root;
using Mode = LocalArtifactSource::Mode;

// More roots than any real store has; past it, a root's descriptor is not shared.
constexpr std::size_t kMaxCachedRoots = 256;
// openat2 may fail with EAGAIN when a rename races the lookup; tried this often.
constexpr int kOpenat2Tries = 8;

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

// Only these are ever served: anything else (a link, FIFO, socket, device) is as absent.
bool Servable(const struct stat& sb) { return S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode); }

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool KernelHasOpenat2() {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH;
  const long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  if (fd >= 0) {
    close(static_cast<int>(fd));
    return true;
  }
  // A seccomp filter may answer EPERM instead of ENOSYS: the walk works everywhere.
  return errno != ENOSYS && errno != EPERM;
}

// Opens `rel` (clean: no "..", no empty segments; "" for the root itself) beneath the
// root, following no symbolic link and leaving the root's file system nowhere. `flags`
// are those of the final open; O_NOFOLLOW and O_CLOEXEC are always added. Returns the
// descriptor or -errno.
int OpenBeneath(const Root& root, const std::string& rel, int flags, Mode mode) {
  flags |= O_NOFOLLOW | O_CLOEXEC;
  const char* path = rel.empty() ? "." : rel.c_str();
  if (mode == Mode::kOpenat2) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    for (int i = 0; i < kOpenat2Tries; ++i) {
      const long fd = syscall(SYS_openat2, root.fd(), path, &how, sizeof how);
      if (fd >= 0) return static_cast<int>(fd);
      if (errno != EAGAIN && errno != EINTR) return -errno;
    }
    return -EAGAIN;
  }
  // The walk: one component at a time, each folder opened O_PATH|O_NOFOLLOW from the
  // last and checked to be a folder on the root's file system.
  Fd cur;
  int at = root.fd();
  std::size_t i = 0;
  for (;;) {
    const std::size_t slash = rel.find('/', i);
    if (slash == std::string::npos) break;
    const std::string comp = rel.substr(i, slash - i);
    Fd next(openat(at, comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return -errno;
    struct stat sb;
    if (fstat(next.get(), &sb) != 0) return -errno;
    if (S_ISLNK(sb.st_mode)) return -ELOOP;
    if (!S_ISDIR(sb.st_mode)) return -ENOTDIR;
    if (sb.st_dev != root.dev()) return -EXDEV;
    cur.reset(next.release());
    at = cur.get();
    i = slash + 1;
  }
  const std::string last = rel.empty() ? "." : rel.substr(i);
  Fd fd(openat(at, last.c_str(), flags));
  if (fd.get() < 0) return -errno;
  struct stat sb;
  if (fstat(fd.get(), &sb) != 0) return -errno;
  if (sb.st_dev != root.dev()) return -EXDEV;
  return fd.release();
}

const Root* RootOf(const ArtifactRef& ref) { return static_cast<const Root*>(ref.handle.get()); }

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

std::string Shown(const Root& root, const std::string& rel) {
  return rel.empty() ? root.path() : (root.path() == "/" ? "" : root.path()) + "/" + rel;
}

// The status for a failed open beneath a root. Whatever was refused (a link, another
// file system, a special file) looks exactly like a missing file: no answer tells a
// reader what exists outside the root.
Status OpenError(int err, const std::string& shown) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV:
    case ENXIO:
      return Status::NotFound(shown + ": no such file");
    default:
      return Status::IOError(shown + ": cannot open: " + std::strerror(err));
  }
}

// The path below `ref` for `rel`, both checked; refusals are NotFound.
Result<std::string> RelOf(const ArtifactRef& ref, std::string_view rel) {
  auto clean = UriResolver::CleanRelative(rel);
  if (!clean.ok()) return Status::NotFound(clean.status().message() + ": refused");
  return Join(ref.rel, *clean);
}

// Opens `full` beneath `root` as O_PATH and fstat's it; only regular files and folders.
Result<FileInfo> StatBeneath(const Root& root, const std::string& full, Mode mode) {
  Fd fd(OpenBeneath(root, full, O_PATH, mode));
  if (fd.get() < 0) return OpenError(-fd.get(), Shown(root, full));
  struct stat sb;
  if (fstat(fd.get(), &sb) != 0) return OpenError(errno, Shown(root, full));
  if (!Servable(sb)) return OpenError(ENOENT, Shown(root, full));
  return InfoOf(sb);
}

// On a mount other users read: every folder between `root` and `rel` (not the root, not
// `rel` itself) lets every user through (o+x). The mount shows the artifact's own folder
// and files, never those folders, so their modes could not guard it: a file left 0644
// in a 0700 folder would go to every user. NotFound if one of them is missing.
Status OpenToAll(const Root& root, const std::string& rel, Mode mode) {
  for (std::size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
    const std::string dir = rel.substr(0, slash);
    auto info = StatBeneath(root, dir, mode);
    if (!info.ok()) return info.status();
    if ((info->mode & S_IXOTH) == 0) {
      char octal[8];
      std::snprintf(octal, sizeof octal, "%04o", info->mode & 07777);
      return Status::InvalidArgument(Shown(root, dir) + " is not open to every user (mode " + octal +
                                     "), refused on a shared mount");
    }
  }
  return Status::Ok();
}

// RelOf, and on a shared mount OpenToAll for the folders above the artifact, checked
// again at every use: a folder closed after the artifact was located closes it too. A
// refusal looks like a missing file.
Result<std::string> CheckedRel(const Root& root, const ArtifactRef& ref, std::string_view rel, bool shared,
                               Mode mode) {
  auto full = RelOf(ref, rel);
  if (!full.ok() || !shared) return full;
  const Status open = OpenToAll(root, ref.rel, mode);
  if (!open.ok()) return Status::NotFound(Shown(root, *full) + ": no such file");
  return full;
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

  int SpliceFd() const override { return fd_; }

 private:
  const int fd_;
  const std::string path_;
};

}  // namespace

LocalArtifactSource::LocalArtifactSource(UriResolver resolver, Mode mode)
    : resolver_(std::move(resolver)), mode_(mode) {
  if (mode_ == Mode::kAuto) mode_ = KernelHasOpenat2() ? Mode::kOpenat2 : Mode::kWalk;
  // The admin named this folder (with the store) when mounting; it is resolved now, once.
  // Held, so that a folder above it made a link later (to another user's local_stores,
  // say) can never change which folders are the store's own.
  const std::string& dir = resolver_.local_stores_dir();
  if (dir.empty()) return;
  Fd fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat sb;
  if (fd.get() >= 0 && fstat(fd.get(), &sb) == 0) {
    stores_ = std::make_shared<const Root>(fd.release(), sb.st_dev, dir);
  }
}

Result<std::shared_ptr<const Root>> LocalArtifactSource::OpenRoot(const RootCandidate& c) {
  // An admin's root may be a link (to wherever the admin keeps the files); a root the
  // store chose may not, even as its last component (local_stores/<uuid> -> /etc).
  // Opened afresh at every Locate (each artifact is located once per store generation),
  // so a root folder that was removed and made again is followed; the descriptor already
  // held is shared when it is still the same folder.
  const std::string key = (c.admin ? "a" : "s") + c.root;
  Fd fd;
  if (!c.store_folder.empty()) {
    // One name beneath the held local_stores folder (the resolver made sure it is a
    // UUID, so no "/" and no ".."), never the path string.
    // Opened like any path beneath a root: a link is opened as the link (refused below),
    // and a folder another file system is mounted on (the writer's own FUSE mount, whose
    // daemon could leave every reader waiting) is refused without being entered.
    if (stores_ == nullptr) return Status::NotFound(c.root + " does not exist");
    const int r = OpenBeneath(*stores_, c.store_folder, O_PATH, mode_);
    if (r == -EXDEV) {
      return Status::InvalidArgument(c.root + " is another file system than the store's, refused as an artifact root");
    }
    if (r < 0) errno = -r;
    fd.reset(r);
  } else {
    fd.reset(open(c.root.c_str(), O_PATH | O_CLOEXEC | (c.admin ? 0 : O_NOFOLLOW)));
  }
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(c.root + " does not exist");
    return Status::IOError(c.root + ": cannot open: " + std::strerror(errno));
  }
  struct stat sb;
  if (fstat(fd.get(), &sb) != 0) return Status::IOError(c.root + ": " + std::strerror(errno));
  if (S_ISLNK(sb.st_mode)) {
    return Status::InvalidArgument(c.root + " is a symbolic link, refused as an artifact root");
  }
  if (!S_ISDIR(sb.st_mode)) return Status::InvalidArgument(c.root + " is not a folder");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = roots_.find(key);
  if (it != roots_.end()) {
    struct stat held;
    if (fstat(it->second->fd(), &held) == 0 && held.st_dev == sb.st_dev && held.st_ino == sb.st_ino) {
      return it->second;
    }
    roots_.erase(it);
  }
  auto root = std::make_shared<const Root>(fd.release(), sb.st_dev, c.root);
  if (roots_.size() < kMaxCachedRoots) roots_.emplace(key, root);
  return root;
}

Result<ArtifactRef> LocalArtifactSource::Locate(std::string_view uri, const ArtifactStoreInfo& store) {
  auto candidates = resolver_.Candidates(uri, store.path);
  if (!candidates.ok()) return candidates.status();
  std::string looked;   // where it was looked for, for a not-found message
  std::string refused;  // why a root could not be used, if one could not
  for (const RootCandidate& c : *candidates) {
    auto root = OpenRoot(c);
    std::string shown = c.root + (c.rel.empty() ? "" : "/" + c.rel);
    if (root.ok()) {
      shown = Shown(**root, c.rel);
      if (resolver_.shared()) {
        const Status open = OpenToAll(**root, c.rel, mode_);
        if (open.code() == Status::Code::kInvalidArgument) {
          refused += (refused.empty() ? "" : "; ") + open.message();
          continue;
        }
        if (!open.ok() && open.code() != Status::Code::kNotFound) return open;
      }
      auto info = StatBeneath(**root, c.rel, mode_);
      if (info.ok()) return ArtifactRef{shown, (*root)->path(), c.rel, *root};
      if (info.status().code() != Status::Code::kNotFound) return info.status();
    } else if (root.status().code() != Status::Code::kNotFound) {
      refused += (refused.empty() ? "" : "; ") + root.status().message();
      continue;
    }
    looked += (looked.empty() ? "" : " and ") + shown;
  }
  std::string what = "URI ";
  for (const char ch : uri) what += ch == '\0' ? '?' : ch;
  if (!refused.empty()) return Status::InvalidArgument(what + ": " + refused);
  return Status::NotFound(what + " does not exist (looked for " + looked + ")");
}

Result<FileInfo> LocalArtifactSource::Stat(const ArtifactRef& ref, std::string_view rel) {
  const Root* root = RootOf(ref);
  if (root == nullptr) return Status::IOError("artifact reference without a root");
  auto full = CheckedRel(*root, ref, rel, resolver_.shared(), mode_);
  if (!full.ok()) return full.status();
  return StatBeneath(*root, *full, mode_);
}

Result<std::vector<DirEntryInfo>> LocalArtifactSource::List(const ArtifactRef& ref,
                                                            std::string_view rel) {
  const Root* root = RootOf(ref);
  if (root == nullptr) return Status::IOError("artifact reference without a root");
  auto full = CheckedRel(*root, ref, rel, resolver_.shared(), mode_);
  if (!full.ok()) return full.status();
  const std::string shown = Shown(*root, *full);
  Fd fd(OpenBeneath(*root, *full, O_RDONLY | O_DIRECTORY | O_NONBLOCK, mode_));
  if (fd.get() < 0) {
    if (fd.get() == -ENOTDIR) {
      // A regular file is not a folder; anything else there is as absent.
      auto info = StatBeneath(*root, *full, mode_);
      if (info.ok()) return Status::NotDirectory(shown);
    }
    return OpenError(-fd.get(), shown);
  }
  struct stat dir_sb;
  if (fstat(fd.get(), &dir_sb) != 0) return OpenError(errno, shown);
  DIR* d = fdopendir(fd.get());
  if (d == nullptr) return Status::IOError(shown + ": cannot list: " + std::strerror(errno));
  fd.release();
  std::vector<DirEntryInfo> out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_REG) {
      out.push_back({name, false});
      continue;
    }
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;  // links, FIFOs, ...
    // A folder is listed only if it could be entered: on the same file system, not a
    // link (DT_UNKNOWN entries are looked at the same way).
    struct stat sb;
    if (fstatat(dirfd(d), name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!Servable(sb)) continue;
    if (S_ISDIR(sb.st_mode) && sb.st_dev != dir_sb.st_dev) continue;
    out.push_back({name, S_ISDIR(sb.st_mode)});
  }
  closedir(d);
  // Directory order on disk is arbitrary; a stable order keeps listings repeatable.
  std::sort(out.begin(), out.end(),
            [](const DirEntryInfo& a, const DirEntryInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::unique_ptr<ArtifactFile>> LocalArtifactSource::Open(const ArtifactRef& ref,
                                                                std::string_view rel) {
  const Root* root = RootOf(ref);
  if (root == nullptr) return Status::IOError("artifact reference without a root");
  auto full = CheckedRel(*root, ref, rel, resolver_.shared(), mode_);
  if (!full.ok()) return full.status();
  const std::string shown = Shown(*root, *full);
  // Looked at first without opening it for reading: a device node is never opened.
  auto info = StatBeneath(*root, *full, mode_);
  if (!info.ok()) return info.status();
  if (info->is_dir) return Status::IsDirectory(shown);
  // O_NONBLOCK: should a FIFO be swapped in since, open does not block the worker (and
  // fstat refuses it). O_NOCTTY: a terminal never becomes a controlling terminal.
  Fd fd(OpenBeneath(*root, *full, O_RDONLY | O_NONBLOCK | O_NOCTTY, mode_));
  if (fd.get() < 0) return OpenError(-fd.get(), shown);
  struct stat sb;
  if (fstat(fd.get(), &sb) != 0) return OpenError(errno, shown);
  if (S_ISDIR(sb.st_mode)) return Status::IsDirectory(shown);
  if (!S_ISREG(sb.st_mode)) return OpenError(ENOENT, shown);
  return std::unique_ptr<ArtifactFile>(std::make_unique<LocalFile>(fd.release(), shown));
}

}  // namespace zenfs
