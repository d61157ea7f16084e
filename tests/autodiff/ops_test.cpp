// Op forward values against hand-computed numbers, derivatives against their closed forms, and
// numerical stability at |z| = 1000, in float32 and float64. (The generic checks of every op —
// gradcheck, dtypes, broadcasting, errors — are the op table's, op_table_test.cpp.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

using ad::DType;
using ad::Tensor;
using ::testing::Pointwise;

const double kLn2 = std::log(2.0), kLn3 = std::log(3.0);

// Elementwise |a − b| ≤ tol, with a readable failure.
MATCHER_P(AllNear, tol, "") {
  const auto& [a, b] = arg;
  return std::abs(a - b) <= tol || (std::isinf(a) && a == b);
}
void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  EXPECT_THAT(t.to_vector(), Pointwise(AllNear(tol), want)) << t;
}
bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}
double sigmoid_ref(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Closed-form tests run in both dtypes; float32 gets a looser tolerance.
class Ops : public ::testing::TestWithParam<DType> {
 protected:
  DType dt() const { return GetParam(); }
  double tol() const { return dt() == DType::f32 ? 2e-6 : 1e-12; }
  Tensor leaf(const std::vector<double>& v, const ad::Shape& s) const { return ad::tensor(v, s, dt()).requires_grad_(); }
};
INSTANTIATE_TEST_SUITE_P(, Ops, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(info.param == DType::f32 ? "f32" : "f64"); });

// ---- forward values -------------------------------------------------------------------------

TEST_P(Ops, UnaryForwardValues) {
  Tensor x = ad::tensor({-2, -0.5, 0, 0.5, 4}, {5}, dt());
  expect_values(ad::abs(x), {2, 0.5, 0, 0.5, 4});
  expect_values(ad::sign(x), {-1, -1, 0, 1, 1});
  expect_values(ad::clamp(x, -1, 1), {-1, -0.5, 0, 0.5, 1});
  expect_values(ad::leaky_relu(x, 0.1), {-0.2, -0.05, 0, 0.5, 4});
  expect_values(ad::leaky_relu(x), {-0.02, -0.005, 0, 0.5, 4});
  expect_values(ad::pow(x, 2), {4, 0.25, 0, 0.25, 16});
  expect_values(ad::pow(x, 3), {-8, -0.125, 0, 0.125, 64});
  expect_values(ad::softplus(x), {std::log1p(std::exp(-2.0)), std::log1p(std::exp(-0.5)), kLn2,
                                  std::log1p(std::exp(0.5)), std::log1p(std::exp(4.0))});
  Tensor p = ad::tensor({0.25, 1, 9}, {3}, dt());
  expect_values(ad::sqrt(p), {0.5, 1, 3});
  expect_values(ad::pow(p, 0.5), {0.5, 1, 3});
  expect_values(ad::pow(p, -1), {4, 1, 1.0 / 9});
  EXPECT_TRUE(std::isnan(ad::sign(ad::tensor({NAN}, {1}, dt())).item()));
}

TEST_P(Ops, MaxArgmaxForwardValues) {
  // [[1, 5, 5],
  //  [7, 2, 0]]
  Tensor x = ad::tensor({1, 5, 5, 7, 2, 0}, {2, 3}, dt());
  expect_values(ad::max(x, 0), {7, 5, 5});
  expect_values(ad::max(x, 1), {5, 7});
  expect_values(ad::max(x, -1, true), {5, 7});
  EXPECT_EQ(ad::max(x, -1, true).shape(), ad::Shape({2, 1}));
  expect_values(ad::argmax(x, 1), {1, 0});  // the first of the tied 5s
  expect_values(ad::argmax(x, 0), {1, 0, 0});
  EXPECT_EQ(ad::argmax(x, 0, true).shape(), ad::Shape({1, 3}));
  Tensor with_nan = ad::tensor({1, NAN, 3}, {3}, dt());
  EXPECT_TRUE(std::isnan(ad::max(with_nan, 0).item())) << "NaN propagates through max";
  Tensor x3 = ad::tensor({0, 9, 2, 3, 4, 5, 6, 7}, {2, 2, 2}, dt());
  expect_values(ad::max(x3, 1), {2, 9, 6, 7});
  expect_values(ad::argmax(x3, 1), {1, 0, 1, 1});
}

TEST_P(Ops, SoftmaxForwardValues) {
  // softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6 in each column, over dim 0
  Tensor z = ad::tensor({0, 10, kLn2, 10 + kLn2, kLn3, 10 + kLn3}, {3, 2}, dt());
  expect_values(ad::softmax(z, 0), {1. / 6, 1. / 6, 2. / 6, 2. / 6, 3. / 6, 3. / 6});
  expect_values(ad::log_softmax(z, 0), {-std::log(6.0), -std::log(6.0), std::log(2. / 6), std::log(2. / 6),
                                        std::log(3. / 6), std::log(3. / 6)}, 1e-5);
  Tensor rows = ad::tensor({0, kLn2, kLn3}, {1, 3}, dt());
  expect_values(ad::softmax(rows, -1), {1. / 6, 2. / 6, 3. / 6});
  // every lane of a 3-D softmax over the middle dim sums to 1
  ad::manual_seed(1);
  expect_values(ad::sum(ad::softmax(ad::randn({2, 5, 3}, dt()), 1), 1), {1, 1, 1, 1, 1, 1}, 1e-6);
}

TEST_P(Ops, ShapeOpsForwardValues) {
  Tensor a = ad::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, dt());
  Tensor b = ad::tensor({7, 8}, {2, 1}, dt());
  expect_values(ad::concat({a, b}, 1), {1, 2, 3, 7, 4, 5, 6, 8});
  expect_values(ad::concat({a, ad::full({1, 3}, 9, dt()), a}, 0).T(), {1, 4, 9, 1, 4, 2, 5, 9, 2, 5, 3, 6, 9, 3, 6}, 1e-6);
  EXPECT_THROW(ad::concat({a, ad::reshape(b, {1, 2})}, 0), ad::ShapeError);
  expect_values(ad::slice(a, 1, 1, 3), {2, 3, 5, 6});
  expect_values(ad::slice(a, 1, -2, -1), {2, 5});
  expect_values(ad::slice(a, 0, 1, 2), {4, 5, 6});
  EXPECT_EQ(ad::slice(a, 0, 1, 1).shape(), ad::Shape({0, 3}));
  expect_values(ad::index_select(a, 1, {2, 0, 2}), {3, 1, 3, 6, 4, 6});
  expect_values(ad::index_select(a, 0, {-1, 0}), {4, 5, 6, 1, 2, 3});
  expect_values(ad::broadcast_to(b, {2, 3}), {7, 7, 7, 8, 8, 8});
  expect_values(ad::broadcast_to(ad::tensor({1, 2}, {2}, dt()), {2, 2, 2}), {1, 2, 1, 2, 1, 2, 1, 2});
}

TEST_P(Ops, WhereSelectsWithBroadcastAndAnyMaskDtype) {
  Tensor a = ad::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, dt());
  Tensor b = ad::tensor({-1, -2, -3}, {1, 3}, dt());
  Tensor mask = ad::tensor({1, 0}, {2, 1}, dt() == DType::f32 ? DType::f64 : DType::f32);
  expect_values(ad::where(mask, a, b), {1, 2, 3, -1, -2, -3});
  expect_values(ad::where(ad::gt(a, 3.5), a, ad::scalar(0, dt())), {0, 0, 0, 4, 5, 6});
  expect_values(ad::where(ad::scalar(0, dt()), a, b), {-1, -2, -3, -1, -2, -3});
  expect_values(ad::where(ad::scalar(1), ad::scalar(2, dt()), ad::scalar(3, dt())), {2});
  EXPECT_EQ(ad::where(ad::scalar(1), ad::scalar(2, dt()), ad::scalar(3, dt())).dim(), 0);
  // a 3-D result from three differently broadcast operands
  Tensor m3 = ad::tensor({1, 0, 0, 1}, {2, 1, 2}, dt());
  expect_values(ad::where(m3, ad::tensor({1, 2, 3}, {3, 1}, dt()), ad::tensor({-1, -2}, {2}, dt())),
                {1, -2, 2, -2, 3, -2, -1, 1, -1, 2, -1, 3});
}

// where selects, it does not blend: m·a + (1 − m)·b would turn log(−1) = NaN in the unused
// branch into NaN output (0·NaN), and its gradient likewise.
TEST_P(Ops, WhereIgnoresNanInTheUnselectedBranch) {
  Tensor x = leaf({-1, 2, -3, 4}, {4});
  Tensor y = ad::where(ad::gt(x, 0.0), ad::log(x), ad::scalar(0, dt()));
  expect_values(y, {0, std::log(2.0), 0, std::log(4.0)});
  ad::sum(y).backward();
  expect_values(x.grad(), {0, 0.5, 0, 0.25});
}

TEST_P(Ops, FusedLossForwardValues) {
  // column 0 has logits [0, ln 2, ln 3] and class 2: −log(3/6) = ln 2; column 1 is uniform
  // over 3 classes with class 0: ln 3. The mean over m = 2 columns is (ln 2 + ln 3) / 2.
  Tensor z = ad::tensor({0, 1, kLn2, 1, kLn3, 1}, {3, 2}, dt());
  Tensor y = ad::tensor({0, 1, 0, 0, 1, 0}, {3, 2}, dt());
  EXPECT_NEAR(ad::softmax_cross_entropy(z, y).item(), (kLn2 + kLn3) / 2, 1e-6);
  EXPECT_NEAR(ad::softmax_cross_entropy(z.T(), y.T(), 1).item(), (kLn2 + kLn3) / 2, 1e-6);
  // z = 0, y = 1: ln 2;  z = 2, y = 0: 2 + ln(1 + e⁻²);  z = −3, y = 0.25: 3·0.25 + ln(1 + e⁻³)
  Tensor bz = ad::tensor({0, 2, -3}, {3}, dt()), by = ad::tensor({1, 0, 0.25}, {3}, dt());
  EXPECT_NEAR(ad::binary_cross_entropy_with_logits(bz, by).item(),
              (kLn2 + 2 + std::log1p(std::exp(-2.0)) + 3 * 0.25 + std::log1p(std::exp(-3.0))) / 3, 1e-6);
}

TEST_P(Ops, ZeroSizeTensorsFlowThroughShapeOpsAndSoftmax) {
  Tensor e = leaf({}, {2, 0});
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  Tensor joined = ad::concat({e, x, e}, 1);
  expect_values(joined, {1, 2, 3, 4});
  EXPECT_EQ(ad::softmax(e, 1).shape(), ad::Shape({2, 0}));
  EXPECT_EQ(ad::index_select(x, 0, std::vector<int64_t>{}).shape(), ad::Shape({0, 2}));
  EXPECT_EQ(ad::slice(x, 1, 2, 2).shape(), ad::Shape({2, 0}));
  ad::sum(joined * joined).backward();
  expect_values(x.grad(), {2, 4, 6, 8});
  EXPECT_EQ(e.grad().shape(), ad::Shape({2, 0}));
}

// ---- derivatives against closed forms ------------------------------------------------------

TEST_P(Ops, SigmoidDerivativeIsSigmaTimesOneMinusSigma) {
  const std::vector<double> z = {-3, -0.5, 0, 0.7, 4};
  Tensor x = leaf(z, {5});
  ad::sum(ad::sigmoid(x)).backward();
  std::vector<double> want;
  for (double v : z) want.push_back(sigmoid_ref(v) * (1 - sigmoid_ref(v)));
  expect_values(x.grad(), want, tol());
}

TEST_P(Ops, TanhDerivativeIsOneMinusTanhSquared) {
  const std::vector<double> z = {-2, -0.3, 0, 0.9, 3};
  Tensor x = leaf(z, {5});
  ad::sum(ad::tanh(x)).backward();
  std::vector<double> want;
  for (double v : z) want.push_back(1 - std::tanh(v) * std::tanh(v));
  expect_values(x.grad(), want, tol());
}

TEST_P(Ops, PowerRuleNTimesXToTheNMinusOne) {
  const std::vector<double> xs = {0.5, 1.5, 2.0, 3.0};
  for (double n : {2.0, 3.0, -1.0, 0.5, 2.5, 0.0}) {
    SCOPED_TRACE(n);
    Tensor x = leaf(xs, {4});
    ad::Tensor y = ad::pow(x, n);
    ad::sum(y + x).backward();  // + x keeps a path to x when n = 0
    std::vector<double> want;
    for (double v : xs) want.push_back(n * std::pow(v, n - 1) + 1);
    expect_values(x.grad(), want, 10 * tol() * 27);
  }
}

TEST_P(Ops, SoftmaxJacobianIsDiagPMinusPPTransposed) {
  const std::vector<double> z = {0.2, -1.0, 0.5, 2.0};
  Tensor x = leaf(z, {4, 1});
  Tensor p = ad::softmax(x, 0);
  const std::vector<double> pv = p.to_vector();
  for (size_t i = 0; i < 4; ++i) {  // row i of the Jacobian is ∂p_i/∂z
    std::vector<double> seed(4, 0.0);
    seed[i] = 1;
    Tensor row = ad::grad({p}, {x}, {ad::tensor(seed, {4, 1}, dt())}, true)[0];
    std::vector<double> want;
    for (size_t j = 0; j < 4; ++j) want.push_back(pv[i] * ((i == j ? 1.0 : 0.0) - pv[j]));
    expect_values(row, want, tol());
  }
}

TEST_P(Ops, LogSoftmaxGradientIsOneHotMinusP) {
  Tensor x = leaf({0.3, -0.2, 1.1}, {1, 3});
  Tensor p = ad::softmax(x.detach(), 1);
  ad::sum(ad::index_select(ad::log_softmax(x, 1), 1, {2})).backward();  // d log p_2 / dz = e_2 − p
  const std::vector<double> pv = p.to_vector();
  expect_values(x.grad(), {-pv[0], -pv[1], 1 - pv[2]}, tol());
}

TEST_P(Ops, SoftmaxCrossEntropyGradientIsPMinusOneHotOverM) {
  // 3 classes (dim 0), m = 4 samples
  Tensor z = leaf({0.1, 2.0, -1.0, 0.5, 1.2, -0.3, 0.0, 0.7, -0.4, 0.9, 3.0, -2.0}, {3, 4});
  Tensor y = ad::tensor({1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0}, {3, 4}, dt());
  ad::softmax_cross_entropy(z, y, 0).backward();
  const std::vector<double> p = ad::softmax(z.detach(), 0).to_vector(), yv = y.to_vector();
  std::vector<double> want;
  for (size_t i = 0; i < p.size(); ++i) want.push_back((p[i] - yv[i]) / 4);
  expect_values(z.grad(), want, tol());
}

TEST_P(Ops, BceWithLogitsGradientIsSigmaMinusYOverN) {
  const std::vector<double> zs = {-2, 0, 0.5, 3}, ys = {0, 1, 1, 0.3};
  Tensor z = leaf(zs, {2, 2});
  ad::binary_cross_entropy_with_logits(z, ad::tensor(ys, {2, 2}, dt())).backward();
  std::vector<double> want;
  for (size_t i = 0; i < 4; ++i) want.push_back((sigmoid_ref(zs[i]) - ys[i]) / 4);
  expect_values(z.grad(), want, tol());
}

TEST_P(Ops, BceOnProbabilitiesHasClosedFormValueAndGradient) {
  // a = 0.5, y = 1: ln 2;  a = 0.9, y = 0: −ln 0.1;  a = 0.2, y = 0.25: −(0.25 ln 0.2 + 0.75 ln 0.8);
  // a = 0.7, y = 1: −ln 0.7. dJ/da = (a − y) / (a(1 − a)) / 4.
  const std::vector<double> as = {0.5, 0.9, 0.2, 0.7}, ys = {1, 0, 0.25, 1};
  Tensor a = leaf(as, {2, 2});
  Tensor J = ad::binary_cross_entropy(a, ad::tensor(ys, {2, 2}, dt()));
  EXPECT_NEAR(J.item(), (kLn2 - std::log(0.1) - (0.25 * std::log(0.2) + 0.75 * std::log(0.8)) - std::log(0.7)) / 4,
              1e-6);
  J.backward();
  std::vector<double> want;
  for (size_t i = 0; i < 4; ++i) want.push_back((as[i] - ys[i]) / (as[i] * (1 - as[i])) / 4);
  expect_values(a.grad(), want, tol());
  // A saturated prediction is clamped to [ε, 1 − ε]: a large finite cost and no gradient.
  Tensor s = leaf({0, 1}, {2});
  Tensor Js = ad::binary_cross_entropy(s, ad::tensor({1, 0}, {2}, dt()));
  EXPECT_TRUE(std::isfinite(Js.item()));
  EXPECT_GT(Js.item(), 15.0);
  Js.backward();
  expect_values(s.grad(), {0, 0}, 0.0);
}

TEST_P(Ops, SoftplusDerivativesAreSigmaAndSigmaPrime) {
  const std::vector<double> zs = {-1.5, 0, 2};
  Tensor x = leaf(zs, {3});
  Tensor d1 = ad::grad({ad::sum(ad::softplus(x))}, {x}, {}, true, true)[0];
  Tensor d2 = ad::grad({ad::sum(d1)}, {x})[0];
  std::vector<double> s, ds;
  for (double v : zs) s.push_back(sigmoid_ref(v)), ds.push_back(sigmoid_ref(v) * (1 - sigmoid_ref(v)));
  expect_values(d1, s, tol());
  expect_values(d2, ds, tol());
}

TEST_P(Ops, KinkedOpsRouteGradientsAsDocumented) {
  Tensor x = leaf({-2, -0.5, 0.5, 2}, {4});
  ad::sum(ad::clamp(x, -1, 1) + ad::abs(x) * 2.0 + ad::leaky_relu(x, 0.1) * 3.0 + ad::sign(x) * 5.0).backward();
  // clamp: [0, 1, 1, 0]; 2·sign: [−2, −2, 2, 2]; 3·leaky: [0.3, 0.3, 3, 3]; sign: 0
  expect_values(x.grad(), {-1.7, -0.7, 6, 5}, tol() * 10);
  // max: the first maximal entry takes the whole gradient; minimum/maximum split ties evenly
  Tensor m = leaf({3, 1, 3, 2}, {4});
  ad::max(m, 0).backward();
  expect_values(m.grad(), {1, 0, 0, 0});
  Tensor a = leaf({1, 2}, {2}), b = leaf({1, 3}, {2});
  ad::sum(ad::maximum(a, b)).backward();
  expect_values(a.grad(), {0.5, 0});
  expect_values(b.grad(), {0.5, 1});
}

TEST_P(Ops, SelectionGradientsScatterBack) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor w = ad::tensor({1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7}, {4, 2}, dt());
  ad::sum(ad::index_select(x, 0, {2, 0, 2, 2}) * w).backward();  // row 2 chosen three times
  expect_values(x.grad(), {100, 1000, 0, 0, 1 + 1e4 + 1e6, 10 + 1e5 + 1e7}, 1e-9);
  Tensor c = leaf({1, 2}, {1, 2});
  Tensor k = ad::tensor({3, 4}, {1, 2}, dt());  // needs no gradient
  ad::sum(ad::concat({k, c, k}, 0) * ad::tensor({1, 1, 2, 3, 1, 1}, {3, 2}, dt())).backward();
  expect_values(c.grad(), {2, 3});
  Tensor s = leaf({1, 2, 3, 4, 5}, {5});
  ad::sum(ad::slice(s, 0, 1, -1) * 2.0).backward();
  expect_values(s.grad(), {0, 2, 2, 2, 0});
  EXPECT_FALSE(ad::argmax(s, 0).requires_grad()) << "argmax is not differentiable";
}

// ---- stability at |z| = 1000 ---------------------------------------------------------------

TEST_P(Ops, SoftmaxAndLogSoftmaxAreStableAtLargeLogits) {
  Tensor z = leaf({1000, 0, -1000}, {3, 1});
  Tensor p = ad::softmax(z, 0);
  expect_values(p, {1, 0, 0}, 0);
  Tensor lp = ad::log_softmax(z, 0);
  expect_values(lp, {0, -1000, -2000}, 1e-9);
  ad::sum(p * ad::tensor({1, 2, 3}, {3, 1}, dt()) + lp).backward();
  EXPECT_TRUE(all_finite(z.grad())) << z.grad();
  // d/dz Σ log p = 1 − 3p = [−2, 1, 1]; the softmax term adds p ⊙ (w − p·w) = 0 here
  expect_values(z.grad(), {-2, 1, 1}, 1e-9);
  Tensor same = leaf({1000, 1000}, {1, 2});
  expect_values(ad::softmax(same, 1), {0.5, 0.5});
  expect_values(ad::log_softmax(same, 1), {-kLn2, -kLn2});
}

TEST_P(Ops, SigmoidSoftplusAndBceAreStableAtLargeLogits) {
  Tensor z = leaf({-1000, 1000}, {2});
  expect_values(ad::sigmoid(z), {0, 1}, 0);
  expect_values(ad::softplus(z), {0, 1000}, 0);
  ad::sum(ad::sigmoid(z) + ad::softplus(z)).backward();
  expect_values(z.grad(), {0, 1}, 0);  // σ' = 0 at both ends, softplus' = σ
  Tensor bz = leaf({1000, -1000, 1000}, {3});
  Tensor loss = ad::binary_cross_entropy_with_logits(bz, ad::tensor({0, 1, 1}, {3}, dt()));
  EXPECT_NEAR(loss.item(), 2000.0 / 3, 1e-3);
  loss.backward();
  expect_values(bz.grad(), {1.0 / 3, -1.0 / 3, 0}, 1e-7);
  Tensor cz = leaf({1000, -1000}, {2, 1});
  Tensor ce = ad::softmax_cross_entropy(cz, ad::tensor({0, 1}, {2, 1}, dt()));
  EXPECT_NEAR(ce.item(), 2000, 1e-3);
  ce.backward();
  expect_values(cz.grad(), {1, -1}, 0);
}

}  // namespace
