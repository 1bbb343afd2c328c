// io::load_state_dict over arbitrary file bytes: the zip container checks,
// LibTorch's zip reader and the unpickler. Every tensor read must be
// defined, CPU and contiguous and its memory readable.
#include <ATen/ATen.h>

#include "fuzz_support.h"
#include "semifer/io/state_dict.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("model.pth", data, size);
  return fuzz::run_one([&] {
    const io::StateDict state = io::load_state_dict(path);
    fuzz::require(state.keys.size() == state.tensors.size(),
                  "keys and tensors differ in length");
    for (const at::Tensor& t : state.tensors) {
      fuzz::require(t.defined() && t.is_cpu() && t.is_contiguous(),
                    "a tensor is undefined, not CPU or not contiguous");
      t.clone();  // reads every byte (ASan checks the storage)
    }
  });
}
