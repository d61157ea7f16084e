#include "nn/losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autodiff/autodiff.hpp"
#include "nn/detail/dispatch.hpp"

namespace ad::nn {

namespace {

void check_pair(const char* cost, const Tensor& A, const Tensor& Y) {
  if (!A.defined() || !Y.defined()) throw UsageError(fmt::format("{}: undefined prediction or target", cost));
  if (!(A.shape() == Y.shape()))
    throw ShapeError(fmt::format("{}: prediction is {} but target Y is {}; both must be (n[L], m)", cost,
                                 A.shape().str(), Y.shape().str()));
  if (A.dtype() != Y.dtype())
    throw DTypeError(fmt::format("{}: prediction is {} but target Y is {}", cost, dtype_name(A.dtype()),
                                 dtype_name(Y.dtype())));
}

void check_classes(const char* cost, const Tensor& A) {
  if (A.dim() != 2)
    throw ShapeError(fmt::format("{}: prediction is {}; it must be (C, m), classes along dim 0", cost, A.shape().str()));
}

double eps_of(DType d) { return d == DType::f32 ? 1e-7 : 1e-12; }

// g·(a − y)/(a(1 − a)) with a = A clamped to [ε, 1−ε], and 0 where the clamp was active.
Tensor bce_grad_a(const Tensor& A, const Tensor& Y, double eps, double g) {
  Tensor out = empty(A.shape(), A.dtype());
  detail::with_dtype(A.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T *a = detail::ptr<T>(A), *y = detail::ptr<T>(Y);
    T* o = detail::ptr<T>(out);
    for (int64_t i = 0, size = A.numel(); i < size; ++i) {
      const double ai = a[i];
      o[i] = ai < eps || ai > 1.0 - eps ? T(0) : static_cast<T>(g * (ai - y[i]) / (ai * (1.0 - ai)));
    }
  });
  return out;
}

}  // namespace

// One fused op instead of ten recorded ones (clamp, two logs, …): with a = clamp(A, ε, 1−ε),
//   J = −(1/n) Σ [y·log a + (1−y)·log(1−a)]
//   dJ/dA = (a − y) / (a(1−a)) / n   where ε ≤ A ≤ 1−ε (0 outside: the clamp's gradient)
//   dJ/dY = (log(1−a) − log a) / n
// In a plain backward pass the gradient is one loop; under create_graph the same formulas are
// written with ops, so the result can be differentiated again.
Tensor binary_cross_entropy(const Tensor& A, const Tensor& Y) {
  check_pair("binary_cross_entropy", A, Y);
  if (A.numel() == 0) throw ShapeError(fmt::format("binary_cross_entropy: prediction {} is empty", A.shape().str()));
  const double eps = eps_of(A.dtype()), n = static_cast<double>(A.numel());
  const double total = detail::with_dtype(A.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T *a = detail::ptr<T>(A), *y = detail::ptr<T>(Y);
    double acc = 0;
    for (int64_t i = 0, size = A.numel(); i < size; ++i) {
      const double ai = std::clamp(static_cast<double>(a[i]), eps, 1.0 - eps), yi = y[i];
      acc += yi * std::log(ai) + (1.0 - yi) * std::log(1.0 - ai);
    }
    return acc;
  });
  Tensor J = full({}, -total / n, A.dtype());
  return record_op("binary_cross_entropy", "dA = (A − Y) / (A(1 − A)) / n, dY = (log(1 − A) − log A) / n", {A, Y}, J,
                   [A, Y, eps, n](BackwardContext& c) {
                     if (is_grad_enabled()) {  // create_graph: the formulas as recorded ops
                       Tensor a = clamp(A, eps, 1.0 - eps);
                       if (c.needs(0)) c.add(0, c.grad() * (a - Y) / (a * (1.0 - a)) / n);
                       if (c.needs(1)) c.add(1, c.grad() * (log(1.0 - a) - log(a)) / n);
                       return;
                     }
                     const double g = c.grad().item() / n;
                     if (c.needs(0)) c.add(0, bce_grad_a(A, Y, eps, g));
                     if (c.needs(1)) {
                       Tensor a = clamp(A, eps, 1.0 - eps);
                       c.add(1, (log(1.0 - a) - log(a)) * g);
                     }
                   });
}

Tensor softmax_cross_entropy(const Tensor& Z, const std::vector<int64_t>& labels) {
  check_classes("softmax_cross_entropy", Z);
  return ad::softmax_cross_entropy(Z, one_hot(labels, Z.size(0), Z.dtype()), 0);
}

Tensor categorical_cross_entropy(const Tensor& A, const Tensor& Y) {
  check_pair("categorical_cross_entropy", A, Y);
  check_classes("categorical_cross_entropy", A);
  Tensor a = clamp(A, eps_of(A.dtype()), 1.0);
  return -sum(Y * log(a)) / static_cast<double>(A.size(1));
}

Tensor categorical_cross_entropy(const Tensor& A, const std::vector<int64_t>& labels) {
  check_classes("categorical_cross_entropy", A);
  return categorical_cross_entropy(A, one_hot(labels, A.size(0), A.dtype()));
}

Tensor mse_loss(const Tensor& A, const Tensor& Y) {
  check_pair("mse_loss", A, Y);
  Tensor d = A - Y;
  return mean(d * d);
}

Tensor one_hot(const std::vector<int64_t>& labels, int64_t C, DType dtype) {
  if (C <= 0) throw ValueError(fmt::format("one_hot: C = {}; there must be at least one class", C));
  const auto m = static_cast<int64_t>(labels.size());
  Tensor Y = zeros({C, m}, dtype);
  detail::with_dtype(dtype, [&](auto tag) {
    auto* y = detail::ptr<decltype(tag)>(Y);
    for (int64_t i = 0; i < m; ++i) {
      const int64_t c = labels[static_cast<size_t>(i)];
      if (c < 0 || c >= C)
        throw ValueError(fmt::format("one_hot: label {} of column {} is outside [0, {})", c, i, C));
      y[c * m + i] = 1;
    }
  });
  return Y;
}

std::vector<int64_t> labels_of(const Tensor& indices) {
  if (indices.dim() > 2 || (indices.dim() == 2 && indices.size(0) != 1))
    throw ShapeError(fmt::format("labels_of: indices are {}; expected (1, m) or (m)", indices.shape().str()));
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(indices.numel()));
  for (double v : indices.to_vector()) {
    if (v != std::floor(v) || v < 0)
      throw ValueError(fmt::format("labels_of: {} is not a class index (a whole number ≥ 0)", v));
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

Tensor l2_regularization(Module& model, double lambda, int64_t m) {
  if (m <= 0) throw ValueError(fmt::format("l2_regularization: m = {}; it must be positive", m));
  Tensor total;
  for (auto& [name, p] : model.named_parameters()) {
    if (name.empty() || name[0] != 'W') continue;
    Tensor sq = sum(p * p);
    total = total.defined() ? total + sq : sq;
  }
  if (!total.defined()) throw UsageError("l2_regularization: the model has no weights W[l]");
  return total * (lambda / (2.0 * static_cast<double>(m)));
}

}  // namespace ad::nn
