// The building blocks, with values every rank can predict: all_reduce, broadcast, metrics over a
// data set split across ranks, no_sync() for gradient accumulation, and unused parameters.
#include "dist_test_util.hpp"

namespace {

namespace dist = ad::dist;
namespace nn = ad::nn;
using ad::DType;
using ad::Tensor;

using dist_test::rank;
using dist_test::ranks;

TEST(Collectives, SumMeanMaxAndBroadcast) {
  const double r = rank(), n = ranks();
  Tensor t = ad::tensor({r, 2 * r + 1}, {2}, DType::f64);
  dist::all_reduce(t, dist::ReduceOp::Sum);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{n * (n - 1) / 2, n * n}));  // Σr, Σ(2r + 1)
  Tensor f = ad::tensor({r, -r}, {2});
  dist::all_reduce(f, dist::ReduceOp::Max);
  EXPECT_EQ(f.to_vector(), (std::vector<double>{n - 1, 0}));
  EXPECT_DOUBLE_EQ(dist::all_reduce(r + 1, dist::ReduceOp::Mean), (n + 1) / 2);
  Tensor b = dist::broadcast(ad::full({3}, r + 10), ranks() - 1);
  EXPECT_EQ(b.to_vector(), (std::vector<double>(3, n - 1 + 10)));
  dist_test::expect_error<ad::ValueError>([&] { dist::broadcast(b, ranks()); }, "is not a rank");
}

// 20 MB of float32 travels as two all-reduces; every element must still be summed once.
TEST(Collectives, LargeTensorsGoInPieces) {
  const int64_t n = 5'000'000;
  Tensor t = ad::full({n}, rank() + 1.0);
  dist::all_reduce(t, dist::ReduceOp::Mean);
  const float* p = t.data<float>();
  const auto expected = static_cast<float>((ranks() + 1) / 2.0);
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) wrong += p[i] != expected;
  EXPECT_EQ(wrong, 0);
}

TEST(Collectives, AccuracyOverShardsIsTheWholeSetsAccuracy) {
  ad::manual_seed(5);  // the same predictions and labels on every rank
  const int64_t m = 1001, classes = 10;
  Tensor A = ad::randn({classes, m});
  std::vector<int64_t> labels;
  for (int64_t j = 0; j < m; ++j) labels.push_back(static_cast<int64_t>(ad::random_u64() % classes));
  const nn::ColumnRange part = nn::shard_range(m, rank(), ranks());
  const std::vector<int64_t> mine(labels.begin() + part.begin, labels.begin() + part.end);
  const double sharded = dist::accuracy(ad::slice(A, 1, part.begin, part.end), mine);
  EXPECT_EQ(sharded, nn::accuracy(A, labels));  // exactly: counts are combined, not averages
}

// Two micro-batches per step, the first under no_sync(): plain gradient descent then moves as
// one process does with both micro-batches' gradients summed over the global batch.
TEST(NoSync, AccumulatesLikeOneProcess) {
  ad::manual_seed(9);
  const int64_t global = 8LL * ranks();
  Tensor X1 = ad::randn({3, global}, DType::f64), X2 = ad::randn({3, global}, DType::f64);
  auto make = [] { ad::manual_seed(1); return nn::mlp({3, 5, 1}, nn::Activation::Tanh, nn::Activation::Identity, nn::Init::Xavier, DType::f64); };
  auto cost = [](nn::Sequential& net, const Tensor& X) { return ad::mean(ad::pow(net.forward(X), 2.0)); };
  nn::Sequential one = make(), many = make();
  ad::optim::SGD sgd_one(one.parameters(), 0.1), sgd_many(many.parameters(), 0.1);
  dist::DataParallel dp(many.named_parameters());
  const nn::ColumnRange part = nn::batch_shard(global, rank(), ranks());
  for (int step = 0; step < 3; ++step) {
    sgd_one.zero_grad(), sgd_many.zero_grad();
    cost(one, X1).backward(), cost(one, X2).backward();
    {
      auto guard = dp.no_sync();
      cost(many, ad::slice(X1, 1, part.begin, part.end)).backward();
    }
    cost(many, ad::slice(X2, 1, part.begin, part.end)).backward();
    dp.synchronize();
    sgd_one.step(), sgd_many.step();
  }
  EXPECT_LE(dist_test::max_relative_difference(dist_test::snapshot(many), dist_test::snapshot(one)), 1e-12);
}

// A parameter the forward pass never uses: every rank sends zeros for it, and it ends with a
// zero gradient (so every rank's optimizer treats it alike).
TEST(Unused, ParameterCountsAsZeros) {
  Tensor used = ad::full({2, 1}, 1.0).requires_grad_(), unused = ad::ones({3}).requires_grad_();
  dist::DataParallel dp({used, unused});
  ad::sum(used * static_cast<double>(rank() + 1)).backward();
  dp.synchronize();
  EXPECT_EQ(used.grad().to_vector(), (std::vector<double>(2, (ranks() + 1) / 2.0)));  // mean of r + 1
  EXPECT_EQ(unused.grad().to_vector(), (std::vector<double>(3, 0.0)));
}

}  // namespace
