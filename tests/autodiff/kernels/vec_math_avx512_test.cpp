// The AVX-512 bias + sigmoid kernel (autodiff/kernels/vec_math_avx512.hpp) against the portable
// loop it replaces, through kernels::bias_activate with the AVX-512 kernels switched on and off:
// the same bits for every float of a sweep (subnormals to inf, NaN) under several biases, for
// every row length up to three vectors (the masked tail), in place, and within 3 ulp of double.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "autodiff/kernels/activation.hpp"
#include "autodiff/kernels/cpu.hpp"
#include "autodiff/kernels/vec_math_avx512.hpp"

namespace {

using ad::DType;
constexpr float kInf = std::numeric_limits<float>::infinity();

// σ(z + b) for z (n, m) and b (n, 1) through bias_activate, into `out` (which may be z).
void bias_sigmoid(const float* z, const std::vector<float>& b, int64_t m, float* out, bool avx512) {
  const auto n = static_cast<int64_t>(b.size());
  const ad::Shape zs{n, m}, bs{n, 1};
  ad::kernels::force_no_avx512(!avx512);
  ad::kernels::bias_activate({z, zs, DType::f32}, {b.data(), bs, DType::f32}, ad::Activation::Sigmoid,
                             {out, zs, DType::f32});
  ad::kernels::force_no_avx512(false);
}

bool same_bits(float x, float y) { return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y); }

// Every 4093rd float bit pattern and the IEEE edge cases, padded to whole rows of m.
std::vector<float> sweep(int64_t m) {
  std::vector<float> xs = {kInf, -kInf, std::numeric_limits<float>::quiet_NaN(), 0.0f, -0.0f, -104.0f, -200.0f, 88.0f};
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 4093) xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(b)));
  while (static_cast<int64_t>(xs.size()) % m != 0) xs.push_back(0.25f);
  return xs;
}

class VecMathAvx512 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ad::kernels::vec_math_avx512_available()) GTEST_SKIP() << "this CPU (or TAPEGRAD_NO_AVX512) has no AVX-512";
  }
};

TEST_F(VecMathAvx512, GivesThePortableLoopsBitsForEveryFloat) {
  constexpr int64_t m = 37;  // two vectors and a tail of 5 per row
  const std::vector<float> z = sweep(m);
  for (const float bias : {0.0f, 0.5f, -3.25f, 1e-3f, 60.0f}) {
    const std::vector<float> b(z.size() / m, bias);
    std::vector<float> fast(z.size()), portable(z.size());
    bias_sigmoid(z.data(), b, m, fast.data(), true);
    bias_sigmoid(z.data(), b, m, portable.data(), false);
    for (size_t i = 0; i < z.size(); ++i)
      ASSERT_TRUE(same_bits(fast[i], portable[i]))
          << "σ(" << z[i] << " + " << bias << "): AVX-512 " << fast[i] << ", portable " << portable[i];
  }
}

TEST_F(VecMathAvx512, EveryRowLengthInPlaceAndNotPastTheRow) {
  for (int64_t m = 1; m <= 48; ++m) {
    const std::vector<float> b = {0.75f, -1.5f, 2.0f};
    std::vector<float> z(static_cast<size_t>(3 * m) + 1);
    for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(i % 23) * 0.7f - 8.0f;
    z.back() = 12345.0f;  // past the last row: must stay as it is
    std::vector<float> portable(z.size());
    bias_sigmoid(z.data(), b, m, portable.data(), false);
    bias_sigmoid(z.data(), b, m, z.data(), true);  // in place
    for (int64_t i = 0; i < 3 * m; ++i) ASSERT_TRUE(same_bits(z[static_cast<size_t>(i)], portable[static_cast<size_t>(i)])) << "m = " << m << ", element " << i;
    EXPECT_EQ(z.back(), 12345.0f) << "m = " << m;
  }
}

TEST_F(VecMathAvx512, WithinThreeUlpOfDoubleAndExactAtTheEnds) {
  const std::vector<float> z = sweep(16);
  const std::vector<float> b(z.size() / 16, 0.0f);
  std::vector<float> s(z.size());
  bias_sigmoid(z.data(), b, 16, s.data(), true);
  for (size_t i = 0; i < z.size(); ++i) {
    if (std::isnan(z[i])) {
      EXPECT_TRUE(std::isnan(s[i]));
      continue;
    }
    const auto ref = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(z[i]))));
    const auto distance = std::abs(static_cast<int64_t>(std::bit_cast<uint32_t>(s[i])) -
                                   static_cast<int64_t>(std::bit_cast<uint32_t>(ref)));  // both in [0, 1]
    ASSERT_LE(distance, 3) << "σ(" << z[i] << ") = " << s[i] << ", double gives " << ref;
  }
  EXPECT_EQ(s[0], 1.0f);  // σ(inf)
  EXPECT_EQ(s[1], 0.0f);  // σ(−inf)
  EXPECT_EQ(s[3], 0.5f);  // σ(0)
  EXPECT_EQ(s[4], 0.5f);  // σ(−0)
}

// ad::binary_cross_entropy(a, y) with the AVX-512 kernels on or off.
float bce(const std::vector<float>& a, const std::vector<float>& y, bool avx512) {
  const auto n = static_cast<int64_t>(a.size());
  ad::Tensor ta = ad::empty({1, n}), ty = ad::empty({1, n});
  std::memcpy(ta.data<float>(), a.data(), a.size() * sizeof(float));
  std::memcpy(ty.data<float>(), y.data(), y.size() * sizeof(float));
  ad::kernels::force_no_avx512(!avx512);
  const auto j = static_cast<float>(ad::binary_cross_entropy(ta, ty).item());
  ad::kernels::force_no_avx512(false);
  return j;
}

TEST_F(VecMathAvx512, CrossEntropyTermsHaveThePortableBits) {
  std::vector<float> probs = {0.0f, 1.0f, 1e-7f, 1e-8f, 0.5f, 0.99999994f, -0.5f, 2.0f,
                              std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min()};
  for (uint32_t b = 0x33000000u; b < 0x3f800000u; b += 997) probs.push_back(std::bit_cast<float>(b));  // 3e-8 … 1
  for (const float label : {0.0f, 1.0f})
    for (const float a : probs) {
      const float fast = bce({a}, {label}, true), portable = bce({a}, {label}, false);
      ASSERT_TRUE(same_bits(fast, portable)) << "a = " << a << ", y = " << label << ": " << fast << " vs " << portable;
    }
}

TEST_F(VecMathAvx512, CrossEntropyOfLongRowsAndOtherLabels) {
  for (const int64_t n : {1, 15, 16, 17, 400, 1031}) {
    std::vector<float> a(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      a[static_cast<size_t>(i)] = static_cast<float>((i * 37) % 101 + 1) / 103.0f;
      y[static_cast<size_t>(i)] = static_cast<float>(i % 3 == 0);
    }
    EXPECT_EQ(bce(a, y, true), bce(a, y, false)) << "n = " << n;
    // One soft label, first or last (in the masked tail when n is not a multiple of 16): both
    // logs for every element, the same loop either way.
    for (const size_t soft : {size_t{0}, static_cast<size_t>(n - 1)}) {
      std::vector<float> ys = y;
      ys[soft] = 0.25f;
      double want = 0;
      for (size_t i = 0; i < a.size(); ++i) want -= (ys[i] * std::log(double{a[i]}) + (1 - ys[i]) * std::log(1 - double{a[i]})) / static_cast<double>(n);
      EXPECT_NEAR(bce(a, ys, true), want, 1e-6 * std::abs(want)) << "n = " << n << ", soft label at " << soft;
      EXPECT_EQ(bce(a, ys, true), bce(a, ys, false)) << "n = " << n << ", soft label at " << soft;
    }
  }
}

}  // namespace
