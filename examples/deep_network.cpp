// deep_network: an L-layer network (ReLU hidden layers, sigmoid output) trained by
// batch gradient descent on two Fashion-MNIST classes — sneakers against ankle boots.
//
//   deep_network [--out DIR] [--data DIR] [--full]
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <chrono>
#include <iostream>
#include <nn/nn.hpp>

#include "common/cli.hpp"
#include "common/fast_blas.hpp"
#include "common/data.hpp"
#include "common/notebook.hpp"
#include "common/svg.hpp"

namespace nn = ad::nn;

namespace {

struct Data {
  ad::Tensor X_train, Y_train, X_test, Y_test;
  std::vector<int64_t> train_labels, test_labels;
  std::string name_a, name_b;
  bool images = true;
};

// Two classes of Fashion-MNIST relabelled 0 (class a) and 1 (class b); when the data is
// absent, the planar flower split in two halves instead.
Data load(const ex::CommonOptions& opts, int64_t class_a, int64_t class_b, int64_t train_limit) {
  Data d;
  if (auto f = ex::load_fashion(opts.data_dir, -1, -1)) {
    ad::nn::IdxSplit train = ex::select_classes(f->train, {class_a, class_b});
    ad::nn::IdxSplit test = ex::select_classes(f->test, {class_a, class_b});
    if (train_limit > 0 && train_limit < train.X.size(1)) {
      train.X = ad::slice(train.X, 1, 0, train_limit);
      train.labels.resize(static_cast<size_t>(train_limit));
    }
    d = {train.X, ex::row_of(train.labels), test.X, ex::row_of(test.labels), train.labels, test.labels,
         ex::kFashionClasses[class_a], ex::kFashionClasses[class_b], true};
    return d;
  }
  std::cout << "falling back on the planar flower data generated in code\n";
  ad::manual_seed(opts.seed);
  nn::Dataset all = nn::flower(800);
  std::vector<int64_t> even, odd;  // alternate columns: two halves of the same distribution
  for (int64_t i = 0; i < 800; ++i) (i % 2 ? odd : even).push_back(i);
  auto labels = [&](const std::vector<int64_t>& idx) {
    std::vector<int64_t> out;
    for (int64_t i : idx) out.push_back(all.labels[static_cast<size_t>(i)]);
    return out;
  };
  d.train_labels = labels(even), d.test_labels = labels(odd);
  d.X_train = nn::gather_columns(all.X, even), d.X_test = nn::gather_columns(all.X, odd);
  d.Y_train = ex::row_of(d.train_labels), d.Y_test = ex::row_of(d.test_labels);
  d.name_a = "red", d.name_b = "blue", d.images = false;
  return d;
}

// One row per layer l: the shapes of W[l], b[l], Z[l] = W[l]·A[l-1] + b[l] and A[l] = g(Z[l]),
// read off a real forward pass (the Sequential alternates Linear and activation modules).
std::vector<std::vector<std::string>> dimension_table(nn::Sequential& net, const ad::Tensor& X) {
  std::vector<std::vector<std::string>> rows{{"0", "", "", "", "X = A[0]: " + X.shape().str()}};
  ad::NoGradGuard no_grad;
  ad::Tensor A = X;
  auto params = net.named_parameters();
  for (size_t i = 0, l = 1; i + 1 < net.size(); i += 2, ++l) {
    ad::Tensor Z = net[i].forward(A);
    A = net[i + 1].forward(Z);
    rows.push_back({std::to_string(l), fmt::format("W{}: {}", l, params[2 * (l - 1)].second.shape().str()),
                    fmt::format("b{}: {}", l, params[2 * (l - 1) + 1].second.shape().str()),
                    fmt::format("Z{}: {}", l, Z.shape().str()),
                    fmt::format("A{}: {} ({})", l, A.shape().str(), net[i + 1].name())});
  }
  return rows;
}

struct Options {
  int64_t iterations = 600, class_a = 7, class_b = 9, train_limit = 2000;
  double lr = 0.1;
  std::string hidden = "20,7,5";
};

// Batch gradient descent on all m training columns; the cost every 10 iterations for the chart,
// every 100 in the printed log. The step is compiled: the first iteration records its kernels,
// the others replay them, with the same results as running it eagerly; it returns J before its
// update.
void training_section(ex::Notebook& nb, nn::Sequential& net, const Data& d, const Options& o) {
  nb.section("Training", fmt::format("{} iterations of batch gradient descent, α = {}: forward propagation, the "
                                     "cost J, backward propagation, W[l] := W[l] − α·dW[l]. The cost every 100 "
                                     "iterations:",
                                     o.iterations, o.lr));
  ad::optim::SGD sgd(net.parameters(), o.lr);
  auto step = ad::compile([&](const ad::Tensor& X, const ad::Tensor& Y) {
    ad::Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
    sgd.zero_grad();
    J.backward();
    sgd.step();
    return J;
  });
  std::vector<double> its, costs;
  std::string log;
  ex::Progress bar("training", o.iterations);
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i <= o.iterations; ++i) {
    ad::Tensor J = i < o.iterations ? step(d.X_train, d.Y_train)
                                    : nn::binary_cross_entropy(net.forward(d.X_train), d.Y_train);
    if (i % 10 == 0) its.push_back(static_cast<double>(i)), costs.push_back(J.item());
    if (i % 100 == 0) log += fmt::format("Cost after iteration {:>4}: {:.6f}\n", i, J.item());
    bar.update(i, fmt::format("J = {:.4f}", J.item()));
  }
  bar.finish();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nb.code(log);
  nb.figure(ex::line_chart({"cost J", "iteration", "J", {{"train cost", its, costs, ex::palette(0)}}, 520, 300}),
            fmt::format("The cost every 10 iterations ({:.1f} s in all).", seconds));
  const ad::CompileStats s = step.stats();
  nb.say(fmt::format("The training step runs under ad::compile: recorded once, then replayed {} times as {} kernels "
                     "on buffers planned once ({:.1f} KiB of intermediates); the results are those of running it "
                     "eagerly, bit for bit.",
                     s.replays, s.kernels, static_cast<double>(s.arena_bytes) / 1024));
}

void mistakes_section(ex::Notebook& nb, nn::Sequential& net, const Data& d, const ad::Tensor& A_test) {
  std::vector<int64_t> predicted = nn::predict(A_test);
  std::vector<double> prob = A_test.to_vector();
  nb.section("Misclassified test images", "The images the network gets wrong: under each, its (wrong) answer and "
                                          "its probability that y = 1.");
  if (!d.images) {
    ex::BoundaryPlot p = ex::boundary([&](const ad::Tensor& X) { return net.forward(X); }, d.X_test, d.test_labels,
                                      "test points and the boundary");
    nb.figure(ex::decision_boundary(p), "No images without Fashion-MNIST: the decision boundary instead.");
    return;
  }
  std::vector<ex::ImageTile> tiles;
  size_t wrong = 0;
  for (size_t i = 0; i < predicted.size(); ++i) {
    if (predicted[i] == d.test_labels[i]) continue;
    ++wrong;
    if (tiles.size() < 40)
      tiles.push_back(ex::tile(d.X_test, static_cast<int64_t>(i),
                               fmt::format("→ {}\np(y=1) = {:.2f}", predicted[i] ? d.name_b : d.name_a, prob[i]),
                               true));
  }
  nb.say(fmt::format("{} of {} test images are misclassified; the first {} (captions: the prediction):", wrong,
                     predicted.size(), tiles.size()));
  if (!tiles.empty()) nb.figure(ex::image_grid(tiles, 28, 28, 10, 3), "Misclassified test images.");
}

}  // namespace

int main(int argc, char** argv) {
  ex::ensure_fast_blas(argv);
  Options o;
  ex::Cli cli("deep_network",
              "An L-layer network (ReLU hidden layers, sigmoid output) trained by batch gradient "
              "descent on two Fashion-MNIST classes, with its dimension table, cost curve and mistakes.");
  cli.data_option().full_flag("all 12,000 training images of the two classes and 2,500 iterations");
  cli.option("iterations", &o.iterations, "gradient-descent iterations of the quick run");
  cli.option("lr", &o.lr, "learning rate α");
  cli.option("hidden", &o.hidden, "hidden layer sizes n[1],…,n[L-1]", "LIST");
  cli.option("class-a", &o.class_a, "Fashion-MNIST class labelled y = 0");
  cli.option("class-b", &o.class_b, "Fashion-MNIST class labelled y = 1");
  cli.option("train-limit", &o.train_limit, "training images of the quick run");
  ex::CommonOptions opts = cli.parse(argc, argv);
  if (opts.threads > 0) ad::set_num_threads(opts.threads);
  if (opts.full) o.iterations = 2500, o.train_limit = -1;

  ex::Notebook nb("deep_network", "A deep network, step by step",
                  "An L-layer network: ReLU hidden layers, a sigmoid output, the cross-entropy cost, "
                  "and batch gradient descent, on a two-class slice of Fashion-MNIST.",
                  opts);
  nb.section("The data", "Two classes of Fashion-MNIST images, each image a column of 784 pixels in [0, 1]; "
                         "y = 1 for the second class.");
  Data d = load(opts, o.class_a, o.class_b, o.train_limit);
  nb.say(d.images ? fmt::format("y = 0: {}, y = 1: {}", d.name_a, d.name_b)
                  : "Fashion-MNIST is absent (Debian package dataset-fashion-mnist): using the flower data.");
  nb.shapes({{"X_train = A[0]", d.X_train}, {"Y_train", d.Y_train}, {"X_test", d.X_test}, {"Y_test", d.Y_test}});

  std::vector<int64_t> layer_dims{d.X_train.size(0)};
  for (int64_t n : ex::parse_list(o.hidden)) layer_dims.push_back(n);
  layer_dims.push_back(1);
  nb.section("The network and its dimensions",
             fmt::format("L = {} layers, n = [{}]: W[l] is (n[l], n[l-1]), b[l] is (n[l], 1), and Z[l], A[l] are "
                         "(n[l], m) — the m samples side by side.",
                         layer_dims.size() - 1, fmt::join(layer_dims, ", ")));
  ad::manual_seed(opts.seed);
  nn::Sequential net = nn::mlp(layer_dims, nn::Activation::ReLU, nn::Activation::Sigmoid);
  nb.table({"l", "W[l]", "b[l]", "Z[l]", "A[l]"}, dimension_table(net, d.X_train));

  training_section(nb, net, d, o);

  nb.section("Accuracy", "The prediction is 1 where A[L] > 0.5.");
  ad::Tensor A_train, A_test;
  {
    ad::NoGradGuard no_grad;
    A_train = net.forward(d.X_train), A_test = net.forward(d.X_test);
  }
  double train_acc = nn::accuracy(A_train, d.Y_train), test_acc = nn::accuracy(A_test, d.Y_test);
  nb.table({"set", "m", "accuracy"}, {{"train", std::to_string(d.X_train.size(1)), ex::percent(train_acc)},
                                      {"test", std::to_string(d.X_test.size(1)), ex::percent(test_acc)}});
  nb.result("train accuracy", ex::percent(train_acc));
  nb.result("test accuracy", ex::percent(test_acc));
  mistakes_section(nb, net, d, A_test);
  nb.save();
}
