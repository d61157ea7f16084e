// ad::to_dot and ad::explain: what they show of a recorded graph.
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>
#include <sstream>

namespace {

using ad::Tensor;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Z = W·X + b, J = mean(σ(Z)): the layer of the notes.
struct Layer {
  Tensor W = ad::tensor({0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, {2, 3}).requires_grad_();
  Tensor X = ad::ones({3, 4});
  Tensor b = ad::zeros({2, 1}).requires_grad_();
  Tensor J = ad::mean(ad::sigmoid(ad::matmul(W, X) + b));
};

TEST(Explain, ListsOpsInRecordingOrderWithShapesInputsAndRules) {
  Layer l;
  const auto lines = lines_of(ad::explain(l.J));
  ASSERT_EQ(lines.size(), 1u + 2u + 4u) << ad::explain(l.J);  // header, two leaves, four ops
  EXPECT_TRUE(has(lines[0], "4 ops"));
  EXPECT_TRUE(has(lines[1], "x1") && has(lines[1], "(2, 3)") && has(lines[1], "requires grad"));
  EXPECT_TRUE(has(lines[2], "x2") && has(lines[2], "(2, 1)"));
  EXPECT_TRUE(has(lines[3], "#1") && has(lines[3], "matmul") && has(lines[3], "(2, 4)") &&
              has(lines[3], "← x1, const(3, 4)") && has(lines[3], "dA = dC · Bᵀ"))
      << lines[3];
  EXPECT_TRUE(has(lines[4], "#2") && has(lines[4], "add") && has(lines[4], "← t1, x2")) << lines[4];
  EXPECT_TRUE(has(lines[5], "#3") && has(lines[5], "sigmoid") && has(lines[5], "← t2") && has(lines[5], "σ(x)(1 − σ(x))"))
      << lines[5];
  EXPECT_TRUE(has(lines[6], "#4") && has(lines[6], "mean") && has(lines[6], "()") && has(lines[6], "← t3")) << lines[6];
  EXPECT_FALSE(has(ad::explain(l.J), "freed"));
  l.J.backward();
  EXPECT_TRUE(has(lines_of(ad::explain(l.J))[3], "freed by backward"));
}

TEST(Explain, SharedSubexpressionsAppearOnce) {
  Tensor x = ad::scalar(2.0).requires_grad_();
  Tensor a = x * 3.0;
  Tensor y = a * a;  // a reaches y twice
  const auto lines = lines_of(ad::explain(y));
  ASSERT_EQ(lines.size(), 4u) << ad::explain(y);
  EXPECT_TRUE(has(lines[2], "affine") && has(lines[2], "← x1"));
  EXPECT_TRUE(has(lines[3], "mul") && has(lines[3], "← t1, t1"));
}

TEST(Explain, LeavesAndUnrecordedTensors) {
  Tensor w = ad::zeros({2, 2}).requires_grad_();
  EXPECT_TRUE(has(ad::explain(w), "leaf that requires grad")) << ad::explain(w);
  EXPECT_TRUE(has(ad::explain(ad::ones({3})), "requires no gradient"));
  EXPECT_THROW(ad::explain(Tensor()), ad::UsageError);
}

TEST(ToDot, OneNodePerOpAndLeafWithEdgesAlongTheDataFlow) {
  Layer l;
  const std::string dot = ad::to_dot(l.J);
  EXPECT_EQ(dot.rfind("digraph tapegrad {", 0), 0u) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
  EXPECT_TRUE(has(dot, "t1 [shape=box, label=\"t1 = matmul\\n(2, 4)\"]")) << dot;
  EXPECT_TRUE(has(dot, "t4 [shape=box, label=\"t4 = mean\\n()\"]")) << dot;
  EXPECT_TRUE(has(dot, "x1 [shape=ellipse, label=\"x1\\nleaf (2, 3)\\nrequires_grad\"]")) << dot;
  for (const char* edge : {"x1 -> t1;", "t1 -> t2;", "x2 -> t2;", "t2 -> t3;", "t3 -> t4;"})
    EXPECT_TRUE(has(dot, edge)) << edge << "\n" << dot;
  EXPECT_FALSE(has(dot, "t2 -> t1")) << "edges point the way data flows";
  EXPECT_TRUE(has(dot, "label=\"const (3, 4)\"")) << dot;  // X, which needs no gradient
  size_t boxes = 0;
  for (size_t p = 0; (p = dot.find("shape=box", p)) != std::string::npos; ++p) ++boxes;
  EXPECT_EQ(boxes, 4u);
}

// A graph far deeper than the call stack could take if it were walked by recursion.
TEST(ToDot, DeepGraphsNeedNoRecursion) {
  Tensor x = ad::scalar(1.0).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0;
  const std::string dot = ad::to_dot(y);
  EXPECT_TRUE(has(dot, "x1 -> t1;"));
  EXPECT_TRUE(has(dot, "t99999 -> t100000;"));
  EXPECT_FALSE(has(dot, "t100001"));
  EXPECT_EQ(lines_of(ad::explain(y)).size(), 100000u + 2u);
}

}  // namespace
