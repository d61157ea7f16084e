// The path a CPU without AVX-512 takes: with the AVX-512 kernels switched off (by
// force_no_avx512, or by TAPEGRAD_NO_AVX512=1 in the environment, under which CTest runs this
// file a second time), neither hand-written kernel reports itself available, and every product
// the router sees, in each of its size classes and transpose combinations, still matches
// float64, through kernels::gemm and through the op's forward and backward.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "autodiff/kernels/cpu.hpp"
#include "autodiff/kernels/gemm.hpp"
#include "autodiff/kernels/packed_gemm.hpp"
#include "autodiff/kernels/thin_gemm.hpp"
#include "product_check.hpp"

namespace {

using ad::DType;
using ad::Tensor;
using product_check::Product;

// Switches the AVX-512 kernels off for one test and back on after it.
class NoAvx512 : public ::testing::Test {
 protected:
  void SetUp() override { ad::kernels::force_no_avx512(true); }
  void TearDown() override { ad::kernels::force_no_avx512(false); }
};

bool environment_turns_avx512_off() {
  const char* off = std::getenv("TAPEGRAD_NO_AVX512");
  return off && *off && std::strcmp(off, "0") != 0;
}

TEST_F(NoAvx512, NeitherKernelIsAvailable) {
  EXPECT_FALSE(ad::kernels::avx512_enabled());
  EXPECT_FALSE(ad::kernels::packed_gemm_available());
  EXPECT_FALSE(ad::kernels::thin_gemm_available());
}

// With the switch on every float32 product beyond the small kernel's (which is portable) goes to
// BLAS; without it, the shapes each kernel was kept for go to that kernel (on a CPU with AVX-512).
TEST_F(NoAvx512, EveryProductIsRoutedToBlas) {
  using ad::kernels::GemmBackend;
  EXPECT_EQ(ad::kernels::gemm_backend(20, 209, 12288, 12288, false, 209, false, 209), GemmBackend::blas);
  EXPECT_EQ(ad::kernels::gemm_backend(4096, 256, 4096, 4096, false, 256, false, 256), GemmBackend::blas);
  EXPECT_EQ(ad::kernels::gemm_backend(4, 400, 2, 2, false, 400, false, 400), GemmBackend::small);
  ad::kernels::force_no_avx512(false);
  if (!ad::kernels::avx512_enabled()) GTEST_SKIP() << "no AVX-512 here";
  EXPECT_EQ(ad::kernels::gemm_backend(20, 209, 12288, 12288, false, 209, false, 209), GemmBackend::thin);
  EXPECT_EQ(ad::kernels::gemm_backend(10, 128, 1024, 1024, false, 1024, true, 128), GemmBackend::thin);
  EXPECT_EQ(ad::kernels::gemm_backend(4096, 256, 4096, 4096, true, 256, false, 256), GemmBackend::packed);
  EXPECT_EQ(ad::kernels::gemm_backend(256, 4, 784, 784, false, 4, false, 4), GemmBackend::blas);  // C too narrow
  EXPECT_EQ(ad::kernels::gemm_backend(4, 400, 2, 2, false, 400, false, 400), GemmBackend::small);
  EXPECT_EQ(ad::kernels::gemm_backend(7, 209, 20, 20, false, 209, false, 209), GemmBackend::blas);  // past small
}

TEST(NoAvx512Environment, VariableTurnsKernelsOff) {
  if (!environment_turns_avx512_off()) GTEST_SKIP() << "run by CTest a second time with TAPEGRAD_NO_AVX512=1";
  EXPECT_FALSE(ad::kernels::avx512_enabled());
  EXPECT_FALSE(ad::kernels::packed_gemm_available());
  ad::kernels::force_no_avx512(false);  // the environment still rules
  EXPECT_FALSE(ad::kernels::avx512_enabled());
}

// Shapes from each class the router tells apart: small (BLAS on every CPU), few rows with a
// long k or a wide B (the thin kernel's), and large (the packed kernel's), in every transpose
// combination, with strided operands.
TEST_F(NoAvx512, RoutedProductsMatchFloat64) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Product& p : {Product{5, 7, 9, ta, tb}, Product{20, 209, 1100, ta, tb}, Product{10, 2100, 209, ta, tb},
                               Product{300, 256, 70, ta, tb}, Product{130, 1030, 260, ta, tb}})
        product_check::check(p, [&p](const float* a, const float* b, float* c) {
          ad::kernels::gemm(p.m, p.n, p.k, a, p.lda(), p.ta, b, p.ldb(), p.tb, c, p.ldc());
        });
}

// A layer's forward product and both gradients through the op, against float64.
TEST_F(NoAvx512, LayerForwardAndGradientsMatchFloat64) {
  ad::manual_seed(7);
  for (const auto& [rows, cols, batch] : {std::tuple<int64_t, int64_t, int64_t>{20, 3000, 209}, {300, 200, 128}}) {
    Tensor w = ad::randn({rows, cols}).requires_grad_(), x = ad::randn({cols, batch}).requires_grad_();
    Tensor dz = ad::randn({rows, batch});
    Tensor z = ad::matmul(w, x);
    z.backward(dz);
    const Tensor w64 = w.detach().to(DType::f64), x64 = x.detach().to(DType::f64), dz64 = dz.to(DType::f64);
    const std::vector<std::pair<Tensor, Tensor>> pairs = {{z, ad::matmul(w64, x64)},
                                                          {w.grad(), ad::gemm(dz64, x64, false, true)},
                                                          {x.grad(), ad::gemm(w64, dz64, true, false)}};
    for (const auto& [got, want] : pairs) {
      const std::vector<double> g = got.to_vector(), r = want.to_vector();
      ASSERT_EQ(g.size(), r.size());
      for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], r[i], 1e-4 * (1.0 + std::abs(r[i]))) << "element " << i;
    }
  }
}

}  // namespace
