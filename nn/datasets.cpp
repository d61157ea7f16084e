#include "nn/datasets.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "autodiff/autodiff.hpp"
#include "nn/losses.hpp"

namespace ad::nn {

namespace {

void check_m(const char* who, int64_t m, int64_t at_least) {
  if (m < at_least) throw ValueError(fmt::format("{}: m = {} must be ≥ {}", who, m, at_least));
}

std::vector<double> normals(int64_t n) { return randn({n}, DType::f64).to_vector(); }
std::vector<double> uniforms(int64_t n) { return rand({n}, DType::f64).to_vector(); }

// Builds the Dataset from row-major points x0[i], x1[i] and their labels.
Dataset make(const std::vector<double>& x0, const std::vector<double>& x1, std::vector<int64_t> labels,
             int64_t classes, DType dtype) {
  std::vector<double> xs(x0);
  xs.insert(xs.end(), x1.begin(), x1.end());
  const auto m = static_cast<int64_t>(labels.size());
  Dataset d;
  d.X = tensor(xs, {2, m}, dtype);
  if (classes == 2) {
    d.Y = tensor(std::vector<double>(labels.begin(), labels.end()), {1, m}, dtype);
  } else {
    d.Y = one_hot(labels, classes, dtype);
  }
  d.labels = std::move(labels);
  d.classes = classes;
  return d;
}

}  // namespace

Dataset flower(int64_t m, DType dtype) {
  check_m("flower", m, 2);
  const int64_t N = m / 2;  // points per class
  const double a = 4.0;     // the petals' length
  std::vector<double> x0, x1;
  std::vector<int64_t> labels;
  for (int64_t j = 0; j < 2; ++j) {
    const auto t_noise = normals(N), r_noise = normals(N);
    for (int64_t i = 0; i < N; ++i) {
      // t runs over [3.12·j, 3.12·(j+1)]: each class covers every other petal of r = a·sin(4t)
      const double step = N > 1 ? static_cast<double>(i) / static_cast<double>(N - 1) : 0.0;
      const double t = 3.12 * (static_cast<double>(j) + step) + 0.2 * t_noise[static_cast<size_t>(i)];
      const double r = a * std::sin(4.0 * t) + 0.2 * r_noise[static_cast<size_t>(i)];
      x0.push_back(r * std::sin(t));
      x1.push_back(r * std::cos(t));
      labels.push_back(j);
    }
  }
  return make(x0, x1, std::move(labels), 2, dtype);
}

Dataset moons(int64_t m, double noise, DType dtype) {
  check_m("moons", m, 2);
  const int64_t outer = m / 2, inner = m - outer;
  std::vector<double> x0, x1;
  std::vector<int64_t> labels;
  const double pi = std::numbers::pi;
  for (int64_t i = 0; i < outer; ++i) {  // upper half circle centred at (0, 0)
    const double t = pi * static_cast<double>(i) / static_cast<double>(std::max<int64_t>(outer - 1, 1));
    x0.push_back(std::cos(t));
    x1.push_back(std::sin(t));
    labels.push_back(0);
  }
  for (int64_t i = 0; i < inner; ++i) {  // lower half circle centred at (1, 0.5)
    const double t = pi * static_cast<double>(i) / static_cast<double>(std::max<int64_t>(inner - 1, 1));
    x0.push_back(1.0 - std::cos(t));
    x1.push_back(0.5 - std::sin(t));
    labels.push_back(1);
  }
  const auto n0 = normals(m), n1 = normals(m);
  for (size_t i = 0; i < x0.size(); ++i) x0[i] += noise * n0[i], x1[i] += noise * n1[i];
  return make(x0, x1, std::move(labels), 2, dtype);
}

Dataset circles(int64_t m, double noise, double factor, DType dtype) {
  check_m("circles", m, 2);
  if (!(factor > 0 && factor < 1)) throw ValueError(fmt::format("circles: factor = {} must be in (0, 1)", factor));
  const int64_t outer = m / 2;
  std::vector<double> x0, x1;
  std::vector<int64_t> labels;
  const auto n0 = normals(m), n1 = normals(m);
  for (int64_t i = 0; i < m; ++i) {
    const bool in = i >= outer;
    const int64_t k = in ? i - outer : i, count = in ? m - outer : outer;
    const double t = 2 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(count);
    const double r = in ? factor : 1.0;
    x0.push_back(r * std::cos(t) + noise * n0[static_cast<size_t>(i)]);
    x1.push_back(r * std::sin(t) + noise * n1[static_cast<size_t>(i)]);
    labels.push_back(in ? 1 : 0);
  }
  return make(x0, x1, std::move(labels), 2, dtype);
}

Dataset spirals(int64_t m_per_class, int64_t K, DType dtype) {
  check_m("spirals", m_per_class, 2);
  if (K < 2) throw ValueError(fmt::format("spirals: K = {} classes; at least 2", K));
  std::vector<double> x0, x1;
  std::vector<int64_t> labels;
  const double N = static_cast<double>(m_per_class);
  for (int64_t j = 0; j < K; ++j) {
    const auto noise = normals(m_per_class);
    for (int64_t i = 0; i < m_per_class; ++i) {
      const double u = static_cast<double>(i) / (N - 1);  // radius 0 … 1 along the arm
      const double t = 4.0 * (static_cast<double>(j) + u) + 0.2 * noise[static_cast<size_t>(i)];
      x0.push_back(u * std::sin(t));
      x1.push_back(u * std::cos(t));
      labels.push_back(j);
    }
  }
  return make(x0, x1, std::move(labels), K, dtype);
}

Dataset xor_data(int64_t m, DType dtype) {
  check_m("xor_data", m, 1);
  const auto u = uniforms(2 * m);
  std::vector<double> x0, x1;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < m; ++i) {
    const double a = 2 * u[static_cast<size_t>(2 * i)] - 1, b = 2 * u[static_cast<size_t>(2 * i + 1)] - 1;
    x0.push_back(a);
    x1.push_back(b);
    labels.push_back((a > 0) != (b > 0) ? 1 : 0);
  }
  return make(x0, x1, std::move(labels), 2, dtype);
}

}  // namespace ad::nn
