// Rows of the op table: elementwise ops of several tensors (broadcast), their scalar forms, the
// elementwise functions of one tensor and the in-place writes.
#include <algorithm>
#include <cmath>

#include "autodiff/ops/detail/fusion.hpp"
#include "op_table.hpp"

namespace op_table {

namespace {

constexpr double kSlope = 0.1;  // leaky_relu's slope in its row

double sigmoid_ref(double z) { return 1.0 / (1.0 + std::exp(-z)); }

OpInfo comparison(std::string name, Fn op, Ref ref, std::vector<Sample> extra = {}) {
  OpInfo row = elementwise(std::move(name), std::move(op), std::move(ref), {spaced({}), between({})}, std::move(extra));
  row.differentiable = false;
  row.second_order = false;
  return row;
}

}  // namespace

std::vector<OpInfo> elementwise_rows() {
  return {
      with_errors(elementwise("add", [](V x) { return x[0] + x[1]; }, [](const double* x) { return x[0] + x[1]; },
                              {normal({}), normal({})}),
                  {dtype_error("dtypes_differ_with_a_hint", {"add", "float32", "float64", ".to(DType)"},
                               [] { (void)(ad::ones({2, 3}) + ad::ones({2, 3}, ad::DType::f64)); })}),
      elementwise("sub", [](V x) { return x[0] - x[1]; }, [](const double* x) { return x[0] - x[1]; },
                  {normal({}), normal({})}),
      elementwise("mul", [](V x) { return x[0] * x[1]; }, [](const double* x) { return x[0] * x[1]; },
                  {normal({}), normal({})},
                  {{"chain_a_b_a", {normal({3, 4}), normal({1, 4})}, [](V x) { return x[0] * x[1] * x[0]; }}}),
      elementwise("div", [](V x) { return x[0] / x[1]; }, [](const double* x) { return x[0] / x[1]; },
                  {normal({}), away({})}),
      elementwise("minimum", [](V x) { return ad::minimum(x[0], x[1]); },
                  [](const double* x) { return std::min(x[0], x[1]); }, {spaced({}), between({})}),
      elementwise("maximum", [](V x) { return ad::maximum(x[0], x[1]); },
                  [](const double* x) { return std::max(x[0], x[1]); }, {spaced({}), between({})}),
      with_errors(
          elementwise("where", [](V x) { return ad::where(x[2], x[0], x[1]); },
                      [](const double* x) { return x[2] != 0 ? x[0] : x[1]; }, {normal({}), normal({}), mask({})},
                      {{"0d_mask", {normal({}), normal({})},
                        [](V x) { return ad::where(ad::scalar(1, ad::DType::f64), x[0], x[1]) * x[1]; }},
                       {"of_cube_and_square", {normal({3, 4}), normal({3, 4})},
                        [](V x) { return ad::where(ad::gt(x[0].detach(), 0.0), x[0] * x[0] * x[0], x[1] * x[1]); }}}),
          {shape_error("mask_does_not_broadcast", {"where", "(4,)", "(2, 3)"},
                       [] { (void)ad::where(ad::ones({4}), ad::ones({2, 3}), ad::ones({2, 3})); })}),
      comparison("gt", [](V x) { return ad::gt(x[0], x[1]); }, [](const double* x) { return x[0] > x[1] ? 1.0 : 0.0; },
                 {{"scalar", {spaced({3, 4})}, [](V x) { return ad::gt(x[0], 0.25); }}}),
      comparison("lt", [](V x) { return ad::lt(x[0], x[1]); }, [](const double* x) { return x[0] < x[1] ? 1.0 : 0.0; },
                 {{"scalar", {spaced({3, 4})}, [](V x) { return ad::lt(x[0], 0.25); }}}),
      comparison("ge", [](V x) { return ad::ge(x[0], x[1]); }, [](const double* x) { return x[0] >= x[1] ? 1.0 : 0.0; },
                 {{"scalar", {spaced({3, 4})}, [](V x) { return ad::ge(x[0], 0.25); }}}),
      comparison("le", [](V x) { return ad::le(x[0], x[1]); }, [](const double* x) { return x[0] <= x[1] ? 1.0 : 0.0; },
                 {{"scalar", {spaced({3, 4})}, [](V x) { return ad::le(x[0], 0.25); }}}),
      comparison("eq", [](V x) { return ad::eq(x[0], x[1]); }, [](const double* x) { return x[0] == x[1] ? 1.0 : 0.0; },
                 {{"scalar", {spaced({3, 4})}, [](V x) { return ad::eq(x[0], 0.125); }}}),
      comparison("ne", [](V x) { return ad::ne(x[0], x[1]); }, [](const double* x) { return x[0] != x[1] ? 1.0 : 0.0; },
                 {{"scalar", {spaced({3, 4})}, [](V x) { return ad::ne(x[0], 0.125); }}}),
  };
}

std::vector<OpInfo> unary_rows() {
  const std::vector<In> x34 = {normal({3, 4})};
  const std::vector<In> pos34 = {pos({3, 4})};
  const std::vector<In> spaced34 = {spaced({3, 4})};
  return {
      unary("affine", [](V x) { return ad::affine(x[0], 0.5, -2.0); }, [](const double* x) { return 0.5 * x[0] - 2.0; },
            Init::normal,
            {{"x_plus_s", x34, [](V x) { return x[0] + 2.5; }},
             {"s_plus_x", x34, [](V x) { return 2.5 + x[0]; }},
             {"x_minus_s", x34, [](V x) { return x[0] - 2.5; }},
             {"s_minus_x", x34, [](V x) { return 2.5 - x[0]; }},
             {"x_times_s", x34, [](V x) { return x[0] * -1.5; }},
             {"s_times_x", x34, [](V x) { return -1.5 * x[0]; }},
             {"x_over_s", x34, [](V x) { return x[0] / 4.0; }},
             {"negate", x34, [](V x) { return -x[0]; }}}),
      unary("scalar_div", [](V x) { return 3.0 / x[0]; }, [](const double* x) { return 3.0 / x[0]; },
            Init::away_from_zero),
      unary("exp", [](V x) { return ad::exp(x[0]); }, [](const double* x) { return std::exp(x[0]); }, Init::normal),
      unary("log", [](V x) { return ad::log(x[0]); }, [](const double* x) { return std::log(x[0]); }, Init::positive),
      unary("sqrt", [](V x) { return ad::sqrt(x[0]); }, [](const double* x) { return std::sqrt(x[0]); }, Init::positive),
      unary("abs", [](V x) { return ad::abs(x[0]); }, [](const double* x) { return std::abs(x[0]); },
            Init::away_from_zero),
      unary("pow", [](V x) { return ad::pow(x[0], 2.5); }, [](const double* x) { return std::pow(x[0], 2.5); },
            Init::positive,
            {{"p2", x34, [](V x) { return ad::pow(x[0], 2.0); }},
             {"p3", x34, [](V x) { return ad::pow(x[0], 3.0); }},
             {"p_half", pos34, [](V x) { return ad::pow(x[0], 0.5); }},
             {"p_minus_1_5", pos34, [](V x) { return ad::pow(x[0], -1.5); }},
             {"p1", x34, [](V x) { return ad::pow(x[0], 1.0); }},
             {"p0_plus_x", x34, [](V x) { return ad::pow(x[0], 0.0) + x[0]; }}}),
      unary("tanh", [](V x) { return ad::tanh(x[0]); }, [](const double* x) { return std::tanh(x[0]); }, Init::normal),
      unary("sigmoid", [](V x) { return ad::sigmoid(x[0]); }, [](const double* x) { return sigmoid_ref(x[0]); },
            Init::normal, {{"large", x34, [](V x) { return ad::sigmoid(x[0] * 8.0); }}}),
      unary("relu", [](V x) { return ad::relu(x[0]); }, [](const double* x) { return std::max(x[0], 0.0); },
            Init::spaced, {{"times_x", spaced34, [](V x) { return ad::relu(x[0]) * x[0]; }}}),
      unary("leaky_relu", [](V x) { return ad::leaky_relu(x[0], kSlope); },
            [](const double* x) { return x[0] > 0 ? x[0] : kSlope * x[0]; }, Init::spaced,
            {{"default_slope", spaced34, [](V x) { return ad::leaky_relu(x[0]); }}}),
      unary("softplus", [](V x) { return ad::softplus(x[0]); }, [](const double* x) { return std::log1p(std::exp(x[0])); },
            Init::normal, {{"wide", x34, [](V x) { return ad::softplus(x[0] * 4.0); }}}),
      with_errors(unary("clamp", [](V x) { return ad::clamp(x[0], -0.5, 0.5); },
                        [](const double* x) { return std::clamp(x[0], -0.5, 0.5); }, Init::spaced,
                        {{"4x5", {spaced({4, 5})}}}),
                  {value_error("lo_above_hi", {"clamp", "(2, 3)", "lo = 1 > hi = -1"},
                               [] { (void)ad::clamp(ad::ones({2, 3}), 1, -1); })}),
      unary("sign", [](V x) { return ad::sign(x[0]); },
            [](const double* x) { return x[0] > 0 ? 1.0 : x[0] < 0 ? -1.0 : 0.0; }, Init::away_from_zero,
            {{"times_x", {away({3, 4})}, [](V x) { return ad::sign(x[0]) * x[0]; }}}),
  };
}

// In-place writes are not recorded: each row runs the write on a copy of input 0 and returns it,
// so its values, dtypes and misuses are checked like any op's.
std::vector<OpInfo> in_place_rows() {
  auto in_place = [](std::string name, Fn op, Ref ref, std::vector<Sample> samples, std::vector<ErrorCase> errors) {
    return OpInfo{.name = std::move(name), .op = std::move(op), .samples = std::move(samples), .differentiable = false,
                  .second_order = false, .on_input0 = true, .ref = std::move(ref), .errors = std::move(errors)};
  };
  auto m23 = [] { return ad::ones({2, 3}); };
  auto leaf23 = [] { return ad::ones({2, 3}).requires_grad_(); };
  const std::vector<Sample> broadcast_into = {{"3x4_3x4", {normal({3, 4}), normal({3, 4})}},
                                              {"3x4_1x4", {normal({3, 4}), normal({1, 4})}},
                                              {"3x4_3x1", {normal({3, 4}), normal({3, 1})}},
                                              {"3x4_0d", {normal({3, 4}), normal({})}},
                                              {"2x3x4_4", {normal({2, 3, 4}), normal({4})}}};
  return {
      in_place("add_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.add_(x[1]);
               },
               [](const double* x) { return x[0] + x[1]; }, broadcast_into,
               {shape_error("shapes", {"add_", "(3, 3)", "(2, 3)"}, [m23] { m23().add_(ad::ones({3, 3})); }),
                usage_error("into_a_leaf_that_requires_grad", {"add_", "requires grad", "NoGradGuard"},
                            [m23, leaf23] { leaf23().add_(m23()); }),
                shape_error("source_wider_than_the_destination", {"add_", "(2, 3)", "(1, 3)"},
                            [m23] { ad::ones({1, 3}).add_(m23()); })}),
      in_place("sub_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.sub_(x[1], 0.5);
               },
               [](const double* x) { return x[0] - 0.5 * x[1]; }, broadcast_into,
               {shape_error("shapes", {"sub_", "(3, 3)", "(2, 3)"}, [m23] { m23().sub_(ad::ones({3, 3}), 0.5); }),
                usage_error("into_a_recorded_output", {"sub_", "recorded graph", "detach()"},
                            [m23, leaf23] { (leaf23() * 2.0).sub_(m23(), 0.5); })}),
      in_place("div_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.div_(x[1]);
               },
               [](const double* x) { return x[0] / x[1]; },
               {{"3x4_3x4", {normal({3, 4}), away({3, 4})}}, {"3x4_1x4", {normal({3, 4}), away({1, 4})}},
                {"3x4_0d", {normal({3, 4}), away({})}}},
               {shape_error("shapes", {"div_", "(3, 3)", "(2, 3)"}, [m23] { m23().div_(ad::ones({3, 3})); })}),
      in_place("mul_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.mul_(0.5);
               },
               [](const double* x) { return 0.5 * x[0]; },
               {{"3x4", {normal({3, 4})}}, {"0d", {normal({})}}, {"2x3x4", {normal({2, 3, 4})}}},
               {usage_error("on_a_leaf_while_recording", {"mul_", "(2, 3)", "NoGradGuard"},
                            [leaf23] { leaf23().mul_(0.5); })}),
      in_place("zero_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.zero_();
               },
               [](const double*) { return 0.0; }, {{"3x4", {normal({3, 4})}}, {"0d", {normal({})}}},
               {usage_error("on_a_leaf_while_recording", {"zero_", "(2, 3)", "NoGradGuard"},
                            [leaf23] { leaf23().zero_(); })}),
      in_place("copy_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.copy_(x[1]);
               },
               [](const double* x) { return x[1]; },
               {{"3x4_3x4", {normal({3, 4}), normal({3, 4})}},
                {"3x4_1x4", {normal({3, 4}), normal({1, 4})}},
                {"3x4_0d", {normal({3, 4}), normal({})}}},
               {usage_error("into_a_recorded_output", {"copy_", "recorded graph"},
                            [m23, leaf23] { Tensor y = leaf23() * 2.0; y.copy_(m23()); }),
                shape_error("shapes", {"copy_", "(4,)", "(2, 3)"}, [m23] { Tensor d = m23(); d.copy_(ad::ones({4})); }),
                dtype_error("dtypes", {"copy_", "float64", "float32"},
                            [m23] { Tensor d = m23(); d.copy_(ad::ones({2, 3}, ad::DType::f64)); })}),
      in_place("fill_",
               [](V x) {
                 Tensor d = x[0].detach().clone();
                 return d.fill_(0.5);
               },
               [](const double*) { return 0.5; }, {{"3x4", {normal({3, 4})}}, {"0d", {normal({})}}}, {}),
  };
}

}  // namespace op_table
