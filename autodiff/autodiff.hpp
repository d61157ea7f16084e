/// \file
/// tapegrad autodiff: tensors whose operations are recorded on a tape, and backward() to get
/// the gradients.
///
/// \code{.cpp}
/// #include <autodiff/autodiff.hpp>
///
/// ad::Tensor W = ad::randn({4, 2}).requires_grad_();   // W[1]: (n[1], n[0])
/// ad::Tensor b = ad::zeros({4, 1}).requires_grad_();   // b[1]: (n[1], 1), broadcast over m
/// ad::Tensor X = ad::randn({2, 400});                  // m = 400 samples as columns
/// ad::Tensor A = ad::tanh(ad::matmul(W, X) + b);       // recorded: matmul, add, tanh
/// ad::Tensor J = ad::mean(A * A);                      // a scalar cost
/// J.backward();                                        // walks the tape in reverse
/// std::cout << W.grad();                               // dJ/dW, shaped like W
/// \endcode
///
/// Ops are free functions (ad::matmul, ad::sum, ad::softmax, …) and operators; ad::NoGradGuard
/// turns recording off; ad::grad gives gradients of gradients; ad::gradcheck compares backward
/// with finite differences; ad::to_dot and ad::explain show what was recorded; ad::compile records
/// a whole training step once and replays it (autodiff/compile.hpp).
#pragma once

#include "autodiff/allocator.hpp"
#include "autodiff/anomaly.hpp"
#include "autodiff/compile.hpp"
#include "autodiff/error.hpp"
#include "autodiff/function.hpp"
#include "autodiff/grad_mode.hpp"
#include "autodiff/gradcheck.hpp"
#include "autodiff/graph.hpp"
#include "autodiff/hooks.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/shape.hpp"
#include "autodiff/tensor.hpp"
