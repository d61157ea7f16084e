// two_layer_planar: the two-layer network (2 → 4 → 1) on the planar "flower" data,
// trained by plain gradient descent, against logistic regression and across hidden sizes.
//
//   two_layer_planar [--out DIR] [--full]
#include <fmt/format.h>

#include <chrono>
#include <nn/nn.hpp>

#include "common/cli.hpp"
#include "common/fast_blas.hpp"
#include "common/data.hpp"
#include "common/notebook.hpp"
#include "common/svg.hpp"

namespace nn = ad::nn;

namespace {

constexpr double kLearningRate = 1.2;  // α of the two-layer network

struct Run {
  std::vector<double> iterations, costs;  // the cost J every `every` iterations
  std::string log;                        // "Cost after iteration 1000: 0.2876…" lines
  double seconds = 0;
  ad::CompileStats compiled;              // what ad::compile did for the training step
};

// Gradient descent on the whole set (one batch of m columns): forward, cost, backward, update.
// The step is compiled: the first iteration records its kernels, the others replay them, with
// the same results as running it eagerly. It returns J before its update, which is logged.
Run train(nn::Sequential& net, const nn::Dataset& data, double lr, int64_t iterations, const std::string& label) {
  ad::optim::SGD sgd(net.parameters(), lr);
  auto step = ad::compile([&](const ad::Tensor& X, const ad::Tensor& Y) {
    ad::Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
    sgd.zero_grad();
    J.backward();
    sgd.step();
    return J;
  });
  Run run;
  ex::Progress bar(label, iterations);
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i <= iterations; ++i) {
    ad::Tensor J = i < iterations ? step(data.X, data.Y) : nn::binary_cross_entropy(net.forward(data.X), data.Y);
    if (i % 100 == 0) {
      run.iterations.push_back(static_cast<double>(i));
      run.costs.push_back(J.item());
      if (i % 1000 == 0) run.log += fmt::format("Cost after iteration {:>5}: {:.6f}\n", i, J.item());
      bar.update(i, fmt::format("J = {:.4f}", J.item()));
    }
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.compiled = step.stats();
  return run;
}

nn::Sequential two_layer(int64_t n_h, bool tanh_hidden) {
  nn::Sequential net;
  net.add(nn::Linear(2, n_h, nn::Init::Small));
  if (tanh_hidden)
    net.add(nn::Tanh());
  else
    net.add(nn::Sigmoid());
  net.add(nn::Linear(n_h, 1, nn::Init::Small)).add(nn::Sigmoid());
  return net;
}

std::string plot(nn::Sequential& net, const nn::Dataset& data, const std::string& title, int size = 280) {
  ex::BoundaryPlot p = ex::boundary([&](const ad::Tensor& X) { return net.forward(X); }, data.X, data.labels, title);
  p.size = size;
  return ex::decision_boundary(p);
}

// A trained network with its cost history and training accuracy.
struct Fit {
  nn::Sequential net;
  Run run;
  double accuracy = 0;
};

Fit fit(nn::Sequential net, const nn::Dataset& data, int64_t iterations, const std::string& label) {
  Run run = train(net, data, kLearningRate, iterations, label);
  double acc = nn::accuracy(net.forward(data.X), data.Y);
  return {std::move(net), std::move(run), acc};
}

void data_section(ex::Notebook& nb, const nn::Dataset& data) {
  nb.section("The flower data", "400 points in the plane, 200 red (y = 0) and 200 blue (y = 1), "
                                "in interleaved petals; the samples are the columns of X.");
  nb.shapes({{"X = A[0]", data.X}, {"Y", data.Y}});
  nb.say(fmt::format("n[0] = {} features, m = {} samples.", data.X.size(0), data.X.size(1)));
  nb.figure(ex::decision_boundary(ex::scatter(data.X, data.labels, "the flower data")),
            "The data: red is y = 0, blue is y = 1.");
}

Fit logistic_section(ex::Notebook& nb, const nn::Dataset& data, int64_t iterations, uint64_t seed) {
  nb.section("Logistic regression",
             "First the baseline with no hidden layer, ŷ = σ(W·X + b): its decision boundary is a straight line.");
  ad::manual_seed(seed);
  nn::Sequential logistic;
  logistic.add(nn::Linear(2, 1, nn::Init::Small)).add(nn::Sigmoid());
  Fit f = fit(std::move(logistic), data, iterations, "logistic");
  nb.code(f.run.log);
  nb.result("logistic regression accuracy", ex::percent(f.accuracy));
  return f;
}

Fit two_layer_section(ex::Notebook& nb, const nn::Dataset& data, bool tanh_hidden, int64_t iterations, uint64_t seed) {
  if (tanh_hidden)
    nb.section("The same network with a tanh hidden layer",
               "tanh is centred on zero, so the next layer sees inputs of both signs; it usually learns faster.");
  else
    nb.section("The two-layer network, sigmoid hidden layer",
               "n[0] = 2 → n[1] = 4 (sigmoid) → n[2] = 1 (sigmoid), weights drawn as randn·0.01, "
               "α = 1.2, the cost J printed every 1,000 iterations.");
  ad::manual_seed(seed);
  nn::Sequential net = two_layer(4, tanh_hidden);
  if (!tanh_hidden) {
    nb.code(nn::summary(net, 2));
    auto params = net.named_parameters();
    ad::Tensor A1 = net[1].forward(net[0].forward(data.X));
    nb.shapes({{"W1", params[0].second}, {"b1", params[1].second}, {"A1", A1}, {"W2", params[2].second},
               {"A2 = Ŷ", net.forward(data.X)}});
  }
  Fit f = fit(std::move(net), data, iterations, tanh_hidden ? "tanh 2-4-1" : "sigmoid 2-4-1");
  nb.code(f.run.log);
  nb.result(tanh_hidden ? "2-4-1 tanh hidden" : "2-4-1 sigmoid hidden", ex::percent(f.accuracy));
  return f;
}

void comparison_figures(ex::Notebook& nb, const nn::Dataset& data, Fit& logistic, Fit& sig, Fit& th) {
  nb.say(fmt::format("{} iterations took {:.2f} s (sigmoid) and {:.2f} s (tanh).",
                     static_cast<int64_t>(sig.run.iterations.back()), sig.run.seconds, th.run.seconds));
  nb.say(fmt::format("The training step runs under ad::compile: recorded once, then replayed {} times as {} "
                     "kernels with no allocation; the results are those of running it eagerly, bit for bit.",
                     sig.run.compiled.replays, sig.run.compiled.kernels));
  ex::LineChart curve{"cost J during training", "iteration", "J", {}};
  curve.series = {{"logistic regression", logistic.run.iterations, logistic.run.costs, "#999999", true},
                  {"2-4-1, sigmoid hidden", sig.run.iterations, sig.run.costs, ex::palette(0)},
                  {"2-4-1, tanh hidden", th.run.iterations, th.run.costs, ex::palette(1)}};
  nb.figure(ex::line_chart(curve), fmt::format("The cost every 100 iterations; logistic regression stalls at "
                                              "J = {:.3f}, the networks keep improving.",
                                              logistic.run.costs.back()));
  nb.figures({{plot(logistic.net, data, "logistic regression: " + ex::percent(logistic.accuracy)),
               "No hidden layer: one straight line."},
              {plot(sig.net, data, "sigmoid hidden: " + ex::percent(sig.accuracy)), "4 sigmoid hidden units."},
              {plot(th.net, data, "tanh hidden: " + ex::percent(th.accuracy)), "4 tanh hidden units."}});
}

void sweep_section(ex::Notebook& nb, const nn::Dataset& data, int64_t iterations, uint64_t seed) {
  nb.section("Hidden layer size",
             fmt::format("The tanh network with n[1] = 1, 2, 3, 4, 5, 20, 50 hidden units, {} iterations each: "
                         "more units fit the petals more closely, until the boundary starts following noise.",
                         iterations));
  std::vector<std::vector<std::string>> rows;
  std::vector<std::pair<std::string, std::string>> plots;
  for (int64_t n_h : {1, 2, 3, 4, 5, 20, 50}) {
    ad::manual_seed(seed);
    Fit f = fit(two_layer(n_h, true), data, iterations, fmt::format("n[1] = {}", n_h));
    rows.push_back({std::to_string(n_h), ex::percent(f.accuracy), fmt::format("{:.4f}", f.run.costs.back()),
                    fmt::format("{:.2f}", f.run.seconds)});
    plots.emplace_back(plot(f.net, data, fmt::format("n[1] = {}: {}", n_h, ex::percent(f.accuracy)), 220),
                       fmt::format("{} hidden unit{}", n_h, n_h == 1 ? "" : "s"));
  }
  nb.table({"n[1]", "accuracy", "final J", "seconds"}, rows);
  nb.figures(plots);
  nb.say("One or two units give a boundary barely better than a line; from 3–5 units the petals are "
         "separated; 20 and 50 units fit the training points a little better but would need "
         "regularization to generalize.");
}

}  // namespace

int main(int argc, char** argv) {
  ex::ensure_fast_blas(argv);
  int64_t iterations = 10000, sweep_iterations = 5000;
  ex::Cli cli("two_layer_planar",
              "The two-layer network 2 → 4 → 1 on the planar flower data: gradient descent, decision "
              "boundaries, and what the hidden layer buys over logistic regression.");
  cli.option("iterations", &iterations, "gradient-descent iterations for the 2-4-1 networks");
  cli.option("sweep-iterations", &sweep_iterations, "iterations for each hidden size in the sweep");
  cli.full_flag("train every hidden size of the sweep as long as the 2-4-1 networks (--iterations)");
  ex::CommonOptions opts = cli.parse(argc, argv);
  if (opts.threads > 0) ad::set_num_threads(opts.threads);
  if (opts.full) sweep_iterations = iterations;

  ex::Notebook nb("two_layer_planar", "A two-layer network on planar data",
                  "Two classes of points shaped like a flower cannot be split by a straight line. A "
                  "network with one hidden layer of 4 units, trained by plain gradient descent, can.",
                  opts);
  ad::manual_seed(opts.seed);
  nn::Dataset data = nn::flower(400);
  data_section(nb, data);
  Fit logistic = logistic_section(nb, data, iterations, opts.seed);
  Fit sig = two_layer_section(nb, data, false, iterations, opts.seed);
  Fit th = two_layer_section(nb, data, true, iterations, opts.seed);
  comparison_figures(nb, data, logistic, sig, th);
  sweep_section(nb, data, sweep_iterations, opts.seed);
  nb.save();
}
