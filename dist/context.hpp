// Context: MPI for the lifetime of main(). Every process of the job (a rank) creates one at
// the start; its destructor ends the group, so that no rank is left waiting for another.
#pragma once

#include <memory>

namespace ad::dist {

namespace detail {
class Worker;
}

/// MPI for the lifetime of main(): one per process (rank) of the job, created first.
class Context {
 public:
  /// Initializes MPI (unless the program already did) with thread level
  /// MPI_THREAD_SERIALIZED: tapegrad::dist makes every MPI call from its one background
  /// thread, never two at a time, so it needs no more and checks for no less. Unless
  /// OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set, each rank then computes on the cores it may
  /// run on divided by the ranks on its machine (at least 1), so that the ranks of one machine
  /// share its cores instead of oversubscribing them. Throws UsageError when a Context already
  /// exists or MPI offers a lower thread level.
  Context(int& argc, char**& argv);
  /// The same without the command line.
  Context();
  /// Ends the group: runs the queued operations, then every rank tells every other one how
  /// many collectives it issued. When all agree, MPI is finalized (if this Context started
  /// it). When they do not — a rank stopped early, by an exception or a different number of
  /// steps, or an operation failed — it ends the whole job with MPI_Abort (exit status 1), since
  /// MPI_Finalize would wait forever for a rank that waits for this one. A rank still waiting
  /// in an operation that this one never joined is told so, and throws PeerError.
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// This process's number, 0 … size() − 1; rank 0 is the one that prints and saves.
  int rank() const { return rank_; }
  /// The number of processes in the job.
  int size() const { return size_; }
  /// This process's number among the ranks on its machine.
  int local_rank() const { return local_rank_; }
  /// The number of ranks on this process's machine.
  int local_size() const { return local_size_; }
  /// Ends every rank of the job now, with exit status `code` (MPI_Abort).
  [[noreturn]] void abort(int code = 1);

  /// The Context of this process; UsageError when there is none.
  static Context& current();
  /// Whether a launcher (mpirun / mpiexec of Open MPI or MPICH, srun with PMI or PMIx)
  /// started this process, judged from the variables they set: lets a program that also runs
  /// on its own create a Context only when it was launched as part of a job.
  static bool launched_by_mpi();

  /// The background thread that makes the MPI calls (tapegrad::dist's own use).
  detail::Worker& worker() { return *worker_; }

 private:
  void start(int* argc, char*** argv);

  std::unique_ptr<detail::Worker> worker_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace ad::dist
