// custom_op: a user-defined differentiable op — swish(x) = x·σ(x) — with its own backward rule
// through ad::record_op, checked by ad::gradcheck (first and second order) and used in a network.
//
//   custom_op [--out DIR] [--full]
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <chrono>
#include <nn/nn.hpp>

#include "common/cli.hpp"
#include "common/fast_blas.hpp"
#include "common/data.hpp"
#include "common/notebook.hpp"
#include "common/svg.hpp"

namespace nn = ad::nn;

namespace {

// swish(x) = x·σ(x);  swish′(x) = σ(x) + x·σ(x)(1 − σ(x)).
// The forward runs without recording (on detached inputs); record_op then puts one record on
// the tape whose rule is written with tensor ops, so create_graph can differentiate it again.
// The rule keeps x as a SavedTensor: if x is changed in place before backward, c.saved() throws
// instead of differentiating at the new values.
ad::Tensor swish(const ad::Tensor& x) {
  ad::Tensor s = ad::sigmoid(x.detach());
  ad::Tensor y = x.detach() * s;
  return ad::record_op("swish", "dX = dY ⊙ (σ(x) + x·σ(x)(1 − σ(x)))", {x}, y,
                       [sx = ad::SavedTensor(x)](ad::BackwardContext& c) {
                         const ad::Tensor& x = c.saved(sx);
                         ad::Tensor sig = ad::sigmoid(x);  // from x, so a second derivative sees x in it
                         c.add(0, c.grad() * (sig + x * sig * (1.0 - sig)));
                       });
}

// The activation as a module, to sit between Linear layers like nn::ReLU.
class Swish : public nn::Module {
 public:
  ad::Tensor forward(const ad::Tensor& z) override { return swish(z); }
  std::string name() const override { return "swish"; }
};

nn::Sequential net_with(bool use_swish, int64_t width) {
  nn::Sequential net;
  int64_t prev = 2;
  for (int l = 0; l < 2; ++l) {
    net.add(nn::Linear(prev, width, nn::Init::He));
    if (use_swish)
      net.add(Swish());
    else
      net.add(nn::ReLU());
    prev = width;
  }
  net.add(nn::Linear(prev, 1, nn::Init::Xavier)).add(nn::Sigmoid());
  return net;
}

struct Trained {
  std::vector<double> epochs, costs;
  double accuracy = 0, seconds = 0;
};

Trained train(nn::Sequential& net, const nn::Dataset& data, int64_t steps) {
  ad::optim::Adam adam(net.parameters(), 0.01);
  Trained t;
  auto start = std::chrono::steady_clock::now();
  ex::Progress bar(net[1].name(), steps);
  for (int64_t i = 0; i < steps; ++i) {
    ad::Tensor J = nn::binary_cross_entropy(net.forward(data.X), data.Y);
    if (i % 10 == 0) t.epochs.push_back(static_cast<double>(i)), t.costs.push_back(J.item());
    adam.zero_grad();
    J.backward();
    adam.step();
    bar.update(i + 1);
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ad::NoGradGuard no_grad;
  t.accuracy = nn::accuracy(net.forward(data.X), data.Y);
  return t;
}

void define_and_check(ex::Notebook& nb) {
  nb.section("Defining the op", "swish(x) = x·σ(x). The forward is computed without recording; ad::record_op "
                                "then records one op whose backward rule is dX = dY ⊙ (σ + x·σ(1 − σ)).");
  nb.code(R"code(ad::Tensor swish(const ad::Tensor& x) {
  ad::Tensor s = ad::sigmoid(x.detach());
  ad::Tensor y = x.detach() * s;
  return ad::record_op("swish", "dX = dY ⊙ (σ(x) + x·σ(x)(1 − σ(x)))", {x}, y,
                       [sx = ad::SavedTensor(x)](ad::BackwardContext& c) {
                         const ad::Tensor& x = c.saved(sx);
                         ad::Tensor sig = ad::sigmoid(x);
                         c.add(0, c.grad() * (sig + x * sig * (1.0 - sig)));
                       });
})code");
  ad::Tensor x = ad::tensor({-2, -0.5, 0, 0.5, 2}, {1, 5}, ad::DType::f64).requires_grad_();
  size_t start = ad::tape_size();
  ad::Tensor composite = x * ad::sigmoid(x);
  size_t before = ad::tape_size();
  ad::Tensor fused = swish(x);
  nb.code(fmt::format("x              = {:8.5f}\nswish(x)       = {:8.5f}\nx·sigmoid(x)   = {:8.5f}\n"
                      "records on the tape: the composite {} (sigmoid, mul), swish {}",
                      fmt::join(x.to_vector(), " "), fmt::join(fused.to_vector(), " "),
                      fmt::join(composite.to_vector(), " "), before - start, ad::tape_size() - before));

  nb.section("Checking it with gradcheck", "First derivatives against finite differences in float64, then the "
                                           "second derivative: the gradient of swish′ through create_graph.");
  ad::manual_seed(3);
  ad::Tensor z = (ad::randn({4, 6}, ad::DType::f64) * 2.0).requires_grad_();
  ad::GradcheckResult first = ad::gradcheck([](const std::vector<ad::Tensor>& in) { return swish(in[0]); }, {z});
  ad::GradcheckResult second = ad::gradcheck(
      [](const std::vector<ad::Tensor>& in) {
        // gradcheck evaluates f without recording for its finite differences; swish′ needs a
        // recorded swish even then, on a leaf of its own when the input is not one that wants a grad.
        ad::EnableGradGuard recording;
        ad::Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_();
        ad::Tensor y = ad::sum(swish(x));
        return ad::grad({y}, {x}, {}, true, true)[0];  // swish′(x), itself recorded
      },
      {z});
  nb.table({"check", "result"}, {{"swish, first order", first.str()}, {"swish′, second order", second.str()}});
  nb.result("gradcheck (first, second order)",
            std::string(first.ok ? "pass" : "FAIL") + ", " + (second.ok ? "pass" : "FAIL"));

  std::vector<double> xs, y, dy, relu;
  for (int i = 0; i <= 120; ++i) xs.push_back(-6 + 0.1 * i);
  ad::Tensor grid = ad::tensor(xs, {1, static_cast<int64_t>(xs.size())}, ad::DType::f64).requires_grad_();
  ad::Tensor out = swish(grid);
  ad::sum(out).backward();
  y = out.to_vector();
  dy = grid.grad().to_vector();
  for (double v : xs) relu.push_back(std::max(v, 0.0));
  ex::LineChart chart{"swish and its derivative", "x", "", {}, 520, 300};
  chart.series = {{"swish(x) = x·σ(x)", xs, y, ex::palette(0)},
                  {"swish′(x), from backward()", xs, dy, ex::palette(1)},
                  {"ReLU(x)", xs, relu, "#999999", true}};
  nb.figure(ex::line_chart(chart), "Swish is a smooth ReLU that dips slightly below zero; its derivative, read "
                                   "off x.grad() after backward(), exceeds 1 just right of zero.");
}

}  // namespace

int main(int argc, char** argv) {
  ex::ensure_fast_blas(argv);
  int64_t steps = 600;
  ex::Cli cli("custom_op",
              "A user-defined differentiable op (swish) with its own backward rule, checked by gradcheck and "
              "used as the activation of a network.");
  cli.option("steps", &steps, "Adam steps for each network");
  cli.full_flag("train each network 4 times as long");
  ex::CommonOptions opts = cli.parse(argc, argv);
  if (opts.full) steps *= 4;
  ex::Notebook nb("custom_op", "A custom op: swish",
                  "Any function can become a differentiable op: compute it, then hand ad::record_op the "
                  "inputs, the output and a backward rule. The engine does the rest.",
                  opts);
  define_and_check(nb);

  nb.section("Using it in a network", fmt::format("2 → 32 → 32 → 1 networks on the flower data, one with swish "
                                                  "hidden layers and one with ReLU, {} full-batch Adam steps each.",
                                                  steps));
  ad::manual_seed(opts.seed);
  nn::Dataset data = nn::flower(400);
  ad::manual_seed(opts.seed);
  nn::Sequential with_swish = net_with(true, 32);
  nb.code(nn::summary(with_swish, 2));
  ad::manual_seed(opts.seed);
  nn::Sequential with_relu = net_with(false, 32);
  Trained s = train(with_swish, data, steps), r = train(with_relu, data, steps);
  nb.table({"hidden activation", "accuracy", "final J", "seconds"},
           {{"swish (custom op)", ex::percent(s.accuracy), fmt::format("{:.4f}", s.costs.back()),
             fmt::format("{:.2f}", s.seconds)},
            {"ReLU (built-in)", ex::percent(r.accuracy), fmt::format("{:.4f}", r.costs.back()),
             fmt::format("{:.2f}", r.seconds)}});
  nb.result("swish network accuracy", ex::percent(s.accuracy));
  nb.result("ReLU network accuracy", ex::percent(r.accuracy));
  ex::LineChart curve{"cost J during training", "Adam step", "J", {}, 480, 300};
  curve.series = {{"swish", s.epochs, s.costs, ex::palette(0)}, {"ReLU", r.epochs, r.costs, ex::palette(1)}};
  auto plot = [&](nn::Sequential& net, const std::string& title) {
    ex::BoundaryPlot p = ex::boundary([&](const ad::Tensor& X) { return net.forward(X); }, data.X, data.labels, title);
    p.size = 260;
    return ex::decision_boundary(p);
  };
  nb.figures({{ex::line_chart(curve), "The cost every 10 steps."},
              {plot(with_swish, "swish: " + ex::percent(s.accuracy)), "Swish hidden layers: smooth boundaries."},
              {plot(with_relu, "ReLU: " + ex::percent(r.accuracy)), "ReLU hidden layers: piecewise-linear ones."}});
  nb.save();
}
