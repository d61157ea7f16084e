// Every user mistake the core can see outside the ops throws an ad::Error subclass whose message
// names the call and the shapes or dtypes involved; each case checks the type and the message.
// (The ops' own misuses are rows of the op table, op_table_test.cpp.)
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <functional>
#include <thread>

namespace {

using ad::DType;
using ad::Tensor;

// Runs f, expecting an E whose message contains every one of `parts`.
template <class E>
void expect_error(const std::function<void()>& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << *parts.begin();
  } catch (const E& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\n  lacks: " << p;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

TEST(Errors, AllAreAdErrors) {
  static_assert(std::is_base_of_v<ad::Error, ad::ShapeError> && std::is_base_of_v<ad::Error, ad::DTypeError> &&
                std::is_base_of_v<ad::Error, ad::UsageError> && std::is_base_of_v<ad::Error, ad::ValueError>);
}

TEST(Errors, Factories) {
  expect_error<ad::ShapeError>([] { ad::tensor({1, 2, 3}, {2, 2}); }, {"tensor", "3 values", "(2, 2)", "4 elements"});
  expect_error<ad::ValueError>([] { ad::zeros({2, -1}); }, {"zeros", "(2, -1)", "negative"});
  expect_error<ad::ValueError>([] { ad::ones({-3}); }, {"ones", "negative"});
  expect_error<ad::ValueError>([] { ad::full({-1, 2}, 1.0); }, {"full", "negative"});
  expect_error<ad::ValueError>([] { ad::randn({-2}); }, {"randn", "(-2,)"});
  expect_error<ad::ValueError>([] { ad::rand({4, -2}); }, {"rand", "(4, -2)"});
  expect_error<ad::ValueError>([] { ad::tensor({}, {0, -1}); }, {"tensor", "negative"});
  expect_error<ad::ValueError>([] { ad::empty({int64_t{1} << 40, int64_t{1} << 40}); }, {"empty", "too large"});
  expect_error<ad::ShapeError>([] { ad::zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}); }, {"at most 8 dims"});
}

TEST(Errors, Accessors) {
  Tensor a = ad::ones({2, 3});
  expect_error<ad::ShapeError>([&] { a.item(); }, {"item", "(2, 3)", "6 elements"});
  expect_error<ad::ShapeError>([&] { ad::zeros({0}).item(); }, {"item", "0 elements"});
  expect_error<ad::DTypeError>([&] { a.data<double>(); }, {"data<float64>", "float32"});
  expect_error<ad::DTypeError>([&] { std::as_const(a).data<double>(); }, {"data<float64>", "float32"});
  expect_error<ad::DTypeError>([] { ad::ones({1}, DType::f64).data<float>(); }, {"data<float32>", "float64"});
  expect_error<ad::ShapeError>([&] { a.size(2); }, {"size", "dim 2", "(2, 3)"});
  expect_error<ad::ShapeError>([&] { a.size(-3); }, {"size", "dim -3"});
  expect_error<ad::UsageError>([] { Tensor().shape(); }, {"undefined"});
  expect_error<ad::UsageError>([] { Tensor().to_vector(); }, {"undefined"});
}

TEST(Errors, InPlaceWrites) {
  Tensor w = ad::ones({2, 2}).requires_grad_();
  expect_error<ad::UsageError>([&] { w.copy_(ad::zeros({2, 2})); }, {"copy_", "(2, 2)", "NoGradGuard"});
  expect_error<ad::UsageError>([&] { w.fill_(0.0); }, {"fill_", "NoGradGuard"});
  {
    ad::NoGradGuard no_grad;  // the optimizer's way: allowed
    w.copy_(ad::full({2}, 3.0));  // broadcast over rows
    EXPECT_EQ(w.to_vector(), (std::vector<double>{3, 3, 3, 3}));
  }
  Tensor y = w * 2.0;
  expect_error<ad::UsageError>([&] { y.copy_(ad::zeros({2, 2})); }, {"copy_", "output of 'affine'", "detach"});
  {
    ad::NoGradGuard no_grad;  // still wrong: y's record would compute a wrong gradient
    expect_error<ad::UsageError>([&] { y.fill_(1.0); }, {"fill_", "output of 'affine'"});
  }
  Tensor c = ad::zeros({2, 2});
  expect_error<ad::DTypeError>([&] { c.copy_(ad::zeros({2, 2}, DType::f64)); }, {"copy_", "float64", "float32"});
  expect_error<ad::ShapeError>([&] { c.copy_(ad::zeros({3})); }, {"copy_", "(3,)", "(2, 2)"});
  expect_error<ad::ShapeError>([&] { c.copy_(ad::zeros({2, 2, 2})); }, {"copy_", "(2, 2, 2)", "(2, 2)"});
}

TEST(Errors, GradientsOfLeaves) {
  Tensor w = ad::ones({2, 2}).requires_grad_();
  Tensor y = w * 2.0;
  expect_error<ad::UsageError>([&] { y.requires_grad_(false); }, {"requires_grad_", "affine", "not a leaf", "detach"});
  expect_error<ad::ShapeError>([&] { w.set_grad(ad::ones({4})); }, {"set_grad", "(4,)", "(2, 2)"});
  expect_error<ad::DTypeError>([&] { w.set_grad(ad::ones({2, 2}, DType::f64)); }, {"set_grad", "float64", "float32"});
}

TEST(Errors, BackwardMisuse) {
  Tensor x = ad::ones({3}).requires_grad_();
  Tensor y = x * 2.0;
  expect_error<ad::UsageError>([&] { y.backward(); }, {"backward", "(3,)", "not a scalar", "seed"});
  expect_error<ad::ShapeError>([&] { y.backward(ad::ones({2})); }, {"backward", "seed is (2,)", "output is (3,)"});
  expect_error<ad::DTypeError>([&] { y.backward(ad::ones({3}, DType::f64)); }, {"backward", "float64", "float32"});
  expect_error<ad::UsageError>([] { ad::ones({2}).backward(); }, {"backward", "(2,)", "does not require grad"});
  expect_error<ad::UsageError>([] { Tensor().backward(); }, {"backward", "undefined"});
  Tensor s = ad::sum(y);
  s.backward();
  expect_error<ad::UsageError>([&] { s.backward(); }, {"backward", "'sum'", "freed", "retain_graph"});
  expect_error<ad::UsageError>([&] { ad::sum(y * 3.0).backward(); }, {"'affine' (3,)", "freed"});
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 2, 2}));  // failed calls added nothing
}

TEST(Errors, GradMisuse) {
  Tensor x = ad::ones({2}).requires_grad_();
  Tensor c = ad::ones({2});
  Tensor y = ad::sum(x * c);
  expect_error<ad::UsageError>([&] { ad::grad({y}, {x, c}); }, {"grad", "input 1", "(2,)", "does not require grad"});
  expect_error<ad::UsageError>([&] { ad::grad({y}, {Tensor()}); }, {"grad", "input 0", "undefined"});
  expect_error<ad::UsageError>([&] { ad::grad({}, {x}); }, {"grad", "no outputs"});
  expect_error<ad::UsageError>([&] { ad::grad({y, y}, {x}, {ad::scalar(1.0)}); }, {"grad", "2 outputs", "1 seeds"});
  expect_error<ad::UsageError>([&] { ad::grad({x * 2.0}, {x}); }, {"grad", "(2,)", "not a scalar"});
  EXPECT_EQ(ad::grad({y}, {x})[0].to_vector(), (std::vector<double>{1, 1}));  // nothing left marked
}

// Custom ops through record_op: the engine checks what their backward rules hand it.
TEST(Errors, BackwardRulesAreChecked) {
  Tensor x = ad::ones({2, 3}).requires_grad_();
  auto op = [&](const char* name, std::function<void(ad::BackwardContext&)> rule, bool save = false) {
    return ad::record_op(name, "", {x}, x.detach().clone(), std::move(rule), save);
  };
  expect_error<ad::ShapeError>([&] { ad::sum(op("bad_shape", [](auto& c) { c.add(0, ad::ones({3, 2})); })).backward(); },
                               {"bad_shape", "input 0", "(3, 2)", "(2, 3)"});
  expect_error<ad::DTypeError>(
      [&] { ad::sum(op("bad_dtype", [](auto& c) { c.add(0, ad::ones({2, 3}, DType::f64)); })).backward(); },
      {"bad_dtype", "input 0", "float64", "float32"});
  expect_error<ad::UsageError>([&] { ad::sum(op("no_saved", [](auto& c) { c.add(0, c.output()); })).backward(); },
                               {"no_saved", "save_output"});
  // a gradient in the broadcast shape is fine: the engine sums it down
  ad::sum(op("broadcast", [](auto& c) { c.add(0, ad::ones({4, 2, 3})); })).backward();
  EXPECT_EQ(x.grad().to_vector(), std::vector<double>(6, 4.0));
  expect_error<ad::UsageError>(
      [&] { ad::record_op("nine", "", {x, x, x, x, x, x, x, x, x}, ad::zeros({1}), [](ad::BackwardContext&) {}); },
      {"record_op", "at most 8"});
}

TEST(Errors, MixingThreadsInOneGraph) {
  Tensor x = ad::ones({2}).requires_grad_();
  Tensor there;
  std::thread t([&] { there = x * 3.0; });
  t.join();
  expect_error<ad::UsageError>([&] { there + x; }, {"add", "input 0", "(2,)", "another thread", "detach"});
  Tensor here = ad::sum(x * 2.0);
  expect_error<ad::UsageError>([&] { ad::grad({here, there}, {x}, {ad::scalar(1.0), ad::ones({2})}); }, {"grad", "different threads"});
  EXPECT_EQ((there.detach() + x).requires_grad(), true);  // the suggested fix works
}

TEST(Errors, ThreadCount) {
  expect_error<ad::ValueError>([] { ad::set_num_threads(0); }, {"set_num_threads", "0"});
  expect_error<ad::ValueError>([] { ad::set_num_threads(-4); }, {"set_num_threads", "-4"});
}

}  // namespace
