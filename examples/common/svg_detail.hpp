// Helpers shared by the chart files.
#pragma once

#include <string>
#include <vector>

namespace ex::detail {

/// About `count` round tick values covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int count);
/// The opening <svg> tag with a white background and an optional centred title.
std::string svg_open(int width, int height, const std::string& title);
/// A short tick label ("0.5", "2000", "1e-05").
std::string tick_label(double v);

}  // namespace ex::detail
