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
  int64_t num_classes = 0;  ///< 0: the checkpoint's, or 8
  bool all = false;
  /// import: a classifier of another size is replaced
  bool allow_new_head = false;
  /// export from a training checkpoint: network A or B
  std::string network = "B";
};

std::string names() {
  std::string s;
  for (const auto& n : models::model_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Loads `flags.file` into a fresh `flags.model` with `flags.num_classes`
// outputs and writes the model's weights to `flags.out`; import and export
// differ only in whether a replaced classifier is acceptable.
models::LoadReport convert(WeightsFlags& flags) {
  if (infer::is_checkpoint(flags.file)) {
    // The checkpoint's model card names the architecture and the classes.
    infer::LoadedModel loaded =
        infer::load_model(flags.file, infer::network_named(flags.network));
    const auto classes = static_cast<int64_t>(loaded.card.classes.size());
    SEMIFER_CHECK(flags.model.empty() || flags.model == loaded.card.model,
                  flags.file, " holds a ", loaded.card.model, ", not --model ",
                  flags.model);
    SEMIFER_CHECK(flags.num_classes <= 0 || flags.num_classes == classes,
                  flags.file, " has ", classes, " classes, not --num-classes ",
                  flags.num_classes);
    flags.model = loaded.card.model;
    flags.num_classes = classes;
    models::Classifier model = loaded.model;
    models::export_weights(*model, flags.out);
    // The model card says how to feed the exported network (Recognizer).
    infer::write_model_card(infer::model_card_path(flags.out), loaded.card);
    models::LoadReport report;
    report.loaded = models::state_dict(*model).keys;
    return report;
  }
  SEMIFER_CHECK(!flags.model.empty(), flags.file,
                " is a state_dict: --model names its architecture (", names(),
                ")");
  if (flags.num_classes <= 0) flags.num_classes = 8;
  models::Classifier model = models::create_model(
      flags.model, models::ModelOptions{flags.num_classes});
  const models::LoadReport report = models::import_weights(*model, flags.file);
  SEMIFER_CHECK(report.replaced.empty() || flags.allow_new_head, flags.file,
                ": the classifier has another class count than --num-classes ",
                flags.num_classes, "; nothing written to ", flags.out);
  models::export_weights(*model, flags.out);
  return report;
}

void add_conversion_flags(CLI::App* cmd, WeightsFlags& f, const char* what,
                          bool from_checkpoint) {
  cmd->add_option("file", f.file, what)->required();
  auto* model = cmd->add_option(
      "--model", f.model,
      from_checkpoint ? "Architecture (of a .pth; a checkpoint's model card "
                        "names its own)"
                      : "Architecture");
  if (!from_checkpoint) model->required();
  cmd->add_option("--num-classes", f.num_classes,
                  from_checkpoint ? "Output classes (default: the "
                                    "checkpoint's, or 8 for a .pth)"
                                  : "Output classes (default: 8)")
      ->check(positive());
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
      "inspect",
      "List a .pth state_dict's tensors and the zoo models it fits (of a "
      "training checkpoint: its model card and network B)");
  inspect
      ->add_option("file", f->file,
                   "A .pth file written by torch.save, or a training "
                   "checkpoint")
      ->required();
  inspect->add_flag("--all", f->all,
                    "List every tensor, not only the first 20");
  inspect->footer(
      "Example:\n  semifer weights inspect "
      "efficientnet_b0_rwightman-3dd342df.pth");
  inspect->callback([f] {
    io::StateDict state;
    if (infer::is_checkpoint(f->file)) {
      // A training checkpoint: its model card, then network B's tensors.
      const infer::LoadedModel loaded = infer::load_model(f->file);
      const infer::ModelCard& c = loaded.card;
      std::cout << f->file << ": a training checkpoint at step " << c.step
                << "; " << c.model << ", " << c.classes.size() << " classes (";
      for (size_t i = 0; i < c.classes.size(); ++i)
        std::cout << (i ? ", " : "") << c.classes[i];
      std::cout << "), input " << c.input.size << "x" << c.input.size;
      if (c.validation_step >= 0) {
        auto f1 = [](double v) { return v < 0 ? std::string("-") : str(v); };
        std::cout << "\nvalidation macro F1 at step " << c.validation_step
                  << ": A " << f1(c.validation_f1_a) << ", B "
                  << f1(c.validation_f1_b);
      }
      if (!c.selected_network.empty())
        std::cout << "\nchosen by network " << c.selected_network
                  << "'s validation macro F1 (eval and predict use it by "
                     "default)";
      std::cout << "\nnetwork B (EMA teacher):\n";
      state = models::state_dict(*loaded.model);
    } else {
      state = io::load_state_dict(f->file);
    }
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
  add_conversion_flags(import, *g, "torchvision .pth state_dict", false);
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
add_conversion_flags(exp, *h, "semifer weights (.pth) or a training checkpoint",
                     true);
exp->add_option("--network", h->network,
                "From a training checkpoint: A (trained) or B (EMA teacher)")
    ->check(CLI::IsMember({"A", "B"}));
exp->footer(
    "Example:\n  semifer weights export runs/fer/checkpoint_best.pt --network "
    "B --out for_python.pth");
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
