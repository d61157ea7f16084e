// gradient_checking: gradient checking on a deep network — every parameter nudged by
// ±ε, the two-sided difference compared with backprop — then a custom op with a deliberately
// broken backward rule, and how ad::gradcheck catches it.
//
//   gradient_checking [--out DIR]
#include <fmt/format.h>

#include <cmath>
#include <nn/nn.hpp>

#include "common/cli.hpp"
#include "common/fast_blas.hpp"
#include "common/notebook.hpp"
#include "common/svg.hpp"

namespace nn = ad::nn;

namespace {

// σ(x) with a WRONG backward rule: it forgets the factor (1 − σ(x)) of σ′ = σ(1 − σ).
ad::Tensor broken_sigmoid(const ad::Tensor& x) {
  ad::Tensor s = ad::sigmoid(x.detach());
  return ad::record_op("broken_sigmoid", "dX = dY ⊙ σ(x)   (wrong: σ′ = σ(1 − σ))", {x}, s,
                       [](ad::BackwardContext& c) { c.add(0, c.grad() * c.output()); }, true);
}

// The same op with the right rule, for comparison.
ad::Tensor fixed_sigmoid(const ad::Tensor& x) {
  ad::Tensor s = ad::sigmoid(x.detach());
  return ad::record_op("fixed_sigmoid", "dX = dY ⊙ σ(x)(1 − σ(x))", {x}, s,
                       [](ad::BackwardContext& c) { c.add(0, c.grad() * c.output() * (1.0 - c.output())); }, true);
}

// An output activation module around either op, so it can end a Sequential.
class CustomSigmoid : public nn::Module {
 public:
  explicit CustomSigmoid(bool broken) : broken_(broken) {}
  ad::Tensor forward(const ad::Tensor& z) override { return broken_ ? broken_sigmoid(z) : fixed_sigmoid(z); }
  std::string name() const override { return broken_ ? "broken_sigmoid" : "fixed_sigmoid"; }

 private:
  bool broken_;
};

struct CourseCheck {
  double difference = 0;  // ‖grad − gradapprox‖ / (‖grad‖ + ‖gradapprox‖)
  int64_t entries = 0;
  std::vector<double> index, abs_diff;  // |grad − gradapprox| of every entry, for the chart
  double worst = 0;
  std::string worst_name;
};

// Gradient checking as the classic deep-learning course writes it (gradient_check_n): for every
// entry θ_i of every parameter,
// gradapprox_i = (J(θ + ε·e_i) − J(θ − ε·e_i)) / 2ε, then the relative difference of the two vectors.
CourseCheck course_check(nn::Sequential& net, const ad::Tensor& X, const ad::Tensor& Y, double eps = 1e-7) {
  auto cost = [&] { return nn::binary_cross_entropy(net.forward(X), Y); };
  net.zero_grad();
  cost().backward();
  CourseCheck r;
  double diff2 = 0, grad2 = 0, approx2 = 0;
  for (auto& [name, p] : net.named_parameters()) {
    std::vector<double> g = p.grad().to_vector();
    double* theta = p.data<double>();
    for (int64_t i = 0; i < p.numel(); ++i) {
      double saved = theta[i];
      ad::NoGradGuard no_grad;
      theta[i] = saved + eps;
      double plus = cost().item();
      theta[i] = saved - eps;
      double minus = cost().item();
      theta[i] = saved;
      double approx = (plus - minus) / (2 * eps), d = g[static_cast<size_t>(i)] - approx;
      diff2 += d * d, grad2 += g[static_cast<size_t>(i)] * g[static_cast<size_t>(i)], approx2 += approx * approx;
      if (std::abs(d) > r.worst) r.worst = std::abs(d), r.worst_name = fmt::format("{}[{}]", name, i);
      r.index.push_back(static_cast<double>(r.entries++));
      r.abs_diff.push_back(std::max(std::abs(d), 1e-16));  // exact zeros would vanish from a log axis
    }
  }
  r.difference = std::sqrt(diff2) / (std::sqrt(grad2) + std::sqrt(approx2));
  return r;
}

std::string verdict(double difference) {
  return difference < 2e-7 ? "backward propagation works perfectly"
                           : "there is a mistake in backward propagation";
}

nn::Sequential network(uint64_t seed, std::shared_ptr<nn::Module> output) {
  ad::manual_seed(seed);
  nn::Sequential net = nn::mlp({4, 5, 3, 1}, nn::Activation::ReLU, nn::Activation::Identity, nn::Init::He,
                               ad::DType::f64);
  net.add(std::move(output));
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  ex::ensure_fast_blas(argv);
  ex::Cli cli("gradient_checking",
              "Gradient checking on a deep network (every parameter nudged by ±ε, the two-sided difference "
              "compared with backprop), then a custom op with a deliberately broken "
              "backward rule caught by the check and by ad::gradcheck.");
  ex::CommonOptions opts = cli.parse(argc, argv);
  ex::Notebook nb("gradient_checking", "Gradient checking",
                  "Backpropagation is easy to get subtly wrong. Gradient checking compares it with the "
                  "definition of the derivative, one parameter entry at a time.",
                  opts);

  nb.section("The network and the data", "The check uses a 3-layer network 4 → 5 → 3 → 1 (ReLU, "
                                         "ReLU, sigmoid) on m = 3 random samples, in float64.");
  ad::manual_seed(opts.seed);
  ad::Tensor X = ad::randn({4, 3}, ad::DType::f64);
  ad::Tensor Y = ad::tensor({1, 0, 1}, {1, 3}, ad::DType::f64);
  nn::Sequential good = network(opts.seed, nn::make_activation(nn::Activation::Sigmoid));
  nb.code(nn::summary(good, 4));
  nb.shapes({{"X = A[0]", X}, {"Y", Y}});

  nb.section("Two-sided differences, one entry at a time",
             "For every entry θᵢ: gradapprox = (J(θ + ε) − J(θ − ε)) / 2ε with ε = 1e-7, then the relative "
             "difference ‖grad − gradapprox‖₂ / (‖grad‖₂ + ‖gradapprox‖₂); below 2e-7 the gradients agree.");
  CourseCheck ok = course_check(good, X, Y);
  nb.code(fmt::format("{} entries checked; relative difference = {:.3e} → {}", ok.entries, ok.difference,
                      verdict(ok.difference)));
  nb.result("relative difference, built-in ops", fmt::format("{:.2e}", ok.difference));

  nb.section("The same check with ad::gradcheck", "ad::gradcheck does the finite differences for any function of "
                                                  "tensors and reports the worst entry, scaled by atol + rtol·|numeric|.");
  std::vector<ad::Tensor> params = good.parameters();
  // The same forward pass written on gradcheck's own copies of W1, b1, …, W3, b3.
  auto J_of = [&](const std::vector<ad::Tensor>& p) {
    ad::Tensor A = X;
    for (size_t l = 0; l < p.size(); l += 2) {
      ad::Tensor Z = ad::matmul(p[l], A) + p[l + 1];
      A = l + 2 < p.size() ? ad::relu(Z) : ad::sigmoid(Z);
    }
    return nn::binary_cross_entropy(A, Y);
  };
  ad::GradcheckResult gc = ad::gradcheck(J_of, params);
  nb.code(fmt::format("{} inputs (W1, b1, …, b3):\n{}", params.size(), gc.str()));

  nb.section("A broken backward rule", "A custom sigmoid op registered with ad::record_op whose rule forgets the "
                                       "factor (1 − σ): dX = dY ⊙ σ(x). The forward pass is right, so the cost looks "
                                       "normal; only the gradients are wrong.");
  nn::Sequential broken = network(opts.seed, std::make_shared<CustomSigmoid>(true));
  double J_good = nn::binary_cross_entropy(good.forward(X), Y).item();
  double J_broken = nn::binary_cross_entropy(broken.forward(X), Y).item();
  nb.code(fmt::format("J with the built-in sigmoid: {:.12f}\nJ with broken_sigmoid:       {:.12f}  (identical)",
                      J_good, J_broken));
  CourseCheck bad = course_check(broken, X, Y);
  nb.code(fmt::format("course check: relative difference = {:.3e} → {}\nworst entry: {} (off by {:.3e})",
                      bad.difference, verdict(bad.difference), bad.worst_name, bad.worst));
  nb.result("relative difference, broken rule", fmt::format("{:.2e}", bad.difference));
  ex::LineChart chart{"|grad − gradapprox| of every parameter entry", "entry (W1, b1, W2, b2, W3, b3 in order)",
                      "|difference|", {}, 640, 320};
  chart.log_y = true;
  chart.series = {{"built-in sigmoid", ok.index, ok.abs_diff, ex::palette(0)},
                  {"broken_sigmoid", bad.index, bad.abs_diff, ex::palette(3)}};
  nb.figure(ex::line_chart(chart), "With the right rule every entry agrees to about 1e-9 (finite-difference noise); "
                                   "with the broken one every entry is off, because the output's derivative "
                                   "flows into every gradient.");

  ad::Tensor z = ad::randn({3, 4}, ad::DType::f64).requires_grad_();
  ad::GradcheckResult op_bad = ad::gradcheck([](const std::vector<ad::Tensor>& in) { return broken_sigmoid(in[0]); },
                                             {z});
  ad::GradcheckResult op_fixed = ad::gradcheck([](const std::vector<ad::Tensor>& in) { return fixed_sigmoid(in[0]); },
                                               {z});
  nb.say("ad::gradcheck on the op alone pinpoints the wrong entry:");
  nb.table({"op", "gradcheck", "worst entry", "analytic", "numeric"},
           {{"broken_sigmoid", op_bad.ok ? "pass" : "FAIL", std::to_string(op_bad.index),
             fmt::format("{:.6f}", op_bad.analytic), fmt::format("{:.6f}", op_bad.numeric)},
            {"fixed_sigmoid", op_fixed.ok ? "pass" : "FAIL", std::to_string(op_fixed.index),
             fmt::format("{:.6f}", op_fixed.analytic), fmt::format("{:.6f}", op_fixed.numeric)}});
  nb.code("broken_sigmoid: " + op_bad.str() + "\nfixed_sigmoid:  " + op_fixed.str());

  nb.section("The fixed rule", "With dX = dY ⊙ σ(1 − σ) the whole network passes again.");
  nn::Sequential fixed = network(opts.seed, std::make_shared<CustomSigmoid>(false));
  CourseCheck again = course_check(fixed, X, Y);
  nb.code(fmt::format("relative difference = {:.3e} → {}", again.difference, verdict(again.difference)));
  nb.result("relative difference, fixed rule", fmt::format("{:.2e}", again.difference));
  nb.save();
  return ok.difference < 2e-7 && bad.difference > 1e-3 && gc.ok && !op_bad.ok && op_fixed.ok && again.difference < 2e-7 ? 0 : 1;
}
