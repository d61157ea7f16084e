// Gradient-ready hooks inside compiled steps: a replay fires the hooks the recording saw fire,
// at the same points and in the same order, on the gradients the replayed backward computed;
// adding or removing a hook makes the next call record afresh.
#include <autodiff/autodiff.hpp>

#include <string>
#include <thread>
#include <vector>

#include "compile_util.hpp"

namespace {

using ad::Tensor;
using compile_test::Data;
using compile_test::Net;
using compile_test::same_bits;

// What one hook saw: which parameter, and its gradient's values then.
struct Firing {
  size_t param;
  Tensor grad;
};

// Hooks on every parameter of `net`, each logging its firing (a copy of the gradient, taken
// on the host inside the hook: host code runs again on every replay).
std::vector<ad::HookHandle> log_firings(Net& net, std::vector<Firing>& log) {
  std::vector<ad::HookHandle> hooks;
  const std::vector<Tensor*> params = net.params();
  for (size_t i = 0; i < params.size(); ++i)
    hooks.push_back(ad::on_grad_ready(*params[i], [&log, i](const Tensor& leaf) { log.push_back({i, leaf.grad().clone()}); }));
  return hooks;
}

::testing::AssertionResult same_firings(const std::vector<Firing>& a, const std::vector<Firing>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " firings";
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k].param != b[k].param)
      return ::testing::AssertionFailure() << "firing " << k << ": parameter " << a[k].param << " vs " << b[k].param;
    if (auto same = same_bits(a[k].grad, b[k].grad); !same) return same << " (firing " << k << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(CompileHooks, ReplayFiresEachHookOnceInEagerOrder) {
  for (ad::DType dt : {ad::DType::f32, ad::DType::f64}) {
    Data d(64, dt);
    Net eager(dt), compiled(dt);
    std::vector<Firing> eager_log, compiled_log;
    const auto eager_hooks = log_firings(eager, eager_log);
    const auto compiled_hooks = log_firings(compiled, compiled_log);
    auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); });
    for (int i = 0; i < 4; ++i) {
      eager_log.clear(), compiled_log.clear();
      const Tensor want = eager.step(d.X, d.Y, 0.5);
      EXPECT_TRUE(same_bits(step(d.X, d.Y), want)) << "call " << i;
      EXPECT_EQ(compiled_log.size(), 4u) << "every hook once per call";
      EXPECT_TRUE(same_firings(compiled_log, eager_log)) << "call " << i;
      for (size_t p = 0; p < 4; ++p) EXPECT_TRUE(same_bits(*compiled.params()[p], *eager.params()[p])) << p;
    }
    const ad::CompileStats s = step.stats();
    EXPECT_EQ(s.records, 1u);
    EXPECT_EQ(s.replays, 3u);
    EXPECT_EQ(s.host_calls, 4u) << "one step per hooked leaf";
  }
}

// A hook that changes the gradient (here it halves it, as a clipping hook would) runs on the
// replayed gradient, and what comes after it in the trace reads the changed values.
TEST(CompileHooks, WhatAHookWritesIsSeenByTheRestOfTheReplay) {
  Data d(64);
  Net eager, compiled;
  auto halve = [](const Tensor& leaf) {
    ad::NoGradGuard off;
    leaf.grad().mul_(0.5);
  };
  const ad::HookHandle a = ad::on_grad_ready(eager.W1, halve), b = ad::on_grad_ready(compiled.W1, halve);
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); });
  for (int i = 0; i < 3; ++i) {
    eager.step(d.X, d.Y, 0.5);
    step(d.X, d.Y);
    EXPECT_TRUE(same_bits(compiled.W1, eager.W1)) << "call " << i;
  }
  EXPECT_EQ(step.stats().replays, 2u);
}

// As data-parallel training does: each hook hands its final gradient to a thread of its own,
// which halves it while the backward pass goes on; a host call waits for them all before the
// update. (Two threads writing through the replay's persistent gradients: TSan runs this.)
struct HandOff {
  std::vector<std::thread> workers;
  std::vector<ad::HookHandle> hooks;
  explicit HandOff(Net& net) {
    for (Tensor* p : net.params())
      hooks.push_back(ad::on_grad_ready(*p, [this](const Tensor& leaf) {
        workers.emplace_back([g = leaf.grad()]() mutable {
          ad::NoGradGuard off;
          g.mul_(0.5);
        });
      }));
  }
  ~HandOff() { join(); }
  HandOff(const HandOff&) = delete;
  HandOff& operator=(const HandOff&) = delete;
  void join() {
    for (std::thread& w : workers) w.join();
    workers.clear();
  }
};

Tensor step_with_hand_off(Net& net, HandOff& off, const Tensor& X, const Tensor& Y) {
  Tensor J = net.cost(X, Y);
  J.backward();
  const std::vector<Tensor> params{net.W1, net.b1, net.W2, net.b2};
  ad::host_call("join", params, [&off] { off.join(); });
  ad::NoGradGuard no_grad;
  for (Tensor* p : net.params()) {
    p->sub_(p->grad(), 0.5);
    p->zero_grad();
  }
  return J;
}

TEST(CompileHooks, AHookMayHandTheGradientToAnotherThread) {
  Data d(64);
  Net eager, compiled;
  HandOff eager_off(eager), compiled_off(compiled);
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return step_with_hand_off(compiled, compiled_off, X, Y); });
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(same_bits(step(d.X, d.Y), step_with_hand_off(eager, eager_off, d.X, d.Y))) << "call " << i;
    for (size_t p = 0; p < 4; ++p) EXPECT_TRUE(same_bits(*compiled.params()[p], *eager.params()[p])) << p;
  }
  EXPECT_EQ(step.stats().replays, 3u);
  EXPECT_EQ(step.stats().host_calls, 5u) << "four hook steps and the join";
}

TEST(CompileHooks, AddingOrRemovingAHookRecordsAfresh) {
  Data d(32);
  Net net, other;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return net.step(X, Y, 0.1); });
  int fired = 0;
  step(d.X, d.Y);
  step(d.X, d.Y);
  EXPECT_EQ(step.stats().records, 1u);
  {
    const ad::HookHandle h = ad::on_grad_ready(net.b2, [&](const Tensor&) { ++fired; });
    step(d.X, d.Y);  // the old trace fires no hook: it is dropped, a new one records
    step(d.X, d.Y);
    EXPECT_EQ(fired, 2);
    EXPECT_EQ(step.stats().records, 2u);
    EXPECT_EQ(step.stats().replays, 2u);
    EXPECT_EQ(step.stats().evictions, 1u);
    EXPECT_EQ(step.stats().traces, 1u);
  }
  step(d.X, d.Y);  // removed: the trace that fires it is dropped too
  step(d.X, d.Y);
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(step.stats().records, 3u);
  EXPECT_EQ(step.stats().replays, 3u);
  // Any hook counts, also on a leaf the function never reads.
  const ad::HookHandle elsewhere = ad::on_grad_ready(other.W1, [](const Tensor&) {});
  step(d.X, d.Y);
  EXPECT_EQ(step.stats().records, 4u);
}

// A hook that removes itself while the step records: the recording describes a call with the
// hook, the next call has none, so the trace is not kept (that call counts as eager).
TEST(CompileHooks, AHookRemovedDuringTheRecordingIsNotReplayed) {
  Data d(32);
  Net net;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return net.step(X, Y, 0.1); });
  int fired = 0;
  ad::HookHandle once;
  once = ad::on_grad_ready(net.W2, [&](const Tensor&) {
    ++fired;
    once.remove();
  });
  for (int i = 0; i < 3; ++i) step(d.X, d.Y);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(step.stats().eager_calls, 1u);
  EXPECT_EQ(step.stats().records, 1u);
  EXPECT_EQ(step.stats().replays, 1u);
}

// An argument changes from call to call, and its hooks with it: such calls run eagerly.
TEST(CompileHooks, AHookedArgumentRunsEagerly) {
  auto f = ad::compile([](const Tensor& w) {
    Tensor J = ad::sum(w * w);
    J.backward();
    return J;
  });
  Tensor w = ad::full({3}, 2.0).requires_grad_();
  std::vector<double> seen;
  const ad::HookHandle h = ad::on_grad_ready(w, [&](const Tensor& leaf) { seen.push_back(leaf.grad().to_vector()[0]); });
  f(w);
  w.zero_grad();
  f(w);
  EXPECT_EQ(seen, (std::vector<double>{4.0, 4.0}));
  EXPECT_EQ(f.stats().eager_calls, 2u);
  EXPECT_EQ(f.stats().replays, 0u);
}

// Verify mode runs the call eagerly and compares it with the trace, hook steps included.
TEST(CompileHooks, VerifyModeComparesTheHookSteps) {
  Data d(32);
  Net eager, compiled;
  std::vector<Firing> eager_log, compiled_log;
  const auto eager_hooks = log_firings(eager, eager_log);
  const auto compiled_hooks = log_firings(compiled, compiled_log);
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); },
                          {.verify_every = 2});
  for (int i = 0; i < 5; ++i) {
    eager.step(d.X, d.Y, 0.5);
    step(d.X, d.Y);
  }
  EXPECT_TRUE(same_firings(compiled_log, eager_log));
  EXPECT_EQ(step.stats().verifies, 2u);
  EXPECT_EQ(step.stats().replays, 2u);
  EXPECT_TRUE(same_bits(compiled.W1, eager.W1));
}

}  // namespace
