// Errors a user can read: every misuse of the public API throws one of these.
#pragma once

#include <stdexcept>
#include <string>

namespace ad {

/// Base of every error tapegrad reports to its user; the message names the op and the shapes.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Shapes that do not fit the op (mismatched dims, broadcast failure, dim out of range).
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// Mixed or unsupported dtypes.
class DTypeError : public Error {
 public:
  using Error::Error;
};

/// The API used in a way it does not allow (backward twice, non-scalar backward without a seed, …).
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A value out of its allowed range (bad index, negative size, bad probability, unreadable file).
class ValueError : public Error {
 public:
  using Error::Error;
};

}  // namespace ad

// Broken internal invariants (never user mistakes) abort with file and line.
#define AD_ASSERT(cond)                                              \
  do {                                                               \
    if (!(cond)) ::ad::detail::assert_fail(#cond, __FILE__, __LINE__); \
  } while (0)

namespace ad::detail {
[[noreturn]] void assert_fail(const char* cond, const char* file, int line);
}
