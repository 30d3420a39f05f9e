// Error codes, Status and Result<T>: how every layer reports failure to its caller.
//
// Domain code never chooses an HTTP status. It returns a Status carrying one of the codes below,
// and http/error_mapping.cc maps each code to a status in one place.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace on {

// The error-code registry. Numbers are stable: they appear in logs and never change meaning.
// X(name, number, description)
#define ON_ERROR_CODES(X)                                                             \
  X(kOk, 0, "success")                                                                \
  X(kInvalidInput, 1, "the request is well formed but a value is not acceptable")     \
  X(kValidation, 2, "the request body or a parameter has the wrong shape or type")    \
  X(kNotFound, 3, "the addressed record does not exist")                              \
  X(kUnauthenticated, 4, "a password is required or the one given is wrong")          \
  X(kForbidden, 5, "the request is understood but not allowed")                       \
  X(kConflict, 6, "the request conflicts with the current state of a record")         \
  X(kPayloadTooLarge, 7, "the request body exceeds the configured limit")             \
  X(kUnsupportedType, 8, "the uploaded file type is not supported")                   \
  X(kRateLimited, 9, "too many requests or failed attempts; retry later")             \
  X(kConfiguration, 10, "a required setting or model is not configured")              \
  X(kUnavailable, 11, "a dependency is not ready yet (database starting, draining)")  \
  X(kUpstream, 12, "an external service answered with an error")                      \
  X(kTimeout, 13, "an operation did not finish within its time limit")                \
  X(kDatabase, 14, "the database failed a statement")                                 \
  X(kMigration, 15, "the database schema does not match this binary")                 \
  X(kIo, 16, "a file could not be read or written")                                   \
  X(kCancelled, 17, "the operation was cancelled")                                    \
  X(kInternal, 18, "an unexpected internal failure")                                 \
  X(kProviderRejected, 19, "an AI provider rejected the request; retrying cannot help") \
  X(kContextLengthExceeded, 20, "the input is longer than the model's context window")

enum class ErrorCode {
#define ON_ERROR_ENUM(name, number, description) name = number,
  ON_ERROR_CODES(ON_ERROR_ENUM)
#undef ON_ERROR_ENUM
};

// Returns the code's registry name without the leading 'k' ("NotFound").
std::string_view ErrorCodeName(ErrorCode code);

// The code whose ErrorCodeName is `name`, or kInternal for an unknown name.
ErrorCode ErrorCodeFromName(std::string_view name);

// Outcome of an operation: ok, or a code with a message meant for the person who sent the input.
// Messages name the offending value and the fix; they never carry secrets or SQL text.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NotFound: notebook notebook:abc was not found"
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidInput(std::string message) {
  return Status(ErrorCode::kInvalidInput, std::move(message));
}
inline Status ValidationError(std::string message) {
  return Status(ErrorCode::kValidation, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(ErrorCode::kNotFound, std::move(message));
}
inline Status DatabaseError(std::string message) {
  return Status(ErrorCode::kDatabase, std::move(message));
}
inline Status InternalError(std::string message) {
  return Status(ErrorCode::kInternal, std::move(message));
}

// A value of type T or an error Status. Success costs one move of T; the value is read by
// reference. REQUIRES: value() only when ok(), status() is always valid.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(data_).ok() && "Result built from an ok Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error, or an ok Status when a value is present.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace on

// Returns early from the enclosing function when `expr` (a Status) is an error.
#define ON_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::on::Status on_status_ = (expr);     \
    if (!on_status_.ok()) return on_status_; \
  } while (false)

#define ON_CONCAT_INNER(a, b) a##b
#define ON_CONCAT(a, b) ON_CONCAT_INNER(a, b)

// Declares `lhs` from a Result expression, returning the error Status from the enclosing function.
#define ON_ASSIGN_OR_RETURN(lhs, expr) ON_ASSIGN_OR_RETURN_IMPL(ON_CONCAT(on_result_, __LINE__), lhs, expr)
#define ON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
