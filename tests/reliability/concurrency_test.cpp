// Four threads training four models at once give bit for bit the results of training them one
// after the other: tapes, grad mode, generators and allocator caches are per thread, and
// nothing is shared by accident. Run under ThreadSanitizer by scripts/sanitize.sh thread.
#include <gtest/gtest.h>

#include <nn/nn.hpp>
#include <thread>
#include <vector>

namespace {

using ad::Tensor;
namespace nn = ad::nn;

// Every cost and every final parameter value of `steps` mini-batch Adam steps of a
// 2 → 8 → 8 → 1 network on a `seed`ed moons set, all on the calling thread.
std::vector<double> train(uint64_t seed, int steps) {
  ad::manual_seed(seed);
  nn::Dataset data = nn::moons(128, 0.2);
  nn::Sequential net = nn::mlp({2, 8, 8, 1}, nn::Activation::Tanh, nn::Activation::Sigmoid);
  ad::optim::Adam adam(net.parameters(), 0.02);
  nn::MiniBatches batches(data.X, data.Y, 32);
  std::vector<double> out;
  for (int k = 0; k < steps; ++k) {
    const nn::Batch b = batches[static_cast<size_t>(k) % batches.size()];
    Tensor J = nn::binary_cross_entropy(net.forward(b.X), b.Y);
    adam.zero_grad();
    J.backward();
    adam.step();
    out.push_back(J.item());
    if ((k + 1) % batches.size() == 0) batches.shuffle();
  }
  for (const Tensor& p : net.parameters())
    for (double v : p.to_vector()) out.push_back(v);
  return out;
}

TEST(Concurrency, FourThreadsMatchSequentialRunsBitForBit) {
  const int steps = 200;
  const std::vector<uint64_t> seeds{3, 5, 7, 11};
  std::vector<std::vector<double>> alone;
  for (uint64_t s : seeds) alone.push_back(train(s, steps));
  for (size_t i = 1; i < alone.size(); ++i) ASSERT_NE(alone[i], alone[0]);  // four different runs
  ASSERT_LT(alone[0][steps - 1], alone[0][0]);                               // that do train
  for (int round = 0; round < 2; ++round) {
    std::vector<std::vector<double>> together(seeds.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < seeds.size(); ++i)
      threads.emplace_back([&, i] { together[i] = train(seeds[i], steps); });
    for (std::thread& t : threads) t.join();
    for (size_t i = 0; i < seeds.size(); ++i) EXPECT_EQ(together[i], alone[i]) << "model " << i << ", round " << round;
  }
}

TEST(Concurrency, TensorsMadeOnOneThreadDieOnAnother) {
  // Records and storage released on a thread other than their own: the tape and the allocator
  // must take them back safely (TSan checks the locking).
  for (int round = 0; round < 20; ++round) {
    std::vector<Tensor> made(4);
    std::vector<std::thread> makers;
    for (int i = 0; i < 4; ++i)
      makers.emplace_back([&, i] {
        Tensor x = ad::ones({8, 8}).requires_grad_();
        made[static_cast<size_t>(i)] = ad::tanh(ad::matmul(x, x)) * 2.0;  // keeps records alive
      });
    for (auto& t : makers) t.join();
    std::vector<std::thread> killers;
    for (int i = 0; i < 4; ++i) killers.emplace_back([&, i] { made[static_cast<size_t>((i + 1) % 4)] = Tensor(); });
    for (auto& t : killers) t.join();
  }
  EXPECT_EQ(ad::tape_size(), 0u);
}

}  // namespace
