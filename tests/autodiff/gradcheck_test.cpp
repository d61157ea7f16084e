// Every op's backward rule against finite differences in float64: one table, one row per op
// variant (adding an op = adding a row), plus second-order rows that check the gradients of
// gradients, plus tests that gradcheck itself catches wrong gradients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cctype>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>
#include <algorithm>
#include <string>
#include <vector>

namespace {

using ad::Tensor;
using V = const std::vector<Tensor>&;
using Fn = std::function<Tensor(V)>;

// How a row's input is filled. Kinked ops (abs, relu, clamp, max, …) get values at least 0.125
// away from every kink and from each other, far beyond the finite-difference step.
enum class Init { Normal, Positive, AwayFromZero, Spaced, Unit, OneHot };
struct In {
  ad::Shape shape;
  Init init = Init::Normal;
  bool grad = true;
};
In normal(ad::Shape s) { return {s}; }
In pos(ad::Shape s) { return {s, Init::Positive}; }
In away(ad::Shape s) { return {s, Init::AwayFromZero}; }
In spaced(ad::Shape s) { return {s, Init::Spaced}; }
In unit(ad::Shape s) { return {s, Init::Unit}; }
In onehot(ad::Shape s) { return {s, Init::OneHot, false}; }
In constant(In in) {
  in.grad = false;
  return in;
}

Tensor make_input(const In& in) {
  const auto n = static_cast<size_t>(in.shape.numel());
  Tensor t;
  switch (in.init) {
    case Init::Normal: t = ad::randn(in.shape, ad::DType::f64); break;
    case Init::Positive: t = ad::rand(in.shape, ad::DType::f64) * 1.5 + 0.5; break;
    case Init::Unit: t = ad::rand(in.shape, ad::DType::f64); break;
    case Init::AwayFromZero: {
      Tensor r = ad::randn(in.shape, ad::DType::f64);
      t = ad::sign(r) * (ad::abs(r) + 0.2);
      break;
    }
    case Init::Spaced: {  // a shuffled grid … −0.375, −0.125, 0.125, 0.375 …
      std::vector<double> v(n);
      std::iota(v.begin(), v.end(), 0.0);
      for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[ad::random_u64() % i]);
      for (double& x : v) x = (x - static_cast<double>(n) / 2 + 0.5) * 0.25;
      t = ad::tensor(v, in.shape, ad::DType::f64);
      break;
    }
    case Init::OneHot: {  // one 1 per column of a (classes, m) tensor
      const int64_t c = in.shape[0], m = in.shape.numel() / c;
      std::vector<double> v(n, 0.0);
      for (int64_t j = 0; j < m; ++j) v[static_cast<size_t>(static_cast<int64_t>(ad::random_u64() % c) * m + j)] = 1;
      t = ad::tensor(v, in.shape, ad::DType::f64);
      break;
    }
  }
  t = t.detach();
  if (in.grad) t.requires_grad_();
  return t;
}

// The gradient of Σ w ⊙ op(inputs) with respect to every input that requires grad, recorded
// (create_graph), flattened and joined: gradchecking it checks all second derivatives.
Fn second_order(Fn op) {
  return [op](V in) {
    ad::EnableGradGuard on;
    Tensor y = op(in);
    std::vector<double> w(static_cast<size_t>(y.numel()));
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(1.0 + static_cast<double>(i));
    std::vector<Tensor> wrt;
    for (const Tensor& t : in)
      if (t.requires_grad()) wrt.push_back(t);
    std::vector<Tensor> g = ad::grad({ad::sum(y * ad::tensor(w, y.shape(), y.dtype()))}, wrt, {}, true, true);
    std::vector<Tensor> flat;
    for (const Tensor& t : g) flat.push_back(ad::reshape(t, {-1}));
    return ad::concat(flat, 0);
  };
}

struct Row {
  std::string name;
  std::vector<In> inputs;
  Fn f;
};
// A failing row is reported by its name ("… where GetParam() = exp_positive").
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

std::vector<Row> elementwise_rows() {
  return {
      {"add_same", {normal({3, 4}), normal({3, 4})}, [](V x) { return x[0] + x[1]; }},
      {"add_column_bias", {normal({3, 1}), normal({3, 4})}, [](V x) { return x[0] + x[1]; }},
      {"add_row_bias", {normal({3, 4}), normal({1, 4})}, [](V x) { return x[0] + x[1]; }},
      {"add_scalar_tensor", {normal({}), normal({3, 4})}, [](V x) { return x[0] + x[1]; }},
      {"add_3d_broadcast", {normal({2, 1, 4}), normal({3, 1})}, [](V x) { return x[0] + x[1]; }},
      {"add_same_input_twice", {normal({2, 3})}, [](V x) { return x[0] + x[0]; }},
      {"sub_row_broadcast", {normal({3, 4}), normal({1, 4})}, [](V x) { return x[0] - x[1]; }},
      {"sub_3d_vector", {normal({2, 3, 4}), normal({4})}, [](V x) { return x[0] - x[1]; }},
      {"mul_same", {normal({3, 4}), normal({3, 4})}, [](V x) { return x[0] * x[1]; }},
      {"mul_row_broadcast", {normal({1, 4}), normal({3, 4})}, [](V x) { return x[0] * x[1]; }},
      {"mul_3d_both_broadcast", {normal({2, 1, 4}), normal({1, 3, 1})}, [](V x) { return x[0] * x[1]; }},
      {"mul_scalar_tensor", {normal({3, 4}), normal({})}, [](V x) { return x[0] * x[1]; }},
      {"mul_self", {normal({3, 4})}, [](V x) { return x[0] * x[0]; }},
      {"mul_one_constant", {normal({3, 4}), constant(normal({3, 4}))}, [](V x) { return x[0] * x[1]; }},
      {"div_same", {normal({3, 4}), away({3, 4})}, [](V x) { return x[0] / x[1]; }},
      {"div_column_broadcast", {normal({3, 4}), pos({3, 1})}, [](V x) { return x[0] / x[1]; }},
      {"div_numerator_broadcast", {normal({1, 4}), pos({3, 4})}, [](V x) { return x[0] / x[1]; }},
      {"minimum", {spaced({3, 4}), spaced({3, 4})}, [](V x) { return ad::minimum(x[0], x[1]); }},
      {"maximum_broadcast", {spaced({3, 4}), spaced({1, 4})}, [](V x) { return ad::maximum(x[0], x[1]); }},
      {"where", {normal({3, 4}), normal({3, 4}), constant(normal({3, 4}))},
       [](V x) { return ad::where(ad::gt(x[2], 0.0), x[0], x[1]); }},
      {"where_broadcast", {normal({3, 4}), normal({1, 4}), constant(normal({3, 1}))},
       [](V x) { return ad::where(ad::gt(x[2], 0.0), x[0], x[1]); }},
      {"where_3d", {normal({3, 1}), normal({4}), constant(normal({2, 1, 4}))},
       [](V x) { return ad::where(ad::gt(x[2], 0.0), x[0], x[1]); }},
      {"where_0d", {normal({}), normal({})}, [](V x) { return ad::where(ad::scalar(1, ad::DType::f64), x[0], x[1]) * x[1]; }},
      {"x_plus_s", {normal({3, 4})}, [](V x) { return x[0] + 2.5; }},
      {"s_plus_x", {normal({3, 4})}, [](V x) { return 2.5 + x[0]; }},
      {"x_minus_s", {normal({3, 4})}, [](V x) { return x[0] - 2.5; }},
      {"s_minus_x", {normal({3, 4})}, [](V x) { return 2.5 - x[0]; }},
      {"x_times_s", {normal({3, 4})}, [](V x) { return x[0] * -1.5; }},
      {"s_times_x", {normal({3, 4})}, [](V x) { return -1.5 * x[0]; }},
      {"x_over_s", {normal({3, 4})}, [](V x) { return x[0] / 4.0; }},
      {"s_over_x", {away({3, 4})}, [](V x) { return 3.0 / x[0]; }},
      {"negate", {normal({3, 4})}, [](V x) { return -x[0]; }},
      {"affine", {normal({3, 4})}, [](V x) { return ad::affine(x[0], 0.5, -2.0); }},
  };
}

std::vector<Row> unary_rows() {
  return {
      {"exp", {normal({3, 4})}, [](V x) { return ad::exp(x[0]); }},
      {"log", {pos({3, 4})}, [](V x) { return ad::log(x[0]); }},
      {"sqrt", {pos({3, 4})}, [](V x) { return ad::sqrt(x[0]); }},
      {"abs", {away({3, 4})}, [](V x) { return ad::abs(x[0]); }},
      {"pow_2", {normal({3, 4})}, [](V x) { return ad::pow(x[0], 2.0); }},
      {"pow_3", {normal({3, 4})}, [](V x) { return ad::pow(x[0], 3.0); }},
      {"pow_half", {pos({3, 4})}, [](V x) { return ad::pow(x[0], 0.5); }},
      {"pow_negative_fraction", {pos({3, 4})}, [](V x) { return ad::pow(x[0], -1.5); }},
      {"pow_1", {normal({3, 4})}, [](V x) { return ad::pow(x[0], 1.0); }},
      {"pow_0_with_path", {normal({3, 4})}, [](V x) { return ad::pow(x[0], 0.0) + x[0]; }},
      {"tanh", {normal({3, 4})}, [](V x) { return ad::tanh(x[0]); }},
      {"sigmoid", {normal({3, 4})}, [](V x) { return ad::sigmoid(x[0]); }},
      {"sigmoid_large", {normal({3, 4})}, [](V x) { return ad::sigmoid(x[0] * 8.0); }},
      {"relu", {spaced({3, 4})}, [](V x) { return ad::relu(x[0]); }},
      {"leaky_relu", {spaced({3, 4})}, [](V x) { return ad::leaky_relu(x[0], 0.1); }},
      {"leaky_relu_default", {spaced({3, 4})}, [](V x) { return ad::leaky_relu(x[0]); }},
      {"softplus", {normal({3, 4})}, [](V x) { return ad::softplus(x[0] * 4.0); }},
      {"clamp", {spaced({4, 5})}, [](V x) { return ad::clamp(x[0], -0.5, 0.5); }},
      {"sign_times_x", {away({3, 4})}, [](V x) { return ad::sign(x[0]) * x[0]; }},
      // fused (ops/fused.hpp); relu's bias is scaled so Z + b stays ≥ 0.09 from the kink
      {"bias_act_sigmoid", {normal({3, 4}), normal({3, 1})}, [](V x) { return ad::bias_act(x[0], x[1], ad::Act::sigmoid); }},
      {"bias_act_tanh", {normal({3, 4}), normal({3, 1})}, [](V x) { return ad::bias_act(x[0], x[1], ad::Act::tanh); }},
      {"bias_act_relu", {spaced({3, 4}), normal({3, 1})},
       [](V x) { return ad::bias_act(x[0], x[1] * 0.01, ad::Act::relu); }},
      {"bias_act_identity_row", {normal({3, 4}), normal({1, 4})},
       [](V x) { return ad::bias_act(x[0], x[1], ad::Act::identity); }},
      {"linear_sigmoid", {normal({3, 2}), normal({2, 5}), normal({3, 1})},
       [](V x) { return ad::linear(x[0], x[1], x[2], ad::Act::sigmoid); }},
      {"linear_tanh_constant_x", {normal({3, 2}), constant(normal({2, 5})), normal({3, 1})},
       [](V x) { return ad::linear(x[0], x[1], x[2], ad::Act::tanh); }},
      {"linear_identity", {normal({3, 2}), normal({2, 5}), normal({3, 1})},
       [](V x) { return ad::linear(x[0], x[1], x[2], ad::Act::identity); }},
      {"act_backward_sigmoid", {normal({3, 4}), unit({3, 4})},
       [](V x) { return ad::act_backward(x[0], x[1], ad::Act::sigmoid); }},
      {"act_backward_tanh", {normal({3, 4}), normal({3, 4})}, [](V x) { return ad::act_backward(x[0], x[1], ad::Act::tanh); }},
      {"act_backward_relu", {normal({3, 4}), spaced({3, 4})}, [](V x) { return ad::act_backward(x[0], x[1], ad::Act::relu); }},
  };
}

std::vector<Row> linalg_rows() {
  return {
      {"matmul", {normal({2, 3}), normal({3, 4})}, [](V x) { return ad::matmul(x[0], x[1]); }},
      {"matmul_vector", {normal({4, 3}), normal({3, 1})}, [](V x) { return ad::matmul(x[0], x[1]); }},
      {"matmul_constant_rhs", {normal({2, 3}), constant(normal({3, 4}))}, [](V x) { return ad::matmul(x[0], x[1]); }},
      {"gemm_nn", {normal({2, 3}), normal({3, 4})}, [](V x) { return ad::gemm(x[0], x[1], false, false); }},
      {"gemm_tn", {normal({3, 2}), normal({3, 4})}, [](V x) { return ad::gemm(x[0], x[1], true, false); }},
      {"gemm_nt", {normal({2, 3}), normal({4, 3})}, [](V x) { return ad::gemm(x[0], x[1], false, true); }},
      {"gemm_tt", {normal({3, 2}), normal({4, 3})}, [](V x) { return ad::gemm(x[0], x[1], true, true); }},
      {"gemm_gram", {normal({3, 4})}, [](V x) { return ad::gemm(x[0], x[0], false, true); }},
  };
}

std::vector<Row> reduction_rows() {
  return {
      {"sum_all", {normal({3, 4})}, [](V x) { return ad::sum(x[0]); }},
      {"sum_dim0", {normal({3, 4})}, [](V x) { return ad::sum(x[0], 0); }},
      {"sum_dim1_keepdim", {normal({3, 4})}, [](V x) { return ad::sum(x[0], 1, true); }},
      {"sum_negative_dim", {normal({2, 3, 4})}, [](V x) { return ad::sum(x[0], -2); }},
      {"mean_all", {normal({3, 4})}, [](V x) { return ad::mean(x[0]); }},
      {"mean_dim0_keepdim", {normal({3, 4})}, [](V x) { return ad::mean(x[0], 0, true); }},
      {"mean_negative_dim", {normal({2, 3, 4})}, [](V x) { return ad::mean(x[0], -1); }},
      {"max_dim0", {spaced({3, 4})}, [](V x) { return ad::max(x[0], 0); }},
      {"max_dim1_keepdim", {spaced({3, 4})}, [](V x) { return ad::max(x[0], 1, true); }},
      {"max_3d_middle", {spaced({2, 3, 4})}, [](V x) { return ad::max(x[0], -2); }},
      {"softmax_dim0", {normal({4, 3})}, [](V x) { return ad::softmax(x[0], 0); }},
      {"softmax_dim1", {normal({4, 3})}, [](V x) { return ad::softmax(x[0], 1); }},
      {"softmax_3d", {normal({2, 3, 4})}, [](V x) { return ad::softmax(x[0], 1); }},
      {"log_softmax_dim0", {normal({4, 3})}, [](V x) { return ad::log_softmax(x[0], 0); }},
      {"log_softmax_dim1", {normal({4, 3})}, [](V x) { return ad::log_softmax(x[0], -1); }},
      {"sum_to_row", {normal({3, 4})}, [](V x) { return ad::sum_to(x[0], {1, 4}); }},
      {"sum_to_3d", {normal({2, 3, 4})}, [](V x) { return ad::sum_to(x[0], {3, 1}); }},
  };
}

std::vector<Row> shape_rows() {
  return {
      {"transpose", {normal({3, 4})}, [](V x) { return ad::transpose(x[0]); }},
      {"T_then_matmul", {normal({3, 4})}, [](V x) { return ad::matmul(x[0].T(), x[0]); }},
      {"reshape", {normal({3, 4})}, [](V x) { return ad::reshape(x[0], {2, 6}); }},
      {"reshape_infer", {normal({3, 4})}, [](V x) { return ad::reshape(x[0], {-1, 3}) * 2.0; }},
      {"broadcast_to_columns", {normal({3, 1})}, [](V x) { return ad::broadcast_to(x[0], {3, 4}); }},
      {"broadcast_to_3d", {normal({4})}, [](V x) { return ad::broadcast_to(x[0], {2, 3, 4}); }},
      {"concat_dim0", {normal({2, 3}), normal({1, 3}), normal({3, 3})}, [](V x) { return ad::concat({x[0], x[1], x[2]}, 0); }},
      {"concat_dim1", {normal({2, 3}), normal({2, 1})}, [](V x) { return ad::concat({x[0], x[1]}, 1); }},
      {"concat_3d_negative_dim", {normal({2, 3, 2}), constant(normal({2, 3, 1})), normal({2, 3, 3})},
       [](V x) { return ad::concat({x[0], x[1], x[2]}, -1); }},
      {"slice_rows", {normal({5, 3})}, [](V x) { return ad::slice(x[0], 0, 1, 4); }},
      {"slice_columns_negative", {normal({3, 5})}, [](V x) { return ad::slice(x[0], 1, -3, -1); }},
      {"slice_3d_middle", {normal({2, 4, 3})}, [](V x) { return ad::slice(x[0], 1, 2, 4); }},
      {"index_select_rows_repeated", {normal({4, 3})}, [](V x) { return ad::index_select(x[0], 0, {2, 0, 2, 3}); }},
      {"index_select_columns", {normal({3, 4})}, [](V x) { return ad::index_select(x[0], 1, {3, -4, 1, 1}); }},
      {"index_select_3d", {normal({2, 3, 2})}, [](V x) { return ad::index_select(x[0], -2, {1, 1, 2}); }},
      {"clone", {normal({3, 4})}, [](V x) { return x[0].clone() * x[0]; }},
  };
}

std::vector<Row> loss_rows() {
  return {
      {"softmax_ce_onehot_dim0", {normal({4, 5}), onehot({4, 5})}, [](V x) { return ad::softmax_cross_entropy(x[0], x[1], 0); }},
      {"softmax_ce_soft_targets_dim0", {normal({4, 5}), unit({4, 5})},
       [](V x) { return ad::softmax_cross_entropy(x[0], x[1], 0); }},
      {"softmax_ce_dim1", {normal({3, 4}), unit({3, 4})}, [](V x) { return ad::softmax_cross_entropy(x[0], x[1], 1); }},
      {"softmax_ce_3d", {normal({2, 3, 4}), unit({2, 3, 4})},
       [](V x) { return ad::softmax_cross_entropy(x[0], x[1], -2); }},
      {"bce_with_logits", {normal({1, 6}), unit({1, 6})}, [](V x) { return ad::binary_cross_entropy_with_logits(x[0], x[1]); }},
      {"bce_with_logits_wide", {normal({3, 4}), constant(unit({3, 4}))},
       [](V x) { return ad::binary_cross_entropy_with_logits(x[0] * 5.0, x[1]); }},
      {"bce_probs", {unit({2, 3}), unit({2, 3})},
       [](V x) { return ad::binary_cross_entropy(x[0] * 0.8 + 0.1, x[1]); }},
      {"bce_after_sigmoid", {normal({1, 6}), constant(unit({1, 6}))},
       [](V x) { return ad::binary_cross_entropy(ad::sigmoid(x[0]), x[1]); }},
      {"layer_forward",
       {normal({4, 3}), normal({4, 1}), constant(normal({3, 5})), constant(onehot({4, 5}))},
       [](V x) { return ad::softmax_cross_entropy(ad::tanh(ad::matmul(x[0], x[2]) + x[1]), x[3]); }},
  };
}

std::vector<Row> second_order_rows() {
  return {
      {"d2_mul", {normal({3, 4}), normal({1, 4})}, second_order([](V x) { return x[0] * x[1] * x[0]; })},
      {"d2_div", {normal({3, 4}), pos({3, 4})}, second_order([](V x) { return x[0] / x[1]; })},
      {"d2_exp", {normal({3, 4})}, second_order([](V x) { return ad::exp(x[0]); })},
      {"d2_log", {pos({3, 4})}, second_order([](V x) { return ad::log(x[0]); })},
      {"d2_sqrt", {pos({3, 4})}, second_order([](V x) { return ad::sqrt(x[0]); })},
      {"d2_pow", {pos({3, 4})}, second_order([](V x) { return ad::pow(x[0], 2.5); })},
      {"d2_tanh", {normal({3, 4})}, second_order([](V x) { return ad::tanh(x[0]); })},
      {"d2_sigmoid", {normal({3, 4})}, second_order([](V x) { return ad::sigmoid(x[0]); })},
      {"d2_softplus", {normal({3, 4})}, second_order([](V x) { return ad::softplus(x[0]); })},
      {"d2_bias_act_sigmoid", {normal({3, 4}), normal({3, 1})},
       second_order([](V x) { return ad::bias_act(x[0], x[1], ad::Act::sigmoid); })},
      {"d2_bias_act_tanh", {normal({3, 4}), normal({1, 4})},
       second_order([](V x) { return ad::bias_act(x[0], x[1], ad::Act::tanh); })},
      {"d2_linear_sigmoid", {normal({3, 2}), normal({2, 4}), normal({3, 1})},
       second_order([](V x) { return ad::linear(x[0], x[1], x[2], ad::Act::sigmoid); })},
      {"d2_bias_act_relu_times_z", {spaced({3, 4}), normal({3, 1})},
       second_order([](V x) { return ad::bias_act(x[0], x[1] * 0.01, ad::Act::relu) * x[0]; })},
      {"d2_relu_times_x", {spaced({3, 4})}, second_order([](V x) { return ad::relu(x[0]) * x[0]; })},
      {"d2_matmul", {normal({2, 3}), normal({3, 4})},
       second_order([](V x) { return ad::tanh(ad::matmul(x[0], x[1])); })},
      {"d2_gemm_tt", {normal({3, 2}), normal({4, 3})}, second_order([](V x) { return ad::gemm(x[0], x[1], true, true) * ad::gemm(x[0], x[1], true, true); })},
      {"d2_softmax", {normal({4, 3})}, second_order([](V x) { return ad::softmax(x[0], 0); })},
      {"d2_log_softmax", {normal({4, 3})}, second_order([](V x) { return ad::log_softmax(x[0], 1); })},
      {"d2_softmax_ce", {normal({4, 3}), onehot({4, 3})}, second_order([](V x) { return ad::softmax_cross_entropy(x[0], x[1]); })},
      {"d2_bce_with_logits", {normal({2, 3}), unit({2, 3})},
       second_order([](V x) { return ad::binary_cross_entropy_with_logits(x[0], x[1]); })},
      {"d2_bce_probs", {unit({2, 3}), unit({2, 3})},
       second_order([](V x) { return ad::binary_cross_entropy(x[0] * 0.8 + 0.1, x[1]); })},
      {"d2_max_of_square", {spaced({3, 4})}, second_order([](V x) { return ad::max(x[0] * x[0], 0); })},
      {"d2_where_of_cube", {normal({3, 4}), normal({3, 4})},
       second_order([](V x) { return ad::where(ad::gt(x[0].detach(), 0.0), x[0] * x[0] * x[0], x[1] * x[1]); })},
      {"d2_index_select", {normal({4, 3})}, second_order([](V x) { return ad::pow(ad::index_select(x[0], 0, {1, 1, 3}), 3.0); })},
      {"d2_slice_concat", {normal({3, 4})},
       second_order([](V x) { return ad::concat({ad::exp(ad::slice(x[0], 1, 0, 2)), x[0] * x[0]}, 1); })},
      {"d2_mean_sum", {normal({3, 4})}, second_order([](V x) { return ad::mean(x[0] * x[0], 0) * ad::sum(x[0]); })},
  };
}

std::vector<Row> all_rows() {
  std::vector<Row> rows;
  for (auto family : {elementwise_rows, unary_rows, linalg_rows, reduction_rows, shape_rows, loss_rows, second_order_rows})
    for (Row& r : family()) rows.push_back(std::move(r));
  return rows;
}

class OpGradcheck : public ::testing::TestWithParam<Row> {};

TEST_P(OpGradcheck, Backward) {
  const Row& row = GetParam();
  ad::manual_seed(std::hash<std::string>{}(row.name));
  std::vector<Tensor> inputs;
  for (const In& in : row.inputs) inputs.push_back(make_input(in));
  const ad::GradcheckResult r = ad::gradcheck(row.f, inputs);
  EXPECT_TRUE(r) << r;
  EXPECT_EQ(ad::tape_size(), 0u) << "the checks left records alive";
}

INSTANTIATE_TEST_SUITE_P(, OpGradcheck, ::testing::ValuesIn(all_rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

TEST(OpGradcheckTable, RowNamesAreUnique) {
  std::vector<std::string> names;
  for (const Row& r : all_rows()) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

// ---- gradcheck itself ------------------------------------------------------------------------

// y = x² recorded with a rule that is wrong by `factor` (1 = right) at flat entry `bad` (−1:
// everywhere): dX = factor · 2x ⊙ dY.
Tensor square_with_rule(const Tensor& x, double factor, int64_t bad = -1) {
  Tensor y = x.detach() * x.detach();
  return ad::record_op("square_with_rule", "dX = 2x ⊙ dY (perhaps scaled wrongly)", {x}, y,
                       [x, factor, bad](ad::BackwardContext& c) {
                         std::vector<double> scale(static_cast<size_t>(x.numel()), bad < 0 ? factor : 1.0);
                         if (bad >= 0) scale[static_cast<size_t>(bad)] = factor;
                         c.add(0, c.grad() * 2.0 * x * ad::tensor(scale, x.shape(), x.dtype()));
                       });
}

TEST(Gradcheck, PassesACorrectCustomOp) {
  ad::manual_seed(3);
  Tensor x = ad::randn({3, 4}, ad::DType::f64).requires_grad_();
  const ad::GradcheckResult r = ad::gradcheck([](V in) { return square_with_rule(in[0], 1.0); }, {x});
  EXPECT_TRUE(r) << r;
  EXPECT_LE(r.error, 1.0);
  EXPECT_THAT(r.str(), ::testing::StartsWith("gradcheck passed"));
}

TEST(Gradcheck, CatchesAWrongGradientAndReportsTheWorstEntry) {
  ad::manual_seed(4);
  Tensor a = ad::randn({2, 3}, ad::DType::f64).requires_grad_();
  Tensor b = ad::tensor({0.5, -1, 1.5, 2, -2.5, 3}, {2, 3}, ad::DType::f64).requires_grad_();
  const ad::GradcheckResult r = ad::gradcheck(
      [](V in) { return ad::sum(in[0] * in[0]) + ad::sum(square_with_rule(in[1], 1.5, 4)); }, {a, b});
  EXPECT_FALSE(r);
  EXPECT_EQ(r.input, 1u);
  EXPECT_EQ(r.index, 4);
  EXPECT_NEAR(r.numeric, 2 * -2.5, 1e-6);    // the true d/dx x² at x = −2.5
  EXPECT_NEAR(r.analytic, 1.5 * 2 * -2.5, 1e-12);  // what the broken rule claims
  EXPECT_GT(r.error, 1.0);
  EXPECT_THAT(r.str(), ::testing::HasSubstr("FAILED"));
  EXPECT_THAT(r.str(), ::testing::HasSubstr("input 1, entry 4"));
  std::ostringstream os;
  os << r;
  EXPECT_EQ(os.str(), r.str());
}

TEST(Gradcheck, CatchesAOnePercentErrorInANonScalarOutput) {
  ad::manual_seed(5);
  Tensor x = ad::randn({3, 3}, ad::DType::f64).requires_grad_();
  EXPECT_FALSE(ad::gradcheck([](V in) { return square_with_rule(in[0], 1.01); }, {x}));
}

TEST(Gradcheck, ChecksBigInputsAlongRandomDirections) {
  ad::manual_seed(6);
  Tensor x = ad::randn({20, 10}, ad::DType::f64).requires_grad_();
  ad::GradcheckOptions o;
  o.max_entries = 50;
  const ad::GradcheckResult good = ad::gradcheck([](V in) { return ad::tanh(in[0]); }, {x}, o);
  EXPECT_TRUE(good) << good;
  EXPECT_EQ(good.index, -1);
  const ad::GradcheckResult bad = ad::gradcheck([](V in) { return square_with_rule(in[0], 3.0, 17); }, {x}, o);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.index, -1);
  EXPECT_THAT(bad.str(), ::testing::HasSubstr("random direction"));
}

TEST(Gradcheck, ConvertsFloat32InputsAndLeavesThemUntouched) {
  Tensor x = ad::tensor({0.3, -0.7, 1.1}, {3}).requires_grad_();
  const ad::GradcheckResult r = ad::gradcheck([](V in) {
    EXPECT_EQ(in[0].dtype(), ad::DType::f64);
    return ad::sigmoid(in[0]) * in[0];
  }, {x});
  EXPECT_TRUE(r) << r;
  EXPECT_EQ(x.dtype(), ad::DType::f32);
  EXPECT_EQ(x.to_vector(), ad::tensor({0.3, -0.7, 1.1}, {3}).to_vector());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Gradcheck, UnusedAndConstantInputsAreFine) {
  Tensor x = ad::tensor({1, 2}, {2}, ad::DType::f64).requires_grad_();
  Tensor unused = ad::tensor({3, 4}, {2}, ad::DType::f64).requires_grad_();
  EXPECT_TRUE(ad::gradcheck([](V in) { return in[0] * 2.0; }, {x, unused}));
  EXPECT_TRUE(ad::gradcheck([](V) { return ad::ones({2}, ad::DType::f64); }, {x}));
}

TEST(Gradcheck, DoesNotMoveTheUsersGenerator) {
  Tensor x = ad::tensor({1, 2, 3, 4}, {2, 2}, ad::DType::f64).requires_grad_();
  ad::manual_seed(11);
  const std::vector<double> expected = ad::randn({5}).to_vector();
  ad::manual_seed(11);
  ASSERT_TRUE(ad::gradcheck([](V in) { return ad::exp(in[0]); }, {x}));
  EXPECT_EQ(ad::randn({5}).to_vector(), expected);
}

TEST(Gradcheck, RejectsMisuse) {
  Tensor x = ad::ones({2}, ad::DType::f64);
  EXPECT_THROW(
      {
        try {
          ad::gradcheck([](V in) { return in[0]; }, {x});
        } catch (const ad::UsageError& e) {
          EXPECT_THAT(e.what(), ::testing::HasSubstr("no input requires grad"));
          throw;
        }
      },
      ad::UsageError);
  x.requires_grad_();
  ad::GradcheckOptions o;
  o.eps = 0;
  EXPECT_THROW(ad::gradcheck([](V in) { return in[0]; }, {x}, o), ad::ValueError);
  o = {};
  o.directions = 0;
  EXPECT_THROW(ad::gradcheck([](V in) { return in[0]; }, {x}, o), ad::ValueError);
}

}  // namespace
