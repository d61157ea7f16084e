// Internal: all-reduce through an MPI-3 shared-memory window, for a group whose ranks all run
// on one machine. Open MPI's shared-memory transport moves a message through small fragments
// that the sender copies in and the receiver copies out, while both poll; here each rank copies
// its values once into its slot of the window, and reduces one slice of the chunk, reading the
// others' slots directly:
//
//   slot[r] holds, at slice s (s ≠ r), rank r's values of slice s; at slice r, the result.
//   1. copy in:   slot[r].slice[s] := mine.slice[s]            for s ≠ r
//   2. handshake: every rank has copied in
//   3. reduce:    out.slice[r] := slot[r].slice[r] := op(x_0, x_1, …, x_{N−1})   (slice r only;
//                 x_r read from my own buffer, the others from slot[q].slice[r], in rank order)
//   4. handshake: every slice is reduced
//   5. copy out:  out.slice[s] := slot[s].slice[s]             for s ≠ r
//
// Per rank that reads 3 − 2/N and writes 2 buffer sizes (2 and 2 for two ranks), with no
// fragments to poll. "mine" and "out" may be several runs (a bucket's gradients where they lie),
// read and written part by part. Each element
// is reduced by one rank, in rank order, so every rank gets the same bits whatever the timing.
// The next chunk's copy-in may start right after step 5: it writes only slices s ≠ r of its own
// slot, which nobody reads after handshake 4, and step 3 of the next chunk waits for handshake 2.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "dist/communicator.hpp"

namespace ad::dist::detail {

class ShmReducer {
 public:
  /// Called on every poll of a handshake with the number of polls so far; throws to give up
  /// (a peer that ended, an interrupt).
  using Waiting = std::function<void(uint64_t polls)>;

  /// Collective over `comm`, on every rank alike: a reducer with slots of `slot_bytes` per rank
  /// when `wanted` on every rank, the group has more than one rank and all of them share one
  /// machine; otherwise nullptr. Errors go to `check` (as MPI error codes).
  static std::unique_ptr<ShmReducer> create(MPI_Comm comm, int64_t slot_bytes, bool wanted,
                                            const std::function<void(int rc)>& check);
  ~ShmReducer();
  ShmReducer(const ShmReducer&) = delete;
  ShmReducer& operator=(const ShmReducer&) = delete;

  /// The most elements of `dtype` one call of reduce() takes.
  int64_t chunk_elements(DType dtype) const { return slice_bytes_ / static_cast<int64_t>(dtype_size(dtype)) * size_; }
  /// `count` elements read at `send` and written at `recv` (the same address: in place).
  struct Run {
    const void* send;
    void* recv;
    int64_t count;
  };
  /// recv := op over ranks of send, for elements [offset, offset + count) of `runs` laid end to
  /// end, count ≤ chunk_elements(dtype); dtype f32 or f64. Every rank calls it with the same
  /// counts, dtype and op.
  void reduce(std::span<const Run> runs, int64_t offset, int64_t count, DType dtype, ReduceOp op,
              const Waiting& waiting);
  /// Frees the window; collective, after the last reduce() of every rank.
  void free();

 private:
  ShmReducer() = default;
  void handshake(const Waiting& waiting);
  template <class T>
  void reduce_typed(std::span<const Run> runs, int64_t offset, int64_t count, ReduceOp op, const Waiting& waiting);

  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int rank_ = 0, size_ = 1;
  int64_t slice_bytes_ = 0;
  std::vector<char*> slot_;         // per rank: its slot, `size_` slices of slice_bytes_
  std::vector<uint64_t*> arrived_;  // per rank: the number of handshakes it has reached
  uint64_t handshakes_ = 0;
};

}  // namespace ad::dist::detail
