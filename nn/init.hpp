// Weight initializers for a dense layer W[l] of shape (n[l], n[l-1]). Biases always start at 0.
#pragma once

#include <cstdint>

#include "autodiff/tensor.hpp"

namespace ad::nn {

/// How a layer's W[l] is drawn (ad::nn::Linear, ad::nn::mlp).
enum class Init {
  He,      ///< N(0, 2/n[l-1]): keeps the variance of ReLU activations from layer to layer
  Xavier,  ///< Glorot normal N(0, 2/(n[l-1] + n[l])): for sigmoid and tanh layers
  Small,   ///< randn × 0.01: fine for shallow nets, vanishes in deep ones
  Zeros,   ///< all zero: every unit of a layer stays identical (shows why symmetry must break)
};

/// "He", "Xavier", "Small" or "Zeros".
const char* init_name(Init init);

/// A fresh W[l] of shape (n, n_prev) drawn from this thread's generator (ad::manual_seed).
Tensor initial_weight(int64_t n, int64_t n_prev, Init init, DType dtype = DType::f32);

}  // namespace ad::nn
