#include "semifer/train/run_log.h"

#include <ATen/Parallel.h>
#include <c10/core/Device.h>

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "semifer/data/dataset.h"
#include "semifer/io/metrics_log.h"
#include "semifer/train/config.h"
#include "semifer/train/metric_window.h"
#include "semifer/train/state.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"
#include "semifer/util/progress.h"
#include "semifer/util/strings.h"

namespace semifer::train {

namespace {

// The window's running losses and mask rate.
std::string running(const WindowSummary& w, bool ssl) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(3) << "L_l " << w.loss_labeled;
  if (ssl) o << " L_u " << w.loss_unlabeled << " mask " << w.mask_rate;
  return o.str();
}

}  // namespace

RunLog::RunLog(const TrainConfig& config, bool show, bool warn)
    : config_(config), show_(show), warn_(warn) {}

RunLog::~RunLog() = default;

void RunLog::start(const TrainState& s, const data::Dataset& dataset,
                   const c10::Device& device, const std::string& job,
                   const std::string& run_dir, bool resumed) const {
  if (!show_) return;
  const auto& loop = config_.train;
  const auto& names = s.card.classes;
  int64_t params = 0;
  for (const auto& p : s.student->parameters()) params += p.numel();
  const std::vector<int64_t> per_class = dataset.class_counts(dataset.labeled);
  std::string classes;
  for (size_t c = 0; c < per_class.size(); ++c)
    classes +=
        str(c ? ", " : "", dataset.classes.names()[c], " ", per_class[c]);
  const auto& ssl = config_.ssl;
  util::log_message(str("train: ",
                        ssl.enabled ? "semi-supervised stage"
                                    : "supervised stage (ssl.enabled "
                                      "false)",
                        " on ", device.str(), ", ",
                        util::counted(at::get_num_threads(), "intra-op thread"),
                        ", ", util::counted(loop.threads, "loader thread"),
                        job.empty() ? "" : str(", ", job)));
  util::log_message(str("model ", s.card.model, ": ", params,
                        " parameters, input ", s.card.input.size, "x",
                        s.card.input.size, ", ", names.size(), " classes"));
  util::log_message(str("data: labeled ", dataset.labeled.size(), " (", classes,
                        "), unlabeled ", dataset.unlabeled.size(),
                        ", validation ", dataset.validation.size()));
  if (ssl.enabled) {
    util::log_message(
        str("pseudo-labels: ", config_value(config_, "ssl.pseudo_labels"),
            ", thresholds ", config_value(config_, "ssl.thresholds"), " (tau ",
            ssl.tau, "), weighting ", config_value(config_, "ssl.weighting"),
            ", alignment ", config_value(config_, "ssl.alignment"),
            ", EMA decay ", ssl.ema_decay));
  }
  util::log_message(str(
      "steps: ", loop.total_steps(), " (", util::counted(loop.epochs, "epoch"),
      " x ", loop.steps_per_epoch, "), batch ", loop.batch_labeled,
      ssl.enabled ? str(" labeled + ", loop.batch_unlabeled, " unlabeled") : "",
      ", lr ", loop.lr, "; run folder ", run_dir,
      resumed ? str(" (resuming at step ", s.step, ")") : " (new run)"));
}

void RunLog::begin(const TrainState& state) {
  progress_ = std::make_unique<util::Progress>(
      "train", config_.train.total_steps(), show_);
  first_step_ = state.step;
  start_ = Clock::now();
}

void RunLog::step(const TrainState& s) {
  const int64_t total = config_.train.total_steps();
  // The text needs the window read back: only when it will be shown.
  if (!show_ || !progress_ || (!progress_->due() && s.step != total)) return;
  const auto& loop = config_.train;
  progress_->update(
      s.step, str("epoch ", loop.epoch_of(s.step), "/", loop.epochs, " | ",
                  running(s.window.summary(), config_.ssl.enabled)));
}

void RunLog::epoch_work(const TrainState& s, int64_t epoch, int64_t images) {
  if (!show_ || !progress_) return;
  // Shown in place (on a terminal) while the epoch-end work runs.
  progress_->update(s.step, str("epoch ", epoch, ": ",
                                config_.ssl.enabled ? "DTM update, " : "",
                                "validating A and B on ", images, " images"));
}

void RunLog::window(const TrainState& s, const io::MetricsLine& line,
                    const WindowSummary& w) {
  if (!show_ || !progress_) return;
  // A log line per metric line, above the in-place bar on a terminal.
  const auto& loop = config_.train;
  const int64_t total = loop.total_steps();
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = (s.step - first_step_) / std::max(elapsed, 1e-9);
  std::ostringstream text;
  text << "epoch " << line.epoch.value_or(0) << "/" << loop.epochs << " step "
       << s.step << "/" << total << " | " << std::fixed << std::setprecision(2)
       << rate << " steps/s | ETA "
       << util::ProgressBar::format_duration((total - s.step) /
                                             std::max(rate, 1e-9))
       << " | " << running(w, config_.ssl.enabled);
  if (line.validation_a && line.validation_b) {
    text << " | val F1 A " << line.validation_a->macro_f1.value_or(0) << " B "
         << line.validation_b->macro_f1.value_or(0);
  }
  progress_->message(text.str());
}

void RunLog::no_pseudo_labels(const TrainState& s,
                              const std::vector<double>& tau,
                              const std::vector<double>& confidence) const {
  if (!warn_) return;
  const auto& names = s.card.classes;
  auto list = [&](const std::vector<double>& v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2);
    for (size_t c = 0; c < v.size() && c < names.size(); ++c) {
      o << (c ? ", " : "") << names[c] << " ";
      if (v[c] < 0)
        o << "-";
      else
        o << v[c];
    }
    return o.str();
  };
  util::log_message(str(
      "warning: epoch ", config_.train.epoch_of(s.step),
      " kept no pseudo-label at all (mask 0): no unlabeled face reached its "
      "class's threshold, so this epoch was supervised only. Thresholds: ",
      list(tau),
      ". The teacher's mean confidence on correctly predicted "
      "labeled faces: ",
      list(confidence),
      config_.ssl.thresholds == ThresholdPolicy::kDynamic
          ? ". The DTM now moves the thresholds towards these confidences; "
            "if later epochs keep none either, train the supervised stage "
            "longer or lower ssl.tau (docs/training.md); said once per run"
          : ". Train the supervised stage longer, lower ssl.tau, or use "
            "ssl.thresholds: dynamic (docs/training.md); said once per run"));
}

void RunLog::finish() {
  if (progress_) progress_->finish();
}

}  // namespace semifer::train
