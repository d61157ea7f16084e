// ad::compile's signature and guards: what makes a new trace, what the cache keeps, what is
// refused at record time, and what verify mode catches.
#include <autodiff/autodiff.hpp>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>

#include "compile_util.hpp"

namespace {

using ad::Tensor;
using compile_test::Data;
using compile_test::Net;
using compile_test::same_bits;

// Runs f, which must throw E with every one of `words` in its message.
template <class E, class F>
void expect_error(F f, std::initializer_list<const char*> words) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const char* w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
  }
}

Tensor no_grad_square(const Tensor& x) {
  ad::NoGradGuard off;
  return x * x;
}

TEST(CompileGuard, ANewShapeRecordsANewTrace) {
  Net eager, compiled;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); });
  for (int64_t m : {40, 30, 40, 30, 7}) {
    Data d(m);
    EXPECT_TRUE(same_bits(eager.step(d.X, d.Y, 0.5), step(d.X, d.Y))) << m;
  }
  const ad::CompileStats s = step.stats();
  EXPECT_EQ(s.records, 3u);
  EXPECT_EQ(s.replays, 2u);
  EXPECT_EQ(s.traces, 3u);
}

TEST(CompileGuard, DTypeAndRequiresGradArePartOfTheSignature) {
  auto f = ad::compile(no_grad_square);
  f(ad::ones({2}));
  f(ad::ones({2}, ad::DType::f64));
  f(ad::ones({2}).requires_grad_());
  f(ad::ones({2}));
  EXPECT_EQ(f.stats().records, 3u);
  EXPECT_EQ(f.stats().replays, 1u);
}

TEST(CompileGuard, TheCacheBoundEvictsTheLeastRecentlyUsed) {
  auto f = ad::compile(no_grad_square, {.max_traces = 2});
  for (int64_t n : {1, 2, 1, 3, 1, 2}) f(ad::ones({n}));  // 2 is evicted by 3, then recorded again
  const ad::CompileStats s = f.stats();
  EXPECT_EQ(s.records, 4u);
  EXPECT_EQ(s.replays, 2u);
  EXPECT_EQ(s.traces, 2u);
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_THROW(ad::compile(no_grad_square, {.max_traces = 0}), ad::ValueError);
}

TEST(CompileGuard, GradModeIsPartOfTheSignature) {
  Tensor w = ad::ones({2}).requires_grad_();
  auto f = ad::compile([&](const Tensor& x) {
    Tensor y = ad::sum(w * x);
    if (y.requires_grad()) y.backward();
    return y;
  });
  f(ad::ones({2}));
  {
    ad::NoGradGuard off;
    f(ad::ones({2}));
  }
  EXPECT_EQ(f.stats().records, 2u);
}

// A tensor the function reads is captured by handle; when the caller lets go of it (a variable
// the function reads was given a new tensor), the trace is stale and the next call records.
TEST(CompileGuard, AReplacedTensorLeadsToANewTrace) {
  Tensor W = ad::ones({2, 2});
  auto f = ad::compile([&](const Tensor& x) {
    ad::NoGradGuard off;
    return ad::matmul(W, x);
  });
  f(ad::ones({2, 1}));
  W = ad::full({2, 2}, 3.0);
  EXPECT_EQ(f(ad::ones({2, 1})).to_vector(), (std::vector<double>{6, 6}));
  EXPECT_EQ(f.stats().records, 2u);
  EXPECT_EQ(f.stats().evictions, 1u);
}

TEST(CompileGuard, FreezingAParameterLeadsToANewTrace) {
  Data d(8);
  Net eager, compiled;
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y, 0.5); });
  step(d.X, d.Y);
  eager.step(d.X, d.Y, 0.5);
  compiled.W1.requires_grad_(false);
  eager.W1.requires_grad_(false);
  EXPECT_TRUE(same_bits(eager.step(d.X, d.Y, 0.5), step(d.X, d.Y)));
  EXPECT_TRUE(same_bits(eager.W2, compiled.W2));
  EXPECT_EQ(step.stats().records, 2u);
}

TEST(CompileGuard, ReadingValuesWhileRecordingIsRefused) {
  Tensor w = ad::ones({3}).requires_grad_();
  auto with_item = ad::compile([&](const Tensor& x) {
    Tensor J = ad::mean(w * x);
    if (J.item() > 0) J.backward();  // a branch on a value: the replay could not take it
    return J;
  });
  expect_error<ad::UsageError>([&] { with_item(ad::ones({3})); }, {"item", "'mean'", "ad::compile", "host_call"});
  auto with_data = ad::compile([](const Tensor& x) {
    ad::NoGradGuard off;
    Tensor y = ad::exp(x);
    (void)y.data<float>()[0];
    return y;
  });
  expect_error<ad::UsageError>([&] { with_data(ad::ones({3})); }, {"data", "'exp'"});
  auto with_print = ad::compile([](const Tensor& x) {
    std::ostringstream os;
    os << x;
    return x.clone();
  });
  expect_error<ad::UsageError>([&] { with_print(ad::ones({3})); }, {"argument 0"});
  EXPECT_EQ(with_item.stats().records, 0u);
}

TEST(CompileGuard, AnOutputWithAGraphIsRefused) {
  Tensor w = ad::ones({3}).requires_grad_();
  auto f = ad::compile([&](const Tensor& x) { return w * x; });
  expect_error<ad::UsageError>([&] { f(ad::ones({3})); }, {"output 0", "'mul'", "backward()", "NoGradGuard"});
}

TEST(CompileGuard, AnArgumentWithAGraphIsRefused) {
  Tensor w = ad::ones({3}).requires_grad_();
  auto f = ad::compile(no_grad_square);
  expect_error<ad::UsageError>([&] { f(w * 2.0); }, {"argument 0", "'affine'", "detach()"});
}

TEST(CompileGuard, AnOutputFedBackIsRefused) {
  auto f = ad::compile(no_grad_square);
  Tensor y = f(ad::ones({2}));
  expect_error<ad::UsageError>([&] { f(y); }, {"argument 0", "clone()"});
  EXPECT_NO_THROW(f(y.clone()));
}

TEST(CompileGuard, AHostCallMustNotTouchArguments) {
  auto f = ad::compile([](const Tensor& x) {
    ad::host_call("peek", std::span<const Tensor>(&x, 1), [] {});
    return no_grad_square(x);
  });
  expect_error<ad::UsageError>([&] { f(ad::ones({2})); }, {"host_call 'peek'", "argument 0"});
}

// Recursion is the single-thread form of two threads sharing one compiled function.
TEST(CompileGuard, ACallFromInsideItselfIsRefused) {
  std::function<Tensor(const Tensor&)> body;
  auto g = ad::compile([&](const Tensor& x) { return body(x); });
  body = [&](const Tensor& x) { return g(x); };
  expect_error<ad::UsageError>([&] { g(ad::ones({2})); }, {"while a call of it is running"});
}

TEST(CompileGuard, VerifyCatchesAChangedScalar) {
  double scale = 2.0;
  auto f = ad::compile(
      [&](const Tensor& x) {
        ad::NoGradGuard off;
        return ad::exp(x) * scale;  // scale is frozen into the trace's 'affine' kernel
      },
      {.verify_every = 2});
  Tensor x = ad::ones({4});
  f(x);  // records
  f(x);  // replays
  f(x);  // verifies: nothing changed
  scale = 3.0;
  f(x);  // replays the stale trace: what verify mode is there to catch
  expect_error<ad::TraceMismatchError>([&] { f(x); }, {"step #2", "'affine'", "values differ", "element 0"});
  EXPECT_EQ(f.stats().traces, 0u);
  EXPECT_EQ(f.stats().verifies, 2u);
  EXPECT_FLOAT_EQ(static_cast<float>(f(x).to_vector()[0]), static_cast<float>(3.0 * std::exp(1.0)));
}

TEST(CompileGuard, VerifyCatchesABranch) {
  bool use_exp = true;
  auto f = ad::compile(
      [&](const Tensor& x) {
        ad::NoGradGuard off;
        return use_exp ? ad::exp(x) : ad::log(x);
      },
      {.verify_every = 1});
  f(ad::ones({2}));
  f(ad::ones({2}));
  use_exp = false;
  expect_error<ad::TraceMismatchError>([&] { f(ad::ones({2})); }, {"step #1", "'log'", "the trace has 'exp'"});
  EXPECT_EQ(f.stats().verifies, 2u);
}

TEST(CompileGuard, VerifyLeavesTheRandomStreamAlone) {
  auto dropout = [](const Tensor& x) {
    ad::NoGradGuard off;
    return x * ad::lt(ad::rand(x.shape()), 0.5);
  };
  auto f = ad::compile(dropout, {.verify_every = 1});
  Tensor x = ad::ones({32});
  ad::manual_seed(9);
  Tensor a = dropout(x).clone(), b = dropout(x).clone();
  ad::manual_seed(9);
  EXPECT_TRUE(same_bits(f(x), a));
  EXPECT_TRUE(same_bits(f(x), b));
}

TEST(CompileGuard, AnomalyModeRunsEagerly) {
  auto f = ad::compile([](const Tensor& x) {
    Tensor J = ad::sum(ad::log(x));
    J.backward();
    return J;
  });
  Tensor x = ad::ones({2}).requires_grad_();
  f(x);
  ad::DetectAnomalyGuard on;
  expect_error<ad::AnomalyError>([&] { f(ad::full({2}, -1.0).requires_grad_()); }, {"log"});
  EXPECT_EQ(f.stats().eager_calls, 1u);
}

TEST(CompileGuard, ACompiledFunctionInsideAnotherRunsInline) {
  auto inner = ad::compile(no_grad_square);
  auto outer = ad::compile([&](const Tensor& x) { return inner(x) + 1.0; });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(outer(ad::full({1}, 2.0)).to_vector()[0], 5.0);
  EXPECT_EQ(inner.stats().eager_calls, 1u);
  EXPECT_EQ(outer.stats().replays, 2u);
}

}  // namespace
