#include "nn/metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ostream>

#include "autodiff/autodiff.hpp"
#include "nn/losses.hpp"

namespace ad::nn {

namespace {

void check_2d(const char* who, const char* what, const Tensor& t) {
  if (!t.defined() || t.dim() != 2)
    throw ShapeError(fmt::format("{}: {} must be 2-D (n[L], m), samples as columns; it is {}", who, what,
                                 t.defined() ? t.shape().str() : "undefined"));
}

// argmax over dim 0 of a (C, m) matrix given row-major values.
std::vector<int64_t> column_argmax(const std::vector<double>& v, int64_t C, int64_t m) {
  std::vector<int64_t> out(static_cast<size_t>(m), 0);
  for (int64_t j = 0; j < m; ++j)
    for (int64_t c = 1; c < C; ++c)
      if (v[static_cast<size_t>(c * m + j)] > v[static_cast<size_t>(out[static_cast<size_t>(j)] * m + j)])
        out[static_cast<size_t>(j)] = c;
  return out;
}

double fraction_equal(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size())
    throw ShapeError(fmt::format("accuracy: {} predictions but {} targets", a.size(), b.size()));
  if (a.empty()) throw ValueError("accuracy: no samples (m = 0)");
  size_t hits = 0;
  for (size_t i = 0; i < a.size(); ++i) hits += a[i] == b[i];
  return static_cast<double>(hits) / static_cast<double>(a.size());
}

}  // namespace

std::vector<int64_t> predict(const Tensor& A, double threshold) {
  check_2d("predict", "A", A);
  const auto v = A.to_vector();
  if (A.size(0) > 1) return column_argmax(v, A.size(0), A.size(1));
  std::vector<int64_t> out;
  out.reserve(v.size());
  for (double a : v) out.push_back(a > threshold ? 1 : 0);
  return out;
}

std::vector<int64_t> target_labels(const Tensor& Y) {
  if (Y.defined() && Y.dtype() == DType::i64) return labels_of(Y);
  check_2d("target_labels", "Y", Y);
  const auto v = Y.to_vector();
  if (Y.size(0) > 1) return column_argmax(v, Y.size(0), Y.size(1));
  std::vector<int64_t> out;
  out.reserve(v.size());
  for (double y : v) out.push_back(static_cast<int64_t>(std::llround(y)));
  return out;
}

double accuracy(const Tensor& A, const Tensor& Y) {
  check_2d("accuracy", "A", A);
  if (Y.defined() && Y.dtype() == DType::i64) return fraction_equal(predict(A), labels_of(Y));
  check_2d("accuracy", "Y", Y);
  if (A.size(1) != Y.size(1))
    throw ShapeError(fmt::format("accuracy: A is {} but Y is {}; they need the same m", A.shape().str(), Y.shape().str()));
  return fraction_equal(predict(A), target_labels(Y));
}

double accuracy(const Tensor& A, const std::vector<int64_t>& labels) { return fraction_equal(predict(A), labels); }

ConfusionMatrix confusion_matrix(const std::vector<int64_t>& predicted, const std::vector<int64_t>& truth,
                                 int64_t classes) {
  if (predicted.size() != truth.size())
    throw ShapeError(fmt::format("confusion_matrix: {} predictions but {} targets", predicted.size(), truth.size()));
  if (classes <= 0) throw ValueError(fmt::format("confusion_matrix: {} classes", classes));
  ConfusionMatrix cm{std::vector<std::vector<int64_t>>(static_cast<size_t>(classes),
                                                        std::vector<int64_t>(static_cast<size_t>(classes), 0))};
  for (size_t i = 0; i < truth.size(); ++i) {
    const int64_t t = truth[i], p = predicted[i];
    if (t < 0 || t >= classes || p < 0 || p >= classes)
      throw ValueError(fmt::format("confusion_matrix: sample {} has class {} / prediction {} outside [0, {})", i, t, p,
                                   classes));
    ++cm.counts[static_cast<size_t>(t)][static_cast<size_t>(p)];
  }
  return cm;
}

ConfusionMatrix confusion_matrix(const Tensor& A, const Tensor& Y) {
  check_2d("confusion_matrix", "A", A);
  const int64_t C = A.size(0) == 1 ? 2 : A.size(0);
  return confusion_matrix(predict(A), target_labels(Y), C);
}

std::ostream& operator<<(std::ostream& os, const ConfusionMatrix& cm) {
  os << "truth \\ predicted";
  for (int64_t p = 0; p < cm.classes(); ++p) os << fmt::format(" {:>6}", p);
  os << '\n';
  for (int64_t t = 0; t < cm.classes(); ++t) {
    os << fmt::format("{:>17}", t);
    for (int64_t p = 0; p < cm.classes(); ++p) os << fmt::format(" {:>6}", cm.at(t, p));
    os << '\n';
  }
  return os;
}

}  // namespace ad::nn
