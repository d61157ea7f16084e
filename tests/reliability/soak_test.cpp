// Long runs: a training loop of fixed shapes must reach a steady state where neither the
// caching allocator's live bytes nor the bytes held through malloc grow. The step count comes
// from TAPEGRAD_SOAK_STEPS (default 5,000, the short form CI runs; the full soak is 100,000).
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nn/nn.hpp>
#include <string>

// Under ASan and TSan, malloc is the sanitizer's (with a quarantine of freed blocks), so glibc's
// counters say nothing; the allocator's own counters stay exact.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TAPEGRAD_GLIBC_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TAPEGRAD_GLIBC_MALLOC 0
#endif
#endif
#ifndef TAPEGRAD_GLIBC_MALLOC
#define TAPEGRAD_GLIBC_MALLOC 1
#endif

namespace {

using ad::Tensor;
namespace nn = ad::nn;

int64_t soak_steps() {
  const char* env = std::getenv("TAPEGRAD_SOAK_STEPS");
  return env && *env ? std::atoll(env) : 5000;
}

// Resident set size from /proc/self/statm (second field, in pages).
size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// Bytes the C library's malloc has handed out and not taken back, over all its arenas.
size_t malloc_bytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return m.uordblks + m.hblkhd;
}

struct Snapshot {
  size_t live, cached, rss, heap;
  uint64_t system_allocs;
  static Snapshot now() {
    const ad::MemoryStats s = ad::memory_stats();
    return {s.bytes_in_use, s.bytes_cached, rss_bytes(), malloc_bytes(), s.system_allocs};
  }
};

// One mini-batch step of a 2 → 16 → 8 → 1 network with Adam, the way the examples train:
// forward, cost, zero_grad, backward, step.
struct Trainer {
  nn::Dataset data;
  nn::Sequential net;
  ad::optim::Adam adam;
  nn::MiniBatches batches;
  int64_t k = 0;
  Trainer()
      : data((ad::manual_seed(5), nn::flower(256))),
        net(nn::mlp({2, 16, 8, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid)),
        adam(net.parameters(), 0.01),
        batches(data.X, data.Y, 64) {}
  double step() {
    if (k % static_cast<int64_t>(batches.size()) == 0) batches.shuffle();
    const nn::Batch b = batches[static_cast<size_t>(k++ % static_cast<int64_t>(batches.size()))];
    Tensor J = nn::binary_cross_entropy(net.forward(b.X), b.Y);
    adam.zero_grad();
    J.backward();
    adam.step();
    return J.item();
  }
};

TEST(Soak, MemoryStaysFlatOverALongTrainingRun) {
  const int64_t steps = soak_steps();
  ASSERT_GE(steps, 1000) << "TAPEGRAD_SOAK_STEPS must be at least 1000";
  Trainer t;
  const int64_t warm_up = std::min<int64_t>(500, steps / 10);
  double first = 0, last = 0;
  for (int64_t i = 0; i < warm_up; ++i) (i == 0 ? first : last) = t.step();
  const Snapshot warm = Snapshot::now();
  Snapshot peak = warm;
  for (int64_t i = warm_up; i < steps; ++i) {
    last = t.step();
    if (i % 1000 == 0) {
      const Snapshot s = Snapshot::now();
      peak.live = std::max(peak.live, s.live);
      peak.rss = std::max(peak.rss, s.rss);
      peak.heap = std::max(peak.heap, s.heap);
    }
  }
  const Snapshot end = Snapshot::now();
  std::printf("[ soak     ] %lld steps: live bytes %zu after warm-up, %zu at the end (max %zu); RSS %.2f MiB -> "
              "%.2f MiB (max %.2f); malloc'd bytes %zu -> %zu (max %zu); system allocs %llu -> %llu; cost %.4f -> %.4f\n",
              static_cast<long long>(steps), warm.live, end.live, peak.live, warm.rss / 1048576.0,
              end.rss / 1048576.0, peak.rss / 1048576.0, warm.heap, end.heap, peak.heap, static_cast<unsigned long long>(warm.system_allocs),
              static_cast<unsigned long long>(end.system_allocs), first, last);
  EXPECT_LT(last, first);                    // it did train
  EXPECT_EQ(end.live, warm.live);            // the same tensors are alive at the same point of a step
  EXPECT_LE(peak.live, warm.live + 65536);   // and never many more in between
  EXPECT_EQ(end.system_allocs, warm.system_allocs);  // the caching allocator serves every step
  // Memory outside the allocator (tape records, shapes, the optimizer's lists) comes from malloc:
  // its bytes in use must not grow either (a leak of one block per step would add 140 KiB here).
  // Resident memory is only printed: the kernel may back the same heap with huge pages at any time.
  if (TAPEGRAD_GLIBC_MALLOC) {
    EXPECT_LE(end.heap, warm.heap + 65536) << "malloc'd bytes grew after warm-up";
  }
}

}  // namespace
