// No stray temporary files: a save writes its data into a file with no name until it is on
// disk, and removes the hidden temporaries a killed writer left for the same path — those no
// living writer holds (writers hold an flock on theirs). Temporaries of other paths, ones a
// living writer holds, and look-alikes stay.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nn/nn.hpp>
#include <set>
#include <string>

#include "bad_input.hpp"

namespace {

using namespace bad_input;
namespace nn = ad::nn;

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

void save_net(const std::string& path) {
  nn::Sequential net = net_2_4_1();
  nn::save(net, path);
}

TEST(StaleTemporaries, ASaveLeavesOnlyTheFileReadableByAll) {
  ScratchDir scratch("tapegrad_stale_plain");
  save_net(scratch.path("model.safetensors"));
  save_net(scratch.path("model.safetensors"));
  EXPECT_EQ(names_in(scratch.dir), (std::set<std::string>{"model.safetensors"}));
  struct stat st {};
  ASSERT_EQ(::stat(scratch.path("model.safetensors").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(StaleTemporaries, NextSaveRemovesOnlyDeadWritersFiles) {
  ScratchDir scratch("tapegrad_stale");
  const std::string dead1 = scratch.bytes(".model.safetensors.tmp-Ab3dE9", std::string(4096, 'x'));
  const std::string dead2 = scratch.bytes(".model.safetensors.tmp-000000", "");
  const std::string other = scratch.bytes(".other.safetensors.tmp-Ab3dE9", "x");       // another path's
  const std::string longer = scratch.bytes(".model.safetensors.tmp-Ab3dE9x", "x");     // not the pattern
  const std::string visible = scratch.bytes("model.safetensors.tmp-Ab3dE9", "x");      // not hidden
  fs::create_directory(scratch.path(".model.safetensors.tmp-dirdir"));                 // not a file
  // A living writer: a child holds the lock on its temporary until told to go.
  const std::string alive = scratch.bytes(".model.safetensors.tmp-LiVe01", "x");
  int go[2], ready[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    const int fd = ::open(alive.c_str(), O_RDWR);
    char c = ::flock(fd, LOCK_EX) == 0 ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) < 0) ::_exit(1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');

  save_net(scratch.path("model.safetensors"));
  const auto left = names_in(scratch.dir);
  EXPECT_FALSE(left.count(fs::path(dead1).filename().string())) << "a dead writer's temporary stayed";
  EXPECT_FALSE(left.count(fs::path(dead2).filename().string()));
  for (const std::string& kept : {alive, other, longer, visible, scratch.path(".model.safetensors.tmp-dirdir")})
    EXPECT_TRUE(left.count(fs::path(kept).filename().string())) << kept << " was removed";

  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ::waitpid(writer, nullptr, 0);
  save_net(scratch.path("model.safetensors"));  // its writer is gone now: the next save removes it
  EXPECT_FALSE(names_in(scratch.dir).count(fs::path(alive).filename().string()));
  for (int fd : {go[0], go[1], ready[0], ready[1]}) ::close(fd);
}

}  // namespace
