#include "nn/data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "autodiff/autodiff.hpp"
#include "autodiff/kernels/dispatch.hpp"

namespace ad::nn {

Tensor gather_columns(const Tensor& A, const std::vector<int64_t>& index) {
  if (A.dim() != 2) throw ShapeError(fmt::format("gather_columns: A is {}; it must be 2-D (n, m)", A.shape().str()));
  const int64_t rows = A.size(0), m = A.size(1), k = static_cast<int64_t>(index.size());
  Tensor out = empty({rows, k}, A.dtype());
  kernels::dispatch_all(A.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* a = static_cast<T*>(A.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    for (int64_t c : index)
      if (c < 0 || c >= m) throw ValueError(fmt::format("gather_columns: column {} is outside [0, {})", c, m));
    // Row-outer: each output row is written in order and each input row is read once, instead
    // of a stride-m walk per column (a cache and TLB miss per element on a (784, 60000) X).
    for (int64_t r = 0; r < rows; ++r) {
      const T* arow = a + r * m;
      T* orow = o + r * k;
      for (int64_t j = 0; j < k; ++j) orow[j] = arow[index[static_cast<size_t>(j)]];
    }
  });
  return out;
}

Tensor gather_samples(const Tensor& samples, const std::vector<int64_t>& index) {
  if (samples.dim() != 2)
    throw ShapeError(fmt::format("gather_samples: samples are {}; they must be 2-D (m, n), one sample per row",
                                 samples.shape().str()));
  const int64_t m = samples.size(0), n = samples.size(1), k = static_cast<int64_t>(index.size());
  for (int64_t r : index)
    if (r < 0 || r >= m) throw ValueError(fmt::format("gather_samples: sample {} is outside [0, {})", r, m));
  Tensor out = empty({n, k}, samples.dtype());
  kernels::dispatch_all(samples.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<T*>(samples.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    // Blocks of 16 samples: each output row segment written is one cache line, and each of the
    // 16 sample rows is read front to back.
    constexpr int64_t kBlock = 16;
    const T* src[kBlock];
    for (int64_t j0 = 0; j0 < k; j0 += kBlock) {
      const int64_t w = std::min(kBlock, k - j0);
      for (int64_t j = 0; j < w; ++j) src[j] = s + index[static_cast<size_t>(j0 + j)] * n;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < w; ++j) o[r * k + j0 + j] = src[j][r];
    }
  });
  return out;
}

MiniBatches::MiniBatches(Tensor X, Tensor Y, int64_t batch_size, bool shuffle)
    : MiniBatches(std::move(X), std::move(Y), batch_size, shuffle, false) {}

MiniBatches MiniBatches::of_samples(Tensor samples, Tensor Y, int64_t batch_size, bool shuffle) {
  return MiniBatches(std::move(samples), std::move(Y), batch_size, shuffle, true);
}

MiniBatches::MiniBatches(Tensor X, Tensor Y, int64_t batch_size, bool shuffle, bool sample_major)
    : X_(std::move(X)), Y_(std::move(Y)), batch_size_(batch_size), sample_major_(sample_major), shuffle_(shuffle) {
  if (!X_.defined() || X_.dim() != 2)
    throw ShapeError(sample_major_ ? "MiniBatches: the samples must be a 2-D (m, n[0]) tensor, one sample per row"
                                   : "MiniBatches: X must be a 2-D (n[0], m) tensor, samples as columns");
  const int64_t m = X_.size(sample_major_ ? 0 : 1);
  if (Y_.defined() && (Y_.dim() != 2 || Y_.size(1) != m))
    throw ShapeError(fmt::format("MiniBatches: {} is {} but Y is {}; Y must be (n[L], m) with the same m",
                                 sample_major_ ? "the samples tensor" : "X", X_.shape().str(), Y_.shape().str()));
  if (batch_size <= 0) throw ValueError(fmt::format("MiniBatches: batch_size = {} must be > 0", batch_size));
  order_.resize(static_cast<size_t>(m));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (shuffle_) this->shuffle();
}

void MiniBatches::shuffle() {
  if (!shuffle_) return;
  // Fisher–Yates from the tape's generator, so the permutation follows ad::manual_seed.
  for (size_t i = order_.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(random_u64() % i);
    std::swap(order_[i - 1], order_[j]);
  }
}

namespace {
void check_rank(const char* who, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks)
    throw ValueError(fmt::format("{}: rank {} of {} ranks; need ranks ≥ 1 and 0 ≤ rank < ranks", who, rank, ranks));
}
}  // namespace

ColumnRange shard_range(int64_t m, int rank, int ranks) {
  check_rank("shard_range", rank, ranks);
  if (m < 0) throw ValueError(fmt::format("shard_range: m = {} columns", m));
  const int64_t base = m / ranks, extra = m % ranks;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

ColumnRange batch_shard(int64_t columns, int rank, int ranks) {
  check_rank("batch_shard", rank, ranks);
  if (columns < 0) throw ValueError(fmt::format("batch_shard: {} columns", columns));
  const int64_t share = columns / ranks;
  return {rank * share, (rank + 1) * share};
}

MiniBatches& MiniBatches::shard(int rank, int ranks) {
  check_rank("MiniBatches::shard", rank, ranks);
  if (batch_size_ % ranks != 0)
    throw ValueError(fmt::format("MiniBatches::shard: the batch of {} columns does not split evenly over {} ranks; use "
                                 "a multiple of {}",
                                 batch_size_, ranks, ranks));
  rank_ = rank, ranks_ = ranks;
  return *this;
}

// The columns of the last batch: the remainder, cut to a multiple of the ranks.
size_t MiniBatches::size() const {
  const auto m = static_cast<int64_t>(order_.size());
  const int64_t rest = m % batch_size_;
  return static_cast<size_t>(m / batch_size_ + (rest - rest % ranks_ > 0 ? 1 : 0));
}

Batch MiniBatches::operator[](size_t k) const {
  if (k >= size()) throw ValueError(fmt::format("MiniBatches: batch {} of {}", k, size()));
  const auto m = static_cast<int64_t>(order_.size());
  const int64_t first = static_cast<int64_t>(k) * batch_size_;
  const int64_t global = std::min(batch_size_, m - first);
  const ColumnRange part = batch_shard(global - global % ranks_, rank_, ranks_);
  const std::vector<int64_t> cols(order_.begin() + first + part.begin, order_.begin() + first + part.end);
  return {sample_major_ ? gather_samples(X_, cols) : gather_columns(X_, cols),
          Y_.defined() ? gather_columns(Y_, cols) : Tensor()};
}

std::vector<Batch> random_mini_batches(const Tensor& X, const Tensor& Y, int64_t batch_size) {
  MiniBatches batches(X, Y, batch_size, true);
  std::vector<Batch> out;
  for (const Batch& b : batches) out.push_back(b);
  return out;
}

}  // namespace ad::nn
