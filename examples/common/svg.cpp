// Line and bar charts; the raster-based plots (decision boundaries, heat maps, image grids)
// are in plots.cpp.
#include "common/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "common/svg_detail.hpp"

namespace ex {

const char* palette(size_t i) {
  static const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return colors[i % 10];
}

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace detail {

// Heckbert's nice numbers: steps of 1, 2 or 5 times a power of ten, about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo)) return {lo};
  double raw = (hi - lo) / std::max(count, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double frac = raw / mag;
  double step = (frac < 1.5 ? 1 : frac < 3 ? 2 : frac < 7 ? 5 : 10) * mag;
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string svg_open(int width, int height, const std::string& title) {
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/>\n",
      width, height);
  if (!title.empty())
    s += fmt::format("<text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                     width / 2, escape(title));
  return s;
}

std::string tick_label(double v) {
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) return fmt::format("{:.0e}", v);
  return fmt::format("{:g}", v);
}

}  // namespace detail

namespace {

struct Frame {
  double left = 64, right = 16, top = 30, bottom = 46;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  int width = 0, height = 0;
  double px(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * (width - left - right); }
  double py(double y) const { return height - bottom - (y - y_lo) / (y_hi - y_lo) * (height - top - bottom); }
};

Frame fit_frame(const LineChart& c) {
  Frame f;
  f.width = c.width;
  f.height = c.height;
  double inf = std::numeric_limits<double>::infinity();
  double xl = inf, xh = -inf, yl = inf, yh = -inf;
  for (const Series& s : c.series) {
    for (double x : s.x) xl = std::min(xl, x), xh = std::max(xh, x);
    for (double y : s.y) {
      double v = c.log_y ? std::log10(std::max(y, 1e-300)) : y;
      if (std::isfinite(v)) yl = std::min(yl, v), yh = std::max(yh, v);
    }
  }
  if (!(xh > xl)) xl = std::isfinite(xl) ? xl - 1 : 0, xh = xl + 2;
  if (c.y_hi > c.y_lo) yl = c.log_y ? std::log10(c.y_lo) : c.y_lo, yh = c.log_y ? std::log10(c.y_hi) : c.y_hi;
  if (!(yh > yl)) yl = std::isfinite(yl) ? yl - 1 : 0, yh = yl + 2;
  double pad = c.y_hi > c.y_lo ? 0 : (yh - yl) * 0.05;
  f.x_lo = xl, f.x_hi = xh, f.y_lo = yl - pad, f.y_hi = yh + pad;
  return f;
}

// Whole-number x data (epochs, iterations) gets whole-number ticks only.
bool integral_x(const LineChart& c) {
  for (const Series& s : c.series)
    for (double x : s.x)
      if (x != std::round(x)) return false;
  return true;
}

std::string axes(const LineChart& c, const Frame& f) {
  std::string s;
  bool whole = integral_x(c);
  for (double t : detail::nice_ticks(f.x_lo, f.x_hi, 6)) {
    if (whole && t != std::round(t)) continue;
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/>", f.px(t), f.top,
                     f.height - f.bottom);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n", f.px(t),
                     f.height - f.bottom + 15, detail::tick_label(t));
  }
  for (double t : detail::nice_ticks(f.y_lo, f.y_hi, 5)) {
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#eee\"/>", f.left,
                     f.width - f.right, f.py(t));
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#444\">{}</text>\n", f.left - 6,
                     f.py(t) + 4, detail::tick_label(c.log_y ? std::pow(10.0, t) : t));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n", f.left,
                   f.top, f.width - f.left - f.right, f.height - f.top - f.bottom);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (f.left + f.width - f.right) / 2,
                   f.height - 8, escape(c.x_label));
  s += fmt::format("<text transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                   (f.top + f.height - f.bottom) / 2, escape(c.y_label + (c.log_y ? " (log scale)" : "")));
  return s;
}

std::string polyline(const LineChart& c, const Frame& f, const Series& s, const char* color) {
  size_t n = std::min(s.x.size(), s.y.size());
  size_t stride = std::max<size_t>(1, n / 800);  // enough points for a 560-pixel line
  auto point = [&](size_t i) {
    double v = c.log_y ? std::log10(std::max(s.y[i], 1e-300)) : s.y[i];
    return std::isfinite(v) ? fmt::format("{:.1f},{:.1f} ", f.px(s.x[i]), f.py(v)) : std::string();
  };
  std::string pts;
  for (size_t i = 0; i < n; i += stride) pts += point(i);
  if (n > 0 && (n - 1) % stride != 0) pts += point(n - 1);
  std::string out = fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", pts,
                                color, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
  if (n == 1 || n <= 30)
    for (size_t i = 0; i < n; ++i) {
      double v = c.log_y ? std::log10(std::max(s.y[i], 1e-300)) : s.y[i];
      out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>", f.px(s.x[i]), f.py(v), color);
    }
  return out;
}

std::string legend(const LineChart& c, const Frame& f) {
  if (c.series.size() < 2) return {};
  size_t longest = 0;
  for (const Series& s : c.series) longest = std::max(longest, s.name.size());
  double w = 34 + 6.5 * static_cast<double>(longest), h = 18.0 * static_cast<double>(c.series.size()) + 6;
  // The corner whose box covers the fewest data points (top right first on ties).
  double best_x = 0, best_y = 0;
  size_t best = SIZE_MAX;
  for (int corner = 0; corner < 4; ++corner) {
    double bx = corner % 2 == 0 ? f.width - f.right - w - 8 : f.left + 8;
    double by = corner < 2 ? f.top + 8 : f.height - f.bottom - h - 8;
    size_t inside = 0;  // points along every segment of every line, 8 per segment
    for (const Series& se : c.series) {
      size_t n = std::min(se.x.size(), se.y.size());
      for (size_t i = 0; i + 1 < n || (n == 1 && i == 0); ++i)
        for (int k = 0; k < 8; ++k) {
          size_t j = std::min(i + 1, n - 1);
          double t = k / 8.0, x = se.x[i] + t * (se.x[j] - se.x[i]), y = se.y[i] + t * (se.y[j] - se.y[i]);
          double px = f.px(x), py = f.py(c.log_y ? std::log10(std::max(y, 1e-300)) : y);
          inside += px >= bx - 4 && px <= bx + w + 4 && py >= by - 4 && py <= by + h + 4;
        }
    }
    if (inside < best) best = inside, best_x = bx, best_y = by;
  }
  double x = best_x, y = best_y;
  std::string s = fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#fff\" "
                              "fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
                              x, y, w, h);
  for (size_t i = 0; i < c.series.size(); ++i) {
    const Series& se = c.series[i];
    const char* color = se.color.empty() ? palette(i) : se.color.c_str();
    double ly = y + 15 + 18 * static_cast<double>(i);
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                     x + 6, x + 26, ly - 4, ly - 4, color, se.dashed ? " stroke-dasharray=\"6 4\"" : "");
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x + 30, ly, escape(se.name));
  }
  return s;
}

}  // namespace

std::string line_chart(const LineChart& c) {
  Frame f = fit_frame(c);
  std::string s = detail::svg_open(c.width, c.height, c.title) + axes(c, f);
  for (size_t i = 0; i < c.series.size(); ++i)
    s += polyline(c, f, c.series[i], c.series[i].color.empty() ? palette(i) : c.series[i].color.c_str());
  return s + legend(c, f) + "</svg>\n";
}

std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, double max_value,
                      const std::string& format, int width) {
  const double left = 110, right = 60, row = 22, top = 30;
  int height = static_cast<int>(top + row * static_cast<double>(bars.size()) + 10);
  std::string s = detail::svg_open(width, height, title);
  double span = width - left - right;
  for (size_t i = 0; i < bars.size(); ++i) {
    double y = top + row * static_cast<double>(i);
    double w = max_value > 0 ? std::clamp(bars[i].value / max_value, 0.0, 1.0) * span : 0;
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", left - 6, y + 15,
                     escape(bars[i].label));
    s += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>", left, y + 3, w,
                     row - 6, palette(0));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#333\">{}</text>\n", left + w + 5, y + 15,
                     escape(fmt::format(fmt::runtime(format), bars[i].value)));
  }
  return s + "</svg>\n";
}

}  // namespace ex
