// The float32 transcendental kernels (autodiff/kernels/vec_math.hpp) as the ops run them —
// through ad::exp/log/tanh/sigmoid/softplus on tensors, so the vectorized clone this CPU picks
// is the code under test — against double libm rounded to float: ulp error over a sweep of
// every 4093rd float bit pattern (both signs, subnormals to inf), and the IEEE edge cases.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "autodiff/kernels/vec_math.hpp"

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Floats ordered as integers (negative ones mirrored), so the distance counts representable floats.
int64_t ordered(float f) {
  const auto b = static_cast<int32_t>(std::bit_cast<uint32_t>(f));
  return b < 0 ? static_cast<int64_t>(INT32_MIN) - b : b;
}

// ulp distance between got and the double reference rounded to float; NaN matches only NaN.
int64_t ulps(float got, double ref) {
  const float r = static_cast<float>(ref);
  if (std::isnan(r) || std::isnan(got)) return std::isnan(r) && std::isnan(got) ? 0 : INT64_MAX;
  if (std::isinf(r) || std::isinf(got)) return r == got ? 0 : INT64_MAX;
  const int64_t d = ordered(got) - ordered(r);
  return d < 0 ? -d : d;
}

std::vector<float> sweep() {
  std::vector<float> xs;
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 4093) xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(b)));
  return xs;
}

std::vector<float> run_op(ad::Tensor (*op)(const ad::Tensor&), const std::vector<float>& xs) {
  ad::Tensor t = ad::empty({static_cast<int64_t>(xs.size())});
  std::copy(xs.begin(), xs.end(), t.data<float>());
  ad::Tensor y = op(t);
  return {y.data<float>(), y.data<float>() + y.numel()};
}

double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double ref_softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

struct Case {
  const char* name;
  ad::Tensor (*op)(const ad::Tensor&);
  double (*ref)(double);
  int64_t max_ulps;
};

ad::Tensor op_exp(const ad::Tensor& x) { return ad::exp(x); }
ad::Tensor op_log(const ad::Tensor& x) { return ad::log(x); }
ad::Tensor op_tanh(const ad::Tensor& x) { return ad::tanh(x); }
ad::Tensor op_sigmoid(const ad::Tensor& x) { return ad::sigmoid(x); }
ad::Tensor op_softplus(const ad::Tensor& x) { return ad::softplus(x); }
double d_exp(double x) { return std::exp(x); }
double d_log(double x) { return std::log(x); }
double d_tanh(double x) { return std::tanh(x); }

const Case kCases[] = {
    {"exp", op_exp, d_exp, 2},          {"log", op_log, d_log, 2},
    {"tanh", op_tanh, d_tanh, 3},       {"sigmoid", op_sigmoid, ref_sigmoid, 3},
    {"softplus", op_softplus, ref_softplus, 3},
};

TEST(VecMath, SweepWithinUlpBound) {
  const std::vector<float> xs = sweep();
  for (const Case& c : kCases) {
    const std::vector<float> ys = run_op(c.op, xs);
    int64_t worst = 0;
    float worst_x = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const int64_t u = ulps(ys[i], c.ref(static_cast<double>(xs[i])));
      if (u > worst) worst = u, worst_x = xs[i];
    }
    EXPECT_LE(worst, c.max_ulps) << c.name << " is " << worst << " ulp off at x = " << worst_x;
  }
}

// Inputs at the IEEE edges: ±0, ±inf, NaN, the smallest subnormal and normal, the largest
// float, and the exp overflow/underflow thresholds.
TEST(VecMath, EdgeCasesMatchLibm) {
  const std::vector<float> xs = {0.0f, -0.0f, kInf, -kInf, kNaN, 1.4e-45f, -1.4e-45f, 1.17549435e-38f, 3.4028235e38f,
                                 -3.4028235e38f, 88.72283f, 88.72284f, 89.0f, -87.33654f, -103.27893f, -103.97208f,
                                 -104.0f, -200.0f, 1.41421356f, 0.625f, -0.625f, 9.0f, 1e-30f, -1e-30f, 1.0f};
  for (const Case& c : kCases) {
    const std::vector<float> ys = run_op(c.op, xs);
    for (size_t i = 0; i < xs.size(); ++i)
      EXPECT_LE(ulps(ys[i], c.ref(static_cast<double>(xs[i]))), c.max_ulps)
          << c.name << "(" << xs[i] << ") = " << ys[i] << ", libm " << c.ref(static_cast<double>(xs[i]));
  }
}

TEST(VecMath, SpecialValuesExactly) {
  const std::vector<float> e = run_op(op_exp, {kInf, -kInf, 89.0f, -104.0f, 0.0f});
  EXPECT_EQ(e[0], kInf);
  EXPECT_EQ(e[1], 0.0f);
  EXPECT_EQ(e[2], kInf);
  EXPECT_EQ(e[3], 0.0f);
  EXPECT_EQ(e[4], 1.0f);
  const std::vector<float> l = run_op(op_log, {0.0f, -0.0f, -1.0f, kInf, 1.0f, 1.4e-45f});
  EXPECT_EQ(l[0], -kInf);
  EXPECT_EQ(l[1], -kInf);
  EXPECT_TRUE(std::isnan(l[2]));
  EXPECT_EQ(l[3], kInf);
  EXPECT_EQ(l[4], 0.0f);
  EXPECT_NEAR(l[5], -103.27893f, 1e-4f);  // the smallest subnormal: ln(2⁻¹⁴⁹)
  const std::vector<float> s = run_op(op_sigmoid, {kInf, -kInf, 0.0f, -200.0f});
  EXPECT_EQ(s[0], 1.0f);
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_EQ(s[2], 0.5f);
  EXPECT_EQ(s[3], 0.0f);
  const std::vector<float> t = run_op(op_tanh, {kInf, -kInf, -0.0f, 20.0f});
  EXPECT_EQ(t[0], 1.0f);
  EXPECT_EQ(t[1], -1.0f);
  EXPECT_TRUE(t[2] == 0.0f && std::signbit(t[2]));
  EXPECT_EQ(t[3], 1.0f);
  const std::vector<float> p = run_op(op_softplus, {kInf, -kInf, 0.0f, -200.0f});
  EXPECT_EQ(p[0], kInf);
  EXPECT_EQ(p[1], 0.0f);
  EXPECT_FLOAT_EQ(p[2], std::log(2.0f));
  EXPECT_EQ(p[3], 0.0f);
}

// NaN in, NaN out, for every function (anomaly detection relies on NaN propagating).
TEST(VecMath, NaNPropagates) {
  for (const Case& c : kCases) {
    const std::vector<float> ys = run_op(c.op, {kNaN, -kNaN, 1.0f});
    EXPECT_TRUE(std::isnan(ys[0])) << c.name;
    EXPECT_TRUE(std::isnan(ys[1])) << c.name;
    EXPECT_FALSE(std::isnan(ys[2])) << c.name;
  }
}

// Every position in a vector (and the scalar tail after it) gets the same answer as a lone
// element: no lane is computed differently.
TEST(VecMath, LanesAndTailAgree) {
  std::vector<float> xs;
  for (int i = 0; i < 37; ++i) xs.push_back(-3.0f + 0.17f * static_cast<float>(i));
  for (const Case& c : kCases) {
    const std::vector<float> all = run_op(c.op, xs);
    for (size_t i = 0; i < xs.size(); ++i) {
      const float one = run_op(c.op, {xs[i]})[0];
      EXPECT_TRUE(all[i] == one || (std::isnan(all[i]) && std::isnan(one))) << c.name << " lane " << i;
    }
  }
}

// log_normal, the losses' log of a probability kept away from 0, gives log's bits wherever it is
// defined (the positive normal floats, every 4093rd bit pattern) and NaN for NaN.
TEST(VecMath, LogNormalIsLogOnNormalFloats) {
  for (const float x : sweep()) {
    if (!(x >= std::numeric_limits<float>::min() && x < kInf)) continue;
    ASSERT_EQ(std::bit_cast<uint32_t>(ad::kernels::vm::log_normal(x)), std::bit_cast<uint32_t>(ad::kernels::vm::log(x)))
        << "x = " << x;
  }
  EXPECT_EQ(ad::kernels::vm::log_normal(1.0f), 0.0f);
  EXPECT_EQ(ad::kernels::vm::log_normal(std::numeric_limits<float>::max()), ad::kernels::vm::log(std::numeric_limits<float>::max()));
  EXPECT_TRUE(std::isnan(ad::kernels::vm::log_normal(kNaN)));
}

}  // namespace
