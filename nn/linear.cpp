#include "nn/linear.hpp"

#include <fmt/format.h>

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

// Throws unless A_prev can enter this layer, in the notation ("layer 2: W2 is (1, 4) but …").
static void check_input(const Linear& lin, const Tensor& A_prev) {
  const int l = lin.layer();
  if (!A_prev.defined()) throw UsageError(fmt::format("layer {}: A{} is undefined", l, l - 1));
  if (A_prev.dim() != 2)
    throw ShapeError(fmt::format("layer {}: A{} is {} but must be 2-D (n[{}], m) = ({}, m), samples as columns", l,
                                 l - 1, A_prev.shape().str(), l - 1, lin.in_features()));
  if (A_prev.size(0) != lin.in_features())
    throw ShapeError(fmt::format("layer {}: W{} is {} but A{} has {} rows; expected n[{}] = {}", l, l,
                                 lin.W.shape().str(), l - 1, A_prev.size(0), l - 1, lin.in_features()));
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
