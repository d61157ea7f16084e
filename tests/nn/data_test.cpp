// Mini-batches, the synthetic datasets and the metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include <nn/nn.hpp>

#include "test_util.hpp"

namespace {

using namespace ad;
using nn_test::expect_error;
using nn_test::expect_near_all;

// X row 0 holds the column index j, row 1 holds −j; Y holds 2j: batches must keep them aligned.
std::pair<Tensor, Tensor> indexed(int64_t m) {
  std::vector<double> x(static_cast<size_t>(2 * m)), y(static_cast<size_t>(m));
  for (int64_t j = 0; j < m; ++j) x[j] = j, x[m + j] = -j, y[j] = 2 * j;
  return {tensor(x, {2, m}), tensor(y, {1, m})};
}

TEST(MiniBatches, CoverEveryColumnOnceKeepingXAndYAligned) {
  manual_seed(11);
  auto [X, Y] = indexed(10);
  nn::MiniBatches batches(X, Y, 4);
  ASSERT_EQ(batches.size(), 3u);
  std::vector<int64_t> sizes, seen;
  for (const nn::Batch& b : batches) {
    sizes.push_back(b.X.size(1));
    const auto x = b.X.to_vector(), y = b.Y.to_vector();
    const int64_t k = b.X.size(1);
    for (int64_t j = 0; j < k; ++j) {
      EXPECT_EQ(x[k + j], -x[j]);
      EXPECT_EQ(y[j], 2 * x[j]);
      seen.push_back(static_cast<int64_t>(x[j]));
    }
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2})) << "the last partial batch is kept";
  std::vector<int64_t> all(10);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_NE(seen, all) << "shuffled";
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, all) << "a permutation";
}

TEST(MiniBatches, CarryInt64Labels) {
  Tensor X = tensor({0, 1, 2, 3, 4, 10, 11, 12, 13, 14}, {2, 5});
  Tensor Y = tensor({0, 1, 2, 3, 4}, {1, 5}, DType::i64);
  manual_seed(4);
  for (const nn::Batch& b : nn::MiniBatches(X, Y, 2)) {
    ASSERT_EQ(b.Y.dtype(), DType::i64);
    const std::vector<double> x = b.X.to_vector(), y = b.Y.to_vector();
    for (size_t j = 0; j < y.size(); ++j) EXPECT_EQ(x[j], y[j]) << "column " << j;  // row 0 of X is the label
  }
}

TEST(MiniBatches, SeededShuffleRepeatsAndReshuffles) {
  auto [X, Y] = indexed(50);
  manual_seed(5);
  nn::MiniBatches a(X, Y, 8);
  manual_seed(5);
  nn::MiniBatches b(X, Y, 8);
  EXPECT_EQ(a.order(), b.order());
  const auto first = a.order();
  a.shuffle();
  EXPECT_NE(a.order(), first);
  nn::MiniBatches plain(X, Tensor(), 20, false);
  EXPECT_EQ(plain[2].X.to_vector()[0], 40.0) << "no shuffle: consecutive columns";
  EXPECT_FALSE(plain[0].Y.defined());
  manual_seed(5);
  auto list = nn::random_mini_batches(X, Y, 8);
  ASSERT_EQ(list.size(), 7u);
  EXPECT_EQ(list[0].X.to_vector(), b[0].X.to_vector());
  expect_error<ShapeError>([&] { nn::MiniBatches(X, ones({1, 49}), 8); }, {"(2, 50)", "(1, 49)"});
  expect_error<ValueError>([&] { nn::MiniBatches(X, Y, 0); }, {"batch_size = 0"});
}

TEST(GatherSamples, SameColumnsAsGatherColumnsOfTheTranspose) {
  // 37 samples of 5 features, 21 picks (repeats, the last sample, a partial block of 16): both
  // layouts must give the same (5, 21) batch, bit for bit, in both dtypes.
  for (DType dt : {DType::f32, DType::f64}) {
    manual_seed(3);
    Tensor S = randn({37, 5}, dt);
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < 20; ++i) idx.push_back((i * 7) % 37);
    idx.push_back(36);
    Tensor want = nn::gather_columns(transpose(S), idx), got = nn::gather_samples(S, idx);
    ASSERT_EQ(got.shape(), (Shape{5, 21}));
    EXPECT_EQ(got.to_vector(), want.to_vector());
    EXPECT_EQ(got.to_vector()[static_cast<size_t>(2 * 21 + 20)], S.to_vector()[36 * 5 + 2]) << "feature 2 of sample 36";
  }
  expect_error<ValueError>([] { (void)nn::gather_samples(zeros({3, 2}), {0, 3}); },
                           {"gather_samples", "sample 3", "[0, 3)"});
  expect_error<ShapeError>([] { (void)nn::gather_samples(zeros({6}), {0}); }, {"gather_samples", "(6,)", "(m, n)"});
}

TEST(MiniBatches, OfSamplesGivesTheSameBatchesAsColumnLayout) {
  auto [X, Y] = indexed(10);
  manual_seed(9);
  nn::MiniBatches cols(X, Y, 4);
  manual_seed(9);
  nn::MiniBatches rows = nn::MiniBatches::of_samples(transpose(X), Y, 4);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.order(), cols.order());
  for (size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(rows[k].X.to_vector(), cols[k].X.to_vector());
    EXPECT_EQ(rows[k].Y.to_vector(), cols[k].Y.to_vector());
  }
  expect_error<ShapeError>([&] { (void)nn::MiniBatches::of_samples(X, Y, 4); }, {"samples tensor", "(2, 10)", "(1, 10)"});
}

TEST(Datasets, FlowerIsTheCoursesPlanarData) {
  manual_seed(1);
  nn::Dataset d = nn::flower();
  ASSERT_EQ(d.X.shape(), Shape({2, 400}));
  ASSERT_EQ(d.Y.shape(), Shape({1, 400}));
  EXPECT_EQ(std::count(d.labels.begin(), d.labels.end(), 1), 200);
  const auto x = d.X.to_vector();
  double max_r = 0;
  for (int i = 0; i < 400; ++i) max_r = std::max(max_r, std::hypot(x[i], x[400 + i]));
  EXPECT_GT(max_r, 3.5);  // petals of length a = 4, plus noise
  EXPECT_LT(max_r, 5.5);
  manual_seed(1);
  EXPECT_EQ(nn::flower().X.to_vector(), x) << "seeded";
}

TEST(Datasets, MoonsCirclesXorSpirals) {
  manual_seed(2);
  nn::Dataset moons = nn::moons(100, 0.0);
  EXPECT_EQ(moons.X.shape(), Shape({2, 100}));
  const auto mx = moons.X.to_vector();
  EXPECT_NEAR(mx[0], 1.0, 1e-12);  // the outer moon starts at (cos 0, sin 0)
  EXPECT_NEAR(mx[100], 0.0, 1e-12);
  nn::Dataset circ = nn::circles(100, 0.0, 0.5);
  const auto cx = circ.X.to_vector();
  for (int i = 0; i < 100; ++i)
    EXPECT_NEAR(std::hypot(cx[i], cx[100 + i]), circ.labels[i] == 1 ? 0.5 : 1.0, 1e-6);  // float32
  nn::Dataset x = nn::xor_data(200);
  const auto xv = x.X.to_vector();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(x.labels[i], (xv[i] > 0) != (xv[200 + i] > 0) ? 1 : 0);
  nn::Dataset sp = nn::spirals(100, 3);
  EXPECT_EQ(sp.X.shape(), Shape({2, 300}));
  EXPECT_EQ(sp.Y.shape(), Shape({3, 300}));
  EXPECT_EQ(sp.classes, 3);
  EXPECT_EQ(nn::target_labels(sp.Y), sp.labels);
  const auto sv = sp.X.to_vector();
  for (int i = 0; i < 300; ++i) EXPECT_LE(std::hypot(sv[i], sv[300 + i]), 1.0 + 1e-6);
  expect_error<ValueError>([] { nn::spirals(100, 1); }, {"K = 1"});
}

TEST(Metrics, BinaryAndMultiClassAccuracy) {
  Tensor A = tensor({0.2, 0.7, 0.5, 0.9}, {1, 4});
  Tensor Y = tensor({0, 1, 1, 0}, {1, 4});
  EXPECT_EQ(nn::predict(A), (std::vector<int64_t>{0, 1, 0, 1}));  // 0.5 is not > 0.5
  EXPECT_DOUBLE_EQ(nn::accuracy(A, Y), 0.5);
  Tensor P = tensor({0.1, 0.6, 0.3, 0.2,   //
                     0.7, 0.3, 0.3, 0.2,   //
                     0.2, 0.1, 0.4, 0.6},  // argmax per column: 1, 0, 2, 2
                    {3, 4});
  EXPECT_EQ(nn::predict(P), (std::vector<int64_t>{1, 0, 2, 2}));
  EXPECT_DOUBLE_EQ(nn::accuracy(P, nn::one_hot({1, 0, 2, 0}, 3)), 0.75);
  EXPECT_DOUBLE_EQ(nn::accuracy(P, std::vector<int64_t>{1, 1, 1, 2}), 0.5);
  expect_error<ShapeError>([&] { nn::accuracy(P, ones({3, 5})); }, {"(3, 4)", "(3, 5)"});
}

TEST(Metrics, ConfusionMatrix) {
  auto cm = nn::confusion_matrix({0, 1, 2, 2, 1, 0}, {0, 1, 1, 2, 2, 0}, 3);
  EXPECT_EQ(cm.counts, (std::vector<std::vector<int64_t>>{{2, 0, 0}, {0, 1, 1}, {0, 1, 1}}));
  auto bin = nn::confusion_matrix(tensor({0.2, 0.7, 0.5, 0.9}, {1, 4}), tensor({0, 1, 1, 0}, {1, 4}));
  EXPECT_EQ(bin.counts, (std::vector<std::vector<int64_t>>{{1, 1}, {1, 1}}));
  std::ostringstream os;
  os << cm;
  EXPECT_NE(os.str().find("truth"), std::string::npos);
  expect_error<ValueError>([] { nn::confusion_matrix({3}, {0}, 3); }, {"prediction 3", "[0, 3)"});
}

}  // namespace
