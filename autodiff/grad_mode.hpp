// Grad mode: whether ops on tensors that require gradients are recorded (per thread).
#pragma once

namespace ad {

/// True when this thread records ops (the default).
bool is_grad_enabled();
/// Turns recording on or off for this thread (prefer the scoped guards below).
void set_grad_enabled(bool enabled);

/// Turns recording off for its scope, as torch::NoGradGuard: results require no gradient.
class NoGradGuard {
 public:
  /// Turns recording off until the guard's scope ends.
  NoGradGuard() : prev_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

/// Turns recording on for its scope (inside a NoGradGuard, or when writing backward rules).
class EnableGradGuard {
 public:
  /// Sets grad mode to `enabled` for the guard's scope.
  explicit EnableGradGuard(bool enabled = true) : prev_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~EnableGradGuard() { set_grad_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace ad
