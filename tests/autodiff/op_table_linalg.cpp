// Rows of the op table: matrix products, the fused losses and the fused layer ops.
#include "autodiff/ops/detail/fusion.hpp"
#include "op_table.hpp"

namespace op_table {

std::vector<OpInfo> linalg_rows() {
  return {
      {.name = "matmul",
       .op = [](V x) { return ad::matmul(x[0], x[1]); },
       .samples = {{"2x3_3x4", {normal({2, 3}), normal({3, 4})}},
                   {"matrix_vector", {normal({4, 3}), normal({3, 1})}},
                   {"constant_rhs", {normal({2, 3}), constant(normal({3, 4}))}},
                   {"tanh_of", {normal({2, 3}), normal({3, 4})}, [](V x) { return ad::tanh(ad::matmul(x[0], x[1])); }}},
       .errors = {shape_error("inner_dims_differ", {"matmul", "(2, 3)", "(2, 3)", "inner dimensions 3 and 2"},
                              [] { (void)ad::matmul(ad::ones({2, 3}), ad::ones({2, 3})); }),
                  shape_error("1d_operand", {"matmul", "(3,)", "2-D"}, [] { (void)ad::matmul(ad::ones({2, 3}), ad::ones({3})); }),
                  shape_error("3d_operand", {"matmul", "(2, 3, 1)", "2-D"},
                              [] { (void)ad::matmul(ad::ones({2, 3, 1}), ad::ones({2, 3})); })}},
      // gemm without a transpose is matmul, and names itself so
      {.name = "gemm",
       .op = [](V x) { return ad::gemm(x[0], x[1], true, false); },
       .samples = {{"tn", {normal({3, 2}), normal({3, 4})}},
                   {"nn", {normal({2, 3}), normal({3, 4})}, [](V x) { return ad::gemm(x[0], x[1], false, false); }},
                   {"nt", {normal({2, 3}), normal({4, 3})}, [](V x) { return ad::gemm(x[0], x[1], false, true); }},
                   {"tt", {normal({3, 2}), normal({4, 3})}, [](V x) { return ad::gemm(x[0], x[1], true, true); }},
                   {"gram", {normal({3, 4})}, [](V x) { return ad::gemm(x[0], x[0], false, true); }},
                   {"tt_squared", {normal({3, 2}), normal({4, 3})},
                    [](V x) { return ad::gemm(x[0], x[1], true, true) * ad::gemm(x[0], x[1], true, true); }}},
       .errors = {shape_error("inner_dims_differ_transposed", {"gemm", "inner dimensions"},
                              [] { (void)ad::gemm(ad::ones({2, 3}), ad::ones({2, 3}), true, true); })}},
  };
}

std::vector<OpInfo> loss_rows() {
  return {
      {.name = "softmax_cross_entropy",
       .op = [](V x) { return ad::softmax_cross_entropy(x[0], x[1], 0); },
       .samples = {{"onehot_dim0", {normal({4, 5}), onehot({4, 5})}},
                   {"soft_targets_dim0", {normal({4, 5}), unit({4, 5})}},
                   {"dim1", {normal({3, 4}), unit({3, 4})}, [](V x) { return ad::softmax_cross_entropy(x[0], x[1], 1); }},
                   {"3d_middle", {normal({2, 3, 4}), unit({2, 3, 4})},
                    [](V x) { return ad::softmax_cross_entropy(x[0], x[1], -2); }},
                   {"tanh_layer", {normal({4, 3}), normal({4, 1}), constant(normal({3, 5})), onehot({4, 5})},
                    [](V x) { return ad::softmax_cross_entropy(ad::tanh(ad::matmul(x[0], x[2]) + x[1]), x[3]); }}},
       .errors = {shape_error("shapes_differ", {"softmax_cross_entropy: logits (3, 4) and targets (3, 5)"},
                              [] { (void)ad::softmax_cross_entropy(ad::ones({3, 4}), ad::ones({3, 5})); }),
                  dtype_error("dtypes_differ", {"softmax_cross_entropy: logits are float32 but targets are float64"},
                              [] { (void)ad::softmax_cross_entropy(ad::ones({3, 4}), ad::ones({3, 4}, ad::DType::f64)); }),
                  shape_error("dim_out_of_range", {"softmax_cross_entropy: dim 2"},
                              [] { (void)ad::softmax_cross_entropy(ad::ones({3, 4}), ad::ones({3, 4}), 2); }),
                  shape_error("empty", {"softmax_cross_entropy", "empty"},
                              [] { (void)ad::softmax_cross_entropy(ad::ones({3, 0}), ad::ones({3, 0})); })}},
      {.name = "binary_cross_entropy_with_logits",
       .op = [](V x) { return ad::binary_cross_entropy_with_logits(x[0], x[1]); },
       .samples = {{"1x6", {normal({1, 6}), unit({1, 6})}},
                   {"wide_logits", {normal({3, 4}), constant(unit({3, 4}))},
                    [](V x) { return ad::binary_cross_entropy_with_logits(x[0] * 5.0, x[1]); }}},
       .errors = {shape_error("shapes_differ", {"binary_cross_entropy_with_logits: logits (4,) and targets (1, 4)"},
                              [] { (void)ad::binary_cross_entropy_with_logits(ad::ones({4}), ad::ones({1, 4})); }),
                  shape_error("empty", {"binary_cross_entropy_with_logits", "empty"},
                              [] { (void)ad::binary_cross_entropy_with_logits(ad::ones({0}), ad::ones({0})); })}},
      {.name = "binary_cross_entropy",
       .op = [](V x) { return ad::binary_cross_entropy(x[0], x[1]); },
       .samples = {{"2x3", {prob({2, 3}), unit({2, 3})}},
                   {"after_sigmoid", {normal({1, 6}), constant(unit({1, 6}))},
                    [](V x) { return ad::binary_cross_entropy(ad::sigmoid(x[0]), x[1]); }}},
       .errors = {shape_error("shapes_differ", {"binary_cross_entropy", "(2, 3)", "(3, 2)"},
                              [] { (void)ad::binary_cross_entropy(ad::full({2, 3}, 0.5), ad::ones({3, 2})); })}},
  };
}

std::vector<OpInfo> fused_rows() {
  using ad::Activation;
  const std::vector<In> z_col = {normal({3, 4}), normal({3, 1})};
  return {
      // relu's bias is scaled so Z + b stays ≥ 0.09 from the kink
      {.name = "bias_act",
       .op = [](V x) { return ad::bias_act(x[0], x[1], Activation::Sigmoid); },
       .samples = {{"sigmoid", z_col},
                   {"tanh", z_col, [](V x) { return ad::bias_act(x[0], x[1], Activation::Tanh); }},
                   {"tanh_row_bias", {normal({3, 4}), normal({1, 4})},
                    [](V x) { return ad::bias_act(x[0], x[1], Activation::Tanh); }},
                   {"relu", {spaced({3, 4}), normal({3, 1})},
                    [](V x) { return ad::bias_act(x[0], x[1] * 0.01, Activation::ReLU); }},
                   {"relu_times_z", {spaced({3, 4}), normal({3, 1})},
                    [](V x) { return ad::bias_act(x[0], x[1] * 0.01, Activation::ReLU) * x[0]; }},
                   {"identity_row_bias", {normal({3, 4}), normal({1, 4})},
                    [](V x) { return ad::bias_act(x[0], x[1], Activation::Identity); }}},
       .errors = {shape_error("bias_does_not_broadcast", {"bias_act", "(4, 5)", "(3, 1)"},
                              [] { (void)ad::bias_act(ad::ones({4, 5}), ad::ones({3, 1}), Activation::ReLU); }),
                  shape_error("bias_widens_z", {"bias_act", "(4, 5)", "(4, 1)", "Z's shape"},
                              [] { (void)ad::bias_act(ad::ones({4, 1}), ad::ones({4, 5}), Activation::Sigmoid); })}},
      {.name = "linear",
       .op = [](V x) { return ad::linear(x[0], x[1], x[2], Activation::Sigmoid); },
       .samples = {{"sigmoid", {normal({3, 2}), normal({2, 5}), normal({3, 1})}},
                   {"tanh_constant_x", {normal({3, 2}), constant(normal({2, 5})), normal({3, 1})},
                    [](V x) { return ad::linear(x[0], x[1], x[2], Activation::Tanh); }},
                   {"identity", {normal({3, 2}), normal({2, 5}), normal({3, 1})},
                    [](V x) { return ad::linear(x[0], x[1], x[2], Activation::Identity); }}},
       .errors = {shape_error("inner_dims_differ", {"linear", "(4, 3)", "(2, 5)"},
                              [] { (void)ad::linear(ad::ones({4, 3}), ad::ones({2, 5}), ad::ones({4, 1}), Activation::ReLU); }),
                  shape_error("bias_does_not_fit", {"linear", "(5, 1)", "(4, 5)"},
                              [] { (void)ad::linear(ad::ones({4, 3}), ad::ones({3, 5}), ad::ones({5, 1}), Activation::ReLU); })}},
      {.name = "act_backward",
       .op = [](V x) { return ad::act_backward(x[0], x[1], Activation::Sigmoid); },
       .samples = {{"sigmoid", {normal({3, 4}), unit({3, 4})}},
                   {"tanh", {normal({3, 4}), normal({3, 4})}, [](V x) { return ad::act_backward(x[0], x[1], Activation::Tanh); }},
                   {"relu", {normal({3, 4}), spaced({3, 4})}, [](V x) { return ad::act_backward(x[0], x[1], Activation::ReLU); }}},
       .errors = {shape_error("shapes_differ", {"act_backward", "(4, 5)", "(4, 1)"},
                              [] { (void)ad::act_backward(ad::ones({4, 5}), ad::ones({4, 1}), Activation::Sigmoid); })}},
  };
}

}  // namespace op_table
