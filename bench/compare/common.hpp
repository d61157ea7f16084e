// What the C++ implementations of the comparison share: the workloads' sizes and
// hyper-parameters, reading make_data.py's raw files, the measurement loop and its one-line
// JSON result (read by report.py). The framework code stays in each implementation's file.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cmp {

struct Workload {
  std::string name;
  std::vector<int64_t> dims;  // n[0], n[1], …, n[L]
  int64_t m;                  // samples in the data set
  int64_t batch;              // samples per step
  double lr;
  int check_steps;            // the cost after this many steps is cross-checked
  int steps_per_measure;      // one measurement times this many steps
  bool sigmoid_hidden = false;  // else ReLU
  bool binary = false;        // sigmoid output + binary cross-entropy; else logits + softmax CE
  bool adam = false;          // else plain SGD (gradient descent)
  bool synthetic = false;     // random data made in-process (scaling curves), not make_data.py's
};

// W1–W4 of issue 5, and the scaling curves. W3 cross-checks its cost after 20 steps, not after
// its epoch: Adam divides by √v, so on weights whose gradients are ~0 it turns float32 rounding
// differences (summation order) into full-size steps; measured relative gaps between correct
// implementations: 1e-7 at step 20, 1e-6 at 40, 3e-4 at 60, a few % at 469.
// Scaling curves: "b<B>" is W3's network and optimizer on one synthetic batch of B samples,
// "d<D>" a stack of D layers of width 256 (batch 128, SGD). Their learning rate is 1e-9: on one
// fixed batch a real rate fits it within a few hundred steps, the gradients vanish and Adam's
// m (×0.9 per step) sinks into float32 denormals, which every implementation then pays for
// (b1 went from 1.4 to 12 ms per step over 1,200 steps).
Workload workload_spec(const std::string& w);
// The workload named `w`; CHECK_STEPS in the environment overrides its check_steps (to find
// where implementations part ways when the cross-check fails).
inline Workload workload(const std::string& w) {
  Workload spec = workload_spec(w);
  if (const char* c = std::getenv("CHECK_STEPS")) spec.check_steps = std::atoi(c);
  return spec;
}
inline Workload workload_spec(const std::string& w) {
  if (w == "w1") return {"w1", {2, 4, 1}, 400, 400, 1.2, 1000, 1000, true, true, false};
  if (w == "w2") return {"w2", {12288, 20, 7, 5, 1}, 209, 209, 0.0075, 50, 20, false, true, false};
  if (w == "w3") return {"w3", {784, 256, 128, 10}, 60000, 128, 1e-3, 20, 469, false, false, true};
  if (w == "w4") return {"w4", {1024, 4096, 4096, 10}, 256, 256, 0.01, 3, 2, false, false, false};
  if (w.size() > 1 && w[0] == 'b') {
    const int64_t b = std::stoll(w.substr(1));
    const int steps = static_cast<int>(std::clamp<int64_t>(8192 / b, 3, 400));
    return {w, {784, 256, 128, 10}, b, b, 1e-9, 2, steps, false, false, true, true};
  }
  if (w.size() > 1 && w[0] == 'd') {
    const int64_t d = std::stoll(w.substr(1));
    std::vector<int64_t> dims(static_cast<size_t>(d), 256);
    dims.push_back(10);
    const int steps = static_cast<int>(std::max<int64_t>(10, 1000 / d));
    return {w, dims, 128, 128, 1e-9, 2, steps, false, false, false, true};
  }
  throw std::runtime_error("unknown workload " + w);
}

// Reads `count` elements of make_data.py's raw file `name` into `dst`.
template <class T>
void read_into(const std::string& dir, const std::string& name, T* dst, size_t count) {
  std::ifstream f(dir + "/" + name, std::ios::binary);
  if (!f.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(count * sizeof(T))))
    throw std::runtime_error("cannot read " + std::to_string(count) + " values from " + dir + "/" + name);
}
template <class T>
std::vector<T> read_raw(const std::string& dir, const std::string& name, size_t count) {
  std::vector<T> v(count);
  read_into(dir, name, v.data(), count);
  return v;
}

// The sample indices of step k: consecutive slices of the fixed permutation (full batch when
// batch == m), the last slice of the epoch keeping the remainder.
inline std::vector<int64_t> batch_index(const std::vector<int32_t>& perm, int64_t batch, int64_t k) {
  const int64_t m = static_cast<int64_t>(perm.size());
  const int64_t per_epoch = (m + batch - 1) / batch;
  const int64_t start = (k % per_epoch) * batch, end = std::min(m, start + batch);
  return std::vector<int64_t>(perm.begin() + start, perm.begin() + end);
}

inline long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
inline long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Runs the check steps (the last one reports its cost), then `reps` timed measurements of
// steps_per_measure steps each, and prints one JSON line. step(k, want_cost) trains on step k
// and returns the cost when asked (only then may it synchronize to read it).
inline void measure(const std::string& impl, const Workload& w, int reps, long start_rss,
                    const std::function<double(int64_t, bool)>& step) {
  using clock = std::chrono::steady_clock;
  int64_t k = 0;
  double cost = 0;
  for (; k < w.check_steps; ++k) cost = step(k, k + 1 == w.check_steps);
  std::vector<double> secs;
  for (int r = 0; r < reps; ++r) {
    auto t0 = clock::now();
    for (int s = 0; s < w.steps_per_measure; ++s, ++k) step(k, false);
    secs.push_back(std::chrono::duration<double>(clock::now() - t0).count() / w.steps_per_measure);
  }
  std::printf("{\"impl\": \"%s\", \"workload\": \"%s\", \"check_steps\": %d, \"check_cost\": %.8g, "
              "\"steps_per_measure\": %d, \"step_seconds\": [",
              impl.c_str(), w.name.c_str(), w.check_steps, cost, w.steps_per_measure);
  for (size_t i = 0; i < secs.size(); ++i) std::printf("%s%.9g", i ? ", " : "", secs[i]);
  std::printf("], \"start_rss_kb\": %ld, \"peak_rss_kb\": %ld}\n", start_rss, peak_rss_kb());
  std::fflush(stdout);
}

}  // namespace cmp
