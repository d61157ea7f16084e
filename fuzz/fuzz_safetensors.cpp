// libFuzzer target: any bytes given to the safetensors reader, then to load() of a 2-4-1
// network (with and without an Adam state), either load cleanly or throw ad::Error. Anything
// else — a crash, a sanitizer report, another exception type, a leak — is a finding.
#include <cstdint>
#include <nn/nn.hpp>

#include "fuzz_common.hpp"

namespace {

ad::nn::Sequential& net() {
  static ad::nn::Sequential n = [] {
    ad::nn::Sequential s;
    s.add(ad::nn::Linear(2, 4)).add(ad::nn::Tanh()).add(ad::nn::Linear(4, 1));
    return s;
  }();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::MemFile file(data, size);
  try {
    ad::nn::SafetensorsFile f = ad::nn::read_safetensors(file.path());
    for (const auto& [name, t] : f.tensors)  // every tensor handed out is well formed
      if (t.numel() < 0 || static_cast<size_t>(t.numel()) * ad::dtype_size(t.dtype()) > size) __builtin_trap();
  } catch (const ad::Error&) {
  }
  try {
    ad::nn::load(net(), file.path());
  } catch (const ad::Error&) {
  }
  try {
    ad::optim::Adam adam(net().parameters(), 0.1);
    ad::nn::load(net(), adam, file.path());
  } catch (const ad::Error&) {
  }
  return 0;
}
