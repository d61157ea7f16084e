// Every op replayed bit for bit: each row is recorded by ad::compile (the op, then backward of
// Σ w ⊙ op(inputs), or gradients of gradients), replayed on new input values, and compared with
// the same calls run eagerly: outputs and every input's gradient, in float32 and float64. An op
// whose kernel bypassed kernels::launch would replay stale values here.
#include <autodiff/autodiff.hpp>

#include <functional>
#include <string>
#include <vector>

#include "compile_util.hpp"

namespace {

using ad::Tensor;
using compile_test::same_bits;
using V = const std::vector<Tensor>&;

enum class Kind { differentiable, second_order, values_only };

struct Row {
  std::string name;
  std::vector<ad::Shape> inputs;
  std::function<Tensor(V)> f;
  Kind kind = Kind::second_order;
  bool positive = false;  // inputs in [0.5, 2): for log, sqrt, pow, div
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

std::vector<Row> rows() {
  using K = Kind;
  return {
      {"add_broadcast", {{3, 4}, {3, 1}}, [](V x) { return x[0] + x[1]; }},
      {"add_3d", {{2, 1, 4}, {3, 1}}, [](V x) { return x[0] + x[1]; }},
      {"sub_row", {{3, 4}, {1, 4}}, [](V x) { return x[0] - x[1]; }},
      {"mul_scalar_tensor", {{3, 4}, {}}, [](V x) { return x[0] * x[1]; }},
      {"mul_self", {{3, 4}}, [](V x) { return x[0] * x[0]; }},
      {"div", {{3, 4}, {3, 1}}, [](V x) { return x[0] / x[1]; }, K::second_order, true},
      {"minimum_maximum", {{3, 4}, {3, 4}}, [](V x) { return ad::minimum(x[0], x[1]) + ad::maximum(x[0], x[1]); }},
      {"where", {{3, 4}, {3, 4}}, [](V x) { return ad::where(ad::gt(x[0], 0.0), x[0], x[1]); }},
      {"comparisons", {{3, 4}, {1, 4}},
       [](V x) { return ad::gt(x[0], x[1]) + ad::lt(x[0], 0.5) + ad::ge(x[0], x[1]) + ad::le(x[0], x[1]) +
                        ad::eq(x[0], x[0]) + ad::ne(x[0], 0.0); }, K::values_only},
      {"scalar_operators", {{3, 4}}, [](V x) { return 2.0 - (-x[0] + 1.0) * 3.0 / 4.0 + (x[0] - 1.0); }},
      {"scalar_div", {{3, 4}}, [](V x) { return 2.0 / x[0]; }, K::second_order, true},
      {"exp_log_sqrt", {{3, 4}}, [](V x) { return ad::exp(x[0]) + ad::log(x[0]) + ad::sqrt(x[0]); }, K::second_order, true},
      {"abs_sign", {{3, 4}}, [](V x) { return ad::abs(x[0]) + ad::sign(x[0]); }},
      {"pow", {{3, 4}}, [](V x) { return ad::pow(x[0], 2.0) + ad::pow(x[0], 3.5); }, K::second_order, true},
      {"activations", {{3, 4}},
       [](V x) { return ad::tanh(x[0]) + ad::sigmoid(x[0]) + ad::relu(x[0]) + ad::leaky_relu(x[0], 0.1) +
                        ad::softplus(x[0]); }},
      {"clamp", {{3, 4}}, [](V x) { return ad::clamp(x[0], -0.5, 0.5); }},
      {"activate_softmax", {{3, 4}}, [](V x) { return ad::activate(x[0], ad::Activation::Softmax); }},
      {"bias_act", {{3, 4}, {3, 1}},
       [](V x) { return ad::bias_act(x[0], x[1], ad::Activation::Sigmoid) + ad::bias_act(x[0], x[1], ad::Activation::ReLU); }},
      {"linear", {{3, 2}, {2, 5}, {3, 1}},
       [](V x) { return ad::linear(x[0], x[1], x[2], ad::Activation::Tanh) + ad::linear(x[0], x[1], x[2], ad::Activation::Identity); }},
      {"matmul", {{3, 2}, {2, 4}}, [](V x) { return ad::matmul(x[0], x[1]); }},
      {"gemm_transposes", {{2, 3}, {4, 2}}, [](V x) { return ad::gemm(x[0], x[1], true, true) + ad::gemm(x[1], x[0], false, false).T(); }},
      {"sum_mean", {{3, 4}},
       [](V x) { return ad::sum(x[0]) + ad::mean(x[0]) + ad::sum(ad::mean(x[0], 1, true) * ad::sum(x[0], 0, false)); }},
      {"max", {{3, 4}}, [](V x) { return ad::sum(ad::max(x[0], 0, false)) + ad::max(x[0], 1, true); }},
      {"argmax", {{3, 4}}, [](V x) { return ad::argmax(x[0], 0); }, K::values_only},
      {"softmax_log_softmax", {{3, 4}}, [](V x) { return ad::softmax(x[0], 0) + ad::log_softmax(x[0], 1); }},
      {"sum_to_broadcast_to", {{3, 4}, {1, 4}}, [](V x) { return ad::sum_to(x[0], {1, 4}) + ad::broadcast_to(x[1], {3, 4}); }},
      {"transpose_reshape", {{3, 4}}, [](V x) { return ad::reshape(ad::transpose(x[0]), {2, -1}); }},
      {"concat_slice", {{3, 4}, {3, 2}}, [](V x) { return ad::slice(ad::concat({x[0], x[1], x[0]}, 1), 1, 2, -3); }},
      {"index_select", {{3, 4}}, [](V x) { return ad::index_select(x[0], 1, {3, 0, 3, -1}); }},
      {"softmax_cross_entropy", {{4, 5}, {4, 5}}, [](V x) { return ad::softmax_cross_entropy(x[0], ad::softmax(x[1], 0)); }},
      {"bce_with_logits", {{2, 5}, {2, 5}},
       [](V x) { return ad::binary_cross_entropy_with_logits(x[0], ad::sigmoid(x[1])); }},
      {"bce", {{2, 5}, {2, 5}},
       [](V x) { return ad::binary_cross_entropy(ad::sigmoid(x[0]), ad::sigmoid(x[1])); }},
      {"to_clone", {{3, 4}},
       [](V x) { return x[0].to(x[0].dtype() == ad::DType::f32 ? ad::DType::f64 : ad::DType::f32).to(x[0].dtype()) + x[0].clone(); }},
      {"in_place", {{3, 4}, {1, 4}},
       [](V x) {
         Tensor y = ad::exp(x[0].detach());
         y.add_(x[1].detach(), 0.5).sub_(x[1].detach()).mul_(x[1].detach()).div_(ad::full({}, 3.0, y.dtype()));
         y.add_(1.0).mul_(2.0).div_(4.0);
         Tensor z = ad::zeros_like(y);
         z.copy_(x[1].detach());
         z.fill_(0.25).zero_();
         return y + z;
       }, K::values_only},
      {"factories", {{3, 4}},
       [](V x) {
         const ad::DType d = x[0].dtype();
         return x[0] * (ad::ones({3, 4}, d) + ad::full({3, 1}, 2.0, d) + ad::scalar(0.5, d) +
                        ad::tensor({1, 2, 3, 4}, {1, 4}, d) + ad::ones_like(x[0]));
       }},
      {"random_draws", {{3, 4}},
       [](V x) { return x[0] * (ad::rand({3, 4}, x[0].dtype()) + ad::randn({3, 1}, x[0].dtype())); }},
  };
}

// Runs a row's call: the op, then backward of Σ w ⊙ y (or, for second_order, backward of
// Σ v ⊙ ∂(Σ w ⊙ y)/∂inputs); returns y.
Tensor run_row(const Row& row, const std::vector<Tensor>& in, bool second) {
  if (row.kind == Kind::values_only) {
    ad::NoGradGuard off;
    return row.f(in);
  }
  Tensor y = row.f(in);
  Tensor J = ad::sum(y * y * 0.25 + y);
  if (second) {
    std::vector<Tensor> g = ad::grad({J}, in, {}, false, true);
    J = ad::sum(g[0] * g[0]);
    for (size_t i = 1; i < g.size(); ++i) J = J + ad::sum(g[i] * 3.0);
  }
  J.backward();
  return y;
}

std::vector<Tensor> make_inputs(const Row& row, ad::DType dt, uint64_t seed) {
  ad::manual_seed(seed);
  std::vector<Tensor> in;
  for (const ad::Shape& s : row.inputs) {
    Tensor t = row.positive ? ad::rand(s, dt) * 1.5 + 0.5 : ad::randn(s, dt);
    in.push_back(t.detach().requires_grad_(row.kind != Kind::values_only));
  }
  return in;
}

void check_row(const Row& row, ad::DType dt, bool second) {
  std::vector<Tensor> eager = make_inputs(row, dt, 1), outside = make_inputs(row, dt, 1);
  auto compiled = ad::compile([&] { return run_row(row, outside, second); });
  for (uint64_t call = 1; call <= 3; ++call) {
    std::vector<Tensor> fresh = make_inputs(row, dt, call);
    for (size_t i = 0; i < fresh.size(); ++i) {  // new values, the same tensors
      ad::NoGradGuard off;
      eager[i].copy_(fresh[i]);
      outside[i].copy_(fresh[i]);
      eager[i].zero_grad();
      outside[i].zero_grad();
    }
    ad::manual_seed(100 + call);
    Tensor expected = run_row(row, eager, second);
    ad::manual_seed(100 + call);
    Tensor got = compiled();
    ASSERT_TRUE(same_bits(expected, got)) << row.name << " call " << call;
    for (size_t i = 0; i < eager.size(); ++i)
      ASSERT_TRUE(same_bits(eager[i].grad(), outside[i].grad())) << row.name << " call " << call << " input " << i;
  }
  EXPECT_EQ(compiled.stats().records, 1u) << row.name;
  EXPECT_EQ(compiled.stats().replays, 2u) << row.name;
}

class CompileOps : public ::testing::TestWithParam<Row> {};

TEST_P(CompileOps, ReplaysBitForBit) {
  for (ad::DType dt : {ad::DType::f32, ad::DType::f64}) check_row(GetParam(), dt, false);
}

TEST_P(CompileOps, GradientsOfGradientsReplayBitForBit) {
  if (GetParam().kind != Kind::second_order) GTEST_SKIP() << "no second derivative";
  for (ad::DType dt : {ad::DType::f32, ad::DType::f64}) check_row(GetParam(), dt, true);
}

INSTANTIATE_TEST_SUITE_P(, CompileOps, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

}  // namespace
