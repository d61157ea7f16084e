#include "common/batcher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include <nn/data.hpp>

namespace ex {

ImageBatcher::ImageBatcher(const ad::Tensor& X, std::vector<int64_t> labels, int64_t classes, int64_t batch, int width,
                           bool flip, double smoothing)
    : labels_(std::move(labels)),
      pixels_(X.size(0)),
      classes_(classes),
      batch_(batch),
      smoothing_(smoothing),
      width_(width),
      flip_(flip) {
  const int64_t m = X.size(1);
  ad::Tensor x = X.to(ad::DType::f32);
  const float* src = x.data<float>();
  rows_.resize(static_cast<size_t>(m * pixels_));
  constexpr int64_t kBlock = 64;  // transpose in blocks of samples so reads and writes stay cached
  for (int64_t i0 = 0; i0 < m; i0 += kBlock)
    for (int64_t p = 0; p < pixels_; ++p)
      for (int64_t i = i0; i < std::min(m, i0 + kBlock); ++i) rows_[static_cast<size_t>(i * pixels_ + p)] = src[p * m + i];
  order_.resize(static_cast<size_t>(m));
  flipped_.assign(static_cast<size_t>(m), 0);
  shuffle();
}

void ImageBatcher::shuffle() {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[ad::random_u64() % i]);  // Fisher–Yates
  if (flip_)
    for (auto& f : flipped_) f = static_cast<uint8_t>(ad::random_u64() & 1);
}

void ImageBatcher::shard(int rank, int ranks) {
  if (batch_ % ranks != 0)
    throw ad::ValueError(fmt::format("ImageBatcher: a batch of {} does not split over {} ranks", batch_, ranks));
  rank_ = rank, ranks_ = ranks;
}

// The last batch is cut to a multiple of the ranks (and dropped if that leaves none).
size_t ImageBatcher::size() const {
  const auto m = static_cast<int64_t>(order_.size());
  const int64_t rest = m % batch_;
  return static_cast<size_t>(m / batch_ + (rest - rest % ranks_ > 0 ? 1 : 0));
}

ImageBatch ImageBatcher::operator[](size_t k) const {
  const auto global = std::min(batch_, static_cast<int64_t>(order_.size()) - static_cast<int64_t>(k) * batch_);
  const ad::nn::ColumnRange part = ad::nn::batch_shard(global - global % ranks_, rank_, ranks_);
  const size_t first = k * static_cast<size_t>(batch_) + static_cast<size_t>(part.begin);
  const auto B = part.size();
  const double off = smoothing_ / static_cast<double>(classes_);
  ImageBatch b{ad::empty({pixels_, B}), ad::full({classes_, B}, off), {}};
  float* x = b.X.data<float>();
  float* y = b.Y.data<float>();
  for (int64_t j = 0; j < B; ++j) {
    const int64_t i = order_[first + static_cast<size_t>(j)];
    const float* row = &rows_[static_cast<size_t>(i * pixels_)];
    if (flipped_[first + static_cast<size_t>(j)]) {
      for (int64_t p = 0; p < pixels_; ++p) x[p * B + j] = row[p - p % width_ + (width_ - 1 - p % width_)];
    } else {
      for (int64_t p = 0; p < pixels_; ++p) x[p * B + j] = row[p];
    }
    const int64_t label = labels_[static_cast<size_t>(i)];
    y[label * B + j] = static_cast<float>(1.0 - smoothing_ + off);
    b.labels.push_back(label);
  }
  return b;
}

}  // namespace ex
