// Memory: recorded state is released when nothing can reach it, and a loop of fixed shapes
// reaches a steady state where the caching allocator stops asking the system for memory.
// memory_stats() counts tensor storage, tensor handles and tape records alike.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include "autodiff/detail/allocate.hpp"
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

using ad::Tensor;

// The 2 → 4 → 1 network of the notes on m = 16 samples: A1 = tanh(W1·X + b1), A2 = σ(W2·A1 + b2).
struct Net {
  Tensor W1, b1, W2, b2, X, Y;
  Net() {
    ad::manual_seed(7);
    W1 = (ad::randn({4, 2}) * 0.5).detach().requires_grad_();
    b1 = ad::zeros({4, 1}).requires_grad_();
    W2 = (ad::randn({1, 4}) * 0.5).detach().requires_grad_();
    b2 = ad::zeros({1, 1}).requires_grad_();
    X = ad::randn({2, 16});
    Y = ad::where(ad::gt(ad::sum(X, 0, true), 0.0), ad::ones({1, 16}), ad::zeros({1, 16}));
  }
  Tensor cost() const {
    Tensor A2 = ad::sigmoid(ad::matmul(W2, ad::tanh(ad::matmul(W1, X) + b1)) + b2);
    Tensor d = A2 - Y;
    return ad::mean(d * d);
  }
  void sgd_step(double lr) {
    ad::NoGradGuard no_grad;
    for (Tensor* p : {&W1, &b1, &W2, &b2}) {
      p->add_(p->grad(), -lr);
      p->zero_grad();
    }
  }
};

TEST(Memory, ForwardPassesWithoutBackwardStayFlat) {
  Net net;
  const size_t tape_before = ad::tape_size();
  Tensor J;
  for (int i = 0; i < 100; ++i) J = net.cost();  // warm-up
  const ad::MemoryStats warm = ad::memory_stats();
  for (int i = 0; i < 100000; ++i) {
    J = net.cost();  // the previous graph dies here, unreferenced
    ASSERT_EQ(ad::tape_size(), tape_before + 9) << "iteration " << i;
  }
  const ad::MemoryStats end = ad::memory_stats();
  EXPECT_EQ(end.bytes_in_use, warm.bytes_in_use);
  EXPECT_EQ(end.system_allocs, warm.system_allocs);
  J = Tensor();
  EXPECT_EQ(ad::tape_size(), tape_before);
}

TEST(Memory, TrainingLoopReachesASteadyState) {
  Net net;
  const double first = net.cost().item();
  ad::MemoryStats after_warmup;
  size_t tape_after_warmup = 0;
  for (int step = 0; step < 5000; ++step) {
    if (step == 10) {
      after_warmup = ad::memory_stats();
      tape_after_warmup = ad::tape_size();
    }
    Tensor J = net.cost();
    J.backward();
    net.sgd_step(0.5);
  }
  const ad::MemoryStats end = ad::memory_stats();
  EXPECT_EQ(end.system_allocs, after_warmup.system_allocs) << "malloc calls after the first steps";
  EXPECT_EQ(end.bytes_in_use, after_warmup.bytes_in_use);
  EXPECT_EQ(ad::tape_size(), tape_after_warmup);
  EXPECT_GT(end.allocs, after_warmup.allocs + 5000 * 20);  // the steps did allocate, from the cache
  EXPECT_LT(net.cost().item(), 0.5 * first);  // and the network learned
}

// A gradient no other handle sees becomes the leaf's .grad() as it is: no copy per parameter
// per pass (a rule's fresh result is the common case).
TEST(Memory, LeafTakesAFreshGradientWithoutACopy) {
  Tensor x = ad::ones({64}).requires_grad_();
  const void* made = nullptr;
  Tensor y = ad::record_op("fresh", "dX = dY", {x}, ad::ones({64}), [&made](ad::BackwardContext& c) {
    c.add(0, [&] {
      Tensor g = c.grad() * 2.0;
      made = g.raw_data();
      return g;
    }());
  });
  y.backward(ad::ones({64}));
  EXPECT_EQ(x.grad().raw_data(), made);
}

TEST(Memory, BackwardFreesWhatTheRulesSaved) {
  Tensor W = ad::randn({64, 64}).requires_grad_();
  Tensor J;
  {
    Tensor H = ad::randn({64, 4096});
    J = ad::sum(ad::tanh(ad::matmul(W, H)));  // tanh keeps its (64, 4096) output, matmul keeps H
  }
  const size_t held = ad::memory_stats().bytes_in_use;
  J.backward();
  const size_t after = ad::memory_stats().bytes_in_use;
  // tanh's output and H (1 MiB each) are gone; only W's gradient (16 KiB) was added.
  EXPECT_LT(after + 2 * 64 * 4096 * 4 - 64 * 64 * 4 - 4096, held);
  J = Tensor();
  W.zero_grad();
  EXPECT_LT(ad::memory_stats().bytes_in_use, after);
}

TEST(Memory, GraphsOutliveTheThreadThatRecordedThem) {
  Tensor x = ad::ones({256}).requires_grad_();
  const size_t base = ad::memory_stats().bytes_in_use;
  Tensor y;
  std::thread t([&] { y = ad::sum(ad::exp(x) * x); });
  t.join();
  EXPECT_GT(ad::memory_stats().bytes_in_use, base);
  y.backward();
  EXPECT_NEAR(x.grad().to_vector()[0], 2 * std::exp(1.0), 1e-5);  // d/dx eˣx = eˣ(1 + x)
  y = Tensor();
  x.zero_grad();
  EXPECT_EQ(ad::memory_stats().bytes_in_use, base);  // the records died here, on another thread
}

TEST(Memory, EmptyCacheReturnsThisThreadsBlocks) {
  { Tensor big = ad::zeros({1 << 16}); }
  EXPECT_GE(ad::memory_stats().bytes_cached, size_t{1} << 18);
  ad::empty_cache();
  EXPECT_EQ(ad::memory_stats().bytes_cached, 0u);
}

// Big blocks start on a 2 MB boundary (offered to transparent huge pages), and all of each is
// usable; small ones keep the 64-byte alignment.
TEST(Memory, BigBlocksStartOnHugePageBoundaries) {
  if (const char* v = std::getenv("TAPEGRAD_HUGE_PAGES"); v && std::string(v) == "0")
    GTEST_SKIP() << "TAPEGRAD_HUGE_PAGES=0";
  for (const size_t bytes : {size_t{4} << 20, (size_t{5} << 20) + 3, size_t{64} << 20}) {
    auto* p = static_cast<unsigned char*>(ad::detail::allocate(bytes));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u) << bytes << " bytes";
    std::fill(p, p + bytes, static_cast<unsigned char>(bytes));
    EXPECT_EQ(p[bytes - 1], static_cast<unsigned char>(bytes));
    ad::detail::deallocate(p, bytes);
  }
  void* small = ad::detail::allocate(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  ad::detail::deallocate(small, 1000);
}

}  // namespace
