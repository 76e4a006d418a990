// Which trusted roots a URI may be read under (SPEC §1): the resolver is pure, so these
// tests need no files.
#include "store/uri_resolver.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zenfs {
namespace {

const char* kUuid = "0123456789abcdef0123456789abcdef";
const char* kDashed = "9c3ae612-da06-4fe1-a005-e72abd504387";
const std::string kStores = "/srv/zen/local_stores";  // the mounted store's local_stores

std::string Stores(const std::string& uuid) { return kStores + "/" + uuid; }

// The candidates as "root|rel|admin" strings, or "refused: <message>".
std::vector<std::string> Got(const UriResolver& r, const std::string& uri,
                             const std::string& component = "") {
  const Result<std::vector<RootCandidate>> got = r.Candidates(uri, component);
  if (!got.ok()) {
    EXPECT_EQ(got.status().code(), Status::Code::kInvalidArgument) << uri;
    EXPECT_EQ(got.status().message().find('\0'), std::string::npos);
    return {"refused: " + got.status().message()};
  }
  std::vector<std::string> out;
  for (const RootCandidate& c : *got) out.push_back(c.root + "|" + c.rel + "|" + (c.admin ? "a" : "s"));
  return out;
}

bool Refused(const UriResolver& r, const std::string& uri, const std::string& component = "") {
  return !r.Candidates(uri, component).ok();
}

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
// Candidates

TEST(UuidShapeTest, AcceptsOnlyUuids) {
  EXPECT_TRUE(IsUuidShaped(kUuid));
  EXPECT_TRUE(IsUuidShaped(kDashed));
  EXPECT_TRUE(IsUuidShaped("9C3AE612-DA06-4FE1-A005-E72ABD504387"));
  for (const char* bad : {"", "default_zen_store", "evil", ".", "..", "9c3ae612da06-4fe1-a005-e72abd504387",
                          "9c3ae612-da06-4fe1-a005-e72abd50438g", "0123456789abcdef0123456789abcde",
                          "9c3ae612-da06-4fe1-a005-e72abd5043870"}) {
    EXPECT_FALSE(IsUuidShaped(bad)) << bad;
  }
}

TEST(UriResolverTest, RemapRewritesPrefix) {
  const UriResolver r({{"/old/store", "/new"}}, kStores, true);
  for (const std::string uri : {"/old/store/artifacts/a/data.json", "/old/store/artifacts/a/data.json/",
                                "/old/store//artifacts/./a/data.json"}) {
    EXPECT_EQ(Got(r, uri), std::vector<std::string>{"/new|artifacts/a/data.json|a"}) << uri;
  }
  EXPECT_EQ(Got(r, "/old/store"), std::vector<std::string>{"/new||a"});
}

TEST(UriResolverTest, RemapToleratesTrailingSlashes) {
  const UriResolver r({{"/old/", "/new/"}}, "", true);
  EXPECT_EQ(Got(r, "/old/x"), std::vector<std::string>{"/new|x|a"});
}

TEST(UriResolverTest, RemapMatchesWholeComponentsOnly) {
  const UriResolver r({{"/b", "/new"}}, "", true);
  EXPECT_TRUE(Refused(r, "/bc/x"));  // starts with the characters of /b, not its components
}

TEST(UriResolverTest, FirstMatchingRemapDecidesAlone) {
  const UriResolver r({{"/old", "/one"}, {"/old", "/two"}}, kStores, false);
  EXPECT_EQ(Got(r, "/old/x"), std::vector<std::string>{"/one|x|a"});
  // Even a URI that names a local_stores folder, and a component path that holds it.
  const std::string uri = std::string("/old/local_stores/") + kUuid + "/x";
  EXPECT_EQ(Got(r, uri, "/old"), std::vector<std::string>{std::string("/one|local_stores/") + kUuid + "/x|a"});
  const UriResolver to_root({{"/", "/mnt/old"}}, "", true);
  EXPECT_EQ(Got(to_root, "/etc/shadow"), std::vector<std::string>{"/mnt/old|etc/shadow|a"});
}

TEST(UriResolverTest, LocalStoresUriGoesUnderTheMountedStore) {
  const UriResolver r({}, kStores, true);
  // Wherever the store was written, the files are looked for in the mounted store's own
  // local_stores folder, never where the URI says.
  for (const std::string& uuid : std::vector<std::string>{kUuid, kDashed}) {
    EXPECT_EQ(Got(r, "/home/alice/.config/zenml/local_stores/" + uuid + "/artifacts/x.json"),
              std::vector<std::string>{Stores(uuid) + "|artifacts/x.json|s"});
    EXPECT_EQ(Got(r, "/gone/local_stores/" + uuid + "/"), std::vector<std::string>{Stores(uuid) + "||s"});
  }
  // The last local_stores/<x> decides.
  EXPECT_EQ(Got(r, std::string("/m/local_stores/u1/local_stores/") + kUuid + "/x"),
            std::vector<std::string>{Stores(kUuid) + "|x|s"});
}

TEST(UriResolverTest, LocalStoresNeedsAUuidAndAStore) {
  const UriResolver r({}, kStores, false);
  for (const std::string& uri : std::vector<std::string>{
           "/srv/zen/local_stores/default_zen_store", "/srv/zen/local_stores/default_zen_store/zenml.db",
        "/srv/zen/local_stores/evil/passwd", std::string("/x/local_stores/") + kUuid + "/local_stores/evil/y"}) {
    EXPECT_TRUE(Refused(r, uri)) << uri;
    // Not even the component's own path saves it.
    EXPECT_TRUE(Refused(r, uri, "/srv/zen")) << uri;
  }
  EXPECT_NE(Got(r, "/srv/zen/local_stores/evil/x")[0].find("local_stores/evil is not an artifact store folder"),
            std::string::npos);
  // A store with no local_stores folder (a bare zenml.db) has no such roots.
  const UriResolver bare({}, "", true);
  EXPECT_TRUE(Refused(bare, std::string("/h/local_stores/") + kUuid + "/a"));
}

TEST(UriResolverTest, ComponentPathOnlyOnAPrivateMount) {
  const UriResolver priv({}, kStores, false);
  const UriResolver shared({}, kStores, true);
  EXPECT_EQ(Got(priv, "/data/store/a/b", "/data/store"), std::vector<std::string>{"/data/store|a/b|s"});
  EXPECT_EQ(Got(priv, "/data/store/a/b", "/data/store/"), std::vector<std::string>{"/data/store|a/b|s"});
  EXPECT_TRUE(Refused(shared, "/data/store/a/b", "/data/store"));
  // A component of /etc is the store's word: private only.
  EXPECT_EQ(Got(priv, "/etc/shadow", "/etc"), std::vector<std::string>{"/etc|shadow|s"});
  EXPECT_TRUE(Refused(shared, "/etc/shadow", "/etc"));
  EXPECT_TRUE(Refused(shared, "/etc", "/etc"));
  // Not under the component: refused.
  EXPECT_TRUE(Refused(priv, "/data/other/x", "/data/store"));
  // Components that are no absolute path are ignored.
  EXPECT_TRUE(Refused(priv, "/data/store/x", "data/store"));
  EXPECT_TRUE(Refused(priv, "/data/store/x", "/data/../data/store"));
  // A local_stores URI under a component path: both, the mounted store's folder first.
  const std::string uri = std::string("/data/local_stores/") + kUuid + "/x";
  EXPECT_EQ(Got(priv, uri, std::string("/data/local_stores/") + kUuid),
            (std::vector<std::string>{Stores(kUuid) + "|x|s", std::string("/data/local_stores/") + kUuid + "|x|s"}));
  EXPECT_EQ(Got(shared, uri, std::string("/data/local_stores/") + kUuid),
            std::vector<std::string>{Stores(kUuid) + "|x|s"});
}

TEST(UriResolverTest, HostileUrisAreRefusedWithAReason) {
  const UriResolver r({{"/old", "/new"}}, kStores, true);
  const std::vector<std::string> bad = {
      "/etc", "/", "/root", "/etc/shadow", "/root/.ssh/id_rsa",
      "", "x", "relative/path", "./x", "../x", "../../..", "/old/../x", "/old/x/..",
      "/old/a/../../etc/passwd", "file:///etc", "file://host/etc/passwd", "s3://bucket/x",
      std::string("/old/x\0", 7), std::string("/old/\0/x", 8),
  };
  for (const std::string& uri : bad) {
    const std::vector<std::string> got = Got(r, uri);
    ASSERT_EQ(got.size(), 1u) << uri;
    EXPECT_EQ(got[0].rfind("refused: URI ", 0), 0u) << uri << ": " << got[0];
  }
  EXPECT_NE(Got(r, "/etc")[0].find("not under a trusted artifact root"), std::string::npos);
  EXPECT_NE(Got(r, "rel")[0].find("not an absolute local path"), std::string::npos);
  EXPECT_NE(Got(r, "/old/../x")[0].find("\"..\""), std::string::npos);
  EXPECT_NE(Got(r, std::string("/old/x\0", 7))[0].find("NUL"), std::string::npos);
  // Names that merely contain dots are ordinary names.
  EXPECT_EQ(Got(r, "/old/..x/..."), std::vector<std::string>{"/new|..x/...|a"});
}

TEST(UriResolverTest, CleanRelative) {
  EXPECT_EQ(*UriResolver::CleanRelative(""), "");
  EXPECT_EQ(*UriResolver::CleanRelative("a//b/./c/"), "a/b/c");
  for (const std::string& bad : std::vector<std::string>{"/etc", "..", "a/../..", "a/..", std::string("a\0", 2)}) {
    EXPECT_FALSE(UriResolver::CleanRelative(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace zenfs
