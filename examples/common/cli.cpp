#include "common/cli.hpp"

#include <autodiff/anomaly.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>

namespace ex {
namespace {

template <class T>
bool parse_number(const std::string& text, T* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// Breaks `text` into lines of at most `width` characters at spaces.
std::string wrap(const std::string& text, size_t width) {
  std::string out, line, word;
  auto flush_word = [&] {
    if (word.empty()) return;
    if (!line.empty() && line.size() + 1 + word.size() > width) out += line + "\n", line.clear();
    line += (line.empty() ? "" : " ") + word;
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n') flush_word();
    else word += c;
  }
  flush_word();
  return out + line;
}

}  // namespace

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    int64_t v = 0;
    if (!parse_number(text.substr(start, end - start), &v) || v <= 0) {
      std::cerr << "bad list '" << text << "': expected positive integers separated by commas\n";
      std::exit(2);
    }
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

std::string default_data_dir() {
  const char* env = std::getenv("TAPEGRAD_DATA");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

Cli::Cli(std::string name, std::string summary) : name_(std::move(name)), summary_(std::move(summary)) {
  common_.out_dir = "out/" + name_;
  common_.data_dir = default_data_dir();
  option("out", &common_.out_dir, "directory for report.html and other outputs", "DIR");
  add({"seed", "random seed", "N", std::to_string(common_.seed),
       [this](const std::string& v) { return parse_number(v, &common_.seed); }});
  add({"threads", "BLAS threads (0: library default)", "N", "0",
       [this](const std::string& v) { return parse_number(v, &common_.threads); }});
  flag("debug", &common_.debug, "anomaly detection: stop at the first NaN/Inf, naming the op that made it");
}

Cli& Cli::flag(const std::string& name, bool* target, const std::string& help) {
  add({name, help, "", "", [target](const std::string&) { return *target = true; }, false});
  return *this;
}

Cli& Cli::option(const std::string& name, int64_t* target, const std::string& help) {
  add({name, help, "N", std::to_string(*target), [target](const std::string& v) { return parse_number(v, target); }});
  return *this;
}

Cli& Cli::option(const std::string& name, double* target, const std::string& help) {
  add({name, help, "X", fmt::format("{}", *target), [target](const std::string& v) {
         char* end = nullptr;
         *target = std::strtod(v.c_str(), &end);
         return !v.empty() && *end == '\0';
       }});
  return *this;
}

Cli& Cli::data_option() {
  return option("data", &common_.data_dir, "Fashion-MNIST IDX files (the environment variable TAPEGRAD_DATA sets the default)",
                "DIR");
}

Cli& Cli::full_flag(const std::string& help) { return flag("full", &common_.full, help); }

Cli& Cli::option(const std::string& name, std::string* target, const std::string& help,
                 const std::string& value_name) {
  add({name, help, value_name, *target, [target](const std::string& v) { return (*target = v, true); }});
  return *this;
}

std::string Cli::usage() const {
  std::string out = fmt::format("usage: {} [flags]\n\n{}\n\nflags:\n  {:<24}show this help\n", name_, wrap(summary_, 90), "--help");
  for (const Entry& e : entries_) {
    std::string left = "--" + e.name + (e.takes_value ? " " + e.value_name : "");
    std::string dflt = e.default_text.empty() ? "" : " (default: " + e.default_text + ")";
    out += fmt::format("  {:<24}{}{}\n", left, e.help, dflt);
  }
  return out;
}

CommonOptions Cli::parse(int argc, char** argv) {
  auto fail = [&](const std::string& why) {
    std::cerr << name_ << ": " << why << "\n\n" << usage();
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) fail("unexpected argument '" + arg + "'");
    std::string key = arg.substr(2), value;
    bool inline_value = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      inline_value = true;
    }
    const Entry* entry = nullptr;
    for (const Entry& e : entries_)
      if (e.name == key) entry = &e;
    if (!entry) fail("unknown flag '--" + key + "'");
    if (entry->takes_value && !inline_value) {
      if (i + 1 >= argc) fail("--" + key + " needs a value");
      value = argv[++i];
    }
    if (!entry->set(value)) fail("bad value '" + value + "' for --" + key);
  }
  if (common_.debug) ad::set_detect_anomaly(true);  // every thread, for the whole run
  return common_;
}

}  // namespace ex
