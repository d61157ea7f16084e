#include "dist/context.hpp"

#include <fmt/format.h>
#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "autodiff/tensor.hpp"
#include "dist/detail/mpi_communicator.hpp"
#include "dist/detail/worker.hpp"

namespace ad::dist {
namespace {

Context* g_current = nullptr;

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    default: return "MPI_THREAD_MULTIPLE";
  }
}

// The cores this process may run on (a launcher that binds ranks to cores restricts them).
int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Each rank computes on its share of the machine, unless the user chose a thread count.
void share_cores(int local_size) {
  if (std::getenv("OPENBLAS_NUM_THREADS") || std::getenv("OMP_NUM_THREADS")) return;
  const int machine = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ad::set_num_threads(std::max(1, std::min(usable_cores(), machine / std::max(1, local_size))));
}

}  // namespace

Context::Context(int& argc, char**& argv) { start(&argc, &argv); }
Context::Context() { start(nullptr, nullptr); }

void Context::start(int* argc, char*** argv) {
  if (g_current) throw UsageError("dist::Context: one already exists in this process; create one, at the start of main");
  int initialized = 0, provided = MPI_THREAD_SINGLE;
  MPI_Initialized(&initialized);
  if (initialized) {
    MPI_Query_thread(&provided);
  } else {
    MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    owns_mpi_ = true;
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    if (owns_mpi_) MPI_Finalize();
    throw UsageError(fmt::format("dist::Context: MPI offers thread level {}, but tapegrad::dist needs "
                                 "MPI_THREAD_SERIALIZED (its background thread makes the MPI calls){}",
                                 thread_level_name(provided),
                                 initialized ? "; initialize MPI with MPI_Init_thread asking for it" : ""));
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &local_rank_);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_free(&local);
  share_cores(local_size_);
  worker_ = std::make_unique<detail::Worker>(std::make_unique<detail::MpiCommunicator>(MPI_COMM_WORLD));
  g_current = this;
}

Context::~Context() {
  g_current = nullptr;
  if (!worker_->close()) {
    std::fprintf(stderr,
                 "tapegrad::dist: rank %d: the ranks did not end in step (one stopped early, or an operation "
                 "failed); aborting the job so that no rank waits forever\n",
                 rank_);
    std::fflush(stderr);
    worker_->abort(1);
  }
  worker_.reset();
  if (owns_mpi_) MPI_Finalize();
}

void Context::abort(int code) { worker_->abort(code); }

Context& Context::current() {
  if (!g_current)
    throw UsageError("dist: no ad::dist::Context exists; create one at the start of main (ad::dist::Context ctx(argc, "
                     "argv);) and keep it until the end");
  return *g_current;
}

bool Context::launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

}  // namespace ad::dist
