#include "nn/schedule.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/error.hpp"

namespace ad::optim {

namespace {

void check_epoch(const char* who, int64_t epoch) {
  if (epoch < 0) throw ValueError(fmt::format("{}: epoch {} must be ≥ 0", who, epoch));
}

void check_lr0(const char* who, double lr0) {
  if (!(lr0 >= 0 && std::isfinite(lr0))) throw ValueError(fmt::format("{}: lr0 = {} must be finite and ≥ 0", who, lr0));
}

}  // namespace

StepDecay::StepDecay(double lr0, int64_t step_size, double gamma) : lr0_(lr0), step_size_(step_size), gamma_(gamma) {
  check_lr0("StepDecay", lr0);
  if (step_size <= 0) throw ValueError(fmt::format("StepDecay: step_size = {} must be > 0", step_size));
  if (!(gamma > 0)) throw ValueError(fmt::format("StepDecay: gamma = {} must be > 0", gamma));
}

double StepDecay::lr(int64_t epoch) const {
  check_epoch("StepDecay", epoch);
  return lr0_ * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

ExponentialDecay::ExponentialDecay(double lr0, double gamma) : lr0_(lr0), gamma_(gamma) {
  check_lr0("ExponentialDecay", lr0);
  if (!(gamma > 0)) throw ValueError(fmt::format("ExponentialDecay: gamma = {} must be > 0", gamma));
}

double ExponentialDecay::lr(int64_t epoch) const {
  check_epoch("ExponentialDecay", epoch);
  return lr0_ * std::pow(gamma_, static_cast<double>(epoch));
}

InverseTimeDecay::InverseTimeDecay(double lr0, double decay_rate, int64_t interval)
    : lr0_(lr0), decay_rate_(decay_rate), interval_(interval) {
  check_lr0("InverseTimeDecay", lr0);
  if (!(decay_rate >= 0)) throw ValueError(fmt::format("InverseTimeDecay: decay_rate = {} must be ≥ 0", decay_rate));
  if (interval <= 0) throw ValueError(fmt::format("InverseTimeDecay: interval = {} must be > 0", interval));
}

double InverseTimeDecay::lr(int64_t epoch) const {
  check_epoch("InverseTimeDecay", epoch);
  return lr0_ / (1.0 + decay_rate_ * static_cast<double>(epoch / interval_));
}

}  // namespace ad::optim
