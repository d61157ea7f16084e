// Crash safety of save(): a child process saves a model to the same path and dies by SIGKILL at
// a chosen point: after k complete saves, or inside the next save at a chosen byte of the file
// it writes (RLIMIT_FSIZE stops the write there and the SIGXFSZ handler raises SIGKILL). The
// kill points are fixed, not timed, so a busy machine runs exactly the same cases. After every
// kill the file at the path must load intact and hold the last completed save; whatever a kill
// leaves behind must be only hidden temporary files that never shadow the model, and the next
// save to the same path removes them all.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nn/nn.hpp>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace nn = ad::nn;

// A few hundred KiB per save, so a cut can land far into the data as well as in the header.
nn::Sequential model() {
  ad::manual_seed(1);
  return nn::mlp({64, 256, 256, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid);
}

// Every parameter set to `v`: a file from one save holds one value throughout.
void fill(nn::Sequential& net, double v) {
  ad::NoGradGuard off;
  for (ad::Tensor& p : net.parameters()) p.fill_(v);
}

void save_or_exit(nn::Sequential& net, const std::string& path) {
  try {
    nn::save(net, path);
  } catch (...) {
    ::_exit(3);
  }
}

void kill_self(int) { ::kill(::getpid(), SIGKILL); }

// The child: saves values base + 1 … base + complete_saves, then dies by SIGKILL, either at once
// (cut_at < 0) or while saving base + complete_saves + 1, when the file being written reaches
// cut_at bytes.
[[noreturn]] void save_then_die(const std::string& path, int base, int complete_saves, int64_t cut_at) {
  nn::Sequential net = model();
  for (int k = 1; k <= complete_saves; ++k) {
    fill(net, base + k);
    save_or_exit(net, path);
  }
  if (cut_at >= 0) {
    fill(net, base + complete_saves + 1);
    ::signal(SIGXFSZ, kill_self);
    const rlimit limit{static_cast<rlim_t>(cut_at), static_cast<rlim_t>(cut_at)};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(4);
    save_or_exit(net, path);  // cannot finish: the write stops at cut_at bytes
    ::_exit(5);
  }
  ::kill(::getpid(), SIGKILL);
  ::_exit(6);
}

// Where to cut a save of `bytes` bytes whose header (the 8-byte length, then the JSON) ends at
// `header_end`: before anything, inside the length, inside the JSON, at the data's start,
// in the middle of the data and one byte short of the end.
std::vector<int64_t> cut_points(int64_t bytes, int64_t header_end) {
  return {0, 1, 8, (8 + header_end) / 2, header_end, header_end + 1, (header_end + bytes) / 2, bytes - 1};
}

int64_t header_end(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char length[8] = {};
  in.read(reinterpret_cast<char*>(length), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | length[i];  // little-endian
  return 8 + static_cast<int64_t>(n);
}

// The single value the file's parameters hold, or -1 when they differ (a torn file).
double file_value(const std::string& path) {
  nn::Sequential net = model();
  nn::load(net, path);  // throws ad::ValueError for a half-written file
  double v = net.parameters()[0].to_vector()[0];
  for (const ad::Tensor& p : net.parameters())
    for (double x : p.to_vector())
      if (x != v) return -1;
  return v;
}

// The hidden temporaries in `dir`; any other file but the model fails the test.
int count_temporaries(const fs::path& dir) {
  int temps = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "model.safetensors") continue;
    EXPECT_EQ(name.rfind(".model.safetensors.tmp-", 0), 0u) << "unexpected file " << name;
    ++temps;
  }
  return temps;
}

TEST(CrashSafety, KillingASaveNeverCorruptsThePreviousFile) {
  const fs::path dir = fs::temp_directory_path() / ("tapegrad_crash_save_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "model.safetensors").string();
  {
    nn::Sequential net = model();
    fill(net, 0);
    nn::save(net, path);
  }
  const int64_t bytes = static_cast<int64_t>(fs::file_size(path));
  int trial = 0, kills = 0;
  double expected = 0;  // the value of the last completed save
  for (int complete_saves : {0, 1, 2}) {
    std::vector<int64_t> cuts = cut_points(bytes, header_end(path));
    cuts.push_back(-1);  // no cut: killed between saves
    for (int64_t cut_at : cuts) {
      const int base = 1000 * ++trial;
      const pid_t child = ::fork();
      ASSERT_GE(child, 0);
      if (child == 0) save_then_die(path, base, complete_saves, cut_at);
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "trial " << trial << ": the saving child was not killed (status " << status << ")";
      ++kills;
      if (complete_saves > 0) expected = base + complete_saves;
      try {
        EXPECT_EQ(file_value(path), expected) << "trial " << trial << ": killed after " << complete_saves
                                              << " saves, cut at byte " << cut_at << " of " << bytes;
      } catch (const ad::Error& e) {
        ADD_FAILURE() << "trial " << trial << ", cut at byte " << cut_at << ": " << e.what();
      }
    }
  }
  // Leftovers of killed saves: only hidden temporaries beside the model, never the model's name;
  // the next save to the path removes every one no living writer holds.
  const int temps = count_temporaries(dir);
  {
    nn::Sequential net = model();
    nn::save(net, path);
  }
  const int temps_after_save = count_temporaries(dir);
  std::printf("[ crash    ] %d kills at fixed points of %lld-byte saves; %d temporary files left, %d after the "
              "next save\n",
              kills, static_cast<long long>(bytes), temps, temps_after_save);
  EXPECT_EQ(temps_after_save, 0);
  fs::remove_all(dir);
}

}  // namespace
