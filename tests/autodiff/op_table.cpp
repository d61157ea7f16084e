// The op table's machinery: sample inputs, the row builders for elementwise ops, the backward
// pass as a function for second-order checks, and the error cases.
#include "op_table.hpp"

#include <fmt/format.h>

#include <numeric>

namespace op_table {

In normal(ad::Shape s) { return {s}; }
In pos(ad::Shape s) { return {s, Init::positive}; }
In away(ad::Shape s) { return {s, Init::away_from_zero}; }
In spaced(ad::Shape s) { return {s, Init::spaced}; }
In between(ad::Shape s) { return {s, Init::spaced_between}; }
In unit(ad::Shape s) { return {s, Init::unit}; }
In prob(ad::Shape s) { return {s, Init::probability}; }
In onehot(ad::Shape s) { return {s, Init::one_hot, false}; }
In mask(ad::Shape s) { return {s, Init::mask, false, true}; }
In constant(In in) {
  in.grad = false;
  return in;
}

namespace {

// Multiples of 0.25 around 0, shuffled, plus `offset`: 0.125 keeps every value 0.125 from 0
// and from the grid without it.
Tensor spaced_grid(const ad::Shape& shape, double offset) {
  const auto n = static_cast<size_t>(shape.numel());
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (static_cast<double>(i) - static_cast<double>(n / 2)) * 0.25 + offset;
  for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[ad::random_u64() % i]);
  return ad::tensor(v, shape, ad::DType::f64);
}

Tensor one_hot_columns(const ad::Shape& shape) {
  const int64_t c = shape[0], m = shape.numel() / c;
  std::vector<double> v(static_cast<size_t>(shape.numel()), 0.0);
  for (int64_t j = 0; j < m; ++j) v[static_cast<size_t>(static_cast<int64_t>(ad::random_u64() % c) * m + j)] = 1;
  return ad::tensor(v, shape, ad::DType::f64);
}

Tensor draw(const In& in) {
  constexpr auto f64 = ad::DType::f64;
  switch (in.init) {
    case Init::normal: return ad::randn(in.shape, f64);
    case Init::positive: return ad::rand(in.shape, f64) * 1.5 + 0.5;
    case Init::unit: return ad::rand(in.shape, f64);
    case Init::probability: return ad::rand(in.shape, f64) * 0.8 + 0.1;
    case Init::away_from_zero: {
      Tensor r = ad::randn(in.shape, f64);
      return ad::sign(r) * (ad::abs(r) + 0.2);
    }
    case Init::spaced: return spaced_grid(in.shape, 0.125);
    case Init::spaced_between: return spaced_grid(in.shape, 0.0);
    case Init::one_hot: return one_hot_columns(in.shape);
    case Init::mask: return ad::gt(ad::rand(in.shape, f64), 0.5);
  }
  return {};
}

// The shapes every broadcasting op is sampled on, one per input (a binary op reads the first
// two): equal shapes, a column bias (n, 1) or a row (1, m) on either side, 0-d operands, both
// sides broadcast, ranks 1 to 3 mixed, and an empty result.
const std::vector<std::vector<ad::Shape>>& broadcast_cases() {
  static const std::vector<std::vector<ad::Shape>> cases = {
      {{3, 4}, {3, 4}, {3, 4}},    {{3, 4}, {3, 1}, {1, 4}},    {{3, 1}, {3, 4}, {1, 4}},
      {{3, 4}, {1, 4}, {3, 1}},    {{1, 4}, {3, 4}, {3, 1}},    {{}, {3, 4}, {}},
      {{3, 4}, {}, {3, 4}},        {{1, 4}, {3, 1}, {}},        {{2, 1, 4}, {3, 1}, {4}},
      {{2, 3, 4}, {4}, {3, 1}},    {{2, 1, 4}, {1, 3, 1}, {2, 3, 1}},
      {{3, 1}, {4}, {2, 1, 4}},    {{0, 3}, {1, 3}, {3}},
  };
  return cases;
}

template <class E>
ErrorCase error_case(const char* type, std::string name, std::vector<std::string> words, std::function<void()> call) {
  return {std::move(name), type, [](const ad::Error& e) { return dynamic_cast<const E*>(&e) != nullptr; },
          std::move(words), std::move(call)};
}

}  // namespace

ErrorCase shape_error(std::string name, std::vector<std::string> words, std::function<void()> call) {
  return error_case<ad::ShapeError>("ShapeError", std::move(name), std::move(words), std::move(call));
}
ErrorCase dtype_error(std::string name, std::vector<std::string> words, std::function<void()> call) {
  return error_case<ad::DTypeError>("DTypeError", std::move(name), std::move(words), std::move(call));
}
ErrorCase usage_error(std::string name, std::vector<std::string> words, std::function<void()> call) {
  return error_case<ad::UsageError>("UsageError", std::move(name), std::move(words), std::move(call));
}
ErrorCase value_error(std::string name, std::vector<std::string> words, std::function<void()> call) {
  return error_case<ad::ValueError>("ValueError", std::move(name), std::move(words), std::move(call));
}

Tensor make_input(const In& in) {
  Tensor t = draw(in).detach();
  if (in.grad) t.requires_grad_();
  return t;
}

const Fn& callable(const OpInfo& row, const Sample& s) { return s.f ? s.f : row.op; }

std::string shape_name(const ad::Shape& s) {
  if (s.empty()) return "0d";
  return fmt::format("{}", fmt::join(s, "x"));
}

OpInfo unary(std::string name, Fn op, Ref ref, Init init, std::vector<Sample> extra) {
  OpInfo row{std::move(name), std::move(op)};
  row.ref = std::move(ref);
  for (ad::Shape s : {ad::Shape{3, 4}, ad::Shape{}, ad::Shape{2, 3, 4}, ad::Shape{0, 3}})
    row.samples.push_back({shape_name(s), {In{s, init}}});
  for (Sample& s : extra) row.samples.push_back(std::move(s));
  return row;
}

OpInfo elementwise(std::string name, Fn op, Ref ref, std::vector<In> inits, std::vector<Sample> extra) {
  OpInfo row{std::move(name), std::move(op)};
  row.ref = std::move(ref);
  row.broadcasts = true;
  const size_t n = inits.size();
  auto with_shapes = [&inits](std::vector<ad::Shape> shapes) {
    std::vector<In> ins = inits;
    for (size_t i = 0; i < ins.size(); ++i) ins[i].shape = shapes[i];
    return ins;
  };
  for (const std::vector<ad::Shape>& c : broadcast_cases()) {
    std::vector<ad::Shape> shapes(c.begin(), c.begin() + static_cast<ptrdiff_t>(n));
    std::vector<std::string> names;
    for (const ad::Shape& s : shapes) names.push_back(shape_name(s));
    row.samples.push_back({fmt::format("{}", fmt::join(names, "_")), with_shapes(shapes)});
  }
  // The same tensor as every differentiable operand: their gradients accumulate into one.
  In shared = inits[1];
  shared.shape = {3, 4};
  row.samples.push_back({"same_tensor", {shared}, [op = row.op, n](V x) {
                           std::vector<Tensor> args(n, x[0]);
                           return op(args);
                         }});
  std::vector<In> one_constant = with_shapes(std::vector<ad::Shape>(n, ad::Shape{3, 4}));
  one_constant[1].grad = false;
  row.samples.push_back({"constant_operand", one_constant});
  for (Sample& s : extra) row.samples.push_back(std::move(s));

  std::vector<ad::Shape> bad(n, ad::Shape{2, 3});
  bad[1] = {3, 2};
  row.errors.push_back(shape_error("shapes_do_not_broadcast", {row.name, "(2, 3)", "(3, 2)", "broadcast"},
                                   [op = row.op, bad] {
                                     std::vector<Tensor> xs;
                                     for (const ad::Shape& s : bad) xs.push_back(ad::ones(s, ad::DType::f64));
                                     (void)op(xs);
                                   }));
  return row;
}

OpInfo with_errors(OpInfo row, std::vector<ErrorCase> more) {
  for (ErrorCase& e : more) row.errors.push_back(std::move(e));
  return row;
}

Fn backward_as_function(Fn f, size_t n_inputs) {
  return [f = std::move(f), n_inputs](V in) {
    ad::EnableGradGuard on;
    const std::vector<Tensor> xs(in.begin(), in.begin() + static_cast<ptrdiff_t>(n_inputs));
    const Tensor y = f(xs);
    std::vector<Tensor> wrt;
    for (const Tensor& x : xs)
      if (x.requires_grad()) wrt.push_back(x);
    std::vector<Tensor> flat;
    for (const Tensor& g : ad::grad({y}, wrt, {in[n_inputs]}, true, true)) flat.push_back(ad::reshape(g, {-1}));
    return ad::concat(flat, 0);
  };
}

const std::vector<OpInfo>& all_rows() {
  static const std::vector<OpInfo> rows = [] {
    std::vector<OpInfo> all;
    for (auto family :
         {elementwise_rows, unary_rows, reduction_rows, shape_rows, linalg_rows, loss_rows, fused_rows, in_place_rows})
      for (OpInfo& r : family()) all.push_back(std::move(r));
    return all;
  }();
  return rows;
}

}  // namespace op_table
