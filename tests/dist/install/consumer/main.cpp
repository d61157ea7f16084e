// Built against the installed package and run on 2 ranks: every rank starts from rank 0's
// weights, and after one averaged step all ranks hold the same parameters.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>
#include <dist/dist.hpp>
#include <nn/nn.hpp>

int main(int argc, char** argv) {
  namespace nn = ad::nn;
  ad::dist::Context ctx(argc, argv);
  ad::manual_seed(static_cast<uint64_t>(ctx.rank()) + 1);  // different draws: the broadcast must align them
  nn::Sequential net = nn::mlp({2, 4, 1}, nn::Activation::Tanh, nn::Activation::Sigmoid);
  ad::dist::DataParallel dp(net.named_parameters());
  ad::optim::SGD sgd(net.parameters(), 0.5);
  ad::Tensor X = ad::full({2, 4}, ctx.rank() + 1.0), Y = ad::ones({1, 4});  // each rank its own data
  ad::Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
  sgd.zero_grad();
  J.backward();
  dp.synchronize();
  sgd.step();
  // The largest difference of any parameter from rank 0's, over all ranks.
  double differs = 0;
  for (const ad::Tensor& p : net.parameters()) {
    const std::vector<double> mine = p.to_vector(), rank0 = ad::dist::broadcast(p.detach().clone(), 0).to_vector();
    for (size_t i = 0; i < mine.size(); ++i) differs = std::max(differs, std::abs(mine[i] - rank0[i]));
  }
  differs = ad::dist::all_reduce(differs, ad::dist::ReduceOp::Max);
  if (ctx.rank() == 0) std::printf("tapegrad::dist installed: %d ranks, parameters differ by %g\n", ctx.size(), differs);
  return differs == 0 ? 0 : 1;
}
