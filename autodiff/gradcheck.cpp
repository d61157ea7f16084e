// gradcheck: the backward pass against central finite differences, in float64.
//
// A non-scalar output y is contracted to J = Σ w ⊙ y with fixed random weights w, so one
// backward pass gives ∂J/∂x for every input and each entry needs two evaluations of f:
//   ∂J/∂xⱼ ≈ (J(x + ε eⱼ) − J(x − ε eⱼ)) / 2ε        (error O(ε²) from the third derivative).
// Inputs too big to walk entry by entry are checked along random unit directions v instead:
//   ⟨∇J, v⟩ ≈ (J(x + ε v) − J(x − ε v)) / 2ε.
#include "autodiff/gradcheck.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <random>

#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {
namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// gradcheck draws from its own generator: it never moves the user's randn() stream, and the
// same call checks the same weights and directions every time.
constexpr uint64_t kWeightSeed = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kDirectionSeed = 0xd1b54a32d192ed03ULL;

std::vector<double> normal_draws(size_t n, std::mt19937_64& gen) {
  std::normal_distribution<double> dist;
  std::vector<double> v(n);
  for (double& x : v) x = dist(gen);
  return v;
}

// A float64 leaf with t's values (never t's storage: entries are perturbed in place).
Tensor f64_leaf(const Tensor& t) {
  if (!t.defined()) return t;
  Tensor c = tensor(t.to_vector(), t.shape(), DType::f64);
  if (t.requires_grad()) c.requires_grad_();
  return c;
}

// Gradients of J = Σ w ⊙ f(xs) with respect to the inputs listed in `wanted`.
std::vector<Tensor> analytic_grads(const Fn& f, const std::vector<Tensor>& xs, const std::vector<size_t>& wanted,
                                   std::vector<double>& weights) {
  EnableGradGuard grad_on;
  Tensor y = f(xs);
  if (!y.defined()) throw UsageError("gradcheck: the function returned an undefined tensor");
  std::mt19937_64 gen(kWeightSeed);
  weights = y.numel() == 1 ? std::vector<double>{1.0} : normal_draws(static_cast<size_t>(y.numel()), gen);
  std::vector<Tensor> inputs, out;
  for (size_t k : wanted) inputs.push_back(xs[k]);
  if (!y.requires_grad()) {  // f does not depend on any input: every gradient is zero
    for (const Tensor& x : inputs) out.push_back(zeros_like(x));
    return out;
  }
  return grad({y}, inputs, {tensor(weights, y.shape(), y.dtype())});
}

// J at the current values of xs, with recording off (f may turn it back on for itself, as a
// function that calls ad::grad inside does).
double evaluate(const Fn& f, const std::vector<Tensor>& xs, const std::vector<double>& weights) {
  NoGradGuard no_grad;
  Tensor y = f(xs);
  if (!y.defined() || y.numel() != static_cast<int64_t>(weights.size()))
    throw UsageError(fmt::format("gradcheck: the function returned {} values on perturbed inputs but {} at first",
                                 y.defined() ? y.numel() : 0, weights.size()));
  const std::vector<double> v = y.to_vector();
  double j = 0.0;
  for (size_t i = 0; i < v.size(); ++i) j += weights[i] * v[i];
  return j;
}

// (J(x + εv) − J(x − εv)) / 2ε, with x restored afterwards.
double central_difference(const Fn& f, const std::vector<Tensor>& xs, Tensor& x, const std::vector<double>& weights,
                          const std::vector<std::pair<int64_t, double>>& step, double eps) {
  double* p = x.data<double>();
  std::vector<double> saved;
  for (auto [i, v] : step) saved.push_back(p[i]);
  for (auto [i, v] : step) p[i] += eps * v;
  const double plus = evaluate(f, xs, weights);
  for (size_t s = 0; s < step.size(); ++s) p[step[s].first] = saved[s] - eps * step[s].second;
  const double minus = evaluate(f, xs, weights);
  for (size_t s = 0; s < step.size(); ++s) p[step[s].first] = saved[s];
  return (plus - minus) / (2.0 * eps);
}

void consider(GradcheckResult& r, const GradcheckOptions& o, size_t input, int64_t index, double analytic,
              double numeric) {
  double err = std::abs(analytic - numeric) / (o.atol + o.rtol * std::abs(numeric));
  if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
  if (err > r.error) r.input = input, r.index = index, r.analytic = analytic, r.numeric = numeric, r.error = err;
}

// Every entry of input k, one at a time.
void check_entries(GradcheckResult& r, const Fn& f, std::vector<Tensor>& xs, size_t k, const Tensor& g,
                   const std::vector<double>& w, const GradcheckOptions& o) {
  const std::vector<double> analytic = g.to_vector();
  for (int64_t j = 0; j < xs[k].numel(); ++j)
    consider(r, o, k, j, analytic[static_cast<size_t>(j)], central_difference(f, xs, xs[k], w, {{j, 1.0}}, o.eps));
}

// Input k along random unit directions.
void check_directions(GradcheckResult& r, const Fn& f, std::vector<Tensor>& xs, size_t k, const Tensor& g,
                      const std::vector<double>& w, const GradcheckOptions& o) {
  std::mt19937_64 gen(kDirectionSeed + k);
  const std::vector<double> analytic = g.to_vector();
  for (int d = 0; d < o.directions; ++d) {
    std::vector<double> v = normal_draws(analytic.size(), gen);
    double norm = 0.0;
    for (double e : v) norm += e * e;
    norm = std::sqrt(norm);
    std::vector<std::pair<int64_t, double>> step;
    double dot = 0.0;
    for (size_t i = 0; i < v.size(); ++i) {
      step.emplace_back(static_cast<int64_t>(i), v[i] / norm);
      dot += analytic[i] * v[i] / norm;
    }
    consider(r, o, k, -1, dot, central_difference(f, xs, xs[k], w, step, o.eps));
  }
}

}  // namespace

GradcheckResult gradcheck(const Fn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  if (!(options.eps > 0.0)) throw ValueError(fmt::format("gradcheck: eps must be positive, got {}", options.eps));
  if (options.directions < 1)  // big inputs would otherwise pass without a single check
    throw ValueError(fmt::format("gradcheck: directions must be at least 1, got {}", options.directions));
  std::vector<Tensor> xs;
  std::vector<size_t> wanted;
  for (size_t i = 0; i < inputs.size(); ++i) {
    xs.push_back(f64_leaf(inputs[i]));
    if (inputs[i].defined() && inputs[i].requires_grad()) wanted.push_back(i);
  }
  if (wanted.empty())
    throw UsageError("gradcheck: no input requires grad; call requires_grad_() on the inputs to check");
  std::vector<double> weights;
  const std::vector<Tensor> grads = analytic_grads(f, xs, wanted, weights);
  GradcheckResult r;
  r.error = -1.0;  // below any real error, so the first entry checked becomes the worst so far
  for (size_t w = 0; w < wanted.size(); ++w) {
    const size_t k = wanted[w];
    if (xs[k].numel() > options.max_entries)
      check_directions(r, f, xs, k, grads[w], weights, options);
    else
      check_entries(r, f, xs, k, grads[w], weights, options);
  }
  r.error = std::max(r.error, 0.0);  // inputs with no entries leave nothing to report
  r.ok = r.error <= 1.0;
  return r;
}

std::string GradcheckResult::str() const {
  const std::string where = index >= 0 ? fmt::format("input {}, entry {}", input, index)
                                       : fmt::format("input {}, along a random direction", input);
  return fmt::format("gradcheck {}: worst at {}: analytic {:.10g}, numeric {:.10g} (error {:.3g} × tolerance)",
                     ok ? "passed" : "FAILED", where, analytic, numeric, error);
}

std::ostream& operator<<(std::ostream& os, const GradcheckResult& r) { return os << r.str(); }

}  // namespace ad
