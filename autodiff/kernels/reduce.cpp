#include "autodiff/kernels/reduce.hpp"

#include <cmath>
#include <type_traits>
#include <vector>

#include "autodiff/kernels/broadcast.hpp"
#include "autodiff/kernels/dispatch.hpp"
#include "autodiff/kernels/simd.hpp"

namespace ad::kernels {
namespace {

// Σ row[j] in double (for accuracy). The simd reduction keeps one partial sum per vector lane,
// so the order is fixed by the clone the CPU picks: same machine, same bits.
template <class T>
double sum_row_any(const T* row, int64_t n) {
  double acc = 0;
  for (int64_t j = 0; j < n; ++j) acc += row[j];
  return acc;
}
AD_VEC_CLONES double sum_row_f32(const float* row, int64_t n) {
  double acc = 0;
  AD_SIMD_SUM(acc)
  for (int64_t j = 0; j < n; ++j) acc += static_cast<double>(row[j]);
  return acc;
}
template <class T>
double sum_row(const T* row, int64_t n) {
  if constexpr (std::is_same_v<T, float>) return sum_row_f32(row, n);
  else return sum_row_any(row, n);
}

// The maximum over the middle axis of every (outer, inner) lane, and the first index where it
// sits (a NaN wins, so it propagates like in every other op). Rows of `inner` contiguous
// elements are the inner loop, so reducing dim 0 of an (n, m) tensor reads memory in order.
// `best` gets outer·inner values; `where`, when not null, the indices.
template <class T, class I>
void max_lanes(const T* p, DimSplit s, T* best, I* where) {
  for (int64_t o = 0; o < s.outer; ++o) {
    const T* base = p + o * s.n * s.inner;
    T* b = best + o * s.inner;
    I* w = where ? where + o * s.inner : nullptr;
    for (int64_t i = 0; i < s.inner; ++i) b[i] = base[i];
    if (w)
      for (int64_t i = 0; i < s.inner; ++i) w[i] = I(0);
    for (int64_t k = 1; k < s.n; ++k) {
      const T* row = base + k * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        if (row[i] > b[i] || (std::isnan(row[i]) && !std::isnan(b[i]))) {
          b[i] = row[i];
          if (w) w[i] = static_cast<I>(k);
        }
      }
    }
  }
}

// softmax or log softmax over the middle axis, stable: with M the lane's maximum,
// softmax = e^{x−M} / Σ e^{x−M} and log softmax = x − M − log Σ e^{x−M}; every exponent is ≤ 0,
// so nothing overflows, and the sum is at least 1, so the log is finite.
template <class T>
void softmax_lanes(const T* p, T* out, DimSplit s, bool log_form) {
  thread_local std::vector<T> max_buf;
  thread_local std::vector<double> sum_buf;
  max_buf.resize(static_cast<size_t>(s.inner));
  sum_buf.resize(static_cast<size_t>(s.inner));
  T* mx = max_buf.data();
  double* sum = sum_buf.data();
  for (int64_t o = 0; o < s.outer; ++o) {
    const T* base = p + o * s.n * s.inner;
    T* obase = out + o * s.n * s.inner;
    max_lanes(base, DimSplit{1, s.n, s.inner}, mx, static_cast<int64_t*>(nullptr));
    for (int64_t i = 0; i < s.inner; ++i) sum[i] = 0.0;
    for (int64_t k = 0; k < s.n; ++k) {
      const T* row = base + k * s.inner;
      T* orow = obase + k * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        const T e = std::exp(row[i] - mx[i]);
        sum[i] += e;
        orow[i] = e;
      }
    }
    for (int64_t i = 0; i < s.inner; ++i) sum[i] = log_form ? static_cast<double>(mx[i]) + std::log(sum[i]) : 1.0 / sum[i];
    for (int64_t k = 0; k < s.n; ++k) {
      const T* row = base + k * s.inner;
      T* orow = obase + k * s.inner;
      if (log_form)
        for (int64_t i = 0; i < s.inner; ++i) orow[i] = static_cast<T>(row[i] - sum[i]);
      else
        for (int64_t i = 0; i < s.inner; ++i) orow[i] = static_cast<T>(orow[i] * sum[i]);
    }
  }
}

}  // namespace

// The walk is over x's shape with the output as the broadcast operand. The last dim is the
// inner loop: summed into one value when it is reduced (in double), added elementwise into the
// output's row when it is kept.
void sum_to(In x, Out out) {
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.as<T>();
    T* o = out.as<T>();
    const int64_t n_out = out.shape.numel();
    for (int64_t i = 0; i < n_out; ++i) o[i] = T(0);
    if (x.shape.numel() == 0) return;
    if (x.shape.size() == 0 || n_out == 1) {
      o[0] = static_cast<T>(sum_row(p, x.shape.numel()));
      return;
    }
    const BroadcastRows<1> rows(x.shape, {&out.shape});
    const int64_t len = rows.row_length();
    const bool kept = rows.walks(0);
    rows.for_each_row([&](int64_t start, const std::array<int64_t, 1>& at) {
      const T* row = p + start;
      T* orow = o + at[0];
      if (!kept) {
        orow[0] += static_cast<T>(sum_row(row, len));
        return;
      }
      for (int64_t j = 0; j < len; ++j) orow[j] += row[j];
    });
  });
}

void max(In x, int64_t dim, Out out) {
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    max_lanes(x.as<T>(), split_at(x.shape, dim), out.as<T>(), static_cast<int64_t*>(nullptr));
  });
}

void argmax(In x, int64_t dim, Out out) {
  const DimSplit s = split_at(x.shape, dim);
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> best(static_cast<size_t>(s.outer * s.inner));
    max_lanes(x.as<T>(), s, best.data(), out.as<int64_t>());
  });
}

void argmax_mask(In x, int64_t dim, Out out) {
  const DimSplit s = split_at(x.shape, dim);
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> best(static_cast<size_t>(s.outer * s.inner));
    std::vector<int64_t> where(best.size());
    max_lanes(x.as<T>(), s, best.data(), where.data());
    T* m = out.as<T>();
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t k = 0; k < s.n; ++k)
        for (int64_t i = 0; i < s.inner; ++i)
          m[(o * s.n + k) * s.inner + i] = T(where[static_cast<size_t>(o * s.inner + i)] == k);
  });
}

void softmax(In x, int64_t dim, bool log_form, Out out) {
  if (x.shape.numel() == 0) return;
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    softmax_lanes(x.as<T>(), out.as<T>(), split_at(x.shape, dim), log_form);
  });
}

}  // namespace ad::kernels
