// Files from elsewhere read with bounded resources, and files written so that a crash leaves
// either the old file or the new one, and no debris.
#include "nn/detail/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "autodiff/error.hpp"

namespace ad::nn::detail {
namespace {

// Why open() failed, in words a user can act on.
std::string open_error(int err) {
  switch (err) {
    case ENOENT: return "no such file";
    case EACCES:
    case EPERM: return "permission denied";
    case ELOOP: return "too many levels of symbolic links (a symlink loop?)";
    case ENAMETOOLONG: return "the name is too long";
    case ENOTDIR: return "a component of the path is not a directory";
    default: return std::strerror(err);
  }
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

}  // namespace

void OwnedFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void check_path(const std::string& who, const std::string& path) {
  if (path.empty()) throw ValueError(fmt::format("{}: the path is empty", who));
  if (path.find('\0') == std::string::npos) return;
  // c_str() would silently name another file. `who` quotes the path: show its NULs as \0, or
  // the message would end at the first one.
  std::string shown;
  for (char c : who) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
  throw ValueError(fmt::format("{}: the path contains a NUL byte", shown));
}

InputFile::InputFile(std::string prefix, const std::string& path) : prefix_(std::move(prefix)) {
  check_path(prefix_, path);
  // O_NONBLOCK: opening a FIFO that has no writer would otherwise wait forever.
  fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd_.get() < 0) {
    const int err = errno;
    struct stat st {};  // a socket, or a device with no driver behind it, cannot be opened at all
    if (err == ENXIO && ::stat(path.c_str(), &st) == 0)
      fail(fmt::format("cannot open: it is {}, not a regular file", kind_of(st.st_mode)));
    fail(fmt::format("cannot open: {}", open_error(err)));
  }
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) fail(fmt::format("cannot stat: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail(fmt::format("cannot open: it is {}, not a regular file", kind_of(st.st_mode)));
  // procfs and sysfs files report a size (0 or 4096) unrelated to what reading them yields.
  struct statfs fs {};
  if (::fstatfs(fd_.get(), &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC))
    fail("cannot open: it is a /proc or /sys file, not a regular file with a known size");
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() = default;

void InputFile::fail(std::string_view what) const { throw ValueError(fmt::format("{}: {}", prefix_, what)); }

void InputFile::read_at(uint64_t offset, void* dst, size_t n) const {
  auto* out = static_cast<char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd_.get(), out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(fmt::format("read error: {}", std::strerror(errno)));
    if (r == 0)
      fail(fmt::format("the file changed while it was read: it ended after {} bytes, but it had {} when opened",
                       offset + done, size_));
    done += static_cast<size_t>(r);
  }
}

size_t InputFile::read(void* dst, size_t n) {
  const size_t k = static_cast<size_t>(std::min<uint64_t>(n, size_ - position_));
  read_at(position_, dst, k);
  position_ += k;
  return k;
}

namespace {

namespace fs = std::filesystem;

// Six characters for a hidden temporary's name, as mkstemp uses.
std::string random_suffix() {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 gen(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                                   (static_cast<uint64_t>(::getpid()) << 40) ^
                                   std::hash<std::thread::id>{}(std::this_thread::get_id()));
  std::string s(6, 'x');
  for (char& c : s) c = kChars[gen() % (sizeof kChars - 1)];
  return s;
}

std::string temp_prefix(const std::string& base) { return "." + base + ".tmp-"; }

// Removes the hidden temporaries of `base` in `dir` whose writer is gone: a living writer holds
// an flock on its temporary until it has renamed it, and the kernel drops the lock when the
// writer dies, however it dies. Best effort: a temporary that cannot be checked stays.
void remove_stale_temporaries(const std::string& dir, const std::string& base) {
  const std::string prefix = temp_prefix(base);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name.size() != prefix.size() + 6 || name.substr(0, prefix.size()) != prefix) continue;
    OwnedFd fd(::openat(::dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (fd.get() >= 0 && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0)
      ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
}

void write_all(const std::string& who, int fd, std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw ValueError(fmt::format("{}: write failed: {}", who, std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) throw ValueError(fmt::format("{}: fsync failed: {}", who, std::strerror(errno)));
  ::fchmod(fd, 0644);  // a model file is ordinary data (mkstemp makes 0600)
}

// A locked temporary holding the data under a hidden name in `dir`.
struct Temporary {
  OwnedFd fd;
  std::string name;
};

// The data in an unnamed file (O_TMPFILE), named only once it is complete and on disk: a writer
// killed before that leaves nothing. False where the file system or /proc cannot do it.
bool write_unnamed(const std::string& who, const std::string& dir, const std::string& base, std::string_view bytes,
                   Temporary& t) {
  t.fd.reset(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
  if (t.fd.get() < 0) return false;
  ::flock(t.fd.get(), LOCK_EX);
  write_all(who, t.fd.get(), bytes);
  const std::string self = "/proc/self/fd/" + std::to_string(t.fd.get());
  for (int attempt = 0; attempt < 64; ++attempt) {
    t.name = (fs::path(dir) / (temp_prefix(base) + random_suffix())).string();
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, t.name.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
    if (errno != EEXIST) break;
  }
  t.fd.reset();
  return false;
}

// The same through mkstemp, for file systems without O_TMPFILE: the name exists from the start,
// so the lock is taken at once and the name checked again (a concurrent save's cleanup may have
// removed it in between).
void write_named(const std::string& who, const std::string& dir, const std::string& base, std::string_view bytes,
                 Temporary& t) {
  for (int attempt = 0;; ++attempt) {
    t.name = (fs::path(dir) / (temp_prefix(base) + "XXXXXX")).string();
    t.fd.reset(::mkstemp(t.name.data()));
    if (t.fd.get() < 0)
      throw ValueError(fmt::format("{}: cannot create a temporary file in '{}': {}", who, dir, std::strerror(errno)));
    ::flock(t.fd.get(), LOCK_EX);
    struct stat mine {}, named {};
    if ((::fstat(t.fd.get(), &mine) == 0 && ::stat(t.name.c_str(), &named) == 0 && mine.st_ino == named.st_ino &&
         mine.st_dev == named.st_dev) ||
        attempt == 8)
      break;
  }
  try {
    write_all(who, t.fd.get(), bytes);
  } catch (...) {
    ::unlink(t.name.c_str());
    throw;
  }
}

}  // namespace

void write_file_atomically(const std::string& who, const std::string& path, std::string_view bytes) {
  check_path(who, path);
  const fs::path target(path);
  if (!target.has_filename()) throw ValueError(fmt::format("{}: the path names a directory, not a file", who));
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const std::string base = target.filename().string();
  remove_stale_temporaries(dir, base);
  Temporary t;
  if (!write_unnamed(who, dir, base, bytes, t)) write_named(who, dir, base, bytes, t);
  if (::rename(t.name.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(t.name.c_str());
    throw ValueError(fmt::format("{}: cannot replace the file: {}", who, std::strerror(err)));
  }
  t.fd.reset();  // releases the lock: the temporary's name is gone already
  // The rename is durable only once the directory entry is on disk.
  OwnedFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
}

}  // namespace ad::nn::detail
