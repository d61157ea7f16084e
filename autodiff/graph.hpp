// Looking at what was recorded: Graphviz DOT and a readable listing with each backward rule.
#pragma once

#include <string>

#include "autodiff/tensor.hpp"

namespace ad {

/// The recorded graph behind `t` as Graphviz DOT: one node per op (name and output shape),
/// one per leaf, edges in the direction data flows.
std::string to_dot(const Tensor& t);
/// The ops behind `t`, one per line in recording order, each with its output shape and its
/// backward rule in math ("dA = dZ · Bᵀ").
std::string explain(const Tensor& t);

}  // namespace ad
