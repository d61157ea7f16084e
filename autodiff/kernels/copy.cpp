#include "autodiff/kernels/copy.hpp"

#include <algorithm>
#include <cstring>

#include "autodiff/kernels/broadcast.hpp"
#include "autodiff/kernels/dispatch.hpp"

namespace ad::kernels {
namespace {

// `count` blocks of `block` elements, the i-th read at src + i·src_step and written at
// dst + i·dst_step (all in elements).
void copy_blocks(const void* src, int64_t src_step, void* dst, int64_t dst_step, int64_t count, int64_t block,
                 DType dtype) {
  const size_t elem = dtype_size(dtype);
  const auto* s = static_cast<const char*>(src);
  auto* d = static_cast<char*>(dst);
  for (int64_t i = 0; i < count && block > 0; ++i)
    std::memcpy(d + i * dst_step * elem, s + i * src_step * elem, static_cast<size_t>(block) * elem);
}

}  // namespace

void transpose(In x, Out out) {
  const int64_t r = x.shape[0], c = x.shape[1];
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.as<T>();
    T* o = out.as<T>();
    constexpr int64_t kBlock = 32;  // blocked so both sides stay in cache
    for (int64_t i0 = 0; i0 < r; i0 += kBlock)
      for (int64_t j0 = 0; j0 < c; j0 += kBlock)
        for (int64_t i = i0; i < std::min(r, i0 + kBlock); ++i)
          for (int64_t j = j0; j < std::min(c, j0 + kBlock); ++j) o[j * r + i] = p[i * c + j];
  });
}

void broadcast(In x, Out out) {
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.as<T>();
    T* o = out.as<T>();
    const BroadcastRows<1> rows(out.shape, {&x.shape});
    const int64_t len = rows.row_length(), step = rows.walks(0);
    rows.for_each_row([&](int64_t start, const std::array<int64_t, 1>& at) {
      for (int64_t j = 0; j < len; ++j) o[start + j] = p[at[0] + j * step];
    });
  });
}

// Each outer index holds one contiguous block of x.shape[dim]·inner elements in x, and one at
// offset·inner within its (n·inner) row of out; a slice is the reverse.
void place(In x, int64_t dim, int64_t offset, Out out) {
  const DimSplit s = split_at(out.shape, dim);
  const int64_t block = x.shape[static_cast<size_t>(dim)] * s.inner;
  copy_blocks(x.data, block, out.as<char>() + offset * s.inner * dtype_size(x.dtype), s.n * s.inner, s.outer, block,
              x.dtype);
}

void slice(In x, int64_t dim, int64_t start, Out out) {
  const DimSplit s = split_at(x.shape, dim);
  const int64_t block = out.shape[static_cast<size_t>(dim)] * s.inner;
  copy_blocks(x.as<char>() + start * s.inner * dtype_size(x.dtype), s.n * s.inner, out.data, block, s.outer, block,
              x.dtype);
}

void index_select(In x, int64_t dim, const int64_t* index, Out out) {
  const DimSplit s = split_at(x.shape, dim);
  const size_t row = static_cast<size_t>(s.inner) * dtype_size(x.dtype);
  const int64_t k = out.shape[static_cast<size_t>(dim)];
  const auto* src = static_cast<const char*>(x.data);
  char* o = static_cast<char*>(out.data);
  for (int64_t b = 0; b < s.outer && row > 0; ++b)
    for (int64_t j = 0; j < k; ++j) {
      const int64_t at = index[j] < 0 ? index[j] + s.n : index[j];
      std::memcpy(o + (b * k + j) * row, src + (b * s.n + at) * row, row);
    }
}

void index_add(In x, int64_t dim, const int64_t* index, Out out) {
  const DimSplit s = split_at(out.shape, dim);
  const int64_t k = x.shape[static_cast<size_t>(dim)];
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.as<T>();
    T* o = out.as<T>();
    std::fill(o, o + out.shape.numel(), T(0));
    for (int64_t b = 0; b < s.outer; ++b)
      for (int64_t j = 0; j < k; ++j) {
        const T* row = src + (b * k + j) * s.inner;
        T* dst = o + (b * s.n + (index[j] < 0 ? index[j] + s.n : index[j])) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) dst[i] += row[i];
      }
  });
}

void copy(In x, Out out) {
  const size_t bytes = static_cast<size_t>(x.shape.numel()) * dtype_size(x.dtype);
  if (bytes > 0 && x.data != out.data) std::memmove(out.data, x.data, bytes);
}

void one_hot(In labels, int64_t dim, Out out) {
  const DimSplit s = split_at(out.shape, dim);
  const int64_t* label = labels.as<int64_t>();
  dispatch(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.as<T>();
    std::fill(o, o + out.shape.numel(), T(0));
    for (int64_t b = 0; b < s.outer; ++b)
      for (int64_t i = 0; i < s.inner; ++i) o[(b * s.n + label[b * s.inner + i]) * s.inner + i] = T(1);
  });
}

void convert(In x, Out out) {
  dispatch_all(x.dtype, [&](auto from) {
    dispatch_all(out.dtype, [&](auto to) {
      using S = decltype(from);
      using D = decltype(to);
      const S* src = x.as<S>();
      D* dst = out.as<D>();
      for (int64_t i = 0, n = x.shape.numel(); i < n; ++i) dst[i] = static_cast<D>(src[i]);
    });
  });
}

void fill(Out out, double value) {
  dispatch_all(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = out.as<T>();
    const T v = static_cast<T>(value);
    for (int64_t i = 0, n = out.shape.numel(); i < n; ++i) p[i] = v;
  });
}

}  // namespace ad::kernels
