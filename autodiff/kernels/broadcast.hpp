// Internal (kernel layer): the one N-d loop behind every broadcasting kernel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "autodiff/shape.hpp"

namespace ad::kernels {

/// Walks `shape` in row-major order one row (its last dim) at a time and keeps, for each of K
/// operands, the offset of the element that lines up with the row's first element. Operand
/// dims are right-aligned with `shape` and must equal its dims or be 1 (NumPy broadcasting,
/// checked by the caller); along a dim of 1, or one the operand lacks, its elements repeat.
/// A 0-d shape is one row of one element.
template <size_t K>
class BroadcastRows {
 public:
  BroadcastRows(const Shape& shape, const std::array<const Shape*, K>& operands) : shape_(shape) {
    rank_ = shape.size();
    count_ = shape.numel();
    row_ = rank_ == 0 ? 1 : shape[rank_ - 1];
    for (size_t k = 0; k < K; ++k) set_strides(*operands[k], strides_[k]);
  }

  /// Elements per row.
  int64_t row_length() const { return row_; }
  /// Whether operand k advances along a row (true) or repeats one element (false).
  bool walks(size_t k) const { return rank_ > 0 && strides_[k][rank_ - 1] != 0; }

  /// Calls f(start, offsets) for every row: `start` is the row's first element in `shape`,
  /// offsets[k] operand k's element that lines up with it.
  template <class F>
  void for_each_row(F&& f) const {
    if (count_ == 0) return;
    std::array<int64_t, K> offsets{};
    int64_t index[Shape::kMaxRank] = {};
    for (int64_t start = 0; start < count_; start += row_) {
      f(start, offsets);
      for (size_t d = rank_ == 0 ? 0 : rank_ - 1; d-- > 0;) {  // the outer dims count like an odometer
        for (size_t k = 0; k < K; ++k) offsets[k] += strides_[k][d];
        if (++index[d] < shape_[d]) break;
        for (size_t k = 0; k < K; ++k) offsets[k] -= strides_[k][d] * shape_[d];
        index[d] = 0;
      }
    }
  }

 private:
  // Row-major strides of `s` seen from `shape_`: 0 where s has 1 or lacks the dim.
  void set_strides(const Shape& s, int64_t* strides) const {
    const size_t offset = rank_ - s.size();
    int64_t stride = 1;
    for (size_t i = rank_; i-- > 0;) {
      const int64_t d = i < offset ? 1 : s[i - offset];
      strides[i] = d == 1 ? 0 : stride;
      stride *= d;
    }
  }

  const Shape& shape_;
  size_t rank_ = 0;
  int64_t count_ = 0, row_ = 1;
  int64_t strides_[K][Shape::kMaxRank] = {};
};

}  // namespace ad::kernels
