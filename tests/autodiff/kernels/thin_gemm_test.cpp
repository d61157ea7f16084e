// The thin-product kernel (few rows of C, a wide B) against a float64 reference: every row
// count it has a block for, column counts around its 16-wide blocks, k around its 256-row
// chunks, both B layouts, strided operands; C's neighbours in memory must stay untouched. Then
// the threaded split and the route through ad::gemm / matmul's backward.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "autodiff/kernels/thin_gemm.hpp"
#include "product_check.hpp"

namespace {

using ad::DType;
using ad::Tensor;

using product_check::Product;
using product_check::value;

// C = A · op(B) by the thin kernel, checked against float64 (product_check.hpp).
void check(int64_t m, int64_t n, int64_t k, bool trans_b) {
  const Product p{m, n, k, false, trans_b};
  product_check::check(p, [&](const float* a, const float* b, float* c) {
    ad::kernels::thin_gemm(m, n, k, a, p.lda(), b, p.ldb(), trans_b, c, p.ldc());
  });
}

class ThinGemm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ad::kernels::thin_gemm_available()) GTEST_SKIP() << "no AVX-512 here: the kernel is never used";
  }
};

TEST_F(ThinGemm, MatchesFloat64ForEveryRowCountAndBlockEdge) {
  for (bool trans_b : {false, true})
    for (int64_t m : {1, 2, 3, 5, 7, 10, 16, 20, 23, 24})
      for (int64_t n : {1, 15, 16, 17, 33})
        for (int64_t k : {1, 17, 255, 256, 257, 530}) check(m, n, k, trans_b);
}

TEST_F(ThinGemm, WideProducts) {
  check(20, 209, 1500, false);  // W2's forward shape, k shortened
  check(20, 300, 209, true);    // W2's weight gradient, n shortened
  check(10, 4096, 3, true);
}

// Split across threads by columns, every element is summed in the same order: the same bits
// as one thread, at W2's full sizes.
TEST_F(ThinGemm, ThreadedSplitGivesTheSingleThreadBits) {
  const int saved = ad::get_num_threads();
  for (bool trans_b : {false, true}) {
    const int64_t m = 20, n = trans_b ? 12288 : 209, k = trans_b ? 209 : 12288;
    uint64_t s = 99;
    std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(n * k));
    for (float& x : a) x = value(s);
    for (float& x : b) x = value(s);
    std::vector<float> one(static_cast<size_t>(m * n)), many(one.size());
    ad::kernels::thin_gemm(m, n, k, a.data(), k, b.data(), trans_b ? k : n, trans_b, one.data(), n);
    ad::set_num_threads(3);
    ad::kernels::thin_product(m, n, k, a.data(), b.data(), trans_b, many.data());
    EXPECT_EQ(one, many) << "trans_b=" << trans_b;
  }
  ad::set_num_threads(saved);
}

// Through the op: a layer of W2's shape, its forward product and the weight gradient matmul's
// backward computes (dW = dZ · Xᵀ), against the same computation in float64.
TEST(ThinGemmRoute, LayerForwardAndWeightGradientMatchFloat64) {
  ad::manual_seed(4);
  Tensor w = ad::randn({20, 3000}), x = ad::randn({3000, 209}), dz = ad::randn({20, 209});
  Tensor w64 = w.to(DType::f64), x64 = x.to(DType::f64), dz64 = dz.to(DType::f64);
  const auto z = ad::matmul(w, x).to_vector(), z64 = ad::matmul(w64, x64).to_vector();
  Tensor wl = w.detach().requires_grad_();
  ad::matmul(wl, x).backward(dz);
  const auto dw = wl.grad().to_vector(), dw64 = ad::gemm(dz64, x64, false, true).to_vector();
  ASSERT_EQ(z.size(), z64.size());
  for (size_t i = 0; i < z.size(); ++i) ASSERT_NEAR(z[i], z64[i], 2e-3) << i;  // |z| ~ 55, k = 3000
  ASSERT_EQ(dw.size(), dw64.size());
  for (size_t i = 0; i < dw.size(); ++i) ASSERT_NEAR(dw[i], dw64[i], 1e-4) << i;  // |dw| ~ 15, k = 209
}

}  // namespace
