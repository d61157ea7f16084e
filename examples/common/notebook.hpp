// Notebook: what an example prints and what its report shows, written once. Each call prints
// to the console and adds the same content to the HTML report; figures go to the report only.
//
//   ex::Notebook nb("two_layer_planar", "Two-layer network on planar data", "…", opts);
//   nb.section("Load the data", "400 points of two classes shaped like a flower.");
//   nb.shapes({{"X = A[0]", X}, {"Y", Y}});      // X = A[0]: (2, 400)   Y: (1, 400)
//   nb.figure(ex::line_chart(…), "the cost J every 100 iterations");
//   nb.save();                                   // out/two_layer_planar/report.html
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <autodiff/autodiff.hpp>

#include "common/cli.hpp"
#include "common/report.hpp"

namespace ex {

class Notebook {
 public:
  Notebook(const std::string& program, const std::string& title, const std::string& intro, const CommonOptions& opts);

  /// Starts section n+1: a numbered heading and one line of prose.
  void section(const std::string& title, const std::string& prose);
  void say(const std::string& text);
  /// A monospace block (a printed tensor, a listing).
  void code(const std::string& text);
  /// Names and shapes on one line in the notation: "X = A[0]: (2, 400)   Y: (1, 400)".
  void shapes(const std::vector<std::pair<std::string, ad::Tensor>>& named);
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  /// Report only; the console gets "[figure: caption]".
  void figure(const std::string& svg, const std::string& caption);
  void figures(const std::vector<std::pair<std::string, std::string>>& svgs_and_captions);
  /// A key number, printed now and shown in the report's summary box.
  void result(const std::string& name, const std::string& value);

  /// Writes <out>/report.html and prints its path; returns the path.
  std::string save();
  Report& report() { return report_; }
  const CommonOptions& options() const { return opts_; }
  /// Seconds since the notebook started.
  double elapsed() const;

 private:
  CommonOptions opts_;
  Report report_;
  int section_ = 0;
  std::chrono::steady_clock::time_point start_;
};

/// A one-line progress bar on stderr for long loops, redrawn in place when stderr is a
/// terminal (silent otherwise, so CI logs stay short).
class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress() { finish(); }
  /// `done` steps out of total, with a short status ("J = 0.312").
  void update(int64_t done, const std::string& status = "");
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// Formats a fraction as a percentage with one decimal: 0.9031 → "90.3%".
std::string percent(double fraction, int decimals = 1);

}  // namespace ex
