#include "common/ranks.hpp"

#include <cstdio>
#include <optional>

#ifdef TAPEGRAD_EXAMPLES_DIST
#include <dist/dist.hpp>
#endif

namespace ex {

#ifdef TAPEGRAD_EXAMPLES_DIST

struct Ranks::State {
  std::optional<ad::dist::Context> context;
  std::unique_ptr<ad::dist::DataParallel> dp;
};

Ranks::Ranks(int& argc, char**& argv) : state_(std::make_unique<State>()) {
  if (!ad::dist::Context::launched_by_mpi()) return;
  state_->context.emplace(argc, argv);
  rank_ = state_->context->rank(), size_ = state_->context->size();
  if (rank_ != 0) std::freopen("/dev/null", "w", stdout);  // NOLINT: rank 0 speaks for all
}

Ranks::~Ranks() = default;

void Ranks::share(ad::nn::Module& net) {
  if (state_->context) state_->dp = std::make_unique<ad::dist::DataParallel>(net.named_parameters());
}

void Ranks::synchronize() {
  if (state_->dp) state_->dp->synchronize();
}

double Ranks::sum(double value) const { return state_->context ? ad::dist::all_reduce(value) : value; }

double Ranks::accuracy(const ad::Tensor& A, const std::vector<int64_t>& labels) const {
  return state_->context ? ad::dist::accuracy(A, labels) : ad::nn::accuracy(A, labels);
}

#else  // built without tapegrad::dist: always one process

struct Ranks::State {};
Ranks::Ranks(int&, char**&) {}
Ranks::~Ranks() = default;
void Ranks::share(ad::nn::Module&) {}
void Ranks::synchronize() {}
double Ranks::sum(double value) const { return value; }
double Ranks::accuracy(const ad::Tensor& A, const std::vector<int64_t>& labels) const {
  return ad::nn::accuracy(A, labels);
}

#endif

}  // namespace ex
