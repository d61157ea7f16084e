// Synthetic 2-D classification datasets, generated in code from this thread's generator
// (call ad::manual_seed first for a repeatable set). X is (2, m) with the samples as columns.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::nn {

/// A generated data set in column layout.
struct Dataset {
  Tensor X;                     ///< (2, m)
  Tensor Y;                     ///< (1, m) of 0/1 for two classes, one-hot (K, m) for K > 2
  std::vector<int64_t> labels;  ///< the class of every column
  int64_t classes = 2;          ///< the number of classes K
};

/// The planar "flower": two interleaved petal classes of m/2 points each, from the rose curve
/// r = a·sin(4t) with a = 4 and noise 0.2 in t and r. No straight line separates the classes.
Dataset flower(int64_t m = 400, DType dtype = DType::f32);
/// Two interleaving half circles (scikit-learn's make_moons) with Gaussian noise.
Dataset moons(int64_t m = 200, double noise = 0.1, DType dtype = DType::f32);
/// A small circle (class 1, radius `factor`) inside a large one (class 0, radius 1), with noise.
Dataset circles(int64_t m = 200, double noise = 0.05, double factor = 0.5, DType dtype = DType::f32);
/// K spiral arms of m_per_class points each (the CS231n spirals), radius 0…1, angle noise 0.2.
Dataset spirals(int64_t m_per_class = 100, int64_t K = 3, DType dtype = DType::f32);
/// Points uniform in [−1, 1]²; class 1 where exactly one coordinate is positive.
Dataset xor_data(int64_t m = 200, DType dtype = DType::f32);

}  // namespace ad::nn
