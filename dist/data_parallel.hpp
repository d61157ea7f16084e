// DataParallel: every rank holds the same model and computes the gradient of its own share of
// the global mini-batch; the gradients are averaged across ranks before each optimizer step,
// so that every rank takes the step one process would take on the whole batch.
//
//   ad::dist::DataParallel dp(net.named_parameters());   // rank 0's values everywhere
//   for (…) {
//     opt.zero_grad();
//     J.backward();        // each bucket's all-reduce starts as soon as its gradients are final
//     dp.synchronize();    // waits for the rest: .grad() is the mean over ranks
//     opt.step();
//   }
//
// Gradients travel in buckets, in reverse parameter order (backward makes the last layer's
// gradients final first), launched in the same order on every rank, each as soon as all of its
// gradients are final and the buckets before it have been launched. They are averaged by a
// background thread while backward goes on with earlier layers. The loop body may be compiled
// with ad::compile: its replays fire the hooks and run synchronize() again at the same points.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/hooks.hpp"
#include "autodiff/tensor.hpp"

namespace ad::dist {

namespace detail {
class Worker;
struct BucketBuffers;
}  // namespace detail

/// How DataParallel groups and launches the all-reduces.
struct DataParallelOptions {
  /// Bytes of gradients per bucket after the first (PyTorch DDP's default, 25 MB). A parameter
  /// larger than this gets a bucket of its own.
  int64_t bucket_bytes = int64_t{25} << 20;
  /// Bytes of the first bucket: small, so that the first all-reduce starts early.
  int64_t first_bucket_bytes = int64_t{1} << 20;
  /// Launch each bucket while backward goes on; false launches them all in synchronize(),
  /// after backward (the same buckets in the same order: the same results, bit for bit).
  bool overlap = true;
};

/// One bucket: parameters (indices into DataParallel's list) whose gradients are averaged
/// together, in the order they are packed; one dtype.
struct Bucket {
  DType dtype = DType::f32;     ///< the dtype of every gradient in the bucket
  std::vector<size_t> params;   ///< indices into DataParallel's parameters, in packing order
  int64_t elements = 0;         ///< the sum of their element counts
};

/// The buckets DataParallel uses for `params`: in reverse order, a new bucket when the dtype
/// changes or the next gradient would pass the bucket's byte limit.
std::vector<Bucket> plan_buckets(const std::vector<Tensor>& params, const DataParallelOptions& options);

/// Averages the gradients of the same parameters on every rank, overlapped with backward()
/// (see the top of this header).
class DataParallel {
 public:
  /// Checks that every rank passes the same parameters — count, order, shapes, dtypes, and the
  /// options' bucket sizes — then copies rank 0's values into every rank's parameters. A
  /// difference is a MismatchError on every rank, naming the first differing parameter (by
  /// position here), before any value is exchanged. Needs a Context. Parameters must be
  /// distinct leaves that require grad (UsageError).
  explicit DataParallel(const std::vector<Tensor>& params, DataParallelOptions options = {});
  /// The same with names (Module::named_parameters()), which the checks compare and name too.
  explicit DataParallel(const std::vector<std::pair<std::string, Tensor>>& named_params,
                        DataParallelOptions options = {});
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  /// Completes this step's averaging: launches the buckets backward() has not launched (a
  /// parameter that got no gradient counts as zeros), waits for all of them, and leaves every
  /// parameter's .grad() holding the mean over ranks. Call it once per step, after backward()
  /// and before the optimizer's step(). UsageError when no gradient became final since the
  /// last synchronize() (no backward(), or synchronize() called twice) or inside no_sync();
  /// PeerError when another rank failed or left. Inside a function compiled by ad::compile it
  /// is a host call (ad::host_call): every replay waits for the buckets its backward launched.
  void synchronize();

  /// While a NoSync lives, backward() only accumulates gradients locally (for gradient
  /// accumulation: wrap every backward of a step but the last one).
  /// The guard of no_sync().
  class NoSync {
   public:
    /// Suspends dp's averaging until this guard ends.
    explicit NoSync(DataParallel& dp) : dp_(&dp) { ++dp.no_sync_; }
    /// Takes over other's suspension.
    NoSync(NoSync&& other) noexcept : dp_(std::exchange(other.dp_, nullptr)) {}
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;
    NoSync& operator=(NoSync&&) = delete;
    ~NoSync() {
      if (dp_) --dp_->no_sync_;
    }

   private:
    DataParallel* dp_;
  };
  /// A guard that suspends averaging for its scope: `{ auto guard = dp.no_sync(); J.backward(); }`.
  [[nodiscard]] NoSync no_sync() { return NoSync(*this); }

  /// The buckets, in launch order.
  const std::vector<Bucket>& buckets() const { return buckets_; }
  /// How many buckets the last synchronized step launched during backward (the rest were
  /// launched by synchronize()).
  size_t buckets_launched_in_backward() const { return launched_in_backward_last_; }

 private:
  void start(DataParallelOptions options);
  void check_same_everywhere();
  void on_ready(size_t param);
  void mark_ready(size_t param);
  void launch_ready();
  void finish_step();
  void reset_step();

  std::vector<Tensor> params_;
  std::vector<std::string> names_;
  DataParallelOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<std::shared_ptr<detail::BucketBuffers>> buffers_;  // shared with queued tasks
  std::vector<size_t> bucket_of_;                // parameter → bucket
  std::vector<size_t> waiting_;                  // per bucket: parameters not final yet
  std::vector<uint8_t> ready_;                   // per parameter, this step
  std::vector<HookHandle> hooks_;
  detail::Worker* worker_ = nullptr;
  size_t next_launch_ = 0;
  uint64_t last_ticket_ = 0;
  size_t launched_in_backward_ = 0, launched_in_backward_last_ = 0;
  bool step_started_ = false;
  int no_sync_ = 0;
};

}  // namespace ad::dist
