// Internal (not installed): the engine's anomaly-detection hooks (autodiff/anomaly.cpp).
#pragma once

#include <atomic>
#include <cstddef>

#include "autodiff/tensor.hpp"

namespace ad::detail {
class Node;

/// The global switch (1 when on) plus the enabling guards alive on any thread: zero means
/// no thread checks anything, so the engine's hooks cost a single load and branch.
extern std::atomic<int> g_anomaly_users;
inline bool anomaly_maybe_on() { return g_anomaly_users.load(std::memory_order_relaxed) != 0; }

/// Forward hook (engine record): throws AnomalyError when `node`'s output holds NaN/Inf.
void anomaly_check_output(const Node& node, const Tensor* const* inputs, size_t n_inputs, const Tensor& output);
/// Backward hook (BackwardContext::add): throws when `grad`, for input `i` of `node`, does.
void anomaly_check_grad(const Node& node, size_t i, const Tensor& grad, const Tensor& grad_out);

}  // namespace ad::detail
