// The safetensors format itself: validation of every header field before any data is touched,
// and the atomic write (temporary file, fsync, rename, fsync of the directory).
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "autodiff/autodiff.hpp"
#include "nn/serialize.hpp"

namespace ad::nn {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; add byte swapping");

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ValueError(fmt::format("safetensors '{}': {}", path, what));
}

std::string read_all(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "no such file");
  if (fs::is_directory(st)) fail(path, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  return bytes;
}

// The safetensors name of a dtype.
const char* dtype_tag(DType d) { return d == DType::f32 ? "F32" : d == DType::f64 ? "F64" : "I64"; }

DType parse_dtype(const std::string& path, const std::string& name, const json& d) {
  if (!d.is_string()) fail(path, fmt::format("tensor '{}' has no string \"dtype\"", name));
  const auto s = d.get<std::string>();
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  if (s == "I64") return DType::i64;
  fail(path, fmt::format("tensor '{}' has dtype '{}'; only F32, F64 and I64 are supported", name, s));
}

uint64_t as_size(const std::string& path, const std::string& name, const char* field, const json& v) {
  if (!v.is_number_unsigned()) fail(path, fmt::format("tensor '{}': \"{}\" entries must be integers ≥ 0", name, field));
  return v.get<uint64_t>();
}

// One header entry checked against the data section of `data_size` bytes.
Tensor parse_entry(const std::string& path, const std::string& name, const json& e, const char* data,
                   uint64_t data_size) {
  if (!e.is_object()) fail(path, fmt::format("entry '{}' is not an object", name));
  if (!e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
    fail(path, fmt::format("tensor '{}' needs \"dtype\", \"shape\" and \"data_offsets\"", name));
  const DType dtype = parse_dtype(path, name, e["dtype"]);
  const json& sh = e["shape"];
  if (!sh.is_array() || sh.size() > Shape::kMaxRank)
    fail(path, fmt::format("tensor '{}': \"shape\" must be an array of at most {} sizes", name, Shape::kMaxRank));
  Shape shape;
  uint64_t bytes = dtype_size(dtype);
  for (const json& d : sh) {
    const uint64_t n = as_size(path, name, "shape", d);
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))  // beside a 0 dim it would pass the size check
      fail(path, fmt::format("tensor '{}': shape size {} is too large", name, n));
    if (n != 0 && bytes > data_size / n) fail(path, fmt::format("tensor '{}' is larger than the file", name));
    bytes *= n;
    shape.push_back(static_cast<int64_t>(n));
  }
  const json& off = e["data_offsets"];
  if (!off.is_array() || off.size() != 2) fail(path, fmt::format("tensor '{}': \"data_offsets\" must be [begin, end]", name));
  const uint64_t begin = as_size(path, name, "data_offsets", off[0]), end = as_size(path, name, "data_offsets", off[1]);
  if (begin > end || end > data_size)
    fail(path, fmt::format("tensor '{}': data_offsets [{}, {}] lie outside the {} data bytes (truncated file?)", name,
                           begin, end, data_size));
  if (end - begin != bytes)
    fail(path, fmt::format("tensor '{}': data_offsets span {} bytes but {} {} needs {}", name, end - begin,
                           shape.str(), dtype_tag(dtype), bytes));
  Tensor t = empty(shape, dtype);
  if (bytes) std::memcpy(t.raw_data(), data + begin, bytes);
  return t;
}

void parse_metadata(const std::string& path, const json& meta, std::map<std::string, std::string>& out) {
  if (!meta.is_object()) fail(path, "\"__metadata__\" must be an object of strings");
  for (const auto& [k, v] : meta.items()) {
    if (!v.is_string()) fail(path, fmt::format("metadata '{}' is not a string", k));
    out[k] = v.get<std::string>();
  }
}

void write_fully(int fd, const char* p, size_t n, const std::string& tmp) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail(tmp, fmt::format("write failed: {}", std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

std::string encode(const std::vector<std::pair<std::string, Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__" || header.contains(name))
      throw UsageError(fmt::format("write_safetensors: tensor name '{}' is reserved or repeated", name));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", dtype_tag(t.dtype())},
                    {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
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
  const std::string bytes = read_all(path);
  if (bytes.size() < 8) fail(path, fmt::format("only {} bytes; too short for the 8-byte header length", bytes.size()));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    fail(path, fmt::format("header length {} exceeds the {} bytes after it (truncated or not safetensors)", n,
                           bytes.size() - 8));
  const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), nullptr, false);
  if (header.is_discarded()) fail(path, "the header is not valid JSON");
  if (!header.is_object()) fail(path, "the header is not a JSON object");
  const char* data = bytes.data() + 8 + n;
  const uint64_t data_size = bytes.size() - 8 - n;
  SafetensorsFile file;
  std::vector<std::pair<uint64_t, std::pair<std::string, Tensor>>> ordered;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      parse_metadata(path, entry, file.metadata);
      continue;
    }
    Tensor t = parse_entry(path, name, entry, data, data_size);
    ordered.push_back({entry["data_offsets"][0].get<uint64_t>(), {name, t}});
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [off, named] : ordered) file.tensors.push_back(std::move(named));
  return file;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string bytes = encode(tensors, metadata);
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp_name(".");  // hidden, next to the target so rename() stays on one filesystem
  tmp_name.append(target.filename().string()).append(".tmp-XXXXXX");
  std::string tmp = (dir / tmp_name).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) fail(path, fmt::format("cannot create a temporary file in '{}': {}", dir.string(), std::strerror(errno)));
  try {
    write_fully(fd, bytes.data(), bytes.size(), tmp);
    if (::fsync(fd) != 0) fail(tmp, fmt::format("fsync failed: {}", std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::fchmod(fd, 0644);  // mkstemp makes 0600; a model file is ordinary data
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, fmt::format("cannot replace the file: {}", std::strerror(err)));
  }
  // The rename is durable only once the directory entry is on disk.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace ad::nn
