// Internal: files from elsewhere, read with bounded resources, and files written atomically.
// Shared by the safetensors and IDX readers; every failure is a ValueError that starts with the
// caller's prefix (e.g. "safetensors '/data/model.safetensors'").
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

#include "autodiff/error.hpp"

namespace ad::nn::detail {

/// A file descriptor owned by its holder: closed when the holder dies, however it dies.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  ~OwnedFd() { reset(); }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }
  /// Closes the descriptor held (if any) and holds `fd` instead.
  void reset(int fd = -1);

 private:
  int fd_;
};

/// A regular file opened for reading. Anything else — a FIFO, a device, a directory, a socket, a
/// /proc or /sys file whose size is not its content — is refused at open time, so no read ever
/// blocks or runs without end; the size is fixed at open time and nothing past it is read.
class InputFile {
 public:
  /// Opens `path`; `prefix` starts every error message.
  InputFile(std::string prefix, const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// The file's size in bytes when it was opened.
  uint64_t size() const { return size_; }
  /// Reads exactly `n` bytes at `offset` (within size()); a file that shrank meanwhile throws.
  void read_at(uint64_t offset, void* dst, size_t n) const;
  /// Reads up to `n` bytes from the current position; returns how many (0 at size()).
  size_t read(void* dst, size_t n);
  /// Bytes read() has returned so far.
  uint64_t position() const { return position_; }
  [[noreturn]] void fail(std::string_view what) const;
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  OwnedFd fd_;
  uint64_t size_ = 0;
  uint64_t position_ = 0;
};

/// Writes `bytes` to `path` so that readers see either the old file or the whole new one:
/// an unnamed temporary file in the same directory (O_TMPFILE where the file system has it),
/// fsync, a hidden name ".<name>.tmp-XXXXXX" given only once the data is on disk, rename over
/// `path`, fsync of the directory. The writer holds an flock on its temporary while it lives;
/// each save first removes the hidden temporaries of the same path that no living writer holds
/// (left by a writer killed between naming and renaming, or on a file system without
/// O_TMPFILE). `who` starts every error message.
void write_file_atomically(const std::string& who, const std::string& path, std::string_view bytes);

/// Throws ValueError("<who>: ...") unless `path` is usable as a file name: not empty, no NUL.
void check_path(const std::string& who, const std::string& path);

/// Runs `f`; an allocation failure becomes a ValueError "<what>: not enough memory to <doing>".
template <class F>
auto with_memory_errors(const std::string& what, const char* doing, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    throw ValueError(what + ": not enough memory to " + doing);
  }
}

}  // namespace ad::nn::detail
