// The pure parts of the S3 client: ParseS3Uri (store/s3_client.h) and the reader of S3's
// XML (store/s3_xml.h), inputs that must work and inputs that must be refused side by side.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/s3_client.h"
#include "store/s3_xml.h"

namespace zenfs {
namespace {

TEST(S3UriTest, GoodUris) {
  struct Case {
    const char* uri;
    const char* bucket;
    const char* key;
  };
  const std::vector<Case> cases = {
      {"s3://bucket", "bucket", ""},
      {"s3://bucket/", "bucket", ""},
      {"s3://my.bucket-1/a/b/c.txt", "my.bucket-1", "a/b/c.txt"},
      {"s3://b/prefix/", "b", "prefix/"},
      {"s3://b/a b+c&d?e#f", "b", "a b+c&d?e#f"},
      {"s3://b/\xe1\x88\xb4", "b", "\xe1\x88\xb4"},
      {"s3://b/x..y/.hidden", "b", "x..y/.hidden"},
  };
  for (const auto& c : cases) {
    auto r = ParseS3Uri(c.uri);
    ASSERT_TRUE(r.ok()) << c.uri << ": " << r.status().ToString();
    EXPECT_EQ(r->bucket, c.bucket) << c.uri;
    EXPECT_EQ(r->key, c.key) << c.uri;
  }
}

TEST(S3UriTest, BadUris) {
  const std::vector<std::string> cases = {
      "",
      "s3:/bucket/k",
      "S3://bucket/k",
      "gs://bucket/k",
      "/local/path",
      "s3://",
      "s3:///key",
      "s3://bu/cket/../etc",
      "s3://b/..",
      "s3://b/a/./b",
      "s3://b//double",
      "s3://bad_bucket!/k",
      "s3://user@host/k",
      "s3://b:80/k",
      std::string("s3://b/k\0x", 10),
      "s3://b/" + std::string(1025, 'k'),
  };
  for (const auto& uri : cases) {
    auto r = ParseS3Uri(uri);
    ASSERT_FALSE(r.ok()) << uri;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << uri;
  }
}

TEST(S3XmlTest, ElementsAndDecoding) {
  const std::string xml =
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\"><Prefix>p/</Prefix>"
      "<Contents><Key>p/a&amp;b &lt;c&gt;</Key><Size>12</Size><ETag>&quot;e1&quot;</ETag></Contents>"
      "<Contents><Key>p/&#x1234;&#65;</Key><Size>0</Size></Contents>"
      "<CommonPrefixes><Prefix>p/sub/</Prefix></CommonPrefixes>"
      "<PrefixOther>no</PrefixOther><NextContinuationToken/></ListBucketResult>";
  const auto contents = s3xml::Elements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(s3xml::FirstText(contents[0], "Key"), "p/a&b <c>");
  EXPECT_EQ(s3xml::FirstText(contents[0], "ETag"), "\"e1\"");
  EXPECT_EQ(s3xml::FirstText(contents[1], "Key"), "p/\xe1\x88\xb4" "A");
  EXPECT_EQ(s3xml::Elements(xml, "Prefix").size(), 2u) << "<PrefixOther> is another element";
  bool found = false;
  EXPECT_EQ(s3xml::FirstText(xml, "NextContinuationToken", &found), "");
  EXPECT_TRUE(found);
  EXPECT_EQ(s3xml::FirstText(xml, "IsTruncated", &found), "");
  EXPECT_FALSE(found);
}

TEST(S3XmlTest, HostileInputIsNeverMisread) {
  // Unclosed elements are not there; unknown or malformed references stay as written.
  EXPECT_TRUE(s3xml::Elements("<Key>abc", "Key").empty());
  EXPECT_TRUE(s3xml::Elements("<Key", "Key").empty());
  EXPECT_TRUE(s3xml::Elements("", "Key").empty());
  EXPECT_EQ(s3xml::Decode("a&bogus;b&#0;c&#x110000;d&#xZZ;&amp"), "a&bogus;b&#0;c&#x110000;d&#xZZ;&amp");
  EXPECT_EQ(s3xml::Decode("&#xD800;"), "&#xD800;");
  EXPECT_EQ(s3xml::Decode("&amp;amp;"), "&amp;");
  // A long run of openers stays linear and finds nothing.
  const std::string many(100000, '<');
  EXPECT_TRUE(s3xml::Elements(many, "Key").empty());
}

}  // namespace
}  // namespace zenfs
