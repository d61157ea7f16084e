// A picture of a recorded graph from its Graphviz DOT text (ad::to_dot).
#pragma once

#include <string>

namespace ex {

/// The graph as an <svg> element: rendered by Graphviz's `dot` when it is installed (Debian
/// package graphviz), else laid out here in layers (sources on top, data flowing down).
/// `renderer` receives "graphviz" or "built-in".
std::string dot_to_svg(const std::string& dot, std::string* renderer = nullptr);

/// The built-in layout alone (also the fallback of dot_to_svg).
std::string layered_graph_svg(const std::string& dot);

}  // namespace ex
