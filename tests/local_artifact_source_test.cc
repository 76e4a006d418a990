// Confinement of artifact reads (SPEC §1): real folders, links, FIFOs, sockets and
// device nodes under a temporary store, read through LocalArtifactSource in both of its
// modes (openat2 and the component-by-component walk).
#include "store/local_artifact_source.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"

namespace zenfs {
namespace {

namespace fs = std::filesystem;
using Mode = LocalArtifactSource::Mode;

const std::string kUuid = "9c3ae612-da06-4fe1-a005-e72abd504387";
const std::string kSecret = "SECRET-0123456789";

class LocalArtifactSourceTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    stores_ = tmp_.path() + "/store/local_stores";
    root_ = stores_ + "/" + kUuid;
    fs::create_directories(root_ + "/art/sub");
    fs::create_directories(tmp_.path() + "/secret");
    testing::WriteFile(tmp_.path() + "/secret/key", kSecret);
    testing::WriteFile(root_ + "/art/f.txt", "hello");
    testing::WriteFile(root_ + "/art/sub/g.txt", "below");
    testing::WriteFile(root_ + "/single.bin", "single");
    source_ = std::make_unique<LocalArtifactSource>(UriResolver({}, stores_, true), GetParam());
    ASSERT_EQ(source_->mode(), GetParam());
  }

  // The URI a store written elsewhere would hold for `rel` under the artifact store.
  static std::string Uri(const std::string& rel) {
    return "/home/alice/.config/zenml/local_stores/" + kUuid + (rel.empty() ? "" : "/" + rel);
  }
  std::string A(const std::string& rel) const { return root_ + "/art/" + rel; }

  ArtifactRef Art() {
    auto ref = source_->Locate(Uri("art"), {});
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    return ref.ok() ? *ref : ArtifactRef{};
  }

  // Every way of reading `rel` below `ref`: none may succeed, each must say NotFound.
  void ExpectAbsent(const ArtifactRef& ref, const std::string& rel) {
    auto st = source_->Stat(ref, rel);
    EXPECT_FALSE(st.ok()) << rel;
    EXPECT_EQ(st.status().code(), Status::Code::kNotFound) << rel << ": " << st.status().ToString();
    auto op = source_->Open(ref, rel);
    EXPECT_FALSE(op.ok()) << rel;
    EXPECT_EQ(op.status().code(), Status::Code::kNotFound) << rel << ": " << op.status().ToString();
    auto ls = source_->List(ref, rel);
    EXPECT_FALSE(ls.ok()) << rel;
    if (!ls.ok()) {
      EXPECT_EQ(ls.status().code(), Status::Code::kNotFound) << rel << ": " << ls.status().ToString();
    }
  }

  std::string ReadAll(const ArtifactRef& ref, const std::string& rel, Status* status = nullptr) {
    auto f = source_->Open(ref, rel);
    if (!f.ok()) {
      if (status != nullptr) *status = f.status();
      return "";
    }
    char buf[256];
    auto n = (*f)->ReadAt(0, sizeof buf, buf);
    return n.ok() ? std::string(buf, *n) : "";
  }

  testing::TempDir tmp_;
  std::string stores_, root_;
  std::unique_ptr<LocalArtifactSource> source_;
};

INSTANTIATE_TEST_SUITE_P(Modes, LocalArtifactSourceTest, ::testing::Values(Mode::kOpenat2, Mode::kWalk),
                         [](const ::testing::TestParamInfo<Mode>& i) {
                           return std::string(i.param == Mode::kOpenat2 ? "Openat2" : "Walk");
                         });

TEST_P(LocalArtifactSourceTest, ServesFilesAndFoldersBelowTheRoot) {
  const ArtifactRef ref = Art();
  EXPECT_EQ(ref.base, A("").substr(0, A("").size() - 1));
  auto list = source_->List(ref, "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "f.txt");
  EXPECT_FALSE((*list)[0].is_dir);
  EXPECT_EQ((*list)[1].name, "sub");
  EXPECT_TRUE((*list)[1].is_dir);
  EXPECT_EQ(ReadAll(ref, "f.txt"), "hello");
  EXPECT_EQ(ReadAll(ref, "sub//g.txt"), "below");
  auto st = source_->Stat(ref, "sub/g.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 5u);
  EXPECT_EQ(source_->Open(ref, "sub").status().code(), Status::Code::kIsDirectory);
  EXPECT_EQ(source_->List(ref, "f.txt").status().code(), Status::Code::kNotDirectory);
  // Owner and mode of what was opened.
  ASSERT_EQ(chmod(A("f.txt").c_str(), 0640), 0);
  auto f = source_->Open(ref, "f.txt");
  ASSERT_TRUE(f.ok());
  auto info = (*f)->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->has_owner);
  EXPECT_EQ(info->uid, getuid());
  EXPECT_EQ(info->mode, 0640u);
  // A single-file artifact, and the root itself.
  auto single = source_->Locate(Uri("single.bin"), {});
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(ReadAll(*single, ""), "single");
  auto whole = source_->Locate(Uri(""), {});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(ReadAll(*whole, "art/f.txt"), "hello");
}

// The FUSE adapter splices READs from this descriptor: it must be the opened file itself
// (the same bytes as ReadAt at any offset), never a path opened again.
TEST_P(LocalArtifactSourceTest, OpenFilesLendTheirOwnDescriptorForSplicing) {
  auto f = source_->Open(Art(), "sub/g.txt");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const int fd = (*f)->SpliceFd();
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  char buf[16];
  EXPECT_EQ(pread(fd, buf, sizeof buf, 1), 4);
  EXPECT_EQ(std::string(buf, 4), "elow");
  // Removed after opening: the descriptor still reads what was opened.
  ASSERT_EQ(unlink(A("sub/g.txt").c_str()), 0);
  EXPECT_EQ(pread(fd, buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "below");
}

TEST_P(LocalArtifactSourceTest, MissingIsNotFoundNamingWhereItLooked) {
  auto ref = source_->Locate(Uri("gone"), {});
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.status().code(), Status::Code::kNotFound);
  EXPECT_NE(ref.status().message().find("does not exist (looked for " + root_ + "/gone)"), std::string::npos)
      << ref.status().message();
  // Another artifact store's folder that is not there.
  auto other = source_->Locate("/x/local_stores/0123456789abcdef0123456789abcdef/a", {});
  EXPECT_EQ(other.status().code(), Status::Code::kNotFound);
}

TEST_P(LocalArtifactSourceTest, LinksAndSpecialFilesAreNeitherListedNorFound) {
  const std::string secret = tmp_.path() + "/secret";
  fs::create_symlink(secret + "/key", A("abs_link"));
  fs::create_symlink("../../../../secret/key", A("rel_link"));
  fs::create_symlink(secret, A("dir_link"));
  fs::create_symlink("/", A("root_link"));
  fs::create_symlink("f.txt", A("inner_link"));  // inside the root: still not followed
  fs::create_symlink("sub", A("inner_dir_link"));
  fs::create_symlink("/nonexistent/target", A("dangling"));
  fs::create_symlink(".", A("sub/a"));
  fs::create_symlink(".", A("sub/b"));
  fs::create_symlink("loop1", A("loop2"));
  fs::create_symlink("loop2", A("loop1"));
  ASSERT_EQ(mkfifo(A("fifo").c_str(), 0644), 0);
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = A("sock");
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const bool have_dev = geteuid() == 0 && mknod(A("dev").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;

  const ArtifactRef ref = Art();
  auto list = source_->List(ref, "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const DirEntryInfo& e : *list) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"f.txt", "sub"}));
  auto sub = source_->List(ref, "sub");
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->size(), 1u);
  EXPECT_EQ((*sub)[0].name, "g.txt");
  for (const std::string rel :
       {"abs_link", "rel_link", "dir_link", "dir_link/key", "root_link", "root_link/etc/passwd", "inner_link",
        "inner_dir_link", "inner_dir_link/g.txt", "dangling", "sub/a", "sub/a/b/a/g.txt", "loop1", "fifo",
        "sock", "dev", "../f.txt", "/etc/passwd", "sub/../../single.bin"}) {
    ExpectAbsent(ref, rel);
  }
  // A link to a file that exists and one to a file that does not look the same.
  EXPECT_EQ(source_->Stat(ref, "abs_link").status().code(), source_->Stat(ref, "dangling").status().code());
  // Artifacts whose URI names such a thing.
  for (const std::string rel : {"art/abs_link", "art/dir_link", "art/fifo", "art/sock", "art/dev"}) {
    if (rel == "art/dev" && !have_dev) continue;
    auto r = source_->Locate(Uri(rel), {});
    EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << rel << ": " << r.status().ToString();
  }
  close(sock);
}

TEST_P(LocalArtifactSourceTest, RootThatIsALinkIsRefused) {
  const std::string evil = "0123456789abcdef0123456789abcdef";
  fs::create_symlink(tmp_.path() + "/secret", stores_ + "/" + evil);
  auto r = source_->Locate("/x/local_stores/" + evil + "/key", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos) << r.status().message();
  // An admin's --artifact-root may be a link.
  LocalArtifactSource admin(UriResolver({{"/old", stores_ + "/" + evil}}, "", true), GetParam());
  auto ok = admin.Locate("/old/key", {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto f = admin.Open(*ok, "");
  ASSERT_TRUE(f.ok());
}

TEST_P(LocalArtifactSourceTest, ArtifactSwappedForALinkAfterItWasLocated) {
  const ArtifactRef ref = Art();
  auto single = source_->Locate(Uri("single.bin"), {});
  ASSERT_TRUE(single.ok());
  ASSERT_EQ(ReadAll(ref, "f.txt"), "hello");
  // mv art art.orig; ln -s <secret> art  (and the same for the single file and a folder
  // below the artifact).
  fs::rename(A(""), root_ + "/art.orig");
  fs::create_symlink(tmp_.path() + "/secret", root_ + "/art");
  fs::rename(root_ + "/single.bin", root_ + "/single.orig");
  fs::create_symlink(tmp_.path() + "/secret/key", root_ + "/single.bin");
  for (const std::string rel : {"", "key", "f.txt"}) ExpectAbsent(ref, rel);
  Status why;
  EXPECT_EQ(ReadAll(*single, "", &why), "");
  EXPECT_EQ(why.code(), Status::Code::kNotFound);
  EXPECT_EQ(source_->Stat(*single, "").status().code(), Status::Code::kNotFound);

  fs::remove(root_ + "/art");
  fs::rename(root_ + "/art.orig", A(""));
  ASSERT_EQ(ReadAll(ref, "sub/g.txt"), "below");
  fs::rename(A("sub"), A("sub.orig"));
  fs::create_symlink(tmp_.path() + "/secret", A("sub"));
  ExpectAbsent(ref, "sub/key");
  ExpectAbsent(ref, "sub");
}

TEST_P(LocalArtifactSourceTest, RenameExchangeRaceNeverEscapes) {
  // art/real is a folder with a file; art/swap a link to the secret's folder. One thread
  // swaps the two names as fast as it can; another opens art/real/key and art/real/x
  // through the source. Not one byte of the secret may come back, and legitimate reads
  // still succeed.
  fs::create_directories(A("real"));
  testing::WriteFile(A("real/key"), "LEGIT");
  fs::create_symlink(tmp_.path() + "/secret", A("swap"));
  const ArtifactRef ref = Art();
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread swapper([&] {
    const std::string a = A("real"), b = A("swap");
    while (!stop.load()) {
      if (renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) ++swaps;
    }
  });
  long tries = 0, legit = 0, leaked = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until || legit == 0) {
    ++tries;
    const std::string got = ReadAll(ref, "real/key");
    if (got == "LEGIT") ++legit;
    if (got.find("SECRET") != std::string::npos) ++leaked;
    auto list = source_->List(ref, "real");
    if (list.ok()) {
      for (const DirEntryInfo& e : *list) EXPECT_EQ(e.name, "key");
    }
    if (tries > 5'000'000) break;  // a liveness bound, far beyond any real run
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(leaked, 0) << "secret read " << leaked << " times in " << tries << " tries";
  EXPECT_GT(legit, 0);
  EXPECT_GT(swaps.load(), 0);
  RecordProperty("tries", static_cast<int>(tries));
}

TEST_P(LocalArtifactSourceTest, ARootMadeAgainIsFollowedByTheNextLocate) {
  const ArtifactRef before = Art();
  fs::rename(root_, root_ + ".old");
  fs::create_directories(root_ + "/art");
  testing::WriteFile(root_ + "/art/f.txt", "again");
  // A reference located before keeps reading the folder it was located in.
  EXPECT_EQ(ReadAll(before, "f.txt"), "hello");
  EXPECT_EQ(ReadAll(Art(), "f.txt"), "again");
}

TEST_P(LocalArtifactSourceTest, StoreFolderSwappedForALinkAfterMountingIsNotFollowed) {
  // The writer owns the folders above the artifact store too: local_stores (or any folder
  // above it) made a link, after the source was made, to another user's local_stores
  // holding a folder of the same UUID. Roots are the mounted store's own folders: the
  // other user's are never read, neither for a reference located before nor after.
  const ArtifactRef before = Art();
  const std::string other = tmp_.path() + "/other/local_stores";
  fs::create_directories(other + "/" + kUuid + "/art");
  testing::WriteFile(other + "/" + kUuid + "/art/f.txt", kSecret);
  fs::rename(tmp_.path() + "/store", tmp_.path() + "/store.orig");
  fs::create_directories(tmp_.path() + "/store");
  fs::create_symlink(other, stores_);
  EXPECT_EQ(ReadAll(before, "f.txt"), "hello");
  auto after = source_->Locate(Uri("art"), {});
  if (after.ok()) {
    EXPECT_EQ(ReadAll(*after, "f.txt"), "hello");
  }
  // The same with the link one folder higher up.
  fs::remove(stores_);
  fs::remove(tmp_.path() + "/store");
  fs::create_symlink(tmp_.path() + "/other", tmp_.path() + "/store");
  auto higher = source_->Locate(Uri("art"), {});
  if (higher.ok()) {
    EXPECT_EQ(ReadAll(*higher, "f.txt"), "hello");
  }
}

TEST_P(LocalArtifactSourceTest, FoldersClosedToOthersAboveAnArtifactOnSharedSourcesOnly) {
  // art/ 0700 holds sub/g.txt: the mount would show sub/ and g.txt, never art/.
  ASSERT_EQ(chmod(A("").c_str(), 0700), 0);
  auto refused = source_->Locate(Uri("art/sub"), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not open to every user (mode 0700)"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(source_->Locate(Uri("art"), {}).ok()) << "the artifact's own folder shows its own mode";
  LocalArtifactSource priv(UriResolver({}, stores_, false), GetParam());
  EXPECT_TRUE(priv.Locate(Uri("art/sub"), {}).ok());
  ASSERT_EQ(chmod(A("").c_str(), 0701), 0);
  auto ref = source_->Locate(Uri("art/sub"), {});
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ReadAll(*ref, "g.txt"), "below");
  // Closed again after it was located: checked at every use, not only when located.
  ASSERT_EQ(chmod(A("").c_str(), 0700), 0);
  ExpectAbsent(*ref, "");
  ExpectAbsent(*ref, "g.txt");
}

TEST_P(LocalArtifactSourceTest, ComponentPathIsARootOnPrivateSourcesOnly) {
  const std::string comp = tmp_.path() + "/secret";
  LocalArtifactSource priv(UriResolver({}, stores_, false), GetParam());
  auto ok = priv.Locate(comp + "/key", ArtifactStoreInfo{"local", comp, "", ""});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->root, comp);
  auto refused = source_->Locate(comp + "/key", ArtifactStoreInfo{"local", comp, "", ""});  // the shared source
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
}

TEST_P(LocalArtifactSourceTest, ReferencesFromElsewhereAreRefused) {
  ArtifactRef forged{"/etc", "/etc", "", nullptr};
  EXPECT_FALSE(source_->Stat(forged, "passwd").ok());
  EXPECT_FALSE(source_->Open(forged, "passwd").ok());
  EXPECT_FALSE(source_->List(forged, "").ok());
}

TEST(LocalArtifactSourceModeTest, AutoPicksAMode) {
  LocalArtifactSource s(UriResolver({}, "", true));
  EXPECT_NE(s.mode(), LocalArtifactSource::Mode::kAuto);
}

}  // namespace
}  // namespace zenfs
