// Modules: Linear, the activations, Dropout, Sequential naming, mlp, to(DType), summary, and the
// shape errors in the notation.
#include <gtest/gtest.h>

#include <cmath>

#include <nn/nn.hpp>

#include "test_util.hpp"

namespace {

using namespace ad;
using nn_test::expect_error;
using nn_test::expect_near_all;
using nn_test::leaf64;

nn::Linear known_linear() {
  nn::Linear lin(2, 3, nn::Init::Zeros, DType::f64);
  NoGradGuard no_grad;
  lin.W.copy_(tensor({1, 2, 3, 4, 5, 6}, {3, 2}, DType::f64));
  lin.b.copy_(tensor({1, -1, 0.5}, {3, 1}, DType::f64));
  return lin;
}

TEST(Linear, ForwardIsWTimesAPlusBroadcastBias) {
  nn::Linear lin = known_linear();
  Tensor X = tensor({1, 0, 2, -1, 1, 0.5}, {2, 3}, DType::f64);  // m = 3 columns
  Tensor Z = lin.forward(X);
  ASSERT_EQ(Z.shape(), Shape({3, 3}));
  // column j of Z is W·x_j + b, e.g. column 0: (1−2+1, 3−4−1, 5−6+0.5)
  expect_near_all(Z.to_vector(), {0, 3, 4, -2, 3, 7, -0.5, 6.5, 13.5});
  sum(Z).backward();
  // d(ΣZ)/dW = 1·Xᵀ: each row holds the row sums of X; d/db = m = 3 per unit
  expect_near_all(lin.W.grad().to_vector(), {3, 0.5, 3, 0.5, 3, 0.5});
  expect_near_all(lin.b.grad().to_vector(), {3, 3, 3});
}

TEST(Linear, GradcheckInFloat64) {
  nn::Linear lin(3, 2, nn::Init::Xavier, DType::f64);
  auto f = [&](const std::vector<Tensor>& in) {
    lin.W = in[0];
    lin.b = in[1];
    return tanh(lin.forward(in[2]));
  };
  auto r = gradcheck(f, {lin.W, lin.b, randn({3, 4}, DType::f64).requires_grad_()});
  EXPECT_TRUE(r.ok) << r;
}

TEST(Linear, ShapesAndInitializers) {
  manual_seed(7);
  nn::Linear he(400, 300, nn::Init::He);
  EXPECT_EQ(he.W.shape(), Shape({300, 400}));
  EXPECT_EQ(he.b.shape(), Shape({300, 1}));
  EXPECT_TRUE(he.W.requires_grad() && he.b.requires_grad());
  auto stddev = [](const Tensor& t) {
    double s = 0, s2 = 0;
    for (double v : t.to_vector()) s += v, s2 += v * v;
    const double n = static_cast<double>(t.numel());
    return std::sqrt(s2 / n - (s / n) * (s / n));
  };
  // 120,000 draws: the sample std is within 1% of the target
  EXPECT_NEAR(stddev(he.W) / std::sqrt(2.0 / 400), 1.0, 0.01);
  EXPECT_NEAR(stddev(nn::Linear(400, 300, nn::Init::Xavier).W) / std::sqrt(2.0 / 700), 1.0, 0.01);
  EXPECT_NEAR(stddev(nn::Linear(400, 300, nn::Init::Small).W) / 0.01, 1.0, 0.01);
  for (double v : nn::Linear(4, 3, nn::Init::Zeros).W.to_vector()) EXPECT_EQ(v, 0.0);
  for (double v : he.b.to_vector()) EXPECT_EQ(v, 0.0);
  Tensor w_before = he.W;
  he.reset_parameters(nn::Init::Zeros);
  EXPECT_EQ(he.W.raw_data(), w_before.raw_data()) << "reset_parameters works in place";
  EXPECT_EQ(he.W.to_vector(), std::vector<double>(120000, 0.0));
  expect_error<ValueError>([] { nn::Linear(0, 3); }, {"(3, 0)", "positive"});
}

TEST(Linear, ShapeErrorsSpeakTheNotation) {
  nn::Sequential net;
  net.add(nn::Linear(2, 3)).add(nn::Tanh()).add(nn::Linear(4, 1)).add(nn::Sigmoid());
  expect_error<ShapeError>([&] { net.forward(ones({2, 5})); },
                           {"layer 2: W2 is (1, 4) but A1 has 3 rows; expected n[1] = 4"});
  expect_error<ShapeError>([&] { net.forward(ones({3, 5})); },
                           {"layer 1: W1 is (3, 2) but A0 has 3 rows; expected n[0] = 2"});
  expect_error<ShapeError>([&] { net.forward(ones({2})); }, {"layer 1", "A0 is (2,)", "2-D"});
  // Samples as rows, the commonest mistake: the hint says so when the columns match n[0].
  expect_error<ShapeError>([&] { net.forward(ones({400, 2})); },
                           {"layer 1: W1 is (3, 2) but A0 has 400 rows; expected n[0] = 2. A0 is (400, 2): samples "
                            "are columns here, so X = A0 must be (n[0], m) = (2, 400); pass X.T()"});
  expect_error<ShapeError>([&] { net[2].forward(ones({7, 4})); },
                           {"layer 2: W2 is (1, 4) but A1 has 7 rows; expected n[1] = 4. A1 is (7, 4): samples are "
                            "columns here, so A1 must be (n[1], m) = (4, 7); pass A1.T()"});
  try {  // no hint when neither dim fits
    net.forward(ones({3, 5}));
    FAIL() << "no throw";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()).find("samples are columns"), std::string::npos) << e.what();
  }
  expect_error<DTypeError>([&] { net.forward(ones({2, 5}, DType::f64)); }, {"layer 1", "float32", "float64"});
}

TEST(Activations, ForwardValues) {
  Tensor z = tensor({-2, 0, 1.5, 3}, {2, 2}, DType::f64);
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  expect_near_all(nn::Sigmoid().forward(z).to_vector(), {sig(-2), 0.5, sig(1.5), sig(3)});
  expect_near_all(nn::ReLU().forward(z).to_vector(), {0, 0, 1.5, 3});
  expect_near_all(nn::Tanh().forward(z).to_vector(), {std::tanh(-2), 0, std::tanh(1.5), std::tanh(3)});
  expect_near_all(nn::LeakyReLU(0.1).forward(z).to_vector(), {-0.2, 0, 1.5, 3});
  expect_near_all(nn::Identity().forward(z).to_vector(), z.to_vector());
  // softmax over dim 0: column (0, ln 2) → (1/3, 2/3); column (1, 1) → (1/2, 1/2)
  Tensor s = nn::Softmax().forward(tensor({0, 1, std::log(2.0), 1}, {2, 2}, DType::f64));
  expect_near_all(s.to_vector(), {1.0 / 3, 0.5, 2.0 / 3, 0.5});
}

// Every activation layer says what it is; the one vocabulary names it and builds it.
TEST(Activations, LayersReportTheirActivation) {
  EXPECT_EQ(nn::Sigmoid().activation(), Activation::Sigmoid);
  EXPECT_EQ(nn::ReLU().activation(), Activation::ReLU);
  EXPECT_EQ(nn::Tanh().activation(), Activation::Tanh);
  EXPECT_EQ(nn::LeakyReLU(0.2).activation(), Activation::LeakyReLU);
  EXPECT_EQ(nn::Softmax().activation(), Activation::Softmax);
  EXPECT_EQ(nn::Identity().activation(), Activation::Identity);
  EXPECT_FALSE(nn::Linear(2, 3).activation().has_value());
  EXPECT_EQ(nn::Tanh().name(), "tanh");
  EXPECT_EQ(nn::LeakyReLU(0.2).name(), "leaky_relu(0.2)");
  EXPECT_DOUBLE_EQ(nn::LeakyReLU(0.2).slope(), 0.2);
  for (Activation g : {Activation::Sigmoid, Activation::ReLU, Activation::Tanh, Activation::LeakyReLU,
                       Activation::Softmax, Activation::Identity}) {
    auto layer = nn::make_activation(g);
    EXPECT_EQ(layer->activation(), g);
    EXPECT_EQ(layer->name().substr(0, std::string(nn::activation_name(g)).size()), nn::activation_name(g));
  }
}

TEST(Activations, SigmoidGradientIsSigmaTimesOneMinusSigma) {
  Tensor z = leaf64({-1, 0.5, 2}, {3, 1});
  Tensor a = nn::Sigmoid().forward(z);
  sum(a).backward();
  const auto av = a.to_vector(), g = z.grad().to_vector();
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(g[i], av[i] * (1 - av[i]), 1e-15);
}

TEST(Activations, GradcheckInFloat64) {
  std::vector<std::shared_ptr<nn::Module>> mods{std::make_shared<nn::Sigmoid>(), std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Tanh>(),    std::make_shared<nn::LeakyReLU>(0.2),
                                                std::make_shared<nn::Softmax>(), std::make_shared<nn::Identity>()};
  // entries kept away from 0, where relu and leaky_relu have their kink
  Tensor z = leaf64({-1.3, 0.4, 2.1, -0.6, 0.9, -2.2, 1.7, 0.3, -0.8, 1.1, -1.9, 0.7}, {3, 4});
  for (auto& m : mods) {
    auto r = gradcheck([&](const std::vector<Tensor>& in) { return m->forward(in[0]); }, {z});
    EXPECT_TRUE(r.ok) << m->name() << ": " << r;
  }
}

TEST(Dropout, InvertedInTrainingIdentityInEval) {
  manual_seed(3);
  nn::Dropout drop(0.8);
  Tensor x = leaf64(std::vector<double>(10000, 2.0), {100, 100});
  Tensor y = drop.forward(x);
  int kept = 0;
  for (double v : y.to_vector()) {
    ASSERT_TRUE(v == 0.0 || std::abs(v - 2.5) < 1e-12) << v;  // kept entries scaled by 1/keep_prob
    kept += v != 0.0;
  }
  EXPECT_NEAR(kept / 10000.0, 0.8, 0.02);
  sum(y).backward();
  const auto g = x.grad().to_vector(), yv = y.to_vector();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], yv[i] / 2.0, 1e-12);  // dY/dX = mask / keep_prob
  drop.eval();
  EXPECT_EQ(drop.forward(x).to_vector(), x.to_vector());
  expect_error<ValueError>([] { nn::Dropout(0.0); }, {"keep_prob", "(0, 1]"});
  expect_error<ValueError>([] { nn::Dropout(1.5); }, {"keep_prob"});
}

TEST(Sequential, NamesParametersInTheNotationAcrossNesting) {
  nn::Sequential inner;
  inner.add(nn::Linear(3, 2)).add(nn::ReLU());
  nn::Sequential net;
  net.add(nn::Linear(2, 3)).add(nn::Tanh()).add(std::move(inner)).add(nn::Linear(2, 1)).add(nn::Sigmoid());
  auto named = net.named_parameters();
  std::vector<std::string> names;
  for (auto& [n, p] : named) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"}));
  EXPECT_EQ(named[2].second.shape(), Shape({2, 3}));
  EXPECT_EQ(net.parameter_count(), 3 * 2 + 3 + 2 * 3 + 2 + 1 * 2 + 1);
  EXPECT_EQ(net.forward(ones({2, 7})).shape(), Shape({1, 7}));
  EXPECT_EQ(net.size(), 5u);
  EXPECT_EQ(net[1].name(), "tanh");
}

TEST(Sequential, TrainEvalZeroGradAndTo) {
  nn::Sequential net;
  net.add(nn::Linear(3, 4)).add(nn::Dropout(0.5)).add(nn::Linear(4, 2));
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net[1].is_training()) << "eval() reaches submodules";
  Tensor X = randn({3, 6});
  EXPECT_EQ(net.forward(X).to_vector(), net.forward(X).to_vector()) << "no dropout in eval()";
  net.train();
  EXPECT_TRUE(net[1].is_training());

  sum(net.forward(X)).backward();
  for (auto& p : net.parameters()) EXPECT_TRUE(p.grad().defined());
  net.zero_grad();
  for (auto& p : net.parameters()) EXPECT_FALSE(p.grad().defined());

  const auto before = net.named_parameters()[0].second.to_vector();
  net.to(DType::f64);
  for (auto& [n, p] : net.named_parameters()) {
    EXPECT_EQ(p.dtype(), DType::f64) << n;
    EXPECT_TRUE(p.requires_grad() && p.is_leaf()) << n;
  }
  EXPECT_EQ(net.named_parameters()[0].second.to_vector(), before) << "to() keeps the values";
  auto& first = dynamic_cast<nn::Linear&>(net[0]);
  EXPECT_EQ(first.W.dtype(), DType::f64) << "the layer's own member is converted";
}

TEST(Mlp, BuildsTheLLayerNetwork) {
  nn::Sequential net = nn::mlp({5, 4, 3, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid);
  ASSERT_EQ(net.size(), 6u);
  EXPECT_EQ(net[1].name(), "relu");
  EXPECT_EQ(net[3].name(), "relu");
  EXPECT_EQ(net[5].name(), "sigmoid");
  auto named = net.named_parameters();
  ASSERT_EQ(named.size(), 6u);
  EXPECT_EQ(named[4].first, "W3");
  EXPECT_EQ(named[4].second.shape(), Shape({1, 3}));
  EXPECT_EQ(named[3].second.shape(), Shape({3, 1}));
  Tensor A = net.forward(randn({5, 8}));
  for (double a : A.to_vector()) EXPECT_TRUE(a > 0 && a < 1);
  nn::Sequential z = nn::mlp({2, 3}, nn::Activation::Tanh, nn::Activation::Identity, nn::Init::Zeros, DType::f64);
  EXPECT_EQ(z.forward(ones({2, 2}, DType::f64)).to_vector(), std::vector<double>(6, 0.0));
  expect_error<ValueError>([] { nn::mlp({4}, nn::Activation::ReLU, nn::Activation::Sigmoid); }, {"mlp", "n0"});
  expect_error<ValueError>([] { nn::mlp({4, 0, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid); }, {"n[1] = 0"});
  EXPECT_EQ(nn::default_init(nn::Activation::ReLU), nn::Init::He);
  EXPECT_EQ(nn::default_init(nn::Activation::Tanh), nn::Init::Xavier);
}

TEST(Summary, TableInTheNotation) {
  nn::Sequential net;
  net.add(nn::Linear(2, 4)).add(nn::Tanh()).add(nn::Linear(4, 1)).add(nn::Sigmoid());
  const std::string s = nn::summary(net, 2);
  for (const char* part : {"W[l]: (n[l], n[l-1])", "b[l]: (n[l], 1)", "A[l]: (n[l], m)", "X = A0: (2, m)",
                           "W1: (4, 2)", "b1: (4, 1)", "A1: (4, m)", "tanh", "W2: (1, 4)", "b2: (1, 1)", "A2: (1, m)",
                           "sigmoid", "total parameters: 17"})
    EXPECT_NE(s.find(part), std::string::npos) << part << "\n" << s;
  std::ostringstream os;
  os << net;
  EXPECT_EQ(os.str(), s);
  expect_error<ShapeError>([&] { nn::summary(net, 3); }, {"layer 1: W1 is (4, 2) but A0 has 3 rows"});
}

}  // namespace

namespace {

// A user-defined module: only visit_parameters() and forward() are written.
struct Scale : ad::nn::Module {
  ad::Tensor gamma = ad::tensor({2, -1}, {2, 1}).requires_grad_();
  ad::Tensor forward(const ad::Tensor& z) override { return gamma * z; }
  void visit_parameters(const ad::nn::ParameterVisitor& visit) override { visit("gamma", gamma); }
};

TEST(Module, UserDefinedModuleJoinsNamingConversionAndSaving) {
  ad::nn::Sequential net;
  net.add(ad::nn::Linear(3, 2)).add(Scale()).add(ad::nn::Linear(2, 1));
  auto named = net.named_parameters();
  ASSERT_EQ(named.size(), 5u);
  EXPECT_EQ(named[2].first, "gamma");
  EXPECT_EQ(named[3].first, "W2");
  EXPECT_EQ(net[1].name(), "module");
  net.to(ad::DType::f64);
  EXPECT_EQ(dynamic_cast<Scale&>(net[1]).gamma.dtype(), ad::DType::f64);
  EXPECT_EQ(dynamic_cast<Scale&>(net[1]).gamma.to_vector(), (std::vector<double>{2, -1}));
}

}  // namespace
