// Anomaly detection: off by default; when on, the first NaN/Inf in a recorded op's output or in
// a gradient throws AnomalyError naming the op, its shapes and where it sits on the tape.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <thread>

namespace {

using ad::Tensor;
using ::testing::HasSubstr;

// The message of the AnomalyError `f` throws (fails the test when it throws nothing or else).
template <class F>
std::string anomaly_message(F&& f) {
  try {
    f();
  } catch (const ad::AnomalyError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no AnomalyError";
  return {};
}

TEST(Anomaly, OffByDefaultNonFiniteValuesFlowThrough) {
  EXPECT_FALSE(ad::is_anomaly_enabled());
  Tensor x = ad::tensor({0.0, 1.0}, {2}).requires_grad_();
  Tensor y = ad::log(x);
  EXPECT_EQ(y.to_vector()[0], -std::numeric_limits<double>::infinity());
}

TEST(Anomaly, ForwardNamesTheOpTheValueAndTheInputs) {
  ad::DetectAnomalyGuard on;
  Tensor x = ad::tensor({1.0, 2.0, 0.0, 4.0}, {2, 2}).requires_grad_();
  const std::string msg = anomaly_message([&] { (void)ad::log(x); });
  EXPECT_THAT(msg, HasSubstr("'log'"));
  EXPECT_THAT(msg, HasSubstr("-Inf at [1, 0]"));        // the element, as a multi-index
  EXPECT_THAT(msg, HasSubstr("output (2, 2) float32"));
  EXPECT_THAT(msg, HasSubstr("input 0: (2, 2) float32, a leaf that requires grad"));
  EXPECT_THAT(msg, HasSubstr("during forward"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("check your data")));  // the op made it, not its input
}

TEST(Anomaly, ForwardGivesTheSequenceNumberAndTheOpsBeforeIt) {
  ad::DetectAnomalyGuard on;
  Tensor W = ad::tensor({1.0, -1.0}, {1, 2}, ad::DType::f64).requires_grad_();
  Tensor X = ad::tensor({1.0, 1.0}, {2, 1}, ad::DType::f64);
  Tensor Z = ad::matmul(W, X);  // 0
  Tensor A = Z * 1.0;           // still 0
  const std::string msg = anomaly_message([&] { (void)ad::pow(A, -1.0); });  // 1/0
  EXPECT_THAT(msg, HasSubstr("'pow'"));
  EXPECT_THAT(msg, HasSubstr("+Inf at [0, 0]"));
  EXPECT_THAT(msg, HasSubstr("float64"));
  EXPECT_THAT(msg, HasSubstr("from op #"));  // its input came from a recorded op, by number
  EXPECT_THAT(msg, HasSubstr("ops recorded just before it: "));
  EXPECT_THAT(msg, HasSubstr(" matmul"));
  EXPECT_THAT(msg, HasSubstr(A.op_name()));
  // The op number in the message is the record's: the input's producer has a smaller one.
  EXPECT_THAT(msg, ::testing::ContainsRegex("'pow' \\(op #[0-9]+ on this thread's tape\\)"));
}

TEST(Anomaly, ForwardNaNFromSqrtOfNegative) {
  ad::DetectAnomalyGuard on;
  Tensor x = ad::tensor({4.0, -1.0, 9.0}, {3}).requires_grad_();
  const std::string msg = anomaly_message([&] { (void)ad::sqrt(x); });
  EXPECT_THAT(msg, HasSubstr("'sqrt'"));
  EXPECT_THAT(msg, HasSubstr("NaN at [1]"));
}

TEST(Anomaly, AnInputThatAlreadyHoldsNaNIsPointedOut) {
  ad::DetectAnomalyGuard on;
  Tensor x = ad::tensor({1.0, std::nan("")}, {2}).requires_grad_();
  const std::string msg = anomaly_message([&] { (void)(x * 2.0); });
  EXPECT_THAT(msg, HasSubstr("already holds NaN at [1]"));
  EXPECT_THAT(msg, HasSubstr("check your data or leaves"));
}

TEST(Anomaly, BackwardNamesTheRuleThatMadeTheFirstBadGradient) {
  ad::DetectAnomalyGuard on;
  // sqrt is finite at 0 but its derivative 1/(2·sqrt(x)) is not.
  Tensor x = ad::tensor({0.0, 4.0}, {2, 1}, ad::DType::f64).requires_grad_();
  Tensor J = ad::sum(ad::sqrt(x) * 3.0);
  const std::string msg = anomaly_message([&] { J.backward(); });
  EXPECT_THAT(msg, HasSubstr("backward rule of 'sqrt'"));
  EXPECT_THAT(msg, HasSubstr("gave input 0 a gradient (2, 1) with +Inf at [0, 0]"));
  EXPECT_THAT(msg, HasSubstr("flowing into its output (2, 1) was finite"));
  EXPECT_THAT(msg, HasSubstr("input 0: (2, 1) float64, a leaf that requires grad"));
  EXPECT_THAT(msg, HasSubstr("backward rules run just before it: "));
  EXPECT_THAT(msg, HasSubstr(" sum"));
  EXPECT_FALSE(x.grad().defined());  // nothing bad reached the leaf
}

TEST(Anomaly, AfterAnErrorTheTapeIsCleanAndWorkGoesOn) {
  Tensor x = ad::tensor({0.0, 4.0}, {2}).requires_grad_();
  const size_t before = ad::tape_size();
  {
    ad::DetectAnomalyGuard on;
    (void)anomaly_message([&] { (void)ad::log(x); });
    EXPECT_EQ(ad::tape_size(), before);  // the throwing op's record died with its output
    Tensor J = ad::sum(ad::sqrt(x));
    (void)anomaly_message([&] { J.backward(); });
  }
  Tensor J = ad::sum(x * x);  // a fresh graph backpropagates normally
  x.zero_grad();
  J.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0.0, 8.0}));
}

TEST(Anomaly, GuardsNestAndRestore) {
  Tensor x = ad::tensor({0.0}, {1}).requires_grad_();
  {
    ad::DetectAnomalyGuard on;
    EXPECT_TRUE(ad::is_anomaly_enabled());
    {
      ad::DetectAnomalyGuard off(false);
      EXPECT_FALSE(ad::is_anomaly_enabled());
      EXPECT_NO_THROW((void)ad::log(x));
    }
    EXPECT_TRUE(ad::is_anomaly_enabled());
    EXPECT_THROW((void)ad::log(x), ad::AnomalyError);
  }
  EXPECT_FALSE(ad::is_anomaly_enabled());
  EXPECT_NO_THROW((void)ad::log(x));
}

TEST(Anomaly, AGuardIsPerThreadAndTheSwitchIsGlobal) {
  Tensor x = ad::tensor({0.0}, {1}).requires_grad_();
  ad::DetectAnomalyGuard on;
  bool threw = true;
  std::thread t([&] {
    Tensor y = ad::tensor({0.0}, {1}).requires_grad_();
    try {
      (void)ad::log(y);
      threw = false;
    } catch (const ad::AnomalyError&) {
    }
  });
  t.join();
  EXPECT_FALSE(threw) << "a guard on the main thread reached another thread";

  ad::set_detect_anomaly(true);
  bool enabled_there = false;
  std::thread u([&] { enabled_there = ad::is_anomaly_enabled(); });
  u.join();
  ad::set_detect_anomaly(false);
  EXPECT_TRUE(enabled_there);
  EXPECT_TRUE(ad::is_anomaly_enabled());  // this thread's guard still holds
}

TEST(Anomaly, IsAnAdError) {
  ad::DetectAnomalyGuard on;
  Tensor x = ad::tensor({-1.0}, {1}).requires_grad_();
  EXPECT_THROW((void)ad::log(x), ad::Error);
}

TEST(Anomaly, FiniteTrainingStepsPassUntouched) {
  ad::DetectAnomalyGuard on;
  ad::manual_seed(3);
  Tensor W = ad::randn({3, 4}).requires_grad_(), b = ad::zeros({3, 1}).requires_grad_();
  Tensor X = ad::randn({4, 8});
  Tensor J = ad::mean(ad::log_softmax(ad::matmul(W, X) + b, 0));
  EXPECT_NO_THROW(J.backward());
  EXPECT_TRUE(W.grad().defined());
}

}  // namespace
