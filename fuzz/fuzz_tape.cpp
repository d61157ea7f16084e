// libFuzzer target: the bytes are a little program of tensor ops. A pool of tensors (random
// shapes including empty and invalid ones, both dtypes, some requiring grad, some holding NaN)
// goes through a sequence of ops picked by the bytes, with backward passes, ad::grad,
// NoGradGuard and anomaly detection mixed in. Every call must either return a well-formed
// tensor or throw ad::Error; afterwards the tape must be empty again (nothing leaked into it).
#include <autodiff/autodiff.hpp>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace {

using ad::Tensor;

class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  // A dim in [-1, 6]: mostly small, sometimes 0 (empty) or negative (invalid).
  int64_t dim() { return static_cast<int64_t>(u8() % 8) - 1; }
  int64_t index() { return static_cast<int64_t>(u8() % 9) - 4; }  // dims and indices in [-4, 4]
  double value() {
    const uint8_t b = u8();
    if (b == 255) return std::nan("");
    if (b == 254) return INFINITY;
    return (static_cast<double>(b) - 128.0) / 16.0;
  }
  ad::Shape shape(size_t max_rank) {
    ad::Shape s;
    const size_t rank = u8() % (max_rank + 1);
    for (size_t k = 0; k < rank && k < ad::Shape::kMaxRank; ++k) s.push_back(dim());
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_, i_ = 0;
};

void check(const Tensor& t) {
  if (!t.defined()) __builtin_trap();
  int64_t n = 1;
  for (int64_t d : t.shape()) {
    if (d < 0) __builtin_trap();
    n *= d;
  }
  if (n != t.numel()) __builtin_trap();
}

Tensor make_tensor(Bytes& b) {
  const ad::Shape s = b.shape(3);
  const ad::DType dt = b.u8() & 1 ? ad::DType::f64 : ad::DType::f32;
  Tensor t = ad::zeros(s, dt);  // may throw for a negative dim: the caller catches
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (double& x : v) x = b.value();
  t = ad::tensor(v, s, dt);
  if (b.u8() & 1) t.requires_grad_();
  return t;
}

Tensor pick(std::vector<Tensor>& pool, Bytes& b) { return pool[b.u8() % pool.size()]; }

// One op on the pool; returns its result (or throws ad::Error).
Tensor step(std::vector<Tensor>& pool, Bytes& b, std::optional<ad::NoGradGuard>& no_grad,
            std::optional<ad::DetectAnomalyGuard>& anomaly) {
  Tensor x = pick(pool, b), y = pick(pool, b);
  const uint8_t op = b.u8();
  switch (op % 48) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return ad::minimum(x, y);
    case 5: return ad::maximum(x, y);
    case 6: return ad::matmul(x, y);
    case 7: return ad::gemm(x, y, b.u8() & 1, b.u8() & 1);
    case 8: return ad::where(ad::gt(x, 0.0), x, y);
    case 9: return ad::concat({x, y}, b.index());
    case 10: return ad::exp(x);
    case 11: return ad::log(x);
    case 12: return ad::sqrt(x);
    case 13: return ad::abs(x);
    case 14: return ad::pow(x, b.value());
    case 15: return ad::tanh(x);
    case 16: return ad::sigmoid(x);
    case 17: return ad::relu(x);
    case 18: return ad::leaky_relu(x, b.value());
    case 19: return ad::softplus(x);
    case 20: return ad::clamp(x, b.value(), b.value());
    case 21: return ad::sign(x);
    case 22: return ad::sum(x);
    case 23: return ad::sum(x, b.index(), b.u8() & 1);
    case 24: return ad::mean(x);
    case 25: return ad::mean(x, b.index(), b.u8() & 1);
    case 26: return ad::max(x, b.index(), b.u8() & 1);
    case 27: return ad::argmax(x, b.index(), b.u8() & 1);
    case 28: return ad::softmax(x, b.index());
    case 29: return ad::log_softmax(x, b.index());
    case 30: return ad::transpose(x);
    case 31: return ad::reshape(x, b.shape(9));
    case 32: return ad::broadcast_to(x, b.shape(4));
    case 33: return ad::sum_to(x, b.shape(3));
    case 34: return ad::slice(x, b.index(), b.index(), b.index());
    case 35: return ad::index_select(x, b.index(), {b.index(), b.index()});
    case 36: return ad::softmax_cross_entropy(x, y, b.index());
    case 37: return ad::binary_cross_entropy_with_logits(x, y);
    case 38: return x.to(b.u8() & 1 ? ad::DType::f64 : ad::DType::f32);
    case 39: return x.clone() * b.value() + b.value();
    case 40: return x.detach();
    case 41: {  // backward from a scalar of x, or with a seed of x's shape
      const bool retain = b.u8() & 1;
      if (b.u8() & 1) x.backward(ad::ones_like(x), retain);
      else ad::sum(x).backward(Tensor(), retain);
      return x;
    }
    case 42: {  // gradients returned, optionally differentiable
      std::vector<Tensor> g = ad::grad({ad::sum(x)}, {y}, {}, b.u8() & 1, b.u8() & 1);
      return g.at(0);
    }
    case 43:
      if (no_grad) no_grad.reset();
      else no_grad.emplace();
      return x;
    case 44:
      if (anomaly) anomaly.reset();
      else anomaly.emplace();
      return x;
    case 45: return make_tensor(b);
    case 46: {
      Tensor d = ad::zeros_like(x);
      ad::NoGradGuard off;
      return d.add_(y);
    }
    default: return x.grad().defined() ? x.grad() : x;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes b(data, size);
  const size_t tape_before = ad::tape_size();
  ad::manual_seed(1);
  {
    std::vector<Tensor> pool;
    for (int k = 0; k < 3; ++k) {
      try {
        pool.push_back(make_tensor(b));
      } catch (const ad::Error&) {
        pool.push_back(ad::ones({2, 2}).requires_grad_());
      }
    }
    std::optional<ad::NoGradGuard> no_grad;
    std::optional<ad::DetectAnomalyGuard> anomaly;
    for (int n = 0; n < 48 && !b.empty(); ++n) {
      try {
        Tensor r = step(pool, b, no_grad, anomaly);
        check(r);
        if (pool.size() < 10) pool.push_back(r);
        else pool[b.u8() % pool.size()] = r;
      } catch (const ad::Error&) {
      }
    }
    for (const Tensor& t : pool)  // a leaf's gradient, when one arrived, matches the leaf
      if (t.is_leaf() && t.grad().defined() && !(t.grad().shape() == t.shape() && t.grad().dtype() == t.dtype()))
        __builtin_trap();
  }
  if (!ad::is_grad_enabled() || ad::is_anomaly_enabled()) __builtin_trap();  // guards restored
  if (ad::tape_size() != tape_before) __builtin_trap();  // every record died with its tensors
  return 0;
}
