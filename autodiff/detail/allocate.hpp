// Internal (not installed): the caching allocator's blocks (autodiff/allocator.cpp), for tensor
// storage, tape records and kernels' scratch space.
#pragma once

#include <cstddef>

namespace ad::detail {

/// A block of at least `bytes` bytes, 64-byte aligned; never null (throws std::bad_alloc).
/// Blocks from 4 MB up start on a 2 MB boundary and are offered to transparent huge pages
/// (unless TAPEGRAD_HUGE_PAGES=0).
void* allocate(size_t bytes);
/// Gives a block from allocate() back; `bytes` is the size it was asked with.
void deallocate(void* p, size_t bytes);

}  // namespace ad::detail
