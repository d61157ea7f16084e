// IDX reading through zlib's gzFile, which reads gzip streams and plain files alike.
#include "nn/idx.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "autodiff/error.hpp"

namespace ad::nn {
namespace {

// A file opened through zlib; every failure becomes a ValueError naming the caller and path.
class IdxReader {
 public:
  IdxReader(const char* op, const std::string& path) : op_(op), path_(path) {
    if (!std::filesystem::exists(path))
      throw ValueError(fmt::format("{}: cannot open '{}': no such file", op_, path_));
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw ValueError(fmt::format("{}: cannot open '{}': {}", op_, path_, std::strerror(errno)));
    gzbuffer(file_, 1 << 17);
  }
  ~IdxReader() { gzclose(file_); }
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  // Reads up to n bytes; returns how many came (fewer only at the end of the data).
  size_t read(void* dst, size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    size_t got = 0;
    while (got < n) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
      int r = gzread(file_, out + got, chunk);
      if (r < 0) fail_corrupt();
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    if (got < n) check_stream();
    consumed_ += got;
    return got;
  }
  // Reads exactly n bytes of `what`, else throws "truncated" (`needs`: the size to report,
  // when this read is one chunk of a bigger one).
  void read_exact(void* dst, size_t n, const std::string& what, size_t needs = 0) {
    size_t got = read(dst, n);
    if (got < n)
      throw ValueError(fmt::format("{}: '{}' is truncated: {} needs {} bytes but the file ends after {} bytes",
                                   op_, path_, what, needs ? needs : n, consumed_));
  }
  bool at_end() {
    unsigned char extra;
    return read(&extra, 1) == 0;
  }
  const char* op() const { return op_; }
  const std::string& path() const { return path_; }

 private:
  // zlib reports a damaged or cut-off gzip stream only through gzerror.
  void check_stream() {
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK) fail_corrupt();
  }
  [[noreturn]] void fail_corrupt() {
    int code = Z_OK;
    std::string msg = gzerror(file_, &code);
    if (msg.rfind(path_ + ": ", 0) == 0) msg.erase(0, path_.size() + 2);  // zlib prefixes the path
    throw ValueError(fmt::format("{}: '{}' is corrupt: gzip error: {}", op_, path_, msg));
  }

  const char* op_;
  std::string path_;
  gzFile file_ = nullptr;
  size_t consumed_ = 0;
};

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Magic: 0, 0, type 0x08 (unsigned byte), number of dims; then the dims themselves.
std::vector<uint64_t> read_header(IdxReader& in, unsigned ndims, const char* kind) {
  unsigned char magic[4];
  in.read_exact(magic, 4, "the IDX header");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != ndims)
    throw ValueError(fmt::format("{}: '{}' is not an IDX {} file: magic 0x{:08x}, expected 0x{:08x} (unsigned "
                                 "bytes, {} dims)",
                                 in.op(), in.path(), kind, big_endian(magic), 0x0800u | ndims, ndims));
  std::vector<unsigned char> raw(4 * ndims);
  in.read_exact(raw.data(), raw.size(), "the IDX dims");
  std::vector<uint64_t> dims(ndims);
  for (unsigned d = 0; d < ndims; ++d) dims[d] = big_endian(&raw[4 * d]);
  return dims;
}

std::string dims_str(const std::vector<uint64_t>& dims) {
  return fmt::format("({})", fmt::join(dims, ", "));
}

// Reads the m·item_bytes payload (m cut to `limit`); without a limit nothing may follow it.
std::vector<unsigned char> read_payload(IdxReader& in, const std::vector<uint64_t>& dims, uint64_t item_bytes,
                                        int64_t limit, uint64_t& m) {
  m = dims[0];
  if (limit >= 0) m = std::min<uint64_t>(m, static_cast<uint64_t>(limit));
  if (item_bytes > (uint64_t{1} << 24) || m > (uint64_t{1} << 32))
    throw ValueError(fmt::format("{}: '{}' is corrupt: implausible dims {}", in.op(), in.path(), dims_str(dims)));
  // The buffer grows as the data arrives: a header announcing more than the file holds (up to
  // 2^56 bytes) fails as truncated instead of first allocating what it announces.
  const uint64_t total = m * item_bytes;
  constexpr uint64_t kChunk = uint64_t{1} << 24;
  std::vector<unsigned char> data;
  while (data.size() < total) {
    const size_t at = data.size(), n = static_cast<size_t>(std::min(total - at, kChunk));
    data.resize(at + n);
    in.read_exact(data.data() + at, n, fmt::format("the data for dims {}", dims_str(dims)), total);
  }
  if (m == dims[0] && !in.at_end())
    throw ValueError(fmt::format("{}: '{}' is corrupt: dims {} don't match the size: more data follows the {} "
                                 "bytes they announce",
                                 in.op(), in.path(), dims_str(dims), data.size()));
  return data;
}

}  // namespace

Tensor read_idx_images(const std::string& path, int64_t limit) {
  IdxReader in("read_idx_images", path);
  std::vector<uint64_t> dims = read_header(in, 3, "images");
  uint64_t pixels = dims[1] * dims[2];
  if (pixels == 0)
    throw ValueError(fmt::format("read_idx_images: '{}' is corrupt: images of {}×{} pixels", path, dims[1], dims[2]));
  uint64_t m = 0;
  std::vector<unsigned char> data = read_payload(in, dims, pixels, limit, m);

  // The file holds (m, pixels) row-major; X is (pixels, m): transpose in blocks of images so
  // both the reads and the writes stay in cache.
  Tensor X = empty({static_cast<int64_t>(pixels), static_cast<int64_t>(m)}, DType::f32);
  float* x = X.data<float>();
  constexpr uint64_t kBlock = 64;
  for (uint64_t i0 = 0; i0 < m; i0 += kBlock) {
    uint64_t i1 = std::min(m, i0 + kBlock);
    for (uint64_t p = 0; p < pixels; ++p)
      for (uint64_t i = i0; i < i1; ++i) x[p * m + i] = static_cast<float>(data[i * pixels + p]) * (1.0f / 255.0f);
  }
  return X;
}

std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes, int64_t limit) {
  IdxReader in("read_idx_labels", path);
  std::vector<uint64_t> dims = read_header(in, 1, "labels");
  uint64_t m = 0;
  std::vector<unsigned char> data = read_payload(in, dims, 1, limit, m);
  std::vector<int64_t> labels(data.begin(), data.end());
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= num_classes)
      throw ValueError(fmt::format("read_idx_labels: '{}' is corrupt: label {} at index {} is out of range [0, {})",
                                   path, labels[i], i, num_classes));
  return labels;
}

std::string find_idx_file(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  for (const std::string& candidate : {name, name + ".gz"}) {
    fs::path p = fs::path(dir) / candidate;
    if (fs::exists(p)) return p.string();
  }
  return {};
}

IdxSplit load_idx_split(const std::string& dir, const std::string& prefix, int64_t num_classes, int64_t limit) {
  std::string images = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  std::string labels = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  if (images.empty() || labels.empty())
    throw ValueError(fmt::format("load_idx_split: no '{}-{}-idx{}-ubyte[.gz]' in '{}'", prefix,
                                 images.empty() ? "images" : "labels", images.empty() ? 3 : 1, dir));
  IdxSplit split{read_idx_images(images, limit), read_idx_labels(labels, num_classes, limit)};
  if (split.X.size(1) != static_cast<int64_t>(split.labels.size()))
    throw ValueError(fmt::format("load_idx_split: '{}' holds {} images but '{}' holds {} labels", images,
                                 split.X.size(1), labels, split.labels.size()));
  return split;
}

}  // namespace ad::nn
