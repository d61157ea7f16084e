// The one broadcast walk behind every broadcasting kernel (kernels/broadcast.hpp), and kernel
// entry points called as a planner would: on raw buffers, writing into memory it owns.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "autodiff/kernels/broadcast.hpp"
#include "autodiff/kernels/copy.hpp"
#include "autodiff/kernels/elementwise.hpp"
#include "autodiff/kernels/gemm.hpp"
#include "autodiff/kernels/reduce.hpp"

namespace {

using ad::DType;
using ad::Shape;
namespace kernels = ad::kernels;

struct Row {
  int64_t start;
  std::array<int64_t, 2> at;
  bool operator==(const Row&) const = default;
};

std::vector<Row> rows_of(const Shape& shape, const Shape& a, const Shape& b) {
  std::vector<Row> out;
  kernels::BroadcastRows<2>(shape, {&a, &b}).for_each_row([&](int64_t start, const std::array<int64_t, 2>& at) {
    out.push_back({start, at});
  });
  return out;
}

// A (2, 3, 4) walk: a (3, 1) operand repeats along the rows, a (2, 1, 4) one across the middle dim.
TEST(BroadcastRows, OffsetsFollowEachOperandsStrides) {
  const Shape shape{2, 3, 4}, a{3, 1}, b{2, 1, 4};
  const kernels::BroadcastRows<2> walk(shape, {&a, &b});
  EXPECT_EQ(walk.row_length(), 4);
  EXPECT_FALSE(walk.walks(0));
  EXPECT_TRUE(walk.walks(1));
  const std::vector<Row> want = {{0, {0, 0}}, {4, {1, 0}}, {8, {2, 0}}, {12, {0, 4}}, {16, {1, 4}}, {20, {2, 4}}};
  EXPECT_EQ(rows_of(shape, a, b), want);
}

TEST(BroadcastRows, ZeroDAndEmptyShapes) {
  EXPECT_EQ(rows_of(Shape{}, Shape{}, Shape{}), (std::vector<Row>{{0, {0, 0}}}));
  EXPECT_TRUE(rows_of(Shape{3, 0}, Shape{3, 1}, Shape{0}).empty());
  EXPECT_TRUE(rows_of(Shape{0, 3}, Shape{3}, Shape{0, 3}).empty());
}

// The entry points on plain vectors: nothing allocated, every output element written.
TEST(KernelEntryPoints, RunOnCallerBuffers) {
  const Shape s23{2, 3}, s3{3}, s21{2, 1};
  const std::vector<double> x = {1, 2, 3, 4, 5, 6}, row = {10, 20, 30};
  std::vector<double> out(6, -1.0);
  kernels::map2({x.data(), s23, DType::f64}, {row.data(), s3, DType::f64}, {out.data(), s23, DType::f64},
                [](auto p, auto q) { return p + q; });
  EXPECT_EQ(out, (std::vector<double>{11, 22, 33, 14, 25, 36}));
  std::vector<double> sums(2, -1.0);
  kernels::sum_to({x.data(), s23, DType::f64}, {sums.data(), s21, DType::f64});
  EXPECT_EQ(sums, (std::vector<double>{6, 15}));
  std::vector<double> t(6, -1.0);
  const Shape s32{3, 2};
  kernels::transpose({x.data(), s23, DType::f64}, {t.data(), s32, DType::f64});
  EXPECT_EQ(t, (std::vector<double>{1, 4, 2, 5, 3, 6}));
  std::vector<int64_t> idx(3, -1);
  const Shape s13{1, 3};
  kernels::argmax({x.data(), s23, DType::f64}, 0, {idx.data(), s13, DType::i64});
  EXPECT_EQ(idx, (std::vector<int64_t>{1, 1, 1}));
}

// k = 0: C is the empty sum, zeros, in both dtypes (BLAS is not asked to do it).
TEST(KernelEntryPoints, GemmWithNoInnerDimensionWritesZeros) {
  std::vector<float> c32(6, -1.0f);
  kernels::gemm(2, 3, 0, static_cast<const float*>(nullptr), 0, false, static_cast<const float*>(nullptr), 3, false,
                c32.data(), 3);
  EXPECT_EQ(c32, std::vector<float>(6, 0.0f));
  std::vector<double> c64(6, -1.0);
  kernels::gemm(2, 3, 0, static_cast<const double*>(nullptr), 0, false, static_cast<const double*>(nullptr), 3, false,
                c64.data(), 3);
  EXPECT_EQ(c64, std::vector<double>(6, 0.0));
}

}  // namespace
