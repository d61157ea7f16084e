// Data-parallel training steps, timed: run by bench/dist/run.sh (one process, or under mpirun).
// Every rank trains the same network on its share of one fixed global batch (the data stay in
// memory: only the step is measured). Rank 0 prints one JSON line per run.
//
//   dist_bench --dims 1024,4096,4096,10 --opt sgd --batch 256 --steps 10 --mode MODE
//
// MODE: single   one process, the whole batch, no MPI
//       overlap  DataParallel, buckets all-reduced while backward goes on (the default)
//       compiled the overlap step under ad::compile (recorded once, replayed; the hooks launch the
//                buckets during the replayed backward); its sync wait is not measured apart
//       after    DataParallel with overlap off: every bucket after backward
//       local    each rank its share, no communication at all: the compute floor
//       allreduce the gradient bytes all-reduced alone: one MPI_Allreduce (MPI's own algorithm
//                choice), DataParallel's buckets as MPI_Iallreduce calls, and the same buckets
//                averaged by tapegrad::dist (dist::all_reduce, the transport DataParallel uses)
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dist/dist.hpp>
#include <memory>
#include <nn/nn.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace nn = ad::nn;
namespace dist = ad::dist;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<int64_t> dims{784, 256, 128, 10};
  std::string opt = "adam", mode = "overlap";
  int64_t batch = 128, steps = 20, warmup = 3;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--dims") {
      o.dims.clear();
      std::istringstream in(value);
      for (std::string d; std::getline(in, d, ',');) o.dims.push_back(std::stoll(d));
    }
    if (flag == "--opt") o.opt = value;
    if (flag == "--mode") o.mode = value;
    if (flag == "--batch") o.batch = std::stoll(value);
    if (flag == "--steps") o.steps = std::stoll(value);
    if (flag == "--warmup") o.warmup = std::stoll(value);
  }
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double since_ms(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string dims_text(const Options& o) {
  std::string s;
  for (int64_t d : o.dims) {
    if (!s.empty()) s += '-';
    s += std::to_string(d);
  }
  return s;
}

struct Timing {
  double step_ms = 0, sync_ms = 0;  // medians over the measured steps
};

// Steps on this rank's share of the global batch; `dp` null: no communication.
Timing train(const Options& o, int rank, int ranks, dist::DataParallel* dp, nn::Sequential& net, bool compiled) {
  ad::manual_seed(5);
  ad::Tensor X = ad::randn({o.dims.front(), o.batch});
  std::vector<int64_t> labels;
  for (int64_t j = 0; j < o.batch; ++j) labels.push_back(static_cast<int64_t>(ad::random_u64() % o.dims.back()));
  const nn::ColumnRange part = nn::batch_shard(o.batch, rank, ranks);
  const ad::Tensor Xs = ad::slice(X, 1, part.begin, part.end);
  const ad::Tensor Ys = nn::one_hot(std::vector<int64_t>(labels.begin() + part.begin, labels.begin() + part.end),
                                    o.dims.back());
  std::unique_ptr<ad::optim::Optimizer> opt;
  if (o.opt == "adam")
    opt = std::make_unique<ad::optim::Adam>(net.parameters(), 1e-4);
  else
    opt = std::make_unique<ad::optim::SGD>(net.parameters(), 1e-3);
  auto whole_step = ad::compile([&](const ad::Tensor& X, const ad::Tensor& Y) {
    ad::Tensor J = nn::softmax_cross_entropy(net.forward(X), Y);
    opt->zero_grad();
    J.backward();
    dp->synchronize();
    opt->step();
    return J;
  });
  std::vector<double> steps, syncs;
  for (int64_t s = 0; s < o.warmup + o.steps; ++s) {
    const auto t0 = Clock::now();
    if (compiled) {
      whole_step(Xs, Ys);
      if (s >= o.warmup) steps.push_back(since_ms(t0)), syncs.push_back(0);
      continue;
    }
    ad::Tensor J = nn::softmax_cross_entropy(net.forward(Xs), Ys);
    opt->zero_grad();
    J.backward();
    const auto t1 = Clock::now();
    if (dp) dp->synchronize();
    const auto t2 = Clock::now();
    opt->step();
    if (s >= o.warmup) {
      steps.push_back(since_ms(t0));
      syncs.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
  }
  return {median(steps), median(syncs)};
}

// The floor: the gradient bytes all-reduced alone — in one MPI_Allreduce (MPI's own algorithm
// choice), bucket by bucket as MPI_Iallreduce calls into a second buffer completed by polling,
// and bucket by bucket averaged in place by tapegrad::dist's transport (a shared-memory window
// on one machine unless TAPEGRAD_DIST_SHM=0), as DataParallel does.
void time_allreduce(const Options& o, nn::Sequential& net, int rank) {
  int64_t count = 0;
  for (const ad::Tensor& p : net.parameters()) count += p.numel();
  std::vector<float> send(static_cast<size_t>(count), 1.0f), recv(send.size());
  const std::vector<dist::Bucket> buckets = dist::plan_buckets(net.parameters(), {});
  std::vector<ad::Tensor> grads;
  for (const dist::Bucket& b : buckets) grads.push_back(ad::full({b.elements}, 1.0));
  std::vector<double> whole, bucketed, tapegrad;
  for (int64_t s = 0; s < o.warmup + o.steps; ++s) {
    MPI_Barrier(MPI_COMM_WORLD);
    auto t0 = Clock::now();
    MPI_Allreduce(send.data(), recv.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    const double whole_ms = since_ms(t0);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = Clock::now();
    int64_t offset = 0;
    for (const dist::Bucket& b : buckets) {
      MPI_Request req;
      MPI_Iallreduce(send.data() + offset, recv.data() + offset, static_cast<int>(b.elements), MPI_FLOAT, MPI_SUM,
                     MPI_COMM_WORLD, &req);
      for (int done = 0; !done;) MPI_Test(&req, &done, MPI_STATUS_IGNORE);
      offset += b.elements;
    }
    const double bucketed_ms = since_ms(t0);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = Clock::now();
    for (const ad::Tensor& g : grads) dist::all_reduce(g, dist::ReduceOp::Mean);
    if (s >= o.warmup) whole.push_back(whole_ms), bucketed.push_back(bucketed_ms), tapegrad.push_back(since_ms(t0));
  }
  if (rank == 0)
    std::printf("{\"mode\": \"allreduce\", \"dims\": \"%s\", \"bytes\": %lld, \"buckets\": %zu, "
                "\"mpi_allreduce_ms\": %.3f, \"bucketed_iallreduce_ms\": %.3f, \"bucketed_tapegrad_ms\": %.3f}\n",
                dims_text(o).c_str(), static_cast<long long>(count * 4), buckets.size(), median(whole),
                median(bucketed), median(tapegrad));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::optional<dist::Context> ctx;
  if (o.mode != "single") ctx.emplace(argc, argv);
  const int rank = ctx ? ctx->rank() : 0, ranks = ctx ? ctx->size() : 1;
  ad::manual_seed(1);
  nn::Sequential net = nn::mlp(o.dims, nn::Activation::ReLU, nn::Activation::Identity);
  if (o.mode == "allreduce") {
    time_allreduce(o, net, rank);
    return 0;
  }
  std::unique_ptr<dist::DataParallel> dp;
  const bool compiled = o.mode == "compiled";
  if (o.mode == "overlap" || o.mode == "after" || compiled)
    dp = std::make_unique<dist::DataParallel>(net.named_parameters(),
                                              dist::DataParallelOptions{.overlap = o.mode != "after"});
  Timing t = train(o, rank, ranks, dp.get(), net, compiled);
  if (ctx) t.step_ms = dist::all_reduce(t.step_ms, dist::ReduceOp::Max);  // the slowest rank sets the pace
  if (rank == 0)
    std::printf("{\"mode\": \"%s\", \"dims\": \"%s\", \"opt\": \"%s\", \"batch\": %lld, \"ranks\": %d, \"threads\": %d, "
                "\"buckets\": %zu, \"step_ms\": %.3f, \"sync_wait_ms\": %.3f, \"samples_per_s\": %.1f}\n",
                o.mode.c_str(), dims_text(o).c_str(), o.opt.c_str(), static_cast<long long>(o.batch), ranks,
                ad::get_num_threads(), dp ? dp->buckets().size() : size_t{0}, t.step_ms, t.sync_ms,
                1000.0 * static_cast<double>(o.batch) / t.step_ms);
}
