// The comparison's workloads written with tapegrad as a user would: nn::mlp in column layout,
// the nn costs, ad::optim. Usage: tapegrad_compare WORKLOAD DATA_DIR [REPS] [compiled]
// (WORKLOAD: w1…w4, b<B>, d<D>, perop_add, perop_expr). Prints one JSON line (common.hpp).
// With `compiled`, the step is the same function under ad::compile (recorded on its first call,
// replayed after), reported as the implementation "tapegrad-compiled".
#include <autodiff/autodiff.hpp>
#include <nn/nn.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <numeric>

#include "common.hpp"

namespace {

using ad::Tensor;
namespace nn = ad::nn;

// make_data.py's (m, n0) sample-major file as the (n0, m) column-layout tensor X = A[0],
// transposed a slab of rows at a time so the peak memory is the data plus one slab.
Tensor read_columns(const std::string& dir, const std::string& name, int64_t m, int64_t n0) {
  Tensor X = ad::empty({n0, m});
  float* x = X.data<float>();
  std::ifstream f(dir + "/" + name, std::ios::binary);
  const int64_t slab = 512;
  std::vector<float> rows(static_cast<size_t>(slab * n0));
  for (int64_t r0 = 0; r0 < m; r0 += slab) {
    const int64_t n = std::min(slab, m - r0);
    if (!f.read(reinterpret_cast<char*>(rows.data()), static_cast<std::streamsize>(n * n0 * sizeof(float))))
      throw std::runtime_error("cannot read " + dir + "/" + name);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n0; ++j) x[j * m + r0 + i] = rows[static_cast<size_t>(i * n0 + j)];
  }
  return X;
}

// Sets W1, b1, … from make_data.py's initial weights (b[l] is (n[l], 1) here, (n[l],) on disk).
void load_init(nn::Sequential& net, const std::string& dir, const cmp::Workload& w) {
  ad::NoGradGuard no_grad;
  for (auto& [name, p] : net.named_parameters())
    cmp::read_into(dir, w.name + "_" + name + ".f32", p.data<float>(), static_cast<size_t>(p.numel()));
}

nn::Sequential make_net(const cmp::Workload& w, const std::string& dir) {
  nn::Sequential net = nn::mlp(w.dims, w.sigmoid_hidden ? nn::Activation::Sigmoid : nn::Activation::ReLU,
                               w.binary ? nn::Activation::Sigmoid : nn::Activation::Identity);
  if (!w.synthetic) load_init(net, dir, w);
  return net;
}

std::unique_ptr<ad::optim::Optimizer> make_optimizer(const cmp::Workload& w, nn::Sequential& net) {
  if (w.adam) return std::make_unique<ad::optim::Adam>(net.parameters(), w.lr);
  return std::make_unique<ad::optim::SGD>(net.parameters(), w.lr);
}

const char* impl_name(bool compiled) { return compiled ? "tapegrad-compiled" : "tapegrad"; }

// W1, W2: full-batch gradient descent on a sigmoid output with binary cross-entropy.
void run_binary(const cmp::Workload& w, const std::string& dir, int reps, long rss0, bool compiled) {
  Tensor X = read_columns(dir, w.name + "_X.f32", w.m, w.dims[0]);
  Tensor Y = ad::empty({1, w.m});
  cmp::read_into(dir, w.name + "_y.f32", Y.data<float>(), static_cast<size_t>(w.m));
  nn::Sequential net = make_net(w, dir);
  auto opt = make_optimizer(w, net);
  auto train = [&](const Tensor& Xs, const Tensor& Ys) {
    Tensor J = nn::binary_cross_entropy(net.forward(Xs), Ys);
    opt->zero_grad();
    J.backward();
    opt->step();
    return J;
  };
  auto step = ad::compile(train);
  cmp::measure(impl_name(compiled), w, reps, rss0, [&](int64_t, bool want_cost) {
    Tensor J = compiled ? step(X, Y) : train(X, Y);
    return want_cost ? J.item() : 0.0;
  });
}

// W3, W4 and the scaling curves: logits + softmax cross-entropy over class indices, on the
// batch's columns of X (all of X when the batch is the whole set). A mini-batched data set is
// kept sample-major, as it is on disk, and batches come from nn::gather_samples: a random
// batch then reads contiguous rows instead of scattered columns.
// Compiled, the labels go in as an int64 tensor (the step's argument) instead of a host vector:
// the last, smaller batch of an epoch records a trace of its own.
void run_multiclass(const cmp::Workload& w, const std::string& dir, int reps, long rss0, bool compiled) {
  Tensor X;  // (n0, m) when the batch is the whole set, else (m, n0) sample-major
  std::vector<int32_t> labels, perm;
  const bool batched = w.batch < w.m;
  if (w.synthetic) {
    ad::manual_seed(7);
    X = ad::rand({w.dims[0], w.m});
    if (batched) X = ad::transpose(X);
    for (int64_t i = 0; i < w.m; ++i) labels.push_back(static_cast<int32_t>(ad::random_u64() % w.dims.back()));
  } else {
    if (batched) {
      X = ad::empty({w.m, w.dims[0]});
      cmp::read_into(dir, w.name + "_X.f32", X.data<float>(), static_cast<size_t>(X.numel()));
    } else {
      X = read_columns(dir, w.name + "_X.f32", w.m, w.dims[0]);
    }
    labels = cmp::read_raw<int32_t>(dir, w.name + "_y.i32", static_cast<size_t>(w.m));
  }
  if (batched) {
    perm = cmp::read_raw<int32_t>(dir, w.name + "_perm.i32", static_cast<size_t>(w.m));
  } else {
    perm.resize(static_cast<size_t>(w.m));
    std::iota(perm.begin(), perm.end(), 0);
  }
  nn::Sequential net = make_net(w, dir);
  auto opt = make_optimizer(w, net);
  auto step = ad::compile([&](const Tensor& Xb, const Tensor& yb) {
    Tensor J = ad::softmax_cross_entropy(net.forward(Xb), yb);
    opt->zero_grad();
    J.backward();
    opt->step();
    return J;
  });
  cmp::measure(impl_name(compiled), w, reps, rss0, [&](int64_t k, bool want_cost) {
    std::vector<int64_t> idx = cmp::batch_index(perm, w.batch, k);
    std::vector<int64_t> y(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) y[i] = labels[static_cast<size_t>(idx[i])];
    Tensor Xb = batched ? nn::gather_samples(X, idx) : X;
    Tensor J;
    if (compiled) {
      Tensor yb = ad::empty({static_cast<int64_t>(y.size())}, ad::DType::i64);
      std::copy(y.begin(), y.end(), yb.data<int64_t>());
      J = step(Xb, yb);
    } else {
      J = nn::softmax_cross_entropy(net.forward(Xb), y);
      opt->zero_grad();
      J.backward();
      opt->step();
    }
    return want_cost ? J.item() : 0.0;
  });
}

// Per-op overhead: one recorded add on 1-element tensors + backward; and micrograd's
// expression (26 recorded ops) + backward. The check value is dg/da.
void run_perop(const std::string& which, int reps, long rss0, bool compiled) {
  Tensor a = ad::scalar(-4.0).requires_grad_(), b = ad::scalar(2.0).requires_grad_();
  if (which == "perop_add") {
    cmp::Workload w{which, {}, 1, 1, 0, 1000, 100000};
    auto add = [&] {
      a.zero_grad();
      b.zero_grad();
      (a + b).backward();
    };
    auto step = ad::compile(add);
    cmp::measure(impl_name(compiled), w, reps, rss0, [&](int64_t, bool want) {
      compiled ? step() : add();
      return want ? a.grad().item() : 0.0;
    });
    return;
  }
  cmp::Workload w{which, {}, 1, 1, 0, 1000, 20000};
  auto expr = [&] {
    a.zero_grad();
    b.zero_grad();
    Tensor c = a + b;
    Tensor d = a * b + b * b * b;
    c = c + (c + 1.0);
    c = c + (1.0 + c + (-a));
    d = d + (d * 2.0 + ad::relu(b + a));
    d = d + (3.0 * d + ad::relu(b - a));
    Tensor e = c - d;
    Tensor f = e * e;
    Tensor g = f / 2.0 + 10.0 / f;
    g.backward();
  };
  auto step = ad::compile(expr);
  cmp::measure(impl_name(compiled), w, reps, rss0, [&](int64_t, bool want) {
    compiled ? step() : expr();
    return want ? a.grad().item() : 0.0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  const long rss0 = cmp::rss_kb();
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s WORKLOAD DATA_DIR [REPS]\n", argv[0]);
    return 2;
  }
  const std::string which = argv[1], dir = argv[2];
  const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  const bool compiled = argc > 4 && std::string(argv[4]) == "compiled";
  ad::set_num_threads(2);
  if (which.rfind("perop", 0) == 0) {
    run_perop(which, reps, rss0, compiled);
    return 0;
  }
  const cmp::Workload w = cmp::workload(which);
  if (w.binary)
    run_binary(w, dir, reps, rss0, compiled);
  else
    run_multiclass(w, dir, reps, rss0, compiled);
  return 0;
}
