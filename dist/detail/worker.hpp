// Internal: the one background thread that makes every collective call (Horovod's design).
// The training thread queues tasks and goes on; tasks run one at a time in the order queued,
// which is the same order on every rank, so the collectives match. Waiting for a task rethrows
// the first failure of any task: after a failure the group is unusable and later tasks are
// skipped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "dist/communicator.hpp"

namespace ad::dist::detail {

class Worker {
 public:
  using Task = std::function<void(Communicator&)>;

  explicit Worker(std::unique_ptr<Communicator> comm);
  /// Closes (see close()) if that was not done.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// The communicator's answer, which never changes (so any thread may ask).
  bool reduces_pieces_where_they_lie(DType dtype) const { return comm_->reduces_pieces_where_they_lie(dtype); }
  /// Queues `task`; returns its ticket (1, 2, …).
  uint64_t submit(Task task);
  /// Blocks until the task with `ticket` (and every one before it) has run; rethrows the first
  /// failure of any task.
  void wait(uint64_t ticket);
  /// Queues `task` and waits for it.
  void run(Task task) { wait(submit(std::move(task))); }
  /// Runs what is queued, closes the communicator and stops the thread. Returns whether the
  /// ranks ended in step (Communicator::close); false after any failure.
  bool close();
  /// Ends every rank of the job with exit status `code`. The abort call is made on the worker
  /// thread (which may be waiting inside an operation: it is interrupted first).
  [[noreturn]] void abort(int code);

 private:
  void loop();
  void run_one(Task& task);

  std::unique_ptr<Communicator> comm_;
  const int rank_, size_;
  std::mutex mutex_;
  std::condition_variable wake_;      // the worker: a task, closing or abort
  std::condition_variable finished_;  // waiters: a task finished, or the thread stopped
  std::deque<Task> queue_;
  uint64_t submitted_ = 0, done_ = 0;
  std::exception_ptr failure_;
  bool closing_ = false, stopped_ = false, in_step_ = false;
  int abort_code_ = -1;
  std::thread thread_;
};

}  // namespace ad::dist::detail
