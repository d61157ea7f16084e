#include "autodiff/ops/losses.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/detail/vec_math.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/dims.hpp"

namespace ad {
namespace {

// Logits and targets must match exactly: a loss that silently broadcast targets over the
// samples would train on the wrong labels.
void check_pair(const char* op, const Tensor& z, const Tensor& y, const char* what = "logits") {
  detail::check_defined(op, z);
  detail::check_defined(op, y);
  if (!(z.shape() == y.shape()))
    throw ShapeError(fmt::format("{}: {} {} and targets {} must have the same shape", op, what, z.shape().str(),
                                 y.shape().str()));
  if (z.dtype() != y.dtype())
    throw DTypeError(fmt::format("{}: {} are {} but targets are {}", op, what, dtype_name(z.dtype()),
                                 dtype_name(y.dtype())));
  if (z.numel() == 0) throw ShapeError(fmt::format("{}: the {} {} are empty", op, what, z.shape().str()));
}

// Σ of f(z, y) over all elements times `scale`, as a 0-d tensor. f is generic: it runs in the
// tensors' dtype (vectorized for float32) and the sum is accumulated in double.
template <class F>
Tensor sum_pairs(const Tensor& z, const Tensor& y, double scale, F f) {
  return detail::dispatch(z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const double acc = detail::sum2(static_cast<const T*>(z.raw_data()), static_cast<const T*>(y.raw_data()),
                                    z.numel(), f);
    return scalar(acc * scale, z.dtype());
  });
}

}  // namespace

// J = −(1/m) Σ Y ⊙ log_softmax(Z). Its gradient is (softmax(Z) ⊙ Σ_dim Y − Y)/m, which is the
// familiar (p − Y)/m whenever each target column sums to 1 (one-hot or smoothed labels); the
// general form keeps gradcheck honest for any Y. Both are written with differentiable ops, so
// create_graph works through the loss too.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets, int64_t dim) {
  check_pair("softmax_cross_entropy", logits, targets);
  const int64_t d = detail::normalize_dim("softmax_cross_entropy", logits, dim);
  const int64_t classes = logits.size(d);
  const double inv_m = static_cast<double>(classes) / static_cast<double>(logits.numel());
  Tensor lsm;
  {
    NoGradGuard no_grad;
    lsm = log_softmax(logits.detach(), d);
  }
  Tensor out = sum_pairs(lsm, targets.detach(), -inv_m, [](auto l, auto y) { return y == 0 ? decltype(l){0} : y * l; });
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
  check_pair("binary_cross_entropy_with_logits", logits, targets);
  const double inv_n = 1.0 / static_cast<double>(logits.numel());
  Tensor out = sum_pairs(logits, targets, inv_n, [](auto z, auto y) { return detail::vm::softplus(z) - z * y; });
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
  check_pair("binary_cross_entropy", probs, targets, "probabilities");
  const double eps = probs.dtype() == DType::f32 ? 1e-7 : 1e-12, n = static_cast<double>(probs.numel());
  Tensor out = sum_pairs(probs, targets, -1.0 / n, [eps](auto a, auto y) {
    using T = decltype(a);
    const T lo = static_cast<T>(eps), hi = T{1} - static_cast<T>(eps);
    const T ac = a < lo ? lo : (a > hi ? hi : a);  // NaN passes through
    return y * detail::vm::log(ac) + (T{1} - y) * detail::vm::log(T{1} - ac);
  });
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
                     const double g = c.grad().item() / n;
                     if (c.needs(0))
                       c.add(0, detail::map2("binary_cross_entropy", probs, targets, [g, eps](auto a, auto y) {
                               using T = decltype(a);
                               const T lo = static_cast<T>(eps), hi = T{1} - static_cast<T>(eps);
                               return a < lo || a > hi ? T{0} : static_cast<T>(g) * (a - y) / (a * (T{1} - a));
                             }));
                     if (c.needs(1)) {
                       Tensor a = clamp(probs, eps, 1.0 - eps);
                       c.add(1, (log(1.0 - a) - log(a)) * g);
                     }
                   });
}

}  // namespace ad
