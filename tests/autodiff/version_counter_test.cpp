// The version counter: every in-place change of a tensor's values is counted, and a backward
// rule that saved a tensor refuses to run on values changed since (UsageError naming the op and
// the tensor) instead of returning a gradient computed from them, as LibTorch does. Changes a
// rule does not read, and changes after backward, stay legal.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <string>
#include <vector>

namespace {

using ad::DType;
using ad::Tensor;

Tensor leaf(const std::vector<double>& v) { return ad::tensor(v, {static_cast<int64_t>(v.size())}, DType::f64).requires_grad_(); }

// The message of the UsageError `f` throws; fails the test on anything else.
template <class F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const ad::UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return "";
}

void expect_words(const std::string& msg, const std::vector<std::string>& words) {
  for (const std::string& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
}

TEST(VersionCounter, CountsInPlaceChangesSharedByDetach) {
  Tensor t = ad::zeros({3});
  EXPECT_EQ(t.version(), 0u) << "a new tensor has not been changed";
  t.fill_(1.0);
  t.copy_(ad::ones({3}));
  t.add_(ad::ones({3}));
  t.mul_(2.0);
  t.add_(ad::ones({3}), 0.5);
  EXPECT_EQ(t.version(), 5u);
  Tensor d = t.detach();
  d.fill_(0.0);
  EXPECT_EQ(t.version(), 6u) << "a detach() shares the storage, so it shares the count";
  EXPECT_EQ((t + 1.0).version(), 0u);
  EXPECT_THROW(t.add_(ad::ones({4})), ad::ShapeError);
  EXPECT_EQ(t.version(), 6u) << "a refused change is not counted";
}

TEST(VersionCounter, LeafChangedBeforeBackwardThrowsNamingIt) {
  Tensor w = leaf({1, 2});
  Tensor J = ad::sum(w * w);  // dJ/dw = 2w reads w
  {
    ad::NoGradGuard off;
    w.fill_(3.0);
  }
  expect_words(usage_error([&] { J.backward(); }),
               {"mul", "the leaf (2,)", "changed in place", "version 0 when saved, 1 now", "after backward()"});
  EXPECT_FALSE(w.grad().defined()) << "no stale gradient was delivered";
  Tensor J2 = ad::sum(w * w);  // the tape is usable again: a fresh forward gives 2·3
  J2.backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{6, 6}));
}

TEST(VersionCounter, AReusedInputBufferThrowsInItsReader) {
  Tensor W = ad::ones({2, 3}, DType::f64).requires_grad_();
  Tensor X = ad::ones({3, 4}, DType::f64);  // a data batch: dW = dZ·Xᵀ needs it
  Tensor J = ad::sum(ad::matmul(W, X));
  X.copy_(ad::full({3, 4}, 2.0, DType::f64));  // the next batch, loaded into the same tensor
  expect_words(usage_error([&] { J.backward(); }), {"matmul", "the tensor (3, 4)", "changed in place"});
}

TEST(VersionCounter, TheOutputARuleReadsIsCheckedToo) {
  Tensor x = leaf({0, 1});
  Tensor y = ad::exp(x);  // dX = dY ⊙ y reads the output
  y.detach().fill_(0.0);
  expect_words(usage_error([&] { ad::sum(y).backward(); }), {"exp", "its output (2,)", "changed in place"});
}

TEST(VersionCounter, AMaskChangedBeforeBackwardThrows) {
  Tensor a = leaf({1, 2}), b = leaf({3, 4});
  Tensor mask = ad::tensor({1, 0}, {2}, DType::f64);
  Tensor J = ad::sum(ad::where(mask, a, b));
  mask.fill_(1.0);
  expect_words(usage_error([&] { J.backward(); }), {"where", "changed in place"});
}

// The legal patterns: what a rule does not read may change; so may anything after backward.
TEST(VersionCounter, ChangesNoRuleReadsKeepWorking) {
  Tensor w = leaf({1, 2}), x = ad::tensor({5, 7}, {2}, DType::f64);
  Tensor J = ad::sum(w + x);  // add reads neither operand
  x.fill_(0.0);
  {
    ad::NoGradGuard off;
    w.fill_(9.0);
  }
  J.backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{1, 1}));

  w.zero_grad();
  Tensor K = ad::sum(w * ad::tensor({5, 7}, {2}, DType::f64));  // dw = x: w itself is not read
  {
    ad::NoGradGuard off;
    w.fill_(-1.0);
  }
  K.backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{5, 7}));
}

TEST(VersionCounter, ChangesWithNoPendingBackwardKeepWorking) {
  Tensor w = leaf({1, 2});
  for (int step = 0; step < 3; ++step) {  // forward, backward, in-place update: gradient descent
    w.zero_grad();
    Tensor J = ad::sum(w * w);
    J.backward();
    ad::NoGradGuard off;
    w.add_(w.grad(), -0.25);  // w := w − ¼·2w = w/2
  }
  EXPECT_EQ(w.to_vector(), (std::vector<double>{0.125, 0.25}));
  {
    ad::NoGradGuard off;  // no graph pending: any change is fine
    w.fill_(1.0);
    w.copy_(ad::tensor({2, 2}, {2}, DType::f64));
  }
  w.zero_grad();
  Tensor J = ad::sum(ad::log(w));
  J.backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{0.5, 0.5}));
}

TEST(VersionCounter, RetainedGraphsSeeChangesMadeBetweenPasses) {
  Tensor w = leaf({2, 4});
  Tensor J = ad::sum(ad::pow(w, 3.0));
  J.backward({}, true);
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{12, 48}));
  {
    ad::NoGradGuard off;
    w.mul_(0.5);
  }
  expect_words(usage_error([&] { J.backward(); }), {"pow", "the leaf (2,)", "version 0 when saved, 1 now"});
}

}  // namespace
