// The int64 dtype: indices and class labels. They are made, printed, converted, compared,
// moved by the shape ops and taken by index_select and the cross-entropies; they never require
// gradients, and every op that computes refuses them with a DTypeError naming the op.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cstdint>
#include <sstream>
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

TEST(Int64, MadeReadAndPrinted) {
  Tensor t = ad::tensor({3, -1, 9007199254740992.0}, {3}, DType::i64);  // 2⁵³
  EXPECT_EQ(t.dtype(), DType::i64);
  EXPECT_STREQ(ad::dtype_name(t.dtype()), "int64");
  EXPECT_EQ(ad::dtype_size(DType::i64), 8u);
  EXPECT_FALSE(ad::is_floating(DType::i64));
  const int64_t* p = t.data<int64_t>();
  EXPECT_EQ(p[0], 3);
  EXPECT_EQ(p[1], -1);
  EXPECT_EQ(p[2], int64_t{9007199254740992});
  EXPECT_THAT(t.to_vector(), ElementsAre(3.0, -1.0, 9007199254740992.0));
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), "Tensor([3, -1, 9007199254740992], shape=(3,), dtype=int64)");
  EXPECT_EQ(ad::full({2}, 7, DType::i64).to_vector(), (std::vector<double>{7, 7}));
  EXPECT_EQ(ad::scalar(4, DType::i64).item(), 4.0);
  expect_error<ad::DTypeError>([&] { (void)t.data<float>(); }, {"data<float32>", "int64"});
}

TEST(Int64, RejectsWhatIsNotAnIndex) {
  expect_error<ad::ValueError>([] { ad::tensor({1, 2.5}, {2}, DType::i64); }, {"2.5", "position 1", "int64"});
  expect_error<ad::DTypeError>([] { ad::randn({2}, DType::i64); }, {"randn", "int64"});
  expect_error<ad::DTypeError>([] { ad::rand({2}, DType::i64); }, {"rand", "int64"});
  Tensor t = ad::tensor({1, 2}, {2}, DType::i64);
  expect_error<ad::DTypeError>([&] { t.requires_grad_(); }, {"requires_grad_", "int64"});
  EXPECT_NO_THROW(t.requires_grad_(false));
}

// Every op that computes names itself and the dtype; a conversion makes the int64 usable.
TEST(Int64, ArithmeticNeedsAFloatingDtype) {
  Tensor t = ad::tensor({1, 2}, {2}, DType::i64);
  expect_error<ad::DTypeError>([&] { (void)(t + t); }, {"add", "int64", ".to(DType::f32)"});
  expect_error<ad::DTypeError>([&] { (void)(t * 2.0); }, {"affine", "int64"});
  expect_error<ad::DTypeError>([&] { (void)ad::exp(t); }, {"exp", "int64"});
  expect_error<ad::DTypeError>([&] { (void)ad::sigmoid(t); }, {"sigmoid", "int64"});
  expect_error<ad::DTypeError>([&] { (void)ad::sum(t); }, {"sum", "int64"});
  expect_error<ad::DTypeError>([&] { (void)ad::matmul(ad::reshape(t, {1, 2}), ad::reshape(t, {2, 1})); },
                               {"matmul", "int64"});
  expect_error<ad::DTypeError>([&] { t.mul_(2.0); }, {"mul_", "int64"});
  EXPECT_EQ(ad::sum(t.to(DType::f32) * 2.0).item(), 6.0);
}

TEST(Int64, ConversionsAreExactAndNotRecorded) {
  Tensor x = ad::tensor({2.0, -3.0, 1e15}, {3}, DType::f64).requires_grad_();
  Tensor i = x.to(DType::i64);
  EXPECT_EQ(i.dtype(), DType::i64);
  EXPECT_FALSE(i.requires_grad());
  EXPECT_THAT(i.to_vector(), ElementsAre(2.0, -3.0, 1e15));
  Tensor back = i.to(DType::f64);
  EXPECT_FALSE(back.requires_grad());
  EXPECT_THAT(back.to_vector(), ElementsAre(2.0, -3.0, 1e15));
  EXPECT_EQ(ad::tensor({2.7, -2.7}, {2}).to(DType::i64).to_vector(), (std::vector<double>{2, -2}));  // truncates
}

TEST(Int64, ArgmaxGivesInt64Indices) {
  Tensor a = ad::tensor({0.1, 0.9, 0.3, 0.7, 0.2, 0.6}, {3, 2});
  Tensor idx = ad::argmax(a, 0);
  EXPECT_EQ(idx.dtype(), DType::i64);
  EXPECT_EQ(idx.shape(), ad::Shape({2}));
  EXPECT_THAT(idx.to_vector(), ElementsAre(1.0, 0.0));
  EXPECT_EQ(ad::argmax(a, 1, true).shape(), ad::Shape({3, 1}));
  EXPECT_THAT(ad::argmax(ad::tensor({4, 9, 9, 1}, {4}, DType::i64), 0).to_vector(), ElementsAre(1.0));
}

TEST(Int64, IndexSelectTakesAnInt64Tensor) {
  Tensor x = ad::tensor({1, 2, 3, 4, 5, 6}, {3, 2}, DType::f64).requires_grad_();
  Tensor rows = ad::index_select(x, 0, ad::tensor({2, 0, 2}, {3}, DType::i64));
  EXPECT_THAT(rows.to_vector(), ElementsAre(5, 6, 1, 2, 5, 6));
  ad::sum(rows).backward();
  EXPECT_THAT(x.grad().to_vector(), ElementsAre(1, 1, 0, 0, 2, 2));
  // argmax's result selects directly: the column holding each row's maximum
  Tensor scores = ad::tensor({0.2, 0.8, 0.9, 0.1}, {2, 2}, DType::f64);
  EXPECT_THAT(ad::index_select(scores, 1, ad::argmax(scores, 1)).to_vector(), ElementsAre(0.8, 0.2, 0.1, 0.9));
  expect_error<ad::DTypeError>([&] { ad::index_select(x, 0, ad::tensor({0}, {1})); }, {"index_select", "float32", "int64"});
  expect_error<ad::ShapeError>([&] { ad::index_select(x, 0, ad::zeros({1, 1}, DType::i64)); }, {"index_select", "1-D"});
  expect_error<ad::ValueError>([&] { ad::index_select(x, 0, ad::tensor({3}, {1}, DType::i64)); },
                               {"index_select", "index 3", "size 3"});
}

TEST(Int64, ShapeOpsMoveIndices) {
  Tensor t = ad::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, DType::i64);
  EXPECT_THAT(ad::transpose(t).to_vector(), ElementsAre(1, 4, 2, 5, 3, 6));
  EXPECT_EQ(ad::transpose(t).dtype(), DType::i64);
  EXPECT_THAT(ad::reshape(t, {3, 2}).to_vector(), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(ad::slice(t, 1, 1, 3).to_vector(), ElementsAre(2, 3, 5, 6));
  EXPECT_THAT(ad::concat({t, t}, 0).to_vector(), ElementsAre(1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6));
  EXPECT_THAT(ad::broadcast_to(ad::tensor({7, 8}, {2, 1}, DType::i64), {2, 2}).to_vector(), ElementsAre(7, 7, 8, 8));
  Tensor d = ad::zeros({2, 3}, DType::i64);
  d.copy_(ad::tensor({9, 8, 7}, {3}, DType::i64));
  EXPECT_THAT(d.to_vector(), ElementsAre(9, 8, 7, 9, 8, 7));
}

// Class labels (m) or (1, m) stand for their one-hot columns, with the same cost and gradient.
TEST(Int64, CrossEntropiesTakeClassLabels) {
  Tensor Z = ad::tensor({0.3, -1, 2, 0.5, -0.7, 1.2}, {3, 2}, DType::f64).requires_grad_();
  Tensor onehot = ad::tensor({0, 0, 1, 0, 0, 1}, {3, 2}, DType::f64);
  Tensor labels = ad::tensor({1, 2}, {2}, DType::i64);
  Tensor J = ad::softmax_cross_entropy(Z, labels);
  J.backward();
  const std::vector<double> g = Z.grad().to_vector();
  Z.zero_grad();
  Tensor J1 = ad::softmax_cross_entropy(Z, onehot);
  J1.backward();
  EXPECT_EQ(J.item(), J1.item());
  EXPECT_EQ(g, Z.grad().to_vector());
  EXPECT_EQ(ad::softmax_cross_entropy(Z, ad::reshape(labels, {1, 2})).item(), J1.item());
  Tensor A = ad::softmax(Z.detach(), 0);
  EXPECT_EQ(ad::categorical_cross_entropy(A, labels).item(), ad::categorical_cross_entropy(A, onehot).item());
  expect_error<ad::ValueError>([&] { ad::softmax_cross_entropy(Z, ad::tensor({1, 3}, {2}, DType::i64)); },
                               {"cross_entropy", "label 3", "[0, 3)"});
  expect_error<ad::ShapeError>([&] { ad::softmax_cross_entropy(Z, ad::tensor({1, 2, 0}, {3}, DType::i64)); },
                               {"cross_entropy", "(3,)", "(2,)"});
}

}  // namespace
