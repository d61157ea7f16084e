// The transport's all-reduce with values every rank can predict: sum, mean and max of f32 and
// f64, in place and into another buffer, for 0, 1 and an odd number of elements and for buffers
// that take several chunks; a bucket's pieces reduced where they lie; NaN goes through; every
// rank ends with the same bits. Run with the
// shared-memory window (the default on one machine) and, by a second ctest entry with
// TAPEGRAD_DIST_SHM=0, through MPI.
#include <cstring>
#include <functional>

#include "dist/detail/worker.hpp"
#include "dist_test_util.hpp"

namespace {

namespace dist = ad::dist;
using ad::DType;
using dist::ReduceOp;
using dist_test::rank;
using dist_test::ranks;

// More elements than one chunk takes (16 MB per MPI call, 4 MB through the window), twice over,
// and an odd remainder.
constexpr int64_t kSeveralChunksBytes = (int64_t{32} << 20) + 12;

void run(const std::function<void(dist::Communicator&)>& f) { dist::Context::current().worker().run(f); }

// Rank r's value at i: small integers and halves, so that sums and means are exact in f32.
template <class T>
T value(int r, int64_t i) {
  return static_cast<T>((i * 7 + r * 13) % 101) - T(50) + T(0.5) * static_cast<T>(r % 2);
}

// op over ranks in rank order, as the test's reference.
template <class T>
T expected(int64_t i, ReduceOp op) {
  T acc = value<T>(0, i);
  for (int r = 1; r < ranks(); ++r) acc = op == ReduceOp::Max ? std::max(acc, value<T>(r, i)) : acc + value<T>(r, i);
  return op == ReduceOp::Mean ? acc / static_cast<T>(ranks()) : acc;
}

template <class T>
void check_known_values(int64_t count, ReduceOp op, bool in_place) {
  const DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
  std::vector<T> send(static_cast<size_t>(count)), recv(send.size(), T(-7));
  for (int64_t i = 0; i < count; ++i) send[static_cast<size_t>(i)] = value<T>(rank(), i);
  T* out = in_place ? send.data() : recv.data();
  run([&](dist::Communicator& c) { c.all_reduce(send.data(), out, count, dtype, op); });
  int64_t wrong = 0, first = -1;
  for (int64_t i = 0; i < count; ++i)
    if (out[i] != expected<T>(i, op)) wrong += 1, first = first < 0 ? i : first;
  EXPECT_EQ(wrong, 0) << count << " elements, " << dist::reduce_op_name(op) << ", first wrong at " << first;
  if (!in_place) {
    for (int64_t i = 0; i < count; ++i) ASSERT_EQ(send[static_cast<size_t>(i)], value<T>(rank(), i));
  }
}

template <class T>
void check_all_sizes() {
  const int64_t sizes[] = {0, 1, 7, 1001, kSeveralChunksBytes / static_cast<int64_t>(sizeof(T))};
  for (int64_t count : sizes)
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max})
      for (bool in_place : {true, false}) check_known_values<T>(count, op, in_place);
}

TEST(AllReduce, KnownValuesF32) { check_all_sizes<float>(); }
TEST(AllReduce, KnownValuesF64) { check_all_sizes<double>(); }

// A NaN on any rank makes the result NaN, for sum and for max alike, wherever it sits.
template <class T>
void check_nan(ReduceOp op) {
  const DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
  const int64_t count = 1001;
  std::vector<T> x(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) x[static_cast<size_t>(i)] = value<T>(rank(), i);
  const T nan = std::numeric_limits<T>::quiet_NaN();
  if (rank() == 0) x[3] = nan;
  if (rank() == ranks() - 1) x[500] = nan, x[1000] = nan;
  run([&](dist::Communicator& c) { c.all_reduce(x.data(), x.data(), count, dtype, op); });
  for (int64_t i = 0; i < count; ++i) {
    if (i == 3 || i == 500 || i == 1000)
      EXPECT_TRUE(std::isnan(x[static_cast<size_t>(i)])) << dist::reduce_op_name(op) << " at " << i;
    else
      EXPECT_EQ(x[static_cast<size_t>(i)], expected<T>(i, op)) << dist::reduce_op_name(op) << " at " << i;
  }
}

TEST(AllReduce, NanGoesThrough) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max}) {
    check_nan<float>(op);
    check_nan<double>(op);
  }
}

// A bucket's gradients reduced where they lie: pieces of assorted lengths (empty ones, one that
// spans chunks, chunk boundaries inside others) end with the bits the same values get when
// reduced as one buffer, and only the pieces are written.
template <class T>
void check_pieces(ReduceOp op) {
  const DType dtype = sizeof(T) == 4 ? DType::f32 : DType::f64;
  const auto chunk = static_cast<int64_t>((int64_t{4} << 20) / sizeof(T));
  const std::vector<int64_t> lengths = {0, 3, chunk + 5, 0, 1, chunk / 2 + 7, 1001, 0};
  constexpr int64_t kGuard = 4;
  const T untouched = T(-3.25);
  int64_t total = 0;
  for (int64_t n : lengths) total += n;
  ad::manual_seed(static_cast<uint64_t>(7 + rank()));
  const ad::Tensor values = ad::randn({total}, dtype);
  const T* v = values.data<T>();
  std::vector<T> whole(v, v + total), spaced;  // spaced: the pieces, each between guards
  std::vector<int64_t> starts;
  for (int64_t n : lengths) {
    spaced.insert(spaced.end(), kGuard, untouched);
    starts.push_back(static_cast<int64_t>(spaced.size()));
    spaced.insert(spaced.end(), v, v + n);
    v += n;
  }
  spaced.insert(spaced.end(), kGuard, untouched);
  std::vector<dist::Piece> pieces;
  for (size_t i = 0; i < lengths.size(); ++i) pieces.push_back({spaced.data() + starts[i], lengths[i]});
  std::vector<T> scratch(static_cast<size_t>(total));
  run([&](dist::Communicator& c) {
    c.all_reduce(whole.data(), whole.data(), total, dtype, op);
    c.all_reduce_pieces(pieces, scratch.data(), dtype, op);
  });
  int64_t at = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    EXPECT_EQ(std::memcmp(spaced.data() + starts[i], whole.data() + at, static_cast<size_t>(lengths[i]) * sizeof(T)), 0)
        << "piece " << i << " of " << lengths[i] << " elements, " << dist::reduce_op_name(op);
    at += lengths[i];
    for (int64_t g = 1; g <= kGuard; ++g) ASSERT_EQ(spaced[static_cast<size_t>(starts[i] - g)], untouched) << "before piece " << i;
  }
  for (int64_t g = 1; g <= kGuard; ++g) ASSERT_EQ(spaced[spaced.size() - static_cast<size_t>(g)], untouched);
}

TEST(AllReduce, PiecesWhereTheyLie) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max}) {
    check_pieces<float>(op);
    check_pieces<double>(op);
  }
}

// A transport that gathers the pieces needs room to gather them in.
TEST(AllReduce, PiecesWithoutScratch) {
  std::vector<float> a(3, 1.0f), b(5, 2.0f);
  const std::vector<dist::Piece> pieces = {{a.data(), 3}, {b.data(), 5}};
  run([&](dist::Communicator& c) {
    if (c.reduces_pieces_where_they_lie(DType::f32)) {
      c.all_reduce_pieces(pieces, nullptr, DType::f32, ReduceOp::Sum);
      EXPECT_EQ(a[2], static_cast<float>(ranks()));
      EXPECT_EQ(b[4], 2.0f * static_cast<float>(ranks()));
      return;
    }
    try {
      c.all_reduce_pieces(pieces, nullptr, DType::f32, ReduceOp::Sum);
      ADD_FAILURE() << "no UsageError";
    } catch (const ad::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("all_reduce_pieces: 2 pieces and no scratch buffer"), std::string::npos)
          << e.what();
    }
  });
}

// Values whose sums round: every rank must still hold the same bits.
TEST(AllReduce, EveryRankGetsTheSameBits) {
  const int64_t count = kSeveralChunksBytes / 4 + 5;
  ad::manual_seed(static_cast<uint64_t>(100 + rank()));
  ad::Tensor t = ad::randn({count});
  float* p = t.data<float>();
  std::string bytes;
  run([&](dist::Communicator& c) {
    c.all_reduce(p, p, count, DType::f32, ReduceOp::Mean);
    const std::vector<std::string> all = c.all_gather(std::to_string(std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(count) * 4))));
    bytes = all[0];
    for (const std::string& h : all) EXPECT_EQ(h, all[0]);
  });
  EXPECT_FALSE(bytes.empty());
}

}  // namespace
