#include "autodiff/ops/fused.hpp"

#include <fmt/format.h>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/detail/vec_math.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

const char* act_name(Act act) {
  switch (act) {
    case Act::identity: return "identity";
    case Act::sigmoid: return "sigmoid";
    case Act::relu: return "relu";
    case Act::tanh: return "tanh";
  }
  return "?";
}

namespace {

// out = g(z + b) (b broadcast to z's shape, checked); z + b is rounded to T before g, exactly as
// add then g. `out` is shaped like z and may be z itself.
void bias_act_kernel(const Tensor& z, const Tensor& b, Act act, Tensor& out) {
  switch (act) {
    case Act::identity: return detail::map2_into(z, b, out, [](auto x, auto c) { return x + c; });
    case Act::sigmoid:
      return detail::map2_into(z, b, out, [](auto x, auto c) { return detail::vm::sigmoid(x + c); });
    case Act::tanh: return detail::map2_into(z, b, out, [](auto x, auto c) { return detail::vm::tanh(x + c); });
    case Act::relu:
      return detail::map2_into(z, b, out, [](auto x, auto c) {
        const auto v = x + c;
        return v > decltype(v)(0) ? v : decltype(v)(0);
      });
  }
  throw ValueError("bias_act: unknown Act value");
}

// dA ⊙ g'(A), written as the unfused rules computed it (the same rounding, except that a CPU
// with FMA may fuse 1 − A² into one rounding).
Tensor act_backward_kernel(const Tensor& g, const Tensor& a, Act act) {
  switch (act) {
    case Act::identity: return g;
    case Act::sigmoid:
      return detail::map2("act_backward", g, a, [](auto d, auto s) { return d * (s * (decltype(s)(1) - s)); });
    case Act::tanh:
      return detail::map2("act_backward", g, a, [](auto d, auto t) { return d * (decltype(t)(1) - t * t); });
    case Act::relu:
      return detail::map2("act_backward", g, a, [](auto d, auto y) {
        using T = decltype(y);
        return d * (y > T(0) ? T(1) : T(0));  // a product, not a select: inf·0 stays NaN as before
      });
  }
  throw ValueError("act_backward: unknown Act value");
}

// The bias must broadcast to Z's shape without growing it: the result is shaped like Z.
void check_bias(const char* op, const Tensor& z, const Tensor& b) {
  detail::check_binary(op, z, b);
  if (!(z.shape() == b.shape()) && !(detail::broadcast_shapes(op, z.shape(), b.shape()) == z.shape()))
    throw ShapeError(fmt::format("{}: the bias {} does not broadcast to Z {} (the result must keep Z's shape)", op,
                                 b.shape().str(), z.shape().str()));
}

}  // namespace

Tensor bias_act(const Tensor& z, const Tensor& b, Act act) {
  check_bias("bias_act", z, b);
  Tensor out = empty(z.shape(), z.dtype());
  bias_act_kernel(z, b, act, out);
  if (!detail::should_record({&z, &b})) return out;
  if (act == Act::identity)
    return record_op("bias_act", "dZ = dA, db = dA (summed over broadcast dims)", {z, b}, out, [](BackwardContext& c) {
      c.add(0, c.grad());
      c.add(1, c.grad());
    });
  // The engine sums dZ over b's broadcast dims (db = row sums of dZ for a bias (n, 1)).
  return record_op("bias_act", "dZ = dA ⊙ g'(Z + b), db = dZ summed over broadcast dims", {z, b}, out,
                   [act](BackwardContext& c) {
                     Tensor dz = act_backward(c.grad(), c.output(), act);
                     c.add(0, dz);
                     c.add(1, dz);
                   },
                   true);
}

// One record instead of matmul's and bias_act's; the rule runs the same kernels they would
// (act_backward, then two gemms by transpose flags), so the gradients are the same bits.
Tensor linear(const Tensor& w, const Tensor& x, const Tensor& b, Act act) {
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
  bias_act_kernel(z, b, act, z);  // Z is a fresh temporary: A overwrites it (one tensor fewer per layer)
  Tensor out = std::move(z);
  if (!detail::should_record({&w, &x, &b})) return out;
  // W is kept only when X needs its gradient, and X only when W does (as matmul keeps them).
  return record_op("linear", "dZ = dA ⊙ g'(Z), dW = dZ · Xᵀ, dX = Wᵀ · dZ, db = Σ dZ over broadcast dims", {w, x, b},
                   out,
                   [act, sw = SavedTensor(x.requires_grad() ? w : Tensor()),
                    sx = SavedTensor(w.requires_grad() ? x : Tensor())](BackwardContext& c) {
                     Tensor dz = act == Act::identity ? c.grad() : act_backward(c.grad(), c.output(), act);
                     // The parameters' gradients first: a gradient-ready hook can then send them
                     // off while dX, as large a product as dW, is computed.
                     if (c.needs(0)) c.add(0, gemm(dz, c.saved(sx), false, true));
                     if (c.needs(2)) c.add(2, dz);
                     if (c.needs(1)) c.add(1, gemm(c.saved(sw), dz, true, false));
                   },
                   act != Act::identity);
}

Tensor act_backward(const Tensor& grad, const Tensor& a, Act act) {
  detail::check_binary("act_backward", grad, a);
  if (!(grad.shape() == a.shape()))
    throw ShapeError(fmt::format("act_backward: the gradient {} and the activation {} must have the same shape",
                                 grad.shape().str(), a.shape().str()));
  Tensor out = act_backward_kernel(grad, a, act);
  if (act == Act::identity || !detail::should_record({&grad, &a})) return out;
  // Inputs: 0 = the incoming gradient dA, 1 = the activation A.
  return record_op("act_backward", "d(dA) = dY ⊙ g'(A); dA = dY ⊙ dA ⊙ (1 − 2A) for σ, dY ⊙ dA ⊙ (−2A) for tanh, 0 for relu", {grad, a}, out,
                   [act, sa = SavedTensor(a), sg = SavedTensor(a.requires_grad() ? grad : Tensor())](BackwardContext& c) {
                     const Tensor &a = c.saved(sa), &g = c.saved(sg);
                     if (c.needs(0)) c.add(0, act_backward(c.grad(), a, act));
                     if (!c.needs(1) || act == Act::relu) return;  // relu' is piecewise constant
                     // d/dA [dA ⊙ A(1 − A)] = dA ⊙ (1 − 2A);  d/dA [dA ⊙ (1 − A²)] = dA ⊙ (−2A)
                     Tensor da = act == Act::sigmoid ? c.grad() * g * (1.0 - 2.0 * a) : c.grad() * g * (-2.0 * a);
                     c.add(1, da);
                   });
}

}  // namespace ad
