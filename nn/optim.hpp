// Optimizers: after backward() has filled every parameter's grad(), step() updates the
// parameters in place, without recording (W[l] := W[l] − α·dW[l] and its refinements).
// Parameters with no gradient yet are skipped. Create an optimizer after Module::to(DType):
// it holds the parameter handles and one state buffer per parameter and slot.
//
// Inside a function compiled by ad::compile, step() is one host call (ad::host_call): each
// replay runs the whole update again, reading the step count and the learning rate then.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::optim {

/// One state buffer: slot `slot` ("velocity", "m", "v", …) of parameter number `param`.
struct StateEntry {
  std::string slot;  ///< the buffer's role: "velocity" (SGD), "square_avg" (RMSprop), "m" or "v" (Adam)
  size_t param = 0;  ///< index of its parameter in params()
  Tensor value;  ///< shares storage with the optimizer: copy_() into it restores the state
};

/// The base of the optimizers: the parameters, the learning rate α, the step count and the state
/// buffers. An optimizer of your own implements step() and name() and keeps its buffers with
/// add_slot().
class Optimizer {
 public:
  /// Throws UsageError unless every parameter is a defined leaf that requires grad, and
  /// ValueError for a negative or non-finite learning rate.
  Optimizer(std::vector<Tensor> params, double lr, const char* who);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter that has a gradient (update(), as one ad::host_call).
  void step();
  /// "sgd", "rmsprop" or "adam": the prefix of its keys in a saved file.
  virtual std::string name() const = 0;
  /// Clears every parameter's gradient (call before each backward: gradients accumulate).
  void zero_grad();

  /// α.
  double learning_rate() const { return lr_; }
  /// Sets α (ValueError for a negative or non-finite value); LRSchedule::apply calls it.
  void set_learning_rate(double lr);
  /// The parameters it updates, in the order given.
  const std::vector<Tensor>& params() const { return params_; }
  /// Number of step() calls so far (t in Adam's bias correction).
  int64_t steps() const { return t_; }
  /// Restores the step count (when loading a saved state).
  void set_steps(int64_t t);
  /// Every state buffer, for saving and loading.
  const std::vector<StateEntry>& state() const { return state_; }

 protected:
  /// The update itself: what step() runs (and every replay of a compiled step runs again).
  virtual void update() = 0;
  /// Adds a zero buffer `slot` for every parameter; returns the index of the first one.
  size_t add_slot(const std::string& slot);
  /// The buffer of parameter `param` in the slot that add_slot() returned `first` for.
  Tensor& buffer(size_t first, size_t param) { return state_[first + param].value; }

  std::vector<Tensor> params_;     ///< the parameters, as given
  const char* who_;                ///< "SGD", "Adam", …: errors and the host call's name
  double lr_;                      ///< α
  int64_t t_ = 0;                  ///< step() calls so far; step() increments it
  std::vector<StateEntry> state_;  ///< every slot's buffers, slot by slot
};

/// SGD's refinements of p := p − α·g (both off by default).
struct SGDOptions {
  double momentum = 0.0;      ///< μ: v := μ·v + g, p := p − α·v (PyTorch's form, no dampening)
  double weight_decay = 0.0;  ///< λ: g := g + λ·p (L2 penalty λ/2·‖p‖²)
};

/// Gradient descent p := p − α·g, with optional momentum and weight decay.
class SGD : public Optimizer {
 public:
  /// Updates `params` with learning rate α = lr.
  /// Throws ValueError for momentum outside [0, 1), or a weight_decay that is negative or not
  /// finite.
  SGD(std::vector<Tensor> params, double lr, SGDOptions options = {});
  std::string name() const override { return "sgd"; }

 protected:
  void update() override;

 private:
  SGDOptions opt_;
  size_t velocity_ = 0;
};

/// RMSprop's constants (PyTorch's defaults).
struct RMSpropOptions {
  double alpha = 0.99;        ///< decay of the running mean of g²
  double eps = 1e-8;          ///< added to √s so the step stays finite
  double weight_decay = 0.0;  ///< λ: g := g + λ·p
};

/// s := α·s + (1−α)·g²;  p := p − lr·g / (√s + ε)   (PyTorch's defaults and form).
class RMSprop : public Optimizer {
 public:
  /// Updates `params` with learning rate lr.
  /// Throws ValueError for alpha outside [0, 1), eps ≤ 0, or a weight_decay that is negative or
  /// not finite.
  RMSprop(std::vector<Tensor> params, double lr = 0.01, RMSpropOptions options = {});
  std::string name() const override { return "rmsprop"; }

 protected:
  void update() override;

 private:
  RMSpropOptions opt_;
  size_t square_avg_ = 0;
};

/// Adam's constants (the paper's and PyTorch's defaults).
struct AdamOptions {
  double beta1 = 0.9;    ///< decay of the running mean of g (momentum)
  double beta2 = 0.999;  ///< decay of the running mean of g²
  double eps = 1e-8;     ///< added to √v̂ so the step stays finite
  double weight_decay = 0.0;  ///< L2 added to the gradient, as torch.optim.Adam
};

/// m := β1·m + (1−β1)·g;  v := β2·v + (1−β2)·g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);
/// p := p − lr·m̂ / (√v̂ + ε). The first step moves each entry by about lr·sign(g).
class Adam : public Optimizer {
 public:
  /// Updates `params` with learning rate lr.
  /// Throws ValueError for beta1 or beta2 outside [0, 1), eps ≤ 0, or a weight_decay that is
  /// negative or not finite.
  Adam(std::vector<Tensor> params, double lr = 1e-3, AdamOptions options = {});
  std::string name() const override { return "adam"; }

 protected:
  void update() override;

 private:
  AdamOptions opt_;
  size_t m_ = 0, v_ = 0;
};

}  // namespace ad::optim
