// Factories, the per-thread random generator, and the thread count.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <new>
#include <random>
#include <type_traits>

#include "autodiff/detail/random.hpp"
#include "autodiff/detail/trace_hooks.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/kernels/copy.hpp"
#include "autodiff/kernels/dispatch.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/kernels/parallel.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/tensor.hpp"

namespace ad {

namespace detail {
// Each thread draws from its own generator, so threads training separate models stay
// reproducible and independent of each other's timing.
std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen(0x7a9e9ad5eedULL);
  return gen;
}
}  // namespace detail

namespace {

using detail::generator;
using kernels::Operands;

// Negative dims and element counts whose byte size does not fit in memory are user mistakes;
// catching them here keeps an overflowed size from reaching the allocator.
void check_shape(const char* op, const Shape& shape, DType dtype) {
  constexpr int64_t kMaxBytes = int64_t{1} << 48;
  int64_t bytes = static_cast<int64_t>(dtype_size(dtype));
  for (int64_t d : shape) {
    if (d < 0) throw ValueError(fmt::format("{}: shape {} has a negative dim", op, shape.str()));
    // A multiply with an overflow check, not a division: this runs for every tensor made.
    if (__builtin_mul_overflow(bytes, d, &bytes) || bytes > kMaxBytes)
      throw ValueError(fmt::format("{}: shape {} of {} is too large to allocate", op, shape.str(), dtype_name(dtype)));
  }
}

// int64 values must be whole numbers an int64 holds exactly (|v| < 2⁶³; doubles are exact to 2⁵³).
void check_whole(const char* op, const std::vector<double>& values) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!(values[i] == std::floor(values[i]) && std::fabs(values[i]) < 0x1p63))
      throw ValueError(fmt::format("{}: value {} (position {}) is not a whole number, so it cannot be int64", op,
                                   values[i], i));
}

// An uninitialized tensor; `op` names the caller in errors. A size the checks pass but the
// system cannot back (zeros({1 << 40}): 4 TiB) is a ValueError too, not std::bad_alloc.
Tensor make(const char* op, const Shape& shape, DType dtype) {
  check_shape(op, shape, dtype);
  auto impl = detail::Ref<detail::TensorImpl>::adopt(new detail::TensorImpl());
  impl->dtype = dtype;
  impl->shape = shape;
  const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  try {
    impl->storage = detail::Storage::create(bytes);
  } catch (const std::bad_alloc&) {
    throw ValueError(fmt::format("{}: shape {} of {} is too large to allocate ({} bytes: out of memory)", op,
                                 shape.str(), dtype_name(dtype), bytes));
  }
  return detail::wrap(std::move(impl));
}

// A new tensor with every element `value`, written by a kernel (so a trace replays it). A fresh
// tensor's values are not an in-place change: its version stays 0.
Tensor filled(const char* op, const Shape& shape, double value, DType dtype) {
  Tensor t = make(op, shape, dtype);
  kernels::launch(op, {}, {detail::buffer(t)}, [value](const Operands& o) { kernels::fill(o.out(0), value); });
  return t;
}

// A uniform double in [0, 1) from the top 53 bits of one draw.
double uniform01() { return static_cast<double>(generator()() >> 11) * 0x1.0p-53; }

// A new tensor of random draws: fill(p, n) writes its n elements of the floating dtype. The
// draws happen when the kernel runs, so a replayed trace draws afresh from this thread's
// generator, as the eager call would.
template <class Fill>
Tensor random_tensor(const char* op, const Shape& shape, DType dtype, Fill fill) {
  if (!is_floating(dtype))
    throw DTypeError(fmt::format("{}: draws are float32 or float64, not {}", op, dtype_name(dtype)));
  Tensor t = make(op, shape, dtype);
  kernels::launch(op, {}, {detail::buffer(t)}, [fill](const Operands& o) {
    kernels::dispatch(o.out(0).dtype, [&](auto tag) { fill(o.out(0).as<decltype(tag)>(), o.out(0).shape.numel()); });
  });
  return t;
}

// Fills out from doubles converted to its dtype.
void fill_from(kernels::Out out, const double* values) {
  kernels::dispatch_all(out.dtype, [&](auto tag) {
    auto* p = out.as<decltype(tag)>();
    for (int64_t i = 0, n = out.shape.numel(); i < n; ++i) p[i] = static_cast<decltype(tag)>(values[i]);
  });
}

}  // namespace

Tensor empty(const Shape& shape, DType dtype) { return make("empty", shape, dtype); }

Tensor full(const Shape& shape, double value, DType dtype) { return filled("full", shape, value, dtype); }
Tensor zeros(const Shape& shape, DType dtype) { return filled("zeros", shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return filled("ones", shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar(double value, DType dtype) { return full(Shape{}, value, dtype); }

Tensor tensor(const std::vector<double>& values, const Shape& shape, DType dtype) {
  check_shape("tensor", shape, dtype);
  if (static_cast<int64_t>(values.size()) != shape.numel())
    throw ShapeError(fmt::format("tensor: {} values cannot fill shape {} ({} elements)", values.size(), shape.str(),
                                 shape.numel()));
  if (dtype == DType::i64) check_whole("tensor", values);
  Tensor t = empty(shape, dtype);
  if (detail::recording())  // a trace keeps its own copy of the values for its replays
    kernels::launch("tensor", {}, {detail::buffer(t)}, [v = values](const Operands& o) { fill_from(o.out(0), v.data()); });
  else
    kernels::launch("tensor", {}, {detail::buffer(t)}, [v = values.data()](const Operands& o) { fill_from(o.out(0), v); });
  return t;
}

void manual_seed(uint64_t seed) { generator().seed(seed); }
uint64_t random_u64() { return generator()(); }

Tensor rand(const Shape& shape, DType dtype) {
  return random_tensor("rand", shape, dtype, [](auto* p, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t i = 0; i < n; ++i) {
      T v = static_cast<T>(uniform01());
      p[i] = v < T(1) ? v : std::nextafter(T(1), T(0));  // rounding to float must not reach 1
    }
  });
}

// Box–Muller: two uniforms give two independent standard normals.
Tensor randn(const Shape& shape, DType dtype) {
  return random_tensor("randn", shape, dtype, [](auto* p, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t i = 0; i < n; i += 2) {
      const double u1 = 1.0 - uniform01(), u2 = uniform01();
      const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * M_PI * u2;
      p[i] = static_cast<T>(r * std::cos(a));
      if (i + 1 < n) p[i + 1] = static_cast<T>(r * std::sin(a));
    }
  });
}

void set_num_threads(int n) {
  if (n < 1) throw ValueError(fmt::format("set_num_threads: {} threads; need at least 1", n));
  kernels::set_num_threads(n);
}

int get_num_threads() { return kernels::get_num_threads(); }

}  // namespace ad
