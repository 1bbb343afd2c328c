#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "semifer/io/state_dict.h"
#include "semifer/models/inspect.h"
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
};

std::string names() {
  std::string s;
  for (const auto& n : models::model_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}
}  // namespace

void add_weights_commands(CLI::App& app) {
  CLI::App* weights = app.add_subcommand(
      "weights",
      "Move weights between torchvision .pth files and semifer models "
      "(models: " +
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
    if (info.matches.empty()) {
      std::cout << "matches no zoo model\n";
    } else {
      for (const auto& m : info.matches) std::cout << "matches " << m << "\n";
    }
  });

  auto g = std::make_shared<WeightsFlags>();
  CLI::App* import = weights->add_subcommand(
      "import",
      "Load torchvision weights (e.g. ImageNet) into a zoo model with "
      "--num-classes outputs and save them as the model's weights file; the "
      "classifier is re-initialised when the class count differs");
  import->add_option("file", g->file, "torchvision .pth state_dict")
      ->required();
  import->add_option("--model", g->model, "Architecture")->required();
  import->add_option("--num-classes", g->num_classes, "Output classes")
      ->check(CLI::PositiveNumber);
  import->add_option("--out", g->out, "Output .pth")->required();
  import->footer(
      "Example:\n  semifer weights import "
      "efficientnet_b0_rwightman-3dd342df.pth "
      "--model efficientnet_b0 --num-classes 8 --out b0_init.pth");
  import->callback([g] {
    models::Classifier model = models::create_model(g->model, {.num_classes = g->num_classes});
  const models::LoadReport report = models::import_weights(*model, g->file);
  models::export_weights(*model, g->out);
  std::cout << g->file << " -> " << g->model << " (" << g->num_classes
            << " classes): " << report.summary() << "\nwrote " << g->out
            << std::endl;
});

auto h = std::make_shared<WeightsFlags>();
CLI::App* exp = weights->add_subcommand(
    "export",
    "Write a model's weights as a .pth that torchvision's "
    "models.<arch>(num_classes=N).load_state_dict(torch.load(path)) "
    "accepts");
exp->add_option("file", h->file, "semifer weights (.pth)")->required();
exp->add_option("--model", h->model, "Architecture")->required();
exp->add_option("--num-classes", h->num_classes, "Output classes")
    ->check(CLI::PositiveNumber);
exp->add_option("--out", h->out, "Output .pth")->required();
exp->footer(
    "Example:\n  semifer weights export run/weights.pth --model "
    "efficientnet_b0 "
    "--num-classes 8 --out for_python.pth");
exp->callback([h] {
  models::Classifier model =
      models::create_model(h->model, {.num_classes = h->num_classes});
  models::LoadOptions strict;
  const models::LoadReport report =
      models::import_weights(*model, h->file, strict);
  SEMIFER_CHECK(report.replaced.empty(), h->file,
                ": the classifier has another class ",
                "count than --num-classes ", h->num_classes);
  models::export_weights(*model, h->out);
  std::cout << "wrote " << h->out << " (" << report.loaded.size()
            << " tensors, " << h->model << ", " << h->num_classes << " classes)"
            << std::endl;
});
}  // namespace semifer::app

}  // namespace semifer::app
