// The IDX file format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//
// An IDX file is a big-endian header — two zero bytes, a type byte (0x08: unsigned bytes), the
// number of dims — then one uint32 per dim, then the values in row-major order. Images are
// idx3 (m, rows, cols); labels are idx1 (m).
//
// Files from elsewhere are read strictly and with bounded memory: only regular files (a FIFO,
// a device, a directory or a /proc file is refused at once); a file starting with the gzip
// magic is decompressed (one gzip member or several, nothing after them), anything else is
// read as it is. The declared dims must match the data exactly — no byte missing, none left
// over — and the data they declare may be at most kMaxIdxDataBytes. A plain file's size is
// checked before anything is allocated; a gzip file is decompressed only up to the declared
// size plus one byte, so memory stays within the declared size plus a constant (64 KiB of
// input buffer and zlib's state) whatever the file expands to.
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

/// The most data an IDX file may declare: 2^30 bytes (1 GiB, about 1.37 million 28×28 images).
/// With a `limit`, only the data read counts.
inline constexpr uint64_t kMaxIdxDataBytes = uint64_t{1} << 30;

/// The images of an idx3 file as X of shape (rows·cols, m), float32 scaled to [0, 1], one
/// image per column (pixels row-major). `limit` ≥ 0 keeps only the first `limit` images.
/// Throws ValueError naming the file for a missing, unreadable, truncated, oversized or corrupt
/// file, or one with data after what its dims declare (without a limit).
Tensor read_idx_images(const std::string& path, int64_t limit = -1);

/// The labels of an idx1 file; each must be < num_classes (else ValueError naming the index).
/// `num_classes` < 1 is a ValueError about the argument, before the file is opened. Files are
/// read as read_idx_images reads them.
std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes = 10, int64_t limit = -1);

/// Images and labels of one split.
struct IdxSplit {
  Tensor X;                     ///< (rows·cols, m) in [0, 1]
  std::vector<int64_t> labels;  ///< m class indices
};

/// Reads "<prefix>-images-idx3-ubyte" and "<prefix>-labels-idx1-ubyte" from `dir`, each with or
/// without a ".gz" suffix (prefix "train" or "t10k" in the MNIST layout). The two counts must
/// agree; `num_classes` ≥ 1.
IdxSplit load_idx_split(const std::string& dir, const std::string& prefix, int64_t num_classes = 10,
                        int64_t limit = -1);

/// The path of `name` or `name.gz` in `dir`, whichever exists (empty when neither does).
std::string find_idx_file(const std::string& dir, const std::string& name);

}  // namespace ad::nn
