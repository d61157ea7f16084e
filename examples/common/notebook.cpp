#include "common/notebook.hpp"

#include "common/fast_blas.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

namespace ex {

Notebook::Notebook(const std::string& program, const std::string& title, const std::string& intro,
                   const CommonOptions& opts)
    : opts_(opts), report_(title, intro), start_(std::chrono::steady_clock::now()) {
  std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&now));
  report_.meta(fmt::format("tapegrad examples/{} · {} run · seed {} · OpenBLAS {} kernels, {} threads · {}", program,
                           opts.full ? "full" : "quick", opts.seed, blas_core_name(), ad::get_num_threads(), date));
  std::cout << title << "\n" << std::string(title.size(), '=') << "\n" << intro << "\n";
}

void Notebook::section(const std::string& title, const std::string& prose) {
  ++section_;
  std::cout << "\n## " << section_ << ". " << title << "\n" << prose << "\n\n";
  report_.section(section_, title, prose);
}

void Notebook::say(const std::string& text) {
  std::cout << text << "\n";
  report_.paragraph(text);
}

void Notebook::code(const std::string& text) {
  std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
  report_.code(text);
}

void Notebook::shapes(const std::vector<std::pair<std::string, ad::Tensor>>& named) {
  std::string line;
  for (const auto& [name, t] : named) line += (line.empty() ? "" : "   ") + name + ": " + t.shape().str();
  code(line);
}

void Notebook::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  auto cells = [](const std::string& s) {  // display width: count UTF-8 lead bytes only
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
  };
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], cells(row[c]));
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      line += "  " + row[c] + std::string(width[c] - std::min(width[c], cells(row[c])), ' ');
    std::cout << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
  report_.table(header, rows);
}

void Notebook::figure(const std::string& svg, const std::string& caption) {
  std::cout << "[figure: " << caption << "]\n";
  report_.figure(svg, caption);
}

void Notebook::figures(const std::vector<std::pair<std::string, std::string>>& items) {
  std::cout << "[" << items.size() << " figures]\n";
  report_.figures(items);
}

void Notebook::result(const std::string& name, const std::string& value) {
  std::cout << "=> " << name << ": " << value << "\n";
  report_.result(name, value);
}

std::string Notebook::save() {
  std::string path = (std::filesystem::path(opts_.out_dir) / "report.html").string();
  report_.write(path);
  std::cout << fmt::format("\nreport: {}  ({:.1f} s)\n", path, elapsed());
  return path;
}

double Notebook::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 1)), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::update(int64_t done, const std::string& status) {
  if (!tty_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * std::min(done, total_) / total_);
  double secs = std::chrono::duration<double>(now - start_).count();
  std::string bar;
  for (int i = 0; i < kWidth; ++i) bar += i < filled ? "█" : "·";
  std::fprintf(stderr, "\r%s %s %3d%% %lld/%lld %.1fs %s\033[K", label_.c_str(), bar.c_str(),
               static_cast<int>(100 * std::min(done, total_) / total_), static_cast<long long>(done),
               static_cast<long long>(total_), secs, status.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_) std::fprintf(stderr, "\r\033[K");
}

std::string percent(double fraction, int decimals) { return fmt::format("{:.{}f}%", 100.0 * fraction, decimals); }

}  // namespace ex
