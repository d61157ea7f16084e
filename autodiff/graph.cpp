// Looking at what was recorded. Both tools collect the records behind a tensor with an explicit
// stack (a graph of a million ops must not overflow the call stack), then list them in
// recording order (Node::seq), which is the order the forward pass ran them.
#include "autodiff/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autodiff/engine/access.hpp"
#include "autodiff/engine/node.hpp"

namespace ad {
namespace {

using detail::Node;
using detail::TensorImpl;

// The records and leaves reachable from a tensor, with short names a reader can follow:
// op results are t1, t2, … in recording order, leaves x1, x2, … in order of first use.
struct Collected {
  std::vector<const Node*> nodes;                        // by seq, oldest first
  std::unordered_map<const Node*, size_t> node_number;   // 1-based
  std::vector<const TensorImpl*> leaves;
  std::unordered_map<const TensorImpl*, size_t> leaf_number;  // 1-based

  std::string name_of(const detail::Edge& e) const {
    if (e.node) return fmt::format("t{}", node_number.at(e.node.get()));
    if (e.leaf) return fmt::format("x{}", leaf_number.at(e.leaf.get()));
    return fmt::format("const{}", e.shape.str());
  }
};

Collected collect(const Tensor& t, const char* op) {
  if (!t.defined()) throw UsageError(fmt::format("{}: the tensor is undefined", op));
  Collected c;
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  if (const Node* root = detail::impl_of(t)->grad_fn.get()) {
    stack.push_back(root);
    seen.insert(root);
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    c.nodes.push_back(n);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Node* in = n->inputs[i].node.get();
      if (in && seen.insert(in).second) stack.push_back(in);
    }
  }
  std::sort(c.nodes.begin(), c.nodes.end(), [](const Node* a, const Node* b) { return a->seq < b->seq; });
  for (size_t k = 0; k < c.nodes.size(); ++k) {
    const Node* n = c.nodes[k];
    c.node_number[n] = k + 1;
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const TensorImpl* leaf = n->inputs[i].leaf.get();
      if (leaf && c.leaf_number.emplace(leaf, c.leaves.size() + 1).second) c.leaves.push_back(leaf);
    }
  }
  if (c.nodes.empty() && t.requires_grad()) {  // the tensor is itself a leaf
    c.leaves.push_back(detail::impl_of(t));
    c.leaf_number[detail::impl_of(t)] = 1;
  }
  return c;
}

// DOT needs quotes and backslashes escaped inside a label.
std::string dot_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

std::string to_dot(const Tensor& t) {
  const Collected c = collect(t, "to_dot");
  std::string out = "digraph tapegrad {\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];\n";
  for (size_t k = 0; k < c.leaves.size(); ++k) {
    const TensorImpl* l = c.leaves[k];
    out += fmt::format("  x{} [shape=ellipse, label=\"x{}\\nleaf {}\\n{}\"];\n", k + 1, k + 1, l->shape.str(),
                       l->requires_grad ? "requires_grad" : "no grad");
  }
  size_t consts = 0;
  for (size_t k = 0; k < c.nodes.size(); ++k) {
    const Node* n = c.nodes[k];
    out += fmt::format("  t{} [shape=box, label=\"t{} = {}\\n{}{}\"];\n", k + 1, k + 1, dot_escape(n->name),
                       n->out_shape.str(), n->freed ? "\\n(freed)" : "");
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const detail::Edge& e = n->inputs[i];
      if (!e.wanted()) {  // an input that needs no gradient: drawn, but not part of the graph
        out += fmt::format("  c{} [shape=plaintext, fontcolor=gray, label=\"const {}\"];\n", ++consts, e.shape.str());
        out += fmt::format("  c{} -> t{} [color=gray];\n", consts, k + 1);
      } else {
        out += fmt::format("  {} -> t{};\n", c.name_of(e), k + 1);
      }
    }
  }
  return out + "}\n";
}

std::string explain(const Tensor& t) {
  const Collected c = collect(t, "explain");
  if (c.nodes.empty())
    return fmt::format("nothing recorded: the tensor {} {} is a leaf{}\n", t.shape().str(), dtype_name(t.dtype()),
                       t.requires_grad() ? " that requires grad" : " and requires no gradient");
  std::string out = fmt::format(
      "{} ops in recording order (#k computes tk; x are leaves; const needs no gradient) with their backward rules\n",
      c.nodes.size());
  for (size_t k = 0; k < c.leaves.size(); ++k)
    out += fmt::format("x{}  leaf {} {}{}\n", k + 1, c.leaves[k]->shape.str(), dtype_name(c.leaves[k]->dtype),
                       c.leaves[k]->requires_grad ? ", requires grad" : "");
  size_t name_w = 0, shape_w = 0, args_w = 0;
  std::vector<std::string> args(c.nodes.size());
  for (size_t k = 0; k < c.nodes.size(); ++k) {
    const Node* n = c.nodes[k];
    for (size_t i = 0; i < n->inputs.size(); ++i) args[k] += (i ? ", " : "") + c.name_of(n->inputs[i]);
    name_w = std::max(name_w, std::string(n->name).size());
    shape_w = std::max(shape_w, n->out_shape.str().size());
    args_w = std::max(args_w, args[k].size());
  }
  for (size_t k = 0; k < c.nodes.size(); ++k) {
    const Node* n = c.nodes[k];
    out += fmt::format("#{:<3} {:<{}}  {:<{}}  ← {:<{}}   {}{}\n", k + 1, n->name, name_w, n->out_shape.str(), shape_w,
                       args[k], args_w, n->math, n->freed ? "  (freed by backward)" : "");
  }
  return out;
}

}  // namespace ad
