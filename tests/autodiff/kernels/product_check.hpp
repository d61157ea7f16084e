// Shared by the product kernels' tests (thin_gemm_test.cpp, packed_gemm_test.cpp): random
// strided operands for C = op(A) · op(B), and a check of a kernel's C against float64 that
// also fails when the kernel wrote into the padding past C's last column.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace product_check {

inline float value(uint64_t& s) {  // a small deterministic generator in [−1, 1)
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<float>(static_cast<double>(s >> 40) / static_cast<double>(1ull << 24) * 2.0 - 1.0);
}

/// A product's shape, with padded rows: A is stored (m × k) or, when ta, (k × m); B (k × n) or,
/// when tb, (n × k); C (m × n).
struct Product {
  int64_t m, n, k;
  bool ta, tb;
  int64_t lda() const { return (ta ? m : k) + 3; }
  int64_t ldb() const { return (tb ? k : n) + 5; }
  int64_t ldc() const { return n + 7; }
  size_t a_size() const { return static_cast<size_t>((ta ? k : m) * lda()); }
  size_t b_size() const { return static_cast<size_t>((tb ? n : k) * ldb()); }
  size_t c_size() const { return static_cast<size_t>(m * ldc()); }
  float a_at(const std::vector<float>& a, int64_t i, int64_t q) const {
    return a[static_cast<size_t>(ta ? q * lda() + i : i * lda() + q)];
  }
  float b_at(const std::vector<float>& b, int64_t q, int64_t j) const {
    return b[static_cast<size_t>(tb ? j * ldb() + q : q * ldb() + j)];
  }
};

/// Operands filled from a seed of the shape (the same shape gives the same numbers).
struct Operands {
  std::vector<float> a, b;
  explicit Operands(const Product& p, uint64_t s = 0) : a(p.a_size()), b(p.b_size()) {
    if (s == 0) s = static_cast<uint64_t>(p.m * 1000003 + p.n * 1009 + p.k * 7 + (p.ta ? 2 : 0) + (p.tb ? 1 : 0));
    for (float& x : a) x = value(s);
    for (float& x : b) x = value(s);
  }
};

/// Runs `kernel(a, b, c)` into a C whose padding holds a sentinel; checks every element
/// against float64 and that the padding is untouched.
template <class Kernel>
void check(const Product& p, Kernel kernel) {
  const Operands o(p);
  constexpr float kSentinel = 12345.0f;
  std::vector<float> c(p.c_size(), kSentinel);
  kernel(o.a.data(), o.b.data(), c.data());
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double ref = 0, mag = 0;
      for (int64_t q = 0; q < p.k; ++q) {
        const double x = p.a_at(o.a, i, q), y = p.b_at(o.b, q, j);
        ref += x * y;
        mag += std::abs(x * y);
      }
      // float32 accumulation: a few ulp of the magnitude per term at worst.
      ASSERT_NEAR(c[static_cast<size_t>(i * p.ldc() + j)], ref, 1e-6 * mag + 1e-7)
          << "m=" << p.m << " n=" << p.n << " k=" << p.k << " ta=" << p.ta << " tb=" << p.tb << " at (" << i << ", "
          << j << ")";
    }
    for (int64_t j = p.n; j < p.ldc(); ++j)
      ASSERT_EQ(c[static_cast<size_t>(i * p.ldc() + j)], kSentinel) << "wrote past column " << p.n - 1 << " of row " << i;
  }
}

}  // namespace product_check
