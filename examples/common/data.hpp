// Data helpers shared by the examples: Fashion-MNIST with a graceful fallback, class slices,
// image tiles and decision-boundary grids.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nn/nn.hpp>

#include "common/svg.hpp"

namespace ex {

/// Fashion-MNIST's ten class names, by label.
extern const char* const kFashionClasses[10];

struct FashionData {
  ad::nn::IdxSplit train, test;
};

/// Both splits from `dir` (at most `train_limit` / `test_limit` items each; −1 for all). When
/// the files are absent, prints one line naming the Debian package and returns nullopt; a
/// corrupt file still throws.
std::optional<FashionData> load_fashion(const std::string& dir, int64_t train_limit, int64_t test_limit);

/// The columns whose label is one of `classes`, relabelled 0, 1, … by position in `classes`.
ad::nn::IdxSplit select_classes(const ad::nn::IdxSplit& split, const std::vector<int64_t>& classes);

/// Labels as a (1, m) float32 tensor (the 0/1 targets Y of a binary network).
ad::Tensor row_of(const std::vector<int64_t>& labels);

/// Column `j` of X (pixels, m) as a square image tile.
ImageTile tile(const ad::Tensor& X, int64_t j, std::string caption, bool flagged = false);

/// The points of X (2, m) colored by label, framed with a margin (no background).
BoundaryPlot scatter(const ad::Tensor& X, const std::vector<int64_t>& labels, const std::string& title);

/// P(class 1) of `predict` over a grid covering the points of X (2, m), with the points.
/// `predict` maps (2, k) inputs to (1, k) probabilities.
BoundaryPlot boundary(const std::function<ad::Tensor(const ad::Tensor&)>& predict, const ad::Tensor& X,
                      const std::vector<int64_t>& labels, const std::string& title, int grid = 100);

}  // namespace ex
