#include "dist/collectives.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/grad_mode.hpp"
#include "dist/context.hpp"
#include "dist/detail/agreement.hpp"
#include "dist/detail/worker.hpp"
#include "nn/metrics.hpp"

namespace ad::dist {

namespace {

// The same conditions as an in-place write (Tensor::copy_), then the same call on every rank.
detail::Worker& prepare(const char* op, const Tensor& t, const std::string& how) {
  if (!t.defined()) throw UsageError(fmt::format("{}: the tensor is undefined", op));
  if (t.requires_grad() && (!t.is_leaf() || is_grad_enabled()))
    throw UsageError(fmt::format("{}: the tensor {} is part of a recorded graph (or a leaf that requires grad, outside "
                                 "NoGradGuard); it is changed in place, so detach() it first",
                                 op, t.shape().str()));
  detail::Worker& worker = Context::current().worker();
  const std::string what = fmt::format("{} {} {}", t.shape().str(), dtype_name(t.dtype()), how);
  detail::require_same(worker, {what}, fmt::format("{}: the ranks passed different tensors", op),
                       "Every rank must make the same collective calls in the same order.");
  return worker;
}

}  // namespace

Tensor all_reduce(const Tensor& t, ReduceOp op) {
  detail::Worker& worker = prepare("all_reduce", t, reduce_op_name(op));
  worker.run([&](Communicator& c) { c.all_reduce(t.raw_data(), t.raw_data(), t.numel(), t.dtype(), op); });
  return t;
}

Tensor broadcast(const Tensor& t, int root) {
  if (root < 0 || root >= Context::current().size())
    throw ValueError(fmt::format("broadcast: root {} is not a rank (0 … {})", root, Context::current().size() - 1));
  detail::Worker& worker = prepare("broadcast", t, fmt::format("from rank {}", root));
  worker.run([&](Communicator& c) {
    c.broadcast(t.raw_data(), t.numel() * static_cast<int64_t>(dtype_size(t.dtype())), root);
  });
  return t;
}

double all_reduce(double value, ReduceOp op) {
  return all_reduce(ad::scalar(value, DType::f64), op).item();
}

double accuracy(const Tensor& A, const std::vector<int64_t>& labels) {
  const double m = static_cast<double>(labels.size());
  const double correct = labels.empty() ? 0.0 : nn::accuracy(A, labels) * m;
  Tensor counts = all_reduce(ad::tensor({std::round(correct), m}, {2}, DType::f64));
  const std::vector<double> c = counts.to_vector();
  return c[1] > 0 ? c[0] / c[1] : 0.0;
}

double accuracy(const Tensor& A, const Tensor& Y) { return accuracy(A, nn::target_labels(Y)); }

}  // namespace ad::dist
