#include "nn/losses.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/autodiff.hpp"
#include "autodiff/kernels/dispatch.hpp"
#include "nn/linear.hpp"

namespace ad::nn {

namespace {

void check_classes(const char* cost, const Tensor& A) {
  if (!A.defined() || A.dim() != 2)
    throw ShapeError(fmt::format("{}: prediction is {}; it must be (C, m), classes along dim 0", cost,
                                 A.defined() ? A.shape().str() : "undefined"));
}

// Σ ‖W‖²_F of every Linear in the module tree, added onto `total`.
void add_weight_norms(Module& m, Tensor& total) {
  if (auto* linear = dynamic_cast<Linear*>(&m)) {
    Tensor sq = sum(linear->W * linear->W);
    total = total.defined() ? total + sq : sq;
  }
  for (const auto& child : m.children()) add_weight_norms(*child, total);
}

}  // namespace

Tensor softmax_cross_entropy(const Tensor& Z, const std::vector<int64_t>& labels) {
  check_classes("softmax_cross_entropy", Z);
  return ad::softmax_cross_entropy(Z, one_hot(labels, Z.size(0), Z.dtype()), 0);
}

Tensor categorical_cross_entropy(const Tensor& A, const std::vector<int64_t>& labels) {
  check_classes("categorical_cross_entropy", A);
  return ad::categorical_cross_entropy(A, one_hot(labels, A.size(0), A.dtype()), 0);
}

Tensor one_hot(const std::vector<int64_t>& labels, int64_t C, DType dtype) {
  if (C <= 0) throw ValueError(fmt::format("one_hot: C = {}; there must be at least one class", C));
  if (!is_floating(dtype)) throw DTypeError(fmt::format("one_hot: the result is float32 or float64, not {}", dtype_name(dtype)));
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

Tensor one_hot(const Tensor& labels, int64_t C, DType dtype) { return one_hot(labels_of(labels), C, dtype); }

std::vector<int64_t> labels_of(const Tensor& indices) {
  if (!indices.defined() || indices.dim() > 2 || (indices.dim() == 2 && indices.size(0) != 1))
    throw ShapeError(fmt::format("labels_of: indices are {}; expected (1, m) or (m)",
                                 indices.defined() ? indices.shape().str() : "undefined"));
  if (indices.dtype() == DType::i64) {
    const int64_t* p = indices.data<int64_t>();
    for (int64_t i = 0; i < indices.numel(); ++i)
      if (p[i] < 0) throw ValueError(fmt::format("labels_of: {} is not a class index (a whole number ≥ 0)", p[i]));
    return std::vector<int64_t>(p, p + indices.numel());
  }
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
  add_weight_norms(model, total);
  if (!total.defined()) throw UsageError("l2_regularization: the model has no Linear layer, so no weights W[l]");
  return total * (lambda / (2.0 * static_cast<double>(m)));
}

}  // namespace ad::nn
