// Crash safety of save(): a child process saves a model to the same path again and again and
// is killed with SIGKILL at a random moment, many times over. The file at the path must always
// load, intact and consistent (every value from one single save); whatever a kill leaves behind
// must be only hidden temporary files that never shadow the model, and the next save to the
// same path removes them all.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nn/nn.hpp>
#include <random>
#include <set>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace nn = ad::nn;

// Wide enough that one save writes a few hundred KiB: a kill often lands inside the write.
nn::Sequential model() {
  ad::manual_seed(1);
  return nn::mlp({64, 256, 256, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid);
}

// Every parameter set to `v`: a file from one save holds one value throughout.
void fill(nn::Sequential& net, double v) {
  ad::NoGradGuard off;
  for (ad::Tensor& p : net.parameters()) p.fill_(v);
}

// Saves values base + 1, base + 2, … until killed; writes one byte to `ready` first.
[[noreturn]] void save_forever(const std::string& path, int base, int ready) {
  nn::Sequential net = model();
  if (::write(ready, "r", 1) != 1) ::_exit(4);
  for (int k = base + 1;; ++k) {
    fill(net, k);
    try {
      nn::save(net, path);
    } catch (...) {
      ::_exit(3);
    }
  }
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
  // Kill times spread over about three saves, measured here: the test's timing follows the
  // machine (a sanitizer build or a slow disk makes saves slower).
  const auto t0 = std::chrono::steady_clock::now();
  {
    nn::Sequential net = model();
    for (int k = 0; k < 3; ++k) nn::save(net, (dir / "timing.safetensors").string());
  }
  fs::remove(dir / "timing.safetensors");
  const auto save_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0) / 3;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int64_t> delay_us(0, 3 * save_us.count());
  const int trials = 200;
  int corrupt = 0, advanced = 0;  // advanced: trials whose child finished a save before the kill
  double previous = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const int base = 1000 * (trial + 1);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) save_forever(path, base, pipe_fds[1]);
    char ready = 0;
    ASSERT_EQ(::read(pipe_fds[0], &ready, 1), 1);  // the child is about to start saving
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the saving child exited by itself (status " << status << ")";
    try {
      const double v = file_value(path);
      if (v != previous && !(v > base && v < base + 1000)) ++corrupt;  // torn, or from nowhere
      if (v != previous) ++advanced;  // this trial's child completed at least one save
      previous = v;
    } catch (const ad::Error& e) {
      ++corrupt;
      ADD_FAILURE() << "trial " << trial << ": " << e.what();
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
  std::printf("[ crash    ] one save takes %lld us; %d kills during save: %d corrupt files, %d trials saw a newer save; %d temporary files "
              "left by killed saves, %d after the next save (the file's last value %g)\n",
              static_cast<long long>(save_us.count()), trials, corrupt, advanced, temps, temps_after_save, previous);
  EXPECT_EQ(corrupt, 0);
  EXPECT_GT(advanced, trials / 4);  // many kills landed after completed saves
  EXPECT_EQ(temps_after_save, 0);
  fs::remove_all(dir);
}

}  // namespace
