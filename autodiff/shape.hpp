// Shape and DType: the two value types every tensor carries.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>

namespace ad {

/// The element type of a tensor. Arithmetic and gradients run in the floating types; int64 holds
/// indices and class labels (argmax's result, index_select's indices), which compare, move and
/// convert.
enum class DType : uint8_t {
  f32,  ///< float32 (the default)
  f64,  ///< float64 (gradcheck's precision)
  i64,  ///< int64 (indices and class labels)
};

/// Bytes per element of a dtype.
constexpr size_t dtype_size(DType d) { return d == DType::f32 ? 4 : 8; }
/// Whether arithmetic and gradients run in this dtype (float32, float64).
constexpr bool is_floating(DType d) { return d != DType::i64; }
/// "float32", "float64" or "int64".
const char* dtype_name(DType d);

/// A tensor's dims, stored inline (no heap): at most kMaxRank of them.
class Shape {
 public:
  static constexpr size_t kMaxRank = 8;  ///< the most dims a tensor may have
  using value_type = int64_t;            ///< a dim's size
  using const_iterator = const int64_t*;  ///< iterates the dims in order

  /// The shape of a 0-d tensor (a scalar).
  Shape() = default;
  /// {2, 400}: the dims in order; throws ShapeError past kMaxRank.
  Shape(std::initializer_list<int64_t> dims) : Shape(dims.begin(), dims.end()) {}
  /// The dims from a range of integers (a std::vector<int64_t>, say).
  template <class It>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }

  /// The number of dims (the rank).
  size_t size() const { return rank_; }
  /// True for a 0-d shape.
  bool empty() const { return rank_ == 0; }
  /// Size of dim i (unchecked).
  int64_t operator[](size_t i) const { return dims_[i]; }
  /// Size of dim i, writable (unchecked).
  int64_t& operator[](size_t i) { return dims_[i]; }
  /// The first dim.
  const int64_t* begin() const { return dims_.data(); }
  /// Past the last dim.
  const int64_t* end() const { return dims_.data() + rank_; }
  /// The first dim, writable.
  int64_t* begin() { return dims_.data(); }
  /// Past the last dim, writable.
  int64_t* end() { return dims_.data() + rank_; }
  /// Size of the last dim (the shape must not be 0-d).
  int64_t back() const { return dims_[rank_ - 1]; }
  /// Appends a dim; throws ShapeError past kMaxRank.
  void push_back(int64_t d);
  /// Product of the dims (1 for a 0-d shape).
  int64_t numel() const {
    int64_t n = 1;
    for (size_t i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  /// Same rank and same dims.
  friend bool operator==(const Shape& a, const Shape& b) {
    return a.rank_ == b.rank_ && std::equal(a.begin(), a.end(), b.begin());
  }
  /// "(2, 3)", the way errors print shapes.
  std::string str() const;

 private:
  std::array<int64_t, kMaxRank> dims_{};
  size_t rank_ = 0;
};

/// Prints s.str().
std::ostream& operator<<(std::ostream& os, const Shape& s);

}  // namespace ad
