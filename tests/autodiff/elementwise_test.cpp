// The comparisons (gt lt ge le eq ne, with tensors and with scalars) and the in-place members
// (add_, sub_, mul_, div_, zero_), with their errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <string>
#include <vector>

namespace {

using ad::DType;
using ad::Tensor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <class E, class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << parts.front();
  } catch (const E& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
  }
}

TEST(Comparisons, FullSetWithTensorsBroadcast) {
  Tensor a = ad::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = ad::tensor({2, 2, 2}, {3});
  EXPECT_THAT(ad::gt(a, b).to_vector(), ElementsAre(0, 0, 1, 1, 1, 1));
  EXPECT_THAT(ad::lt(a, b).to_vector(), ElementsAre(1, 0, 0, 0, 0, 0));
  EXPECT_THAT(ad::ge(a, b).to_vector(), ElementsAre(0, 1, 1, 1, 1, 1));
  EXPECT_THAT(ad::le(a, b).to_vector(), ElementsAre(1, 1, 0, 0, 0, 0));
  EXPECT_THAT(ad::eq(a, b).to_vector(), ElementsAre(0, 1, 0, 0, 0, 0));
  EXPECT_THAT(ad::ne(a, b).to_vector(), ElementsAre(1, 0, 1, 1, 1, 1));
  EXPECT_EQ(ad::gt(a, b).dtype(), DType::f32);
  EXPECT_EQ(ad::gt(a, b).shape(), ad::Shape({2, 3}));
}

TEST(Comparisons, FullSetWithScalars) {
  Tensor a = ad::tensor({1, 2, 3}, {3}, DType::f64);
  EXPECT_THAT(ad::gt(a, 2.0).to_vector(), ElementsAre(0, 0, 1));
  EXPECT_THAT(ad::lt(a, 2.0).to_vector(), ElementsAre(1, 0, 0));
  EXPECT_THAT(ad::ge(a, 2.0).to_vector(), ElementsAre(0, 1, 1));
  EXPECT_THAT(ad::le(a, 2.0).to_vector(), ElementsAre(1, 1, 0));
  EXPECT_THAT(ad::eq(a, 2.0).to_vector(), ElementsAre(0, 1, 0));
  EXPECT_THAT(ad::ne(a, 2.0).to_vector(), ElementsAre(1, 0, 1));
}

// Labels compare as labels; a fractional scalar is compared exactly, not truncated.
TEST(Comparisons, Int64) {
  Tensor labels = ad::tensor({0, 2, 1, 2}, {4}, DType::i64);
  Tensor predicted = ad::tensor({0, 1, 1, 2}, {4}, DType::i64);
  Tensor hits = ad::eq(labels, predicted);
  EXPECT_EQ(hits.dtype(), DType::i64);
  EXPECT_THAT(hits.to_vector(), ElementsAre(1, 0, 1, 1));
  EXPECT_EQ(ad::mean(hits.to(DType::f32)).item(), 0.75);
  EXPECT_THAT(ad::gt(labels, 1.5).to_vector(), ElementsAre(0, 1, 0, 1));
  EXPECT_THAT(ad::le(labels, 0.5).to_vector(), ElementsAre(1, 0, 0, 0));
  EXPECT_THAT(ad::eq(labels, 2.0).to_vector(), ElementsAre(0, 1, 0, 1));
  EXPECT_EQ(ad::gt(labels, 1.5).dtype(), DType::i64);
}

TEST(Comparisons, AreNotRecordedAndNameTheirErrors) {
  Tensor x = ad::ones({2}).requires_grad_();
  EXPECT_FALSE(ad::ge(x, 0.5).requires_grad());
  expect_error<ad::ShapeError>([] { ad::le(ad::ones({2, 3}), ad::ones({2, 2})); }, {"le", "(2, 3)", "(2, 2)"});
  expect_error<ad::DTypeError>([] { ad::ne(ad::ones({2}), ad::ones({2}, DType::i64)); }, {"ne", "float32", "int64"});
  expect_error<ad::UsageError>([] { ad::ge(Tensor(), 1.0); }, {"ge", "undefined"});
}

TEST(InPlace, MembersMatchTheirOps) {
  Tensor t = ad::tensor({1, 2, 3, 4}, {2, 2});
  Tensor row = ad::tensor({10, 20}, {2});
  EXPECT_TRUE(t.add_(row).is_same(t));
  EXPECT_THAT(t.to_vector(), ElementsAre(11, 22, 13, 24));
  t.sub_(row, 0.5);
  EXPECT_THAT(t.to_vector(), ElementsAre(6, 12, 8, 14));
  t.mul_(ad::tensor({0.5}, {1}));
  EXPECT_THAT(t.to_vector(), ElementsAre(3, 6, 4, 7));
  t.div_(ad::tensor({3, 2}, {2}));
  EXPECT_THAT(t.to_vector(), ElementsAre(1, 3, 4.0f / 3.0f, 3.5));
  t.mul_(2.0).add_(1.0).div_(4.0);
  EXPECT_THAT(t.to_vector(), ElementsAre(0.75, 1.75, (8.0f / 3.0f + 1) / 4, 2));
  t.add_(ad::ones({2, 2}), -2.0);
  EXPECT_THAT(t.to_vector(), ElementsAre(-1.25, -0.25, (8.0f / 3.0f + 1) / 4 - 2, 0));
  t.zero_();
  EXPECT_THAT(t.to_vector(), ElementsAre(0, 0, 0, 0));
}

TEST(InPlace, RefusesWhatWouldCorruptAGraph) {
  Tensor w = ad::ones({2, 2}).requires_grad_();
  expect_error<ad::UsageError>([&] { w.sub_(ad::ones({2, 2})); }, {"sub_", "NoGradGuard"});
  expect_error<ad::UsageError>([&] { w.div_(2.0); }, {"div_", "NoGradGuard"});
  expect_error<ad::UsageError>([&] { w.zero_(); }, {"zero_", "NoGradGuard"});
  Tensor y = w * 2.0;
  expect_error<ad::UsageError>([&] { y.mul_(ad::ones({2})); }, {"mul_", "recorded graph"});
  {
    ad::NoGradGuard no_grad;
    w.sub_(ad::ones({2, 2}), 0.25);  // an optimizer step
  }
  EXPECT_THAT(w.to_vector(), ElementsAre(0.75, 0.75, 0.75, 0.75));
  Tensor small = ad::ones({1, 2});
  expect_error<ad::ShapeError>([&] { small.div_(ad::ones({2, 2})); }, {"div_", "(2, 2)", "(1, 2)"});
}

}  // namespace
