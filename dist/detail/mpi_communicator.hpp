// Internal: the Communicator on MPI-3 (Open MPI, MPICH). Collectives are non-blocking calls
// completed by polling, so that a wait can notice that another rank has ended: each rank, when
// it closes, sends every other rank the number of collectives it issued; a rank waiting for an
// operation that a closed rank never issued throws PeerError instead of waiting forever.
// When every rank runs on one machine, all-reduces of f32 and f64 go through a shared-memory
// window (ShmReducer) instead, unless TAPEGRAD_DIST_SHM=0; its waits poll the same notices.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dist/communicator.hpp"
#include "dist/detail/shm_reducer.hpp"

namespace ad::dist::detail {

class MpiCommunicator final : public Communicator {
 public:
  /// Duplicates `world` (one communicator for the collectives, one for the closing notices) and,
  /// when its ranks share one machine, allocates the shared window. Collective; called on the
  /// thread that initialized MPI, before the worker thread starts.
  explicit MpiCommunicator(MPI_Comm world);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce(const void* send, void* recv, int64_t count, DType dtype, ReduceOp op) override;
  void all_reduce_pieces(const std::vector<Piece>& pieces, void* scratch, DType dtype, ReduceOp op) override;
  /// With the shared window, for f32 and f64.
  bool reduces_pieces_where_they_lie(DType dtype) const override {
    return shm_ && (dtype == DType::f32 || dtype == DType::f64);
  }
  void broadcast(void* data, int64_t bytes, int root) override;
  std::vector<std::string> all_gather(const std::string& mine) override;
  bool close() override;
  [[noreturn]] void abort(int code) override;

 private:
  void shm_all_reduce(std::span<const ShmReducer::Run> runs, int64_t count, DType dtype, ReduceOp op);
  void begin(const char* op);
  void wait(MPI_Request& req, const char* op);
  void still_waiting(const char* op, uint64_t polls);
  void check(int rc, const char* op);
  [[noreturn]] void fail(const std::string& message);
  void post_notice_receive();
  void poll_notices();

  MPI_Comm data_ = MPI_COMM_NULL;     // the collectives
  MPI_Comm notices_ = MPI_COMM_NULL;  // "this rank has closed after N collectives"
  MPI_Op max_ = MPI_OP_NULL;          // Max that lets NaN through
  int rank_ = 0, size_ = 1;
  int64_t issued_ = 0;                    // collectives started on data_
  std::vector<int64_t> closed_after_;     // per rank: its issued_ when it closed, or −1
  int64_t fewest_closed_ = INT64_MAX;     // the smallest of those, over the ranks that closed
  int64_t notice_in_ = 0;
  MPI_Request notice_request_ = MPI_REQUEST_NULL;
  std::string broken_;                    // the failure that ended the group, if any
  std::unique_ptr<ShmReducer> shm_;       // null: every all-reduce goes through MPI
};

}  // namespace ad::dist::detail
