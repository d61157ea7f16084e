// The transport's all-reduce with values every rank can predict: sum, mean and max of f32 and
// f64, in place and into another buffer, for 0, 1 and an odd number of elements and for buffers
// that take several chunks; NaN goes through; every rank ends with the same bits. Run with the
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

// More elements than one chunk takes (16 MB per call), twice over, and an odd remainder.
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
