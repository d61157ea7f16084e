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

/// A range of columns [begin, end).
struct ColumnRange {
  int64_t begin = 0;  ///< the first column
  int64_t end = 0;    ///< one past the last column
  /// The number of columns.
  int64_t size() const { return end - begin; }
};

/// The part of a data set of m columns that rank `rank` of `ranks` takes, for evaluation:
/// contiguous, ⌈m / ranks⌉ columns for the first m mod ranks ranks and ⌊m / ranks⌋ for the
/// others, so that every column belongs to exactly one rank (combine counts over ranks, not
/// averages: dist::accuracy). ValueError unless 0 ≤ rank < ranks and m ≥ 0.
ColumnRange shard_range(int64_t m, int rank, int ranks);
/// The part of one global mini-batch of `columns` columns that rank `rank` of `ranks` takes
/// for training: ⌊columns / ranks⌋ consecutive columns, the same number on every rank, so the
/// mean over ranks of their mean gradients is the mean gradient of the batch. The columns mod
/// ranks left at the end belong to no rank (MiniBatches::shard keeps there being none).
ColumnRange batch_shard(int64_t columns, int rank, int ranks);

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

  /// Data-parallel training: from now on batch k is rank `rank` of `ranks`'s part of the global
  /// batch k (batch_size columns; batch_shard). Every rank must draw the same order: the same
  /// seed and the same shuffle() calls. batch_size must be a multiple of ranks (ValueError).
  /// When m is not a multiple of batch_size, the last batch keeps the largest multiple of ranks
  /// of its columns (the fewer than `ranks` others sit out this epoch; the next shuffle picks
  /// others) and is dropped when that leaves none: every rank gets the same number of batches,
  /// of the same sizes. Returns *this.
  MiniBatches& shard(int rank, int ranks);

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
  int rank_ = 0, ranks_ = 1;
  std::vector<int64_t> order_;
};

/// Every batch of one shuffled epoch, as a list (MiniBatches does the same without copying them all).
std::vector<Batch> random_mini_batches(const Tensor& X, const Tensor& Y, int64_t batch_size);

}  // namespace ad::nn
