#include "autodiff/ops/linalg.hpp"

#include <fmt/format.h>

#include "autodiff/function.hpp"
#include "autodiff/kernels/dispatch.hpp"
#include "autodiff/kernels/gemm.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"

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

// C = op(A) · op(B) into a new tensor; A and B are row-major, op transposes by flag.
Tensor gemm_kernel(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const int64_t m = ta ? a.shape()[1] : a.shape()[0];
  const int64_t n = tb ? b.shape()[0] : b.shape()[1];
  Tensor c = empty({m, n}, a.dtype());
  kernels::launch(ta || tb ? "gemm" : "matmul", {detail::buffer(a), detail::buffer(b)}, {detail::buffer(c)},
                  [ta, tb](const kernels::Operands& o) {
                    const kernels::In x = o.in(0), y = o.in(1);
                    const kernels::Out z = o.out(0);
                    const int64_t k = ta ? x.shape[0] : x.shape[1];
                    kernels::dispatch(x.dtype, [&](auto tag) {
                      using T = decltype(tag);
                      kernels::gemm(z.shape[0], z.shape[1], k, x.as<T>(), x.shape[1], ta, y.as<T>(), y.shape[1], tb,
                                    z.as<T>(), z.shape[1]);
                    });
                  });
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
