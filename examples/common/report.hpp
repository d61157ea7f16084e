// Report: one self-contained HTML file (inline CSS and SVG, no scripts, no network) built
// section by section.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ex {

class Report {
 public:
  Report(std::string title, std::string intro);

  /// A numbered section heading and its line of prose.
  void section(int number, const std::string& title, const std::string& prose);
  void paragraph(const std::string& text);
  /// Monospace text (printed tensors, explain() listings, logs).
  void code(const std::string& text);
  /// Monospace text folded under a one-line summary (long listings).
  void details(const std::string& summary, const std::string& text);
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  /// One chart (an <svg> element or other HTML) with a caption.
  void figure(const std::string& svg, const std::string& caption);
  /// Several small charts side by side, each with its caption.
  void figures(const std::vector<std::pair<std::string, std::string>>& svgs_and_captions);
  /// A key result for the summary box at the top ("test accuracy", "90.3%").
  void result(const std::string& name, const std::string& value);
  /// A line under the title (flags used, date, machine).
  void meta(const std::string& text) { meta_ = text; }

  std::string html() const;
  /// Writes html() to `path`, creating its directory; throws std::runtime_error on failure.
  void write(const std::string& path) const;

 private:
  std::string title_, intro_, meta_, body_;
  std::vector<std::pair<std::string, std::string>> results_;
  bool open_section_ = false;
};

}  // namespace ex
