#include "autodiff/ops/losses.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/function.hpp"
#include "autodiff/kernels/copy.hpp"
#include "autodiff/kernels/elementwise.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/kernels/vec_math.hpp"
#include "autodiff/kernels/vec_math_avx512.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"

namespace ad {
namespace {

using detail::buffer;
using detail::check_pair;
using detail::should_record;
using kernels::Operands;

// Σ of f(z, y) over all elements times `scale`, as a 0-d tensor. f is generic: it runs in the
// tensors' dtype (vectorized for float32) and the sum is accumulated in double.
template <class F>
Tensor sum_pairs(const char* op, const Tensor& z, const Tensor& y, double scale, F f) {
  Tensor out = empty({}, z.dtype());
  kernels::launch(op, {buffer(z), buffer(y)}, {buffer(out)}, [scale, f](const Operands& o) {
    kernels::fill(o.out(0), kernels::sum2(o.in(0), o.in(1), f) * scale);
  });
  return out;
}

// How far probabilities are kept from 0 and 1 before a log: log ε stays finite, and 1 − ε is
// still below 1 in the dtype.
double probability_epsilon(DType d) { return d == DType::f32 ? 1e-7 : 1e-12; }

// The one-hot targets, shaped and typed like the logits, of int64 class labels: one per lane
// along dim d, shaped like the logits without d (or with d of size 1).
Tensor one_hot_targets(const char* op, const Tensor& logits, const Tensor& labels, int64_t d) {
  const Shape kept = detail::keepdim_shape(logits.shape(), d);
  if (!(labels.shape() == kept) && !(labels.shape() == detail::dropdim_shape(logits.shape(), d)))
    throw ShapeError(fmt::format("{}: the labels are {} but the logits {} need one per lane along dim {}: {} or {}",
                                 op, labels.shape().str(), logits.shape().str(), d,
                                 detail::dropdim_shape(logits.shape(), d).str(), kept.str()));
  const int64_t classes = logits.size(d);
  Tensor targets = empty(logits.shape(), logits.dtype());
  // The labels are checked where they are read, in the kernel: a replayed trace checks them too.
  kernels::launch(op, {buffer(labels)}, {buffer(targets)}, [op, d, classes](const Operands& o) {
    const int64_t* p = o.in(0).as<int64_t>();
    for (int64_t i = 0, n = o.in(0).shape.numel(); i < n; ++i)
      if (p[i] < 0 || p[i] >= classes)
        throw ValueError(fmt::format("{}: label {} (position {}) is outside [0, {})", op, p[i], i, classes));
    kernels::one_hot(o.in(0), d, o.out(0));
  });
  return targets;
}

// dJ/dA = g·(a − y) / (a(1 − a)) where ε ≤ A ≤ 1 − ε, 0 outside, with g the incoming 0-d
// gradient over n, read inside the kernel (one loop, and no host read of a computed value).
Tensor bce_probability_grad(const Tensor& probs, const Tensor& targets, const Tensor& grad, double eps, double n) {
  Tensor da = empty(probs.shape(), probs.dtype());
  kernels::launch("binary_cross_entropy_backward", {buffer(probs), buffer(targets), buffer(grad)}, {buffer(da)},
                  [eps, n](const Operands& o) {
                    const double g = kernels::dispatch(o.in(2).dtype, [&](auto tag) {
                      return static_cast<double>(*o.in(2).as<decltype(tag)>()) / n;
                    });
                    kernels::map2(o.in(0), o.in(1), o.out(0), [g, eps](auto a, auto y) {
                      using T = decltype(a);
                      const T lo = static_cast<T>(eps), hi = T{1} - static_cast<T>(eps);
                      return a < lo || a > hi ? T{0} : static_cast<T>(g) * (a - y) / (a * (T{1} - a));
                    });
                  });
  return da;
}

// The targets a class-dim loss computes with: int64 labels become their one-hot columns.
Tensor dense_targets(const char* op, const Tensor& x, const Tensor& targets, int64_t dim) {
  if (!targets.defined() || targets.dtype() != DType::i64) return targets;
  detail::check_floating(op, x);
  return one_hot_targets(op, x, targets, detail::normalize_dim(op, x, dim));
}

}  // namespace

// J = −(1/m) Σ Y ⊙ log_softmax(Z). Its gradient is (softmax(Z) ⊙ Σ_dim Y − Y)/m, which is the
// familiar (p − Y)/m whenever each target column sums to 1 (one-hot or smoothed labels); the
// general form keeps gradcheck honest for any Y. Both are written with differentiable ops, so
// create_graph works through the loss too.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels_or_targets, int64_t dim) {
  const Tensor targets = dense_targets("softmax_cross_entropy", logits, labels_or_targets, dim);
  check_pair("softmax_cross_entropy", "logits", logits, targets);
  const int64_t d = detail::normalize_dim("softmax_cross_entropy", logits, dim);
  const int64_t classes = logits.size(d);
  const double inv_m = static_cast<double>(classes) / static_cast<double>(logits.numel());
  Tensor lsm;
  {
    NoGradGuard no_grad;
    lsm = log_softmax(logits.detach(), d);
  }
  Tensor out = sum_pairs("softmax_cross_entropy", lsm, targets.detach(), -inv_m, [](auto l, auto y) { return y == 0 ? decltype(l){0} : y * l; });
  if (!should_record({&logits, &targets})) return out;
  return record_op("softmax_cross_entropy", "dZ = (softmax(Z) − Y) / m, dY = −log_softmax(Z) / m", {logits, targets},
                   out, [sz = SavedTensor(logits), sy = SavedTensor(targets), d, inv_m](BackwardContext& c) {
                     const Tensor &logits = c.saved(sz), &targets = c.saved(sy);
                     Tensor g = c.grad() * inv_m;
                     if (c.needs(0)) c.add(0, g * (softmax(logits, d) * sum(targets, d, true) - targets));
                     if (c.needs(1)) c.add(1, -g * log_softmax(logits, d));
                   });
}

// Per element max(z, 0) − z·y + log(1 + e^−|z|) equals −[y log σ(z) + (1 − y) log(1 − σ(z))]
// but never takes the log of a rounded-to-zero probability.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets) {
  check_pair("binary_cross_entropy_with_logits", "logits", logits, targets);
  const double inv_n = 1.0 / static_cast<double>(logits.numel());
  Tensor out = sum_pairs("binary_cross_entropy_with_logits", logits, targets, inv_n, [](auto z, auto y) { return kernels::vm::softplus(z) - z * y; });
  if (!should_record({&logits, &targets})) return out;
  return record_op("binary_cross_entropy_with_logits", "dZ = (σ(Z) − Y) / n, dY = −Z / n", {logits, targets}, out,
                   [sz = SavedTensor(logits), sy = SavedTensor(targets), inv_n](BackwardContext& c) {
                     const Tensor &logits = c.saved(sz), &targets = c.saved(sy);
                     Tensor g = c.grad() * inv_n;
                     if (c.needs(0)) c.add(0, g * (sigmoid(logits) - targets));
                     if (c.needs(1)) c.add(1, -g * logits);
                   });
}

// With a = clamp(A, ε, 1 − ε) (ε = 1e−7 in float32, 1e−12 in float64, so log a stays finite):
//   J = −(1/n) Σ [y·log a + (1 − y)·log(1 − a)]
//   dJ/dA = (a − y) / (a(1 − a)) / n where ε ≤ A ≤ 1 − ε, 0 outside (the clamp's gradient)
//   dJ/dY = (log(1 − a) − log a) / n
// A plain backward pass is one loop; under create_graph the same formulas are recorded ops,
// so the result can be differentiated again.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets) {
  check_pair("binary_cross_entropy", "probabilities", probs, targets);
  const double eps = probability_epsilon(probs.dtype()), n = static_cast<double>(probs.numel());
  Tensor out = empty({}, probs.dtype());
  kernels::launch("binary_cross_entropy", {buffer(probs), buffer(targets)}, {buffer(out)}, [eps, n](const Operands& o) {
    const auto clamped = [eps](auto a) {
      using T = decltype(a);
      const T lo = static_cast<T>(eps), hi = T{1} - static_cast<T>(eps);
      return a < lo ? lo : (a > hi ? hi : a);  // NaN passes through
    };
    const auto both_terms = [clamped](auto a, auto y) {
      using T = decltype(a);
      const T ac = clamped(a);
      return y * kernels::vm::log_normal(ac) + (T{1} - y) * kernels::vm::log_normal(T{1} - ac);
    };
    // With y ∈ {0, 1} the other term is a signed zero (its log is finite after the clamp), so
    // the log of the one probability the label picks is the same sum, bit for bit, at one log
    // per element instead of two.
    const auto picked_term = [clamped](auto a, auto y) {
      using T = decltype(a);
      const T ac = clamped(a);
      return kernels::vm::log_normal(y == T{0} ? T{1} - ac : ac);
    };
    double s = 0;
    if (o.in(0).dtype == DType::f32 && kernels::vec_math_avx512_available()) {
      const auto lo = static_cast<float>(eps);
      if (!kernels::log_picked_sum(o.in(0).as<float>(), o.in(1).as<float>(), o.in(0).shape.numel(), lo, 1.0f - lo, s))
        s = kernels::sum2(o.in(0), o.in(1), both_terms);
    } else {
      s = kernels::all_zero_or_one(o.in(1)) ? kernels::sum2(o.in(0), o.in(1), picked_term)
                                            : kernels::sum2(o.in(0), o.in(1), both_terms);
    }
    kernels::fill(o.out(0), s * (-1.0 / n));
  });
  if (!should_record({&probs, &targets})) return out;
  return record_op("binary_cross_entropy", "dA = (A − Y) / (A(1 − A)) / n, dY = (log(1 − A) − log A) / n",
                   {probs, targets}, out,
                   [sa = SavedTensor(probs), sy = SavedTensor(targets), eps, n](BackwardContext& c) {
                     const Tensor &probs = c.saved(sa), &targets = c.saved(sy);
                     if (is_grad_enabled()) {  // create_graph: the formulas as recorded ops
                       Tensor a = clamp(probs, eps, 1.0 - eps);
                       if (c.needs(0)) c.add(0, c.grad() * (a - targets) / (a * (1.0 - a)) / n);
                       if (c.needs(1)) c.add(1, c.grad() * (log(1.0 - a) - log(a)) / n);
                       return;
                     }
                     if (c.needs(0)) c.add(0, bce_probability_grad(probs, targets, c.grad(), eps, n));
                     if (c.needs(1)) {
                       Tensor a = clamp(probs, eps, 1.0 - eps);
                       c.add(1, (log(1.0 - a) - log(a)) * (c.grad() / n));
                     }
                   });
}

// Composites of recorded ops (clamp, log, mul, sum): −Σ Y ⊙ log max(A, ε) over the m lanes.
Tensor categorical_cross_entropy(const Tensor& probs, const Tensor& labels_or_targets, int64_t dim) {
  const Tensor targets = dense_targets("categorical_cross_entropy", probs, labels_or_targets, dim);
  check_pair("categorical_cross_entropy", "probabilities", probs, targets);
  const int64_t d = detail::normalize_dim("categorical_cross_entropy", probs, dim);
  const double m = static_cast<double>(probs.numel() / probs.size(d));
  Tensor a = clamp(probs, probability_epsilon(probs.dtype()), 1.0);
  return -sum(targets * log(a)) / m;
}

Tensor mse_loss(const Tensor& predictions, const Tensor& targets) {
  check_pair("mse_loss", "predictions", predictions, targets);
  Tensor d = predictions - targets;
  return mean(d * d);
}

}  // namespace ad
