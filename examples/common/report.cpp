#include "common/report.hpp"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "common/svg.hpp"

namespace ex {
namespace {

const char* kStyle = R"(
body { margin: 0; background: #f6f7f9; color: #222; font: 15px/1.5 Helvetica, Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 6px; padding-top: 12px; border-top: 1px solid #e3e5e8; }
.intro { font-size: 16px; color: #333; margin: 4px 0; }
.meta { color: #777; font-size: 12px; margin: 2px 0 12px; }
.prose { color: #333; margin: 4px 0 10px; }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; }
.result { background: #eef3fa; border-radius: 6px; padding: 8px 14px; }
.result .v { font-size: 20px; font-weight: bold; color: #1d4f91; }
.result .k { font-size: 12px; color: #555; }
pre { background: #f4f5f7; border: 1px solid #e3e5e8; border-radius: 4px; padding: 8px 12px;
      font: 12.5px/1.45 Menlo, Consolas, monospace; overflow-x: auto; white-space: pre; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13.5px; }
th, td { border-bottom: 1px solid #e3e5e8; padding: 4px 12px; text-align: left; }
th { background: #f4f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; color: #1d4f91; margin: 6px 0; }
figure { margin: 10px 0 16px; display: inline-block; vertical-align: top; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; margin-top: 2px; max-width: 560px; }
.row { display: flex; flex-wrap: wrap; gap: 8px 14px; }
.row details summary { cursor: pointer; color: #1d4f91; margin: 6px 0; }
figure { margin: 4px 0; }
)";

bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '%' || c == ',' || c == 'e' ||
          c == '+' || c == ' '))
      return false;
  return std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.';
}

}  // namespace

Report::Report(std::string title, std::string intro) : title_(std::move(title)), intro_(std::move(intro)) {}

void Report::section(int number, const std::string& title, const std::string& prose) {
  if (open_section_) body_ += "</section>\n";
  body_ += fmt::format("<section>\n<h2>{}. {}</h2>\n<p class=\"prose\">{}</p>\n", number, escape(title), escape(prose));
  open_section_ = true;
}

void Report::paragraph(const std::string& text) { body_ += "<p>" + escape(text) + "</p>\n"; }

void Report::code(const std::string& text) { body_ += "<pre>" + escape(text) + "</pre>\n"; }

void Report::details(const std::string& summary, const std::string& text) {
  body_ += "<details><summary>" + escape(summary) + "</summary>\n<pre>" + escape(text) + "</pre></details>\n";
}

void Report::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<bool> numeric(header.size(), !rows.empty());
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < numeric.size(); ++c) numeric[c] = numeric[c] && looks_numeric(row[c]);
  body_ += "<table>\n<tr>";
  for (size_t c = 0; c < header.size(); ++c)
    body_ += fmt::format("<th{}>{}</th>", numeric[c] ? " class=\"num\"" : "", escape(header[c]));
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (size_t c = 0; c < row.size(); ++c)
      body_ += fmt::format("<td{}>{}</td>", c < numeric.size() && numeric[c] ? " class=\"num\"" : "", escape(row[c]));
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

void Report::figure(const std::string& svg, const std::string& caption) {
  body_ += "<figure>\n" + svg + "<figcaption>" + escape(caption) + "</figcaption>\n</figure>\n";
}

void Report::figures(const std::vector<std::pair<std::string, std::string>>& items) {
  body_ += "<div class=\"row\">\n";
  for (const auto& [svg, caption] : items) figure(svg, caption);
  body_ += "</div>\n";
}

void Report::result(const std::string& name, const std::string& value) { results_.emplace_back(name, value); }

std::string Report::html() const {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n<style>{1}</style>\n"
      "</head>\n<body>\n<main>\n<h1>{0}</h1>\n<p class=\"intro\">{2}</p>\n<p class=\"meta\">{3}</p>\n",
      escape(title_), kStyle, escape(intro_), escape(meta_));
  if (!results_.empty()) {
    out += "<div class=\"summary\">\n";
    for (const auto& [k, v] : results_)
      out += fmt::format("<div class=\"result\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n", escape(v),
                         escape(k));
    out += "</div>\n";
  }
  out += body_;
  if (open_section_) out += "</section>\n";
  return out + "</main>\n</body>\n</html>\n";
}

void Report::write(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << html();
  if (!out) throw std::runtime_error("cannot write the report to '" + path + "'");
}

}  // namespace ex
