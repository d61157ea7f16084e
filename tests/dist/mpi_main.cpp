// GoogleTest's main under MPI: one Context for the whole run. Rank 0 prints the usual report,
// the other ranks only their failures; the exit status is the worst over the ranks, so mpirun
// (and ctest) see a failure on any rank.
#include <gtest/gtest.h>

#include <cstdio>
#include <dist/dist.hpp>

namespace {

class FailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::printf("rank %d: %s:%d: failure\n%s\n", rank_, result.file_name() ? result.file_name() : "?",
                result.line_number(), result.summary());
    std::fflush(stdout);
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  ad::dist::Context ctx(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  if (ctx.rank() != 0) {
    testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(ctx.rank()));
  }
  const int failed = RUN_ALL_TESTS();
  return static_cast<int>(ad::dist::all_reduce(static_cast<double>(failed), ad::dist::ReduceOp::Max));
}
