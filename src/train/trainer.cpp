#include "semifer/train/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "checkpoint_info.h"
#include "semifer/data/loader.h"
#include "semifer/eval/metrics.h"
#include "semifer/eval/predict.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/train/checkpoint.h"
#include "semifer/train/ema.h"
#include "semifer/train/losses.h"
#include "semifer/train/thresholds.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/progress.h"
#include "semifer/util/random.h"
#include "semifer/util/strings.h"
#include "semifer/util/torch_compat.h"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace semifer::train {

namespace {

// Running sums between two metric lines.
// Part of the checkpoint, so a resumed run's metric lines equal an
// uninterrupted run's.
struct Window {
  double loss_l = 0, loss_u = 0;
  int64_t steps = 0, images = 0;
  std::vector<int64_t> masked, pseudo, pseudo_known, pseudo_right;
  explicit Window(int c)
      : masked(c), pseudo(c), pseudo_known(c), pseudo_right(c) {}

  /// Share of pseudo-labels that passed their class's threshold.
  double mask_rate() const {
    int64_t kept = 0, seen = 0;
    for (size_t c = 0; c < masked.size(); ++c) {
      kept += masked[c];
      seen += pseudo[c];
    }
    return seen ? static_cast<double>(kept) / seen : 0.0;
  }

  at::Tensor to_tensor() const {
    std::vector<double> v = {loss_l, loss_u, static_cast<double>(steps),
                             static_cast<double>(images)};
    for (const auto* list : {&masked, &pseudo, &pseudo_known, &pseudo_right}) {
      for (int64_t x : *list) v.push_back(static_cast<double>(x));
    }
    return torch::tensor(v, torch::kFloat64);
  }
  void from_tensor(const at::Tensor& t) {
    const auto c = static_cast<int64_t>(masked.size());
    SEMIFER_CHECK(t.numel() == 4 + 4 * c,
                  "checkpoint metric window has the wrong size");
    const at::Tensor values = t.contiguous();
    const double* p = values.data_ptr<double>();
    loss_l = p[0];
    loss_u = p[1];
    steps = static_cast<int64_t>(p[2]);
    images = static_cast<int64_t>(p[3]);
    p += 4;
    for (auto* list : {&masked, &pseudo, &pseudo_known, &pseudo_right}) {
      for (auto& x : *list) x = static_cast<int64_t>(*p++);
    }
  }
};

json per_class(const std::vector<std::string>& names,
               const std::vector<double>& v) {
  json o = json::object();
  for (size_t i = 0; i < names.size(); ++i) o[names[i]] = v[i];
  return o;
}

json scores(const eval::ConfusionMatrix& m,
            const std::vector<std::string>& names) {
  std::vector<double> f1;
  for (int c = 0; c < m.num_classes(); ++c) f1.push_back(m.f1(c));
  return {{"accuracy", m.accuracy()},
          {"macro_f1", m.macro_f1()},
          {"f1", per_class(names, f1)},
          {"confusion", m.rows()}};
}

void save_checkpoint(const std::string& path, models::ClassifierImpl& student,
                     models::ClassifierImpl& teacher,
                     torch::optim::Adam& optimizer,
                     const DynamicThresholds& dtm, int64_t step, double best_f1,
                     const Window& window, CheckpointInfo info) {
  torch::serialize::OutputArchive archive;
  info.step = step;
  archive.write("info", detail::info_to_tensor(info));
  torch::serialize::OutputArchive a, b, opt;
  student.save(a);
  teacher.save(b);
  optimizer.save(opt);
  archive.write("student", a);
  archive.write("teacher", b);
  archive.write("optimizer", opt);
  archive.write("tau", torch::tensor(dtm.tau(), torch::kFloat64));
  archive.write("step", torch::tensor(step, torch::kInt64));
  archive.write("best_f1", torch::tensor(best_f1, torch::kFloat64));
  archive.write("window", window.to_tensor());
  // Dropout and stochastic depth draw from torch's default generator (the
  // device's, when training on CUDA).
  archive.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
  const auto device = student.parameters().front().device();
  if (device.is_cuda()) {
    archive.write("cuda_rng",
                  at::globalContext().defaultGenerator(device).get_state());
  }
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  fs::rename(tmp, path);
}

// The labels of pool items, in their order.
std::vector<int64_t> labels_of(const std::vector<data::PoolItem>& items) {
  std::vector<int64_t> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(item.label);
  return out;
}

// The window's running losses and mask rate, for progress output.
std::string running(const Window& w, bool ssl) {
  const auto steps = std::max<int64_t>(w.steps, 1);
  std::ostringstream o;
  o << std::fixed << std::setprecision(3) << "L_l " << w.loss_l / steps;
  if (ssl) o << " L_u " << w.loss_u / steps << " mask " << w.mask_rate();
  return o.str();
}

// NHWC parameters: on CUDA, convolutions in channels_last layout use the
// tensor cores without layout transposes.
void to_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    if (p.dim() == 4)
      p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

void set_generator_state(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

RunSummary run_training(const TrainConfig& config, const RunOptions& options) {
  config.validate();
  SEMIFER_CHECK(!options.run_dir.empty(), "no run folder given");
  fs::create_directories(options.run_dir);
  const fs::path dir(options.run_dir);
  const std::string last_path = (dir / "checkpoint_last.pt").string();
  const std::string best_path = (dir / "checkpoint_best.pt").string();
  const auto& loop = config.train;
  const auto& ssl = config.ssl;

  const torch::Device device(util::resolve_device(loop.device));
  const bool bf16 = device.is_cuda() && loop.bf16;
  const bool nhwc = device.is_cuda() && loop.channels_last;
  if (loop.deterministic) {
    torch::set_num_threads(1);
    // Some CUDA kernels have no deterministic variant: warn there.
    at::globalContext().setDeterministicAlgorithms(true, device.is_cuda());
  } else if (loop.torch_threads > 0) {
    torch::set_num_threads(loop.torch_threads);
  }
  torch::manual_seed(loop.seed);

  auto dataset =
      std::make_shared<const data::Dataset>(data::build_dataset(config.data));
  const int num_classes = dataset->classes.size();
  const auto names = dataset->classes.names();
  SEMIFER_CHECK(!dataset->labeled.empty(), "the labeled pool is empty");
  SEMIFER_CHECK(!ssl.enabled || !dataset->unlabeled.empty(),
                "ssl.enabled but the unlabeled pool is empty");

  models::ModelOptions mo;
  mo.num_classes = num_classes;
  mo.dropout = config.model.dropout;
  models::Classifier student = models::create_model(config.model.name, mo);
  if (!config.model.weights.empty()) {
    if (is_checkpoint(config.model.weights)) {
      // The next stage starts from the previous stage's network A.
      load_from_checkpoint(*student, config.model.weights, Network::kStudent);
    } else {
      const auto report =
          models::import_weights(*student, config.model.weights);
      if (options.progress)
        std::cerr << "weights: " << report.summary() << "\n";
    }
  }
  student->to(device);
  if (nhwc) to_channels_last(*student);
  models::Classifier teacher = student->clone_classifier();
  teacher->eval();
  torch::optim::Adam optimizer(student->parameters(),
                               torch::optim::AdamOptions(loop.lr));
  DynamicThresholds dtm(num_classes, ssl.tau, ssl.mu, ssl.dynamic_thresholds);

  CheckpointInfo info;
  info.model = config.model.name;
  info.dropout = config.model.dropout;
  info.classes = names;
  info.size = config.augment.size;
  info.mean = config.augment.mean;
  info.std = config.augment.std;

  int64_t step = 0;
  double best_f1 = -1;
  Window window(num_classes);
  if (options.resume) {
    SEMIFER_CHECK(fs::exists(last_path), "--resume: no checkpoint at ",
                  last_path);
    torch::serialize::InputArchive archive, a, b, opt;
    archive.load_from(last_path, device);
    archive.read("student", a);
    archive.read("teacher", b);
    archive.read("optimizer", opt);
    student->load(a);
    teacher->load(b);
    optimizer.load(opt);
    if (nhwc) {
      to_channels_last(*student);
      to_channels_last(*teacher);
    }
    // Each read needs a fresh tensor: reading into a defined one resizes it.
    auto read = [&](const char* key) {
      at::Tensor t;
      archive.read(key, t);
      return t.to(torch::kCPU);
    };
    const at::Tensor tau = read("tau").contiguous();
    dtm.set_tau(std::vector<double>(tau.data_ptr<double>(),
                                    tau.data_ptr<double>() + tau.numel()));
    step = read("step").item<int64_t>();
    best_f1 = read("best_f1").item<double>();
    window.from_tensor(read("window"));
    set_generator_state(at::detail::getDefaultCPUGenerator(),
                        read("torch_rng").to(torch::kCPU));
    if (device.is_cuda()) {
      at::Tensor state;
      if (archive.try_read("cuda_rng", state)) {
        set_generator_state(at::globalContext().defaultGenerator(device),
                            state.to(torch::kCPU));
      }
    }
    // Lines written after the checkpoint will be written again: drop them.
    const std::string metrics_path = (dir / "metrics.jsonl").string();
    std::string kept;
    if (fs::exists(metrics_path)) {
      for (const auto& line : util::read_lines(metrics_path)) {
        if (line.empty()) continue;
        const auto j = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!j.is_discarded() && j.value("step", int64_t{0}) <= step)
          kept += line + "\n";
      }
    }
    util::write_text(metrics_path, kept);
  } else {
    util::write_text((dir / "config.yaml").string(), to_yaml(config));
    std::ofstream(dir / "metrics.jsonl", std::ios::trunc);
  }
  const int64_t total = loop.epochs * loop.steps_per_epoch;
  RunSummary summary;
  summary.last_checkpoint = last_path;
  if (step >= total) {
    summary.steps = step;
    summary.best_f1 = best_f1;
    return summary;
  }

  data::LoaderConfig lc;
  lc.batch_labeled = loop.batch_labeled;
  lc.batch_unlabeled = ssl.enabled ? loop.batch_unlabeled : 0;
  lc.threads = loop.threads;
  lc.seed = loop.seed;
  data::Loader loader(dataset, config.augment, lc, step);
  std::ofstream metrics(dir / "metrics.jsonl", std::ios::app);

  // The labeled samples the teacher predicts for the DTM: a fixed, seeded
  // cap per class.
  std::vector<data::PoolItem> dtm_items;
  {
    std::vector<std::vector<data::PoolItem>> by_class(num_classes);
    for (const auto& item : dataset->labeled)
      by_class[item.label].push_back(item);
    util::Generator gen({loop.seed, 0xd7e5ULL});
    for (auto& items : by_class) {
      gen.shuffle(items);
      if (ssl.dtm_per_class > 0 &&
          static_cast<int64_t>(items.size()) > ssl.dtm_per_class) {
        items.resize(static_cast<size_t>(ssl.dtm_per_class));
      }
      dtm_items.insert(dtm_items.end(), items.begin(), items.end());
    }
  }
  std::vector<data::PoolItem> val_items = dataset->validation;
  if (config.eval_max > 0 &&
      static_cast<int64_t>(val_items.size()) > config.eval_max) {
    // A seeded random sample: pools are ordered by source and class, so the
    // first N would leave classes out.
    util::Generator gen({loop.seed, 0xe7a1ULL});
    gen.shuffle(val_items);
    val_items.resize(static_cast<size_t>(config.eval_max));
  }
  const std::vector<int64_t> val_labels = labels_of(val_items);
  const at::Tensor dtm_labels =
      torch::tensor(labels_of(dtm_items), torch::kInt64);

  using clock = std::chrono::steady_clock;
  auto window_start = clock::now();
  const auto run_start = clock::now();
  const int64_t first_step = step;
  util::ProgressBar bar("train", total, options.progress);
  student->train();
  // Batches come from pinned memory when CUDA is present: the copies overlap.
  // The loader reuses a batch's buffers only after the step's statistics
  // have come back to the host, which waits for the copies.
  auto to_device = [&](const at::Tensor& x) {
    return x.to(device, /*non_blocking=*/true);
  };
  auto forward = [&](at::Tensor x) {
    if (nhwc) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    compat::CudaBf16Autocast autocast(bf16);
    return student->forward(x).to(torch::kFloat32);
  };
  const at::Tensor no_loss = torch::zeros({}, device);

  for (; step < total; ++step) {
    data::Step batch = loader.next();
    const auto& lb = batch.labeled;
    const auto y = to_device(lb.y);
    at::Tensor loss_l, loss;
    UnlabeledLoss unl;
    if (ssl.enabled) {
      const auto& ub = batch.unlabeled;
      // One forward over [labeled; weak; strong], as FixMatch does, so
      // BatchNorm sees all three.
      const auto logits = forward(torch::cat(
          {to_device(lb.x_weak), to_device(ub.x_weak), to_device(ub.x_strong)},
          0));
      const int64_t b = lb.x_weak.size(0), u = ub.x_weak.size(0);
      loss_l = torch::nn::functional::cross_entropy(logits.narrow(0, 0, b), y);
      unl =
          pseudo_label_loss(logits.narrow(0, b, u), logits.narrow(0, b + u, u),
                            dtm.tau_tensor(device), ssl.target);
      loss = ssl.lambda_labeled * loss_l + ssl.lambda_unlabeled * unl.loss;
    } else {
      loss_l = torch::nn::functional::cross_entropy(
          forward(to_device(lb.x_weak)), y);
      loss = ssl.lambda_labeled * loss_l;
    }
    // One transfer back per step: the losses (and below, the pseudo-labels).
    const at::Tensor stats =
        torch::stack({loss.detach(), loss_l.detach(),
                      ssl.enabled ? unl.loss.detach() : no_loss})
            .to(torch::kCPU, torch::kFloat64);
    const double loss_value = stats[0].item<double>();
    SEMIFER_CHECK(
        std::isfinite(loss_value), "step ", step + 1, ": the loss is ",
        loss_value, " (labeled ", stats[1].item<double>(),
        "); stopped. The last good checkpoint is ",
        fs::exists(last_path) ? last_path : std::string("not written yet"));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    ema_update(*teacher, *student, ssl.ema_decay);

    window.loss_l += stats[1].item<double>();
    window.steps += 1;
    window.images += lb.x_weak.size(0);
    if (ssl.enabled) {
      window.loss_u += stats[2].item<double>();
      window.images += batch.unlabeled.x_weak.size(0);
      const at::Tensor pseudo_cpu = unl.pseudo.to(torch::kCPU);
      const at::Tensor mask_cpu = unl.mask.to(torch::kCPU);
      const auto pseudo = pseudo_cpu.accessor<int64_t, 1>();
      const auto mask = mask_cpu.accessor<float, 1>();
      const auto hidden = batch.unlabeled.hidden_label.accessor<int64_t, 1>();
      for (int64_t i = 0; i < pseudo.size(0); ++i) {
        ++window.pseudo[pseudo[i]];
        if (mask[i] > 0) ++window.masked[pseudo[i]];
        if (mask[i] > 0 && hidden[i] >= 0) {
          ++window.pseudo_known[pseudo[i]];
          window.pseudo_right[pseudo[i]] += hidden[i] == pseudo[i];
        }
      }
    }

    // The text is built only when the bar will be drawn: not every step.
    if (options.progress && (bar.due() || step + 1 == total)) {
      bar.update(step + 1,
                 str("epoch ", step / loop.steps_per_epoch + 1, "/",
                     loop.epochs, " | ", running(window, ssl.enabled)));
    }
    const bool epoch_end = (step + 1) % loop.steps_per_epoch == 0;
    const bool log_now = (step + 1) % loop.log_every == 0 || epoch_end;
    if (log_now) {
      const double secs =
          std::chrono::duration<double>(clock::now() - window_start).count();
      json line = {{"epoch", step / loop.steps_per_epoch + 1},
                   {"step", step + 1},
                   {"loss_labeled", window.loss_l / window.steps},
                   {"lr", loop.lr},
                   {"images_per_second", window.images / std::max(secs, 1e-9)}};
      if (ssl.enabled) {
        // -1: no sample of the window was pseudo-labelled as (or, for the
        // accuracy, kept with a known label of) this class.
        std::vector<double> rate(num_classes, -1), acc(num_classes, -1);
        for (int c = 0; c < num_classes; ++c) {
          if (window.pseudo[c]) {
            rate[c] = static_cast<double>(window.masked[c]) / window.pseudo[c];
          }
          if (window.pseudo_known[c]) {
            acc[c] = static_cast<double>(window.pseudo_right[c]) /
                     window.pseudo_known[c];
          }
        }
        line["loss_unlabeled"] = window.loss_u / window.steps;
        line["mask_rate"] = window.mask_rate();
        line["mask_rate_per_class"] = per_class(names, rate);
        line["pseudo_label_accuracy_per_class"] = per_class(names, acc);
        line["tau"] = per_class(names, dtm.tau());
      }
      if (epoch_end) {
        if (ssl.enabled) {
          const auto probs = eval::predict_probs(*teacher, *dataset, dtm_items,
                                                 config.augment);
          const auto u = dtm.update(probs, dtm_labels);
          line["tau"] = per_class(names, dtm.tau());
          line["dtm_mean_confidence"] = per_class(names, u.mean_confidence);
        }
        if (!val_items.empty()) {
          json val = json::object();
          for (auto [name, model] :
               {std::pair<const char*, models::Classifier>{"A", student},
                {"B", teacher}}) {
            const at::Tensor pred =
                eval::predict_probs(*model, *dataset, val_items, config.augment)
                    .argmax(1)
                    .contiguous();
            eval::ConfusionMatrix m(num_classes);
            m.add(val_labels, std::vector<int64_t>(
                                  pred.data_ptr<int64_t>(),
                                  pred.data_ptr<int64_t>() + pred.numel()));
            val[name] = scores(m, names);
          }
          line["validation"] = val;
          const double f1 = val["B"]["macro_f1"].get<double>();
          if (f1 > best_f1) {
            best_f1 = f1;
            save_checkpoint(best_path, *student, *teacher, optimizer, dtm,
                            step + 1, best_f1, Window(num_classes), info);
          }
        }
      }
      metrics << line.dump() << "\n" << std::flush;
      if (options.progress) {
        // A log line per metric line, above the in-place bar on a terminal.
        const double elapsed =
            std::chrono::duration<double>(clock::now() - run_start).count();
        const double rate = (step + 1 - first_step) / std::max(elapsed, 1e-9);
        std::ostringstream text;
        text << "epoch " << step / loop.steps_per_epoch + 1 << "/"
             << loop.epochs << " step " << step + 1 << "/" << total << " | "
             << std::fixed << std::setprecision(2) << rate << " steps/s | ETA "
             << util::ProgressBar::format_duration((total - step - 1) /
                                                   std::max(rate, 1e-9))
             << " | " << running(window, ssl.enabled);
        if (line.contains("validation")) {
          text << " | val F1 A "
               << line["validation"]["A"]["macro_f1"].get<double>() << " B "
               << line["validation"]["B"]["macro_f1"].get<double>();
        }
        bar.message(text.str());
      }
      window = Window(num_classes);
      window_start = clock::now();
    }
    if ((step + 1) % loop.checkpoint_every == 0 || epoch_end ||
        step + 1 == total) {
      save_checkpoint(last_path, *student, *teacher, optimizer, dtm, step + 1,
                      best_f1, window, info);
    }
  }
  bar.finish();
  summary.steps = step;
  summary.best_f1 = best_f1;
  return summary;
}

}  // namespace semifer::train
