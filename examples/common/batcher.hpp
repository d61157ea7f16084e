// Shuffled mini-batches of images with optional horizontal flips, assembled from a
// sample-major copy of X. Gathering one column of the (784, m) layout touches 784 cache lines
// spread over the whole array; one row of the (m, 784) copy is 3 KB of contiguous memory, so
// building a batch costs little next to its matrix products.
#pragma once

#include <cstdint>
#include <vector>

#include <autodiff/autodiff.hpp>

namespace ex {

struct ImageBatch {
  ad::Tensor X;  ///< (pixels, B), one image per column
  ad::Tensor Y;  ///< (classes, B) one-hot (or label-smoothed)
  std::vector<int64_t> labels;
};

class ImageBatcher {
 public:
  /// X is (width·height, m) with one image per column; `flip` mirrors each image left–right
  /// with probability 1/2, drawn anew at every shuffle() (a label-preserving augmentation for
  /// clothing). Shuffles from ad's generator at construction.
  /// `smoothing` ε > 0 gives label-smoothed targets: 1 − ε + ε/C for the class, ε/C elsewhere.
  ImageBatcher(const ad::Tensor& X, std::vector<int64_t> labels, int64_t classes, int64_t batch, int width,
               bool flip, double smoothing = 0.0);
  /// A new order (and new flips) from this thread's generator (ad::manual_seed).
  void shuffle();
  /// Data-parallel training: batch k becomes rank `rank` of `ranks`'s part of the global batch
  /// k, as nn::MiniBatches::shard does (every rank draws the same order and flips).
  void shard(int rank, int ranks);
  size_t size() const;
  ImageBatch operator[](size_t k) const;

 private:
  std::vector<float> rows_;  // (m, pixels)
  std::vector<int64_t> labels_, order_;
  std::vector<uint8_t> flipped_;
  int64_t pixels_, classes_, batch_;
  int rank_ = 0, ranks_ = 1;
  double smoothing_;
  int width_;
  bool flip_;
};

}  // namespace ex
