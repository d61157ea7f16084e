// Internal: a safetensors file whose header has been validated in full before any tensor is
// read, so loaders can check a whole file against a module and read only what they need.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/detail/file.hpp"

namespace ad::nn::detail {

/// The format's cap on the header (the reference implementation's limit).
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

/// One tensor of a validated header.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0, end = 0;  ///< its bytes in the data section, [begin, end)
};

/// What the header holds.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  ///< in header order until validated, then in data order
  std::map<std::string, std::string> metadata;
};

/// Parses the header's JSON text (already checked to start with '{' and hold no NUL) into
/// `out`, checking every entry on its own: fields, dtype, shape, offsets within `data_size`.
/// Errors go through `file.fail`.
void parse_safetensors_header(const InputFile& file, std::string_view text, uint64_t data_size,
                              SafetensorsHeader& out);

/// A safetensors file with a validated header; tensor data is read on demand.
class SafetensorsIndex {
 public:
  /// Opens `path` and validates everything but the tensor values; ValueError naming the file
  /// and the problem otherwise.
  explicit SafetensorsIndex(const std::string& path);
  const std::vector<SafetensorsEntry>& entries() const { return header_.entries; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  /// The entry called `name`, or null.
  const SafetensorsEntry* find(std::string_view name) const;
  /// The entry's values as a new tensor.
  Tensor read(const SafetensorsEntry& e) const;
  /// Every entry's values, in data order, read through one buffer (one read per MiB of small
  /// tensors, not one per tensor).
  std::vector<Tensor> read_all() const;
  [[noreturn]] void fail(std::string_view what) const { file_.fail(what); }

 private:
  Tensor allocate(const SafetensorsEntry& e) const;
  void check_names();
  void check_coverage(uint64_t data_size);

  InputFile file_;
  uint64_t data_start_ = 0;
  SafetensorsHeader header_;
  std::vector<uint32_t> by_name_;  // entry indices sorted by name
};

}  // namespace ad::nn::detail
