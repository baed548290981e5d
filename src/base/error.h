// Errors that cross function boundaries: an errno (when there is one) and a
// chain of context added on the way up, so the user reads
// "mount proc on /proc: permission denied" and not "error 1".
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

namespace berth {

class Error {
 public:
  Error() = default;
  explicit Error(std::string message, int err = 0) : message_(std::move(message)), errno_(err) {}

  // An error for a failed system call: "what: strerror(err)".
  static Error from_errno(std::string what, int err = errno);

  // Prepends context: wrap("pull alpine") turns "digest mismatch" into
  // "pull alpine: digest mismatch".
  Error& wrap(std::string_view context) &;
  Error&& wrap(std::string_view context) &&;

  int code() const { return errno_; }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
  int errno_ = 0;
};

template <typename T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int err = 0) {
  return std::unexpected(Error(std::move(message), err));
}
inline std::unexpected<Error> fail_errno(std::string what, int err = errno) {
  return std::unexpected(Error::from_errno(std::move(what), err));
}

// strerror, lower-cased the way Go and Docker print it ("no such file or directory").
std::string errno_text(int err);

}  // namespace berth

// TRY(expr): evaluates a Result; on error returns it from the enclosing
// function, otherwise yields the value (or nothing, for Result<void>).
#define TRY(...)                                                           \
  ({                                                                       \
    auto try_result_ = (__VA_ARGS__);                                      \
    if (!try_result_) [[unlikely]]                                         \
      return std::unexpected(std::move(try_result_).error());              \
    std::move(try_result_).value();                                        \
  })

// TRY_CTX(expr, context): as TRY, prefixing the error with context, which is
// only evaluated on failure.
#define TRY_CTX(expr, context)                                             \
  ({                                                                       \
    auto try_result_ = (expr);                                             \
    if (!try_result_) [[unlikely]]                                         \
      return std::unexpected(std::move(try_result_).error().wrap(context)); \
    std::move(try_result_).value();                                        \
  })
