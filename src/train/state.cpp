#include "semifer/train/state.h"

#include <torch/torch.h>

#include "semifer/infer/archive.h"
#include "semifer/train/ema.h"
#include "semifer/util/error.h"

namespace semifer::train {

namespace keys = infer::keys;

namespace {

void set_generator_state(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

c10::Device device_of(const models::ClassifierImpl& model) {
  const auto params = model.parameters();
  return params.empty() ? c10::Device(c10::kCPU) : params.front().device();
}

}  // namespace

EmaTeacher& TrainState::ema() {
  if (!ema_) ema_ = std::make_shared<EmaTeacher>(*teacher, *student);
  return *ema_;
}

void TrainState::thresholds_changed() {
  at::Tensor fresh = thresholds.tau_tensor(device_of(*student));
  // In place where it can be: a captured step (graph.h) reads this tensor.
  if (tau_.defined() && tau_.sizes() == fresh.sizes() &&
      tau_.device() == fresh.device()) {
    torch::NoGradGuard no_grad;
    tau_.copy_(fresh);
  } else {
    tau_ = std::move(fresh);
  }
}

bool TrainState::weights_finite() const {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> bad;
  for (const auto* net : {&student, &teacher}) {
    for (const auto& t : (*net)->parameters())
      bad.push_back(t.isfinite().logical_not().any().reshape({1}));
    for (const auto& t : (*net)->buffers()) {
      if (t.is_floating_point())
        bad.push_back(t.isfinite().logical_not().any().reshape({1}));
    }
  }
  return bad.empty() || !torch::cat(bad).any().item<bool>();
}

void TrainState::save(const std::string& path, bool with_window,
                      const std::string& selected) const {
  torch::serialize::OutputArchive archive;
  infer::ModelCard c = card;
  c.step = step;
  c.selected_network = selected;
  infer::write_text(archive, keys::kCard, infer::to_json(c));
  infer::write_text(archive, keys::kConfig, config_yaml);
  torch::serialize::OutputArchive a, b, opt;
  student->save(a);
  teacher->save(b);
  optimizer->save(opt);
  archive.write(keys::kStudent, a);
  archive.write(keys::kTeacher, b);
  archive.write(keys::kOptimizer, opt);
  archive.write(keys::kTau, torch::tensor(thresholds.tau(), torch::kFloat64));
  torch::serialize::OutputArchive pseudo;
  labeler.save(pseudo);
  archive.write(keys::kPseudoLabels, pseudo);
  archive.write(keys::kStep, torch::tensor(step, torch::kInt64));
  archive.write(keys::kBestF1, torch::tensor(best_f1, torch::kFloat64));
  archive.write(keys::kWorldSize, torch::tensor(world_size, torch::kInt64));
  archive.write(keys::kBestNetworks,
                torch::tensor({best_a.f1, static_cast<double>(best_a.step),
                               best_b.f1, static_cast<double>(best_b.step),
                               static_cast<double>(best_step),
                               best_network == "A" ? 0.0 : 1.0},
                              torch::kFloat64));
  std::vector<double> kept_flat;
  for (const auto& k : kept) {
    kept_flat.push_back(static_cast<double>(k.step));
    kept_flat.push_back(k.f1);
  }
  archive.write(keys::kKeptBest,
                torch::tensor(kept_flat, torch::kFloat64)
                    .reshape({static_cast<int64_t>(kept.size()), 2}));
  if (with_window) {
    archive.write(keys::kWindow, window.to_tensor());
  } else {
    MetricWindow empty = window;
    empty.reset();
    archive.write(keys::kWindow, empty.to_tensor());
  }
  // Dropout and stochastic depth draw from torch's default generator (the
  // device's, when training on CUDA).
  archive.write(keys::kTorchRng,
                at::detail::getDefaultCPUGenerator().get_state());
  const auto device = device_of(*student);
  if (device.is_cuda()) {
    archive.write(keys::kCudaRng,
                  at::globalContext().defaultGenerator(device).get_state());
  }
  infer::write_archive(archive, path);
}

void TrainState::load(
    const std::string& path,
    const std::function<void(const std::string& config)>& accept) {
  const auto device = device_of(*student);
  torch::serialize::InputArchive archive = infer::read_archive(path, device);
  std::string saved_config;
  infer::read_text(archive, keys::kConfig, saved_config);
  if (accept) accept(saved_config);
  auto read = [&](const char* key) {
    // Each read needs a fresh tensor: reading into a defined one resizes it.
    at::Tensor t;
    SEMIFER_CHECK(archive.try_read(key, t), path, ": the checkpoint has no '",
                  key, "' (not written by this semifer's trainer)");
    return t.to(torch::kCPU);
  };
  try {
    torch::serialize::InputArchive a, b, opt;
    archive.read(keys::kStudent, a);
    archive.read(keys::kTeacher, b);
    archive.read(keys::kOptimizer, opt);
    student->load(a);
    teacher->load(b);
    optimizer->load(opt);
  } catch (const c10::Error& e) {
    fail(path, ": cannot restore the networks: ", torch_error_line(e));
  }
  const at::Tensor tau = read(keys::kTau).contiguous();
  SEMIFER_CHECK(tau.numel() == static_cast<int64_t>(thresholds.tau().size()),
                path, ": the checkpoint has ", tau.numel(),
                " thresholds, the run ", thresholds.tau().size(), " classes");
  thresholds.set_tau(std::vector<double>(tau.data_ptr<double>(),
                                         tau.data_ptr<double>() + tau.numel()));
  thresholds_changed();
  // Checkpoints of semifer before the recipe options hold none: their runs'
  // recipe (the paper's) keeps no running estimates.
  torch::serialize::InputArchive pseudo;
  if (archive.try_read(keys::kPseudoLabels, pseudo)) labeler.load(pseudo, path);
  step = read(keys::kStep).item<int64_t>();
  best_f1 = read(keys::kBestF1).item<double>();
  // Checkpoints from before data-parallel runs: one process wrote them.
  at::Tensor ranks;
  world_size = archive.try_read(keys::kWorldSize, ranks)
                   ? ranks.to(torch::kCPU).item<int64_t>()
                   : 1;
  // Checkpoints from before per-network best checkpoints: none recorded.
  best_a = best_b = Score{};
  best_step = -1;
  best_network.clear();
  kept.clear();
  at::Tensor t;
  if (archive.try_read(keys::kBestNetworks, t)) {
    t = t.to(torch::kCPU).contiguous();
    SEMIFER_CHECK(t.numel() == 6, path, ": '", keys::kBestNetworks, "' holds ",
                  t.numel(), " values, not 6");
    const double* v = t.data_ptr<double>();
    best_a = {v[0], static_cast<int64_t>(v[1])};
    best_b = {v[2], static_cast<int64_t>(v[3])};
    best_step = static_cast<int64_t>(v[4]);
    if (best_step >= 0) best_network = v[5] == 0 ? "A" : "B";
  }
  at::Tensor k;
  if (archive.try_read(keys::kKeptBest, k)) {
    k = k.to(torch::kCPU).contiguous();
    SEMIFER_CHECK(k.dim() == 2 && k.size(1) == 2, path, ": '", keys::kKeptBest,
                  "' is not a [k, 2] table");
    const double* v = k.data_ptr<double>();
    for (int64_t i = 0; i < k.size(0); ++i)
      kept.push_back({v[2 * i + 1], static_cast<int64_t>(v[2 * i])});
  }
  try {
    window.from_tensor(read(keys::kWindow));
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  set_generator_state(at::detail::getDefaultCPUGenerator(),
                      read(keys::kTorchRng));
  at::Tensor cuda_state;
  if (device.is_cuda() && archive.try_read(keys::kCudaRng, cuda_state)) {
    set_generator_state(at::globalContext().defaultGenerator(device),
                        cuda_state.to(torch::kCPU));
  }
  std::string text;
  if (infer::read_text(archive, keys::kCard, text))
    card = infer::parse_model_card(text, path);
  if (!saved_config.empty()) config_yaml = saved_config;
}

std::string TrainState::read_config(const std::string& path) {
  torch::serialize::InputArchive archive = infer::read_archive(path);
  std::string text;
  infer::read_text(archive, keys::kConfig, text);
  return text;
}

}  // namespace semifer::train
