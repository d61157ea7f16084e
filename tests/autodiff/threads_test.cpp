// Recording is per thread: threads training their own models do not see each other's tapes,
// grad mode or random streams, and get exactly the results of running one after the other.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <atomic>
#include <thread>
#include <vector>

#include "autodiff/kernels/parallel.hpp"

namespace {

using ad::Tensor;

// Trains a 3 → 8 → 1 network for `steps` steps of gradient descent; returns every cost and
// the final parameters, all drawn from a generator seeded with `seed` on the calling thread.
std::vector<double> train(uint64_t seed, int steps) {
  ad::manual_seed(seed);
  Tensor W1 = (ad::randn({8, 3}) * 0.5).detach().requires_grad_(), b1 = ad::zeros({8, 1}).requires_grad_();
  Tensor W2 = (ad::randn({1, 8}) * 0.5).detach().requires_grad_(), b2 = ad::zeros({1, 1}).requires_grad_();
  Tensor X = ad::randn({3, 32});
  Tensor Y = ad::sigmoid(ad::sum(X * X, 0, true) - 3.0);  // a smooth target in (0, 1)
  std::vector<double> out;
  for (int step = 0; step < steps; ++step) {
    Tensor A2 = ad::sigmoid(ad::matmul(W2, ad::tanh(ad::matmul(W1, X) + b1)) + b2);
    Tensor J = ad::mean((A2 - Y) * (A2 - Y));
    J.backward();
    out.push_back(J.item());
    ad::NoGradGuard no_grad;
    for (Tensor* p : {&W1, &b1, &W2, &b2}) {
      p->add_(p->grad(), -0.5);
      p->zero_grad();
    }
  }
  for (const Tensor* p : {&W1, &b1, &W2, &b2})
    for (double v : p->to_vector()) out.push_back(v);
  return out;
}

TEST(Threads, ConcurrentTrainingsMatchSequentialOnesBitForBit) {
  const int steps = 300;
  const std::vector<double> a_alone = train(11, steps), b_alone = train(22, steps);
  ASSERT_NE(a_alone, b_alone);
  ASSERT_LT(a_alone[steps - 1], a_alone[0]);  // training made progress
  for (int round = 0; round < 3; ++round) {
    std::vector<double> a, b;
    std::thread ta([&] { a = train(11, steps); });
    std::thread tb([&] { b = train(22, steps); });
    ta.join();
    tb.join();
    EXPECT_EQ(a, a_alone) << "round " << round;  // exact: same seed, same operations
    EXPECT_EQ(b, b_alone) << "round " << round;
  }
}

TEST(Threads, GradModeAndTapeArePerThread) {
  Tensor x = ad::ones({2}).requires_grad_();
  ad::NoGradGuard off;  // on this thread only
  const size_t here = ad::tape_size();
  bool recorded = false, enabled = false;
  size_t there = 0;
  std::thread t([&] {
    enabled = ad::is_grad_enabled();
    Tensor y = x * 2.0;
    recorded = y.requires_grad();
    there = ad::tape_size();
  });
  t.join();
  EXPECT_TRUE(enabled);
  EXPECT_TRUE(recorded);
  EXPECT_EQ(there, 1u);
  EXPECT_EQ(ad::tape_size(), here);
  EXPECT_FALSE((x * 2.0).requires_grad());
}

TEST(Threads, SeedsArePerThread) {
  ad::manual_seed(5);
  const auto main_draw = ad::randn({4}).to_vector();
  std::vector<double> thread_draw;
  std::thread t([&] {
    ad::manual_seed(5);
    thread_draw = ad::randn({4}).to_vector();
  });
  ad::manual_seed(5);
  const auto main_again = ad::randn({4}).to_vector();  // races with t, yet is unaffected by it
  t.join();
  EXPECT_EQ(main_draw, thread_draw);
  EXPECT_EQ(main_draw, main_again);
}

TEST(Threads, SetNumThreads) {
  const int before = ad::get_num_threads();
  ad::set_num_threads(2);
  EXPECT_EQ(ad::get_num_threads(), 2);
  const auto two = train(3, 5);
  ad::set_num_threads(1);
  EXPECT_EQ(ad::get_num_threads(), 1);
  EXPECT_EQ(train(3, 5), two);  // these products are small enough that BLAS does not split them
  EXPECT_THROW(ad::set_num_threads(0), ad::ValueError);
  EXPECT_EQ(ad::get_num_threads(), 1);
  ad::set_num_threads(before);
}

TEST(Threads, RecordsDyingElsewhereLeaveTheTapeConsistent) {
  const size_t base = ad::tape_size();
  Tensor x = ad::ones({3}).requires_grad_();
  std::vector<Tensor> made;
  for (int i = 0; i < 2000; ++i) made.push_back(ad::exp(x * static_cast<double>(i % 7)));
  EXPECT_EQ(ad::tape_size(), base + 4000);
  std::thread t([moved = std::move(made)]() mutable { moved.clear(); });  // they die over there
  for (int i = 0; i < 2000; ++i) (void)ad::exp(x);  // while this thread keeps recording
  t.join();
  EXPECT_EQ(ad::tape_size(), base);
  Tensor y = ad::sum(x * x);
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 2, 2}));
}

// The library's worker pool (kernels::parallel_for): loops started from several threads at once (one gets the workers, the
// others run on their own thread) and a loop nested in a loop's chunk each cover their range
// exactly once.
TEST(Threads, ConcurrentAndNestedLoopsCoverEveryIndexOnce) {
  const int saved = ad::get_num_threads();
  ad::set_num_threads(2);
  constexpr int64_t n = 4096;
  auto loop = [](std::vector<std::atomic<int>>& hits, bool nested) {
    ad::kernels::parallel_for(
        n, 64,
        [&](int64_t begin, int64_t end) {
          if (!nested) {
            for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
            return;
          }
          ad::kernels::parallel_for(
              end - begin, 16,
              [&](int64_t b, int64_t e) {
                for (int64_t i = begin + b; i < begin + e; ++i) ++hits[static_cast<size_t>(i)];
              },
              1);
        },
        1);
  };
  for (int round = 0; round < 20; ++round) {
    std::vector<std::vector<std::atomic<int>>> hits(4);
    for (auto& h : hits) h = std::vector<std::atomic<int>>(n);
    std::vector<std::thread> users;
    for (size_t t = 0; t < hits.size(); ++t) users.emplace_back([&, t] { loop(hits[t], t % 2 == 1); });
    for (std::thread& u : users) u.join();
    for (size_t t = 0; t < hits.size(); ++t)
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[t][static_cast<size_t>(i)].load(), 1) << "user " << t << " index " << i;
  }
  ad::set_num_threads(saved);
}

}  // namespace
