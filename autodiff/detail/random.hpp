// Internal: this thread's random generator (behind ad::manual_seed, rand, randn, random_u64).
#pragma once

#include <random>

namespace ad::detail {

/// The generator every random factory of this thread draws from.
std::mt19937_64& generator();

}  // namespace ad::detail
