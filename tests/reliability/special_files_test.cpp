// Only regular files are read: every reader meets a FIFO, devices, a directory, a socket,
// /proc files, a symlink loop, names too long and a file it may not read, and each answers at
// once with a ValueError saying what the path is (a FIFO must not block, /dev/zero must not be
// read without end).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bad_input.hpp"

namespace {

using namespace bad_input;
namespace nn = ad::nn;

// The four ways a file from elsewhere is read.
const std::vector<std::pair<const char*, std::function<void(const std::string&)>>>& readers() {
  static const std::vector<std::pair<const char*, std::function<void(const std::string&)>>> r = {
      {"read_safetensors", [](const std::string& p) { (void)nn::read_safetensors(p); }},
      {"load", [](const std::string& p) {
         nn::Sequential net = net_2_4_1();
         nn::load(net, p);
       }},
      {"read_idx_images", [](const std::string& p) { (void)nn::read_idx_images(p); }},
      {"read_idx_labels", [](const std::string& p) { (void)nn::read_idx_labels(p); }},
  };
  return r;
}

// The message of the ValueError `read(path)` throws; fails the test on anything else.
std::string value_error(const std::function<void(const std::string&)>& read, const std::string& path) {
  try {
    read(path);
  } catch (const ad::ValueError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << path << ": not a ValueError: " << e.what();
    return "";
  }
  ADD_FAILURE() << path << ": accepted";
  return "";
}

void expect_refused(const std::string& path, const std::vector<std::string>& words) {
  for (const auto& [name, read] : readers()) {
    const std::string msg = value_error(read, path);
    for (const std::string& w : words) EXPECT_NE(msg.find(w), std::string::npos) << name << ": '" << w << "' not in: " << msg;
  }
}

struct SpecialFiles : ::testing::Test {
  ScratchDir scratch{"tapegrad_special_files"};
};

TEST_F(SpecialFiles, AFifoNobodyWritesIsRefusedWithoutBlocking) {
  const std::string fifo = scratch.path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_refused(fifo, {fifo, "a FIFO", "not a regular file"});
}

TEST_F(SpecialFiles, DevicesAreRefusedNotReadWithoutEnd) {
  for (const char* dev : {"/dev/zero", "/dev/urandom", "/dev/null"}) expect_refused(dev, {dev, "a character device"});
}

TEST_F(SpecialFiles, ADirectoryIsRefused) { expect_refused(scratch.dir.string(), {"a directory", "not a regular file"}); }

TEST_F(SpecialFiles, ProcFilesAreRefused) {
  for (const char* proc : {"/proc/self/status", "/proc/self/maps", "/proc/cpuinfo"})
    expect_refused(proc, {proc, "a /proc or /sys file"});
}

TEST_F(SpecialFiles, ASocketIsRefused) {
  const std::string path = scratch.path("sock");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  expect_refused(path, {path, "a socket"});
  ::close(fd);
}

TEST_F(SpecialFiles, PathsThatNameNoFileSayWhy) {
  const std::string loop_a = scratch.path("loop_a"), loop_b = scratch.path("loop_b");
  ASSERT_EQ(::symlink(loop_b.c_str(), loop_a.c_str()), 0);
  ASSERT_EQ(::symlink(loop_a.c_str(), loop_b.c_str()), 0);
  expect_refused(loop_a, {loop_a, "symbolic links", "loop"});
  expect_refused(scratch.path(std::string(NAME_MAX + 1, 'n')), {"the name is too long"});
  std::string deep = scratch.dir.string();
  while (deep.size() <= PATH_MAX) deep += "/d";
  expect_refused(deep, {"the name is too long"});
  const std::string dangling = scratch.path("dangling");
  ASSERT_EQ(::symlink(scratch.path("nowhere").c_str(), dangling.c_str()), 0);
  expect_refused(dangling, {"no such file"});
  expect_refused(scratch.bytes("plain", "x") + "/inside", {"a component of the path is not a directory"});
  expect_refused("", {"the path is empty"});
  expect_refused(scratch.bytes("real", "x") + std::string(1, '\0') + "tail", {"NUL byte"});
}

// Root reads every file, so the check drops to the nobody user in a child process.
TEST_F(SpecialFiles, AFileThatMayNotBeReadSaysPermissionDenied) {
  const std::string path = scratch.bytes("secret.safetensors", "{}");
  ASSERT_EQ(::chmod(path.c_str(), 0000), 0);
  ASSERT_EQ(::chmod(scratch.dir.c_str(), 0755), 0);
  if (::geteuid() != 0) {
    expect_refused(path, {path, "permission denied"});
    return;
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int ok = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    for (const auto& [name, read] : readers()) {
      try {
        read(path);
        ok = 0;
      } catch (const ad::ValueError& e) {
        ok &= std::string(e.what()).find("permission denied") != std::string::npos;
      } catch (...) {
        ok = 0;
      }
    }
    const char verdict = ok ? 'y' : 'n';
    ::_exit(::write(fds[1], &verdict, 1) == 1 ? 0 : 1);
  }
  ::close(fds[1]);
  char verdict = 0;
  ASSERT_EQ(::read(fds[0], &verdict, 1), 1);
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(verdict, 'y') << "as nobody, some reader did not say 'permission denied'";
}

// A memory file reached through /proc/self/fd is a regular file (the fuzzers read this way).
TEST_F(SpecialFiles, AMemoryFileThroughProcSelfFdIsARegularFile) {
  const std::string saved = scratch.path("m.safetensors");
  nn::Sequential net = net_2_4_1();
  nn::save(net, saved);
  const std::string bytes = [&] {
    std::ifstream in(saved, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  const int fd = ::memfd_create("tapegrad_test", 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  nn::Sequential again = net_2_4_1();
  nn::load(again, "/proc/self/fd/" + std::to_string(fd));
  EXPECT_EQ(again.parameters()[0].to_vector(), net.parameters()[0].to_vector());
  ::close(fd);
}

}  // namespace
