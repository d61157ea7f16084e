// ad::compile: a replay does what the eager call does, bit for bit: outputs, parameters,
// gradients left on the leaves, random draws, host calls; and allocates nothing.
#include <autodiff/autodiff.hpp>

#include <thread>

#include "compile_util.hpp"

namespace {

using ad::Tensor;
using compile_test::Data;
using compile_test::Net;
using compile_test::same_bits;

TEST(Compile, GradientDescentReplaysBitForBit) {
  for (ad::DType dt : {ad::DType::f32, ad::DType::f64}) {
    Data d(40, dt);
    Net eager(dt), compiled(dt);
    auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); });
    for (int i = 0; i < 20; ++i) {
      Tensor Je = eager.step(d.X, d.Y, 0.5);
      Tensor Jc = step(d.X, d.Y);
      ASSERT_TRUE(same_bits(Je, Jc)) << "step " << i;
    }
    for (size_t k = 0; k < 4; ++k) EXPECT_TRUE(same_bits(*eager.params()[k], *compiled.params()[k]));
    const ad::CompileStats s = step.stats();
    EXPECT_EQ(s.records, 1u);
    EXPECT_EQ(s.replays, 19u);
    EXPECT_EQ(s.traces, 1u);
    EXPECT_GT(s.kernels, 20u);
  }
}

TEST(Compile, ArgumentsAreBoundPerCall) {
  Net eager, compiled;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); });
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Data d(30, ad::DType::f32, seed);
    EXPECT_TRUE(same_bits(eager.step(d.X, d.Y, 0.5), step(d.X, d.Y))) << "data set " << seed;
  }
  EXPECT_EQ(step.stats().records, 1u);
}

// Without zero_grad inside, gradients add up over calls: the first call finds none (one trace),
// the later ones find the previous call's (a second trace, which binds them per call).
TEST(Compile, GradientsAccumulateAcrossCallsAsInEagerMode) {
  Data d(16);
  Net eager, compiled;
  auto forward_backward = [](Net& n, const Tensor& X, const Tensor& Y) {
    Tensor J = n.cost(X, Y);
    J.backward();
    return J;
  };
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return forward_backward(compiled, X, Y); });
  for (int i = 0; i < 4; ++i) {
    forward_backward(eager, d.X, d.Y);
    step(d.X, d.Y);
    for (size_t k = 0; k < 4; ++k) ASSERT_TRUE(same_bits(eager.params()[k]->grad(), compiled.params()[k]->grad())) << i;
  }
  EXPECT_EQ(step.stats().records, 2u);
  EXPECT_EQ(step.stats().replays, 2u);
  // Cleared outside between calls: the first trace fits again.
  eager.W1.zero_grad(), eager.b1.zero_grad(), eager.W2.zero_grad(), eager.b2.zero_grad();
  for (Tensor* p : compiled.params()) p->zero_grad();
  forward_backward(eager, d.X, d.Y);
  step(d.X, d.Y);
  EXPECT_TRUE(same_bits(eager.W1.grad(), compiled.W1.grad()));
  EXPECT_EQ(step.stats().records, 2u);
}

// zero_grad() at the start of the function: whatever the leaves held at entry does not matter,
// and after each call they hold this call's gradients.
TEST(Compile, ZeroGradInsideLeavesThisCallsGradients) {
  Data d(16);
  Net eager, compiled;
  auto run = [](Net& n, const Tensor& X, const Tensor& Y) {
    for (Tensor* p : n.params()) p->zero_grad();
    Tensor J = n.cost(X, Y);
    J.backward();
    ad::NoGradGuard off;
    for (Tensor* p : n.params()) p->sub_(p->grad(), 0.1);
    return J;
  };
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return run(compiled, X, Y); });
  for (int i = 0; i < 5; ++i) {
    run(eager, d.X, d.Y);
    step(d.X, d.Y);
    for (size_t k = 0; k < 4; ++k) {
      ASSERT_TRUE(same_bits(*eager.params()[k], *compiled.params()[k])) << i;
      ASSERT_TRUE(same_bits(eager.params()[k]->grad(), compiled.params()[k]->grad())) << i;
    }
  }
  EXPECT_EQ(step.stats().records, 1u);
}

// An input that requires grad gets its gradient from the replay too.
TEST(Compile, ArgumentsThatRequireGradGetTheirGradient) {
  auto f = [](const Tensor& x) {
    Tensor J = ad::sum(ad::tanh(x) * x);
    J.backward();
    return J;
  };
  auto step = ad::compile(f);
  for (int i = 0; i < 3; ++i) {
    Tensor a = ad::randn({3, 4}).requires_grad_(), b = a.detach().clone().requires_grad_();
    f(a);
    step(b);
    EXPECT_TRUE(same_bits(a.grad(), b.grad())) << i;
  }
  EXPECT_EQ(step.stats().records, 1u);
}

TEST(Compile, ParametersChangedOutsideAreSeen) {
  Tensor W = ad::ones({2, 3});
  auto forward = ad::compile([&](const Tensor& X) {
    ad::NoGradGuard off;
    return ad::matmul(W, X);
  });
  Tensor X = ad::ones({3, 1});
  EXPECT_EQ(forward(X).to_vector(), (std::vector<double>{3, 3}));
  W.fill_(2.0);
  EXPECT_EQ(forward(X).to_vector(), (std::vector<double>{6, 6}));
  W.copy_(ad::tensor({1, 0, 0, 0, 1, 0}, {2, 3}));
  EXPECT_EQ(forward(X).to_vector(), (std::vector<double>{1, 1}));
  EXPECT_EQ(forward.stats().records, 1u);
}

// The returned tensor is the trace's output buffer: the next call overwrites it.
TEST(Compile, OutputsAreStaticBuffers) {
  auto twice = ad::compile([](const Tensor& x) {
    ad::NoGradGuard off;
    return x * 2.0;
  });
  Tensor a = twice(ad::ones({2}));
  Tensor kept = twice(ad::full({2}, 3.0)).clone();
  Tensor b = twice(ad::full({2}, 5.0));
  EXPECT_EQ(b.to_vector(), (std::vector<double>{10, 10}));
  EXPECT_EQ(a.to_vector(), (std::vector<double>{10, 10}));  // the same buffer as b
  EXPECT_EQ(kept.to_vector(), (std::vector<double>{6, 6}));
}

TEST(Compile, RandomDrawsAreDrawnAfreshAsInEagerMode) {
  auto dropout = [](const Tensor& x) {
    ad::NoGradGuard off;
    return x * ad::lt(ad::rand(x.shape()), 0.5);
  };
  auto compiled = ad::compile(dropout);
  Tensor x = ad::ones({64});
  ad::manual_seed(3);
  std::vector<Tensor> eager;
  for (int i = 0; i < 3; ++i) eager.push_back(dropout(x));
  ad::manual_seed(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(eager[static_cast<size_t>(i)], compiled(x))) << i;
  EXPECT_FALSE(same_bits(eager[1], eager[2]));
  EXPECT_EQ(compiled.stats().replays, 2u);
}

// Factories inside the function: constants are kept by the trace, draws are drawn afresh.
TEST(Compile, FactoriesInsideReplay) {
  auto body = [](const Tensor& x) {
    const ad::DType d = x.dtype();
    Tensor c = ad::ones({3, 4}, d) + ad::full({3, 1}, 2.0, d) + ad::scalar(0.5, d) +
               ad::tensor({1, 2, 3, 4}, {1, 4}, d) + ad::zeros_like(x) + ad::ones_like(x);
    Tensor r = ad::rand({3, 4}, d) + ad::randn({3, 1}, d);
    Tensor J = ad::sum(x * (c + r));
    J.backward();
    return J;
  };
  for (ad::DType dt : {ad::DType::f32, ad::DType::f64}) {
    auto compiled = ad::compile(body);
    for (uint64_t call = 0; call < 3; ++call) {
      ad::manual_seed(call);
      Tensor a = ad::randn({3, 4}, dt).requires_grad_(), b = a.detach().clone().requires_grad_();
      ad::manual_seed(40 + call);
      const Tensor want = body(a);
      ad::manual_seed(40 + call);
      EXPECT_TRUE(same_bits(want, compiled(b))) << call;
      EXPECT_TRUE(same_bits(a.grad(), b.grad())) << call;
    }
    EXPECT_EQ(compiled.stats().records, 1u);
  }
}

TEST(Compile, HostCallsRunOnEveryReplay) {
  std::vector<double> seen;
  auto f = ad::compile([&](const Tensor& x) {
    Tensor y;
    {
      ad::NoGradGuard off;
      y = ad::sum(x * x);
    }
    ad::host_call("log", std::span<const Tensor>(&y, 1), [&seen, y] { seen.push_back(y.item()); });
    return y;
  });
  for (double v : {1.0, 2.0, 3.0}) f(ad::full({2}, v));
  EXPECT_EQ(seen, (std::vector<double>{2, 8, 18}));
  EXPECT_EQ(f.stats().host_calls, 1u);
}

// Higher-order gradients inside: ad::grad with create_graph records a graph of the gradient,
// which backward() then walks; the trace holds the kernels of both.
TEST(Compile, GradientsOfGradientsInside) {
  auto penalty = [](const Tensor& w, const Tensor& x) {
    Tensor f = ad::sum(ad::tanh(ad::matmul(w, x)));
    Tensor g = ad::grad({f}, {w}, {}, false, true)[0];
    Tensor J = ad::sum(g * g);
    J.backward();
    return J;
  };
  Tensor w1 = ad::randn({3, 2}).requires_grad_(), w2 = w1.detach().clone().requires_grad_();
  auto step = ad::compile([&](const Tensor& x) { return penalty(w2, x); });
  for (int i = 0; i < 3; ++i) {
    Tensor x = ad::randn({2, 5});
    w1.zero_grad();
    w2.zero_grad();
    EXPECT_TRUE(same_bits(penalty(w1, x), step(x)));
    EXPECT_TRUE(same_bits(w1.grad(), w2.grad())) << i;
  }
  EXPECT_EQ(step.stats().records, 1u);
}

// Steady state: a replay asks the caching allocator for nothing.
TEST(Compile, ReplaysAllocateNothing) {
  Data d(64);
  Net net;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return net.step(X, Y, 0.5); });
  step(d.X, d.Y);
  step(d.X, d.Y);
  const uint64_t before = ad::memory_stats().allocs;
  for (int i = 0; i < 50; ++i) step(d.X, d.Y);
  EXPECT_EQ(ad::memory_stats().allocs, before);
}

// Intermediates share an arena by liveness: never more than the eager call held at once
// (up to the 64-byte alignment of each buffer).
TEST(Compile, ArenaIsNoLargerThanEagerPeak) {
  Data d(400);
  Net net;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return net.step(X, Y, 0.5); });
  step(d.X, d.Y);
  const ad::CompileStats s = step.stats();
  EXPECT_GT(s.intermediate_buffers, 10u);
  EXPECT_GT(s.arena_bytes, 0u);
  EXPECT_LE(s.arena_bytes, s.eager_peak_bytes + 64 * s.intermediate_buffers);
  EXPECT_EQ(s.persistent_buffers, 1u);  // the cost; the gradients are cleared inside
}

TEST(CompileThreads, EachThreadReplaysItsOwnStep) {
  auto train = [](uint64_t seed) {
    Data d(32, ad::DType::f32, seed);
    Net net;
    auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return net.step(X, Y, 0.5); });
    std::vector<double> costs;
    for (int i = 0; i < 200; ++i) costs.push_back(step(d.X, d.Y).item());
    return costs;
  };
  const std::vector<double> one = train(1), two = train(2);
  std::vector<double> a, b;
  std::thread t1([&] { a = train(1); }), t2([&] { b = train(2); });
  t1.join();
  t2.join();
  EXPECT_EQ(a, one);
  EXPECT_EQ(b, two);
}

TEST(Compile, ExplainAndDotShowTheTrace) {
  Data d(8);
  Net net;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return net.step(X, Y, 0.5); });
  EXPECT_THROW(ad::explain(step), ad::UsageError);
  step(d.X, d.Y);
  const std::string text = ad::explain(step);
  EXPECT_NE(text.find("matmul"), std::string::npos) << text;
  EXPECT_NE(text.find("arg0 (2, 8)"), std::string::npos) << text;
  EXPECT_NE(text.find("arena"), std::string::npos) << text;
  EXPECT_NE(text.find("x1.grad"), std::string::npos) << text;
  const std::string dot = ad::to_dot(step);
  EXPECT_EQ(dot.rfind("digraph trace {", 0), 0u);
  EXPECT_NE(dot.find("sigmoid"), std::string::npos);
}

}  // namespace
