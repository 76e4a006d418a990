// The one mapping from Status to errno (store/status.h), code by code.
#include "store/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace zenfs {
namespace {

struct ErrnoCase {
  Status status;
  int expected_errno;
  const char* expected_string;
};

TEST(StatusTest, ToErrnoOfEveryCode) {
  // One row per Status::Code; a new code needs a row here as well as a case in ToErrno.
  const std::vector<ErrnoCase> cases = {
      {Status::Ok(), 0, "ok"},
      {Status(), 0, "ok"},
      {Status::NotFound("run x"), ENOENT, "not found: run x"},
      {Status::NotDirectory("f"), ENOTDIR, "not a directory: f"},
      {Status::IsDirectory("d"), EISDIR, "is a directory: d"},
      {Status::InvalidArgument("arg"), EINVAL, "invalid argument: arg"},
      {Status::Corruption("row"), EIO, "corrupt store: row"},
      {Status::IOError("disk"), EIO, "I/O error: disk"},
      {Status::ReadOnly("write"), EROFS, "read-only: write"},
      {Status::Stale("gone"), ESTALE, "stale: gone"},
      {Status::NoData("xattr"), ENODATA, "no data: xattr"},
      {Status::Unsupported("rest"), EIO, "unsupported: rest"},
      {Status::PermissionDenied("a.bin"), EACCES, "permission denied: a.bin"},
  };
  for (const ErrnoCase& c : cases) {
    EXPECT_EQ(ToErrno(c.status), c.expected_errno) << c.expected_string;
    EXPECT_EQ(c.status.ToString(), c.expected_string);
    EXPECT_EQ(c.status.ok(), c.expected_errno == 0) << c.expected_string;
  }
}

TEST(StatusTest, KeepsCodeAndMessage) {
  const Status s = Status::NotFound("pipeline p");
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), "pipeline p");
  const Status copy = s;
  EXPECT_EQ(copy.code(), s.code());
  EXPECT_EQ(copy.message(), s.message());
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<std::string> good(std::string("v"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, "v");
  EXPECT_EQ(good->size(), 1u);
  EXPECT_TRUE(good.status().ok());

  Result<std::string> bad(Status::Stale("run r"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(ToErrno(bad.status()), ESTALE);
}

}  // namespace
}  // namespace zenfs
