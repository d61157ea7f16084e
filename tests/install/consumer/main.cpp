// Uses tapegrad and the other library's <autodiff/forward.hpp> in one program: the prefix holds
// both libraries' include/autodiff/ folders, and each include reaches its own library's header.
#include <autodiff/autodiff.hpp>
#include <autodiff/forward.hpp>
#include <nn/nn.hpp>

int main() {
  static_assert(other_library::kVersion == 3);
  ad::manual_seed(1);
  auto net = ad::nn::mlp({2, 4, 1}, ad::nn::Activation::Tanh, ad::nn::Activation::Sigmoid);
  ad::Tensor J = ad::nn::binary_cross_entropy(net.forward(ad::randn({2, 8})), ad::ones({1, 8}));
  J.backward();
  return net.parameters()[0].grad().defined() ? 0 : 1;
}
