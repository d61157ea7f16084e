// ad::gradcheck itself: it passes a correct rule, catches a wrong one and reports where, and
// rejects misuse. (Every op's rules are gradchecked by the op table, op_table_test.cpp.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <functional>
#include <sstream>
#include <vector>

namespace {

using ad::Tensor;
using V = const std::vector<Tensor>&;

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
