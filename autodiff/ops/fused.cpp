#include "autodiff/ops/fused.hpp"

#include <fmt/format.h>

#include "autodiff/function.hpp"
#include "autodiff/kernels/activation.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"
#include "autodiff/ops/detail/fusion.hpp"

namespace ad {

using detail::buffer;
using detail::should_record;
using kernels::Operands;

const char* activation_name(Activation g) {
  const char* name = g == Activation::LeakyReLU ? "leaky_relu" : "softmax";
  kernels::visit_fusable(g, [&](auto fn) { name = decltype(fn)::kName; });
  return name;
}

bool is_fusable(Activation g) {
  return kernels::visit_fusable(g, [](auto) {});
}

namespace {

void check_fusable(const char* op, Activation g) {
  if (!is_fusable(g))
    throw ValueError(fmt::format("{}: {} has no fused form; the fused ops take an elementwise activation whose "
                                 "derivative follows from its output (ad::is_fusable)",
                                 op, activation_name(g)));
}

// The bias must broadcast to Z's shape without growing it: the result is shaped like Z.
void check_bias(const char* op, const Tensor& z, const Tensor& b) {
  detail::check_binary(op, z, b);
  detail::check_broadcasts_to(op, "the bias", b.shape(), "Z", z.shape());
}

// a = g(z + b), b broadcast over z (a may be z).
void launch_bias_activate(const char* name, const Tensor& z, const Tensor& b, Activation g, const Tensor& a) {
  kernels::launch(name, {buffer(z), buffer(b)}, {buffer(a)},
                  [g](const Operands& o) { kernels::bias_activate(o.in(0), o.in(1), g, o.out(0)); });
}

// A = g(Z) as the op named after g; its rule reads g' from the saved output.
Tensor fusable_activation(const Tensor& z, Activation g) {
  const char* name = activation_name(g);
  const char* rule = "";
  kernels::visit_fusable(g, [&](auto fn) { rule = decltype(fn)::kRule; });
  detail::check_floating(name, z);
  Tensor a = empty(z.shape(), z.dtype());
  kernels::launch(name, {buffer(z)}, {buffer(a)}, [g](const Operands& o) { kernels::activate(o.in(0), g, o.out(0)); });
  if (!should_record({&z})) return a;
  return record_op(name, rule, {z}, a, [g](BackwardContext& c) { c.add(0, act_backward(c.grad(), c.output(), g)); },
                   true);
}

}  // namespace

Tensor activate(const Tensor& z, Activation g, double slope) {
  switch (g) {
    case Activation::Identity: detail::check_floating("identity", z); return z;
    case Activation::LeakyReLU: return leaky_relu(z, slope);
    case Activation::Softmax: return softmax(z, 0);
    default: return fusable_activation(z, g);
  }
}

Tensor sigmoid(const Tensor& x) { return fusable_activation(x, Activation::Sigmoid); }
Tensor relu(const Tensor& x) { return fusable_activation(x, Activation::ReLU); }
Tensor tanh(const Tensor& x) { return fusable_activation(x, Activation::Tanh); }

Tensor bias_act(const Tensor& z, const Tensor& b, Activation g) {
  check_fusable("bias_act", g);
  check_bias("bias_act", z, b);
  Tensor out = empty(z.shape(), z.dtype());
  launch_bias_activate("bias_act", z, b, g, out);
  if (!should_record({&z, &b})) return out;
  // The engine sums dZ over b's broadcast dims (db = row sums of dZ for a bias (n, 1)).
  return record_op("bias_act", "dZ = dA ⊙ g'(Z + b), db = dZ summed over broadcast dims", {z, b}, out,
                   [g](BackwardContext& c) {
                     Tensor dz = g == Activation::Identity ? c.grad() : act_backward(c.grad(), c.output(), g);
                     c.add(0, dz);
                     c.add(1, dz);
                   },
                   g != Activation::Identity);
}

// One record instead of matmul's and bias_act's; the rule runs the same kernels they would
// (act_backward, then two gemms by transpose flags), so the gradients are the same bits.
Tensor linear(const Tensor& w, const Tensor& x, const Tensor& b, Activation g) {
  check_fusable("linear", g);
  detail::check_binary("linear", w, x);
  if (w.dim() != 2 || x.dim() != 2 || w.size(1) != x.size(0))
    throw ShapeError(fmt::format("linear: W {} · X {}: both must be 2-D with W's columns = X's rows", w.shape().str(),
                                 x.shape().str()));
  Tensor z;
  {
    NoGradGuard off;
    z = matmul(w, x);
  }
  check_bias("linear", z, b);
  launch_bias_activate("linear", z, b, g, z);  // Z is a fresh temporary: A overwrites it
  Tensor out = std::move(z);
  if (!should_record({&w, &x, &b})) return out;
  // W is kept only when X needs its gradient, and X only when W does (as matmul keeps them).
  return record_op("linear", "dZ = dA ⊙ g'(Z), dW = dZ · Xᵀ, dX = Wᵀ · dZ, db = Σ dZ over broadcast dims", {w, x, b},
                   out,
                   [g, sw = SavedTensor(x.requires_grad() ? w : Tensor()),
                    sx = SavedTensor(w.requires_grad() ? x : Tensor())](BackwardContext& c) {
                     Tensor dz = g == Activation::Identity ? c.grad() : act_backward(c.grad(), c.output(), g);
                     // The parameters' gradients first: a gradient-ready hook can then send them
                     // off while dX, as large a product as dW, is computed.
                     if (c.needs(0)) c.add(0, gemm(dz, c.saved(sx), false, true));
                     if (c.needs(2)) c.add(2, dz);
                     if (c.needs(1)) c.add(1, gemm(c.saved(sw), dz, true, false));
                   },
                   g != Activation::Identity);
}

// Inputs: 0 = the incoming gradient dA, 1 = the activation A. The curvature d(g')/dA is affine
// in A (kernels/activation.hpp), so the rule is written with differentiable ops.
Tensor act_backward(const Tensor& grad, const Tensor& a, Activation g) {
  check_fusable("act_backward", g);
  detail::check_binary("act_backward", grad, a);
  if (!(grad.shape() == a.shape()))
    throw ShapeError(fmt::format("act_backward: the gradient {} and the activation {} must have the same shape",
                                 grad.shape().str(), a.shape().str()));
  if (g == Activation::Identity) return grad;
  Tensor out = empty(grad.shape(), grad.dtype());
  kernels::launch("act_backward", {buffer(grad), buffer(a)}, {buffer(out)},
                  [g](const Operands& o) { kernels::activation_backward(o.in(0), o.in(1), g, o.out(0)); });
  if (!should_record({&grad, &a})) return out;
  kernels::Curvature k;
  kernels::visit_fusable(g, [&](auto fn) { k = decltype(fn)::kCurvature; });
  return record_op("act_backward", "d(dA) = dY ⊙ g'(A); dA_out (A) = dY ⊙ dA ⊙ d(g')/dA", {grad, a}, out,
                   [g, k, sa = SavedTensor(a), sg = SavedTensor(a.requires_grad() ? grad : Tensor())](BackwardContext& c) {
                     const Tensor& a = c.saved(sa);
                     if (c.needs(0)) c.add(0, act_backward(c.grad(), a, g));
                     if (c.needs(1) && (k.scale != 0.0 || k.shift != 0.0))
                       c.add(1, c.grad() * c.saved(sg) * affine(a, k.scale, k.shift));
                   });
}

}  // namespace ad
