#include "store/status.h"

#include <cerrno>

namespace zenfs {

namespace {
const char* CodeName(Status::Code c) {
  switch (c) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kNotDirectory: return "not a directory";
    case Status::Code::kIsDirectory: return "is a directory";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kCorruption: return "corrupt store";
    case Status::Code::kIOError: return "I/O error";
    case Status::Code::kReadOnly: return "read-only";
    case Status::Code::kStale: return "stale";
    case Status::Code::kNoData: return "no data";
    case Status::Code::kUnsupported: return "unsupported";
    case Status::Code::kPermissionDenied: return "permission denied";
  }
  return "unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

int ToErrno(const Status& s) {
  // No default: a new code must be mapped here, and the compiler says so.
  switch (s.code()) {
    case Status::Code::kOk: return 0;
    case Status::Code::kNotFound: return ENOENT;
    case Status::Code::kNotDirectory: return ENOTDIR;
    case Status::Code::kIsDirectory: return EISDIR;
    case Status::Code::kInvalidArgument: return EINVAL;
    case Status::Code::kCorruption: return EIO;
    case Status::Code::kIOError: return EIO;
    case Status::Code::kReadOnly: return EROFS;
    case Status::Code::kStale: return ESTALE;
    case Status::Code::kNoData: return ENODATA;
    case Status::Code::kUnsupported: return EIO;
    case Status::Code::kPermissionDenied: return EACCES;
  }
  return EIO;
}

}  // namespace zenfs
