// Activation: the one vocabulary for the functions g of a layer, A = g(Z). The ops take it
// (ad::activate, and the fused ad::bias_act and ad::linear), and so does the nn layer
// (nn::mlp, the activation modules, Sequential's fusion).
#pragma once

namespace ad {

/// The activation functions g. LeakyReLU has slope 0.01 unless a slope is given; Softmax runs
/// over dim 0, the classes in the nn layer's column layout.
enum class Activation { Identity, Sigmoid, ReLU, Tanh, LeakyReLU, Softmax };

/// "identity", "sigmoid", "relu", "tanh", "leaky_relu" or "softmax".
const char* activation_name(Activation g);

/// Whether the fused ops (ad::bias_act, ad::linear) take g: an elementwise g whose derivative
/// is a function of its output A alone (identity, sigmoid, relu, tanh).
bool is_fusable(Activation g);

}  // namespace ad
