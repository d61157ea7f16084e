#include "autodiff/ops/linalg.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/detail/packed_gemm.hpp"
#include "autodiff/detail/thin_gemm.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {
namespace {

void check_gemm(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb) {
  detail::check_binary(op, a, b);
  if (a.dim() != 2 || b.dim() != 2)
    throw ShapeError(fmt::format("{}: {} · {}: both operands must be 2-D", op, a.shape().str(), b.shape().str()));
  const int64_t ka = ta ? a.shape()[0] : a.shape()[1];
  const int64_t kb = tb ? b.shape()[1] : b.shape()[0];
  if (ka != kb)
    throw ShapeError(fmt::format("{}: {}{} · {}{}: inner dimensions {} and {} differ", op, a.shape().str(),
                                 ta ? "ᵀ" : "", b.shape().str(), tb ? "ᵀ" : "", ka, kb));
}

// A float32 product with at most 24 rows in C and at least this many multiply-adds goes to the
// thin kernel (detail/thin_gemm.hpp) instead of BLAS. BM_gemm_thin medians against the bare
// cblas_sgemm call: W2's W1·X (20 × 209 from k = 12288) 2031 → 1448 µs, dZ1·Xᵀ (20 × 12288
// from k = 209) 1918 → 849 µs. At W1's sizes OpenBLAS's small-matrix path is the faster one
// (0.2 against 0.3 µs), and the thread split needs a few million multiply-adds to pay.
constexpr int64_t kThinGemmMinWork = int64_t{1} << 22;

// Every other float32 product from this many multiply-adds up goes to the packed kernel
// (detail/packed_gemm.hpp): from where OpenBLAS starts splitting a product across its threads
// (65536 · 4), so OpenBLAS never runs threaded on float32 here. That matters as much as the
// kernel's speed: after a threaded call OpenBLAS's workers keep spinning (sched_yield) for
// ~0.1 s, and a thread of ours running meanwhile gets half a core. With the threshold at
// 4·10⁶, W3's network at batch 1024 (whose 1.3·10⁶ W3ᵀ·dZ3 stayed on OpenBLAS) took 11.8–13.6
// ms per step against 7.8–10.5 on OpenBLAS alone, and W4 steps with one such product up to 2×
// as long. The measurements behind the kernel are in bench/README.md ("The packed kernel").
constexpr int64_t kPackedGemmMinWork = int64_t{1} << 18;

// C = op(A) · op(B) by one BLAS call (or one of the two kernels); A and B are row-major, op
// transposes by flag.
Tensor gemm_kernel(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const int64_t m = ta ? a.shape()[1] : a.shape()[0];
  const int64_t k = ta ? a.shape()[0] : a.shape()[1];
  const int64_t n = tb ? b.shape()[0] : b.shape()[1];
  if (m == 0 || n == 0 || k == 0) return zeros({m, n}, a.dtype());
  Tensor c = empty({m, n}, a.dtype());
  if (a.dtype() == DType::f32 && !ta && m <= detail::kThinGemmMaxRows && m * n * k >= kThinGemmMinWork &&
      detail::thin_gemm_available()) {
    detail::thin_product(m, n, k, static_cast<const float*>(a.raw_data()), static_cast<const float*>(b.raw_data()), tb,
                         static_cast<float*>(c.raw_data()));
    return c;
  }
  if (a.dtype() == DType::f32 && m * n * k >= kPackedGemmMinWork && detail::packed_gemm_available()) {
    detail::packed_gemm(m, n, k, static_cast<const float*>(a.raw_data()), a.shape()[1], ta,
                        static_cast<const float*>(b.raw_data()), b.shape()[1], tb, static_cast<float*>(c.raw_data()), n);
    return c;
  }
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  const auto lda = static_cast<blasint>(a.shape()[1]), ldb = static_cast<blasint>(b.shape()[1]);
  if (a.dtype() == DType::f32)
    cblas_sgemm(CblasRowMajor, opa, opb, m, n, k, 1.0f, static_cast<const float*>(a.raw_data()), lda,
                static_cast<const float*>(b.raw_data()), ldb, 0.0f, static_cast<float*>(c.raw_data()), n);
  else
    cblas_dgemm(CblasRowMajor, opa, opb, m, n, k, 1.0, static_cast<const double*>(a.raw_data()), lda,
                static_cast<const double*>(b.raw_data()), ldb, 0.0, static_cast<double*>(c.raw_data()), n);
  return c;
}

}  // namespace

// With C = op(A)·op(B):  d op(A) = dC · op(B)ᵀ  and  d op(B) = op(A)ᵀ · dC; undoing op gives
// the four flag combinations below, each one more gemm call with no transpose materialized.
Tensor gemm(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  check_gemm(ta || tb ? "gemm" : "matmul", a, b, ta, tb);
  Tensor c = gemm_kernel(a, b, ta, tb);
  if (!detail::should_record({&a, &b})) return c;
  return record_op(ta || tb ? "gemm" : "matmul", "dA = dC · Bᵀ, dB = Aᵀ · dC", {a, b}, c,
                   [sa = SavedTensor(b.requires_grad() ? a : Tensor()), sb = SavedTensor(a.requires_grad() ? b : Tensor()),
                    ta, tb](BackwardContext& ctx) {
                     const Tensor& g = ctx.grad();
                     const Tensor &a = ctx.saved(sa), &b = ctx.saved(sb);
                     if (ctx.needs(0)) ctx.add(0, ta ? gemm(b, g, tb, true) : gemm(g, b, false, !tb));
                     if (ctx.needs(1)) ctx.add(1, tb ? gemm(g, a, true, ta) : gemm(a, g, !ta, false));
                   });
}

Tensor matmul(const Tensor& a, const Tensor& b) { return gemm(a, b, false, false); }

}  // namespace ad
