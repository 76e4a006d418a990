// The little XML that S3 answers with (ListObjectsV2 results and <Error> documents), read
// by hand: S3's responses are flat, without attributes that matter, comments, CDATA or
// DTDs, so a reader of "the text of each <Name>...</Name>" is all the client needs. It
// never allocates more than its input, never recurses and never fails open: an element
// that is not closed is not there, and an entity it does not know keeps the text as is
// (callers treat a missing element as a malformed response).
// Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zenfs::s3xml {

// The raw inner text of each <name>...</name> in `xml`, in order, at any depth (S3 never
// nests an element in one of the same name). <name/> gives "". Names are matched exactly:
// <Prefix> does not match <PrefixOther>.
std::vector<std::string_view> Elements(std::string_view xml, std::string_view name);
// The first of those, decoded (XmlDecode), or "" with *found false (when given).
std::string FirstText(std::string_view xml, std::string_view name, bool* found = nullptr);
// Character references and the five predefined entities decoded (&amp; &lt; &gt; &quot;
// &apos; &#NN; &#xHH;). A reference that is malformed, or names NUL or a code point
// outside Unicode, is kept as written.
std::string Decode(std::string_view text);

}  // namespace zenfs::s3xml
