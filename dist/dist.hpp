// tapegrad dist: data-parallel training over MPI. Start the same program as several
// processes (ranks) — `mpirun -np 4 ./train` on one machine, a hostfile or Slurm for several —
// and each rank trains the same model on its own share of every mini-batch; gradients are
// averaged across ranks while backward goes on, so every rank takes the step one process would
// take on the whole batch.
//
//   #include <dist/dist.hpp>
//   #include <nn/nn.hpp>
//
//   int main(int argc, char** argv) {
//     ad::dist::Context ctx(argc, argv);                   // MPI up; ctx.rank(), ctx.size()
//     ad::manual_seed(1);                                  // the same draws on every rank
//     auto net = ad::nn::mlp({784, 256, 128, 10}, ad::nn::Activation::ReLU, ad::nn::Activation::Identity);
//     ad::dist::DataParallel dp(net.named_parameters());   // rank 0's values everywhere, models checked
//     ad::optim::Adam adam(net.parameters());
//     ad::nn::MiniBatches batches(X, Y, 128);              // the global batch: one order on all ranks
//     batches.shard(ctx.rank(), ctx.size());               // this rank's 128 / size columns of each
//     for (const ad::nn::Batch& b : batches) {
//       ad::Tensor J = ad::nn::softmax_cross_entropy(net.forward(b.X), b.Y);
//       adam.zero_grad();
//       J.backward();                                      // buckets of gradients start averaging
//       dp.synchronize();                                  // .grad() = the mean over ranks
//       adam.step();
//     }
//     if (ctx.rank() == 0) ad::nn::save(net, "model.safetensors");   // one writer
//   }
//
// The pieces: Context (MPI's lifetime, rank and size), DataParallel (bucketed, overlapped
// gradient averaging, no_sync() for accumulation), all_reduce / broadcast / accuracy (building
// blocks and metrics over ranks), Communicator (the transport interface; MPI here).
#pragma once

#include "dist/collectives.hpp"
#include "dist/communicator.hpp"
#include "dist/context.hpp"
#include "dist/data_parallel.hpp"
#include "dist/error.hpp"
