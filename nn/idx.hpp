// The IDX file format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//
// An IDX file is a big-endian header — two zero bytes, a type byte (0x08: unsigned bytes), the
// number of dims — then one uint32 per dim, then the values in row-major order. Images are
// idx3 (m, rows, cols); labels are idx1 (m).
//
//   auto train = ad::nn::load_idx_split("/usr/share/datasets/fashion-mnist", "train");
//   train.X;        // (784, m) float32 in [0, 1]: one image per column, as X = A[0]
//   train.labels;   // m class indices in [0, 10)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::nn {

/// The images of an idx3 file as X of shape (rows·cols, m), float32 scaled to [0, 1], one
/// image per column (pixels row-major). `limit` ≥ 0 keeps only the first `limit` images.
/// Throws ValueError naming the file for a missing, truncated or corrupt file.
Tensor read_idx_images(const std::string& path, int64_t limit = -1);

/// The labels of an idx1 file; each must be < num_classes (else ValueError naming the index).
std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes = 10, int64_t limit = -1);

/// Images and labels of one split.
struct IdxSplit {
  Tensor X;                     ///< (rows·cols, m) in [0, 1]
  std::vector<int64_t> labels;  ///< m class indices
};

/// Reads "<prefix>-images-idx3-ubyte" and "<prefix>-labels-idx1-ubyte" from `dir`, each with or
/// without a ".gz" suffix (prefix "train" or "t10k" in the MNIST layout). The two counts must
/// agree.
IdxSplit load_idx_split(const std::string& dir, const std::string& prefix, int64_t num_classes = 10,
                        int64_t limit = -1);

/// The path of `name` or `name.gz` in `dir`, whichever exists (empty when neither does).
std::string find_idx_file(const std::string& dir, const std::string& name);

}  // namespace ad::nn
