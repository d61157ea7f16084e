// Metrics on predictions A (n[L], m) against targets: binary when n[L] = 1 (threshold 0.5),
// multi-class otherwise (the argmax over the classes, dim 0). Plain numbers, not recorded.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::nn {

/// The predicted class of every column: [A > 0.5] for one row, argmax over dim 0 otherwise
/// (the first on ties). For logits of a binary net use threshold 0 — or pass σ(Z).
std::vector<int64_t> predict(const Tensor& A, double threshold = 0.5);
/// The true class of every column of Y: Y itself (0/1 or class indices) for one row or int64
/// labels (m) or (1, m), the argmax of a one-hot Y otherwise.
std::vector<int64_t> target_labels(const Tensor& Y);

/// Fraction of columns whose predicted class matches Y's (Y as for target_labels).
double accuracy(const Tensor& A, const Tensor& Y);
/// Fraction of columns whose predicted class equals labels[i].
double accuracy(const Tensor& A, const std::vector<int64_t>& labels);

/// counts[true class][predicted class] over C classes.
struct ConfusionMatrix {
  std::vector<std::vector<int64_t>> counts;  ///< C rows of C counts
  /// C, the number of classes.
  int64_t classes() const { return static_cast<int64_t>(counts.size()); }
  /// How many columns of class `truth` were predicted as `predicted` (unchecked).
  int64_t at(int64_t truth, int64_t predicted) const {
    return counts[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
  }
};
/// From class indices: predicted[i] against truth[i], each in [0, classes) (else ValueError).
ConfusionMatrix confusion_matrix(const std::vector<int64_t>& predicted, const std::vector<int64_t>& truth,
                                 int64_t classes);
/// From predictions A and targets Y (C = 2 for one row, n[L] otherwise).
ConfusionMatrix confusion_matrix(const Tensor& A, const Tensor& Y);
/// Rows are true classes, columns predicted ones.
std::ostream& operator<<(std::ostream& os, const ConfusionMatrix& cm);

}  // namespace ad::nn
