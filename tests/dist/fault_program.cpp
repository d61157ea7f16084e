// A data-parallel training run in which one rank fails at a chosen step, for the fault tests
// (run_fault.cmake). Rank 0 saves a checkpoint (model and Adam state) after every synchronized
// step. A rank that ends its training loop normally prints "rank R: finished"; none should.
//
//   fault_program --mode throw|return|kill --rank R --step S --checkpoint PATH   (under mpirun)
//   fault_program --mode resume --checkpoint PATH                                (under mpirun)
//   fault_program --verify PATH                                                  (alone)
//
// throw: rank R throws and nothing catches it (std::terminate). return: every rank catches
// what it gets in main, prints it and returns 3 (Context's destructor then runs). kill: rank R
// sends itself SIGKILL. resume: every rank loads the checkpoint (model and Adam state) and
// trains on to step kResumeTo, checkpointing as before. --verify loads the checkpoint and
// checks it holds the parameters one process has after the same number of steps.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dist/dist.hpp>
#include <memory>
#include <nn/nn.hpp>
#include <stdexcept>
#include <string>

namespace {

namespace nn = ad::nn;

constexpr int64_t kGlobalBatch = 32, kSamples = 256, kResumeTo = 16;

struct Run {
  nn::Sequential net;
  std::unique_ptr<ad::optim::Adam> adam;
  nn::MiniBatches batches;
};

Run make_run(int rank, int ranks) {
  ad::manual_seed(123);
  ad::Tensor X = ad::randn({20, kSamples});
  ad::Tensor Y = ad::gt(ad::rand({1, kSamples}), 0.5);
  ad::manual_seed(7);
  nn::Sequential net = nn::mlp({20, 16, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid);
  auto adam = std::make_unique<ad::optim::Adam>(net.parameters(), 1e-2);
  ad::manual_seed(99);
  nn::MiniBatches batches(X, Y, kGlobalBatch);
  batches.shard(rank, ranks);
  return {std::move(net), std::move(adam), std::move(batches)};
}

void step(Run& run, int64_t s, ad::dist::DataParallel* dp) {
  const nn::Batch b = run.batches[static_cast<size_t>(s) % run.batches.size()];
  ad::Tensor J = nn::binary_cross_entropy(run.net.forward(b.X), b.Y);
  run.adam->zero_grad();
  J.backward();
  if (dp) dp->synchronize();
  run.adam->step();
}

struct Fault {
  std::string mode, checkpoint;
  int rank = -1;  // none
  int64_t step = 6;
};

void train(const Fault& f, ad::dist::Context& ctx) {
  Run run = make_run(ctx.rank(), ctx.size());
  if (f.mode == "resume") nn::load(run.net, *run.adam, f.checkpoint);
  ad::dist::DataParallel dp(run.net.named_parameters());
  const int64_t last = f.mode == "resume" ? kResumeTo : 3 * f.step;
  for (int64_t s = run.adam->steps(); s < last; ++s) {
    if (ctx.rank() == f.rank && s == f.step) {
      if (f.mode == "kill") std::raise(SIGKILL);
      throw std::runtime_error("rank " + std::to_string(f.rank) + " fails at step " + std::to_string(s));
    }
    step(run, s, &dp);
    if (ctx.rank() == 0) nn::save(run.net, *run.adam, f.checkpoint);
  }
  std::printf("rank %d: finished%s\n", ctx.rank(), f.mode == "resume" ? " resuming" : "");
}

int verify(const std::string& path) {
  Run saved = make_run(0, 1);
  nn::load(saved.net, *saved.adam, path);
  const int64_t steps = saved.adam->steps();
  Run one = make_run(0, 1);
  for (int64_t s = 0; s < steps; ++s) step(one, s, nullptr);
  double worst = 0;
  const auto a = saved.net.parameters(), b = one.net.parameters();
  for (size_t p = 0; p < a.size(); ++p) {  // |a − b| relative to b's largest entry
    const std::vector<double> x = a[p].to_vector(), y = b[p].to_vector();
    double diff = 0, scale = 0;
    for (size_t i = 0; i < x.size(); ++i) diff = std::max(diff, std::fabs(x[i] - y[i])), scale = std::max(scale, std::fabs(y[i]));
    worst = std::max(worst, diff / scale);
  }
  std::printf("checkpoint after %lld steps; max relative difference from one process: %.3g\n",
              static_cast<long long>(steps), worst);
  return steps >= 1 && worst <= 1e-5 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--verify") == 0) return verify(argv[2]);
  Fault f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mode") f.mode = value;
    if (flag == "--rank") f.rank = std::stoi(value);
    if (flag == "--step") f.step = std::stoll(value);
    if (flag == "--checkpoint") f.checkpoint = value;
  }
  ad::dist::Context ctx(argc, argv);
  if (f.mode != "return") {
    train(f, ctx);
    return 0;
  }
  try {
    train(f, ctx);
  } catch (const std::exception& e) {
    std::printf("rank %d caught: %s\n", ctx.rank(), e.what());
    std::fflush(stdout);
    return 3;
  }
  return 0;
}
