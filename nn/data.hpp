// Mini-batches over (X, Y) in column layout: X is (n[0], m), Y is (n[L], m), and a batch is
// the same columns of both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::nn {

/// One mini-batch: the same columns of X and Y.
struct Batch {
  Tensor X;  ///< (n[0], batch columns)
  Tensor Y;  ///< (n[L], batch columns); undefined when the iterator was built without Y
};

/// The columns `index` of a 2-D tensor, copied (data, not recorded).
Tensor gather_columns(const Tensor& A, const std::vector<int64_t>& index);
/// The rows `index` of a sample-major (m, n) tensor (one sample per row: the layout of IDX
/// files and of batch-first frameworks) as the (n, k) columns of a batch; the same result as
/// gather_columns(transpose(samples), index). For random mini-batches of a large data set this
/// is the fast layout: a batch reads k contiguous rows, where gather_columns on a (n, m) tensor
/// reads n·k elements m apart, a cache miss each.
Tensor gather_samples(const Tensor& samples, const std::vector<int64_t>& index);

/// ⌈m / batch_size⌉ batches of consecutive columns in the current order; the last one keeps
/// the remainder. With shuffling, the order is a permutation drawn from this thread's
/// generator (ad::manual_seed makes it repeatable): at construction and at every shuffle().
///
///   nn::MiniBatches batches(X, Y, 64);
///   for (int epoch = 0; epoch < 10; ++epoch, batches.shuffle())
///     for (const nn::Batch& b : batches) { … b.X, b.Y … }
class MiniBatches {
 public:
  /// Batches of X (n[0], m) and Y (n[L], m; may be undefined) of batch_size columns each,
  /// shuffled unless `shuffle` is false.
  MiniBatches(Tensor X, Tensor Y, int64_t batch_size, bool shuffle = true);
  /// The same batches (X as (n[0], batch) columns) from a sample-major (m, n[0]) data set; see
  /// gather_samples. Y stays (n[L], m).
  static MiniBatches of_samples(Tensor samples, Tensor Y, int64_t batch_size, bool shuffle = true);

  /// Draws a new column order (call once per epoch).
  void shuffle();
  /// Number of batches.
  size_t size() const;
  /// Batch k in the current order.
  Batch operator[](size_t k) const;
  /// The current column order (a permutation of 0 … m−1).
  const std::vector<int64_t>& order() const { return order_; }

  /// Walks the batches in the current order (for range-for).
  class iterator {
   public:
    /// At batch k of `owner`.
    iterator(const MiniBatches* owner, size_t k) : owner_(owner), k_(k) {}
    /// The batch here (gathered when asked for).
    Batch operator*() const { return (*owner_)[k_]; }
    /// The next batch.
    iterator& operator++() {
      ++k_;
      return *this;
    }
    /// At the same batch.
    bool operator==(const iterator& o) const { return k_ == o.k_; }
    /// At different batches.
    bool operator!=(const iterator& o) const { return k_ != o.k_; }

   private:
    const MiniBatches* owner_;
    size_t k_;
  };
  /// The first batch.
  iterator begin() const { return {this, 0}; }
  /// Past the last batch.
  iterator end() const { return {this, size()}; }

 private:
  MiniBatches(Tensor X, Tensor Y, int64_t batch_size, bool shuffle, bool sample_major);

  Tensor X_, Y_;  // X_ is (n[0], m), or (m, n[0]) when sample_major_
  int64_t batch_size_;
  bool sample_major_ = false;
  bool shuffle_;
  std::vector<int64_t> order_;
};

/// Every batch of one shuffled epoch, as a list (MiniBatches does the same without copying them all).
std::vector<Batch> random_mini_batches(const Tensor& X, const Tensor& Y, int64_t batch_size);

}  // namespace ad::nn
