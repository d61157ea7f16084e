// Learning-rate schedules: α as a function of the epoch number (0-based). Call
// schedule.apply(optimizer, epoch) at the start of each epoch.
#pragma once

#include <cstdint>

#include "nn/optim.hpp"

namespace ad::optim {

/// A learning rate α that depends on the epoch.
class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  /// α at `epoch` (≥ 0).
  virtual double lr(int64_t epoch) const = 0;
  /// Sets the optimizer's learning rate to lr(epoch).
  void apply(Optimizer& optimizer, int64_t epoch) const { optimizer.set_learning_rate(lr(epoch)); }
};

/// α0 · γ^⌊epoch / step_size⌋: drops by γ every step_size epochs.
class StepDecay : public LRSchedule {
 public:
  /// α0 = lr0, multiplied by gamma every step_size epochs.
  StepDecay(double lr0, int64_t step_size, double gamma = 0.1);
  double lr(int64_t epoch) const override;

 private:
  double lr0_;
  int64_t step_size_;
  double gamma_;
};

/// α0 · γ^epoch: exponential decay (e.g. γ = 0.95).
class ExponentialDecay : public LRSchedule {
 public:
  /// α0 = lr0, multiplied by gamma every epoch.
  ExponentialDecay(double lr0, double gamma);
  double lr(int64_t epoch) const override;

 private:
  double lr0_, gamma_;
};

/// α0 / (1 + decay_rate · ⌊epoch / interval⌋): inverse-time decay, 1/(1 + decay_rate·epoch)
/// with the default interval 1, or in steps of `interval` epochs (fixed-interval scheduling).
class InverseTimeDecay : public LRSchedule {
 public:
  /// α0 = lr0; the divisor grows by decay_rate every `interval` epochs.
  InverseTimeDecay(double lr0, double decay_rate, int64_t interval = 1);
  double lr(int64_t epoch) const override;

 private:
  double lr0_, decay_rate_;
  int64_t interval_;
};

}  // namespace ad::optim
