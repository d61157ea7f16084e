// Communicator: the few collective operations data-parallel training needs, on one group of
// processes (ranks). tapegrad::dist ships one on MPI; another transport (a GPU collective
// library, say) implements this interface and nothing else changes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/shape.hpp"
#include "dist/error.hpp"

namespace ad::dist {

/// How values from every rank combine. Mean is a sum divided by the number of ranks.
enum class ReduceOp { Sum, Mean, Max };

/// The name of `op` ("sum", "mean", "max") for messages.
const char* reduce_op_name(ReduceOp op);

/// One part of a buffer that all_reduce_pieces() reduces in place: `count` elements at `data`.
struct Piece {
  void* data = nullptr;  ///< the first element
  int64_t count = 0;     ///< how many elements
};

/// A group of `size()` processes, this one being `rank()`. Every rank calls the same
/// operations in the same order (the collective contract of MPI); tapegrad::dist makes all of
/// its calls from one background thread, one at a time. An operation that cannot complete
/// because another rank failed or left throws PeerError.
class Communicator {
 public:
  Communicator() = default;
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  /// This process's number in the group, 0 … size() − 1.
  virtual int rank() const = 0;
  /// The number of processes in the group.
  virtual int size() const = 0;
  /// recv[i] = op over ranks of send[i], for `count` elements of `dtype` (send == recv reduces
  /// in place). Mean divides the sum by size() (a division: correctly rounded).
  virtual void all_reduce(const void* send, void* recv, int64_t count, DType dtype, ReduceOp op) = 0;
  /// As all_reduce in place on the pieces laid end to end (one dtype), without gathering them
  /// first where the transport can (reduces_pieces_where_they_lie()); otherwise they are packed
  /// into `scratch`, which has room for all of them, reduced, and unpacked (UsageError when it
  /// is null and there are several pieces). Every rank passes the same counts.
  virtual void all_reduce_pieces(const std::vector<Piece>& pieces, void* scratch, DType dtype, ReduceOp op);
  /// Whether all_reduce_pieces() on `dtype` reads and writes the pieces where they lie, so that
  /// its `scratch` may be null. Fixed for the communicator's lifetime.
  virtual bool reduces_pieces_where_they_lie(DType dtype) const {
    (void)dtype;
    return false;
  }
  /// Copies `bytes` bytes at `data` from rank `root` to every other rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  /// Every rank's `mine`, indexed by rank.
  virtual std::vector<std::string> all_gather(const std::string& mine) = 0;
  /// Ends the group after this rank's last operation. Returns false when the ranks did not end
  /// in step (one of them issued fewer operations, or an operation failed): the job must then
  /// be aborted, since a rank may still wait for this one.
  virtual bool close() = 0;
  /// Ends every rank of the job with exit status `code`, now.
  [[noreturn]] virtual void abort(int code) = 0;

  /// Asks an operation that is waiting to give up (it throws Interrupted); safe from any thread.
  void interrupt() { interrupted_.store(true, std::memory_order_relaxed); }
  /// What an interrupted operation throws.
  struct Interrupted {};

 protected:
  /// Whether interrupt() was called: a waiting operation polls it.
  bool interrupted() const { return interrupted_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> interrupted_{false};
};

}  // namespace ad::dist
