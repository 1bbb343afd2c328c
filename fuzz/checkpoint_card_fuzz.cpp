// The model card as the checkpoint readers meet it: for an even-sized input
// the input is the card ("info") of a checkpoint whose networks are
// stand-ins; for an odd size it is the model card (.json) beside an
// exported 3-class smallnet .pth. infer::load_checkpoint / load_model build
// the model the card names and load the weights into it.
#include <torch/torch.h>

#include "fuzz_support.h"
#include "semifer/infer/archive.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"

using namespace semifer;

namespace {

models::Classifier smallnet() {
  torch::manual_seed(0);
  return models::create_model("smallnet", models::ModelOptions{3});
}

const std::string& exported_pth() {
  static const std::string path = [] {
    const std::string p = fuzz::scratch_path("export/model.pth");
    models::export_weights(*smallnet(), p);
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string card(reinterpret_cast<const char*>(data), size);
  if (size % 2 == 1) {
    const std::string& pth = exported_pth();
    fuzz::write_scratch("export/model.json", card);
    fuzz::require(
        infer::model_card_path(pth) == fuzz::scratch_path("export/model.json"),
        "model_card_path moved");
    return fuzz::run_one([&] { infer::load_model(pth); });
  }
  // The networks are stand-ins of one tensor: a real smallnet is 2.7 MB a
  // write. The card still decides the model that is built before its
  // weights are found not to fit.
  const std::string path = fuzz::scratch_path("run/checkpoint_last.pt");
  torch::serialize::OutputArchive archive, a, b;
  a.write("weight", torch::zeros({1}));
  b.write("weight", torch::zeros({1}));
  infer::write_text(archive, infer::keys::kCard, card);
  archive.write(infer::keys::kStudent, a);
  archive.write(infer::keys::kTeacher, b);
  infer::write_archive(archive, path);
  fuzz::run_one([&] { infer::read_checkpoint_card(path); });
  return fuzz::run_one(
      [&] { infer::load_checkpoint(path, infer::Network::kStudent); });
}
