// oneDNN's matmul primitive as gemm_bakeoff.cpp runs it: made once per product, then executed
// as often as the timing wants. Float32 only (oneDNN 2.6 has no float64 matmul).
#pragma once

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

namespace onednn {

using dnnl::memory;

inline dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
inline dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

// A row-major (rows × cols) matrix, or its transpose when `transposed` (stored cols × rows).
inline memory::desc plain_desc(int64_t rows, int64_t cols, bool transposed) {
  return {{rows, cols}, memory::data_type::f32, transposed ? memory::dims{1, rows} : memory::dims{cols, 1}};
}

/// A primitive and its arguments; `impl` names the implementation oneDNN chose.
struct Call {
  dnnl::matmul prim;
  std::unordered_map<int, memory> args;
  std::string impl;
  void operator()() {
    prim.execute(stream(), args);
    stream().wait();
  }
};

/// C (m × n) = op(A) · op(B) on tapegrad's row-major layouts: A is oneDNN's src, B its weights.
inline Call plain(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float* a, float* b, float* c) {
  const auto src = plain_desc(m, k, ta), wei = plain_desc(k, n, tb), dst = plain_desc(m, n, false);
  dnnl::matmul::primitive_desc pd({src, wei, dst}, engine());
  return {dnnl::matmul(pd),
          {{DNNL_ARG_SRC, memory(src, engine(), a)},
           {DNNL_ARG_WEIGHTS, memory(wei, engine(), b)},
           {DNNL_ARG_DST, memory(dst, engine(), c)}},
          pd.impl_info_str()};
}

/// Cᵀ (n × m, row-major, into `ct`) = op(B)ᵀ · op(A)ᵀ, with op(A)ᵀ, the weight, reordered once
/// into the layout the primitive prefers. (oneDNN blocks only its right operand, and its fast
/// path cannot write the result transposed, so C itself cannot come out this way.)
inline Call prepacked(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float* a, float* b, float* ct) {
  const auto src = plain_desc(n, k, !tb), dst = plain_desc(n, m, false);
  const memory::desc wei_any({k, m}, memory::data_type::f32, memory::format_tag::any);
  dnnl::matmul::primitive_desc pd({src, wei_any, dst}, engine());
  memory wei(pd.weights_desc(), engine());
  memory from(plain_desc(k, m, !ta), engine(), a);
  dnnl::reorder(from, wei).execute(stream(), from, wei);
  stream().wait();
  return {dnnl::matmul(pd),
          {{DNNL_ARG_SRC, memory(src, engine(), b)}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, memory(dst, engine(), ct)}},
          pd.impl_info_str()};
}

}  // namespace onednn
