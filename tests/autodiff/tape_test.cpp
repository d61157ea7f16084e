// Tape semantics: what is recorded, how gradients flow and accumulate, what backward frees,
// and that recorded state goes away when nothing can reach it.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <cmath>
#include <thread>

namespace {

using ad::DType;
using ad::Tensor;

Tensor leaf(std::vector<double> v, ad::Shape s) { return ad::tensor(v, s, DType::f64).requires_grad_(); }
Tensor leaf(double v) { return ad::scalar(v, DType::f64).requires_grad_(); }

TEST(Tape, ReusedTensorAccumulates) {
  Tensor x = leaf(3.0);
  Tensor y = x * x + x;  // dy/dx = 2x + 1
  y.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 7.0);
}

TEST(Tape, DiamondGraphSumsBothPaths) {
  Tensor x = leaf(0.5);
  Tensor a = x * 3.0;
  Tensor y = a * a + ad::exp(a);  // dy/dx = 3 (2a + eᵃ)
  y.backward();
  EXPECT_NEAR(x.grad().item(), 3.0 * (2 * 1.5 + std::exp(1.5)), 1e-12);
}

TEST(Tape, InputsThatNeedNoGradientGetNone) {
  Tensor x = leaf({1, 2}, {2});
  Tensor unused = leaf(5.0);
  Tensor w = ad::tensor({3, 4}, {2}, DType::f64);  // a constant
  ad::sum(x * w).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{3, 4}));
  EXPECT_FALSE(unused.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

TEST(Tape, NoGradRecordsNothingAndGuardsNest) {
  Tensor x = leaf(2.0);
  const size_t before = ad::tape_size();
  {
    ad::NoGradGuard outer;
    Tensor y = ad::exp(x) * x;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(ad::tape_size(), before);
    {
      ad::EnableGradGuard on;
      Tensor z = x * 2.0;
      EXPECT_TRUE(z.requires_grad());
      EXPECT_EQ(ad::tape_size(), before + 1);
      {
        ad::NoGradGuard inner;
        EXPECT_FALSE(ad::is_grad_enabled());
      }
      EXPECT_TRUE(ad::is_grad_enabled());
    }
    EXPECT_FALSE(ad::is_grad_enabled());
    EXPECT_EQ(ad::tape_size(), before);  // z died with its scope
  }
  EXPECT_TRUE(ad::is_grad_enabled());
}

TEST(Tape, DetachCutsTheGraph) {
  Tensor x = leaf(3.0);
  Tensor y = x * x;
  Tensor z = y.detach() * x;  // y is a constant here: dz/dx = y = 9, not 3x² = 27
  EXPECT_FALSE(y.detach().requires_grad());
  z.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 9.0);
}

TEST(Tape, LeavesGetGradientsIntermediatesDoNot) {
  Tensor x = leaf(2.0);
  Tensor y = x * 4.0;
  Tensor z = y * y;
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_STREQ(z.op_name(), "mul");
  EXPECT_STREQ(x.op_name(), "leaf");
  z.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 2 * 8.0 * 4.0);
  EXPECT_FALSE(y.grad().defined());
  EXPECT_FALSE(z.grad().defined());
}

TEST(Tape, GradientsAccumulateAcrossCallsUntilZeroGrad) {
  Tensor x = leaf({1, -2}, {2});
  ad::sum(x * x).backward();
  ad::sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2 + 3, -4 + 3}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  ad::sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{3, 3}));
}

TEST(Tape, HeldGradHandleIsNotChangedByLaterAccumulation) {
  Tensor x = leaf(1.0);
  (x * 2.0).backward();
  Tensor held = x.grad();  // a user's handle: accumulation must not write through it
  (x * 5.0).backward();
  EXPECT_DOUBLE_EQ(held.item(), 2.0);
  EXPECT_DOUBLE_EQ(x.grad().item(), 7.0);
}

TEST(Tape, UnsharedGradientsAccumulateInPlace) {
  Tensor x = leaf({1, 2, 3}, {3});
  ad::sum(x * 2.0).backward();
  const void* storage = x.grad().raw_data();  // no handle kept: the gradient stays unshared
  const uint64_t allocs = ad::memory_stats().allocs;
  ad::sum(x * 2.0).backward();
  const uint64_t second = ad::memory_stats().allocs - allocs;
  EXPECT_EQ(x.grad().raw_data(), storage);  // added into, not replaced by a new sum
  ad::sum(x * 2.0).backward();
  EXPECT_EQ(ad::memory_stats().allocs - allocs - second, second);  // each pass allocates the same
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{6, 6, 6}));
}

TEST(Tape, RetainGraphTwiceDoublesTheGradient) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = ad::sum(ad::exp(x) * x);  // dy/dx = eˣ (1 + x)
  y.backward(Tensor(), true);
  y.backward();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(x.grad().to_vector()[i], 2 * std::exp(i + 1.0) * (i + 2.0), 1e-12);
}

TEST(Tape, BackwardOverAFreedGraphThrows) {
  Tensor x = leaf(1.5);
  Tensor y = ad::tanh(x) * 2.0;
  y.backward();
  try {
    y.backward();
    FAIL() << "no exception";
  } catch (const ad::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("freed"), std::string::npos) << e.what();
  }
  EXPECT_NEAR(x.grad().item(), 2.0 * (1 - std::pow(std::tanh(1.5), 2)), 1e-12);  // unchanged by the failed call
}

TEST(Tape, NonScalarBackwardNeedsASeed) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x * x;
  EXPECT_THROW(y.backward(), ad::UsageError);
  y.backward(ad::tensor({1, 10, 100}, {3}, DType::f64));  // seed = dJ/dy
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 40, 600}));
}

TEST(Tape, BackwardFromALeafSeedsItsOwnGradient) {
  Tensor x = leaf(4.0);
  x.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 1.0);
}

TEST(Tape, ConversionBackwardReturnsTheInputDtype) {
  Tensor x = ad::tensor({1, 2}, {2}).requires_grad_();  // float32
  Tensor y = x.to(DType::f64);
  ad::sum(y * y).backward();
  ASSERT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 4}));
}

// 10⁶ recorded ops: backward walks them and destruction frees them without recursion.
TEST(Tape, MillionOpChainBackwardAndDestruction) {
  const size_t before = ad::tape_size();
  Tensor x = leaf(1.0);
  {
    Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y + x;  // y = (10⁶ + 1) x
    EXPECT_EQ(ad::tape_size(), before + 1000000);
    y.backward();
    EXPECT_DOUBLE_EQ(x.grad().item(), 1000001.0);
  }
  EXPECT_EQ(ad::tape_size(), before);
  {
    Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y * 1.0;  // dropped without a backward
  }
  EXPECT_EQ(ad::tape_size(), before);
}

TEST(Tape, RecordsAreReleasedWhenUnreachable) {
  Tensor x = leaf({1, 2}, {2});
  const size_t before = ad::tape_size();
  Tensor loss;
  {
    Tensor h = ad::tanh(x * 2.0);
    loss = ad::sum(h * h);
    EXPECT_EQ(ad::tape_size(), before + 4);
  }
  EXPECT_EQ(ad::tape_size(), before + 4);  // loss reaches all four
  loss.backward();
  EXPECT_EQ(ad::tape_size(), before + 4);  // freed records stay until loss dies
  loss = Tensor();
  EXPECT_EQ(ad::tape_size(), before);
}

// Records dying in the middle of the tape leave holes; when more than half the slots are holes
// the next record compacts them away, renumbering the live records. Records that die after that
// must leave their new slots, and backward must still find every live one.
TEST(Tape, CompactionRenumbersLiveRecords) {
  const size_t base = ad::tape_size();
  Tensor x = leaf(2.0);
  std::vector<Tensor> kept;
  {
    std::vector<Tensor> all;
    for (int i = 0; i < 8000; ++i) all.push_back(x * static_cast<double>(i % 5 + 1));
    for (int i = 0; i < 8000; i += 4) kept.push_back(all[i]);
  }  // 6000 holes among 2000 live records
  Tensor anchor = x * 1.0;  // this record compacts the tape
  std::vector<Tensor> even;
  double want = 0;
  for (size_t k = 0; k < kept.size(); k += 2) even.push_back(kept[k]), want += (4 * k) % 5 + 1;
  kept.clear();  // the odd ones die after the renumbering
  EXPECT_EQ(ad::tape_size(), base + 1000 + 1);
  Tensor total = even[0];
  for (size_t k = 1; k < even.size(); ++k) total = total + even[k];
  {
    std::vector<Tensor> junk;
    for (int i = 0; i < 20000; ++i) junk.push_back(x * 1.0);
  }
  // more holes, then a create_graph pass that records while it walks
  Tensor g = ad::grad({total * total}, {x}, {}, false, true)[0];  // d(T²)/dx = 2 T T'
  EXPECT_DOUBLE_EQ(g.item(), 2 * (want * 2.0) * want);
  total.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), want);
  g = total = anchor = Tensor();
  even.clear();
  EXPECT_EQ(ad::tape_size(), base);
}

// A custom op through the public record_op: y = x, but its backward rule throws.
Tensor throwing_identity(const Tensor& x) {
  return ad::record_op("boom", "dX = ⊥", {x}, x.detach().clone(),
                       [](ad::BackwardContext&) { throw std::runtime_error("rule failed"); });
}

TEST(Tape, ARuleThatThrowsLeavesTheTapeConsistent) {
  Tensor x = leaf(1.0);
  Tensor shared = x * 2.0;
  Tensor a = shared * 5.0;
  Tensor loss = a + throwing_identity(shared);
  EXPECT_THROW(loss.backward(), std::runtime_error);
  EXPECT_TRUE(ad::is_grad_enabled());
  // a's record had a gradient pending when the pass stopped; it must not leak into this pass.
  ad::sum(a).backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 10.0);
  Tensor again = throwing_identity(x * 3.0);
  {
    ad::NoGradGuard off;  // a create_graph pass that throws restores the mode it found
    EXPECT_THROW(ad::grad({again}, {x}, {}, false, true), std::runtime_error);
    EXPECT_FALSE(ad::is_grad_enabled());
  }
}

TEST(Tape, RecordingOnATapeAfterItsThreadExited) {
  Tensor x = leaf(2.0);
  Tensor y;
  std::thread t([&] { y = x * x * x; });  // recorded on t's tape, which outlives t
  t.join();
  EXPECT_THROW(y * 2.0, ad::UsageError);  // mixing two threads' records in one graph
  y.backward();                          // backpropagating t's graph from here is fine
  EXPECT_DOUBLE_EQ(x.grad().item(), 12.0);
}

// ---- higher order ------------------------------------------------------------------------

// f(x) = Σ tanh(A x) + Σ x³ for x (3, 1); its gradient, from ad::grad.
Tensor f_of(const Tensor& x) {
  const Tensor A = ad::tensor({0.5, -1, 0.25, 2, 0.3, -0.7, 1.1, 0.2, -0.4}, {3, 3}, DType::f64);
  return ad::sum(ad::tanh(ad::matmul(A, x))) + ad::sum(x * x * x);
}
std::vector<double> grad_f(const std::vector<double>& at) {
  Tensor x = leaf(at, {3, 1});
  return ad::grad({f_of(x)}, {x})[0].to_vector();
}

TEST(HigherOrder, HessianVectorProductMatchesFiniteDifferences) {
  const std::vector<double> x0 = {0.3, -0.8, 1.2}, v = {1.0, -2.0, 0.5};
  Tensor x = leaf(x0, {3, 1});
  Tensor g = ad::grad({f_of(x)}, {x}, {}, false, true)[0];
  ASSERT_TRUE(g.requires_grad());
  Tensor hv = ad::grad({ad::sum(g * ad::tensor(v, {3, 1}, DType::f64))}, {x})[0];  // H·v
  const double eps = 1e-5;
  std::vector<double> xp = x0, xm = x0;
  for (int i = 0; i < 3; ++i) xp[i] += eps * v[i], xm[i] -= eps * v[i];
  const auto gp = grad_f(xp), gm = grad_f(xm);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(hv.to_vector()[i], (gp[i] - gm[i]) / (2 * eps), 1e-7) << i;
  EXPECT_FALSE(x.grad().defined());  // ad::grad returns gradients, it does not accumulate them
}

TEST(HigherOrder, SecondAndThirdDerivativesOfAPower) {
  Tensor x = leaf(2.0);
  Tensor y = x * x * x * x;  // y' = 4x³, y'' = 12x², y''' = 24x
  Tensor d1 = ad::grad({y}, {x}, {}, false, true)[0];
  Tensor d2 = ad::grad({d1}, {x}, {}, false, true)[0];
  Tensor d3 = ad::grad({d2}, {x})[0];
  EXPECT_DOUBLE_EQ(d1.item(), 32.0);
  EXPECT_DOUBLE_EQ(d2.item(), 48.0);
  EXPECT_DOUBLE_EQ(d3.item(), 48.0);
}

TEST(HigherOrder, GradWithRespectToAnIntermediateAndALeaf) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * x;  // an intermediate
  Tensor z = ad::sum(ad::exp(y) * 3.0);
  auto gs = ad::grad({z}, {y, x, y});
  for (int i = 0; i < 2; ++i) {
    const double xi = i + 1.0;
    EXPECT_NEAR(gs[0].to_vector()[i], 3 * std::exp(xi * xi), 1e-9);
    EXPECT_NEAR(gs[1].to_vector()[i], 3 * std::exp(xi * xi) * 2 * xi, 1e-9);
  }
  EXPECT_EQ(gs[2].to_vector(), gs[0].to_vector());  // the same input twice gets the same gradient
  EXPECT_FALSE(x.grad().defined());
}

TEST(HigherOrder, UnreachedInputsGetZeros) {
  Tensor x = leaf(1.0), w = leaf({1, 2}, {2});
  auto gs = ad::grad({x * 2.0}, {x, w});
  EXPECT_DOUBLE_EQ(gs[0].item(), 2.0);
  EXPECT_EQ(gs[1].to_vector(), (std::vector<double>{0, 0}));
}

// Gradient penalty: P(W) = ‖∂J/∂W‖² with J = Σ tanh(W X); backward through the gradient.
double penalty_at(const std::vector<double>& w, const Tensor& X) {
  Tensor W = leaf(w, {2, 2});
  Tensor g = ad::grad({ad::sum(ad::tanh(ad::matmul(W, X)))}, {W})[0];
  return ad::sum(g * g).item();
}

TEST(HigherOrder, GradientPenaltyMatchesFiniteDifferences) {
  const std::vector<double> w0 = {0.4, -0.3, 0.9, 0.2};
  const Tensor X = ad::tensor({1, -0.5, 0.3, 2, 0.7, -1.2}, {2, 3}, DType::f64);
  Tensor W = leaf(w0, {2, 2});
  Tensor g = ad::grad({ad::sum(ad::tanh(ad::matmul(W, X)))}, {W}, {}, false, true)[0];
  Tensor P = ad::sum(g * g);
  EXPECT_NEAR(P.item(), penalty_at(w0, X), 1e-14);
  P.backward();
  const double eps = 1e-6;
  for (int i = 0; i < 4; ++i) {
    std::vector<double> wp = w0, wm = w0;
    wp[i] += eps, wm[i] -= eps;
    EXPECT_NEAR(W.grad().to_vector()[i], (penalty_at(wp, X) - penalty_at(wm, X)) / (2 * eps), 1e-7) << i;
  }
}

}  // namespace

// add's rule hands the same gradient tensor to both inputs. The leaves may take a gradient
// without copying only when nothing else holds it, so here each must get its own storage, and
// accumulating into one must not change the other.
TEST(Tape, ASharedGradientIsNotAliasedBetweenLeaves) {
  ad::Tensor x = ad::tensor({1, 2}, {2}, ad::DType::f64).requires_grad_();
  ad::Tensor z = ad::tensor({3, 4}, {2}, ad::DType::f64).requires_grad_();
  ad::Tensor y = x + z;
  y.backward(ad::ones({2}, ad::DType::f64), /*retain_graph=*/true);
  EXPECT_NE(x.grad().raw_data(), z.grad().raw_data());
  y.backward(ad::ones({2}, ad::DType::f64));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 2}));
  EXPECT_EQ(z.grad().to_vector(), (std::vector<double>{2, 2}));
}
