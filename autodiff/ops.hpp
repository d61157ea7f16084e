// Every differentiable op, by family.
#pragma once

#include "autodiff/ops/elementwise.hpp"
#include "autodiff/ops/fused.hpp"
#include "autodiff/ops/linalg.hpp"
#include "autodiff/ops/losses.hpp"
#include "autodiff/ops/reduction.hpp"
#include "autodiff/ops/shape_ops.hpp"
#include "autodiff/ops/unary.hpp"
