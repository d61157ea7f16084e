// Tensors as values: factories, dtypes and conversion, the random generator, printing, Shape.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace {

using ad::DType;
using ad::Shape;
using ad::Tensor;

std::string printed(const Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

TEST(Shape, IsASequenceOfDims) {
  const Shape s{2, 3, 4};
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], 3);
  EXPECT_EQ(s.back(), 4);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(std::vector<int64_t>(s.begin(), s.end()), (std::vector<int64_t>{2, 3, 4}));
  const std::vector<int> v = {5, 6};
  EXPECT_EQ(Shape(v.begin(), v.end()), (Shape{5, 6}));
  EXPECT_FALSE(Shape({5, 6}) == Shape({6, 5}));
  EXPECT_FALSE(Shape({5}) == Shape({5, 1}));
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_TRUE(Shape{}.empty());
  EXPECT_EQ(s.str(), "(2, 3, 4)");
  EXPECT_EQ(Shape{7}.str(), "(7,)");
  EXPECT_EQ(Shape{}.str(), "()");
  std::ostringstream os;
  os << Shape{1, 2};
  EXPECT_EQ(os.str(), "(1, 2)");
}

TEST(Factories, ValuesShapesAndDtypes) {
  Tensor a = ad::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.dtype(), DType::f32);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.dim(), 2);
  EXPECT_EQ(a.numel(), 6);
  EXPECT_EQ(a.size(-1), 3);
  EXPECT_EQ(a.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.data<float>()[4], 5.0f);
  EXPECT_EQ(ad::tensor({0.1}, {1}).item(), static_cast<double>(0.1f));  // stored as float32
  EXPECT_EQ(ad::tensor({0.1}, {1}, DType::f64).item(), 0.1);
  Tensor s = ad::scalar(2.5, DType::f64);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 2.5);
  EXPECT_EQ(ad::zeros({2, 2}).to_vector(), std::vector<double>(4, 0.0));
  EXPECT_EQ(ad::ones({3}, DType::f64).to_vector(), std::vector<double>(3, 1.0));
  EXPECT_EQ(ad::full({2}, -7.5).to_vector(), std::vector<double>(2, -7.5));
  EXPECT_EQ(ad::zeros_like(s).shape(), Shape{});
  EXPECT_EQ(ad::ones_like(a).dtype(), DType::f32);
  EXPECT_EQ(ad::empty({4, 5}, DType::f64).numel(), 20);
  Tensor none = ad::zeros({0, 3});
  EXPECT_EQ(none.numel(), 0);
  EXPECT_TRUE(none.to_vector().empty());
  EXPECT_EQ(ad::dtype_size(DType::f32), 4u);
  EXPECT_EQ(std::string(ad::dtype_name(DType::f64)), "float64");
}

TEST(Factories, StorageIs64ByteAligned) {
  for (int n : {1, 3, 17, 1000, 100000})
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ad::empty({n}).raw_data()) % 64, 0u) << n;
}

TEST(Tensor, ConversionCloneDetachAndInPlaceWrites) {
  Tensor a = ad::tensor({1.5, -2.25, 1e-3}, {3});
  Tensor d = a.to(DType::f64);
  EXPECT_EQ(d.dtype(), DType::f64);
  EXPECT_EQ(d.to_vector(), a.to_vector());
  EXPECT_EQ(a.to(DType::f32).raw_data(), a.raw_data());  // already float32: the same tensor
  EXPECT_EQ(ad::tensor({0.1}, {1}, DType::f64).to(DType::f32).item(), static_cast<double>(0.1f));
  Tensor c = a.clone();
  EXPECT_NE(c.raw_data(), a.raw_data());
  Tensor v = a.detach();
  EXPECT_EQ(v.raw_data(), a.raw_data());  // detach shares storage
  v.fill_(4.0);
  EXPECT_EQ(a.to_vector(), (std::vector<double>{4, 4, 4}));
  EXPECT_EQ(c.to_vector()[1], -2.25);  // the clone kept its own values
  Tensor m = ad::zeros({2, 3});
  m.copy_(ad::tensor({1, 2, 3}, {3}));  // broadcast over rows
  EXPECT_EQ(m.to_vector(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  m.copy_(m);  // onto itself: a no-op
  EXPECT_EQ(m.T().to_vector(), (std::vector<double>{1, 1, 2, 2, 3, 3}));
  m.data<float>()[0] = 9.0f;
  EXPECT_EQ(m.to_vector()[0], 9.0);
}

TEST(Random, ManualSeedMakesDrawsReproducible) {
  ad::manual_seed(123);
  const auto a = ad::randn({7, 3}).to_vector();
  const auto u = ad::rand({5}, DType::f64).to_vector();
  const uint64_t r = ad::random_u64();
  ad::manual_seed(123);
  EXPECT_EQ(ad::randn({7, 3}).to_vector(), a);
  EXPECT_EQ(ad::rand({5}, DType::f64).to_vector(), u);
  EXPECT_EQ(ad::random_u64(), r);
  ad::manual_seed(124);
  EXPECT_NE(ad::randn({7, 3}).to_vector(), a);
}

TEST(Random, RandnIsStandardNormal) {
  ad::manual_seed(1);
  const auto v = ad::randn({200001}, DType::f64).to_vector();  // odd: the last pair is cut
  double mean = 0, sq = 0, beyond_2 = 0;
  for (double x : v) mean += x, sq += x * x, beyond_2 += std::abs(x) > 2;
  mean /= v.size();
  const double var = sq / v.size() - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);                          // 4.5 standard errors
  EXPECT_NEAR(var, 1.0, 0.015);
  EXPECT_NEAR(beyond_2 / v.size(), 0.0455, 0.002);       // P(|z| > 2) of a normal
}

TEST(Random, RandIsUniformOnTheHalfOpenUnitInterval) {
  ad::manual_seed(2);
  for (DType dt : {DType::f32, DType::f64}) {
    const auto v = ad::rand({100000}, dt).to_vector();
    double mean = 0, lo = 1, hi = 0, below_tenth = 0;
    for (double x : v) mean += x, lo = std::min(lo, x), hi = std::max(hi, x), below_tenth += x < 0.1;
    EXPECT_GE(lo, 0.0);
    EXPECT_LT(hi, 1.0);
    EXPECT_NEAR(mean / v.size(), 0.5, 0.005);
    EXPECT_NEAR(below_tenth / v.size(), 0.1, 0.005);
  }
}

TEST(Printing, ShowsValuesShapeDtypeAndOrigin) {
  EXPECT_EQ(printed(ad::tensor({1, 2, 3, 4, 5, 6}, {2, 3})),
            "Tensor([[1, 2, 3],\n        [4, 5, 6]], shape=(2, 3), dtype=float32)");
  EXPECT_EQ(printed(ad::scalar(0.25, DType::f64)), "Tensor(0.25, shape=(), dtype=float64)");
  EXPECT_EQ(printed(ad::zeros({0})), "Tensor([], shape=(0,), dtype=float32)");
  EXPECT_EQ(printed(Tensor()), "Tensor(undefined)");
  Tensor w = ad::tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {10}).requires_grad_();
  EXPECT_EQ(printed(w), "Tensor([1, 2, 3, …, 8, 9, 10], shape=(10,), dtype=float32, requires_grad)");
  EXPECT_EQ(printed(w * 0.5), "Tensor([0.5, 1, 1.5, …, 4, 4.5, 5], shape=(10,), dtype=float32, op=affine)");
  EXPECT_EQ(printed(ad::tensor({1.0 / 3}, {1}, DType::f64)), "Tensor([0.333333], shape=(1,), dtype=float64)");
}

}  // namespace
