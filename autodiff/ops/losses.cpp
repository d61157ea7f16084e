#include "autodiff/ops/losses.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/dims.hpp"

namespace ad {
namespace {

// Logits and targets must match exactly: a loss that silently broadcast targets over the
// samples would train on the wrong labels.
void check_pair(const char* op, const Tensor& z, const Tensor& y) {
  detail::check_defined(op, z);
  detail::check_defined(op, y);
  if (!(z.shape() == y.shape()))
    throw ShapeError(fmt::format("{}: logits {} and targets {} must have the same shape", op, z.shape().str(),
                                 y.shape().str()));
  if (z.dtype() != y.dtype())
    throw DTypeError(fmt::format("{}: logits are {} but targets are {}", op, dtype_name(z.dtype()),
                                 dtype_name(y.dtype())));
  if (z.numel() == 0) throw ShapeError(fmt::format("{}: the logits {} are empty", op, z.shape().str()));
}

// Σ of f(z, y) over all elements, accumulated in double, returned as a 0-d tensor times `scale`.
template <class F>
Tensor sum_pairs(const Tensor& z, const Tensor& y, double scale, F f) {
  return detail::dispatch(z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* zs = static_cast<const T*>(z.raw_data());
    const T* ys = static_cast<const T*>(y.raw_data());
    double acc = 0.0;
    for (int64_t i = 0, n = z.numel(); i < n; ++i) acc += f(static_cast<double>(zs[i]), static_cast<double>(ys[i]));
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
  Tensor out = sum_pairs(lsm, targets.detach(), -inv_m, [](double l, double y) { return y == 0.0 ? 0.0 : y * l; });
  return record_op("softmax_cross_entropy", "dZ = (softmax(Z) − Y) / m, dY = −log_softmax(Z) / m", {logits, targets},
                   out, [logits, targets, d, inv_m](BackwardContext& c) {
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
  Tensor out = sum_pairs(logits, targets, inv_n, [](double z, double y) {
    return (z > 0.0 ? z : 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
  });
  return record_op("binary_cross_entropy_with_logits", "dZ = (σ(Z) − Y) / n, dY = −Z / n", {logits, targets}, out,
                   [logits, targets, inv_n](BackwardContext& c) {
                     Tensor g = c.grad() * inv_n;
                     if (c.needs(0)) c.add(0, g * (sigmoid(logits) - targets));
                     if (c.needs(1)) c.add(1, -g * logits);
                   });
}

}  // namespace ad
