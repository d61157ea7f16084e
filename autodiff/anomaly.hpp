// Anomaly detection: find the op that first produced a NaN or an infinity.
//
//   {
//     ad::DetectAnomalyGuard anomaly;   // on for this thread, for this scope
//     ad::Tensor J = ad::mean(ad::log(A)) ...;   // throws ad::AnomalyError at the first non-finite
//     J.backward();                              // output or gradient, naming the op
//   }
//
// While it is on, every recorded op's forward output and every gradient a backward rule passes
// on are scanned for NaN/±Inf. The error names the op, its input shapes, its sequence number on
// this thread's tape ("op #17"), the ops that made its inputs and the ops recorded (or, in
// backward, run) just before it: enough to find the line in the user's forward code. Ops on
// tensors that need no gradient are not recorded and so not checked.
//
// Cost: scanning every output and gradient (a few percent to 2x); when off, one predictable
// branch on a global counter per recorded op and per gradient.
#pragma once

#include "autodiff/error.hpp"

namespace ad {

/// A NaN or infinity appeared while anomaly detection was on.
class AnomalyError : public Error {
 public:
  using Error::Error;
};

/// Turns anomaly detection on or off for every thread that has no DetectAnomalyGuard active.
void set_detect_anomaly(bool enabled);
/// Whether anomaly detection is on for this thread (a guard here, else the global switch).
bool is_anomaly_enabled();

/// Turns anomaly detection on (or off) for this thread for its scope; nests, like NoGradGuard.
class DetectAnomalyGuard {
 public:
  /// Sets this thread's detection to `enabled` until the guard's scope ends.
  explicit DetectAnomalyGuard(bool enabled = true);
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  int prev_;
  bool counted_;
};

}  // namespace ad
