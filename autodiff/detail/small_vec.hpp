// SmallVec<T, N>: the first N elements live inline, so the common op (one or two inputs)
// records without touching the heap.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace ad::detail {

template <class T, size_t N>
class SmallVec {
 public:
  void push_back(T v) {
    if (size_ < N && heap_.empty()) {
      inline_[size_++] = std::move(v);
      return;
    }
    if (heap_.empty()) {  // spill the inline elements once
      heap_.reserve(2 * N);
      for (size_t i = 0; i < size_; ++i) heap_.push_back(std::move(inline_[i]));
      for (size_t i = 0; i < size_; ++i) inline_[i] = T();
    }
    heap_.push_back(std::move(v));
    ++size_;
  }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return heap_.empty() ? inline_[i] : heap_[i]; }
  const T& operator[](size_t i) const { return heap_.empty() ? inline_[i] : heap_[i]; }
  void clear() {
    for (size_t i = 0; i < N; ++i) inline_[i] = T();
    heap_.clear();
    size_ = 0;
  }

 private:
  T inline_[N]{};
  std::vector<T> heap_;
  size_t size_ = 0;
};

}  // namespace ad::detail
