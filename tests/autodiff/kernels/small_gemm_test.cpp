// The small-product kernel against a float64 reference in both dtypes: every transpose
// combination, sizes around its lanes and column blocks (16 and 32 floats, 8 and 16 doubles), odd
// sizes, strided operands.
// C starts as NaN, so an element read instead of written shows; its padding must stay untouched.
// Then the route: kernels::gemm sends the products it picks for the kernel there, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "autodiff/kernels/gemm.hpp"
#include "autodiff/kernels/small_gemm.hpp"
#include "product_check.hpp"

namespace {

using product_check::Product;

template <class T>
struct Data {
  std::vector<T> a, b, c;
  explicit Data(const Product& p) : a(p.a_size()), b(p.b_size()), c(p.c_size(), std::numeric_limits<T>::quiet_NaN()) {
    uint64_t s = static_cast<uint64_t>(p.m * 131 + p.n * 17 + p.k * 3 + (p.ta ? 2 : 0) + (p.tb ? 1 : 0));
    for (T& x : a) x = static_cast<T>(product_check::value(s));
    for (T& x : b) x = static_cast<T>(product_check::value(s));
    // The padding past C's columns holds a sentinel the kernel must not touch.
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = p.n; j < p.ldc(); ++j) c[static_cast<size_t>(i * p.ldc() + j)] = T(7);
  }
  T a_at(const Product& p, int64_t i, int64_t q) const {
    return a[static_cast<size_t>(p.ta ? q * p.lda() + i : i * p.lda() + q)];
  }
  T b_at(const Product& p, int64_t q, int64_t j) const {
    return b[static_cast<size_t>(p.tb ? j * p.ldb() + q : q * p.ldb() + j)];
  }
};

// C by small_gemm against float64 sums: within a few ulp of the dtype per term's magnitude.
template <class T>
void check(const Product& p) {
  Data<T> d(p);
  ad::kernels::small_gemm(p.m, p.n, p.k, d.a.data(), p.lda(), p.ta, d.b.data(), p.ldb(), p.tb, d.c.data(), p.ldc());
  const double ulp = std::numeric_limits<T>::epsilon();
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double ref = 0, mag = 0;
      for (int64_t q = 0; q < p.k; ++q) {
        const double x = d.a_at(p, i, q), y = d.b_at(p, q, j);
        ref += x * y;
        mag += std::abs(x * y);
      }
      ASSERT_NEAR(d.c[static_cast<size_t>(i * p.ldc() + j)], ref, 8 * ulp * mag + 1e-300)
          << "m=" << p.m << " n=" << p.n << " k=" << p.k << " ta=" << p.ta << " tb=" << p.tb << " at (" << i << ", " << j
          << ")";
    }
    for (int64_t j = p.n; j < p.ldc(); ++j)
      ASSERT_EQ(d.c[static_cast<size_t>(i * p.ldc() + j)], T(7)) << "wrote past column " << p.n - 1 << " of row " << i;
  }
}

template <class T>
void check_all_shapes() {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : {1, 2, 3, 5})
        for (int64_t n : {1, 3, 4, 15, 16, 17, 31, 32, 33, 65, 400})
          for (int64_t k : {1, 2, 4, 5, 15, 16, 17, 31, 33, 400}) check<T>(Product{m, n, k, ta, tb});
}

TEST(SmallGemm, MatchesFloat64InFloat32) { check_all_shapes<float>(); }
TEST(SmallGemm, MatchesFloat64InFloat64) { check_all_shapes<double>(); }

// The networks' shapes: the 2-4-1 network's products at m = 400 and the last layers of the
// 12288-20-7-5-1 network at m = 209.
TEST(SmallGemm, NetworkShapes) {
  for (const Product& p : {Product{4, 400, 2, false, false}, Product{1, 400, 4, false, false},
                           Product{4, 400, 1, true, false}, Product{1, 4, 400, false, true},
                           Product{4, 2, 400, false, true}, Product{5, 209, 7, false, false},
                           Product{7, 209, 5, true, false}, Product{5, 7, 209, false, true}}) {
    check<float>(p);
    check<double>(p);
  }
}

// Infinities and NaN in the operands reach C as in any product: a NaN row gives NaN, an inf
// times a finite nonzero gives inf.
TEST(SmallGemm, NonFiniteOperandsPropagate) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> a = {1.0f, 2.0f, std::nanf(""), 1.0f}, b = {inf, 1.0f, 3.0f, 4.0f};  // A, B: 2 × 2
  std::vector<float> c(4);
  ad::kernels::small_gemm(2, 2, 2, a.data(), 2, false, b.data(), 2, false, c.data(), 2);
  EXPECT_EQ(c[0], inf);           // 1·inf + 2·3
  EXPECT_EQ(c[1], 9.0f);          // 1·1 + 2·4
  EXPECT_TRUE(std::isnan(c[2]));  // NaN·inf + 1·3
  EXPECT_TRUE(std::isnan(c[3]));  // NaN·1 + 1·4
}

// kernels::gemm routes the small products of either dtype here: the same bits as a direct call.
template <class T>
void check_route(const Product& p) {
  Data<T> direct(p), routed(p);
  ad::kernels::small_gemm(p.m, p.n, p.k, direct.a.data(), p.lda(), p.ta, direct.b.data(), p.ldb(), p.tb,
                          direct.c.data(), p.ldc());
  ad::kernels::gemm(p.m, p.n, p.k, routed.a.data(), p.lda(), p.ta, routed.b.data(), p.ldb(), p.tb, routed.c.data(),
                    p.ldc());
  for (size_t i = 0; i < direct.c.size(); ++i) ASSERT_EQ(direct.c[i], routed.c[i]) << "element " << i;
}

TEST(SmallGemm, GemmRoutesSmallProductsHere) {
  using ad::kernels::GemmBackend;
  EXPECT_EQ(ad::kernels::gemm_backend(4, 400, 2, 2, false, 400, false, 400), GemmBackend::small);
  EXPECT_EQ(ad::kernels::gemm_backend(4, 2, 400, 400, false, 400, true, 2), GemmBackend::small);
  EXPECT_EQ(ad::kernels::gemm_backend(4, 4096, 2, 2, false, 4096, false, 4096), GemmBackend::small);  // skinny
  EXPECT_NE(ad::kernels::gemm_backend(64, 64, 64, 64, false, 64, false, 64), GemmBackend::small);
  for (const Product& p : {Product{4, 400, 2, false, false}, Product{4, 2, 400, false, true},
                           Product{4, 400, 1, true, false}, Product{3, 5, 7, true, true}}) {
    check_route<float>(p);
    check_route<double>(p);
  }
}

}  // namespace
