// Gradient-ready hooks: each fires once per pass that reaches its leaf, with the leaf's final
// gradient for that pass, at the point autodiff/hooks.hpp defines.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <cmath>
#include <string>
#include <vector>

namespace {

using ad::DType;
using ad::Tensor;

Tensor leaf(double v) { return ad::scalar(v, DType::f64).requires_grad_(); }

// Records every firing: which leaf (by name) and the gradient it held at that moment.
struct Log {
  std::vector<std::string> names;
  std::vector<double> grads;
  ad::HookHandle watch(const Tensor& t, std::string name) {
    return ad::on_grad_ready(t, [this, name](const Tensor& l) {
      names.push_back(name);
      grads.push_back(l.grad().defined() ? l.grad().to_vector()[0] : NAN);
    });
  }
};

TEST(Hooks, LeafUsedSeveralTimesFiresOnceWithItsFinalGradient) {
  Tensor x = leaf(3.0);
  Log log;
  auto h = log.watch(x, "x");
  Tensor y = x * x + x * 2.0 + ad::exp(x);  // dy/dx = 2x + 2 + eˣ, from three records
  y.backward();
  ASSERT_EQ(log.names.size(), 1u);
  EXPECT_NEAR(log.grads[0], 2 * 3.0 + 2 + std::exp(3.0), 1e-12);
}

TEST(Hooks, DiamondFiresAfterBothPathsArrived) {
  Tensor x = leaf(0.5);
  Log log;
  auto h = log.watch(x, "x");
  Tensor a = x * 3.0;
  Tensor y = a * a + ad::exp(a);  // dy/dx = 3 (2a + eᵃ)
  y.backward();
  ASSERT_EQ(log.grads.size(), 1u);
  EXPECT_NEAR(log.grads[0], 3.0 * (2 * 1.5 + std::exp(1.5)), 1e-12);
}

// In a two-layer network the second layer's parameters are final first, while the first
// layer's gradients do not exist yet: that is what lets their all-reduce overlap backward.
TEST(Hooks, LaterLayersFireBeforeEarlierOnesDuringThePass) {
  ad::manual_seed(2);
  Tensor X = ad::randn({2, 5}, DType::f64);
  Tensor W1 = ad::randn({3, 2}, DType::f64).requires_grad_(), b1 = ad::zeros({3, 1}, DType::f64).requires_grad_();
  Tensor W2 = ad::randn({1, 3}, DType::f64).requires_grad_(), b2 = ad::zeros({1, 1}, DType::f64).requires_grad_();
  std::vector<std::string> order;
  bool w1_grad_seen_early = false;
  std::vector<ad::HookHandle> hooks;
  for (auto [t, name] : {std::pair{W1, "W1"}, {b1, "b1"}, {W2, "W2"}, {b2, "b2"}})
    hooks.push_back(ad::on_grad_ready(t, [&, name = std::string(name)](const Tensor&) {
      order.push_back(name);
      if (name == "W2" && W1.grad().defined()) w1_grad_seen_early = true;
    }));
  Tensor J = ad::mean(ad::sigmoid(ad::matmul(W2, ad::tanh(ad::matmul(W1, X) + b1)) + b2));
  J.backward();
  EXPECT_EQ(order, (std::vector<std::string>{"b2", "W2", "b1", "W1"}));
  EXPECT_FALSE(w1_grad_seen_early);
  // What each hook saw is what backward() left: compare with a second pass via ad::grad.
  auto g = ad::grad({ad::mean(ad::sigmoid(ad::matmul(W2, ad::tanh(ad::matmul(W1, X) + b1)) + b2))}, {W1, W2});
  EXPECT_EQ(g[0].to_vector(), W1.grad().to_vector());
  EXPECT_EQ(g[1].to_vector(), W2.grad().to_vector());
}

// A rule fires a leaf's hooks right after it has passed that leaf's gradient, before it goes on
// with its other inputs: a layer's weights are final while dX is still being computed.
TEST(Hooks, FireInsideTheRuleRightAfterTheLeafsGradient) {
  Tensor w = leaf(2.0), x = leaf(3.0);
  Tensor xi = x * 1.0;  // an intermediate: its gradient goes to a record, not to a leaf
  bool fired = false, fired_before_dx = false;
  auto h = ad::on_grad_ready(w, [&](const Tensor&) { fired = true; });
  Tensor y = ad::record_op("w_then_x", "dW = dY·x, dX = dY·w", {w, xi}, ad::scalar(6.0, DType::f64),
                           [&](ad::BackwardContext& c) {
                             c.add(0, c.grad() * 3.0);
                             fired_before_dx = fired;
                             c.add(1, c.grad() * 2.0);
                           });
  y.backward();
  EXPECT_TRUE(fired_before_dx);
  EXPECT_DOUBLE_EQ(w.grad().item(), 3.0);
  EXPECT_DOUBLE_EQ(x.grad().item(), 2.0);
}

TEST(Hooks, ARuleThatPassesAHookedLeafsGradientTwiceIsRefused) {
  Tensor w = leaf(2.0);
  auto twice = [](const Tensor& in) {
    return ad::record_op("twice", "dW = dY + dY", {in}, ad::scalar(0.0, DType::f64), [](ad::BackwardContext& c) {
      c.add(0, c.grad());
      c.add(0, c.grad());
    });
  };
  twice(w).backward();  // without hooks both contributions add up
  EXPECT_DOUBLE_EQ(w.grad().item(), 2.0);
  auto h = ad::on_grad_ready(w, [](const Tensor&) {});
  try {
    twice(w).backward();
    FAIL() << "a second add() for a hooked leaf was accepted";
  } catch (const ad::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("twice: its backward rule passed input 0's gradient twice"), std::string::npos)
        << e.what();
  }
}

TEST(Hooks, UnusedLeafDoesNotFire) {
  Tensor x = leaf(2.0), unused = leaf(5.0);
  Log log;
  auto hx = log.watch(x, "x");
  auto hu = log.watch(unused, "unused");
  (x * x).backward();
  EXPECT_EQ(log.names, (std::vector<std::string>{"x"}));
  EXPECT_FALSE(unused.grad().defined());
}

TEST(Hooks, RetainedGraphFiresOncePerPassWithTheSum) {
  Tensor x = leaf(3.0);
  Log log;
  auto h = log.watch(x, "x");
  Tensor y = x * x;
  y.backward(Tensor(), true);
  y.backward();
  EXPECT_EQ(log.grads, (std::vector<double>{6.0, 12.0}));  // .grad accumulates: 6, then 6 + 6
}

TEST(Hooks, GradFiresNoHookAndLeavesGradAlone) {
  Tensor x = leaf(3.0);
  Log log;
  auto h = log.watch(x, "x");
  auto g = ad::grad({x * x}, {x});
  EXPECT_DOUBLE_EQ(g[0].item(), 6.0);
  EXPECT_TRUE(log.names.empty());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Hooks, LeafAsTheOutputFiresAtSeeding) {
  Tensor x = leaf(3.0);
  Log log;
  auto h = log.watch(x, "x");
  x.backward();
  EXPECT_EQ(log.grads, (std::vector<double>{1.0}));
}

Tensor throwing_identity(const Tensor& x) {
  return ad::record_op("boom", "throws", {x}, x.detach().clone(),
                       [](ad::BackwardContext&) { throw ad::ValueError("boom: backward failed"); });
}

// A rule that throws ends the pass: hooks already fired stay fired, the others do not fire, and
// the next pass counts afresh.
TEST(Hooks, ExceptionMidPassThenACleanPass) {
  Tensor early = leaf(2.0), late = leaf(3.0);
  Log log;
  auto he = log.watch(early, "early");
  auto hl = log.watch(late, "late");
  Tensor y = throwing_identity(late * 1.0) * early;  // early is final before boom runs
  EXPECT_THROW(y.backward(), ad::ValueError);
  EXPECT_EQ(log.names, (std::vector<std::string>{"early"}));
  early.zero_grad();
  (early * late).backward();
  EXPECT_EQ(log.names, (std::vector<std::string>{"early", "early", "late"}));
  EXPECT_EQ(log.grads, (std::vector<double>{3.0, 3.0, 2.0}));
}

TEST(Hooks, ExceptionFromAHookEndsThePassLikeARule) {
  Tensor x = leaf(2.0);
  int calls = 0;
  auto h = ad::on_grad_ready(x, [&](const Tensor&) {
    if (++calls == 1) throw ad::UsageError("hook: refused");
  });
  Tensor y = x * x;
  EXPECT_THROW(y.backward(Tensor(), true), ad::UsageError);
  x.zero_grad();
  y.backward();
  EXPECT_EQ(calls, 2);
  EXPECT_DOUBLE_EQ(x.grad().item(), 4.0);
}

// A rule that passes no gradient on: the record below it never runs, and the leaves waiting on
// it fire at the end of the pass (here with no gradient at all).
TEST(Hooks, LeafBehindARecordThatNeverRunsFiresAtTheEnd) {
  Tensor x = leaf(2.0), z = leaf(5.0);
  Log log;
  auto hx = log.watch(x, "x");
  auto hz = log.watch(z, "z");
  Tensor blocked = ad::record_op("stop", "passes nothing", {x * 3.0}, ad::scalar(1.0, DType::f64),
                                 [](ad::BackwardContext&) {});
  (blocked * z).backward();
  ASSERT_EQ(log.names, (std::vector<std::string>{"z", "x"}));
  EXPECT_DOUBLE_EQ(log.grads[0], 1.0);
  EXPECT_TRUE(std::isnan(log.grads[1]));  // fired, with no gradient delivered
}

TEST(Hooks, HandlesRemoveTheirHookAndRunInRegistrationOrder) {
  Tensor x = leaf(1.0);
  std::vector<int> calls;
  auto first = ad::on_grad_ready(x, [&](const Tensor&) { calls.push_back(1); });
  ad::HookHandle once;
  once = ad::on_grad_ready(x, [&](const Tensor&) {
    calls.push_back(2);
    once.remove();  // a hook may remove itself
  });
  {
    auto scoped = ad::on_grad_ready(x, [&](const Tensor&) { calls.push_back(3); });
    (x * 2.0).backward();
  }
  (x * 2.0).backward();
  first.remove();
  (x * 2.0).backward();
  EXPECT_EQ(calls, (std::vector<int>{1, 2, 3, 1}));
  EXPECT_FALSE(once.active());
}

TEST(Hooks, OnlyLeavesThatRequireGradTakeHooks) {
  Tensor x = leaf(1.0);
  Tensor y = x * x;
  try {
    auto h = ad::on_grad_ready(y, [](const Tensor&) {});
    FAIL() << "a hook on a non-leaf was accepted";
  } catch (const ad::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("is the output of 'mul'"), std::string::npos) << e.what();
  }
  try {
    auto h = ad::on_grad_ready(ad::scalar(1.0), [](const Tensor&) {});
    FAIL() << "a hook on a constant was accepted";
  } catch (const ad::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("does not require grad"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)ad::on_grad_ready(x, ad::GradReadyHook()), ad::UsageError);
}

}  // namespace
