#include "dist/detail/mpi_communicator.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

#include "dist/detail/divide.hpp"

namespace ad::dist::detail {
namespace {

constexpr int kNoticeTag = 1;
// A wait polls (MPI moves shared-memory transfers on only while polled) and now and then lets
// the training thread, which may share the core, run.
constexpr uint64_t kPollsBeforeYield = 64;
constexpr int64_t kMostBytesPerReduce = int64_t{16} << 20;
// Per rank, in the shared window: small enough that a chunk's copies and reads for two ranks
// stay in a 32 MB last-level cache rather than go to memory (bench/README, data-parallel training).
constexpr int64_t kShmSlotBytes = int64_t{4} << 20;

// TAPEGRAD_DIST_SHM=0 keeps every all-reduce on MPI (the ranks agree on the answer anyway).
bool shm_wanted() {
  const char* v = std::getenv("TAPEGRAD_DIST_SHM");
  return !(v && std::string(v) == "0");
}

MPI_Datatype mpi_type(DType dtype) { return dtype == DType::f32 ? MPI_FLOAT : MPI_DOUBLE; }

// A long buffer goes as several operations of at most `most` elements, split the same way on
// every rank (MPI counts are int).
template <class F>
void in_chunks(int64_t count, int64_t most, F&& f) {
  int64_t done = 0;
  do {  // an empty buffer is still one operation, so every rank issues the same number
    const int64_t n = std::min<int64_t>(count - done, most);
    f(done, static_cast<int>(n));
    done += n;
  } while (done < count);
}

// inout := max(in, inout), where `in` holds the lower ranks' maximum: a NaN on any rank wins, as
// in the shared-memory path (MPI_MAX's comparison would drop a NaN held by `in`).
template <class T>
void max_with_nan(const T* in, T* inout, int n) {
  for (int i = 0; i < n; ++i) inout[i] = (inout[i] > in[i] || inout[i] != inout[i]) ? inout[i] : in[i];
}
void max_op(void* in, void* inout, int* n, MPI_Datatype* type) {
  if (*type == MPI_FLOAT)
    max_with_nan(static_cast<const float*>(in), static_cast<float*>(inout), *n);
  else
    max_with_nan(static_cast<const double*>(in), static_cast<double*>(inout), *n);
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm world) {
  MPI_Comm_dup(world, &data_);
  MPI_Comm_dup(world, &notices_);
  MPI_Comm_set_errhandler(data_, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(notices_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(data_, &rank_);
  MPI_Comm_size(data_, &size_);
  closed_after_.assign(static_cast<size_t>(size_), -1);
  MPI_Op_create(&max_op, /*commute=*/0, &max_);  // not commutative: combined in rank order
  shm_ = ShmReducer::create(data_, kShmSlotBytes, shm_wanted(), [this](int rc) { check(rc, "shared-memory window"); });
  post_notice_receive();
}

void MpiCommunicator::post_notice_receive() {
  check(MPI_Irecv(&notice_in_, 1, MPI_INT64_T, MPI_ANY_SOURCE, kNoticeTag, notices_, &notice_request_), "notice");
}

void MpiCommunicator::poll_notices() {
  for (;;) {
    int arrived = 0;
    MPI_Status status;
    check(MPI_Test(&notice_request_, &arrived, &status), "notice");
    if (!arrived) return;
    closed_after_[static_cast<size_t>(status.MPI_SOURCE)] = notice_in_;
    fewest_closed_ = std::min(fewest_closed_, notice_in_);
    post_notice_receive();
  }
}

void MpiCommunicator::check(int rc, const char* op) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  fail(fmt::format("{}: MPI reported an error on rank {}: {}", op, rank_, std::string(text, static_cast<size_t>(length))));
}

void MpiCommunicator::fail(const std::string& message) {
  if (broken_.empty()) broken_ = message;
  throw PeerError(message);
}

void MpiCommunicator::begin(const char* op) {
  if (!broken_.empty())
    throw PeerError(fmt::format("{}: the ranks can no longer exchange values; earlier: {}", op, broken_));
  ++issued_;
}

// Polls the operation and the closing notices. A rank that closed after fewer collectives than
// this one has issued will never join this operation.
void MpiCommunicator::wait(MPI_Request& req, const char* op) {
  for (uint64_t polls = 1;; ++polls) {
    int done = 0;
    check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), op);
    if (done) return;
    still_waiting(op, polls);
  }
}

// One poll of a wait that has not ended: throws when it never will.
void MpiCommunicator::still_waiting(const char* op, uint64_t polls) {
  poll_notices();
  if (fewest_closed_ < issued_) {
    const auto gone = std::find(closed_after_.begin(), closed_after_.end(), fewest_closed_) - closed_after_.begin();
    fail(fmt::format("{}: rank {} has ended after {} collective operations, while rank {} waits for it in operation {}; "
                     "a rank that stops early (an exception, a different number of steps) leaves the others unable "
                     "to go on",
                     op, gone, fewest_closed_, rank_, issued_));
  }
  if (interrupted()) throw Interrupted{};
  if (polls % kPollsBeforeYield == 0) sched_yield();  // the training thread may need this core
}

// At most 16 MB per all-reduce: Open MPI allocates a temporary the size of the message for each
// call, and glibc maps one above 32 MB fresh every time, so a larger message pays a page fault
// per 4 KB on every call (eleven times slower for 84 MB, bench/README, data-parallel training).
void MpiCommunicator::all_reduce(const void* send, void* recv, int64_t count, DType dtype, ReduceOp op) {
  const size_t width = dtype_size(dtype);
  if (reduces_pieces_where_they_lie(dtype)) {
    const ShmReducer::Run whole{send, recv, count};
    shm_all_reduce({&whole, 1}, count, dtype, op);
    return;
  }
  in_chunks(count, kMostBytesPerReduce / static_cast<int64_t>(width), [&](int64_t offset, int n) {
    begin("all_reduce");
    MPI_Request req;
    const void* from = send == recv ? MPI_IN_PLACE : static_cast<const char*>(send) + offset * width;
    void* to = static_cast<char*>(recv) + offset * width;
    check(MPI_Iallreduce(from, to, n, mpi_type(dtype), op == ReduceOp::Max ? max_ : MPI_SUM, data_, &req),
          "all_reduce");
    wait(req, "all_reduce");
    if (op != ReduceOp::Mean) return;
    if (dtype == DType::f32)
      divide_by_ranks(static_cast<float*>(to), n, size_);
    else
      divide_by_ranks(static_cast<double*>(to), n, size_);
  });
}

void MpiCommunicator::all_reduce_pieces(const std::vector<Piece>& pieces, void* scratch, DType dtype, ReduceOp op) {
  if (!reduces_pieces_where_they_lie(dtype)) {
    Communicator::all_reduce_pieces(pieces, scratch, dtype, op);
    return;
  }
  std::vector<ShmReducer::Run> runs;
  int64_t count = 0;
  for (const Piece& p : pieces) runs.push_back({p.data, p.data, p.count}), count += p.count;
  shm_all_reduce(runs, count, dtype, op);
}

void MpiCommunicator::shm_all_reduce(std::span<const ShmReducer::Run> runs, int64_t count, DType dtype, ReduceOp op) {
  in_chunks(count, shm_->chunk_elements(dtype), [&](int64_t offset, int n) {
    begin("all_reduce");
    shm_->reduce(runs, offset, n, dtype, op, [this](uint64_t polls) { still_waiting("all_reduce", polls); });
  });
}

void MpiCommunicator::broadcast(void* data, int64_t bytes, int root) {
  in_chunks(bytes, INT_MAX, [&](int64_t offset, int n) {
    begin("broadcast");
    MPI_Request req;
    check(MPI_Ibcast(static_cast<char*>(data) + offset, n, MPI_BYTE, root, data_, &req), "broadcast");
    wait(req, "broadcast");
  });
}

std::vector<std::string> MpiCommunicator::all_gather(const std::string& mine) {
  std::vector<int64_t> lengths(static_cast<size_t>(size_));
  const auto my_length = static_cast<int64_t>(mine.size());
  begin("all_gather");
  MPI_Request req;
  check(MPI_Iallgather(&my_length, 1, MPI_INT64_T, lengths.data(), 1, MPI_INT64_T, data_, &req), "all_gather");
  wait(req, "all_gather");
  std::vector<int> counts(lengths.size()), offsets(lengths.size());
  int64_t total = 0;
  for (size_t r = 0; r < lengths.size(); ++r) {
    if (total + lengths[r] > INT_MAX) fail("all_gather: more than 2 GB in all");
    counts[r] = static_cast<int>(lengths[r]), offsets[r] = static_cast<int>(total), total += lengths[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  begin("all_gather");
  check(MPI_Iallgatherv(mine.data(), static_cast<int>(my_length), MPI_CHAR, all.data(), counts.data(), offsets.data(),
                        MPI_CHAR, data_, &req),
        "all_gather");
  wait(req, "all_gather");
  std::vector<std::string> out;
  for (size_t r = 0; r < lengths.size(); ++r) out.push_back(all.substr(static_cast<size_t>(offsets[r]), counts[r]));
  return out;
}

// Tells every other rank how many collectives this one issued, then waits to hear the same
// from all of them. A rank still waiting in an operation learns from the notice that this one
// will not join it, so nobody waits forever; the counts agree exactly when the ranks ended in
// step, and only then may MPI be finalized (MPI_Finalize would wait for the stragglers).
bool MpiCommunicator::close() {
  if (!broken_.empty()) return false;
  const int64_t mine = issued_;
  std::vector<MPI_Request> sends;
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    sends.emplace_back();
    check(MPI_Isend(&mine, 1, MPI_INT64_T, r, kNoticeTag, notices_, &sends.back()), "close");
  }
  closed_after_[static_cast<size_t>(rank_)] = mine;
  while (std::count(closed_after_.begin(), closed_after_.end(), -1) > 0) {
    poll_notices();
    if (interrupted()) throw Interrupted{};
  }
  MPI_Cancel(&notice_request_);
  MPI_Wait(&notice_request_, MPI_STATUS_IGNORE);
  MPI_Waitall(static_cast<int>(sends.size()), sends.data(), MPI_STATUSES_IGNORE);
  const bool in_step = std::all_of(closed_after_.begin(), closed_after_.end(), [&](int64_t n) { return n == mine; });
  if (in_step) {
    if (shm_) shm_->free();
    MPI_Op_free(&max_);
    MPI_Comm_free(&data_);
    MPI_Comm_free(&notices_);
  }
  return in_step;
}

void MpiCommunicator::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest if it did
}

}  // namespace ad::dist::detail
