// The errors of data-parallel training, beside ad::Error's own (UsageError for misuse).
#pragma once

#include "autodiff/error.hpp"

namespace ad::dist {

/// The ranks disagree about something that must be the same on all of them (the model's
/// parameter names, shapes or dtypes, a tensor's shape in a collective, an option); thrown on
/// every rank, with the same message, before any value is exchanged.
class MismatchError : public ValueError {
 public:
  using ValueError::ValueError;
};

/// Another rank failed or left while this one waited for it, or the transport reported an
/// error. The group can no longer exchange values: every later collective throws again, and
/// ending the Context aborts every rank rather than waiting forever.
class PeerError : public Error {
 public:
  using Error::Error;
};

}  // namespace ad::dist
