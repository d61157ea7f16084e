#include "autodiff/tensor.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "autodiff/allocator.hpp"
#include "autodiff/detail/hooks.hpp"
#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

namespace detail {

void assert_fail(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "tapegrad internal error: %s failed at %s:%d\n", cond, file, line);
  std::abort();
}

// The header and the elements share one block: the elements start 64 bytes in, aligned.
Ref<Storage> Storage::create(size_t bytes) {
  void* block = allocate(bytes + 64);
  auto* s = new (block) Storage();
  s->bytes = bytes;
  s->data = static_cast<char*>(block) + 64;
  return Ref<Storage>::adopt(s);
}

void release_last(Storage* s) {
  size_t bytes = s->bytes;
  s->~Storage();
  deallocate(s, bytes + 64);
}

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;
void* TensorImpl::operator new(size_t bytes) { return allocate(bytes); }
void TensorImpl::operator delete(void* p, size_t bytes) { deallocate(p, bytes); }
void release_last(TensorImpl* t) { delete t; }

// In-place writes are not recorded. On a leaf that requires grad they must happen outside
// recording (an optimizer step); on a recorded op's output they would silently make the
// recorded gradient wrong (its rule may have saved these values), so they are refused. The
// ones allowed are counted, so a rule that saved the old values can tell (SavedTensor).
void begin_in_place(const char* op, const Tensor& t) {
  if (!t.defined()) return;
  if (t.requires_grad() && !t.is_leaf())
    throw UsageError(fmt::format("{}: the tensor {} is the output of '{}' and part of a recorded graph; changing it in "
                                 "place would make its gradient wrong (detach() it first)",
                                 op, t.shape().str(), t.op_name()));
  if (t.requires_grad() && is_grad_enabled())
    throw UsageError(fmt::format("{}: the leaf {} requires grad and cannot be changed in place while recording; do it "
                                 "under ad::NoGradGuard (as an optimizer step does)",
                                 op, t.shape().str()));
  bump_version(*t.impl()->storage);
}

}  // namespace detail

const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

void Shape::push_back(int64_t d) {
  if (rank_ == kMaxRank) throw ShapeError(fmt::format("shape: at most {} dims are supported", kMaxRank));
  dims_[rank_++] = d;
}

std::string Shape::str() const {
  std::string s = "(";
  for (size_t i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
  if (rank_ == 1) s += ",";
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

void Tensor::throw_undefined() {
  throw UsageError("tensor: this Tensor is undefined (default-constructed or moved from)");
}

int64_t Tensor::size(int64_t d) const {
  const int64_t r = dim();
  if (d < -r || d >= r) throw ShapeError(fmt::format("size: dim {} is out of range for a {}-d tensor {}", d, r, shape().str()));
  return shape()[static_cast<size_t>(d < 0 ? d + r : d)];
}

double Tensor::item() const {
  if (numel() != 1)
    throw ShapeError(fmt::format("item: the tensor is {} with {} elements; item() needs exactly one", shape().str(), numel()));
  return detail::dispatch(dtype(), [&](auto tag) { return static_cast<double>(*static_cast<const decltype(tag)*>(raw_data())); });
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(static_cast<size_t>(numel()));
  detail::dispatch(dtype(), [&](auto tag) {
    const auto* p = static_cast<const decltype(tag)*>(raw_data());
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target);
  detail::dispatch(dtype(), [&](auto from) {
    detail::dispatch(target, [&](auto to) {
      const auto* src = static_cast<const decltype(from)*>(raw_data());
      auto* dst = static_cast<decltype(to)*>(out.raw_data());
      for (int64_t i = 0; i < numel(); ++i) dst[i] = static_cast<decltype(to)>(src[i]);
    });
  });
  const DType source = dtype();
  return record_op("to", "dX = dY converted back to X's dtype", {*this}, out,
                   [source](BackwardContext& c) { c.add(0, c.grad().to(source)); });
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  std::memcpy(out.raw_data(), raw_data(), static_cast<size_t>(numel()) * dtype_size(dtype()));
  return record_op("clone", "dX = dY", {*this}, out, [](BackwardContext& c) { c.add(0, c.grad()); });
}

Tensor& Tensor::copy_(const Tensor& src) {
  detail::check_defined("copy_", src);
  if (dtype() != src.dtype())
    throw DTypeError(fmt::format("copy_: source is {} but the destination is {}", dtype_name(src.dtype()), dtype_name(dtype())));
  if (src.shape() == shape()) {
    detail::begin_in_place("copy_", *this);
    if (src.raw_data() != raw_data())
      std::memmove(raw_data(), src.raw_data(), static_cast<size_t>(numel()) * dtype_size(dtype()));
    return *this;
  }
  if (!(detail::broadcast_shapes("copy_", src.shape(), shape()) == shape()))
    throw ShapeError(fmt::format("copy_: the source {} does not broadcast to the destination {}", src.shape().str(),
                                 shape().str()));
  detail::begin_in_place("copy_", *this);
  Tensor b = broadcast_to(src.detach(), shape());
  std::memcpy(raw_data(), b.raw_data(), static_cast<size_t>(numel()) * dtype_size(dtype()));
  return *this;
}

Tensor& Tensor::fill_(double value) {
  detail::begin_in_place("fill_", *this);
  detail::dispatch(dtype(), [&](auto tag) {
    auto* p = static_cast<decltype(tag)*>(raw_data());
    for (int64_t i = 0; i < numel(); ++i) p[i] = static_cast<decltype(tag)>(value);
  });
  return *this;
}

Tensor Tensor::detach() const {
  auto impl = detail::Ref<detail::TensorImpl>::adopt(new detail::TensorImpl());
  impl->dtype = dtype();
  impl->shape = shape();
  impl->storage = impl_->storage;
  return Tensor(std::move(impl));
}

Tensor Tensor::T() const { return transpose(*this); }

Tensor& Tensor::requires_grad_(bool enable) {
  if (!is_leaf() && !enable)
    throw UsageError(fmt::format("requires_grad_: '{}' output {} is not a leaf; use detach() instead", op_name(), shape().str()));
  impl()->requires_grad = enable;
  return *this;
}

Tensor Tensor::grad() const { return impl()->grad ? Tensor(impl()->grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) {
  if (g.defined() && !(g.shape() == shape()))
    throw ShapeError(fmt::format("set_grad: the gradient is {} but the tensor is {}", g.shape().str(), shape().str()));
  if (g.defined() && g.dtype() != dtype())
    throw DTypeError(fmt::format("set_grad: the gradient is {} but the tensor is {}", dtype_name(g.dtype()),
                                 dtype_name(dtype())));
  impl()->grad = g.defined() ? g.ref() : detail::Ref<detail::TensorImpl>();
}

void Tensor::zero_grad() { impl()->grad.reset(); }

const char* Tensor::op_name() const { return impl()->grad_fn ? impl()->grad_fn->name : "leaf"; }

namespace {
template <class T>
void check_data_type(const Tensor& t) {
  constexpr DType want = std::is_same_v<T, float> ? DType::f32 : DType::f64;
  if (t.dtype() != want)
    throw DTypeError(fmt::format("data<{}>: the tensor is {}", dtype_name(want), dtype_name(t.dtype())));
}
}  // namespace

template <>
float* Tensor::data<float>() {
  check_data_type<float>(*this);
  return static_cast<float*>(raw_data());
}
template <>
double* Tensor::data<double>() {
  check_data_type<double>(*this);
  return static_cast<double*>(raw_data());
}
template <>
const float* Tensor::data<float>() const {
  check_data_type<float>(*this);
  return static_cast<const float*>(raw_data());
}
template <>
const double* Tensor::data<double>() const {
  check_data_type<double>(*this);
  return static_cast<const double*>(raw_data());
}

namespace {
// Nested brackets, one level per dim, as NumPy and PyTorch print; a dim longer than 6 shows
// its first and last 3 entries around "…". Recursion depth is the rank (at most 8).
constexpr size_t kIndent = 7;  // rows line up under the first one, after "Tensor("
void print_values(std::string& out, const Tensor& t, size_t d, int64_t offset) {
  const Shape& s = t.shape();
  const int64_t n = s[d];
  int64_t stride = 1;
  for (size_t k = d + 1; k < s.size(); ++k) stride *= s[k];
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > 6 && i == 3) {
      out += d + 1 == s.size() ? "…, " : "…,\n" + std::string(kIndent + d + 1, ' ');
      i = n - 3;
    }
    if (d + 1 == s.size())
      out += detail::dispatch(t.dtype(), [&](auto tag) {
        return fmt::format("{:.6g}", static_cast<const decltype(tag)*>(t.raw_data())[offset + i]);
      });
    else
      print_values(out, t, d + 1, offset + i * stride);
    if (i + 1 < n) out += d + 1 == s.size() ? ", " : ",\n" + std::string(kIndent + d + 1, ' ');
  }
  out += ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  std::string values;
  if (t.dim() == 0)
    values = fmt::format("{:.6g}", t.item());
  else
    print_values(values, t, 0, 0);
  os << "Tensor(" << values << ", shape=" << t.shape().str() << ", dtype=" << dtype_name(t.dtype());
  if (t.requires_grad()) os << (t.is_leaf() ? ", requires_grad" : ", op=") << (t.is_leaf() ? "" : t.op_name());
  return os << ")";
}

}  // namespace ad
