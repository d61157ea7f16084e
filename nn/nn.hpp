/// \file
/// tapegrad nn: layers, costs, optimizers and training utilities in the notation of the classic
/// deep-learning course (Andrew Ng's Deep Learning Specialization). Samples are COLUMNS:
/// X = A[0] is (n[0], m); layer l computes Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]) with
/// W[l] (n[l], n[l-1]) and b[l] (n[l], 1).
///
/// \code{.cpp}
/// #include <nn/nn.hpp>
/// namespace nn = ad::nn;
///
/// ad::manual_seed(1);
/// nn::Dataset data = nn::flower();                     // X (2, 400), Y (1, 400)
/// nn::Sequential net;                                  // the two-layer network 2 → 4 → 1
/// net.add(nn::Linear(2, 4, nn::Init::Small)).add(nn::Tanh())
///    .add(nn::Linear(4, 1, nn::Init::Small)).add(nn::Sigmoid());
/// std::cout << net;                                    // W1: (4, 2), b1: (4, 1), …
/// ad::optim::SGD sgd(net.parameters(), 1.2);           // W[l] := W[l] − α·dW[l]
/// for (int i = 0; i < 10000; ++i) {
///   ad::Tensor A2 = net.forward(data.X);               // forward propagation
///   ad::Tensor J = nn::binary_cross_entropy(A2, data.Y);   // the cost, averaged over m
///   sgd.zero_grad();
///   J.backward();                                      // backward propagation: dW[l], db[l]
///   sgd.step();                                        // gradient descent
/// }
/// double acc = nn::accuracy(net.forward(data.X), data.Y);
/// nn::save(net, "flower.safetensors");                 // keys W1, b1, W2, b2
/// \endcode
///
/// Deeper nets: nn::mlp({n0, n1, …, nL}, Activation::ReLU, Activation::Sigmoid). Multi-class:
/// an Identity output and nn::softmax_cross_entropy(Z, Y_onehot) (or integer labels).
/// Mini-batches: nn::MiniBatches; optimizers: ad::optim::SGD / RMSprop / Adam with schedules.
#pragma once

#include "autodiff/autodiff.hpp"
#include "nn/activations.hpp"
#include "nn/data.hpp"
#include "nn/datasets.hpp"
#include "nn/idx.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/losses.hpp"
#include "nn/metrics.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"
#include "nn/schedule.hpp"
#include "nn/sequential.hpp"
#include "nn/serialize.hpp"
#include "nn/summary.hpp"
