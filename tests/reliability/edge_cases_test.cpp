// The legal edge cases next to the bad inputs: empty tensors, empty inner dims, zero samples
// and NaN flowing through work and give the right values.
#include <gtest/gtest.h>

#include <cmath>
#include <nn/nn.hpp>
#include <vector>

namespace {

using ad::DType;
using ad::Tensor;
namespace nn = ad::nn;

Tensor leaf(const ad::Shape& s, DType d = DType::f32) { return ad::ones(s, d).requires_grad_(); }

TEST(EdgeCases, EmptyTensorsReduceToTheEmptySum) {
  EXPECT_EQ(ad::sum(ad::ones({0, 3})).item(), 0.0);
  EXPECT_EQ(ad::sum(ad::ones({0, 3}), 0).to_vector(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(ad::sum(ad::ones({3, 0}), 1, true).shape(), (ad::Shape{3, 1}));
  EXPECT_EQ(ad::exp(ad::ones({0, 2})).shape(), (ad::Shape{0, 2}));
}

TEST(EdgeCases, MatmulOverEmptyInnerDimIsZeroAndBackprops) {
  Tensor A = leaf({2, 0}, DType::f64), B = leaf({0, 3}, DType::f64);
  Tensor C = ad::matmul(A, B);
  EXPECT_EQ(C.shape(), (ad::Shape{2, 3}));
  EXPECT_EQ(C.to_vector(), std::vector<double>(6, 0.0));
  ad::sum(C).backward();
  EXPECT_EQ(A.grad().shape(), (ad::Shape{2, 0}));
  EXPECT_EQ(B.grad().shape(), (ad::Shape{0, 3}));
}

TEST(EdgeCases, ZeroSamplesFlowThroughALayerAndBroadcast) {
  nn::Linear layer(2, 4);
  Tensor Z = layer(ad::ones({2, 0}));  // m = 0: b (4, 1) broadcasts over no columns
  EXPECT_EQ(Z.shape(), (ad::Shape{4, 0}));
  ad::sum(Z).backward();
  EXPECT_EQ(layer.W.grad().to_vector(), std::vector<double>(8, 0.0));
  EXPECT_EQ(layer.b.grad().to_vector(), std::vector<double>(4, 0.0));
  EXPECT_EQ((ad::ones({0, 3}) + ad::ones({1, 3})).shape(), (ad::Shape{0, 3}));
}

TEST(EdgeCases, ConcatWithAnEmptyPieceKeepsTheOthers) {
  Tensor x = ad::tensor({1, 2, 3, 4}, {2, 2});
  Tensor y = ad::concat({ad::ones({2, 0}), x}, 1);
  EXPECT_EQ(y.shape(), (ad::Shape{2, 2}));
  EXPECT_EQ(y.to_vector(), x.to_vector());
  EXPECT_EQ(ad::slice(x, 1, 1, 1).shape(), (ad::Shape{2, 0}));
}

TEST(EdgeCases, NaNFlowsThroughWhenAnomalyDetectionIsOff) {
  Tensor x = ad::tensor({1.0, std::nan("")}, {2}).requires_grad_();
  Tensor J = ad::sum(x * x);
  EXPECT_TRUE(std::isnan(J.item()));
  J.backward();
  EXPECT_EQ(x.grad().to_vector()[0], 2.0);
  EXPECT_TRUE(std::isnan(x.grad().to_vector()[1]));
}

}  // namespace
