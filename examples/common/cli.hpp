// Command-line flags shared by every example: --help, --out DIR, --data DIR (or the
// TAPEGRAD_DATA environment variable), --full, --seed, --threads, --debug, plus each example's own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ex {

/// The flags every example understands.
struct CommonOptions {
  std::string out_dir;    ///< where report.html (and any model file) go
  std::string data_dir;   ///< Fashion-MNIST IDX files
  bool full = false;      ///< the full run instead of the quick default
  uint64_t seed = 1;
  int threads = 0;        ///< 0: leave the library default
  bool debug = false;     ///< anomaly detection on: the first NaN/Inf throws, naming its op
};

/// A tiny flag parser: "--name value" or "--name=value"; boolean flags take no value.
class Cli {
 public:
  /// `name` is the program; `summary` one paragraph for --help.
  Cli(std::string name, std::string summary);

  Cli& flag(const std::string& name, bool* target, const std::string& help);
  Cli& option(const std::string& name, int64_t* target, const std::string& help);
  Cli& option(const std::string& name, double* target, const std::string& help);
  Cli& option(const std::string& name, std::string* target, const std::string& help,
             const std::string& value_name = "S");
  /// Adds --data DIR (Fashion-MNIST; default $TAPEGRAD_DATA or the Debian package's path).
  Cli& data_option();
  /// Adds --full, described by `help` (what the full run does beyond the quick default).
  Cli& full_flag(const std::string& help);

  /// Parses argv into the common options and the registered targets. --help prints the usage
  /// and exits 0; an unknown flag or a bad value prints the usage and exits 2.
  CommonOptions parse(int argc, char** argv);

  std::string usage() const;

 private:
  struct Entry {
    std::string name, help, value_name, default_text;
    std::function<bool(const std::string&)> set;  // false: bad value
    bool takes_value = true;
  };
  void add(Entry e) { entries_.push_back(std::move(e)); }

  std::string name_, summary_;
  std::vector<Entry> entries_;
  CommonOptions common_;
};

/// "512,256" → {512, 256}; exits with a message on a malformed list (flags are user input).
std::vector<int64_t> parse_list(const std::string& text);

/// The default data directory: $TAPEGRAD_DATA, else the Debian package's location.
std::string default_data_dir();

}  // namespace ex
