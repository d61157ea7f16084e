// Every row of the op table (op_table.hpp) under ad::compile: each sample is recorded (the op,
// then backward of Σ y²/4 + y, or for second-order rows backward of the squared gradients),
// replayed twice on new input values, and compared with the same calls run eagerly: outputs and
// every input's gradient, bit for bit, in float64 and float32. An op whose kernel bypassed
// kernels::launch would replay stale values here.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>

#include "op_table.hpp"

namespace op_table {
namespace {

struct RowCase {
  const OpInfo* row;
};
void PrintTo(const RowCase& c, std::ostream* os) { *os << c.row->name; }

std::vector<RowCase> every_row() {
  std::vector<RowCase> out;
  for (const OpInfo& r : all_rows()) out.push_back({&r});
  return out;
}

::testing::AssertionResult same_bits(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return ::testing::AssertionFailure() << "one of the two is undefined";
  if (!a.defined()) return ::testing::AssertionSuccess();
  if (!(a.shape() == b.shape()) || a.dtype() != b.dtype())
    return ::testing::AssertionFailure() << a.shape().str() << " vs " << b.shape().str();
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i)
    if (std::memcmp(&x[i], &y[i], sizeof(double)) != 0)
      return ::testing::AssertionFailure() << "entry " << i << ": " << x[i] << " vs " << y[i];
  return ::testing::AssertionSuccess();
}

// The sample's inputs drawn afresh (seeded by `draw`) in dtype `dt` (int64 inputs stay int64).
std::vector<Tensor> inputs(const Sample& s, ad::DType dt, uint64_t draw) {
  ad::manual_seed(draw);
  std::vector<Tensor> xs;
  for (const In& in : s.inputs) {
    Tensor t = make_input(in);
    if (ad::is_floating(t.dtype()) && t.dtype() != dt) t = t.detach().to(dt).requires_grad_(in.grad);
    xs.push_back(t);
  }
  return xs;
}

// One call: the op, then backward of Σ y²/4 + y (or of the squared gradients of that, recorded
// with create_graph, for second order) when the row is differentiable and an input wants it.
Tensor run(const OpInfo& row, const Sample& s, const std::vector<Tensor>& xs, bool second) {
  bool wants = false;
  for (const Tensor& x : xs) wants = wants || x.requires_grad();
  if (!row.differentiable || !wants) {
    ad::NoGradGuard off;
    return callable(row, s)(xs);
  }
  Tensor y = callable(row, s)(xs);
  Tensor J = ad::sum(y * y * 0.25 + y);
  if (second) {
    std::vector<Tensor> wrt;
    for (const Tensor& x : xs)
      if (x.requires_grad()) wrt.push_back(x);
    Tensor K = ad::sum(y * 0.0);
    for (const Tensor& g : ad::grad({J}, wrt, {}, false, true)) K = K + ad::sum(g * g);
    J = K;
  }
  J.backward();
  return y;
}

void check(const OpInfo& row, bool second) {
  for (const Sample& s : row.samples) {
    for (ad::DType dt : {ad::DType::f64, ad::DType::f32}) {
      SCOPED_TRACE("sample " + s.name + " " + ad::dtype_name(dt));
      std::vector<Tensor> eager = inputs(s, dt, 1), outside = inputs(s, dt, 1);
      auto compiled = ad::compile([&] { return run(row, s, outside, second); });
      for (uint64_t call = 1; call <= 3; ++call) {
        const std::vector<Tensor> fresh = inputs(s, dt, call);
        for (size_t i = 0; i < fresh.size(); ++i) {  // new values in the same tensors
          ad::NoGradGuard off;
          eager[i].copy_(fresh[i]);
          outside[i].copy_(fresh[i]);
          eager[i].zero_grad();
          outside[i].zero_grad();
        }
        const Tensor want = run(row, s, eager, second);
        const Tensor got = compiled();
        ASSERT_TRUE(same_bits(want, got)) << "output, call " << call;
        for (size_t i = 0; i < eager.size(); ++i)
          ASSERT_TRUE(same_bits(eager[i].grad(), outside[i].grad())) << "gradient of input " << i << ", call " << call;
      }
      EXPECT_EQ(compiled.stats().records, 1u);
    }
  }
}

class OpReplay : public ::testing::TestWithParam<RowCase> {};

TEST_P(OpReplay, BitForBit) { check(*GetParam().row, false); }

TEST_P(OpReplay, SecondOrder) {
  if (!GetParam().row->second_order) GTEST_SKIP() << "no second derivative";
  check(*GetParam().row, true);
}

INSTANTIATE_TEST_SUITE_P(, OpReplay, ::testing::ValuesIn(every_row()),
                         [](const ::testing::TestParamInfo<RowCase>& info) { return info.param.row->name; });

}  // namespace
}  // namespace op_table
