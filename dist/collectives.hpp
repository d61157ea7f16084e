// Building blocks: a tensor or a number combined over all ranks, and metrics over a data set
// split across ranks. Each is a collective: every rank calls it, in the same order.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"
#include "dist/communicator.hpp"

namespace ad::dist {

/// Replaces the values of `t` in place by their combination over all ranks — Sum, Mean (the
/// sum divided by the number of ranks) or Max — and returns `t`. Not recorded: `t` must not be
/// part of a recorded graph (UsageError, as for Tensor::copy_). Every rank passes the same
/// shape and dtype (MismatchError on every rank otherwise, before any value is exchanged).
Tensor all_reduce(const Tensor& t, ReduceOp op = ReduceOp::Sum);
/// Copies rank `root`'s values of `t` into `t` on every rank, in place; returns `t`. The same
/// conditions as all_reduce.
Tensor broadcast(const Tensor& t, int root = 0);
/// A number combined over all ranks (a count, a sum of costs, a largest value).
double all_reduce(double value, ReduceOp op = ReduceOp::Sum);

/// nn::accuracy over every rank's columns together: each rank passes the predictions A
/// (n[L], m_rank) and the labels of its own share of a data set (nn::shard_range); every rank
/// gets the accuracy one process computes on the whole set.
double accuracy(const Tensor& A, const std::vector<int64_t>& labels);
/// The same with targets Y (one-hot, or one row of 0/1 labels).
double accuracy(const Tensor& A, const Tensor& Y);

}  // namespace ad::dist
