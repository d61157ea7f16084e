// Data-parallel training ends where one process ends: N ranks, each with global/N columns of
// every batch, against one process on the global batch, for 20 steps of two networks in float32
// and float64. And the overlapped all-reduce gives the same bits as the plain one after backward.
#include <cstdio>
#include <memory>

#include "dist_test_util.hpp"

namespace {

namespace dist = ad::dist;
namespace nn = ad::nn;
using ad::DType;
using ad::Tensor;
using dist_test::Recipe;

// CompiledDataParallel: the DataParallel step (backward, synchronize, optimizer) under ad::compile.
enum class Mode { OneProcess, DataParallel, AllReduceAfterBackward, CompiledDataParallel };

struct Data {
  Tensor X, Y;
};

// The same data on every rank: the 2-4-1 network learns the flower, the deep one random images.
Data make_data(const Recipe& r) {
  ad::manual_seed(123);
  if (r.dims.front() == 2) {
    nn::Dataset flower = nn::flower(r.m, r.dtype);
    return {flower.X, flower.Y};
  }
  const int64_t classes = r.dims.back();
  Tensor Y = ad::zeros({classes, r.m}, r.dtype);
  for (int64_t j = 0; j < r.m; ++j) {
    const auto c = static_cast<int64_t>(ad::random_u64() % static_cast<uint64_t>(classes));
    r.dtype == DType::f32 ? Y.data<float>()[c * r.m + j] = 1 : Y.data<double>()[c * r.m + j] = 1;
  }
  return {ad::randn({r.dims.front(), r.m}, r.dtype), Y};
}

Tensor cost(const Recipe& r, const Tensor& out, const Tensor& Y) {
  return r.dims.back() == 1 ? nn::binary_cross_entropy(out, Y) : nn::softmax_cross_entropy(out, Y);
}

struct Result {
  std::vector<Tensor> params;
  size_t buckets = 0, launched_in_backward = 0;
  ad::CompileStats compiled;  // CompiledDataParallel only
};

// The plain path LibTorch's C++ example takes: after backward, each gradient all-reduced alone.
void average_after_backward(nn::Module& net) {
  for (const Tensor& p : net.parameters()) dist::all_reduce(p.grad(), dist::ReduceOp::Mean);
}

// r.steps steps. Each rank draws its initial weights from its own seed: the runs on several
// ranks agree with the one process (seed 7, rank 0's) only if rank 0's values reach them all.
Result train(const Recipe& r, Mode mode, dist::DataParallelOptions options = {}) {
  const Data d = make_data(r);
  const bool spread = mode != Mode::OneProcess;
  const bool data_parallel = mode == Mode::DataParallel || mode == Mode::CompiledDataParallel;
  const int rank = spread ? dist::Context::current().rank() : 0, ranks = spread ? dist::Context::current().size() : 1;
  ad::manual_seed(7 + static_cast<uint64_t>(rank));
  nn::Sequential net = nn::mlp(r.dims, r.hidden, r.output, nn::default_init(r.hidden), r.dtype);
  std::unique_ptr<dist::DataParallel> dp;
  if (data_parallel) dp = std::make_unique<dist::DataParallel>(net.named_parameters(), options);
  if (mode == Mode::AllReduceAfterBackward)
    for (const Tensor& p : net.parameters()) dist::broadcast(p.detach(), 0);
  std::unique_ptr<ad::optim::Optimizer> opt;
  if (r.adam)
    opt = std::make_unique<ad::optim::Adam>(net.parameters(), 1e-3);
  else
    opt = std::make_unique<ad::optim::SGD>(net.parameters(), 0.5);
  ad::manual_seed(99);  // one batch order on every rank
  nn::MiniBatches batches(d.X, d.Y, r.batch);
  if (spread) batches.shard(rank, ranks);
  auto one_step = [&](const Tensor& X, const Tensor& Y) {
    Tensor J = cost(r, net.forward(X), Y);
    opt->zero_grad();
    J.backward();
    if (dp) dp->synchronize();
    if (mode == Mode::AllReduceAfterBackward) average_after_backward(net);
    opt->step();
    return J;
  };
  auto compiled = ad::compile(one_step);
  Result result;
  for (int step = 0; step < r.steps; batches.shuffle())
    for (size_t k = 0; k < batches.size() && step < r.steps; ++k, ++step) {
      const nn::Batch b = batches[k];
      if (mode == Mode::CompiledDataParallel)
        compiled(b.X, b.Y);
      else
        one_step(b.X, b.Y);
      if (dp) result.launched_in_backward += dp->buckets_launched_in_backward();
    }
  result.compiled = compiled.stats();
  result.params = dist_test::snapshot(net);
  if (dp) result.buckets = dp->buckets().size();
  return result;
}

// After training every rank must hold rank 0's parameters exactly.
void expect_same_on_every_rank(const std::vector<Tensor>& params) {
  std::vector<Tensor> from_rank0;
  for (const Tensor& p : params) from_rank0.push_back(dist::broadcast(p.clone(), 0));
  EXPECT_TRUE(dist_test::identical(params, from_rank0));
}

void expect_equivalent(const Recipe& r, double tolerance, const char* label) {
  const Result one = train(r, Mode::OneProcess);
  const Result many = train(r, Mode::DataParallel);
  expect_same_on_every_rank(many.params);
  const double diff = dist_test::max_normwise_difference(many.params, one.params);
  const double largest_entry = dist_test::max_relative_difference(many.params, one.params);
  if (dist::Context::current().rank() == 0)
    std::printf("[equivalence] %s, %d steps on %d ranks: relative difference %.3g (limit %.0e), largest entry's %.3g\n",
                label, r.steps, dist::Context::current().size(), diff, tolerance, largest_entry);
  EXPECT_LE(diff, tolerance) << label;
}

const Recipe kDeep{{784, 256, 128, 10}, nn::Activation::ReLU, nn::Activation::Identity, true, DType::f32, 640, 128};
const Recipe kPlanar{{2, 4, 1}, nn::Activation::Tanh, nn::Activation::Sigmoid, false, DType::f32, 400, 400};

Recipe in(Recipe r, DType dtype) {
  r.dtype = dtype;
  return r;
}

TEST(Equivalence, Deep784_256_128_10AdamFloat32) { expect_equivalent(kDeep, 1e-5, "784-256-128-10 Adam float32"); }
TEST(Equivalence, Deep784_256_128_10AdamFloat64) {
  expect_equivalent(in(kDeep, DType::f64), 1e-12, "784-256-128-10 Adam float64");
}
TEST(Equivalence, Planar2_4_1GradientDescentFloat32) { expect_equivalent(kPlanar, 1e-5, "2-4-1 GD float32"); }
TEST(Equivalence, Planar2_4_1GradientDescentFloat64) {
  expect_equivalent(in(kPlanar, DType::f64), 1e-12, "2-4-1 GD float64");
}

// Small buckets, so that several are launched while backward goes on.
TEST(Overlap, SameBitsAsAllReduceAfterBackward) {
  dist::DataParallelOptions overlapped{64 << 10, 4 << 10, true}, plain{64 << 10, 4 << 10, false};
  const Result a = train(kDeep, Mode::DataParallel, overlapped);
  const Result b = train(kDeep, Mode::DataParallel, plain);
  const Result c = train(kDeep, Mode::AllReduceAfterBackward);
  EXPECT_TRUE(dist_test::identical(a.params, b.params)) << "overlapped vs all buckets after backward";
  EXPECT_TRUE(dist_test::identical(a.params, c.params)) << "overlapped vs one all_reduce per parameter";
  EXPECT_GE(a.buckets, 4u);
  EXPECT_EQ(a.launched_in_backward, a.buckets * static_cast<size_t>(kDeep.steps)) << "all launched during backward";
  EXPECT_EQ(b.launched_in_backward, 0u);
}

// The step compiled: the first call records, the others replay, and each replayed backward
// launches every bucket from the gradient-ready hooks (before synchronize()), as the eager step
// does; the parameters end bit for bit where the uncompiled data-parallel step leaves them.
void expect_compiled_same(const Recipe& r, dist::DataParallelOptions options, const char* label) {
  const Result eager = train(r, Mode::DataParallel, options);
  const Result compiled = train(r, Mode::CompiledDataParallel, options);
  EXPECT_TRUE(dist_test::identical(compiled.params, eager.params)) << label;
  EXPECT_EQ(compiled.compiled.records, 1u) << label;
  EXPECT_EQ(compiled.compiled.replays, static_cast<uint64_t>(r.steps - 1)) << label;
  const size_t every_bucket_every_step = compiled.buckets * static_cast<size_t>(r.steps);
  EXPECT_EQ(eager.launched_in_backward, every_bucket_every_step) << label;
  EXPECT_EQ(compiled.launched_in_backward, every_bucket_every_step) << label << ": launched by the hooks";
}

TEST(Compiled, ReplayedStepEqualsEagerDeepAdamFloat32) {
  expect_compiled_same(kDeep, {64 << 10, 4 << 10, true}, "784-256-128-10 Adam float32, small buckets");
}
TEST(Compiled, ReplayedStepEqualsEagerPlanarFloat64) {
  expect_compiled_same(in(kPlanar, DType::f64), {}, "2-4-1 GD float64");
}

}  // namespace
