/// \file
/// Module: the base of every layer and network. A module owns parameters (leaf tensors that
/// require gradients), may hold submodules, and maps A[l-1] to A[l] in forward().
///
/// A module of your own lists its parameters in visit_parameters() (and its submodules in
/// children()); everything else — parameters(), named_parameters(), zero_grad(), to(), save and
/// load — follows:
///
/// \code{.cpp}
/// struct Scale : ad::nn::Module {                  // A = γ ⊙ Z, one γ per unit
///   ad::Tensor gamma = ad::ones({4, 1}).requires_grad_();
///   ad::Tensor forward(const ad::Tensor& z) override { return gamma * z; }
///   std::string name() const override { return "scale"; }
///   void visit_parameters(const ad::nn::ParameterVisitor& visit) override { visit("gamma", gamma); }
/// };
/// \endcode
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/autodiff.hpp"

namespace ad::nn {

/// The one activation vocabulary, shared with the ops (autodiff/activation.hpp).
using ad::Activation;
using ad::activation_name;

/// A parameter as seen by a module: its name in the notation ("W1") and the handle itself,
/// by reference so that to(DType) can replace it.
using ParameterVisitor = std::function<void(const std::string& name, Tensor& param)>;

/// The base of every layer and network (see the header's example for a module of your own).
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  /// Copies share parameters (tensors are handles), like copying a torch::nn::ModuleHolder.
  Module(const Module&) = default;
  /// Shares `other`'s parameters, as the copy constructor.
  Module& operator=(const Module&) = default;
  /// Takes over the parameters.
  Module(Module&&) = default;
  /// Takes over the parameters.
  Module& operator=(Module&&) = default;

  /// A[l] from A[l-1]; both (n, m) with the samples as columns.
  virtual Tensor forward(const Tensor& x) = 0;
  /// forward(x).
  Tensor operator()(const Tensor& x) { return forward(x); }
  /// Short name for summaries and errors ("Linear", "relu", …).
  virtual std::string name() const { return "module"; }
  /// The activation function g this module applies, when it is one (nn::ActivationLayer):
  /// Sequential runs a Linear followed by a fusable g as one fused op (ad::linear).
  virtual std::optional<Activation> activation() const { return std::nullopt; }

  /// Calls visit(name, param) for every parameter, in order (a module's own, then its
  /// submodules'). Modules with parameters override this.
  virtual void visit_parameters(const ParameterVisitor& visit);
  /// Direct submodules, in order.
  virtual std::vector<std::shared_ptr<Module>> children() const { return {}; }
  /// Numbers the dense layers l = 1, 2, … (so parameters are named W1, b1, …); `layer` is the
  /// last number used. Containers renumber their children when they grow.
  virtual void number_layers(int& layer);

  /// Every parameter, in named_parameters() order (handles: updates reach the module).
  std::vector<Tensor> parameters();
  /// (name, parameter) pairs in order: W1, b1, W2, b2, … for a Sequential of Linear layers.
  std::vector<std::pair<std::string, Tensor>> named_parameters();
  /// Total number of parameter entries.
  int64_t parameter_count();

  /// Training mode (dropout active) for this module and every submodule.
  void train(bool on = true);
  /// Evaluation mode: train(false).
  void eval() { train(false); }
  /// True in training mode (the default), false after eval().
  bool is_training() const { return training_; }

  /// Clears the gradient of every parameter.
  void zero_grad();
  /// Converts every parameter to `dtype` (new leaves that require grad). Create optimizers
  /// after this: they hold the parameter handles.
  Module& to(DType dtype);

 private:
  bool training_ = true;
};

}  // namespace ad::nn
