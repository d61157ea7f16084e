#include "common/data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace ex {

const char* const kFashionClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::optional<FashionData> load_fashion(const std::string& dir, int64_t train_limit, int64_t test_limit) {
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"})
    if (ad::nn::find_idx_file(dir, name).empty()) {
      std::cout << fmt::format("Fashion-MNIST not found in {} (install the Debian package dataset-fashion-mnist, "
                               "or pass --data DIR / set TAPEGRAD_DATA)\n",
                               dir);
      return std::nullopt;
    }
  return FashionData{ad::nn::load_idx_split(dir, "train", 10, train_limit),
                     ad::nn::load_idx_split(dir, "t10k", 10, test_limit)};
}

ad::nn::IdxSplit select_classes(const ad::nn::IdxSplit& split, const std::vector<int64_t>& classes) {
  std::vector<int64_t> columns, labels;
  for (size_t i = 0; i < split.labels.size(); ++i) {
    auto it = std::find(classes.begin(), classes.end(), split.labels[i]);
    if (it == classes.end()) continue;
    columns.push_back(static_cast<int64_t>(i));
    labels.push_back(it - classes.begin());
  }
  return {ad::nn::gather_columns(split.X, columns), labels};
}

ad::Tensor row_of(const std::vector<int64_t>& labels) {
  return ad::tensor(std::vector<double>(labels.begin(), labels.end()), {1, static_cast<int64_t>(labels.size())});
}

ImageTile tile(const ad::Tensor& X, int64_t j, std::string caption, bool flagged) {
  int64_t pixels = X.size(0), m = X.size(1);
  ad::Tensor x = X.dtype() == ad::DType::f32 ? X : X.to(ad::DType::f32);
  const float* p = x.data<float>();
  ImageTile t{std::vector<float>(static_cast<size_t>(pixels)), std::move(caption), flagged};
  for (int64_t k = 0; k < pixels; ++k) t.pixels[static_cast<size_t>(k)] = p[k * m + j];
  return t;
}

BoundaryPlot scatter(const ad::Tensor& X, const std::vector<int64_t>& labels, const std::string& title) {
  std::vector<double> v = X.to_vector();
  int64_t m = X.size(1);
  BoundaryPlot plot;
  plot.title = title;
  auto [x_lo, x_hi] = std::minmax_element(v.begin(), v.begin() + m);
  auto [y_lo, y_hi] = std::minmax_element(v.begin() + m, v.end());
  double margin = 0.08 * std::max(*x_hi - *x_lo, *y_hi - *y_lo);
  plot.x_lo = *x_lo - margin, plot.x_hi = *x_hi + margin, plot.y_lo = *y_lo - margin, plot.y_hi = *y_hi + margin;
  for (size_t i = 0; i < static_cast<size_t>(m); ++i)
    plot.points.push_back({v[i], v[static_cast<size_t>(m) + i], static_cast<int>(labels[i])});
  return plot;
}

BoundaryPlot boundary(const std::function<ad::Tensor(const ad::Tensor&)>& predict, const ad::Tensor& X,
                      const std::vector<int64_t>& labels, const std::string& title, int grid) {
  BoundaryPlot plot = scatter(X, labels, title);
  plot.nx = plot.ny = grid;
  size_t n = static_cast<size_t>(grid) * grid;
  std::vector<double> cells(2 * n);
  for (size_t k = 0; k < n; ++k) {  // row-major from the bottom row: x varies fastest
    cells[k] = plot.x_lo + (static_cast<double>(k % grid) + 0.5) * (plot.x_hi - plot.x_lo) / grid;
    cells[n + k] = plot.y_lo + (static_cast<double>(k / grid) + 0.5) * (plot.y_hi - plot.y_lo) / grid;
  }
  ad::NoGradGuard no_grad;
  plot.prob = predict(ad::tensor(cells, {2, static_cast<int64_t>(n)}, X.dtype())).to_vector();
  return plot;
}

}  // namespace ex
