// Status and Result: the one error type of zenfs, and its single mapping to errno.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace zenfs {

// What went wrong, with a message naming the object. Immutable value; safe to copy
// between threads.
class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,         // no such pipeline/run/step/file
    kNotDirectory,     // a directory operation on a file
    kIsDirectory,      // a file operation on a directory
    kInvalidArgument,  // a bad request or a bad command-line value
    kCorruption,       // the store holds something zenfs cannot make sense of
    kIOError,          // a backend (SQLite, artifact files) failed
    kReadOnly,         // any attempt to write
    kStale,            // the object was deleted from the store while in use
    kNoData,           // no such extended attribute
    kUnsupported,      // a store zenfs does not read (REST, MySQL, unknown schema)
    kPermissionDenied, // the caller may not read this (SPEC §4 permissions)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status NotDirectory(std::string m) { return Status(Code::kNotDirectory, std::move(m)); }
  static Status IsDirectory(std::string m) { return Status(Code::kIsDirectory, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
  static Status ReadOnly(std::string m) { return Status(Code::kReadOnly, std::move(m)); }
  static Status Stale(std::string m) { return Status(Code::kStale, std::move(m)); }
  static Status NoData(std::string m) { return Status(Code::kNoData, std::move(m)); }
  static Status Unsupported(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not found: <message>", for log lines and command-line errors.
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// The errno a FUSE reply carries for a status (0 for ok). Every error funnels through here.
int ToErrno(const Status& s);

// A value or the Status that explains its absence.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace zenfs
