#include "dist/communicator.hpp"

#include <fmt/format.h>

#include <cstring>

namespace ad::dist {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Mean: return "mean";
    default: return "max";
  }
}

void Communicator::all_reduce_pieces(const std::vector<Piece>& pieces, void* scratch, DType dtype, ReduceOp op) {
  if (pieces.size() == 1) {
    all_reduce(pieces[0].data, pieces[0].data, pieces[0].count, dtype, op);
    return;
  }
  if (scratch == nullptr)
    throw UsageError(fmt::format("all_reduce_pieces: {} pieces and no scratch buffer to gather them in; this transport "
                                 "reduces them where they lie only when reduces_pieces_where_they_lie({}) is true",
                                 pieces.size(), dtype_name(dtype)));
  const size_t width = dtype_size(dtype);
  auto* packed = static_cast<char*>(scratch);
  int64_t count = 0;
  for (const Piece& p : pieces) {  // an empty piece's pointer may be null, which memcpy may not be given
    if (p.count > 0) std::memcpy(packed + count * width, p.data, static_cast<size_t>(p.count) * width);
    count += p.count;
  }
  all_reduce(packed, packed, count, dtype, op);
  count = 0;
  for (const Piece& p : pieces) {
    if (p.count > 0) std::memcpy(p.data, packed + count * width, static_cast<size_t>(p.count) * width);
    count += p.count;
  }
}

}  // namespace ad::dist
