// SVG charts for the reports, each returned as one <svg> element. No scripts, no fonts to
// fetch: a report renders the same offline in any browser.
#pragma once

#include <string>
#include <vector>

namespace ex {

/// The i-th color of a ten-color categorical palette (Tableau 10).
const char* palette(size_t i);
/// Escapes &, <, >, " for XML and HTML text.
std::string escape(const std::string& text);

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string color;  ///< empty: the palette color of the series' index
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 560, height = 320;
  bool log_y = false;
  /// Fixed y range when lo < hi (e.g. 0..1 for accuracy); otherwise fitted to the data.
  double y_lo = 0, y_hi = 0;
};
/// Lines with axes, ticks, grid and a legend (when there is more than one series).
std::string line_chart(const LineChart& chart);

struct Bar {
  std::string label;
  double value = 0;
};
/// Horizontal bars from 0 to max_value, each labelled with its value printed by `format`
/// ("{:.1f}%" style, applied to value).
std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, double max_value,
                      const std::string& format = "{:.3f}", int width = 520);

struct LabelledPoint {
  double x = 0, y = 0;
  int label = 0;  ///< 0 or 1
};

struct BoundaryPlot {
  std::string title;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  int nx = 0, ny = 0;
  /// P(class 1) on an nx × ny grid of cell centres, row-major from the bottom row (y_lo) up.
  std::vector<double> prob;
  std::vector<LabelledPoint> points;
  int size = 280;
};
/// The predicted class as a tinted raster (darker where the network is surer), the 0.5
/// boundary left visible by the color change, and the data points on top.
std::string decision_boundary(const BoundaryPlot& plot);

struct HeatMap {
  std::string title, row_axis, col_axis;
  std::vector<std::string> row_labels, col_labels;
  std::vector<double> values;  ///< rows × cols, row-major
  int cell = 46;
};
/// A matrix of counts, each cell shaded by its share of its row and printed.
std::string heat_map(const HeatMap& map);

struct ImageTile {
  std::vector<float> pixels;  ///< height × width in [0, 1], row-major
  std::string caption;
  bool flagged = false;  ///< drawn with a red caption and frame (e.g. a wrong prediction)
};
/// Gray images in a grid of `columns`, each scaled up `scale` times, caption below.
std::string image_grid(const std::vector<ImageTile>& tiles, int width, int height, int columns, int scale = 3);

}  // namespace ex
