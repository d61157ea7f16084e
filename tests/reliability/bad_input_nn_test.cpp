// The bad-input table of nn: layers, costs, metrics, data utilities and optimizers, each
// misuse with the exception type it must throw and the words its message must hold (errors in
// the course's notation: "layer 2: W2 is (1, 3) but A1 has 4 rows").
#include <gtest/gtest.h>

#include <cmath>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bad_input.hpp"

namespace {

using ad::DType;
using ad::Tensor;
using namespace bad_input;
namespace nn = ad::nn;
namespace optim = ad::optim;

Tensor m23() { return ad::ones({2, 3}); }
Tensor leaf(const ad::Shape& s, DType d = DType::f32) { return ad::ones(s, d).requires_grad_(); }

std::vector<Row> nn_rows() {
  return {
      // ---- layers, costs and metrics, errors in the notation
      {"Linear: A0 has the wrong number of rows", Kind::Shape, {"layer 1", "W1 is (4, 2)", "A0 has 3 rows", "n[0] = 2"},
       [] { nn::Linear(2, 4)(ad::ones({3, 5})); }},
      {"Sequential: layer 2 gets the wrong rows", Kind::Shape, {"layer 2", "W2 is (1, 3)", "A1 has 4 rows"},
       [] {
         nn::Sequential net;
         net.add(nn::Linear(2, 4)).add(nn::ReLU()).add(nn::Linear(3, 1));
         (void)net.forward(ad::ones({2, 5}));
       }},
      {"Linear: a 1-D input", Kind::Shape, {"layer 1", "A0 is (2,)", "2-D", "samples as columns"},
       [] { nn::Linear(2, 4)(ad::ones({2})); }},
      {"Linear: f64 input to an f32 layer", Kind::DType, {"layer 1", "float32", "float64", "to(DType)"},
       [] { nn::Linear(2, 4)(ad::ones({2, 5}, DType::f64)); }},
      {"mlp with one size", Kind::Value, {"mlp", "layer_dims has 1 entries"},
       [] { (void)nn::mlp({4}, nn::Activation::ReLU, nn::Activation::Sigmoid); }},
      {"mlp with a zero layer", Kind::Value, {"mlp", "n[1] = 0"},
       [] { (void)nn::mlp({4, 0, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid); }},
      {"binary_cross_entropy shapes", Kind::Shape, {"binary_cross_entropy", "(1, 5)", "(1, 4)"},
       [] { (void)nn::binary_cross_entropy(ad::full({1, 5}, 0.5), ad::ones({1, 4})); }},
      {"softmax_cross_entropy: a label out of range", Kind::Value, {"3", "[0, 3)"},
       [] { (void)nn::softmax_cross_entropy(ad::ones({3, 2}), std::vector<int64_t>{0, 3}); }},
      {"one_hot: C = 0", Kind::Value, {"one_hot", "C = 0"}, [] { (void)nn::one_hot({0}, 0); }},
      {"accuracy: different m", Kind::Shape, {"accuracy", "(1, 4)", "(1, 3)"},
       [] { (void)nn::accuracy(ad::full({1, 4}, 0.7), ad::ones({1, 3})); }},
      {"MiniBatches: batch_size 0", Kind::Value, {"batch_size = 0"},
       [] { (void)nn::random_mini_batches(ad::ones({2, 8}), ad::ones({1, 8}), 0); }},
      {"gather_columns: column out of range", Kind::Value, {"gather_columns", "column 9", "[0, 3)"},
       [] { (void)nn::gather_columns(m23(), {9}); }},
      {"gather_samples: sample out of range", Kind::Value, {"gather_samples", "sample 3", "[0, 2)"},
       [] { (void)nn::gather_samples(m23(), {3}); }},
      {"Dropout keep_prob 0", Kind::Value, {"Dropout", "keep_prob"}, [] { nn::Dropout d(0.0); }},
      // ---- optimizers
      {"optimizer over an empty parameter list", Kind::Usage, {"SGD", "no parameters"},
       [] { optim::SGD sgd({}, 0.1); }},
      {"optimizer over a model without parameters", Kind::Usage, {"Adam", "no parameters"},
       [] {
         nn::Sequential only_activations;
         only_activations.add(nn::ReLU());
         optim::Adam adam(only_activations.parameters(), 0.1);
       }},
      {"optimizer: a parameter that needs no grad", Kind::Usage, {"SGD", "parameter 0", "requires_grad_"},
       [] { optim::SGD sgd({m23()}, 0.1); }},
      {"optimizer: NaN learning rate", Kind::Value, {"RMSprop", "learning rate nan"},
       [] { optim::RMSprop r({leaf({2})}, std::nan("")); }},
      {"optimizer: negative learning rate", Kind::Value, {"SGD", "learning rate -1"}, [] { optim::SGD s({leaf({2})}, -1); }},
      {"SGD: NaN weight_decay", Kind::Value, {"SGD", "weight_decay = nan", "finite"},
       [] { optim::SGD s({leaf({2})}, 0.1, {.weight_decay = std::nan("")}); }},
      {"SGD: infinite weight_decay", Kind::Value, {"SGD", "weight_decay = inf"},
       [] { optim::SGD s({leaf({2})}, 0.1, {.weight_decay = HUGE_VAL}); }},
      {"SGD: NaN momentum", Kind::Value, {"SGD", "momentum = nan"},
       [] { optim::SGD s({leaf({2})}, 0.1, {.momentum = std::nan("")}); }},
      {"RMSprop: negative weight_decay", Kind::Value, {"RMSprop", "weight_decay = -0.5"},
       [] { optim::RMSprop r({leaf({2})}, 0.1, {.weight_decay = -0.5}); }},
      {"Adam: NaN weight_decay", Kind::Value, {"Adam", "weight_decay = nan"},
       [] { optim::Adam a({leaf({2})}, 0.1, {.weight_decay = std::nan("")}); }},
      {"Adam: NaN eps", Kind::Value, {"Adam", "eps = nan"}, [] { optim::Adam a({leaf({2})}, 0.1, {.eps = std::nan("")}); }},
      // ---- data readers' arguments: blamed before any file is opened
      {"read_idx_labels: num_classes 0", Kind::Value, {"read_idx_labels", "num_classes = 0", "≥ 1"},
       [] { (void)nn::read_idx_labels("/no/such/labels-idx1-ubyte", 0); }},
      {"read_idx_labels: num_classes -3", Kind::Value, {"read_idx_labels", "num_classes = -3"},
       [] { (void)nn::read_idx_labels("/no/such/labels-idx1-ubyte", -3); }},
      {"load_idx_split: num_classes 0", Kind::Value, {"load_idx_split", "num_classes = 0"},
       [] { (void)nn::load_idx_split("/no/such/dir", "train", 0); }},
  };
}

TEST(BadInput, NnMisuseThrowsAReadableError) { run_table(nn_rows(), 28); }

}  // namespace
