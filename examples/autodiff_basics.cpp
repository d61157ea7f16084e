// autodiff_basics: the engine on its own — scalars and tensors, backward(), gradients that
// accumulate, no_grad, a second derivative, and what the tape recorded (ad::explain, ad::to_dot).
//
//   autodiff_basics [--out DIR]
#include <fmt/format.h>

#include <algorithm>
#include <autodiff/autodiff.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/cli.hpp"
#include "common/fast_blas.hpp"
#include "common/graph_svg.hpp"
#include "common/notebook.hpp"

namespace {

std::string str(const ad::Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

void scalars(ex::Notebook& nb) {
  nb.section("Scalars", "Two leaves that require gradients, z = x·y + x², and one call to backward().");
  ad::Tensor x = ad::scalar(2.0, ad::DType::f64).requires_grad_();
  ad::Tensor y = ad::scalar(3.0, ad::DType::f64).requires_grad_();
  ad::Tensor z = x * y + x * x;
  z.backward();
  nb.code(fmt::format("x = {}, y = {}\nz = x·y + x² = {}\ndz/dx = y + 2x = {}   (by hand: 3 + 4 = 7)\n"
                      "dz/dy = x      = {}   (by hand: 2)",
                      x.item(), y.item(), z.item(), x.grad().item(), y.grad().item()));
}

void tensors(ex::Notebook& nb) {
  nb.section("Tensors", "A layer Z = W·X + b on m = 4 columns, J = mean(tanh(Z)); every leaf's gradient has "
                        "its own shape, and b's is summed over the m columns it was broadcast to.");
  ad::manual_seed(1);
  ad::Tensor W = ad::randn({2, 3}).requires_grad_();
  ad::Tensor b = ad::zeros({2, 1}).requires_grad_();
  ad::Tensor X = ad::randn({3, 4});
  ad::Tensor Z = ad::matmul(W, X) + b;
  ad::Tensor J = ad::mean(ad::tanh(Z));
  nb.shapes({{"W", W}, {"b", b}, {"X", X}, {"Z", Z}, {"J", J}});
  J.backward();
  nb.code("dJ/dW =\n" + str(W.grad()) + "\ndJ/db =\n" + str(b.grad()));
  nb.shapes({{"dW", W.grad()}, {"db", b.grad()}});
}

void accumulation(ex::Notebook& nb) {
  nb.section("Gradients accumulate", "backward() adds into .grad(): two passes without zero_grad() give twice "
                                     "the gradient. This is why a training loop clears the gradients each step.");
  ad::Tensor w = ad::scalar(1.5, ad::DType::f64).requires_grad_();
  (w * w).backward();
  double once = w.grad().item();
  (w * w).backward();
  double twice = w.grad().item();
  w.zero_grad();
  (w * w).backward();
  nb.code(fmt::format("d(w²)/dw at w = 1.5 after one backward:   {}\nafter a second backward (accumulated): {}\n"
                      "after zero_grad() and one more:          {}",
                      once, twice, w.grad().item()));
}

void no_grad(ex::Notebook& nb) {
  nb.section("no_grad", "Inside an ad::NoGradGuard nothing is recorded: results need no gradient and the tape "
                        "does not grow. Optimizer updates and evaluation run this way.");
  ad::Tensor w = ad::ones({3, 3}).requires_grad_();
  size_t before = ad::tape_size();
  ad::Tensor recorded = w * 2.0;
  size_t with_grad = ad::tape_size();
  ad::Tensor plain;
  {
    ad::NoGradGuard guard;
    plain = w * 2.0;
  }
  nb.code(fmt::format("with recording:  requires_grad = {}, tape records {} → {}\n"
                      "inside no_grad:  requires_grad = {}, tape records {} → {}",
                      recorded.requires_grad(), before, with_grad, plain.requires_grad(), with_grad,
                      ad::tape_size()));
}

void second_derivative(ex::Notebook& nb) {
  nb.section("A second derivative", "ad::grad(…, create_graph = true) records the backward pass itself, so its "
                                    "result can be differentiated again: f = x³, f′ = 3x², f″ = 6x.");
  ad::Tensor x = ad::scalar(2.0, ad::DType::f64).requires_grad_();
  ad::Tensor f = x * x * x;
  ad::Tensor df = ad::grad({f}, {x}, {}, false, true)[0];
  ad::Tensor d2f = ad::grad({df}, {x})[0];
  nb.code(fmt::format("at x = 2:  f = {}   f′ = {} (3·4 = 12)   f″ = {} (6·2 = 12)", f.item(), df.item(),
                      d2f.item()));
}

void graph(ex::Notebook& nb) {
  nb.section("What the tape recorded: explain and the DOT graph",
             "The two-layer network 2 → 4 → 1 on 5 columns. ad::explain lists every recorded op with its output shape "
             "and its backward rule; ad::to_dot gives the same graph in Graphviz DOT, drawn below.");
  ad::manual_seed(2);
  ad::Tensor X = ad::randn({2, 5});
  ad::Tensor Y = ad::tensor({0, 1, 1, 0, 1}, {1, 5});
  ad::Tensor W1 = (ad::randn({4, 2}) * 0.01).requires_grad_(), b1 = ad::zeros({4, 1}).requires_grad_();
  ad::Tensor W2 = (ad::randn({1, 4}) * 0.01).requires_grad_(), b2 = ad::zeros({1, 1}).requires_grad_();
  ad::Tensor A1 = ad::tanh(ad::matmul(W1, X) + b1);
  ad::Tensor A2 = ad::sigmoid(ad::matmul(W2, A1) + b2);
  ad::Tensor J = -ad::mean(Y * ad::log(A2) + (1.0 - Y) * ad::log(1.0 - A2));  // the cross-entropy cost
  nb.shapes({{"X = A[0]", X}, {"A1", A1}, {"A2", A2}, {"J", J}});
  nb.code(ad::explain(J));
  const std::string dot = ad::to_dot(J);
  const std::filesystem::path dot_path = std::filesystem::path(nb.options().out_dir) / "graph.dot";
  std::filesystem::create_directories(dot_path.parent_path());
  std::ofstream(dot_path) << dot;
  nb.say(fmt::format("The DOT text ({} lines) is in {}; Graphviz draws it with `dot -Tsvg {} -o graph.svg`.",
                     std::count(dot.begin(), dot.end(), '\n'), dot_path.string(), dot_path.string()));
  nb.report().details("the DOT text (click to unfold)", dot);
  std::string renderer;
  std::string svg = ex::dot_to_svg(dot, &renderer);
  nb.figure(svg, fmt::format("The recorded graph of J (drawn by {}): leaves x1…, ops t1… in recording order; data "
                             "flows along the arrows, backward() walks them in reverse.",
                             renderer == "graphviz" ? "Graphviz" : "the built-in layout; install the Debian "
                                                                   "package graphviz for Graphviz's"));
}

}  // namespace

int main(int argc, char** argv) {
  ex::ensure_fast_blas(argv);
  ex::Cli cli("autodiff_basics",
              "The autodiff engine on its own: backward(), accumulation, no_grad, a second derivative, and "
              "the recorded graph as text and as a picture.");
  ex::CommonOptions opts = cli.parse(argc, argv);
  ex::Notebook nb("autodiff_basics", "Autodiff basics",
                  "Every op on a tensor that requires a gradient is recorded on a tape; backward() walks the "
                  "tape in reverse and leaves dJ/d(leaf) in each leaf's .grad().",
                  opts);
  scalars(nb);
  tensors(nb);
  accumulation(nb);
  no_grad(nb);
  second_derivative(nb);
  graph(nb);
  nb.save();
}
