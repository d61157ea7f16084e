#include "nn/losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autodiff/autodiff.hpp"
#include "autodiff/kernels/dispatch.hpp"

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

}  // namespace

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
  if (is_recording())
    throw UsageError("one_hot: builds targets from host labels, which a replay of ad::compile would not read again; "
                     "make the one-hot targets outside the compiled function and pass them in as an argument");
  const auto m = static_cast<int64_t>(labels.size());
  Tensor Y = zeros({C, m}, dtype);
  kernels::dispatch(dtype, [&](auto tag) {
    auto* y = static_cast<decltype(tag)*>(Y.raw_data());
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
