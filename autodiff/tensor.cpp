#include "autodiff/tensor.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "autodiff/detail/allocate.hpp"
#include "autodiff/detail/trace_hooks.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/kernels/dispatch.hpp"

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
  if (recording()) [[unlikely]]
    trace_storage_created(s);
  return Ref<Storage>::adopt(s);
}

void release_last(Storage* s) {
  if (recording()) [[unlikely]]
    trace_storage_released(s);
  size_t bytes = s->bytes;
  s->~Storage();
  deallocate(s, bytes + 64);
}

}  // namespace detail

const char* dtype_name(DType d) {
  switch (d) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
  }
  return "?";
}

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
  detail::check_host_access(impl(), "item");
  if (numel() != 1)
    throw ShapeError(fmt::format("item: the tensor is {} with {} elements; item() needs exactly one", shape().str(), numel()));
  return kernels::dispatch_all(dtype(), [&](auto tag) { return static_cast<double>(*static_cast<const decltype(tag)*>(impl()->data())); });
}

std::vector<double> Tensor::to_vector() const {
  detail::check_host_access(impl(), "to_vector");
  std::vector<double> v(static_cast<size_t>(numel()));
  kernels::dispatch_all(dtype(), [&](auto tag) {
    const auto* p = static_cast<const decltype(tag)*>(impl()->data());
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

Tensor Tensor::detach() const {
  if (detail::recording()) [[unlikely]]
    detail::trace_aliased(impl());
  auto impl = detail::Ref<detail::TensorImpl>::adopt(new detail::TensorImpl());
  impl->dtype = dtype();
  impl->shape = shape();
  impl->storage = impl_->storage;
  return Tensor(std::move(impl));
}

Tensor& Tensor::requires_grad_(bool enable) {
  if (enable && !is_floating(dtype()))
    throw DTypeError(fmt::format("requires_grad_: the tensor {} is {}; only float32 and float64 tensors have "
                                 "gradients",
                                 shape().str(), dtype_name(dtype())));
  if (!is_leaf() && !enable)
    throw UsageError(fmt::format("requires_grad_: '{}' output {} is not a leaf; use detach() instead", op_name(), shape().str()));
  impl()->requires_grad = enable;
  return *this;
}

Tensor Tensor::grad() const {
  if (detail::recording()) [[unlikely]]
    detail::trace_grad_read(impl());
  return impl()->grad ? Tensor(impl()->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  if (g.defined() && !(g.shape() == shape()))
    throw ShapeError(fmt::format("set_grad: the gradient is {} but the tensor is {}", g.shape().str(), shape().str()));
  if (g.defined() && g.dtype() != dtype())
    throw DTypeError(fmt::format("set_grad: the gradient is {} but the tensor is {}", dtype_name(g.dtype()),
                                 dtype_name(dtype())));
  impl()->grad = g.impl_;
  if (detail::recording()) [[unlikely]]
    detail::trace_grad_set(impl());
}

void Tensor::zero_grad() {
  impl()->grad.reset();
  if (detail::recording()) [[unlikely]]
    detail::trace_grad_set(impl());
}

void* Tensor::raw_data() const {
  detail::check_host_access(impl(), "raw_data");
  return impl()->data();
}

namespace {
template <class T>
void check_data_type(const Tensor& t) {
  detail::check_host_access(detail::TensorAccess::impl(t), "data");
  constexpr DType want = std::is_same_v<T, float> ? DType::f32 : std::is_same_v<T, double> ? DType::f64 : DType::i64;
  if (t.dtype() != want)
    throw DTypeError(fmt::format("data<{}>: the tensor is {}", dtype_name(want), dtype_name(t.dtype())));
}
}  // namespace

template <class T>
T* Tensor::data() {
  check_data_type<T>(*this);
  return static_cast<T*>(impl()->data());
}
template <class T>
const T* Tensor::data() const {
  check_data_type<T>(*this);
  return static_cast<const T*>(impl()->data());
}
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template int64_t* Tensor::data<int64_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const int64_t* Tensor::data<int64_t>() const;

namespace {
// Nested brackets, one level per dim, as NumPy and PyTorch print; a dim longer than 6 shows
// its first and last 3 entries around "…". Recursion depth is the rank (at most 8).
constexpr size_t kIndent = 7;  // rows line up under the first one, after "Tensor("

// Element i as printed: 6 significant digits, integers in full.
std::string format_value(const Tensor& t, int64_t i) {
  return kernels::dispatch_all(t.dtype(), [&](auto tag) {
    const auto v = static_cast<const decltype(tag)*>(detail::TensorAccess::impl(t)->data())[i];
    if constexpr (std::is_integral_v<decltype(tag)>) return fmt::format("{}", v);
    else return fmt::format("{:.6g}", v);
  });
}

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
      out += format_value(t, offset + i);
    else
      print_values(out, t, d + 1, offset + i * stride);
    if (i + 1 < n) out += d + 1 == s.size() ? ", " : ",\n" + std::string(kIndent + d + 1, ' ');
  }
  out += ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  detail::check_host_access(detail::TensorAccess::impl(t), "operator<<");
  std::string values;
  if (t.dim() == 0)
    values = format_value(t, 0);
  else
    print_values(values, t, 0, 0);
  os << "Tensor(" << values << ", shape=" << t.shape().str() << ", dtype=" << dtype_name(t.dtype());
  if (t.requires_grad()) os << (t.is_leaf() ? ", requires_grad" : ", op=") << (t.is_leaf() ? "" : t.op_name());
  return os << ")";
}

}  // namespace ad
