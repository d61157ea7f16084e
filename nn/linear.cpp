#include "nn/linear.hpp"

#include <fmt/format.h>

#include <string>

namespace ad::nn {

Linear::Linear(int64_t n_prev, int64_t n, Init init, DType dtype)
    : W(initial_weight(n, n_prev, init, dtype)), b(zeros({n, 1}, dtype)) {
  W.requires_grad_();
  b.requires_grad_();
}

void Linear::visit_parameters(const ParameterVisitor& visit) {
  visit(fmt::format("W{}", layer_), W);
  visit(fmt::format("b{}", layer_), b);
}

void Linear::reset_parameters(Init init) {
  NoGradGuard no_grad;
  W.copy_(initial_weight(out_features(), in_features(), init, W.dtype()));
  b.fill_(0.0);
}

// The commonest mistake, samples as rows (batch-first, as in other frameworks): when A_prev's
// columns match n[l-1], say so and how to fix it.
static std::string transposed_hint(const Linear& lin, const Tensor& A_prev) {
  const int64_t rows = A_prev.size(0), cols = A_prev.size(1), n_prev = lin.in_features();
  if (cols != n_prev) return "";
  const int l = lin.layer();
  const std::string name = l == 1 ? "X" : fmt::format("A{}", l - 1);
  return fmt::format(". A{0} is {1}: samples are columns here, so {2} must be (n[{0}], m) = ({3}, {4}); pass {5}.T()",
                     l - 1, A_prev.shape().str(), l == 1 ? "X = A0" : name, n_prev, rows, name);
}

// Throws unless A_prev can enter this layer, in the notation ("layer 2: W2 is (1, 4) but …").
static void check_input(const Linear& lin, const Tensor& A_prev) {
  const int l = lin.layer();
  if (!A_prev.defined()) throw UsageError(fmt::format("layer {}: A{} is undefined", l, l - 1));
  if (A_prev.dim() != 2)
    throw ShapeError(fmt::format("layer {}: A{} is {} but must be 2-D (n[{}], m) = ({}, m), samples as columns", l,
                                 l - 1, A_prev.shape().str(), l - 1, lin.in_features()));
  if (A_prev.size(0) != lin.in_features())
    throw ShapeError(fmt::format("layer {}: W{} is {} but A{} has {} rows; expected n[{}] = {}{}", l, l,
                                 lin.W.shape().str(), l - 1, A_prev.size(0), l - 1, lin.in_features(),
                                 transposed_hint(lin, A_prev)));
  if (A_prev.dtype() != lin.W.dtype())
    throw DTypeError(fmt::format("layer {}: W{} is {} but A{} is {}; convert the input or call model.to(DType)", l, l,
                                 dtype_name(lin.W.dtype()), l - 1, dtype_name(A_prev.dtype())));
}

Tensor Linear::forward(const Tensor& A_prev) {
  check_input(*this, A_prev);
  return matmul(W, A_prev) + b;
}

Tensor Linear::forward_act(const Tensor& A_prev, Activation g) {
  check_input(*this, A_prev);
  return ad::linear(W, A_prev, b, g);
}

}  // namespace ad::nn
