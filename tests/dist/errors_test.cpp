// Bad input and misuse, each a clear error on every rank with no rank left waiting (the building
// blocks themselves: collectives_test.cpp).
#include <cstdio>

#include "dist_test_util.hpp"

namespace {

namespace dist = ad::dist;
namespace nn = ad::nn;
using ad::DType;
using ad::Tensor;

using dist_test::rank;
using dist_test::ranks;

// The group must still work after an error that every rank saw: one more collective.
void expect_group_still_works() { EXPECT_EQ(dist::all_reduce(1.0), static_cast<double>(ranks())); }

// Every rank got `message`, the same text: gather its length and first characters.
void expect_same_message_everywhere(const std::string& message) {
  EXPECT_EQ(dist::all_reduce(static_cast<double>(message.size()), dist::ReduceOp::Max),
            static_cast<double>(message.size()))
      << message;
  EXPECT_EQ(dist::all_reduce(static_cast<double>(message.size())), static_cast<double>(message.size() * ranks()));
}

TEST(Mismatch, DifferentLayerSizesNameTheFirstDifferingParameterOnEveryRank) {
  if (ranks() == 1) GTEST_SKIP() << "needs two ranks";
  nn::Sequential net = nn::mlp({784, 256, rank() == 1 ? 64 : 128, 10}, nn::Activation::ReLU, nn::Activation::Identity);
  const std::string msg = dist_test::message_of<dist::MismatchError>([&] { dist::DataParallel dp(net.named_parameters()); });
  EXPECT_NE(msg.find("the ranks hold different models: rank 0 has W2 (128, 256) float32, but rank 1 has W2 (64, 256) "
                     "float32"),
            std::string::npos)
      << msg;
  expect_same_message_everywhere(msg);
  expect_group_still_works();
}

TEST(Mismatch, DifferentParameterOrder) {
  if (ranks() == 1) GTEST_SKIP() << "needs two ranks";
  nn::Sequential net = nn::mlp({8, 4, 2}, nn::Activation::ReLU, nn::Activation::Identity);
  auto named = net.named_parameters();
  if (rank() == ranks() - 1) std::swap(named[0], named[1]);
  const std::string msg = dist_test::message_of<dist::MismatchError>([&] { dist::DataParallel dp(named); });
  EXPECT_NE(msg.find(fmt::format("rank 0 has W1 (4, 8) float32, but rank {} has b1 (4, 1) float32", ranks() - 1)),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("same order"), std::string::npos) << msg;
  expect_group_still_works();
}

TEST(Mismatch, DifferentDtypeCountAndBucketSizes) {
  if (ranks() == 1) GTEST_SKIP() << "needs two ranks";
  const bool odd = rank() == 1;
  nn::Sequential f64 = nn::mlp({3, 2}, nn::Activation::ReLU, nn::Activation::Identity, nn::Init::Xavier,
                               odd ? DType::f64 : DType::f32);
  std::string msg = dist_test::message_of<dist::MismatchError>([&] { dist::DataParallel dp(f64.parameters()); });
  EXPECT_NE(msg.find("rank 0 has parameter 0 (2, 3) float32, but rank 1 has parameter 0 (2, 3) float64"),
            std::string::npos)
      << msg;
  nn::Sequential deeper = nn::mlp(odd ? std::vector<int64_t>{3, 2, 2} : std::vector<int64_t>{3, 2},
                                  nn::Activation::ReLU, nn::Activation::Identity);
  msg = dist_test::message_of<dist::MismatchError>([&] { dist::DataParallel dp(deeper.named_parameters()); });
  EXPECT_NE(msg.find("rank 0 has nothing more (3 in all), but rank 1 has W2 (2, 2) float32"), std::string::npos) << msg;
  nn::Sequential net = nn::mlp({3, 2}, nn::Activation::ReLU, nn::Activation::Identity);
  dist::DataParallelOptions options;
  if (odd) options.bucket_bytes = 1 << 20;
  msg = dist_test::message_of<dist::MismatchError>([&] { dist::DataParallel dp(net.named_parameters(), options); });
  EXPECT_NE(msg.find("rank 1 has buckets of 1048576 bytes"), std::string::npos) << msg;
  expect_group_still_works();
}

TEST(Mismatch, CollectiveOnDifferentShapes) {
  if (ranks() == 1) GTEST_SKIP() << "needs two ranks";
  Tensor t = ad::ones({rank() == 1 ? 3 : 2});
  const std::string msg = dist_test::message_of<dist::MismatchError>([&] { dist::all_reduce(t); });
  EXPECT_NE(msg.find("all_reduce: the ranks passed different tensors: rank 0 has (2,) float32 sum, but rank 1 has (3,) "
                     "float32 sum"),
            std::string::npos)
      << msg;
  expect_group_still_works();
}

struct Step {
  nn::Sequential net = nn::mlp({4, 3, 1}, nn::Activation::Tanh, nn::Activation::Sigmoid);
  Tensor X = ad::randn({4, 6}), Y = ad::gt(ad::rand({1, 6}), 0.5);
  Tensor cost() { return nn::binary_cross_entropy(net.forward(X), Y); }
};

TEST(Usage, SynchronizeWithoutBackwardOrTwice) {
  Step s;
  dist::DataParallel dp(s.net.named_parameters());
  dist_test::expect_error<ad::UsageError>([&] { dp.synchronize(); }, "no parameter's gradient became final");
  s.cost().backward();
  dp.synchronize();
  dist_test::expect_error<ad::UsageError>([&] { dp.synchronize(); }, "synchronize() once per step");
  s.net.zero_grad();
  s.cost().backward();
  {
    auto guard = dp.no_sync();
    dist_test::expect_error<ad::UsageError>([&] { dp.synchronize(); }, "inside no_sync()");
  }
  dp.synchronize();
  expect_group_still_works();
}

TEST(Usage, TwoBackwardPassesWithoutSynchronize) {
  Step s;
  dist::DataParallel dp(s.net.named_parameters());
  s.cost().backward();
  dist_test::expect_error<ad::UsageError>([&] { s.cost().backward(); }, "became final twice without synchronize()");
  dp.synchronize();  // the first pass's step completes normally
  expect_group_still_works();
}

TEST(Usage, ParametersMustBeDistinctLeavesAndAContextMustExist) {
  Tensor w = ad::ones({2}).requires_grad_();
  dist_test::expect_error<ad::UsageError>([&] { dist::DataParallel dp({w, w}); }, "parameter 0 and parameter 1 are the same");
  dist_test::expect_error<ad::UsageError>([&] { dist::DataParallel dp({w * 2.0}); }, "must be a leaf");
  dist_test::expect_error<ad::UsageError>([&] { dist::Context again; }, "one already exists");
  dist_test::expect_error<ad::UsageError>([&] { dist::all_reduce((w * 2.0)); }, "part of a recorded graph");
}

}  // namespace
