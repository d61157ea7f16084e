// IDX reading, plain or gzip-compressed (one member or several), with bounded memory: the
// declared size is checked against a limit and, for a plain file, against the file's size
// before anything is allocated; decompression stops as soon as it passes the declared size.
#include "nn/idx.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <memory>

#include "autodiff/autodiff.hpp"
#include "nn/detail/file.hpp"

namespace ad::nn {
namespace {

// The file's bytes, decompressed when it starts with the gzip magic 1f 8b. Every failure is a
// ValueError naming the caller and the file.
class IdxReader {
 public:
  IdxReader(const char* op, const std::string& path)
      : op_(op), path_(path), file_(fmt::format("{}: '{}'", op, path), path) {
    unsigned char magic[2] = {0, 0};
    if (file_.size() >= 2) file_.read_at(0, magic, 2);
    gzip_ = magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gzip_) return;
    in_.resize(1 << 16);
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) corrupt("zlib cannot start");
  }
  ~IdxReader() {
    if (gzip_) inflateEnd(&z_);
  }
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  // Reads up to n bytes; returns how many came (fewer only at the end of the data).
  size_t read(void* dst, size_t n) {
    const size_t got = gzip_ ? inflate_into(static_cast<unsigned char*>(dst), n) : file_.read(dst, n);
    consumed_ += got;
    return got;
  }
  // Reads exactly n bytes of `what`, else throws "truncated" (`needs`: the size to report,
  // when this read is one chunk of a bigger one).
  void read_exact(void* dst, size_t n, const std::string& what, uint64_t needs = 0) {
    if (read(dst, n) < n)
      throw ValueError(fmt::format("{}: '{}' is truncated: {} needs {} bytes but the file ends after {} bytes", op_,
                                   path_, what, needs ? needs : n, consumed_));
  }
  bool at_end() {
    unsigned char extra;
    return read(&extra, 1) == 0;
  }
  bool gzip() const { return gzip_; }
  // The bytes a plain file holds after what has been read.
  uint64_t plain_left() const { return file_.size() - file_.position(); }
  const char* op() const { return op_; }
  const std::string& path() const { return path_; }

 private:
  size_t inflate_into(unsigned char* out, size_t n);
  bool next_member();
  void refill();
  [[noreturn]] void corrupt(const std::string& what) const {
    throw ValueError(fmt::format("{}: '{}' is corrupt: gzip error: {}", op_, path_, what));
  }

  const char* op_;
  std::string path_;
  detail::InputFile file_;
  bool gzip_ = false, done_ = false;
  z_stream z_{};
  std::vector<unsigned char> in_;  // compressed bytes read ahead
  uint64_t consumed_ = 0;
};

// Moves what inflate has not consumed to the front of the buffer and tops it up from the file.
void IdxReader::refill() {
  if (z_.avail_in > 0) std::memmove(in_.data(), z_.next_in, z_.avail_in);
  z_.next_in = in_.data();
  z_.avail_in += static_cast<uInt>(file_.read(in_.data() + z_.avail_in, in_.size() - z_.avail_in));
}

// After one gzip member: another one may follow; anything else is trailing data.
bool IdxReader::next_member() {
  if (z_.avail_in < 2) refill();
  if (z_.avail_in == 0) return false;
  if (z_.avail_in < 2 || z_.next_in[0] != 0x1f || z_.next_in[1] != 0x8b) {
    const uint64_t trailing = z_.avail_in + plain_left();
    throw ValueError(fmt::format("{}: '{}' is corrupt: {} byte{} of trailing data after the gzip stream", op_, path_,
                                 trailing, trailing == 1 ? "" : "s"));
  }
  inflateReset(&z_);
  return true;
}

size_t IdxReader::inflate_into(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n && !done_) {
    if (z_.avail_in == 0) refill();
    z_.next_out = out + got;
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n - got, UINT_MAX));
    const int r = inflate(&z_, Z_NO_FLUSH);
    got = static_cast<size_t>(z_.next_out - out);
    if (r == Z_STREAM_END) {
      done_ = !next_member();
    } else if (r == Z_BUF_ERROR && z_.avail_in == 0) {
      corrupt("the compressed data ends early (truncated file?)");
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      corrupt(z_.msg ? z_.msg : zError(r));
    }
  }
  return got;
}

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

std::string dims_str(const std::vector<uint64_t>& dims) { return fmt::format("({})", fmt::join(dims, ", ")); }

// The declared size against the limit, and a plain file's size against the declared size.
void check_declared(IdxReader& in, const std::vector<uint64_t>& dims, uint64_t item_bytes, uint64_t m) {
  if (m > 0 && item_bytes > kMaxIdxDataBytes / m)
    throw ValueError(fmt::format("{}: '{}' declares dims {}: {} × {} bytes of data, more than the {} bytes tapegrad "
                                 "reads from an IDX file (pass a smaller limit to read fewer)",
                                 in.op(), in.path(), dims_str(dims), m, item_bytes, kMaxIdxDataBytes));
  if (in.gzip()) return;
  const uint64_t have = in.plain_left(), total = m * item_bytes;
  if (have < total)
    throw ValueError(fmt::format("{}: '{}' is truncated: the data for dims {} needs {} bytes but the file holds {}",
                                 in.op(), in.path(), dims_str(dims), total, have));
  if (m == dims[0] && have > total)
    throw ValueError(fmt::format("{}: '{}' is corrupt: dims {} don't match the size: {} more bytes follow the {} "
                                 "bytes they announce",
                                 in.op(), in.path(), dims_str(dims), have - total, total));
}

// Reads the m·item_bytes payload (m cut to `limit`); without a limit nothing may follow it.
// The buffer's pages are touched only as the data arrives: a gzip file announcing more than it
// holds fails as truncated having used only what it holds.
std::unique_ptr<unsigned char[]> read_payload(IdxReader& in, const std::vector<uint64_t>& dims, uint64_t item_bytes,
                                              int64_t limit, uint64_t& m) {
  m = dims[0];
  if (limit >= 0) m = std::min<uint64_t>(m, static_cast<uint64_t>(limit));
  check_declared(in, dims, item_bytes, m);
  const uint64_t total = m * item_bytes;
  std::unique_ptr<unsigned char[]> data(new unsigned char[std::max<uint64_t>(total, 1)]);
  constexpr uint64_t kChunk = uint64_t{1} << 24;
  for (uint64_t at = 0; at < total; at += kChunk)
    in.read_exact(data.get() + at, static_cast<size_t>(std::min(total - at, kChunk)),
                  fmt::format("the data for dims {}", dims_str(dims)), total);
  if (m == dims[0] && !in.at_end())
    throw ValueError(fmt::format("{}: '{}' is corrupt: dims {} don't match the size: more data follows the {} "
                                 "bytes they announce",
                                 in.op(), in.path(), dims_str(dims), total));
  return data;
}

Tensor images(const std::string& path, int64_t limit) {
  IdxReader in("read_idx_images", path);
  std::vector<uint64_t> dims = read_header(in, 3, "images");
  const uint64_t pixels = dims[1] * dims[2];
  if (pixels == 0)
    throw ValueError(fmt::format("read_idx_images: '{}' is corrupt: images of {}×{} pixels", path, dims[1], dims[2]));
  uint64_t m = 0;
  const auto data = read_payload(in, dims, pixels, limit, m);
  // The file holds (m, pixels) row-major; X is (pixels, m): transpose in blocks of images so
  // both the reads and the writes stay in cache.
  Tensor X;
  try {
    X = empty({static_cast<int64_t>(pixels), static_cast<int64_t>(m)}, DType::f32);
  } catch (const ValueError& e) {  // out of memory: name the file
    throw ValueError(fmt::format("read_idx_images: '{}': not enough memory to read it ({})", path, e.what()));
  }
  float* x = X.data<float>();
  constexpr uint64_t kBlock = 64;
  for (uint64_t i0 = 0; i0 < m; i0 += kBlock) {
    uint64_t i1 = std::min(m, i0 + kBlock);
    for (uint64_t p = 0; p < pixels; ++p)
      for (uint64_t i = i0; i < i1; ++i) x[p * m + i] = static_cast<float>(data[i * pixels + p]) * (1.0f / 255.0f);
  }
  return X;
}

std::vector<int64_t> labels(const std::string& path, int64_t num_classes, int64_t limit) {
  IdxReader in("read_idx_labels", path);
  std::vector<uint64_t> dims = read_header(in, 1, "labels");
  uint64_t m = 0;
  const auto data = read_payload(in, dims, 1, limit, m);
  std::vector<int64_t> out(data.get(), data.get() + m);
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] >= num_classes)
      throw ValueError(fmt::format("read_idx_labels: '{}' is corrupt: label {} at index {} is out of range [0, {})",
                                   path, out[i], i, num_classes));
  return out;
}

void check_num_classes(const char* op, int64_t num_classes) {
  if (num_classes < 1) throw ValueError(fmt::format("{}: num_classes = {} must be ≥ 1", op, num_classes));
}

}  // namespace

Tensor read_idx_images(const std::string& path, int64_t limit) {
  return detail::with_memory_errors(fmt::format("read_idx_images: '{}'", path), "read it",
                                    [&] { return images(path, limit); });
}

std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes, int64_t limit) {
  check_num_classes("read_idx_labels", num_classes);
  return detail::with_memory_errors(fmt::format("read_idx_labels: '{}'", path), "read it",
                                    [&] { return labels(path, num_classes, limit); });
}

std::string find_idx_file(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  for (const std::string& candidate : {name, name + ".gz"}) {
    const fs::path p = fs::path(dir) / candidate;
    std::error_code ec;  // an unreadable directory is "not found" here; the reader says why
    if (fs::exists(p, ec)) return p.string();
  }
  return {};
}

IdxSplit load_idx_split(const std::string& dir, const std::string& prefix, int64_t num_classes, int64_t limit) {
  check_num_classes("load_idx_split", num_classes);
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
