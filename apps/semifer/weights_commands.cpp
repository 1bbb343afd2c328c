#include <iostream>
#include <memory>
#include <sstream>

#include "backends/inspect.h"
#include "commands.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/io/state_dict.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/util/error.h"

namespace semifer::app {

namespace {

struct WeightsFlags {
  std::string file;
  std::string model;
  std::string out;
  int64_t num_classes = 8;
  bool all = false;
  /// import: a classifier of another size is replaced
  bool allow_new_head = false;
  /// export from a training checkpoint: network A or B
  std::string network = "B";
};

// Loads `flags.file` into a fresh `flags.model` with `flags.num_classes`
// outputs and writes the model's weights to `flags.out`; import and export
// differ only in whether a replaced classifier is acceptable.
models::LoadReport convert(const WeightsFlags& flags) {
  models::Classifier model = models::create_model(
      flags.model, models::ModelOptions{flags.num_classes});
  if (infer::is_checkpoint(flags.file)) {
    infer::load_network(*model, flags.file,
                        flags.network == "A" ? infer::Network::kStudent
                                             : infer::Network::kTeacher);
    models::export_weights(*model, flags.out);
    // The model card says how to feed the exported network (Recognizer).
    infer::write_model_card(infer::model_card_path(flags.out),
                            infer::read_checkpoint_card(flags.file));
    models::LoadReport report;
    report.loaded = models::state_dict(*model).keys;
    return report;
  }
  const models::LoadReport report = models::import_weights(*model, flags.file);
  SEMIFER_CHECK(report.replaced.empty() || flags.allow_new_head, flags.file,
                ": the classifier has another class count than --num-classes ",
                flags.num_classes, "; nothing written to ", flags.out);
  models::export_weights(*model, flags.out);
  return report;
}

std::string names() {
  std::string s;
  for (const auto& n : models::model_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void add_conversion_flags(CLI::App* cmd, WeightsFlags& f, const char* what) {
  cmd->add_option("file", f.file, what)->required();
  cmd->add_option("--model", f.model, "Architecture")->required();
  cmd->add_option("--num-classes", f.num_classes, "Output classes")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", f.out, "Output .pth")->required();
}

}  // namespace

void add_weights_commands(CLI::App& app) {
  CLI::App* weights = app.add_subcommand(
      "weights",
      "Move weights between torchvision .pth files and semifer "
      "models (models: " +
          names() + ")");
  weights->require_subcommand(1);

  auto f = std::make_shared<WeightsFlags>();
  CLI::App* inspect = weights->add_subcommand(
      "inspect", "List a .pth state_dict's tensors and the zoo models it fits");
  inspect->add_option("file", f->file, "A .pth file written by torch.save")
      ->required();
  inspect->add_flag("--all", f->all,
                    "List every tensor, not only the first 20");
  inspect->footer(
      "Example:\n  semifer weights inspect "
      "efficientnet_b0_rwightman-3dd342df.pth");
  inspect->callback([f] {
    const io::StateDict state = io::load_state_dict(f->file);
    const models::WeightsInfo info = models::inspect_weights(state);
    std::cout << f->file << ": " << info.tensors << " tensors, "
              << info.parameters << " floating-point values\n";
    for (size_t i = 0; i < state.size(); ++i) {
      if (!f->all && i == 20) {
        std::cout << "  ... (" << state.size() - 20
                  << " more; --all lists them)\n";
        break;
      }
      std::ostringstream shape;
      shape << state.tensors[i].sizes();
      std::cout << "  " << state.keys[i] << " " << shape.str() << " "
                << state.tensors[i].dtype() << "\n";
    }
    if (info.matches.empty()) std::cout << "matches no zoo model\n";
    for (const auto& m : info.matches) std::cout << "matches " << m << "\n";
  });

  auto g = std::make_shared<WeightsFlags>();
  g->allow_new_head = true;
  CLI::App* import = weights->add_subcommand(
      "import",
      "Load torchvision weights (e.g. ImageNet) into a zoo model with "
      "--num-classes outputs and save them as the model's weights file; the "
      "classifier is re-initialised when the class count differs");
  add_conversion_flags(import, *g, "torchvision .pth state_dict");
  import->footer(
      "Example:\n  semifer weights import "
      "efficientnet_b0_rwightman-3dd342df.pth "
      "--model efficientnet_b0 --num-classes 8 --out b0_init.pth");
  import->callback([g] {
    const models::LoadReport report = convert(*g);
  std::cout << g->file << " -> " << g->model << " (" << g->num_classes
            << " classes): " << report.summary() << "\nwrote " << g->out
            << std::endl;
});

auto h = std::make_shared<WeightsFlags>();
CLI::App* exp = weights->add_subcommand(
    "export",
    "Write a model's weights as a .pth that torchvision's "
    "models.<arch>(num_classes=N).load_state_dict(torch.load(path)) accepts; "
    "from a training checkpoint, also its model card (OUT with .json: "
    "classes, input size, normalisation) for semifer::Recognizer");
add_conversion_flags(exp, *h,
                     "semifer weights (.pth) or a training checkpoint");
exp->add_option("--network", h->network,
                "From a training checkpoint: A (trained) or B (EMA teacher)")
    ->check(CLI::IsMember({"A", "B"}));
exp->footer(
    "Example:\n  semifer weights export runs/fer/checkpoint_best.pt --model "
    "efficientnet_b0 --num-classes 8 --network B --out for_python.pth");
exp->callback([h] {
  const models::LoadReport report = convert(*h);
  std::cout << "wrote " << h->out << " (" << report.loaded.size()
            << " tensors, " << h->model << ", " << h->num_classes
            << " classes)";
  if (infer::is_checkpoint(h->file))
    std::cout << " and its model card " << infer::model_card_path(h->out);
  std::cout << std::endl;
});
}  // namespace semifer::app

}  // namespace semifer::app
