// The safetensors format itself: the whole header validated against the format and the file's
// size before any tensor data is read, and the atomic write.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "autodiff/autodiff.hpp"
#include "nn/detail/safetensors.hpp"
#include "nn/serialize.hpp"

namespace ad::nn {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; add byte swapping");

namespace detail {
namespace {

std::string byte_str(char c) { return fmt::format("0x{:02X}", static_cast<unsigned char>(c)); }

// The header's text: it must begin with '{', hold no NUL and be padded with spaces only.
std::string_view header_text(const InputFile& f, const std::string& text) {
  if (text.empty() || text[0] != '{')
    f.fail(text.empty() ? std::string("the header is empty; it must be a JSON object")
                        : fmt::format("the header is not a JSON object: it must begin with '{{' (0x7B) but begins with "
                                      "{}{}",
                                      byte_str(text[0]),
                                      text.rfind("\xEF\xBB\xBF", 0) == 0 ? " (a UTF-8 byte-order mark)" : ""));
  const size_t nul = text.find('\0');
  if (nul != std::string::npos)
    f.fail(fmt::format("the header holds a NUL byte at offset {}; only spaces (0x20) may pad it", nul));
  std::string_view json(text);
  while (!json.empty() && json.back() == ' ') json.remove_suffix(1);
  if (!json.empty() && (json.back() == '\n' || json.back() == '\r' || json.back() == '\t'))
    f.fail(fmt::format("the header is padded with {}; only spaces (0x20) may pad it", byte_str(json.back())));
  return json;
}

// Moves entry order[k] to position k for every k, cycle by cycle, in place: a million entries
// are not copied a second time.
void move_into_order(std::vector<SafetensorsEntry>& e, std::vector<uint32_t>& order) {
  for (uint32_t k = 0; k < order.size(); ++k) {
    if (order[k] == k) continue;
    SafetensorsEntry moving = std::move(e[k]);
    uint32_t j = k;
    for (uint32_t from = order[j]; from != k; j = from, from = order[j]) {
      e[j] = std::move(e[from]);
      order[j] = j;
    }
    e[j] = std::move(moving);
    order[j] = j;
  }
}

}  // namespace

SafetensorsIndex::SafetensorsIndex(const std::string& path) : file_(fmt::format("safetensors '{}'", path), path) {
  const uint64_t size = file_.size();
  if (size < 8) fail(fmt::format("only {} bytes; too short for the 8-byte header length", size));
  unsigned char len[8];
  file_.read_at(0, len, 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > kMaxSafetensorsHeader)
    fail(fmt::format("header length {} exceeds the format's limit of {} bytes", n, kMaxSafetensorsHeader));
  if (n > size - 8)
    fail(fmt::format("header length {} exceeds the {} bytes after it (truncated or not safetensors)", n, size - 8));
  data_start_ = 8 + n;
  {
    std::string text(n, '\0');
    file_.read_at(8, text.data(), n);
    parse_safetensors_header(file_, header_text(file_, text), size - data_start_, header_);
  }
  check_names();
  check_coverage(size - data_start_);
}

// No tensor name twice (the JSON parser keeps both; the format forbids it).
void SafetensorsIndex::check_names() {
  const auto& e = header_.entries;
  by_name_.resize(e.size());
  for (uint32_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
  std::sort(by_name_.begin(), by_name_.end(), [&](uint32_t a, uint32_t b) { return e[a].name < e[b].name; });
  for (size_t i = 1; i < by_name_.size(); ++i)
    if (e[by_name_[i]].name == e[by_name_[i - 1]].name) fail(fmt::format("tensor '{}' appears twice", e[by_name_[i]].name));
}

// The data section is covered exactly: the tensors' ranges, in order, start at 0, meet end to
// end with no hole and no overlap, and end where the file ends. Leaves the entries in data order.
void SafetensorsIndex::check_coverage(uint64_t data_size) {
  auto& e = header_.entries;
  std::vector<uint32_t> order(by_name_);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return std::tie(e[a].begin, e[a].end) < std::tie(e[b].begin, e[b].end); });
  uint64_t cursor = 0;
  const SafetensorsEntry* last = nullptr;
  for (uint32_t i : order) {
    const SafetensorsEntry& t = e[i];
    if (t.begin > cursor)
      fail(last ? fmt::format("a hole in the data: bytes [{}, {}) between tensors '{}' and '{}' belong to no tensor",
                              cursor, t.begin, last->name, t.name)
                : fmt::format("a hole in the data: the first tensor, '{}', starts at byte {}, not 0", t.name, t.begin));
    if (t.begin < cursor)
      fail(fmt::format("tensors '{}' [{}, {}) and '{}' [{}, {}) overlap", last->name, last->begin, last->end, t.name,
                       t.begin, t.end));
    cursor = t.end;
    last = &t;
  }
  if (cursor != data_size)
    fail(fmt::format("{} byte{} of trailing data after the last tensor, which ends at byte {} of the data",
                     data_size - cursor, data_size - cursor == 1 ? "" : "s", cursor));
  std::vector<uint32_t> position(e.size());
  for (uint32_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  move_into_order(e, order);
  for (uint32_t& i : by_name_) i = position[i];
}

const SafetensorsEntry* SafetensorsIndex::find(std::string_view name) const {
  const auto& e = header_.entries;
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [&](uint32_t i, std::string_view n) { return e[i].name < n; });
  return it != by_name_.end() && e[*it].name == name ? &e[*it] : nullptr;
}

// A tensor for `e`; when memory runs out, the error names the file and the tensor.
Tensor SafetensorsIndex::allocate(const SafetensorsEntry& e) const {
  try {
    return empty(e.shape, e.dtype);
  } catch (const ValueError& err) {
    fail(fmt::format("not enough memory to read it: tensor '{}' is {} ({})", e.name, e.shape.str(), err.what()));
  }
}

Tensor SafetensorsIndex::read(const SafetensorsEntry& e) const {
  Tensor t = allocate(e);
  if (e.end > e.begin) file_.read_at(data_start_ + e.begin, t.raw_data(), e.end - e.begin);
  return t;
}

std::vector<Tensor> SafetensorsIndex::read_all() const {
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  std::vector<Tensor> out;
  out.reserve(entries().size());
  std::vector<char> buffer;
  uint64_t buffer_begin = 0, buffer_end = 0;  // the data bytes in `buffer`
  const uint64_t data_size = file_.size() - data_start_;
  for (const SafetensorsEntry& e : entries()) {
    const uint64_t bytes = e.end - e.begin;
    if (bytes >= kChunk || bytes == 0) {
      out.push_back(read(e));
      continue;
    }
    if (e.end > buffer_end) {  // the entries are contiguous: the next ones start here
      buffer_begin = e.begin;
      buffer_end = std::min(data_size, e.begin + kChunk);
      buffer.resize(buffer_end - buffer_begin);
      file_.read_at(data_start_ + buffer_begin, buffer.data(), buffer.size());
    }
    Tensor t = allocate(e);
    std::memcpy(t.raw_data(), buffer.data() + (e.begin - buffer_begin), bytes);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace detail

namespace {

using nlohmann::json;

// The safetensors name of a dtype.
const char* dtype_tag(DType d) { return d == DType::f32 ? "F32" : d == DType::f64 ? "F64" : "I64"; }

// Throws ValueError unless `s` is valid UTF-8, as the format's JSON header must be; checked
// before anything is written.
void check_utf8(const char* what, const std::string& s) {
  try {
    (void)json(s).dump();
  } catch (const json::type_error&) {
    const std::string shown = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
    throw ValueError(fmt::format("write_safetensors: {} {} is not valid UTF-8 (invalid bytes shown as U+FFFD)", what,
                                 shown));
  }
}

std::string encode(const std::vector<std::pair<std::string, Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check_utf8("tensor name", name);
    if (name == "__metadata__" || header.contains(name))
      throw UsageError(fmt::format("write_safetensors: tensor name '{}' is reserved or repeated", name));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", dtype_tag(t.dtype())},
                    {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  for (const auto& [key, value] : metadata) {
    check_utf8("metadata key", key);
    check_utf8(fmt::format("metadata '{}' =", key).c_str(), value);
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data then starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out += text;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : tensors)
    out.append(static_cast<const char*>(t.raw_data()), static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
  return out;
}

}  // namespace

Tensor SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  return Tensor();
}

SafetensorsFile read_safetensors(const std::string& path) {
  return detail::with_memory_errors(fmt::format("safetensors '{}'", path), "read it", [&] {
    const detail::SafetensorsIndex index(path);
    SafetensorsFile file;
    file.metadata = index.metadata();
    std::vector<Tensor> values = index.read_all();
    file.tensors.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) file.tensors.emplace_back(index.entries()[i].name, std::move(values[i]));
    return file;
  });
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string who = fmt::format("safetensors '{}'", path);
  detail::check_path(who, path);
  detail::with_memory_errors(who, "write it",
                             [&] { detail::write_file_atomically(who, path, encode(tensors, metadata)); });
}

}  // namespace ad::nn
