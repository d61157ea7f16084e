// The machine's cblas_sgemm peak, the yardstick of W4's GFLOP/s: square products at a few
// sizes on the BLAS's configured threads; prints the best size's median as one JSON line.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  if (reps < 1) return 0;  // run.sh's probe: only OpenBLAS's start-up message is wanted
  double best = 0;
  int best_n = 0;
  for (int n : {1024, 2048, 4096}) {
    const size_t nn = static_cast<size_t>(n) * n;
    float* a = static_cast<float*>(std::aligned_alloc(64, nn * 4));
    float* b = static_cast<float*>(std::aligned_alloc(64, nn * 4));
    float* c = static_cast<float*>(std::aligned_alloc(64, nn * 4));
    for (size_t i = 0; i < nn; ++i) a[i] = b[i] = static_cast<float>(i % 7) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a, n, b, n, 0.f, c, n);  // warm-up
    std::vector<double> gflops;
    for (int r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a, n, b, n, 0.f, c, n);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      gflops.push_back(2.0 * n * n * n / s / 1e9);
    }
    std::sort(gflops.begin(), gflops.end());
    const double median = gflops[gflops.size() / 2];
    std::fprintf(stderr, "sgemm %d: median %.1f GFLOP/s\n", n, median);
    if (median > best) best = median, best_n = n;
    std::free(a), std::free(b), std::free(c);
  }
  std::printf("{\"impl\": \"cblas_sgemm\", \"workload\": \"peak\", \"n\": %d, \"gflops\": %.2f}\n", best_n, best);
  return 0;
}
