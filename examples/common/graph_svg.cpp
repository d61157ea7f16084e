// Built-in fallback: parse the subset of DOT that ad::to_dot writes (node statements with
// attribute lists, "a -> b" edges), put each node in the layer after its deepest input
// (recording order is topological, so one pass suffices when nodes are listed in order), order
// each layer by the mean position of its inputs, and draw boxes and arrows.
#include "common/graph_svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <vector>

#include "common/svg.hpp"
#include "common/svg_detail.hpp"

namespace ex {
namespace {

struct GNode {
  std::string id;
  std::vector<std::string> lines;
  bool leaf = false, plain = false;
  std::string fill;
  int layer = 0;
  double x = 0, y = 0, w = 0, h = 0, order = 0;
};

struct Graph {
  std::vector<GNode> nodes;
  std::vector<std::pair<size_t, size_t>> edges;
  std::map<std::string, size_t> index;
  size_t node(const std::string& id) {
    auto [it, added] = index.emplace(id, nodes.size());
    if (added) {
      nodes.emplace_back();
      nodes.back().id = id;
      nodes.back().lines = {id};
    }
    return it->second;
  }
};

std::string attr(const std::string& attrs, const std::string& key) {
  std::smatch m;
  std::regex quoted("(?:^|[\\s,\\[])" + key + "\\s*=\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  if (std::regex_search(attrs, m, quoted)) return m[1];
  std::regex bare("(?:^|[\\s,\\[])" + key + "\\s*=\\s*([\\w#.]+)");
  return std::regex_search(attrs, m, bare) ? std::string(m[1]) : std::string();
}

std::vector<std::string> label_lines(const std::string& label) {
  std::vector<std::string> lines(1);
  for (size_t i = 0; i < label.size(); ++i) {
    if (label[i] == '\\' && i + 1 < label.size()) {
      char c = label[++i];
      if (c == 'n' || c == 'l' || c == 'r') lines.emplace_back();
      else lines.back() += c;
    } else {
      lines.back() += label[i];
    }
  }
  while (lines.size() > 1 && lines.back().empty()) lines.pop_back();
  return lines;
}

Graph parse(const std::string& dot) {
  Graph g;
  std::regex edge_re("^\\s*\"?([\\w.]+)\"?\\s*->\\s*\"?([\\w.]+)\"?");
  std::regex node_re("^\\s*\"?([\\w.]+)\"?\\s*\\[(.*)\\]");
  std::string stmt;
  std::istringstream in(dot);
  while (std::getline(in, stmt)) {
    std::smatch m;
    if (std::regex_search(stmt, m, edge_re)) {
      g.edges.emplace_back(g.node(m[1]), g.node(m[2]));
    } else if (std::regex_search(stmt, m, node_re)) {
      std::string id = m[1];
      if (id == "node" || id == "edge" || id == "graph") continue;
      GNode& n = g.nodes[g.node(id)];
      std::string attrs = m[2], label = attr(attrs, "label");
      if (!label.empty()) n.lines = label_lines(label);
      std::string shape = attr(attrs, "shape");
      n.leaf = shape == "ellipse" || shape == "oval";
      n.plain = shape == "plaintext" || shape == "plain" || shape == "none";
      n.fill = attr(attrs, "fillcolor");
    }
  }
  return g;
}

// Longest-path layers (repeated relaxation: graphs here are small), then barycentric order.
void layout(Graph& g) {
  for (size_t pass = 0; pass < g.nodes.size(); ++pass) {
    bool changed = false;
    for (auto [a, b] : g.edges)
      if (g.nodes[b].layer < g.nodes[a].layer + 1) g.nodes[b].layer = g.nodes[a].layer + 1, changed = true;
    if (!changed) break;
  }
  // Pull every source (leaf or constant) down to just above its first consumer, so its edge is
  // short instead of reaching from the top row.
  std::vector<bool> has_input(g.nodes.size(), false);
  for (auto [a, b] : g.edges) has_input[b] = true;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (has_input[i]) continue;
    int first = -1;
    for (auto [a, b] : g.edges)
      if (a == i && (first < 0 || g.nodes[b].layer < first)) first = g.nodes[b].layer;
    if (first > 0) g.nodes[i].layer = first - 1;
  }
  int layers = 0;
  for (GNode& n : g.nodes) {
    layers = std::max(layers, n.layer + 1);
    size_t longest = 0;
    for (const std::string& l : n.lines) longest = std::max(longest, l.size());
    n.w = 16 + 7.0 * static_cast<double>(longest);
    n.h = 10 + 15.0 * static_cast<double>(n.lines.size());
  }
  double y = 40;
  for (int layer = 0; layer < layers; ++layer) {
    std::vector<GNode*> row;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      GNode& n = g.nodes[i];
      if (n.layer != layer) continue;
      double sum = 0, count = 0;
      for (auto [a, b] : g.edges)
        if (b == i) sum += g.nodes[a].x, ++count;
      n.order = count > 0 ? sum / count : static_cast<double>(i) * 1e-3;
      row.push_back(&n);
    }
    std::stable_sort(row.begin(), row.end(), [](GNode* a, GNode* b) { return a->order < b->order; });
    double x = 20, tallest = 0;
    for (GNode* n : row) n->x = x + n->w / 2, x += n->w + 24, tallest = std::max(tallest, n->h);
    for (GNode* n : row) n->y = y + tallest / 2;
    y += tallest + 46;
  }
}

std::string draw(const Graph& g) {
  double width = 0, height = 0;
  for (const GNode& n : g.nodes) width = std::max(width, n.x + n.w / 2 + 20), height = std::max(height, n.y + n.h / 2 + 20);
  std::string s = detail::svg_open(static_cast<int>(width), static_cast<int>(height), "");
  s += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
       "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#666\"/></marker></defs>\n";
  for (auto [a, b] : g.edges) {
    const GNode &p = g.nodes[a], &q = g.nodes[b];
    double y0 = p.y + p.h / 2, y1 = q.y - q.h / 2, mid = (y0 + y1) / 2;
    s += fmt::format("<path d=\"M{:.1f},{:.1f} C{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"none\" "
                     "stroke=\"#666\" marker-end=\"url(#arrow)\"/>\n",
                     p.x, y0, p.x, mid, q.x, mid, q.x, y1);
  }
  for (const GNode& n : g.nodes) {
    std::string fill = !n.fill.empty() ? n.fill : n.leaf ? "#e8f1fb" : n.plain ? "#ffffff" : "#fdf3e1";
    const char* stroke = n.leaf ? "#4e79a7" : n.plain ? "#bbbbbb" : "#c98a1b";
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" rx=\"{}\" fill=\"{}\" "
                     "stroke=\"{}\"{}/>\n",
                     n.x - n.w / 2, n.y - n.h / 2, n.w, n.h, n.leaf ? 12 : 3, escape(fill), stroke,
                     n.plain ? " stroke-dasharray=\"3 3\"" : "");
    for (size_t i = 0; i < n.lines.size(); ++i)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-family=\"Menlo, monospace\" "
                       "font-size=\"11.5\" fill=\"{}\">{}</text>\n",
                       n.x, n.y - n.h / 2 + 18 + 15.0 * static_cast<double>(i), n.plain ? "#777" : "#222",
                       escape(n.lines[i]));
  }
  return s + "</svg>\n";
}

bool has_dot() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = std::min(dirs.find(':', start), dirs.size());
    if (std::filesystem::exists(std::filesystem::path(dirs.substr(start, end - start)) / "dot")) return true;
    start = end + 1;
  }
  return false;
}

std::string run_graphviz(const std::string& dot) {
  auto file = std::filesystem::temp_directory_path() / fmt::format("tapegrad_graph_{}.dot", getpid());
  std::ofstream(file) << dot;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(("dot -Tsvg '" + file.string() + "' 2>/dev/null").c_str(), "r"),
                                             pclose);
  std::string out;
  char buf[4096];
  size_t n;
  while (pipe && (n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  pipe.reset();
  std::filesystem::remove(file);
  size_t svg = out.find("<svg");
  return svg == std::string::npos ? std::string() : out.substr(svg);  // drop the XML prolog and DOCTYPE
}

}  // namespace

std::string layered_graph_svg(const std::string& dot) {
  Graph g = parse(dot);
  layout(g);
  return draw(g);
}

std::string dot_to_svg(const std::string& dot, std::string* renderer) {
  if (has_dot()) {
    std::string svg = run_graphviz(dot);
    if (!svg.empty()) {
      if (renderer) *renderer = "graphviz";
      return svg;
    }
  }
  if (renderer) *renderer = "built-in";
  return layered_graph_svg(dot);
}

}  // namespace ex
