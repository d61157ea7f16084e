#include "dist/detail/worker.hpp"

#include <cstdlib>

namespace ad::dist::detail {

Worker::Worker(std::unique_ptr<Communicator> comm)
    : comm_(std::move(comm)), rank_(comm_->rank()), size_(comm_->size()) {
  thread_ = std::thread([this] { loop(); });
}

Worker::~Worker() {
  if (thread_.joinable()) close();
}

uint64_t Worker::submit(Task task) {
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    if (closing_) throw UsageError("dist: the Context has ended; no collective operation can start any more");
    queue_.push_back(std::move(task));
    ticket = ++submitted_;
  }
  wake_.notify_one();
  return ticket;
}

void Worker::wait(uint64_t ticket) {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [&] { return done_ >= ticket || stopped_; });
  if (failure_) std::rethrow_exception(failure_);
}

void Worker::loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !queue_.empty() || closing_ || abort_code_ >= 0; });
      if (abort_code_ >= 0) comm_->abort(abort_code_);
      if (queue_.empty()) break;  // closing, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    run_one(task);
  }
  bool in_step = false;
  try {
    in_step = !failure_ && comm_->close();
  } catch (const Communicator::Interrupted&) {
    std::unique_lock lock(mutex_);
    comm_->abort(abort_code_);
  } catch (...) {  // a transport error while closing: not in step
  }
  {
    std::lock_guard lock(mutex_);
    in_step_ = in_step;
    stopped_ = true;
  }
  finished_.notify_all();
}

// After a failure the remaining tasks are skipped: their collectives could not match.
void Worker::run_one(Task& task) {
  if (!failure_) {
    try {
      task(*comm_);
    } catch (const Communicator::Interrupted&) {
      std::unique_lock lock(mutex_);
      comm_->abort(abort_code_);
    } catch (...) {
      std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
    }
  }
  task = nullptr;  // drop what the task holds (gradient handles) before it counts as done
  {
    std::lock_guard lock(mutex_);
    ++done_;
  }
  finished_.notify_all();
}

bool Worker::close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  return in_step_;
}

void Worker::abort(int code) {
  bool stopped = false;
  {
    std::lock_guard lock(mutex_);
    abort_code_ = code;
    stopped = stopped_;
  }
  if (stopped) comm_->abort(code);  // no other thread is inside the transport any more
  comm_->interrupt();
  wake_.notify_one();
  thread_.join();  // the worker aborts the job; if it had just stopped, abort from here
  comm_->abort(code);
  std::abort();  // a virtual call is not known to be [[noreturn]]
}

}  // namespace ad::dist::detail
