// The packed product kernel (autodiff/kernels/packed_gemm.hpp).
//
// Threads: when C has rows to share out and op(B) is at most 4 MB, B is packed whole first by
// all threads, then units of C's rows (RowUnits) go to the threads as they come for them.
// Otherwise each thread takes a fixed range of C's rows or columns and packs its own blocks of
// both operands. The loops, for a unit or a range (GotoBLAS order):
//   for each block of kNC columns of C:
//     for each block of kKC along k:       pack op(B)'s (kc × nc) block into 16-wide panels
//       for each block of kMC rows:        pack op(A)'s (mc × kc) block into 28-row panels
//         for each 28-row panel:           (stays in L1: 28 · 256 floats = 28 KB)
//           for each 16-wide panel of B:   (streams from L2: the block is 1 MB)
//             C[28 × 16] (+)= Ap · Bp      in 28 AVX-512 accumulators
// The register kernel: per step of k one 16-wide row of the B panel is loaded and 28 FMAs
// take their A operand as a broadcast from memory (folded into the FMA), so the two FMA
// ports, not the loads, set the pace (28 × 16 beat 12 × 32 and 16 × 16 tiles).
//   - The first k block writes C, later ones add to it: no pass zero-filling C first (a
//     wide layer's weight gradient is tens of MB).
//   - Each tile prefetches the next tile's 28 lines of C while it computes (C is read back
//     for every k block after the first).
//   - A is packed with plain copies whichever way it is stored (see ALayout); a transposed B
//     is turned around 16 × 16 at a time in registers while packing. Nothing is materialized.
//   - While a block of A is computed on, the next one is prefetched (BlockPrefetch): the
//     weights of a wide layer come from memory, and the copy that packs them stalled on it.
#include "autodiff/kernels/packed_gemm.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <utility>

#include "autodiff/detail/allocate.hpp"
#include "autodiff/kernels/cpu.hpp"
#include "autodiff/kernels/parallel.hpp"
#include "autodiff/kernels/row_units.hpp"
#include "autodiff/kernels/simd_transpose.hpp"

namespace ad::kernels {

#if AD_HAVE_AVX512_INTRINSICS

namespace {

constexpr int64_t kMR = 28;    // rows of a register tile (28 accumulators of the 32 registers)
constexpr int64_t kNR = 16;    // columns of a register tile (one AVX-512 vector)
constexpr int64_t kKC = 256;   // k per block: an A panel (28 × 256 floats) fits L1 beside B's stream
constexpr int64_t kNC = 1024;  // columns per block: B's packed block (256 × 1024 floats) fits L2
constexpr int64_t kMC = 224;   // rows per packed A block: 8 panels
constexpr int64_t kAPanels = kMC / kMR;
constexpr int64_t kSlotFloats = kAPanels * kMR * kKC + kKC * kNC;
// The largest op(B) packed whole and shared by the threads (4 MB). Every unit of rows streams
// all of it from L3, so a bigger one is better packed a block at a time (the static split).
constexpr int64_t kSharedBMaxFloats = int64_t{1} << 20;

#if defined(__clang__)
#define AD_UNROLL_TILE _Pragma("unroll")
#else
#define AD_UNROLL_TILE _Pragma("GCC unroll 28")
#endif

// How a packed panel of A keeps its 28 × kc block, panel p at p·28·kKC floats:
//   - KMajor, when op(A) is A's transpose: element (r, q) at q·28 + r. A step of k is then 28
//     contiguous floats of A, copied as they are.
//   - RowMajor, otherwise: element (r, q) at r·kKC + q. A row of A is kc contiguous floats,
//     copied as they are. (Packing it k-major would take 16 × 16 transposes and masked
//     stores across panels, several times the cost of plain row copies.)
// Rows kKC floats (1 KB) apart spread the panel's lines over all of L1's sets.
enum class ALayout { KMajor, RowMajor };

// One step of k: acc[r] += A(r, q) · b for the first R rows, aq pointing at A(0, q).
template <ALayout L, int R>
[[gnu::target("avx512f"), gnu::always_inline]] inline void step(__m512* acc, const float* aq, const float* bp) {
  constexpr int64_t row_stride = L == ALayout::KMajor ? 1 : kKC;
  const __m512 b = _mm512_load_ps(bp);
  AD_UNROLL_TILE
  for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(aq[r * row_stride]), b, acc[r]);
}

// Lines of A the tile prefetches for the next block's packing, at most one per 8 steps of k.
constexpr int64_t kMaxTilePrefetches = kKC / 8;

// C[0:R, 0:16] = (accumulate ? C : 0) + Ap (R × kc, laid out as L) · Bp (kc × 16). Along the
// way it prefetches the R lines of next_c (rows ldc apart, when not null) over the first R
// steps, and the lines pf[0 … pf_count) one per 8 steps: a burst of prefetches from memory
// would fill the line-fill buffers and stall the FMAs. R = 28 is the full tile; the smaller
// ones take a block's last rows, which with 28 only would waste up to 24 rows of work per
// block (9% of a 256-row layer).
template <ALayout L, int R>
[[gnu::target("avx512f")]] void tile_kernel(const float* ap, const float* bp, int64_t kc, float* c, int64_t ldc,
                                            bool accumulate, const float* next_c, const char* const* pf,
                                            int64_t pf_count) {
  constexpr int64_t k_stride = L == ALayout::KMajor ? kMR : 1;
  __m512 acc[R];
  AD_UNROLL_TILE
  for (int r = 0; r < R; ++r) acc[r] = accumulate ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
  int64_t q = 0, p = 0;
  if (next_c) {
    for (; q < std::min<int64_t>(kc, R); ++q) {
      _mm_prefetch(reinterpret_cast<const char*>(next_c + q * ldc), _MM_HINT_T0);
      step<L, R>(acc, ap + q * k_stride, bp + q * kNR);
    }
  }
  for (; q + 8 <= kc; q += 8) {
    if (p < pf_count) _mm_prefetch(pf[p++], _MM_HINT_T1);
#pragma GCC unroll 8
    for (int64_t u = 0; u < 8; ++u) step<L, R>(acc, ap + (q + u) * k_stride, bp + (q + u) * kNR);
  }
  for (; q < kc; ++q) step<L, R>(acc, ap + q * k_stride, bp + q * kNR);
  for (; p < pf_count; ++p) _mm_prefetch(pf[p], _MM_HINT_T1);
  AD_UNROLL_TILE
  for (int r = 0; r < R; ++r) _mm512_storeu_ps(c + r * ldc, acc[r]);
}

using TileFn = void (*)(const float*, const float*, int64_t, float*, int64_t, bool, const float*, const char* const*,
                        int64_t);

// The tile kernels by row count rounded up to a multiple of 4: kTiles[L][R / 4 − 1].
constexpr int64_t kRowStep = 4;
template <ALayout L, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tiles_for(std::index_sequence<I...>) {
  return {tile_kernel<L, static_cast<int>((I + 1) * kRowStep)>...};
}
constexpr std::array<std::array<TileFn, kMR / kRowStep>, 2> kTiles = {
    tiles_for<ALayout::KMajor>(std::make_index_sequence<kMR / kRowStep>{}),
    tiles_for<ALayout::RowMajor>(std::make_index_sequence<kMR / kRowStep>{})};

constexpr __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << n) - 1);
}

// A's (mc × kc) block, rows i0… and k p0… of op(A), into 28-row panels laid out as
// ALayout says (KMajor when trans_a, else RowMajor). Rows past mc are zero: their results are
// thrown away, and zeros keep stray NaNs or denormals out of the arithmetic.
[[gnu::target("avx512f")]] void pack_a(const float* a, int64_t lda, bool trans_a, int64_t i0, int64_t mc, int64_t p0,
                                       int64_t kc, float* ap) {
  const int64_t panels = (mc + kMR - 1) / kMR;
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t rows = std::min(kMR, mc - p * kMR);
    float* dst = ap + p * kMR * kKC;
    if (trans_a) {  // op(A)[i][q] = a[q·lda + i]
      const float* src = a + p0 * lda + i0 + p * kMR;
      const __mmask16 lo = first_lanes(rows), hi = first_lanes(std::max<int64_t>(0, rows - 16));
      for (int64_t q = 0; q < kc; ++q) {
        _mm512_storeu_ps(dst + q * kMR, _mm512_maskz_loadu_ps(lo, src + q * lda));
        _mm512_mask_storeu_ps(dst + q * kMR + 16, 0x0FFF, _mm512_maskz_loadu_ps(hi, src + q * lda + 16));
      }
      continue;
    }
    // op(A)[i][q] = a[i·lda + q]
    const auto bytes = static_cast<size_t>(kc) * sizeof(float);
    for (int64_t r = 0; r < kMR; ++r) {
      if (r < rows) std::memcpy(dst + r * kKC, a + (i0 + p * kMR + r) * lda + p0, bytes);
      else std::memset(dst + r * kKC, 0, bytes);
    }
  }
}

// Panels [first, last) of B's (kc × nc) block, k p0… and columns j0… of op(B), as 16-wide
// panels: panel p holds Bp[p][q][t] = op(B)[p0 + q][j0 + 16p + t] at p·kc·16 + q·16 + t,
// columns past nc zero.
[[gnu::target("avx512f")]] void pack_b(const float* b, int64_t ldb, bool trans_b, int64_t p0, int64_t kc, int64_t j0,
                                       int64_t nc, int64_t first, int64_t last, float* bp) {
  for (int64_t p = first; p < last; ++p) {
    const int64_t cols = std::min(kNR, nc - p * kNR);
    float* dst = bp + p * kc * kNR;
    if (!trans_b) {  // op(B)[q][j] = b[q·ldb + j]: each k step is 16 contiguous floats
      const float* src = b + p0 * ldb + j0 + p * kNR;
      for (int64_t q = 0; q < kc; ++q) _mm512_store_ps(dst + q * kNR, _mm512_maskz_loadu_ps(first_lanes(cols), src + q * ldb));
      continue;
    }
    // op(B)[q][j] = b[j·ldb + q]: 16 of B's rows, transposed 16 × 16 at a time
    const float* src = b + (j0 + p * kNR) * ldb + p0;
    for (int64_t q0 = 0; q0 < kc; q0 += 16) {
      const int64_t ks = std::min<int64_t>(16, kc - q0);
      __m512 t[16];
      for (int64_t r = 0; r < 16; ++r)
        t[r] = r < cols ? _mm512_maskz_loadu_ps(first_lanes(ks), src + r * ldb + q0) : _mm512_setzero_ps();
      transpose16x16(t);
      for (int64_t j = 0; j < ks; ++j) _mm512_store_ps(dst + (q0 + j) * kNR, t[j]);
    }
  }
}

struct Operands {
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  bool trans_a;
  const float* b;
  int64_t ldb;
  bool trans_b;
  float* c;
  int64_t ldc;
};

// The cache lines of op(A)'s (mc × kc) block at rows i0…, k p0… (A is read from memory when it
// is a big weight, tens of MB), handed out a few at a time so that fetching the next block
// overlaps the arithmetic on the current one instead of stalling its packing.
class BlockPrefetch {
 public:
  BlockPrefetch() = default;
  BlockPrefetch(const Operands& o, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int64_t calls) {
    // Stored rows of the block: mc rows of kc floats, or (transposed) kc rows of mc floats.
    const int64_t rows = o.trans_a ? kc : mc, width = o.trans_a ? mc : kc;
    base_ = reinterpret_cast<const char*>(o.trans_a ? o.a + p0 * o.lda + i0 : o.a + i0 * o.lda + p0);
    stride_ = o.lda * static_cast<int64_t>(sizeof(float));
    lines_per_row_ = (width * static_cast<int64_t>(sizeof(float)) + kLine - 1) / kLine;
    total_ = rows * lines_per_row_;
    per_call_ = (total_ + calls - 1) / calls;
  }
  // The addresses of the next share of lines (at most kMaxTilePrefetches) into `out`; returns
  // how many.
  int64_t next(const char** out) {
    const int64_t count = std::min({kMaxTilePrefetches, per_call_, total_ - issued_});
    for (int64_t i = 0; i < count; ++i) {
      out[i] = base_ + line_ * kLine;
      if (++line_ == lines_per_row_) line_ = 0, base_ += stride_;
    }
    issued_ += count;
    return count;
  }

 private:
  static constexpr int64_t kLine = 64;
  const char* base_ = nullptr;  // the current row
  int64_t stride_ = 0, lines_per_row_ = 0, total_ = 0, per_call_ = 0, issued_ = 0, line_ = 0;
};

int64_t panels_of(int64_t width) { return (width + kNR - 1) / kNR; }

// C[i0 : i0+mc, j0 : j0+nc] (+)= the packed A block (mc rows) · the packed B block (nc
// columns), k = kc; adds to C unless this is the first k block. Prefetches `ahead` as it goes.
void multiply_block(const Operands& o, const float* apack, const float* bpack, int64_t i0, int64_t mc, int64_t j0,
                    int64_t nc, int64_t kc, bool accumulate, BlockPrefetch& ahead) {
  alignas(64) float edge[kMR * kNR];
  const char* pf[kMaxTilePrefetches];
  const auto& tiles_by_rows = kTiles[o.trans_a ? 0 : 1];
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t rows = std::min(kMR, mc - ir), padded = (rows + kRowStep - 1) / kRowStep * kRowStep;
    const TileFn tile = tiles_by_rows[static_cast<size_t>(padded / kRowStep - 1)];
    const float* ap = apack + ir * kKC;  // panel ir / 28
    float* crow = o.c + (i0 + ir) * o.ldc + j0;
    for (int64_t jr = 0; jr < nc; jr += kNR) {
      const int64_t cols = std::min(kNR, nc - jr);
      const float* bp = bpack + jr * kc;  // panel jr / 16, kc · 16 floats each
      const int64_t pf_count = ahead.next(pf);
      if (rows == padded && cols == kNR) {
        tile(ap, bp, kc, crow + jr, o.ldc, accumulate, jr + 2 * kNR <= nc ? crow + jr + kNR : nullptr, pf, pf_count);
        continue;
      }
      // A partial tile goes through `edge`, so nothing is read or written outside C.
      std::fill(edge, edge + padded * kNR, 0.0f);
      if (accumulate)
        for (int64_t r = 0; r < rows; ++r)
          std::memcpy(edge + r * kNR, crow + r * o.ldc + jr, static_cast<size_t>(cols) * sizeof(float));
      tile(ap, bp, kc, edge, kNR, true, nullptr, pf, pf_count);
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(crow + r * o.ldc + jr, edge + r * kNR, static_cast<size_t>(cols) * sizeof(float));
    }
  }
}

// The prefetch of A's block at rows i0… (mc of them), k p0…, spread over the tiles of an
// (mc_now × nc) block; none when mc is 0.
BlockPrefetch prefetch_of(const Operands& o, int64_t i0, int64_t mc, int64_t p0, int64_t mc_now, int64_t nc) {
  if (mc <= 0) return {};
  return {o, i0, mc, p0, std::min(kKC, o.k - p0), (mc_now + kMR - 1) / kMR * panels_of(nc)};
}

// C[r0:r1, c0:c1], packing its own B blocks, with one slot of packing space (kSlotFloats,
// 64-byte aligned): the static split, for products whose B is too big to pack whole.
void product_block(const Operands& o, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float* slot) {
  float* apack = slot;
  float* bpack = slot + kAPanels * kMR * kKC;
  for (int64_t jc = c0; jc < c1; jc += kNC) {
    const int64_t nc = std::min(kNC, c1 - jc);
    for (int64_t pc = 0; pc < o.k; pc += kKC) {
      const int64_t kc = std::min(kKC, o.k - pc);
      pack_b(o.b, o.ldb, o.trans_b, pc, kc, jc, nc, 0, panels_of(nc), bpack);
      for (int64_t ic = r0; ic < r1; ic += kMC) {
        const int64_t mc = std::min(kMC, r1 - ic);
        pack_a(o.a, o.lda, o.trans_a, ic, mc, pc, kc, apack);
        // The block packed after this one: the next rows, or the first rows of the next k block.
        BlockPrefetch ahead = ic + kMC < r1      ? prefetch_of(o, ic + kMC, std::min(kMC, r1 - ic - kMC), pc, mc, nc)
                              : pc + kKC < o.k ? prefetch_of(o, r0, std::min(kMC, r1 - r0), pc + kKC, mc, nc)
                                               : BlockPrefetch{};
        multiply_block(o, apack, bpack, ic, mc, jc, nc, kc, pc > 0, ahead);
      }
    }
  }
}

// All of op(B) packed once, shared by the threads: block (jc, pc) of nc columns and kc rows
// of k sits at jc·k + pc·⌈nc⌉₁₆ floats, its panels as pack_b lays them.
struct PackedB {
  float* data;
  int64_t n, k;
  static int64_t floats(int64_t n, int64_t k) { return panels_of(n) * kNR * k; }
  float* block(int64_t jc, int64_t pc) const { return data + jc * k + pc * panels_of(std::min(kNC, n - jc)) * kNR; }
};

// Packs B's 16-column panels [first, last) (numbered across all of B) in every k block.
void pack_b_panels(const Operands& o, const PackedB& pb, int64_t first, int64_t last) {
  for (int64_t pc = 0; pc < o.k; pc += kKC) {
    const int64_t kc = std::min(kKC, o.k - pc);
    for (int64_t p = first; p < last;) {
      const int64_t jc = p * kNR / kNC * kNC, nc = std::min(kNC, o.n - jc);
      const int64_t local = p - jc / kNR, end = std::min(last - jc / kNR, panels_of(nc));
      pack_b(o.b, o.ldb, o.trans_b, pc, kc, jc, nc, local, end, pb.block(jc, pc));
      p = jc / kNR + end;
    }
  }
}

// Unit u of C against the shared packed B. As it starts its last block it claims the thread's
// next unit, whose first A block is prefetched meanwhile, and returns it. (Claiming the next
// unit when this one starts kept it from the other thread for a whole unit.)
// When all of k fits one block (a weight gradient, k = the batch), the unit's one A block
// serves every block of columns: it is packed once, not once per kNC columns.
RowUnit product_unit(const Operands& o, const PackedB& pb, RowUnit u, RowUnits& units, float* apack) {
  const bool one_k_block = o.k <= kKC;
  RowUnit next;
  for (int64_t jc = 0; jc < o.n; jc += kNC) {
    const int64_t nc = std::min(kNC, o.n - jc);
    for (int64_t pc = 0; pc < o.k; pc += kKC) {
      const int64_t kc = std::min(kKC, o.k - pc);
      if (jc == 0 || !one_k_block) pack_a(o.a, o.lda, o.trans_a, u.i0, u.rows, pc, kc, apack);
      const bool last = jc + kNC >= o.n && pc + kKC >= o.k;
      if (last) next = units.claim();
      // The block packed after this one: the next k block, the first of the next columns
      // (unless it is this one), or the next unit's first.
      BlockPrefetch ahead = pc + kKC < o.k ? prefetch_of(o, u.i0, u.rows, pc + kKC, u.rows, nc)
                            : last         ? prefetch_of(o, next.i0, next.rows, 0, u.rows, nc)
                            : one_k_block  ? BlockPrefetch{}
                                           : prefetch_of(o, u.i0, u.rows, 0, u.rows, nc);
      multiply_block(o, apack, pb.block(jc, pc), u.i0, u.rows, jc, nc, kc, pc > 0, ahead);
    }
  }
  return next;
}

}  // namespace

bool packed_gemm_available() { return avx512_enabled(); }

void packed_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a, const float* b,
                 int64_t ldb, bool trans_b, float* c, int64_t ldc) {
  const Operands o{m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc};
  const int64_t threads = get_num_threads();
  // Threads take C's rows, each packing its own blocks of A, unless C has too few rows to share
  // out or B is the bigger operand (then its columns, each packing its own blocks of B).
  const bool split_rows = m >= 16 * threads && (n <= m || n < 16 * threads);
  if (split_rows && PackedB::floats(n, k) <= kSharedBMaxFloats) {
    // B packed once, by all threads (a static share of its panels each), then units of rows
    // handed out one at a time: a thread on a slowed core (a shared machine) takes fewer,
    // where halves fixed in advance would wait for the slower one. Each C element is still
    // summed by one thread in one order.
    const int64_t unit = std::clamp<int64_t>((m + 4 * threads - 1) / (4 * threads) + kMR - 1, kMR, kMC) / kMR * kMR;
    const int64_t apanel_floats = kAPanels * kMR * kKC;
    const size_t bytes = static_cast<size_t>(PackedB::floats(n, k) + threads * apanel_floats) * sizeof(float);
    auto* space = static_cast<float*>(detail::allocate(bytes));
    const PackedB pb{space, n, k};
    parallel_for(
        panels_of(n), std::max<int64_t>(1, (int64_t{1} << 14) / k),
        [&](int64_t first, int64_t last) { pack_b_panels(o, pb, first, last); }, 1);
    RowUnits units(m, unit, kMR, threads);
    parallel_for(
        threads, 1,
        [&](int64_t t, int64_t) {
          float* apack = space + PackedB::floats(n, k) + t * apanel_floats;
          for (RowUnit u = units.claim(); u.rows > 0;) u = product_unit(o, pb, u, units, apack);
        },
        1);
    detail::deallocate(space, bytes);
    return;
  }
  // Otherwise a static split: ranges of rows (multiples of 16) or columns, each at least ~10⁶
  // multiply-adds, each packing its own blocks of both operands in its own slot of packing space.
  const int64_t extent = split_rows ? m : n, other = split_rows ? n : m;
  const int64_t grain = std::max<int64_t>(16, (int64_t{1} << 20) / (other * k));
  const auto slots = static_cast<size_t>(threads);
  const size_t bytes = slots * kSlotFloats * sizeof(float);
  auto* space = static_cast<float*>(detail::allocate(bytes));
  std::atomic<size_t> next_slot{0};
  parallel_for(extent, grain, [&](int64_t begin, int64_t end) {
    float* slot = space + std::min(next_slot++, slots - 1) * kSlotFloats;
    if (split_rows) product_block(o, begin, end, 0, n, slot);
    else product_block(o, 0, m, begin, end, slot);
  });
  detail::deallocate(space, bytes);
}

#else  // no AVX-512 intrinsics: never available, never called

bool packed_gemm_available() { return false; }
void packed_gemm(int64_t, int64_t, int64_t, const float*, int64_t, bool, const float*, int64_t, bool, float*, int64_t) {}

#endif

}  // namespace ad::kernels
