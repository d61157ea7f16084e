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

// Data-parallel sharding: rank r's batch k is its part of the global batch k, every rank gets
// the same number of batches of the same size, and together they cover the batch once.
void expect_shards_partition_global_batches(int64_t m, int64_t batch, int ranks) {
  auto [X, Y] = indexed(m);
  manual_seed(3);
  nn::MiniBatches global(X, Y, batch);
  std::vector<nn::MiniBatches> parts;
  for (int r = 0; r < ranks; ++r) {
    manual_seed(3);
    parts.push_back(nn::MiniBatches(X, Y, batch).shard(r, ranks));
  }
  const int64_t rest = m % batch, kept_rest = rest - rest % ranks;
  const size_t expected_batches = static_cast<size_t>(m / batch + (kept_rest > 0 ? 1 : 0));
  for (int r = 0; r < ranks; ++r) ASSERT_EQ(parts[r].size(), expected_batches) << "rank " << r;
  for (size_t k = 0; k < expected_batches; ++k) {
    const std::vector<double> whole = global[k].X.to_vector();
    const int64_t used = static_cast<int64_t>(k) < m / batch ? batch : kept_rest;
    std::vector<double> joined;
    for (int r = 0; r < ranks; ++r) {
      const nn::Batch b = parts[r][k];
      ASSERT_EQ(b.X.size(1), used / ranks) << "rank " << r << ", batch " << k;
      const std::vector<double> x = b.X.to_vector(), y = b.Y.to_vector();
      for (size_t j = 0; j < y.size(); ++j) EXPECT_EQ(y[j], 2 * x[j]);
      joined.insert(joined.end(), x.begin(), x.begin() + b.X.size(1));
    }
    EXPECT_EQ(joined, std::vector<double>(whole.begin(), whole.begin() + used)) << "batch " << k;
  }
}

TEST(MiniBatches, ShardsSplitEveryGlobalBatchEvenly) {
  expect_shards_partition_global_batches(96, 16, 4);   // m a multiple of N·batch
  expect_shards_partition_global_batches(103, 8, 4);   // last batch of 7: 4 columns kept, 1 each
  expect_shards_partition_global_batches(98, 8, 4);    // last batch of 2 < N: dropped on every rank
  expect_shards_partition_global_batches(50, 12, 3);
  expect_shards_partition_global_batches(10, 4, 1);    // one rank: the plain batches
}

TEST(MiniBatches, ShardNeedsABatchThatSplitsEvenly) {
  auto [X, Y] = indexed(20);
  nn::MiniBatches batches(X, Y, 10);
  expect_error<ValueError>([&] { batches.shard(0, 4); }, {"batch of 10 columns", "4 ranks"});
  expect_error<ValueError>([&] { batches.shard(4, 4); }, {"rank 4 of 4"});
}

TEST(Shards, RangesCoverTheDataSetOnce) {
  std::vector<int64_t> sizes;
  int64_t next = 0;
  for (int r = 0; r < 3; ++r) {
    const nn::ColumnRange part = nn::shard_range(10, r, 3);
    EXPECT_EQ(part.begin, next);
    next = part.end;
    sizes.push_back(part.size());
  }
  EXPECT_EQ(next, 10);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(nn::shard_range(2, 2, 3).size(), 0);
  const nn::ColumnRange b = nn::batch_shard(10, 2, 3);
  EXPECT_EQ(b.begin, 6);
  EXPECT_EQ(b.end, 9);  // column 9 belongs to no rank
  expect_error<ValueError>([] { nn::shard_range(-1, 0, 1); }, {"m = -1"});
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
