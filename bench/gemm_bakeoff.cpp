// The matrix-product bake-off: every product the comparison networks run, timed on each
// backend that can compute it, in one run, and printed as one markdown table (bench/README.md,
// "Matrix-product backends"). Backends:
//   packed, thin   tapegrad's own AVX-512 kernels (float32; thin only for C with ≤ 24 rows)
//   openblas       one cblas_sgemm / cblas_dgemm call
//   onednn         oneDNN's matmul primitive on tapegrad's layouts, created once per product
//   onednn-pre     the same with the weight matrix reordered once, outside the timing, into
//                  the layout the primitive prefers (only for W·A and Wᵀ·dZ)
//   routed         what the library does today: kernels::gemm, the one place that picks
// oneDNN blocks only its right operand, so onednn-pre computes Cᵀ = op(B)ᵀ · op(A)ᵀ (sample-major):
// an upper bound that tapegrad's column layout, which wants C itself, cannot use.
//
// Every backend runs on 2 threads. Each round times every backend once per product, in an order
// that rotates with the round, each sample at least ~10 ms of calls. The table gives the median
// of the rounds; the summary also compares each backend's fastest round, since the noise of a
// shared machine only ever adds. A threaded OpenBLAS call's and oneDNN's workers spin on after
// it, slowing whatever runs next: a pause follows each such sample.
//
//   gemm_bakeoff [--rounds N] [--net NAME] [--no-avx512]
// --net keeps the products of the networks whose name contains NAME (e.g. "b=1024").
// --no-avx512: tapegrad and oneDNN as without AVX-512 (with OPENBLAS_CORETYPE=Haswell for OpenBLAS).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "autodiff/kernels/cpu.hpp"
#include "autodiff/kernels/gemm.hpp"
#include "autodiff/kernels/packed_gemm.hpp"
#include "autodiff/kernels/thin_gemm.hpp"
#include "onednn_matmul.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// C (m × n) = op(A) · op(B) from k, as a network's step runs it.
struct Product {
  std::string net, role;
  int64_t m, n, k;
  bool ta, tb;
  double madds() const { return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

// Layer l of a network with W[l] (n_l × n_{l−1}) and batch b runs Z = W·A (n_l × b from
// n_{l−1}), dW = dZ·Aᵀ (n_l × n_{l−1} from b) and, above the first layer, dA = Wᵀ·dZ
// (n_{l−1} × b from n_l).
void add_network(std::vector<Product>& out, const std::string& net, const std::vector<int64_t>& dims, int64_t b) {
  for (size_t l = 1; l < dims.size(); ++l) {
    out.push_back({net, "W·A", dims[l], b, dims[l - 1], false, false});
    if (l > 1) out.push_back({net, "Wᵀ·dZ", dims[l - 1], b, dims[l], true, false});
    out.push_back({net, "dZ·Aᵀ", dims[l], dims[l - 1], b, false, true});
  }
}

std::vector<Product> all_products() {
  std::vector<Product> out;
  add_network(out, "2-4-1 m=400", {2, 4, 1}, 400);
  add_network(out, "12288-20-7-5-1 m=209", {12288, 20, 7, 5, 1}, 209);
  add_network(out, "1024-4096-4096-10 b=256", {1024, 4096, 4096, 10}, 256);
  for (int64_t b : {1, 4, 16, 64, 128, 256, 1024, 4096})
    add_network(out, "784-256-128-10 b=" + std::to_string(b), {784, 256, 128, 10}, b);
  return out;
}

// Operands of one product in one dtype, 64-byte aligned (tapegrad's allocator). openblas
// writes c, onednn-pre ct, the others c_ours.
struct Candidate {
  std::string name;
  std::function<void()> run;
  std::function<const void*()> result;  // where C (for onednn-pre Cᵀ) is after a run
  bool transposed_result;
};

struct Operands {
  ad::Tensor a, b, c, c_ours, ct;
  Operands(const Product& p, ad::DType d)
      : a(ad::randn(p.ta ? ad::Shape{p.k, p.m} : ad::Shape{p.m, p.k}, d)),
        b(ad::randn(p.tb ? ad::Shape{p.n, p.k} : ad::Shape{p.k, p.n}, d)),
        c(ad::zeros({p.m, p.n}, d)), c_ours(ad::zeros({p.m, p.n}, d)), ct(ad::zeros({p.n, p.m}, d)) {}
};

template <class T>
T* ptr(const ad::Tensor& t) {
  return static_cast<T*>(const_cast<void*>(t.raw_data()));
}

void openblas(const Product& p, const Operands& o, ad::DType d) {
  const auto ta = p.ta ? CblasTrans : CblasNoTrans, tb = p.tb ? CblasTrans : CblasNoTrans;
  const auto m = static_cast<blasint>(p.m), n = static_cast<blasint>(p.n), k = static_cast<blasint>(p.k);
  const auto lda = static_cast<blasint>(o.a.shape()[1]), ldb = static_cast<blasint>(o.b.shape()[1]);
  if (d == ad::DType::f32)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.f, ptr<float>(o.a), lda, ptr<float>(o.b), ldb, 0.f, ptr<float>(o.c), n);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, ptr<double>(o.a), lda, ptr<double>(o.b), ldb, 0.0,
                ptr<double>(o.c), n);
}

void routed(const Product& p, const Operands& o, ad::DType d) {
  const int64_t lda = o.a.shape()[1], ldb = o.b.shape()[1];
  if (d == ad::DType::f32)
    ad::kernels::gemm(p.m, p.n, p.k, ptr<float>(o.a), lda, p.ta, ptr<float>(o.b), ldb, p.tb, ptr<float>(o.c_ours), p.n);
  else
    ad::kernels::gemm(p.m, p.n, p.k, ptr<double>(o.a), lda, p.ta, ptr<double>(o.b), ldb, p.tb, ptr<double>(o.c_ours), p.n);
}

// ---- the candidates of one product ---------------------------------------------------------

std::function<const void*()> at(const void* c) {
  return [c] { return c; };
}

std::vector<Candidate> candidates(const Product& p, Operands& o, ad::DType d, std::map<std::string, std::set<std::string>>& impls) {
  std::vector<Candidate> out;
  const bool f32 = d == ad::DType::f32;
  void* mine = o.c_ours.raw_data();
  if (f32 && ad::kernels::packed_gemm_available())
    out.push_back({"packed", [&p, &o, mine] {
                     ad::kernels::packed_gemm(p.m, p.n, p.k, ptr<float>(o.a), o.a.shape()[1], p.ta, ptr<float>(o.b),
                                             o.b.shape()[1], p.tb, static_cast<float*>(mine), p.n);
                   }, at(mine), false});
  if (f32 && !p.ta && p.m <= ad::kernels::kThinGemmMaxRows && ad::kernels::thin_gemm_available())
    out.push_back({"thin", [&p, &o, mine] {
                     ad::kernels::thin_product(p.m, p.n, p.k, ptr<float>(o.a), ptr<float>(o.b), p.tb, static_cast<float*>(mine));
                   }, at(mine), false});
  out.push_back({"openblas", [&p, &o, d] { openblas(p, o, d); }, at(o.c.raw_data()), false});
  if (f32) {  // oneDNN 2.6 has no float64
    auto call = std::make_shared<onednn::Call>(
        onednn::plain(p.m, p.n, p.k, p.ta, p.tb, ptr<float>(o.a), ptr<float>(o.b), ptr<float>(o.c_ours)));
    impls["onednn"].insert(call->impl);
    out.push_back({"onednn", [call] { (*call)(); }, at(mine), false});
    if (p.role != "dZ·Aᵀ") {
      auto pre = std::make_shared<onednn::Call>(
          onednn::prepacked(p.m, p.n, p.k, p.ta, p.tb, ptr<float>(o.a), ptr<float>(o.b), ptr<float>(o.ct)));
      impls["onednn-pre"].insert(pre->impl);
      out.push_back({"onednn-pre", [pre] { (*pre)(); }, at(o.ct.raw_data()), true});
    }
  }
  out.push_back({"routed", [&p, &o, d] { routed(p, o, d); }, at(mine), false});
  return out;
}

// The largest |x − reference| over |reference| + 1 of `got` against openblas's C.
template <class T>
double max_error(const T* ref, const T* got, const Product& p, bool transposed) {
  double worst = 0;
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      const double r = ref[i * p.n + j], g = transposed ? got[j * p.m + i] : got[i * p.n + j];
      worst = std::max(worst, std::abs(g - r) / (std::abs(r) + 1.0));
    }
  return worst;
}

// The 1-minute load average: on a shared machine it says how much the figures can be trusted.
std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string one;
  f >> one;
  return one.empty() ? "?" : one;
}

// ---- timing --------------------------------------------------------------------------------

constexpr double kSampleSeconds = 0.01;
constexpr double kThreadedMadds = 1 << 18;  // OpenBLAS 0.3.21 threads a product from here

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Seconds per call over one sample of `iters` calls.
double sample(const Candidate& c, int64_t iters) {
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < iters; ++i) c.run();
  return seconds_since(t0) / static_cast<double>(iters);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

// Seconds per call of each candidate in each of `rounds` rounds, the order rotating per round.
// `routed_blas`: the routed candidate calls OpenBLAS too, and pauses after it as well.
std::vector<std::vector<double>> time_candidates(const Product& p, const std::vector<Candidate>& cs, int rounds,
                                                 bool routed_blas) {
  std::vector<int64_t> iters;
  for (const Candidate& c : cs) {
    c.run();  // warm-up (and the first call's one-off costs)
    iters.push_back(std::clamp<int64_t>(static_cast<int64_t>(kSampleSeconds / sample(c, 1)), 1, 200000));
  }
  std::vector<std::vector<double>> secs(cs.size());
  for (int r = 0; r < rounds; ++r)
    for (size_t j = 0; j < cs.size(); ++j) {
      const size_t i = (j + static_cast<size_t>(r)) % cs.size();
      secs[i].push_back(sample(cs[i], iters[i]));
      const bool blas = cs[i].name == "openblas" || (routed_blas && cs[i].name == "routed");
      if (blas && p.madds() >= kThreadedMadds) std::this_thread::sleep_for(std::chrono::milliseconds(120));
      if (cs[i].name.rfind("onednn", 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  return secs;
}

// ---- the table -------------------------------------------------------------------------------

const std::vector<std::string> kColumns = {"packed", "thin", "openblas", "onednn", "onednn-pre", "routed"};
bool is_own(const std::string& name) { return name == "packed" || name == "thin"; }
bool is_library(const std::string& name) { return name == "openblas" || name == "onednn" || name == "onednn-pre"; }

std::string shape_of(const Product& p) {
  return std::to_string(p.m) + "×" + std::to_string(p.n) + " ← " + std::to_string(p.k) + (p.ta ? " (Aᵀ)" : "") +
         (p.tb ? " (Bᵀ)" : "");
}

// One product's seconds per call by backend, the median and the fastest round, and the backend
// kernels::gemm picks.
struct Row {
  Product p;
  ad::DType d;
  std::map<std::string, double> secs, fastest;
  std::string route;
  double best(bool (*pick)(const std::string&), bool by_fastest = false) const {
    double t = 1e30;
    for (const auto& [name, s] : by_fastest ? fastest : secs)
      if (pick(name)) t = std::min(t, s);
    return t;
  }
};
// onednn-pre writes Cᵀ, not tapegrad's C: shown, never counted as the best library.
bool counts_as_library(const std::string& name) { return is_library(name) && name != "onednn-pre"; }
bool counts_at_all(const std::string& name) { return name != "onednn-pre"; }

std::string route_of(const Product& p, ad::DType d, const Operands& o) {
  const auto backend = ad::kernels::gemm_backend(p.m, p.n, p.k, o.a.shape()[1], p.ta, o.b.shape()[1], p.tb, p.n);
  if (backend == ad::kernels::GemmBackend::small) return "small";
  if (d != ad::DType::f32) return "openblas";
  switch (backend) {
    case ad::kernels::GemmBackend::small: return "small";
    case ad::kernels::GemmBackend::thin: return "thin";
    case ad::kernels::GemmBackend::packed: return "packed";
    case ad::kernels::GemmBackend::blas: break;
  }
  return "openblas";
}

// Median µs per backend ("–" where it does not apply), the best GFLOP/s, and the best library's
// time over the best own kernel's (above 1: the own kernel is faster).
void print_row(const Row& r) {
  std::printf("| %s | %s | %s | %s | %s |", r.p.net.c_str(), r.p.role.c_str(), shape_of(r.p).c_str(),
              r.d == ad::DType::f32 ? "f32" : "f64", r.route.c_str());
  for (const std::string& col : kColumns) {
    auto it = r.secs.find(col);
    if (it == r.secs.end()) std::printf(" – |");
    else std::printf(" %.1f |", it->second * 1e6);
  }
  const double own = r.best(is_own);
  std::printf(" %.1f |", 2 * r.p.madds() / r.best(counts_at_all) / 1e9);
  if (own < 1e30) std::printf(" %.2f |\n", r.best(counts_as_library) / own);
  else std::printf(" – |\n");
  std::fflush(stdout);
}

// The ratio best library / best own kernel over some rows: geometric mean, range, and on how
// many the own kernel is ≥ 10% ahead.
struct RatioStats {
  int count = 0, ahead = 0;
  double log_sum = 0, lo = 1e30, hi = 0;
  void add(double ratio) {
    ++count, log_sum += std::log(ratio), lo = std::min(lo, ratio), hi = std::max(hi, ratio);
    ahead += ratio >= 1.1;
  }
  void print() const {
    if (count) std::printf(" %.2f (%.2f–%.2f) | %d |", std::exp(log_sum / count), lo, hi, ahead);
    else std::printf(" – | – |");
  }
};

// Per backend kernels::gemm picks: the ratio by medians and by each backend's fastest round,
// and the summed medians of the routed backend and of the best library.
void print_summary(const std::vector<Row>& rows) {
  std::printf("\n| dtype, routed to | products | library / own, medians: geomean (range) | own ≥ 10%% ahead | "
              "library / own, fastest rounds | own ≥ 10%% ahead | Σ routed ms | Σ openblas ms | Σ best library ms |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (ad::DType d : {ad::DType::f32, ad::DType::f64})
    for (const std::string route : {"thin", "packed", "openblas"}) {
      int count = 0;
      RatioStats by_median, by_fastest;
      double routed = 0, openblas = 0, library = 0;
      for (const Row& r : rows) {
        if (r.d != d || r.route != route) continue;
        ++count, routed += r.secs.at("routed"), openblas += r.secs.at("openblas");
        library += r.best(counts_as_library);
        if (r.best(is_own) >= 1e30) continue;
        by_median.add(r.best(counts_as_library) / r.best(is_own));
        by_fastest.add(r.best(counts_as_library, true) / r.best(is_own, true));
      }
      if (count == 0) continue;
      std::printf("| %s, %s | %d |", d == ad::DType::f32 ? "f32" : "f64", route.c_str(), count);
      by_median.print();
      by_fastest.print();
      std::printf(" %.3f | %.3f | %.3f |\n", routed * 1e3, openblas * 1e3, library * 1e3);
    }
}

// Compares every candidate's C with openblas's; a mismatch is printed, never hidden.
void check_results(const Product& p, ad::DType d, const std::vector<Candidate>& cs, const Operands& o) {
  openblas(p, o, d);
  for (const Candidate& c : cs) {
    c.run();
    const double err = d == ad::DType::f32
                           ? max_error(ptr<float>(o.c), static_cast<const float*>(c.result()), p, c.transposed_result)
                           : max_error(ptr<double>(o.c), static_cast<const double*>(c.result()), p, c.transposed_result);
    const double tolerance = (d == ad::DType::f32 ? 1e-5 : 1e-13) * std::sqrt(static_cast<double>(p.k));
    if (!(err <= tolerance))
      std::fprintf(stderr, "MISMATCH %s %s %s: %s differs from openblas by %.3g\n", p.net.c_str(), p.role.c_str(),
                   shape_of(p).c_str(), c.name.c_str(), err);
  }
}

// The products, each (m, n, k, flags) once under every network that runs it.
std::vector<Product> distinct(const std::vector<Product>& all) {
  std::vector<Product> out;
  for (const Product& p : all) {
    auto same = [&p](const Product& q) { return q.m == p.m && q.n == p.n && q.k == p.k && q.ta == p.ta && q.tb == p.tb; };
    auto it = std::find_if(out.begin(), out.end(), same);
    if (it == out.end()) out.push_back(p);
    else it->net += ", " + p.net;
  }
  return out;
}

void print_header(int rounds) {
  std::printf("OpenBLAS %s (core %s), oneDNN %d.%d.%d, tapegrad's own kernels %s; 2 threads each; median of %d "
              "rounds, µs per product; load average %s at the start\n\n",
              openblas_get_config(), openblas_get_corename(), dnnl_version()->major, dnnl_version()->minor,
              dnnl_version()->patch, ad::kernels::packed_gemm_available() ? "on" : "off (no AVX-512)", rounds,
              load_average().c_str());
  std::printf("| network | product | C ← k | dtype | routed to |");
  for (const std::string& c : kColumns) std::printf(" %s |", c.c_str());
  std::printf(" best GFLOP/s | library / own |\n|---|---|---|---|---|");
  for (size_t i = 0; i < kColumns.size() + 2; ++i) std::printf("---:|");
  std::printf("\n");
}

// Times every product of the networks whose name contains `only`, printing a row each.
std::vector<Row> run_all(const std::string& only, int rounds, std::map<std::string, std::set<std::string>>& impls) {
  std::vector<Row> rows;
  for (const Product& p : distinct(all_products())) {
    if (p.net.find(only) == std::string::npos) continue;
    for (ad::DType d : {ad::DType::f32, ad::DType::f64}) {
      Operands o(p, d);
      const std::vector<Candidate> cs = candidates(p, o, d, impls);
      check_results(p, d, cs, o);
      Row r{p, d, {}, {}, route_of(p, d, o)};
      const auto secs = time_candidates(p, cs, rounds, r.route == "openblas");
      for (size_t i = 0; i < cs.size(); ++i) {
        r.secs[cs[i].name] = median(secs[i]);
        r.fastest[cs[i].name] = *std::min_element(secs[i].begin(), secs[i].end());
      }
      print_row(r);
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 11;
  std::string only;  // products of networks whose name contains this
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--net") && i + 1 < argc) only = argv[++i];
    else if (!std::strcmp(argv[i], "--no-avx512")) ad::kernels::force_no_avx512(true), dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2);
    else return std::fprintf(stderr, "usage: gemm_bakeoff [--rounds N] [--net NAME] [--no-avx512]\n"), 2;
  }
  ad::set_num_threads(2);
  openblas_set_num_threads(2);
  omp_set_num_threads(2);
  ad::manual_seed(1);
  print_header(rounds);
  std::map<std::string, std::set<std::string>> impls;
  print_summary(run_all(only, rounds, impls));
  std::printf("\nLoad average %s at the end.\n", load_average().c_str());
  for (const auto& [name, set] : impls)
    for (const std::string& impl : set) std::printf("%s ran oneDNN's %s implementation.\n", name.c_str(), impl.c_str());
  return 0;
}
