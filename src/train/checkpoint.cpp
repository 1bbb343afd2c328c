#include "semifer/train/checkpoint.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "checkpoint_info.h"
#include "semifer/models/registry.h"
#include "semifer/util/error.h"

namespace semifer::train {

namespace {

// Loads the archive once (on the CPU, wherever it was written); empty when
// the file is not a semifer training checkpoint.
std::optional<torch::serialize::InputArchive> open_checkpoint(
    const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, torch::kCPU);
    torch::serialize::InputArchive teacher, student;
    if (archive.try_read("teacher", teacher) &&
        archive.try_read("student", student)) {
      return archive;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

torch::serialize::InputArchive open_or_fail(const std::string& path) {
  auto archive = open_checkpoint(path);
  SEMIFER_CHECK(archive, path, " is not a checkpoint written by semifer train");
  return std::move(*archive);
}

CheckpointInfo info_of(torch::serialize::InputArchive& archive,
                       const std::string& path) {
  at::Tensor t;
  SEMIFER_CHECK(archive.try_read("info", t), path,
                ": the checkpoint has no model description (written by an "
                "older semifer); retrain or pass the model by config");
  return detail::info_from_tensor(t, path);
}

void load_network(torch::serialize::InputArchive& archive,
                  models::ClassifierImpl& model, const std::string& path,
                  Network which) {
  const char* key = which == Network::kTeacher ? "teacher" : "student";
  // Module::load replaces tensors whatever their shape, so check the shapes.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : model.named_parameters())
    expected.emplace_back(p.key(), p.value().sizes().vec());
  try {
    torch::serialize::InputArchive sub;
    archive.read(key, sub);
    model.load(sub);
  } catch (const c10::Error& e) {
    // LibTorch's messages span lines and carry a C++ backtrace.
    std::string why = e.what_without_backtrace();
    why = why.substr(0, why.find('\n'));
    fail("cannot load network ", which == Network::kTeacher ? "B" : "A", " of ",
         model.arch(), " from ", path, ": ", why);
  }
  const auto params = model.named_parameters();
  for (const auto& [name, shape] : expected) {
    const auto got = params[name].sizes().vec();
    SEMIFER_CHECK(got == shape, path, ": tensor '", name, "' has shape ",
                  c10::IntArrayRef(got), " but ", model.arch(), " with ",
                  model.num_classes(), " classes expects ",
                  c10::IntArrayRef(shape));
  }
}

}  // namespace

bool is_checkpoint(const std::string& path) {
  return open_checkpoint(path).has_value();
}

namespace detail {

at::Tensor info_to_tensor(const CheckpointInfo& info) {
  const nlohmann::ordered_json j = {
      {"model", info.model},     {"dropout", info.dropout},
      {"classes", info.classes}, {"size", info.size},
      {"mean", info.mean},       {"std", info.std},
      {"step", info.step}};
  const std::string text = j.dump();
  return torch::tensor(std::vector<uint8_t>(text.begin(), text.end()),
                       torch::kUInt8);
}

CheckpointInfo info_from_tensor(const at::Tensor& t, const std::string& path) {
  const at::Tensor bytes = t.contiguous().to(torch::kUInt8);
  const auto* p = bytes.data_ptr<uint8_t>();
  const std::string text(p, p + bytes.numel());
  CheckpointInfo info;
  try {
    const auto j = nlohmann::json::parse(text);
    info.model = j.at("model").get<std::string>();
    info.dropout = j.at("dropout").get<double>();
    info.classes = j.at("classes").get<std::vector<std::string>>();
    info.size = j.at("size").get<int>();
    info.mean = j.at("mean").get<std::array<float, 3>>();
    info.std = j.at("std").get<std::array<float, 3>>();
    info.step = j.at("step").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": unreadable checkpoint description: ", e.what());
  }
  return info;
}

}  // namespace detail

CheckpointInfo read_checkpoint_info(const std::string& path) {
  auto archive = open_or_fail(path);
  return info_of(archive, path);
}

models::Classifier load_checkpoint_model(const std::string& path, Network which,
                                         CheckpointInfo* out) {
  auto archive = open_or_fail(path);
  const CheckpointInfo info = info_of(archive, path);
  if (out) *out = info;
  models::ModelOptions mo;
  mo.num_classes = static_cast<int64_t>(info.classes.size());
  mo.dropout = info.dropout;
  models::Classifier model = models::create_model(info.model, mo);
  load_network(archive, *model, path, which);
  model->eval();
  return model;
}

void load_from_checkpoint(models::ClassifierImpl& model,
                          const std::string& path, Network which) {
  auto archive = open_or_fail(path);
  load_network(archive, model, path, which);
}

}  // namespace semifer::train
