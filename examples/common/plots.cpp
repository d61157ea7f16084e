// Decision boundaries, heat maps and image grids: the plots built on raster images.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/png.hpp"
#include "common/svg.hpp"
#include "common/svg_detail.hpp"

namespace ex {
namespace {

struct Rgb {
  double r, g, b;
};
// The two classes' colors (red for y = 0, blue for y = 1).
constexpr Rgb kClass0{215, 48, 39}, kClass1{49, 104, 175}, kWhite{255, 255, 255};

Rgb mix(Rgb a, Rgb b, double t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }
std::string hex(Rgb c) {
  return fmt::format("#{:02x}{:02x}{:02x}", static_cast<int>(c.r), static_cast<int>(c.g), static_cast<int>(c.b));
}
void put(std::vector<uint8_t>& px, Rgb c) {
  px.push_back(static_cast<uint8_t>(c.r));
  px.push_back(static_cast<uint8_t>(c.g));
  px.push_back(static_cast<uint8_t>(c.b));
}

}  // namespace

std::string decision_boundary(const BoundaryPlot& p) {
  const int pad = 6, top = 26, side = p.size;
  Image img{p.nx, p.ny, 3, {}};
  img.pixels.reserve(static_cast<size_t>(p.nx) * p.ny * 3);
  for (int row = p.prob.empty() ? -1 : p.ny - 1; row >= 0; --row)  // PNG rows go top-down, the grid bottom-up
    for (int col = 0; col < p.nx; ++col) {
      double prob = p.prob[static_cast<size_t>(row) * p.nx + col];
      double sure = std::min(1.0, std::abs(2 * prob - 1));
      put(img.pixels, mix(kWhite, prob >= 0.5 ? kClass1 : kClass0, 0.18 + 0.30 * sure));
    }
  std::string s = detail::svg_open(side + 2 * pad, side + top + pad, p.title);
  if (!p.prob.empty())  // no probabilities: a plain scatter plot of the data
    s += fmt::format("<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" href=\"{}\"/>\n",
                   pad, top, side, side, png_data_uri(img));
  for (const LabelledPoint& q : p.points) {
    double x = pad + (q.x - p.x_lo) / (p.x_hi - p.x_lo) * side;
    double y = top + (p.y_hi - q.y) / (p.y_hi - p.y_lo) * side;
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.6\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.6\"/>",
                     x, y, hex(q.label ? kClass1 : kClass0));
  }
  s += fmt::format("\n<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n", pad, top,
                   side, side);
  return s + "</svg>\n";
}

std::string heat_map(const HeatMap& m) {
  const size_t rows = m.row_labels.size(), cols = m.col_labels.size();
  const int cell = m.cell, left = 112, top = 112;
  const int width = left + cell * static_cast<int>(cols) + 48, height = top + cell * static_cast<int>(rows) + 12;
  std::string s = detail::svg_open(width, height, m.title);
  s += fmt::format("<text x=\"{}\" y=\"40\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n",
                   left + cell * static_cast<int>(cols) / 2, escape(m.col_axis));
  s += fmt::format("<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n",
                   top + cell * static_cast<int>(rows) / 2, escape(m.row_axis));
  for (size_t c = 0; c < cols; ++c)
    s += fmt::format("<text transform=\"translate({} {}) rotate(-45)\">{}</text>\n", left + cell * c + cell / 2,
                     top - 6, escape(m.col_labels[c]));
  for (size_t r = 0; r < rows; ++r) {
    double total = 0;
    for (size_t c = 0; c < cols; ++c) total += m.values[r * cols + c];
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 6, top + cell * r + cell / 2 + 4,
                     escape(m.row_labels[r]));
    for (size_t c = 0; c < cols; ++c) {
      double v = m.values[r * cols + c], share = total > 0 ? v / total : 0;
      Rgb fill = mix(kWhite, r == c ? Rgb{33, 102, 172} : Rgb{178, 24, 43}, std::sqrt(share));
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\"/>",
                       left + cell * c, top + cell * r, cell, cell, hex(fill));
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{}\">{:g}</text>\n",
                       left + cell * c + cell / 2, top + cell * r + cell / 2 + 4, share > 0.3 ? "#fff" : "#222", v);
    }
  }
  return s + "</svg>\n";
}

std::string image_grid(const std::vector<ImageTile>& tiles, int width, int height, int columns, int scale) {
  const int tile_w = std::max(width * scale, 84), tile_h = height * scale + 32, gap = 6;
  const int cols = std::max(1, std::min(columns, static_cast<int>(tiles.size())));
  const int rows = (static_cast<int>(tiles.size()) + cols - 1) / cols;
  std::string s = detail::svg_open(cols * (tile_w + gap) + gap, rows * (tile_h + gap) + gap, "");
  for (size_t i = 0; i < tiles.size(); ++i) {
    const ImageTile& t = tiles[i];
    Image img{width, height, 1, {}};
    img.pixels.reserve(t.pixels.size());
    for (float v : t.pixels) img.pixels.push_back(static_cast<uint8_t>(std::lround(255.0f * std::clamp(v, 0.0f, 1.0f))));
    int x = gap + static_cast<int>(i) % cols * (tile_w + gap), y = gap + static_cast<int>(i) / cols * (tile_h + gap);
    int ix = x + (tile_w - width * scale) / 2;
    s += fmt::format("<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" style=\"image-rendering:pixelated\" "
                     "href=\"{}\"/>",
                     ix, y, width * scale, height * scale, png_data_uri(img));
    if (t.flagged)
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#d62728\" "
                       "stroke-width=\"2\"/>",
                       ix - 1, y - 1, width * scale + 2, height * scale + 2);
    size_t start = 0;  // a caption may hold two lines separated by '\n'
    for (int line = 0; start <= t.caption.size() && line < 2; ++line) {
      size_t end = std::min(t.caption.find('\n', start), t.caption.size());
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{}\">{}</text>\n",
                       x + tile_w / 2, y + height * scale + 13 + 13 * line, t.flagged ? "#c62828" : "#222",
                       escape(t.caption.substr(start, end - start)));
      start = end + 1;
    }
  }
  return s + "</svg>\n";
}

}  // namespace ex
