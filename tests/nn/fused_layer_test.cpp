// Sequential runs a Linear followed by a layer whose activation() is fusable as one fused op
// (Linear::forward_act → ad::linear): the values and gradients stay those of the layer-by-layer
// computation, the tape holds one record per fused layer instead of three, parameter names do
// not change, a subclass of an activation layer is fused like its base, and a module of the
// user's own is run as written.
#include <gtest/gtest.h>

#include <nn/nn.hpp>
#include <vector>

namespace {

using ad::Tensor;
namespace nn = ad::nn;

// The network's layers applied one by one (each module's own forward), never fused.
Tensor layer_by_layer(nn::Sequential& net, const Tensor& x) {
  Tensor a = x;
  for (size_t i = 0; i < net.size(); ++i) a = net[i].forward(a);
  return a;
}

void expect_bitwise(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], y[i]) << what << " at " << i;
}

// A 784-64-32-10 ReLU network with logits and the 2-4-1 sigmoid one: same forward bits, same
// gradient bits.
TEST(FusedLayer, MlpMatchesLayerByLayer) {
  for (auto [dims, hidden, out] :
       {std::tuple{std::vector<int64_t>{784, 64, 32, 10}, nn::Activation::ReLU, nn::Activation::Identity},
        std::tuple{std::vector<int64_t>{2, 4, 1}, nn::Activation::Sigmoid, nn::Activation::Sigmoid}}) {
    ad::manual_seed(3);
    nn::Sequential net = nn::mlp(dims, hidden, out);
    Tensor X = ad::randn({dims[0], 37});
    Tensor fused = net.forward(X);
    ad::sum(fused * fused).backward();
    std::vector<Tensor> g_fused;
    for (Tensor& p : net.parameters()) g_fused.push_back(p.grad()), p.zero_grad();
    Tensor plain = layer_by_layer(net, X);
    ad::sum(plain * plain).backward();
    expect_bitwise(fused, plain, "A[L]");
    const auto named = net.named_parameters();
    for (size_t i = 0; i < named.size(); ++i) expect_bitwise(g_fused[i], named[i].second.grad(), "d" + named[i].first);
  }
}

TEST(FusedLayer, TanhHiddenSameValues) {
  ad::manual_seed(5);
  nn::Sequential net = nn::mlp({3, 8, 2}, nn::Activation::Tanh, nn::Activation::Sigmoid);
  Tensor X = ad::randn({3, 50});
  expect_bitwise(net.forward(X), layer_by_layer(net, X), "A[L]");
}

TEST(FusedLayer, OneRecordFewerPerLayerAndNamesUnchanged) {
  nn::Sequential net = nn::mlp({2, 4, 1}, nn::Activation::Sigmoid, nn::Activation::Sigmoid);
  Tensor X = ad::randn({2, 10});
  {
    Tensor A = net.forward(X);
    EXPECT_EQ(ad::tape_size(), 2u);  // one linear per layer (unfused: matmul, add, sigmoid)
    EXPECT_STREQ(A.op_name(), "linear");
  }
  std::vector<std::string> names;
  for (auto& [name, p] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
}

// A module of the user's own reports no activation, so it is run as written, not fused.
struct DoubledSigmoid : nn::Module {
  Tensor forward(const Tensor& z) override { return ad::sigmoid(z) * 2.0; }
};

TEST(FusedLayer, UserModuleRunsAsWritten) {
  nn::Sequential net;
  net.add(nn::Linear(3, 2)).add(DoubledSigmoid());
  Tensor X = ad::randn({3, 4});
  Tensor y = net.forward(X);
  EXPECT_STREQ(y.op_name(), "affine");
  expect_bitwise(y, layer_by_layer(net, X), "A");  // fused, y would be σ(Z) rather than 2σ(Z)
}

// A subclass of an activation layer (here only renamed) is still that activation: fused.
struct NamedTanh : nn::Tanh {
  std::string name() const override { return "my_tanh"; }
};

TEST(FusedLayer, ActivationSubclassIsFused) {
  nn::Sequential net;
  net.add(nn::Linear(3, 2)).add(NamedTanh());
  Tensor X = ad::randn({3, 4});
  Tensor y = net.forward(X);
  EXPECT_STREQ(y.op_name(), "linear");
  expect_bitwise(y, layer_by_layer(net, X), "A");
}

// The fused path keeps Linear's errors in the notation.
TEST(FusedLayer, ErrorsStayInTheNotation) {
  nn::Sequential net = nn::mlp({3, 4, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid);
  try {
    net.forward(ad::randn({2, 5}));
    FAIL() << "no throw";
  } catch (const ad::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1: W1 is (4, 3) but A0 has 2 rows; expected n[0] = 3"), std::string::npos)
        << e.what();
  }
  try {
    net.forward(ad::randn({5, 3}));  // samples as rows
    FAIL() << "no throw";
  } catch (const ad::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("A0 is (5, 3): samples are columns here, so X = A0 must be (n[0], m) = (3, 5); "
                                         "pass X.T()"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
