// The packed product kernel (28 × 16 register tiles over packed blocks of A and B, 4 … 24-row
// tiles for a block's last rows) against a float64 reference: row counts around its 28-row
// panels and 224-row blocks, column counts around its 16-wide panels and 1024-column blocks,
// k around its 16-wide transposes and 256-deep blocks, all four transpose combinations,
// strided operands; C's neighbours in memory must stay untouched. Then the split across
// threads and the route through ad::gemm.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "autodiff/kernels/packed_gemm.hpp"
#include "product_check.hpp"

namespace {

using ad::DType;
using ad::Tensor;

using product_check::Operands;
using product_check::Product;

// C = op(A) · op(B) by the packed kernel, checked against float64 (product_check.hpp).
void check(const Product& p) {
  product_check::check(p, [&p](const float* a, const float* b, float* c) {
    ad::kernels::packed_gemm(p.m, p.n, p.k, a, p.lda(), p.ta, b, p.ldb(), p.tb, c, p.ldc());
  });
}

class PackedGemm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ad::kernels::packed_gemm_available()) GTEST_SKIP() << "no AVX-512 here: the kernel is never used";
  }
};

TEST_F(PackedGemm, MatchesFloat64AtEveryPanelAndBlockEdge) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : {1, 27, 28, 29, 32, 44, 57, 230})
        for (int64_t n : {1, 15, 16, 17, 40})
          for (int64_t k : {1, 15, 16, 17, 255, 256, 257, 520}) check({m, n, k, ta, tb});
}

TEST_F(PackedGemm, WideAndTallProducts) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check({30, 1100, 40, ta, tb});  // two column blocks, the second partial
      check({470, 33, 70, ta, tb});   // three row blocks of 224, the last partial
      check({300, 256, 10, ta, tb});  // W4's W3ᵀ·dZ3 shape, shortened: k smaller than a tile
      check({1100, 1050, 20, ta, tb});  // B shared by the threads, in two column blocks
    }
}

// Whatever the split (units of rows handed out as threads come for them, or fixed ranges of
// columns), each element of C is summed by one thread in the same order: the same bits as a
// single thread.
TEST_F(PackedGemm, ThreadedSplitGivesTheSingleThreadBits) {
  const int saved = ad::get_num_threads();
  for (const Product& p : {Product{700, 64, 300, false, false}, Product{100, 2000, 64, false, true},
                           Product{90, 900, 300, true, false}}) {
    const Operands o(p);
    const float *a = o.a.data(), *b = o.b.data();
    std::vector<float> one(p.c_size()), many(one.size());
    ad::set_num_threads(1);
    ad::kernels::packed_gemm(p.m, p.n, p.k, a, p.lda(), p.ta, b, p.ldb(), p.tb, one.data(), p.ldc());
    for (int threads : {2, 3}) {
      ad::set_num_threads(threads);
      ad::kernels::packed_gemm(p.m, p.n, p.k, a, p.lda(), p.ta, b, p.ldb(), p.tb, many.data(), p.ldc());
      EXPECT_EQ(one, many) << "m=" << p.m << " n=" << p.n << " k=" << p.k << ", " << threads << " threads";
    }
  }
  ad::set_num_threads(saved);
}

// A B too big to pack whole and share (over 4 MB) takes the static split, each thread packing
// its own blocks of B: a sample of C against float64 (all of it would be 10⁹ multiply-adds in
// double), and the threaded bits against one thread's.
TEST_F(PackedGemm, BigOperandsTakeTheStaticSplit) {
  const Product p{1100, 1040, 1030, false, true};
  const Operands o(p);
  std::vector<float> c(p.c_size()), one(p.c_size());
  ad::kernels::packed_gemm(p.m, p.n, p.k, o.a.data(), p.lda(), p.ta, o.b.data(), p.ldb(), p.tb, c.data(), p.ldc());
  uint64_t s = 17;
  for (int sample = 0; sample < 300; ++sample) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const auto i = static_cast<int64_t>((s >> 33) % static_cast<uint64_t>(p.m));
    const auto j = static_cast<int64_t>((s >> 13) % static_cast<uint64_t>(p.n));
    double ref = 0, mag = 0;
    for (int64_t q = 0; q < p.k; ++q) {
      const double x = p.a_at(o.a, i, q), y = p.b_at(o.b, q, j);
      ref += x * y;
      mag += std::abs(x * y);
    }
    ASSERT_NEAR(c[static_cast<size_t>(i * p.ldc() + j)], ref, 1e-6 * mag + 1e-7) << "at (" << i << ", " << j << ")";
  }
  const int saved = ad::get_num_threads();
  ad::set_num_threads(1);
  ad::kernels::packed_gemm(p.m, p.n, p.k, o.a.data(), p.lda(), p.ta, o.b.data(), p.ldb(), p.tb, one.data(), p.ldc());
  ad::set_num_threads(saved);
  EXPECT_EQ(c, one);
}

// Through the op: a layer big enough for the kernel, its forward product and both gradients
// matmul's backward computes (dW = dZ · Xᵀ, dX = Wᵀ · dZ), against float64.
TEST(PackedGemmRoute, LayerForwardAndGradientsMatchFloat64) {
  ad::manual_seed(8);
  Tensor w = ad::randn({300, 500}), x = ad::randn({500, 200}), dz = ad::randn({300, 200});
  Tensor w64 = w.to(DType::f64), x64 = x.to(DType::f64), dz64 = dz.to(DType::f64);
  Tensor wl = w.detach().requires_grad_(), xl = x.detach().requires_grad_();
  const auto z = ad::matmul(wl, xl).to_vector(), z64 = ad::matmul(w64, x64).to_vector();
  ad::matmul(wl, xl).backward(dz);
  const auto dw = wl.grad().to_vector(), dw64 = ad::gemm(dz64, x64, false, true).to_vector();
  const auto dx = xl.grad().to_vector(), dx64 = ad::gemm(w64, dz64, true, false).to_vector();
  ASSERT_EQ(z.size(), z64.size());
  for (size_t i = 0; i < z.size(); ++i) ASSERT_NEAR(z[i], z64[i], 2e-4) << i;  // |z| ~ 22, k = 500
  ASSERT_EQ(dw.size(), dw64.size());
  for (size_t i = 0; i < dw.size(); ++i) ASSERT_NEAR(dw[i], dw64[i], 2e-4) << i;  // k = 200
  ASSERT_EQ(dx.size(), dx64.size());
  for (size_t i = 0; i < dx.size(); ++i) ASSERT_NEAR(dx[i], dx64[i], 2e-4) << i;  // k = 300
}

// Products through the op from several threads at once give the bits of the same products
// run one after another.
TEST(PackedGemmRoute, ConcurrentProductsMatchSequentialOnes) {
  ad::manual_seed(3);
  std::vector<Tensor> as, bs;
  std::vector<std::vector<double>> alone;
  for (int t = 0; t < 3; ++t) {
    as.push_back(ad::randn({200, 300}));
    bs.push_back(ad::randn({300, 150}));
    alone.push_back(ad::matmul(as.back(), bs.back()).to_vector());
  }
  for (int round = 0; round < 5; ++round) {
    std::vector<std::vector<double>> got(3);
    std::vector<std::thread> users;
    for (size_t t = 0; t < 3; ++t) users.emplace_back([&, t] { got[t] = ad::matmul(as[t], bs[t]).to_vector(); });
    for (std::thread& u : users) u.join();
    for (size_t t = 0; t < 3; ++t) EXPECT_EQ(got[t], alone[t]) << "round " << round << ", thread " << t;
  }
}

}  // namespace
