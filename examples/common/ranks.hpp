// Ranks: data-parallel training for the examples. Started by mpirun (and built with
// tapegrad::dist), the program is one of several ranks: each trains the same network on its
// share of every mini-batch, the gradients are averaged across ranks (ad::dist::DataParallel),
// and rank 0 alone prints and writes the report. Started on its own it is rank 0 of 1, and every
// call below does nothing or returns its argument.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <nn/nn.hpp>

namespace ex {

class Ranks {
 public:
  /// Starts MPI when a launcher started this process; on ranks other than 0, silences stdout.
  Ranks(int& argc, char**& argv);
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// Rank 0: the one that prints, saves and writes the report.
  bool leader() const { return rank_ == 0; }

  /// From now on `net`'s gradients are averaged across ranks; rank 0's weights are copied to
  /// every rank. Call once, before the first backward().
  void share(ad::nn::Module& net);
  /// After backward(): waits until every gradient holds the mean over ranks.
  void synchronize();
  /// `value` summed over ranks.
  double sum(double value) const;
  /// The accuracy over every rank's columns together (each passes its share of a data set).
  double accuracy(const ad::Tensor& A, const std::vector<int64_t>& labels) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  int rank_ = 0, size_ = 1;
};

}  // namespace ex
