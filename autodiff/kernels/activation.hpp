// Internal (kernel layer): the fusable activations' math, each written once, and the kernels
// that apply it. A fusable g is elementwise and its slope g'(z) is a function of a = g(z): the
// backward pass needs only the saved output. Its curvature d(slope)/da is affine in a, which lets
// the ops write it as a differentiable tensor expression, so gradients of every order follow.
//
// Adding one: its enumerator in autodiff/activation.hpp, a struct here (name, value, slope,
// curvature) and its case in visit_fusable; then the op ad::g (its declaration, and a one-line
// definition in ops/fused.cpp) and its row in the op table.
#pragma once

#include <cstdint>

#include "autodiff/activation.hpp"
#include "autodiff/kernels/buffer.hpp"
#include "autodiff/kernels/vec_math.hpp"

namespace ad::kernels {

/// The curvature of a fusable activation: d(slope)/da = scale·a + shift.
struct Curvature {
  double scale = 0.0, shift = 0.0;
};

struct IdentityFn {
  static constexpr const char *kName = "identity", *kRule = "dX = dY";
  static constexpr Curvature kCurvature{};
  template <class T> static T value(T z) { return z; }
  template <class T> static T slope(T) { return T(1); }
};

// σ' = σ(1 − σ) = a − a², so d(slope)/da = 1 − 2a.
struct SigmoidFn {
  static constexpr const char *kName = "sigmoid", *kRule = "dX = dY ⊙ σ(x)(1 − σ(x))";
  static constexpr Curvature kCurvature{-2.0, 1.0};
  template <class T> static T value(T z) { return vm::sigmoid(z); }
  template <class T> static T slope(T a) { return a * (T(1) - a); }
};

// relu' = [a > 0], piecewise constant: no curvature.
struct ReLUFn {
  static constexpr const char *kName = "relu", *kRule = "dX = dY ⊙ [x > 0]";
  static constexpr Curvature kCurvature{};
  template <class T> static T value(T z) { return z > T(0) ? z : T(0); }
  template <class T> static T slope(T a) { return a > T(0) ? T(1) : T(0); }
};

// tanh' = 1 − a², so d(slope)/da = −2a.
struct TanhFn {
  static constexpr const char *kName = "tanh", *kRule = "dX = dY ⊙ (1 − tanh²x)";
  static constexpr Curvature kCurvature{-2.0, 0.0};
  template <class T> static T value(T z) { return vm::tanh(z); }
  template <class T> static T slope(T a) { return T(1) - a * a; }
};

/// Calls f(Fn{}) with the struct of g and returns true when g is fusable; returns false (f not
/// called) for the others.
template <class F>
bool visit_fusable(Activation g, F&& f) {
  switch (g) {
    case Activation::Identity: f(IdentityFn{}); return true;
    case Activation::Sigmoid: f(SigmoidFn{}); return true;
    case Activation::ReLU: f(ReLUFn{}); return true;
    case Activation::Tanh: f(TanhFn{}); return true;
    case Activation::LeakyReLU:
    case Activation::Softmax: return false;
  }
  return false;
}

/// a = g(z), elementwise (a may be z itself); g must be fusable here and below.
void activate(In z, Activation g, Out a);
/// a = g(z + b), b broadcast to z's shape; z + b is rounded to the dtype before g, exactly as an
/// add followed by g. a is shaped like z and may be z itself.
void bias_activate(In z, In b, Activation g, Out a);
/// out = grad ⊙ g'(z) computed from a = g(z); grad, a and out have one shape.
void activation_backward(In grad, In a, Activation g, Out out);

}  // namespace ad::kernels
