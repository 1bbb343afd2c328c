#include "semifer/infer/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "semifer/infer/archive.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/util/error.h"

namespace semifer::infer {

namespace {

// A verified archive that holds both networks, or a one-line error.
torch::serialize::InputArchive open_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive = read_archive(path);
  torch::serialize::InputArchive teacher, student;
  SEMIFER_CHECK(archive.try_read(keys::kTeacher, teacher) &&
                    archive.try_read(keys::kStudent, student),
                path,
                " is not a checkpoint written by semifer train (an "
                "exported .pth needs its model card ",
                model_card_path(path), " beside it)");
  return archive;
}

ModelCard card_of(torch::serialize::InputArchive& archive,
                  const std::string& path) {
  std::string text;
  SEMIFER_CHECK(read_text(archive, keys::kCard, text), path,
                ": the checkpoint has no model description (written by an "
                "older semifer); retrain or pass the model by config");
  return parse_model_card(text, path);
}

// A network with a NaN or an infinity in its weights (a diverged run)
// predicts NaN probabilities for every image: refuse it where it is read.
void check_finite(models::ClassifierImpl& model, const std::string& path,
                  const char* network) {
  torch::NoGradGuard no_grad;
  auto check = [&](const std::string& name, const torch::Tensor& t) {
    if (!t.is_floating_point()) return;
    SEMIFER_CHECK(torch::isfinite(t).all().item<bool>(), path, ": network ",
                  network, " has non-finite weights in '", name,
                  "' (a diverged run); use an earlier checkpoint");
  };
  for (const auto& p : model.named_parameters()) check(p.key(), p.value());
  for (const auto& b : model.named_buffers()) check(b.key(), b.value());
}

void load_network_from(torch::serialize::InputArchive& archive,
                       models::ClassifierImpl& model, const std::string& path,
                       Network which) {
  const char* key =
      which == Network::kTeacher ? keys::kTeacher : keys::kStudent;
  // Module::load replaces tensors whatever their shape, so check the shapes.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : model.named_parameters())
    expected.emplace_back(p.key(), p.value().sizes().vec());
  try {
    torch::serialize::InputArchive sub;
    archive.read(key, sub);
    model.load(sub);
  } catch (const c10::Error& e) {
    fail("cannot load network ", network_name(which), " of ", model.arch(),
         " from ", path, ": ", torch_error_line(e));
  }
  const auto params = model.named_parameters();
  for (const auto& [name, shape] : expected) {
    const auto got = params[name].sizes().vec();
    SEMIFER_CHECK(got == shape, path, ": tensor '", name, "' has shape ",
                  c10::IntArrayRef(got), " but ", model.arch(), " with ",
                  model.num_classes(), " classes expects ",
                  c10::IntArrayRef(shape));
  }
  check_finite(model, path, network_name(which));
}

models::Classifier build(const ModelCard& card) {
  models::ModelOptions mo;
  mo.num_classes = static_cast<int64_t>(card.classes.size());
  mo.dropout = card.dropout;
  return models::create_model(card.model, mo);
}

// Network `which` (empty: the card's preferred one) of an open checkpoint.
LoadedModel load_from(torch::serialize::InputArchive& archive,
                      const std::string& path, std::optional<Network> which) {
  LoadedModel m;
  m.card = card_of(archive, path);
  m.network = which.value_or(*network_named(preferred_network(m.card)));
  m.model = build(m.card);
  load_network_from(archive, *m.model, path, m.network);
  m.model->eval();
  return m;
}

}  // namespace

const char* network_name(Network network) {
  return network == Network::kTeacher ? "B" : "A";
}

std::optional<Network> network_named(const std::string& name) {
  if (name == "auto") return std::nullopt;
  SEMIFER_CHECK(name == "A" || name == "B", "unknown network '", name,
                "' (expected A, B or auto)");
  return name == "A" ? Network::kStudent : Network::kTeacher;
}

bool is_checkpoint(const std::string& path) {
  try {
    open_checkpoint(path);
    return true;
  } catch (const Error&) {
    return false;
  }
}

ModelCard read_checkpoint_card(const std::string& path) {
  auto archive = open_checkpoint(path);
  return card_of(archive, path);
}

void load_network(models::ClassifierImpl& model, const std::string& path,
                  Network which) {
  auto archive = open_checkpoint(path);
  load_network_from(archive, model, path, which);
}

LoadedModel load_checkpoint(const std::string& path,
                            std::optional<Network> which) {
  auto archive = open_checkpoint(path);
  return load_from(archive, path, which);
}

LoadedModel load_model(const std::string& path, std::optional<Network> which) {
  std::error_code ec;
  SEMIFER_CHECK(std::filesystem::is_regular_file(path, ec), "model ", path,
                " does not exist or is not a file");
  const std::string card_path = model_card_path(path);
  // Without a card beside it the file must be a checkpoint: its own errors
  // (damaged, not a checkpoint) say what is wrong.
  if (!std::filesystem::is_regular_file(card_path, ec))
    return load_checkpoint(path, which);
  // With one, a checkpoint still loads as one (read once), else the file is
  // an exported state_dict.
  std::optional<torch::serialize::InputArchive> archive;
  try {
    archive.emplace(open_checkpoint(path));
  } catch (const Error&) {
    // Not a checkpoint: read below as the state_dict its card describes.
  }
  if (archive) return load_from(*archive, path, which);
  LoadedModel m;
  m.network = which.value_or(Network::kTeacher);
  m.card = read_model_card(card_path);
  m.model = build(m.card);
  const auto report = models::import_weights(*m.model, path);
  SEMIFER_CHECK(report.replaced.empty(), path, ": its classifier does not fit ",
                m.card.classes.size(), " classes as ", card_path, " says");
  check_finite(*m.model, path, network_name(m.network));
  m.model->eval();
  return m;
}

}  // namespace semifer::infer
