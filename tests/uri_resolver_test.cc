// URI resolution (SPEC §1) over real directories built per test in a fresh temp dir.
#include "store/uri_resolver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace zenfs {
namespace {

namespace fs = std::filesystem;

// A temp directory for one test, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/zenfs_uri_test.XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) {
      // The real path: $TMPDIR may itself sit behind a symlink, and Resolve returns real
      // paths.
      std::error_code ec;
      path_ = fs::canonical(tmpl, ec).string();
    }
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class UriResolverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path().empty()) << "mkdtemp failed"; }

  // Creates a file at root/rel (and its directories); returns its path.
  std::string File(const std::string& rel) {
    const fs::path p = fs::path(tmp_.path()) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    return p.string();
  }
  std::string Dir(const std::string& rel) {
    const fs::path p = fs::path(tmp_.path()) / rel;
    fs::create_directories(p);
    return p.string();
  }
  std::string Link(const std::string& target, const std::string& rel) {
    const fs::path p = fs::path(tmp_.path()) / rel;
    fs::create_directories(p.parent_path());
    fs::create_symlink(target, p);
    return p.string();
  }
  std::string T(const std::string& rel) const { return tmp_.path() + "/" + rel; }

  TempDir tmp_;
};

const char* kUuid = "0123456789abcdef0123456789abcdef";

// ---------------------------------------------------------------------------------------
// ParseRemap

TEST(ParseRemapTest, AcceptsAndRefuses) {
  struct Good {
    std::string text, old_prefix, new_prefix;
  };
  const std::vector<Good> good = {
      {"/a=/b", "/a", "/b"},
      {"/home/alice/.config/zenml=/mnt/zen", "/home/alice/.config/zenml", "/mnt/zen"},
      {"/a/=/b/", "/a/", "/b/"},                 // trailing slashes tolerated
      {"/=/mnt/old", "/", "/mnt/old"},
      {"/data=v2/x=/mnt/x", "/data=v2/x", "/mnt/x"},  // "=" not followed by "/" is OLD's
      {"/a=/b=c", "/a", "/b=c"},
  };
  for (const Good& g : good) {
    const Result<ArtifactRootRemap> r = ParseRemap(g.text);
    ASSERT_TRUE(r.ok()) << g.text << ": " << r.status().ToString();
    EXPECT_EQ(r->old_prefix, g.old_prefix) << g.text;
    EXPECT_EQ(r->new_prefix, g.new_prefix) << g.text;
  }
  const std::vector<std::string> bad = {
      "",  "=", "/a", "/a=", "=/b", "a=/b", "/a=b", "./a=/b", "/a/../b=/c",
      std::string("/a\0=/b", 6), std::string("/a=/b\0", 6),
  };
  for (const std::string& b : bad) {
    const Result<ArtifactRootRemap> r = ParseRemap(b);
    ASSERT_FALSE(r.ok()) << b;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << b;
  }
}

// ---------------------------------------------------------------------------------------
// Resolve: what must work

TEST_F(UriResolverTest, RemapRewritesPrefix) {
  const std::string file = File("new/artifacts/a/data.json");
  const UriResolver r({{"/old/store", T("new")}}, "");
  for (const std::string uri : {"/old/store/artifacts/a/data.json",
                                "/old/store/artifacts/a/data.json/",
                                "/old/store//artifacts/./a/data.json"}) {
    const Result<ResolvedPath> got = r.Resolve(uri);
    ASSERT_TRUE(got.ok()) << uri << ": " << got.status().ToString();
    EXPECT_EQ(got->path, file);
    EXPECT_EQ(got->root, T("new"));
  }
}

TEST_F(UriResolverTest, RemapToleratesTrailingSlashes) {
  const std::string file = File("new/x");
  const UriResolver r({{"/old/", T("new") + "/"}}, "");
  const Result<ResolvedPath> got = r.Resolve("/old/x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
  EXPECT_EQ(got->root, T("new"));
}

TEST_F(UriResolverTest, RemapMatchesWholeComponentsOnly) {
  File("new/c/x");
  File("bc/x");
  const UriResolver r({{T("b"), T("new")}}, "");
  // T("bc") starts with the characters of T("b") but not with its components.
  const Result<ResolvedPath> got = r.Resolve(T("bc/x"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, T("bc/x"));
}

TEST_F(UriResolverTest, FirstMatchingRemapWins) {
  File("one/x");
  File("two/x");
  const UriResolver r({{"/old", T("one")}, {"/old", T("two")}}, "");
  const Result<ResolvedPath> got = r.Resolve("/old/x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, T("one/x"));
}

TEST_F(UriResolverTest, LocalStoresUriUsedAsIsWhenItExists) {
  const std::string file = File(std::string("home/.config/zenml/local_stores/") + kUuid + "/a/b");
  const UriResolver r({}, T("elsewhere/local_stores"));
  const Result<ResolvedPath> got = r.Resolve(file);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
  EXPECT_EQ(got->root, T(std::string("home/.config/zenml/local_stores/") + kUuid));
}

TEST_F(UriResolverTest, LocalStoresUriRelocatedUnderOurStore) {
  const std::string file = File(std::string("copy/local_stores/") + kUuid + "/artifacts/x.json");
  const UriResolver r({}, T("copy/local_stores"));
  const std::string uri =
      std::string("/home/alice/.config/zenml/local_stores/") + kUuid + "/artifacts/x.json";
  const Result<ResolvedPath> got = r.Resolve(uri);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
  EXPECT_EQ(got->root, T(std::string("copy/local_stores/") + kUuid));
}

TEST_F(UriResolverTest, LocalStoresUsesTheLastOccurrence) {
  const std::string file = File("copy/local_stores/u2/x");
  const UriResolver r({}, T("copy/local_stores") + "/");
  const Result<ResolvedPath> got = r.Resolve("/m/local_stores/u1/local_stores/u2/x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
  EXPECT_EQ(got->root, T("copy/local_stores/u2"));
}

TEST_F(UriResolverTest, LocalStoresUriThatIsTheStoreItself) {
  const std::string dir = Dir(std::string("copy/local_stores/") + kUuid);
  const UriResolver r({}, T("copy/local_stores"));
  const Result<ResolvedPath> got =
      r.Resolve(std::string("/gone/local_stores/") + kUuid + "/");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, dir);
  EXPECT_EQ(got->root, dir);
}

TEST_F(UriResolverTest, RemapTakesPrecedenceOverLocalStores) {
  File(std::string("copy/local_stores/") + kUuid + "/x");
  const std::string file = File(std::string("remapped/") + kUuid + "/x");
  const UriResolver r({{"/gone/local_stores", T("remapped")}}, T("copy/local_stores"));
  const Result<ResolvedPath> got = r.Resolve(std::string("/gone/local_stores/") + kUuid + "/x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
}

TEST_F(UriResolverTest, ExistingUriAsIs) {
  const std::string file = File("store/artifacts/x");
  const UriResolver r({}, "");
  Result<ResolvedPath> got = r.Resolve(file);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
  EXPECT_EQ(got->root, file);  // no store root: the URI is its own root
  got = r.Resolve(file, T("store"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->root, T("store"));
  got = r.Resolve(file, T("store") + "/");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->root, T("store"));
  got = r.Resolve(file, T("other"));  // not under that root: on its own
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->root, file);
}

TEST_F(UriResolverTest, SymlinkInsideRootIsFine) {
  const std::string target = File("store/real/data.bin");
  Link("real", "store/alias");
  Link("data.bin", "store/real/link.bin");
  const UriResolver r({}, "");
  for (const std::string& uri : {T("store/alias/data.bin"), T("store/real/link.bin")}) {
    const Result<ResolvedPath> got = r.Resolve(uri, T("store"));
    ASSERT_TRUE(got.ok()) << uri << ": " << got.status().ToString();
    EXPECT_EQ(got->path, target);  // the real path
  }
}

TEST_F(UriResolverTest, RootBehindSymlinkIsFine) {
  const std::string file = File("disk/x");
  Link(T("disk"), "mnt");
  const UriResolver r({{"/old", T("mnt")}}, "");
  const Result<ResolvedPath> got = r.Resolve("/old/x");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->path, file);
  EXPECT_EQ(got->root, T("disk"));
}

// ---------------------------------------------------------------------------------------
// Resolve: what must be refused

TEST_F(UriResolverTest, RefusesMalformedUris) {
  File("store/x");
  const UriResolver r({{"/old", T("store")}}, T("local_stores"));
  const std::vector<std::string> bad = {
      "",
      "x",
      "relative/path",
      "./x",
      "../x",
      "/old/../x",
      "/old/x/..",
      "/old/a/../../etc/passwd",
      std::string("/old/x\0", 7),
      std::string("/old/\0/x", 8),
  };
  for (const std::string& uri : bad) {
    const Result<ResolvedPath> got = r.Resolve(uri);
    ASSERT_FALSE(got.ok()) << uri;
    EXPECT_EQ(got.status().code(), Status::Code::kInvalidArgument) << uri;
    EXPECT_EQ(got.status().message().find('\0'), std::string::npos);
  }
  // Names that merely contain dots are ordinary names.
  File("store/..x/...");
  EXPECT_TRUE(r.Resolve("/old/..x/...").ok());
}

TEST_F(UriResolverTest, MissingIsNotFoundNamingTheUri) {
  Dir("new");
  Dir("copy/local_stores");
  const UriResolver r({{"/old", T("new")}}, T("copy/local_stores"));
  struct Case {
    std::string uri;
    std::vector<std::string> in_message;
  };
  const std::vector<Case> cases = {
      {"/old/a/b", {"URI /old/a/b does not exist", "looked for " + T("new/a/b")}},
      {std::string("/h/local_stores/") + kUuid + "/a",
       {std::string("URI /h/local_stores/") + kUuid + "/a does not exist",
        std::string("/h/local_stores/") + kUuid + "/a and " +
            T(std::string("copy/local_stores/") + kUuid + "/a")}},
      {T("nowhere/x"), {"URI " + T("nowhere/x") + " does not exist"}},
  };
  for (const Case& c : cases) {
    const Result<ResolvedPath> got = r.Resolve(c.uri);
    ASSERT_FALSE(got.ok()) << c.uri;
    EXPECT_EQ(got.status().code(), Status::Code::kNotFound) << c.uri;
    for (const std::string& m : c.in_message) {
      EXPECT_NE(got.status().message().find(m), std::string::npos)
          << got.status().message() << " lacks " << m;
    }
  }
  // Without a local_stores folder of our own, only the URI itself is tried.
  const UriResolver bare({}, "");
  const Result<ResolvedPath> got = bare.Resolve(std::string("/h/local_stores/") + kUuid + "/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kNotFound);
}

TEST_F(UriResolverTest, MatchedRemapDoesNotFallThrough) {
  // The remap decides even when the file is not there, though the URI itself exists.
  const std::string file = File("orig/x");
  Dir("new");
  const UriResolver r({{T("orig"), T("new")}}, "");
  const Result<ResolvedPath> got = r.Resolve(file);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kNotFound);
}

TEST_F(UriResolverTest, SymlinkOutOfRootIsRefused) {
  const std::string secret = File("secret/key");
  File("store/ok");
  Link(secret, "store/abs_link");
  Link("../secret/key", "store/rel_link");
  Link(T("secret"), "store/dir_link");
  Link("/", "store/root_link");
  const UriResolver r({{"/old", T("store")}}, "");
  for (const std::string uri :
       {"/old/abs_link", "/old/rel_link", "/old/dir_link/key", "/old/root_link/etc"}) {
    const Result<ResolvedPath> got = r.Resolve(uri);
    ASSERT_FALSE(got.ok()) << uri;
    EXPECT_EQ(got.status().code(), Status::Code::kInvalidArgument) << uri;
    EXPECT_NE(got.status().message().find(std::string("URI ") + uri), std::string::npos)
        << got.status().message();
  }
  // The same check under a configured store root and under local_stores/<uuid>.
  const UriResolver plain({}, "");
  EXPECT_EQ(plain.Resolve(T("store/abs_link"), T("store")).status().code(),
            Status::Code::kInvalidArgument);
  Link(secret, std::string("ls/local_stores/") + kUuid + "/link");
  EXPECT_EQ(plain.Resolve(T(std::string("ls/local_stores/") + kUuid + "/link")).status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(UriResolverTest, RelocatedSymlinkOutOfRootIsRefused) {
  const std::string secret = File("secret");
  Link(secret, std::string("copy/local_stores/") + kUuid + "/link");
  const UriResolver r({}, T("copy/local_stores"));
  const Result<ResolvedPath> got =
      r.Resolve(std::string("/gone/local_stores/") + kUuid + "/link");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// Contained

TEST_F(UriResolverTest, ContainedAcceptsFilesBelowTheArtifact) {
  const std::string a = Dir("store/artifact");
  const std::string f = File("store/artifact/sub/f.txt");
  File("store/other/g.txt");
  Link("sub/f.txt", "store/artifact/inner_link");
  Link("../other/g.txt", "store/artifact/sibling_link");  // leaves the artifact, not the root
  const ResolvedPath base{a, T("store")};
  struct Case {
    std::string rel, expected;
  };
  const std::vector<Case> cases = {
      {"sub/f.txt", f},
      {"sub//f.txt", f},
      {"./sub/f.txt", f},
      {"sub/f.txt/", f},
      {"sub", T("store/artifact/sub")},
      {"", a},
      {"inner_link", f},
      {"sibling_link", T("store/other/g.txt")},
  };
  for (const Case& c : cases) {
    const Result<std::string> got = UriResolver::Contained(base, c.rel);
    ASSERT_TRUE(got.ok()) << c.rel << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.expected) << c.rel;
  }
}

TEST_F(UriResolverTest, ContainedRefusesEscapes) {
  const std::string a = Dir("store/artifact");
  File("store/artifact/f");
  const std::string secret = File("secret");
  Link(secret, "store/artifact/abs_link");
  Link("../../secret", "store/artifact/rel_link");
  Link("/", "store/artifact/root_link");
  const ResolvedPath base{a, T("store")};
  struct Case {
    std::string rel;
    Status::Code code;
  };
  const std::vector<Case> cases = {
      {"..", Status::Code::kInvalidArgument},
      {"../secret", Status::Code::kInvalidArgument},
      {"f/../../..", Status::Code::kInvalidArgument},
      {"/etc/passwd", Status::Code::kInvalidArgument},
      {"/f", Status::Code::kInvalidArgument},
      {std::string("f\0", 2), Status::Code::kInvalidArgument},
      {"abs_link", Status::Code::kInvalidArgument},
      {"rel_link", Status::Code::kInvalidArgument},
      {"root_link/etc", Status::Code::kInvalidArgument},
      {"missing", Status::Code::kNotFound},
      {"f/below_a_file", Status::Code::kNotFound},
  };
  for (const Case& c : cases) {
    const Result<std::string> got = UriResolver::Contained(base, c.rel);
    ASSERT_FALSE(got.ok()) << c.rel;
    EXPECT_EQ(got.status().code(), c.code) << c.rel << ": " << got.status().ToString();
  }
}

TEST_F(UriResolverTest, ContainedWorksOnAResolvedPath) {
  File("new/art/x/y");
  const UriResolver r({{"/old", T("new")}}, "");
  const Result<ResolvedPath> base = r.Resolve("/old/art");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  const Result<std::string> got = UriResolver::Contained(*base, "x/y");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, T("new/art/x/y"));
}

}  // namespace
}  // namespace zenfs
