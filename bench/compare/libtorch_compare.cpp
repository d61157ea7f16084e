// The comparison's workloads in LibTorch C++, batch-first as its users write them:
// torch::nn::Sequential of Linear layers, torch losses, torch::optim. Usage as tapegrad_compare.
#include <torch/torch.h>

#include <cstdio>
#include <numeric>

#include "common.hpp"

namespace {

struct Net {
  torch::nn::Sequential seq;
  std::vector<torch::nn::Linear> linears;
};

// Linear(n[l-1], n[l]) with the hidden activation between layers and a sigmoid after the last
// for binary workloads; weights (n[l], n[l-1]) and biases (n[l]) from make_data.py.
Net make_net(const cmp::Workload& w, const std::string& dir) {
  Net net;
  const size_t L = w.dims.size() - 1;
  for (size_t l = 1; l <= L; ++l) {
    torch::nn::Linear lin(w.dims[l - 1], w.dims[l]);
    net.seq->push_back(lin);
    net.linears.push_back(lin);
    if (l < L) {
      if (w.sigmoid_hidden)
        net.seq->push_back(torch::nn::Sigmoid());
      else
        net.seq->push_back(torch::nn::ReLU());
    } else if (w.binary) {
      net.seq->push_back(torch::nn::Sigmoid());
    }
    if (!w.synthetic) {
      torch::NoGradGuard no_grad;
      const std::string l_str = std::to_string(l);
      cmp::read_into(dir, w.name + "_W" + l_str + ".f32", lin->weight.data_ptr<float>(), lin->weight.numel());
      cmp::read_into(dir, w.name + "_b" + l_str + ".f32", lin->bias.data_ptr<float>(), lin->bias.numel());
    }
  }
  return net;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const cmp::Workload& w, Net& net) {
  if (w.adam) return std::make_unique<torch::optim::Adam>(net.seq->parameters(), torch::optim::AdamOptions(w.lr));
  return std::make_unique<torch::optim::SGD>(net.seq->parameters(), torch::optim::SGDOptions(w.lr));
}

torch::Tensor read_tensor(const std::string& dir, const std::string& name, std::vector<int64_t> shape) {
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  cmp::read_into(dir, name, t.data_ptr<float>(), t.numel());
  return t;
}

void run_binary(const cmp::Workload& w, const std::string& dir, int reps, long rss0) {
  torch::Tensor X = read_tensor(dir, w.name + "_X.f32", {w.m, w.dims[0]});
  torch::Tensor Y = read_tensor(dir, w.name + "_y.f32", {w.m, 1});
  Net net = make_net(w, dir);
  auto opt = make_optimizer(w, net);
  cmp::measure("libtorch", w, reps, rss0, [&](int64_t, bool want_cost) {
    torch::Tensor J = torch::binary_cross_entropy(net.seq->forward(X), Y);
    opt->zero_grad();
    J.backward();
    opt->step();
    return want_cost ? J.item<double>() : 0.0;
  });
}

void run_multiclass(const cmp::Workload& w, const std::string& dir, int reps, long rss0) {
  torch::Tensor X, labels, perm;
  if (w.synthetic) {
    torch::manual_seed(7);
    X = torch::rand({w.m, w.dims[0]});
    labels = torch::randint(w.dims.back(), {w.m}, torch::kInt64);
  } else {
    X = read_tensor(dir, w.name + "_X.f32", {w.m, w.dims[0]});
    auto y = cmp::read_raw<int32_t>(dir, w.name + "_y.i32", w.m);
    labels = torch::tensor(std::vector<int64_t>(y.begin(), y.end()), torch::kInt64);
  }
  std::vector<int32_t> order(w.m);
  if (w.batch < w.m)
    order = cmp::read_raw<int32_t>(dir, w.name + "_perm.i32", w.m);
  else
    std::iota(order.begin(), order.end(), 0);
  Net net = make_net(w, dir);
  auto opt = make_optimizer(w, net);
  cmp::measure("libtorch", w, reps, rss0, [&](int64_t k, bool want_cost) {
    torch::Tensor Xb = X, yb = labels;
    if (w.batch < w.m) {
      std::vector<int64_t> idx = cmp::batch_index(order, w.batch, k);
      torch::Tensor i = torch::from_blob(idx.data(), {static_cast<int64_t>(idx.size())}, torch::kInt64);
      Xb = X.index_select(0, i);
      yb = labels.index_select(0, i);
    }
    torch::Tensor J = torch::nn::functional::cross_entropy(net.seq->forward(Xb), yb);
    opt->zero_grad();
    J.backward();
    opt->step();
    return want_cost ? J.item<double>() : 0.0;
  });
}

void run_perop(const std::string& which, int reps, long rss0) {
  torch::Tensor a = torch::tensor(-4.0f).requires_grad_(), b = torch::tensor(2.0f).requires_grad_();
  auto clear = [&] {
    a.mutable_grad().reset();
    b.mutable_grad().reset();
  };
  if (which == "perop_add") {
    cmp::Workload w{which, {}, 1, 1, 0, 1000, 20000};
    cmp::measure("libtorch", w, reps, rss0, [&](int64_t, bool want) {
      torch::Tensor y = a + b;
      y.backward();
      double g = want ? a.grad().item<double>() : 0.0;
      clear();
      return g;
    });
    return;
  }
  cmp::Workload w{which, {}, 1, 1, 0, 200, 2000};
  cmp::measure("libtorch", w, reps, rss0, [&](int64_t, bool want) {
    torch::Tensor c = a + b;
    torch::Tensor d = a * b + b * b * b;
    c = c + (c + 1.0);
    c = c + (1.0 + c + (-a));
    d = d + (d * 2.0 + torch::relu(b + a));
    d = d + (3.0 * d + torch::relu(b - a));
    torch::Tensor e = c - d;
    torch::Tensor f = e * e;
    torch::Tensor g = f / 2.0 + 10.0 / f;
    g.backward();
    double ga = want ? a.grad().item<double>() : 0.0;
    clear();
    return ga;
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
  torch::set_num_threads(2);
  if (which.rfind("perop", 0) == 0) {
    run_perop(which, reps, rss0);
    return 0;
  }
  const cmp::Workload w = cmp::workload(which);
  if (w.binary)
    run_binary(w, dir, reps, rss0);
  else
    run_multiclass(w, dir, reps, rss0);
  return 0;
}
