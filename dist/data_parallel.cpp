#include "dist/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "autodiff/compile.hpp"
#include "dist/context.hpp"
#include "dist/detail/agreement.hpp"
#include "dist/detail/worker.hpp"

namespace ad::dist {

std::vector<Bucket> plan_buckets(const std::vector<Tensor>& params, const DataParallelOptions& options) {
  std::vector<Bucket> buckets;
  int64_t bytes = 0;
  for (size_t i = params.size(); i-- > 0;) {
    const Tensor& p = params[i];
    const int64_t limit = buckets.size() <= 1 ? options.first_bucket_bytes : options.bucket_bytes;
    const auto size = static_cast<int64_t>(dtype_size(p.dtype())) * p.numel();
    if (buckets.empty() || buckets.back().dtype != p.dtype() || (bytes > 0 && bytes + size > limit)) {
      buckets.push_back({p.dtype(), {}, 0});
      bytes = 0;
    }
    buckets.back().params.push_back(i);
    buckets.back().elements += p.numel();
    bytes += size;
  }
  return buckets;
}

namespace detail {

// Room to gather a bucket of several parameters' gradients, for a transport that cannot reduce
// them where they lie. Owned jointly by the DataParallel and its queued tasks.
struct BucketBuffers {
  Tensor packed;
};

namespace {

// One bucket's averaging, run on the worker thread: the gradients are final, and nothing else
// touches them until synchronize() has waited for this task.
struct BucketJob {
  std::shared_ptr<BucketBuffers> buffers;
  std::vector<Tensor> grads;

  void operator()(Communicator& comm) const {
    if (comm.size() == 1) return;
    std::vector<Piece> pieces;
    for (const Tensor& g : grads) pieces.push_back({g.raw_data(), g.numel()});
    void* scratch = buffers->packed.defined() ? buffers->packed.raw_data() : nullptr;
    comm.all_reduce_pieces(pieces, scratch, grads[0].dtype(), ReduceOp::Mean);
  }
};

std::string describe(const std::string& name, const Tensor& p) {
  return fmt::format("{} {} {}", name, p.shape().str(), dtype_name(p.dtype()));
}

}  // namespace
}  // namespace detail

DataParallel::DataParallel(const std::vector<Tensor>& params, DataParallelOptions options) : params_(params) {
  for (size_t i = 0; i < params_.size(); ++i) names_.push_back(fmt::format("parameter {}", i));
  start(options);
}

DataParallel::DataParallel(const std::vector<std::pair<std::string, Tensor>>& named_params,
                           DataParallelOptions options) {
  for (const auto& [name, p] : named_params) names_.push_back(name), params_.push_back(p);
  start(options);
}

DataParallel::~DataParallel() = default;

void DataParallel::start(DataParallelOptions options) {
  options_ = options;
  worker_ = &Context::current().worker();
  if (params_.empty()) throw UsageError("DataParallel: no parameters given");
  if (options.bucket_bytes <= 0 || options.first_bucket_bytes <= 0)
    throw ValueError(fmt::format("DataParallel: bucket sizes must be > 0 bytes (first {}, then {})",
                                 options.first_bucket_bytes, options.bucket_bytes));
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (!p.defined() || !p.is_leaf() || !p.requires_grad())
      throw UsageError(fmt::format("DataParallel: {} must be a leaf tensor that requires grad", names_[i]));
    for (size_t j = 0; j < i; ++j)
      if (params_[j].is_same(p))
        throw UsageError(fmt::format("DataParallel: {} and {} are the same tensor", names_[j], names_[i]));
  }
  check_same_everywhere();
  for (const Tensor& p : params_)  // rank 0's initial values, everywhere
    last_ticket_ = worker_->submit([p](Communicator& c) {
      c.broadcast(p.raw_data(), p.numel() * static_cast<int64_t>(dtype_size(p.dtype())), 0);
    });
  worker_->wait(last_ticket_);
  buckets_ = plan_buckets(params_, options_);
  bucket_of_.resize(params_.size());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    for (size_t p : buckets_[b].params) bucket_of_[p] = b;
    auto buffers = std::make_shared<detail::BucketBuffers>();
    if (buckets_[b].params.size() > 1 && !worker_->reduces_pieces_where_they_lie(buckets_[b].dtype))
      buffers->packed = empty({buckets_[b].elements}, buckets_[b].dtype);
    buffers_.push_back(std::move(buffers));
  }
  reset_step();
  for (size_t i = 0; i < params_.size(); ++i)
    hooks_.push_back(on_grad_ready(params_[i], [this, i](const Tensor&) { on_ready(i); }));
}

void DataParallel::check_same_everywhere() {
  std::vector<std::string> lines{
      fmt::format("buckets of {} bytes, the first of {}", options_.bucket_bytes, options_.first_bucket_bytes)};
  for (size_t i = 0; i < params_.size(); ++i) lines.push_back(detail::describe(names_[i], params_[i]));
  detail::require_same(*worker_, lines, "DataParallel: the ranks hold different models",
                       "Every rank must build the same model and pass its parameters in the same order.");
}

void DataParallel::reset_step() {
  waiting_.clear();
  for (const Bucket& b : buckets_) waiting_.push_back(b.params.size());
  ready_.assign(params_.size(), 0);
  next_launch_ = 0;
  step_started_ = false;
}

void DataParallel::on_ready(size_t param) {
  if (no_sync_ > 0) return;
  if (ready_[param])
    throw UsageError(fmt::format(
        "DataParallel: the gradient of {} became final twice without synchronize() in between; call synchronize() "
        "once per step, after backward(), and for several backward() passes in one step wrap all but the last in "
        "no_sync()",
        names_[param]));
  mark_ready(param);
  if (options_.overlap) {
    const size_t before = next_launch_;
    launch_ready();
    launched_in_backward_ += next_launch_ - before;
  }
}

// A parameter that got no gradient in this pass takes part with zeros: every rank sends every
// bucket, so the collectives match.
void DataParallel::mark_ready(size_t param) {
  Tensor p = params_[param];
  if (!p.grad().defined()) p.set_grad(zeros_like(p));
  ready_[param] = 1;
  step_started_ = true;
  --waiting_[bucket_of_[param]];
}

void DataParallel::launch_ready() {
  for (; next_launch_ < buckets_.size() && waiting_[next_launch_] == 0; ++next_launch_) {
    detail::BucketJob job{buffers_[next_launch_], {}};
    for (size_t p : buckets_[next_launch_].params) job.grads.push_back(params_[p].grad());
    last_ticket_ = worker_->submit(std::move(job));
  }
}

// Host code the trace cannot see (it waits on another thread and writes the means into the
// gradients): inside ad::compile, a host call on the parameters, so every replay waits again and
// the replayed optimizer step reads the averaged gradients.
void DataParallel::synchronize() {
  host_call("DataParallel::synchronize", params_, [this] { finish_step(); });
}

void DataParallel::finish_step() {
  if (no_sync_ > 0)
    throw UsageError("DataParallel::synchronize: called inside no_sync(); end the guard's scope first (the last "
                     "backward() of the step runs outside it)");
  if (!step_started_)
    throw UsageError("DataParallel::synchronize: no parameter's gradient became final since the last synchronize(); "
                     "call backward() first, and synchronize() once per step");
  for (size_t p = 0; p < params_.size(); ++p)
    if (!ready_[p]) mark_ready(p);
  launch_ready();
  launched_in_backward_last_ = std::exchange(launched_in_backward_, 0);
  reset_step();
  worker_->wait(last_ticket_);
}

}  // namespace ad::dist
