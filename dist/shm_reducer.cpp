#include "dist/detail/shm_reducer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "dist/detail/divide.hpp"

namespace ad::dist::detail {
namespace {

// The handshake counters sit in the first page of each rank's part of the window, the slot
// after it; both aligned to a cache line.
constexpr int64_t kLine = 64;
constexpr int64_t kHeaderBytes = 4096;
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "the handshake needs lock-free 64-bit atomics");

char* align_up(char* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  return p + ((kLine - at % kLine) % kLine);
}

// The last rank's values combined with the others' (in `acc`), written to both outputs in the
// same pass.
template <class T, class F>
void finish(const T* acc, const T* last, T* out_a, T* out_b, int64_t m, F&& f) {
  for (int64_t j = 0; j < m; ++j) {
    const T v = f(acc[j], last[j]);
    out_a[j] = v;
    out_b[j] = v;
  }
}

// Max that lets a NaN through from either side; on a tie, the lower rank's value.
template <class T>
T max_with_nan(T acc, T x) {
  return (x > acc || x != x) ? x : acc;
}

// out_a[i] = out_b[i] = op(x[0][i], x[1][i], …, x[ranks − 1][i]), combined in rank order, a block
// at a time so that the accumulator of more than two ranks stays in L1. Mean divides the sum
// once, as divide_by_ranks does.
template <class T>
void combine(const T* const* x, int ranks, T* out_a, T* out_b, int64_t n, ReduceOp op) {
  constexpr int64_t kBlock = 1024;
  T acc[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    const T* so_far = x[0] + b;
    if (ranks > 2) {
      std::copy_n(so_far, m, acc);
      for (int q = 1; q < ranks - 1; ++q) {
        const T* xq = x[q] + b;
        if (op == ReduceOp::Max) {
          for (int64_t j = 0; j < m; ++j) acc[j] = max_with_nan(acc[j], xq[j]);
        } else {
          for (int64_t j = 0; j < m; ++j) acc[j] += xq[j];
        }
      }
      so_far = acc;
    }
    const T* last = x[ranks - 1] + b;
    if (op == ReduceOp::Max)
      finish(so_far, last, out_a + b, out_b + b, m, [](T a, T v) { return max_with_nan(a, v); });
    else if (op == ReduceOp::Sum)
      finish(so_far, last, out_a + b, out_b + b, m, [](T a, T v) { return a + v; });
    else
      with_division_by_ranks<T>(ranks, [&](auto divide) {
        finish(so_far, last, out_a + b, out_b + b, m, [divide](T a, T v) { return divide(a + v); });
      });
  }
}

// f(send, recv, n, at) for the parts of elements [begin, begin + length) of `runs` laid end to
// end, in order: n > 0 elements in one run, `at` elements after `begin`.
template <class T, class F>
void for_each_part(std::span<const ShmReducer::Run> runs, int64_t begin, int64_t length, F&& f) {
  int64_t start = 0, at = 0;  // start: where the current run begins
  for (const ShmReducer::Run& run : runs) {
    if (at == length) return;
    const int64_t from = std::max(begin + at, start) - start, end = std::min(begin + length, start + run.count) - start;
    if (from < end) {
      f(static_cast<const T*>(run.send) + from, static_cast<T*>(run.recv) + from, end - from, at);
      at += end - from;
    }
    start += run.count;
  }
}

template <class T>
void copy_elements(const T* from, int64_t n, T* to) {
  std::memcpy(to, from, static_cast<size_t>(n) * sizeof(T));
}

}  // namespace

std::unique_ptr<ShmReducer> ShmReducer::create(MPI_Comm comm, int64_t slot_bytes, bool wanted,
                                               const std::function<void(int rc)>& check) {
  int rank = 0, size = 1, local_size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  MPI_Comm local;
  check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local));
  MPI_Comm_size(local, &local_size);
  int usable = wanted && size > 1 && local_size == size;
  check(MPI_Allreduce(MPI_IN_PLACE, &usable, 1, MPI_INT, MPI_LAND, comm));  // one answer everywhere
  if (!usable) {
    MPI_Comm_free(&local);
    return nullptr;
  }
  std::unique_ptr<ShmReducer> r(new ShmReducer);
  r->comm_ = local;
  MPI_Comm_set_errhandler(local, MPI_ERRORS_RETURN);
  MPI_Comm_rank(local, &r->rank_);  // the key kept the order: the same rank as in `comm`
  r->size_ = size;
  r->slice_bytes_ = std::max(kLine, slot_bytes / size / kLine * kLine);
  // Each rank's part in its own pages (placed near the rank that writes it, on NUMA machines).
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "true");
  char* mine = nullptr;
  const int rc = MPI_Win_allocate_shared(kHeaderBytes + size * r->slice_bytes_ + kLine, 1, info, local, &mine, &r->win_);
  MPI_Info_free(&info);
  check(rc);
  for (int q = 0; q < size; ++q) {
    MPI_Aint bytes = 0;
    int unit = 0;
    char* base = nullptr;
    check(MPI_Win_shared_query(r->win_, q, &bytes, &unit, &base));
    r->arrived_.push_back(reinterpret_cast<uint64_t*>(align_up(base)));
    r->slot_.push_back(align_up(base + kHeaderBytes));
  }
  *r->arrived_[static_cast<size_t>(r->rank_)] = 0;
  // A passive-target epoch for the whole lifetime: loads and stores, with MPI_Win_sync as the
  // memory barrier the unified model asks for around each handshake.
  check(MPI_Win_lock_all(MPI_MODE_NOCHECK, r->win_));
  MPI_Win_sync(r->win_);
  check(MPI_Barrier(local));
  MPI_Win_sync(r->win_);
  return r;
}

ShmReducer::~ShmReducer() = default;  // free() is collective: without it, the job is being aborted

void ShmReducer::free() {
  MPI_Win_unlock_all(win_);
  MPI_Win_free(&win_);
  MPI_Comm_free(&comm_);
}

// Counter r counts the handshakes rank r has reached. A rank reaches handshake h + 1 only after
// seeing every counter at h, so no counter runs more than one ahead, and ≥ h means "there".
void ShmReducer::handshake(const Waiting& waiting) {
  ++handshakes_;
  MPI_Win_sync(win_);
  std::atomic_ref<uint64_t>(*arrived_[static_cast<size_t>(rank_)]).store(handshakes_, std::memory_order_release);
  for (int q = 0; q < size_; ++q) {
    if (q == rank_) continue;
    const std::atomic_ref<uint64_t> theirs(*arrived_[static_cast<size_t>(q)]);
    for (uint64_t polls = 1; theirs.load(std::memory_order_acquire) < handshakes_; ++polls) waiting(polls);
  }
  MPI_Win_sync(win_);
}

void ShmReducer::reduce(std::span<const Run> runs, int64_t offset, int64_t count, DType dtype, ReduceOp op,
                        const Waiting& waiting) {
  if (dtype == DType::f32)
    reduce_typed<float>(runs, offset, count, op, waiting);
  else
    reduce_typed<double>(runs, offset, count, op, waiting);
}

template <class T>
void ShmReducer::reduce_typed(std::span<const Run> runs, int64_t offset, int64_t count, ReduceOp op,
                              const Waiting& waiting) {
  const int64_t per_slice = (count + size_ - 1) / size_;
  auto begin = [&](int s) { return std::min(count, per_slice * s); };
  auto length = [&](int s) { return begin(s + 1) - begin(s); };
  auto slice = [&](int owner, int s) { return reinterpret_cast<T*>(slot_[static_cast<size_t>(owner)] + s * slice_bytes_); };
  // f(send, recv, n, at): the parts of slice s in the runs, `at` elements into the slice.
  auto parts = [&](int s, auto&& f) {
    for_each_part<T>(runs, offset + begin(s), length(s), f);
  };
  for (int s = 0; s < size_; ++s)
    if (s != rank_)
      parts(s, [&](const T* send, T*, int64_t n, int64_t at) { copy_elements(send, n, slice(rank_, s) + at); });
  handshake(waiting);
  std::vector<const T*> x(static_cast<size_t>(size_));
  parts(rank_, [&](const T* send, T* recv, int64_t n, int64_t at) {
    for (int q = 0; q < size_; ++q) x[static_cast<size_t>(q)] = q == rank_ ? send : slice(q, rank_) + at;
    combine(x.data(), size_, slice(rank_, rank_) + at, recv, n, op);
  });
  handshake(waiting);
  for (int s = 0; s < size_; ++s)
    if (s != rank_) parts(s, [&](const T*, T* recv, int64_t n, int64_t at) { copy_elements(slice(s, s) + at, n, recv); });
}

}  // namespace ad::dist::detail
