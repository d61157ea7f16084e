// libFuzzer target: any bytes (plain or gzip) given to the IDX readers either give a tensor of
// the announced size or throw ad::Error: no crash, no overflow, no allocation the file cannot
// back.
#include <cstdint>
#include <nn/nn.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::MemFile file(data, size);
  const int64_t limit = size > 0 && (data[size - 1] & 1) ? data[size - 1] >> 1 : -1;
  try {
    ad::Tensor X = ad::nn::read_idx_images(file.path(), limit);
    if (X.dim() != 2 || X.size(0) <= 0 || X.size(1) < 0) __builtin_trap();
    for (double v : X.to_vector())
      if (!(v >= 0.0 && v <= 1.0)) __builtin_trap();
  } catch (const ad::Error&) {
  }
  try {
    for (int64_t label : ad::nn::read_idx_labels(file.path(), 10, limit))
      if (label < 0 || label >= 10) __builtin_trap();
  } catch (const ad::Error&) {
  }
  return 0;
}
