// The checkpoint readers over arbitrary file bytes: infer::is_checkpoint,
// read_checkpoint_card, load_checkpoint and load_model (zip integrity check,
// LibTorch's archive reader, the model card, the networks).
#include "fuzz_support.h"
#include "semifer/infer/checkpoint.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("checkpoint.pt", data, size);
  const bool is = infer::is_checkpoint(path);
  fuzz::run_one([&] { infer::read_checkpoint_card(path); });
  fuzz::run_one(
      [&] { infer::load_checkpoint(path, infer::Network::kTeacher); });
  return fuzz::run_one([&] {
    infer::load_model(path, infer::Network::kStudent);
    fuzz::require(is, "load_model read a file is_checkpoint rejects");
  });
}
