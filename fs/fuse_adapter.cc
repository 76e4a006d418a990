// The kernel adapter: each callback decodes a request, calls Tree, and replies. Nothing
// here decides what the tree holds. The only file that includes fuse_lowlevel.h.
#define FUSE_USE_VERSION 314
#include "fs/fuse_adapter.h"

#include <fcntl.h>
#include <malloc.h>
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <csignal>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

namespace zenfs {

namespace {

struct Context {
  Tree* tree;
  Logger* log;
};

Tree& TreeOf(fuse_req_t req) { return *static_cast<Context*>(fuse_req_userdata(req))->tree; }

constexpr blksize_t kBlockSize = kArtifactIo;  // statfs's f_bsize, and st_blksize by default

struct stat ToStat(const Attr& a) {
  struct stat st;
  std::memset(&st, 0, sizeof st);
  st.st_ino = a.ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blocks = static_cast<blkcnt_t>(a.blocks);
  st.st_blksize = a.io_size != 0 ? a.io_size : kBlockSize;
  const timespec t{static_cast<time_t>(a.mtime / 1000000 - (a.mtime % 1000000 < 0 ? 1 : 0)),
                   static_cast<long>((a.mtime % 1000000 + 1000000) % 1000000 * 1000)};
  st.st_mtim = t;
  st.st_ctim = t;
  st.st_atim = t;
  return st;
}

fuse_entry_param ToEntryParam(const Entry& e) {
  fuse_entry_param p;
  std::memset(&p, 0, sizeof p);
  p.ino = e.attr.ino;
  p.attr = ToStat(e.attr);
  p.attr_timeout = e.attr_timeout;
  p.entry_timeout = e.timeout;
  return p;
}

void ReplyStatus(fuse_req_t req, const Status& s) { fuse_reply_err(req, ToErrno(s)); }

// A worker's buffer for READ and READDIR replies (up to max_pages, 1 MiB): allocated and
// zeroed once per thread, not once per request.
char* ReplyBuffer(size_t size) {
  thread_local std::vector<char> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

// ThreadSanitizer orders a reply before the kernel's next request (the RELEASE that
// deletes the open file) through the write(2) to /dev/fuse and the read(2) of it; it does
// not see splice(2), so every spliced READ followed by RELEASE reads as a race. Built with
// it, zenfs lets libfuse copy the same descriptor's bytes instead (the same reply path,
// fuse_reply_data with a descriptor buffer, without the splice).
#if defined(__SANITIZE_THREAD__)
constexpr bool kSpliceReplies = false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kSpliceReplies = false;
#else
constexpr bool kSpliceReplies = true;
#endif
#else
constexpr bool kSpliceReplies = true;
#endif

void OpInit(void*, fuse_conn_info* conn) {
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  // The kernel keeps symlink targets (`ls -l` of a walk reads every `output` link) until
  // the refresher invalidates them: `latest` whenever a pipeline's runs change, `output`
  // whenever its step changes (DiffSnapshots), so `latest` still follows new runs.
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
  // READs of local files are answered by splicing the backing file's pages into the
  // reply (OpRead). Not FUSE_CAP_SPLICE_MOVE: kernel 6.18 copies the pages either way
  // (measured: the backing file stays wholly in its page cache, the same daemon CPU).
  if (kSpliceReplies && (conn->capable & FUSE_CAP_SPLICE_WRITE)) conn->want |= FUSE_CAP_SPLICE_WRITE;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto e = TreeOf(req).Lookup(parent, name);
  if (!e.ok()) {
    if (e.status().code() == Status::Code::kNotFound) {
      // A negative entry: the kernel may remember the miss until the next refresh.
      fuse_entry_param p;
      std::memset(&p, 0, sizeof p);
      p.entry_timeout = 1.0;
      fuse_reply_entry(req, &p);
      return;
    }
    ReplyStatus(req, e.status());
    return;
  }
  const fuse_entry_param p = ToEntryParam(*e);
  fuse_reply_entry(req, &p);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  TreeOf(req).Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) TreeOf(req).Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  auto e = TreeOf(req).GetAttr(ino);
  if (!e.ok()) return ReplyStatus(req, e.status());
  const struct stat st = ToStat(e->attr);
  fuse_reply_attr(req, &st, e->attr_timeout);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  auto target = TreeOf(req).ReadLink(ino);
  if (!target.ok()) return ReplyStatus(req, target.status());
  fuse_reply_readlink(req, target->c_str());
}

// Who sent the request. Supplementary groups only when the tree checks callers: libfuse
// reads them from /proc for each call. If they cannot be had (the caller exited), the
// caller counts with fewer groups, which can only refuse more.
Caller CallerOf(fuse_req_t req, bool with_groups) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  Caller c{ctx->uid, ctx->gid, {}};
  if (!with_groups || c.uid == 0) return c;  // root reads everything: no groups needed
  std::vector<gid_t> groups(32);
  for (int tries = 0; tries < 3; ++tries) {
    const int n = fuse_req_getgroups(req, static_cast<int>(groups.size()), groups.data());
    if (n < 0) break;
    if (static_cast<std::size_t>(n) <= groups.size()) {
      groups.resize(static_cast<std::size_t>(n));
      c.groups = std::move(groups);
      break;
    }
    groups.resize(static_cast<std::size_t>(n));  // more than fit: ask again
  }
  return c;
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_APPEND | O_CREAT)) != 0) {
    return ReplyStatus(req, Status::ReadOnly("zenfs is read-only"));
  }
  Tree& tree = TreeOf(req);
  auto f = tree.Open(ino, CallerOf(req, tree.checks_callers()));
  if (!f.ok()) return ReplyStatus(req, f.status());
  // Logs may grow while open: direct I/O reads to the real end instead of a size the
  // kernel cached. meta.json goes through the page cache when Tree::Open found that safe
  // (the protocol in tree.cc, "documents through the page cache"), else direct I/O.
  fi->keep_cache = (*f)->keep_pages ? 1 : 0;
  fi->direct_io = (*f)->cacheable ? 0 : 1;
  fi->fh = reinterpret_cast<uint64_t>(f->release());
  if (fuse_reply_open(req, fi) != 0) {
    auto* file = reinterpret_cast<OpenFile*>(fi->fh);
    tree.Release(*file);
    delete file;
  }
}

void OpRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  // A local artifact or log: libfuse splices the bytes from the file's descriptor into
  // the reply, so they are copied once (page cache to the kernel's request) instead of
  // twice through ReplyBuffer; where splicing is not possible it reads them into a buffer
  // itself. Either way a read past the end comes short, as pread's does, and a failed
  // read is answered EIO. (Such errors are not logged: libfuse answers them.) Small
  // READs (random 4 KiB preads: W2) keep the copy: splicing them takes three system calls
  // (header, file to pipe, pipe to /dev/fuse) where pread and writev take two, for a copy
  // of a few KiB that costs less than one.
  constexpr size_t kSpliceFrom = 32 * 1024;
  const int fd = file->file && size >= kSpliceFrom ? file->file->SpliceFd() : -1;
  if (fd >= 0) {
    fuse_bufvec data = FUSE_BUFVEC_INIT(size);
    data.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK | FUSE_BUF_FD_RETRY);
    data.buf[0].fd = fd;
    data.buf[0].pos = off;
    fuse_reply_data(req, &data, static_cast<fuse_buf_copy_flags>(0));
    return;
  }
  char* const buf = ReplyBuffer(size);
  auto n = TreeOf(req).Read(*file, static_cast<std::uint64_t>(off), size, buf);
  if (!n.ok()) return ReplyStatus(req, n.status());
  fuse_reply_buf(req, buf, *n);
}

void OpRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  TreeOf(req).Release(*file);
  delete file;
  fuse_reply_err(req, 0);
}

// zenfs keeps no per-open directory state, so it declines OPENDIR: the kernel then stops
// sending OPENDIR and RELEASEDIR for good (FUSE_CAP_NO_OPENDIR_SUPPORT), two round trips
// per folder fewer on every walk, and keeps every listing in its own cache
// (FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE) until the refresher invalidates the folder
// (DiffSnapshots names every folder whose children changed). Each READDIR reads the
// listing of the current snapshot, cached per generation, so pages of one pass agree.
void OpOpendir(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, ENOSYS); }

void ReadDirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  Tree& tree = TreeOf(req);
  auto listing = tree.OpenDir(ino);
  if (!listing.ok()) return ReplyStatus(req, listing.status());
  char* const buf = ReplyBuffer(size);
  size_t used = 0;
  FillDir(**listing, ino, static_cast<std::uint64_t>(off), [&](const DirSlot& slot) {
    struct stat st;
    std::memset(&st, 0, sizeof st);
    st.st_ino = slot.ino;
    st.st_mode = slot.type;
    size_t need;
    if (!plus) {
      need = fuse_add_direntry(req, buf + used, size - used, slot.name, &st,
                               static_cast<off_t>(slot.next));
      if (need > size - used) return false;
      used += need;
      return true;
    }
    fuse_entry_param e;
    std::memset(&e, 0, sizeof e);
    bool counted = false;
    if (slot.item != nullptr && Tree::AttrsAreCheap(*slot.item)) {
      auto entry = tree.Remember(*slot.item);
      if (entry.ok()) {
        e = ToEntryParam(*entry);
        counted = true;
      }
    }
    // ".", "..", meta.json and entries whose attributes failed go without a node id: the
    // kernel neither caches them nor counts a lookup for them, and looks them up if needed.
    if (!counted) e.attr = st;
    need = fuse_add_direntry_plus(req, buf + used, size - used, slot.name, &e,
                                  static_cast<off_t>(slot.next));
    if (need > size - used) {
      // Did not fit: the kernel never saw it, so the reference just counted is undone.
      if (counted) tree.Forget(e.ino, 1);
      return false;
    }
    used += need;
    return true;
  });
  fuse_reply_buf(req, buf, used);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  ReadDirCommon(req, ino, size, off, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  ReadDirCommon(req, ino, size, off, true);
}

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs sv;
  std::memset(&sv, 0, sizeof sv);
  sv.f_bsize = kBlockSize;
  sv.f_frsize = 4096;
  sv.f_namemax = 255;
  sv.f_flag = ST_RDONLY;
  fuse_reply_statfs(req, &sv);
}

// Every write of any kind: the daemon itself refuses, whatever the mount options.
void Erofs(fuse_req_t req) { ReplyStatus(req, Status::ReadOnly("zenfs is read-only")); }
void OpSetattr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) { Erofs(req); }
void OpMknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { Erofs(req); }
void OpMkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { Erofs(req); }
void OpUnlink(fuse_req_t req, fuse_ino_t, const char*) { Erofs(req); }
void OpSymlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { Erofs(req); }
void OpRename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) { Erofs(req); }
void OpLink(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { Erofs(req); }
void OpWrite(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) { Erofs(req); }
void OpSetxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { Erofs(req); }
void OpRemovexattr(fuse_req_t req, fuse_ino_t, const char*) { Erofs(req); }
void OpCreate(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) { Erofs(req); }
void OpFallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { Erofs(req); }

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof ops);
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetattr;
  ops.readlink = OpReadlink;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.release = OpRelease;
  ops.opendir = OpOpendir;
  ops.readdir = OpReaddir;
  ops.readdirplus = OpReaddirplus;
  ops.statfs = OpStatfs;
  // No getxattr/listxattr: libfuse answers ENOSYS once, and from then on the kernel itself
  // says EOPNOTSUPP ("no extended attributes here"), so `ls -l`'s per-file ACL and
  // security-label probes never make a round trip.
  ops.setattr = OpSetattr;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.unlink = OpUnlink;
  ops.rmdir = OpUnlink;
  ops.symlink = OpSymlink;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.write = OpWrite;
  ops.setxattr = OpSetxattr;
  ops.removexattr = OpRemovexattr;
  ops.create = OpCreate;
  ops.fallocate = OpFallocate;
  return ops;
}

// Owns the libfuse session and its signal handlers for one mount.
class Session {
 public:
  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (se_ == nullptr) return;
    if (handlers_) fuse_remove_signal_handlers(se_);
    if (mounted_) fuse_session_unmount(se_);
    fuse_session_destroy(se_);
  }
  fuse_session* se_ = nullptr;
  bool handlers_ = false;
  bool mounted_ = false;
};

// Asks the tree to refresh every `interval` and tells the kernel what changed. Runs on a
// thread of its own: kernel notifications must not be sent from inside a request.
class Refresher {
 public:
  Refresher(Tree& tree, Logger& log, fuse_session* se, double interval)
      : tree_(tree), log_(log), se_(se),
        interval_(std::chrono::duration<double>(std::max(interval, 0.05))),
        thread_([this] { Loop(); }) {}
  ~Refresher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    // The kernel caches every listing, and a READDIR answered from the old snapshot can
    // land in its cache just after the invalidation that followed the swap. So each batch
    // of invalidations is sent twice: now, and again one interval later, when no request
    // that began before the swap can still be in flight.
    // The first refresh runs at once, and again at once while the picture is partial: a
    // mount starts from the pipelines alone and reads runs, then the rest, one scope per
    // refresh (so `ls runs/` waits for the runs only).
    // Batches from passes that ran without a wait are held until one interval has passed.
    std::vector<Invalidation> again;
    bool more = false;
    std::uint64_t trimmed = tree_.Current()->generation();
    do {
      lock.unlock();
      const std::uint64_t generation = tree_.Current()->generation();
      std::vector<Invalidation> changes = tree_.Refresh();
      const std::uint64_t now = tree_.Current()->generation();
      const bool swapped = now != generation;
      // A new picture replaced the old one (here, or in a request that needed more of the
      // store): hand the old one's pages back to the system.
      if (now != trimmed) {
        malloc_trim(0);
        trimmed = now;
      }
      if (!more) {
        Send(again);
        again.clear();
      }
      Send(changes);
      // Documents whose page cache waits for the kernel to forget another version.
      for (std::uint64_t ino : tree_.TakeStaleDocuments()) fuse_lowlevel_notify_inval_inode(se_, ino, 0, 0);
      if (!changes.empty()) {
        log_.Log(Logger::Level::kDebug, "store changed: " + std::to_string(changes.size()) + " invalidations");
      }
      again.insert(again.end(), std::make_move_iterator(changes.begin()), std::make_move_iterator(changes.end()));
      more = swapped && tree_.Current()->scope() != RowScope::kAll;
      lock.lock();
    } while (more ? !stop_ : !cv_.wait_for(lock, interval_, [this] { return stop_; }));
  }

  void Send(const std::vector<Invalidation>& changes) {
    for (const Invalidation& inv : changes) {
      // ENOENT only means the kernel had nothing cached there.
      if (inv.kind == Invalidation::Kind::kEntry) {
        fuse_lowlevel_notify_inval_entry(se_, inv.ino, inv.name.data(), inv.name.size());
      } else {
        fuse_lowlevel_notify_inval_inode(se_, inv.ino, 0, 0);
      }
    }
  }

  Tree& tree_;
  Logger& log_;
  fuse_session* const se_;
  const std::chrono::duration<double> interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace

Status ServeMount(Tree& tree, Logger& log, const ServeOptions& options,
                  const std::function<void(const Status&)>& on_mounted) {
  std::vector<std::string> argv_s{"zenfs"};
  for (const std::string& o : options.fuse_options) {
    argv_s.push_back("-o");
    argv_s.push_back(o);
  }
  if (options.debug) argv_s.push_back("-d");
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  Context ctx{&tree, &log};
  const fuse_lowlevel_ops ops = MakeOps();
  Session session;
  session.se_ = fuse_session_new(&args, &ops, sizeof ops, &ctx);
  fuse_opt_free_args(&args);
  if (session.se_ == nullptr) {
    Status s = Status::InvalidArgument("libfuse refused the mount options");
    on_mounted(s);
    return s;
  }
  if (fuse_set_signal_handlers(session.se_) != 0) {
    Status s = Status::IOError("cannot install signal handlers");
    on_mounted(s);
    return s;
  }
  session.handlers_ = true;
  if (fuse_session_mount(session.se_, options.mountpoint.c_str()) != 0) {
    Status s = Status::IOError("cannot mount on " + options.mountpoint);
    on_mounted(s);
    return s;
  }
  session.mounted_ = true;
  on_mounted(Status::Ok());

  fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, static_cast<unsigned>(options.max_threads));
  // Every worker stays: a walk sends bursts of tiny requests, and a thread started and
  // torn down per burst costs more than the request itself.
  fuse_loop_cfg_set_idle_threads(cfg, static_cast<unsigned>(options.max_threads));
  int rc;
  {
    Refresher refresher(tree, log, session.se_, tree.refresh_seconds());
    rc = fuse_session_loop_mt(session.se_, cfg);
  }
  fuse_loop_cfg_destroy(cfg);
  if (rc != 0 && rc != SIGINT && rc != SIGTERM && rc != SIGHUP) {
    return Status::IOError("session loop ended with " + std::to_string(rc));
  }
  return Status::Ok();
}

}  // namespace zenfs
