// The worker pool behind kernels::parallel_for (kernels/parallel.hpp), and the thread count.
//
// One loop at a time: a caller claims the pool with `busy_`, publishes the loop (a new
// generation), wakes the workers and then takes task indices itself like any worker, so the
// loop finishes even if no worker wakes in time (or none could be started). Indices are
// handed out under the mutex; the caller returns once every task has finished.
#include <cblas.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "autodiff/kernels/parallel.hpp"

namespace ad::kernels {
namespace {

// The CPU this thread runs on, or −1 where that cannot be asked.
int current_cpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

class WorkerPool {
 public:
  // Never destroyed: a loop run from another static's destructor must still find the pool, and
  // the workers, blocked on the condition variable, end with the process.
  static WorkerPool& instance() {
    static auto* pool = new WorkerPool;
    return *pool;
  }

  void run(int64_t count, void (*task)(void*, int64_t), void* context) {
    if (busy_.exchange(true, std::memory_order_acquire)) {  // in use: run the loop here
      for (int64_t i = 0; i < count; ++i) task(context, i);
      return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    start_workers(count - 1);
    task_ = task, context_ = context, count_ = count, next_ = 0, unfinished_ = count;
    caller_cpu_.store(current_cpu(), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    lock.unlock();
    wake_.notify_all();
    lock.lock();
    take_tasks(lock);
    finished_.wait(lock, [this] { return unfinished_ == 0; });
    lock.unlock();
    busy_.store(false, std::memory_order_release);
  }

 private:
  // Called with the mutex held, before the loop's generation is published: a new worker starts
  // from the current one, so it takes part in the loop about to start. A thread that cannot be
  // started leaves its share to the others.
  void start_workers(int64_t wanted) {
    while (static_cast<int64_t>(workers_.size()) < wanted) {
      try {
        workers_.emplace_back([this, seen = generation_.load(std::memory_order_relaxed)] { work(seen); });
      } catch (const std::system_error&) {
        return;
      }
    }
  }

  // Runs tasks of the current loop until none is left; the mutex is held on entry and exit.
  void take_tasks(std::unique_lock<std::mutex>& lock) {
    while (next_ < count_) {
      const int64_t i = next_++;
      lock.unlock();
      task_(context_, i);
      lock.lock();
      if (--unfinished_ == 0) finished_.notify_one();
    }
  }

  // Between loops a worker first watches for the next one for kSpin, then blocks: waking a
  // blocked thread takes about as long as a narrow layer's product, and a training step's loops
  // mostly follow each other closer than kSpin. A worker on the CPU of the thread that posted
  // the last loop yields instead of pausing: that thread runs the program's serial part on this
  // CPU, and a pause loop would hold the CPU from it until the scheduler's next tick.
  void work(uint64_t seen) {
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
        const int cpu = current_cpu();
        if (cpu >= 0 && cpu == caller_cpu_.load(std::memory_order_relaxed)) {
          std::this_thread::yield();
          continue;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
      seen = generation_.load(std::memory_order_relaxed);
      take_tasks(lock);
    }
  }

  static constexpr std::chrono::microseconds kSpin{100};

  std::atomic<bool> busy_{false};
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};  // written under mutex_, watched without it while spinning
  std::atomic<int> caller_cpu_{-1};      // where the last loop's caller ran when it posted it
  void (*task_)(void*, int64_t) = nullptr;
  void* context_ = nullptr;
  int64_t count_ = 0, next_ = 0, unfinished_ = 0;
};

}  // namespace

int get_num_threads() { return openblas_get_num_threads(); }
void set_num_threads(int n) { openblas_set_num_threads(n); }

void run_tasks(int64_t count, void (*task)(void*, int64_t), void* context) {
  if (count <= 1) {
    if (count == 1) task(context, 0);
    return;
  }
  WorkerPool::instance().run(count, task, context);
}

}  // namespace ad::kernels
