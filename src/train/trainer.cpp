#include "semifer/train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <mutex>

#include "semifer/data/dataset.h"
#include "semifer/data/loader.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/io/metrics_log.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/train/data_parallel.h"
#include "semifer/train/distributed.h"
#include "semifer/train/graph.h"
#include "semifer/train/optimizer.h"
#include "semifer/train/resume.h"
#include "semifer/train/state.h"
#include "semifer/train/validation.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"
#include "semifer/util/strings.h"
#include "semifer/util/torch_compat.h"

namespace semifer::train {

namespace {

// The 4-D parameters' layout: NHWC for train.channels_last on CUDA
// (convolutions then use the tensor cores without layout transposes), NCHW
// otherwise, whatever layout a loaded checkpoint's tensors had (loading
// keeps the saved strides).
void set_layout(torch::nn::Module& model, bool channels_last) {
  torch::NoGradGuard no_grad;
  const auto format = channels_last ? torch::MemoryFormat::ChannelsLast
                                    : torch::MemoryFormat::Contiguous;
  for (auto& p : model.parameters()) {
    if (p.dim() == 4 && !p.is_contiguous(format))
      p.set_data(p.data().contiguous(format));
  }
}

// The labeled pool's class shares (distribution alignment's prior).
std::vector<double> class_shares(const data::Dataset& dataset) {
  const std::vector<int64_t> n = dataset.class_counts(dataset.labeled);
  std::vector<double> shares(n.size());
  for (size_t c = 0; c < n.size(); ++c)
    shares[c] = n[c] / std::max<double>(1.0, dataset.labeled.size());
  return shares;
}

// One process, or rank 0 of a data-parallel job: the one that writes files
// and speaks.
bool first_rank(const RunOptions& o) {
  return !o.group || o.group->rank() == 0;
}

// The thresholds in use: FlexMatch's or FreeMatch's, else the DTM's (or
// the fixed ones).
std::vector<double> thresholds(const TrainState& s) {
  auto own = s.labeler.thresholds();
  return own.empty() ? s.thresholds.tau() : own;
}

}  // namespace

Trainer::Trainer(TrainConfig config, RunOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      folder_(options_.run_dir, options_.writer && first_rank(options_)),
      log_(config_, options_.progress && first_rank(options_),
           first_rank(options_)) {
  config_.validate();
  setup_device();
  auto dataset =
      std::make_shared<data::Dataset>(data::build_dataset(config_.data));
  SEMIFER_CHECK(!dataset->labeled.empty(), "the labeled pool is empty");
  SEMIFER_CHECK(!config_.ssl.enabled || !dataset->unlabeled.empty(),
                "ssl.enabled but the unlabeled pool is empty");
  std::vector<data::PoolItem> dtm_pool;
  if (config_.ssl.enabled && config_.ssl.dtm_on == DtmData::kHeldOut) {
    dtm_pool = hold_out(*dataset, config_.ssl.dtm_holdout, config_.train.seed);
    if (options_.progress)
      util::log_message(str("DTM: ", dtm_pool.size(),
                            " labeled images held out of training"));
  }
  dataset_ = std::move(dataset);
  build_state();
  evaluator_ =
      std::make_unique<EpochEvaluator>(dataset_, config_, std::move(dtm_pool));
  join_group();
  open_run();
  if (parallel_) parallel_->broadcast_networks(*state_);
  log_.start(*state_, *dataset_, device_,
             options_.group ? str(options_.group->size(), " ranks, ",
                                  options_.group->backend())
                            : "",
             options_.run_dir, options_.resume);
  setup_graph();
}

void Trainer::setup_graph() {
  if (!config_.train.cuda_graph) return;
  const std::string why =
      GraphedStep::obstacle(*state_, step_options_, device_);
  if (why.empty()) {
    graph_ = std::make_unique<GraphedStep>();
    return;
  }
  summary_.cuda_graph = str("train.cuda_graph: ", why, "; steps run eagerly");
  if (options_.progress) util::log_message(summary_.cuda_graph);
}

void Trainer::join_group() {
  if (!options_.group) return;
  parallel_ = std::make_unique<DataParallelRank>(
      options_.group, *state_, *evaluator_, step_options_,
      config_.train.distributed.bucket_mb);
  parallel_->check_same_run(config_, *dataset_);
}

namespace {

// The program's settings while Trainers are alive (Trainer::ProcessSettings).
std::mutex settings_mutex;
int settings_holders = 0;
int program_threads = 0;
bool program_deterministic = false;
bool program_warn_only = false;

}  // namespace

Trainer::ProcessSettings::ProcessSettings() {
  std::lock_guard<std::mutex> lock(settings_mutex);
  if (settings_holders++ > 0) return;
  program_threads = at::get_num_threads();
  program_deterministic = at::globalContext().deterministicAlgorithms();
  program_warn_only = at::globalContext().deterministicAlgorithmsWarnOnly();
}

Trainer::ProcessSettings::~ProcessSettings() {
  std::lock_guard<std::mutex> lock(settings_mutex);
  if (--settings_holders > 0) return;
  at::globalContext().setDeterministicAlgorithms(program_deterministic,
                                                 program_warn_only);
  at::set_num_threads(program_threads);
}

Trainer::~Trainer() = default;

void Trainer::setup_device() {
  const auto& loop = config_.train;
  device_ = torch::Device(util::resolve_device(loop.device));
  // Set either way: the switch is global, and the program may have turned
  // it on (process_settings_ puts the program's back). Some CUDA kernels
  // have no deterministic variant: warn there.
  at::globalContext().setDeterministicAlgorithms(loop.deterministic,
                                                 device_.is_cuda());
  if (loop.deterministic) {
    torch::set_num_threads(1);
  } else if (loop.torch_threads > 0) {
    util::set_intra_op_threads(loop.torch_threads);
  }
  if (device_.is_cuda())
    compat::set_cuda_speed(loop.tf32,
                           loop.cudnn_benchmark && !loop.deterministic);
  torch::manual_seed(loop.seed);
  step_options_.ssl = config_.ssl;
  step_options_.bf16 = device_.is_cuda() && loop.bf16;
  step_options_.channels_last = device_.is_cuda() && loop.channels_last;
  step_options_.after_backward = options_.after_backward;
  step_options_.clip_grad_norm = loop.clip_grad_norm;
  step_options_.buffers = &step_buffers_;
}

void Trainer::build_state() {
  const auto names = dataset_->classes.names();
  const int num_classes = static_cast<int>(names.size());
  models::ModelOptions mo;
  mo.num_classes = num_classes;
  mo.dropout = config_.model.dropout;
  state_ = std::make_unique<TrainState>();
  TrainState& s = *state_;
  s.student = models::create_model(config_.model.name, mo);
  const std::string& weights = config_.model.weights;
  if (!weights.empty() && infer::is_checkpoint(weights)) {
    // The next stage starts from the previous stage's network A.
    infer::load_network(*s.student, weights, infer::Network::kStudent);
  } else if (!weights.empty()) {
    const auto report = models::import_weights(*s.student, weights);
    if (options_.progress) util::log_message("weights: " + report.summary());
  }
  s.student->to(device_);
  set_layout(*s.student, step_options_.channels_last);
  s.teacher = s.student->clone_classifier();
  s.teacher->eval();
  s.optimizer = make_optimizer(config_.train, s.student->parameters());
  s.thresholds =
      DynamicThresholds(num_classes, config_.ssl.tau, config_.ssl.mu,
                        config_.ssl.thresholds == ThresholdPolicy::kDynamic);
  s.labeler = PseudoLabeler(config_.ssl, num_classes,
                            static_cast<int64_t>(dataset_->unlabeled.size()),
                            class_shares(*dataset_), device_);
  s.thresholds_changed();
  s.window = MetricWindow(num_classes, device_, config_.train.max_loss);
  s.card.model = config_.model.name;
  s.card.dropout = config_.model.dropout;
  s.card.classes = names;
  s.card.input = {config_.augment.size, config_.augment.mean,
                  config_.augment.std};
  s.config_yaml = to_yaml(config_);
}

void Trainer::open_run() {
  TrainState& s = *state_;
  folder_.set_metric_columns(s.card.classes, config_.ssl.enabled);
  const auto& group = options_.group;
  if (options_.auto_resume) {
    const AutoResume a =
        decide_auto_resume(folder_, group.get(), s.config_yaml);
    options_.resume = a == AutoResume::kResume;
    if (a == AutoResume::kStartAgain) {
      options_.overwrite = true;
      util::log_message(str("--auto-resume: ", options_.run_dir,
                            " holds no checkpoint of this run; starting it "
                            "again"));
    }
  }
  if (!options_.resume) {
    folder_.start(options_.overwrite);
    folder_.write_config(s.config_yaml);
    return;
  }
  const std::string path = folder_.last_checkpoint();
  if (first_rank(options_))
    SEMIFER_CHECK(folder_.has_last_checkpoint(), "--resume: no checkpoint at ",
                  path);
  load_on_every_rank(path, group.get(),
                     [&](const std::string& file) { load_resumed(file); });
  // Rank 0 holds the open window's sums.
  if (!first_rank(options_)) s.window.clear_sums();
  const int64_t ranks = group ? group->size() : 1;
  SEMIFER_CHECK(s.world_size == ranks, "--resume: ", path,
                " was written by a run of ", s.world_size,
                s.world_size == 1 ? " process" : " ranks", "; this one has ",
                ranks,
                ". Resume with the same number of ranks, or start a new run "
                "from its networks with model.weights");
  set_layout(*s.student, step_options_.channels_last);
  set_layout(*s.teacher, step_options_.channels_last);
  s.world_size = ranks;
  folder_.resume_at(s.step);
  checkpoints_.resumed_at(s.step);
  if (!summary_.changes.empty()) {
    folder_.write_config(s.config_yaml);
    for (const auto& c : summary_.changes) {
      util::log_message(
          str("resume: ", c.key, " changed from ", c.before, " to ", c.after));
    }
  }
}

void Trainer::load_resumed(const std::string& path) {
  TrainState& s = *state_;
  const std::string yaml = s.config_yaml;
  s.load(path, [&](const std::string& saved) {
    check_resume(saved, folder_.last_checkpoint());
  });
  s.config_yaml = yaml;
}

void Trainer::check_resume(const std::string& saved, const std::string& path) {
  SEMIFER_CHECK(!saved.empty(), path,
                ": the checkpoint holds no config (written by an older "
                "semifer); cannot check that --resume continues the same run");
  ResumeCheck check =
      check_resume_changes(parse_train_config(saved, path), config_);
  summary_.changes = std::move(check.allowed);
  const std::string& refused = check.refused;
  SEMIFER_CHECK(refused.empty(),
                "--resume: the config differs from the run in ",
                options_.run_dir, " where a resumed run must not: ", refused,
                " (start a new run with another --out, or --overwrite)");
}

void Trainer::save() {
  TrainState& s = *state_;
  checkpoints_.check_saveable(s);
  if (parallel_) {
    parallel_->broadcast_buffers(s);
    s.window.reduce(*options_.group, /*root_only=*/true);
  }
  checkpoints_.save_last(s);
}

RunSummary Trainer::run() {
  TrainState& s = *state_;
  const int64_t total = config_.train.total_steps();
  summary_.last_checkpoint = folder_.last_checkpoint();
  summary_.first_step = s.step;
  if (s.step < total) {
    data::LoaderConfig lc;
    lc.batch_labeled = config_.train.batch_labeled;
    lc.batch_unlabeled =
        config_.ssl.enabled ? config_.train.batch_unlabeled : 0;
    lc.threads = config_.train.threads;
    lc.seed = config_.train.seed;
    lc.device_views = views_on_device();
    if (options_.group) {
      lc.rank = options_.group->rank();
      lc.world_size = options_.group->size();
    }
    // Not started when the input comes from options_.input (no worker
    // threads beside the measured steps).
    std::unique_ptr<data::Loader> loader;
    if (!options_.input)
      loader =
          std::make_unique<data::Loader>(dataset_, config_.augment, lc, s.step);
    log_.begin(s);
    window_start_ = Clock::now();
    input_seconds_ = 0;
    s.student->train();
    while (s.step < total) {
      train_step(loader.get());
      bool stop = options_.stop_requested && options_.stop_requested();
      // Every rank stops at the same step.
      if (options_.group) stop = options_.group->any(stop);
      if (stop && s.step < total) {
        if (checkpoints_.pending_step() != s.step) save();
        summary_.stopped = true;
        break;
      }
    }
    // Nothing follows the last checkpoint to confirm it: the run's own
    // checks (the losses so far, finite weights) vouch for it.
    checkpoints_.commit();
    log_.finish();
  }
  summary_.steps = s.step;
  summary_.best_f1 = s.best_f1;
  summary_.best_step = s.best_step;
  summary_.best_network = s.best_network;
  if (graph_ && summary_.cuda_graph.empty())
    summary_.cuda_graph = "no step captured yet";
  return summary_;
}

void Trainer::train_step(data::Loader* loader) {
  TrainState& s = *state_;
  const auto& loop = config_.train;
  const auto asked = Clock::now();
  data::Step batch = options_.input ? options_.input(s.step) : loader->next();
  input_seconds_ += std::chrono::duration<double>(Clock::now() - asked).count();
  // A device_views loader's step: the views are rendered here, queued on
  // the device like the step itself (nothing on a step that has views).
  data::render_step_views(batch, config_.augment, device_);
  if (options_.group) options_.group->set_step(s.step);
  lr_ = learning_rate(loop, s.step, loop.total_steps());
  set_learning_rate(*s.optimizer, lr_);
  const bool semi = config_.ssl.enabled;
  StepStats stats;
  if (graph_) {
    stats = graph_->run(s, batch, semi, step_options_, lr_);
    if (std::string note = graph_->note(); !note.empty()) {
      if (options_.progress) util::log_message(note);
      // The first note (the capture or its failure) says what the run did.
      if (summary_.cuda_graph.empty()) summary_.cuda_graph = std::move(note);
    }
  } else {
    stats = run_step(s, batch, semi, step_options_);
  }
  ++s.step;
  if (checkpoints_.pending_step() >= 0) checkpoints_.confirm(s, stats.loss);
  int64_t images = batch.labeled.x_weak.size(0);
  if (config_.ssl.enabled) images += batch.unlabeled.x_weak.size(0);
  s.window.add(stats, images, s.step);
  log_.step(s);
  const bool epoch_end = s.step % loop.steps_per_epoch == 0;
  if (s.step % loop.log_every == 0 || epoch_end) end_window(epoch_end);
  if (s.step % loop.checkpoint_every == 0 || epoch_end ||
      s.step == loop.total_steps())
    save();
}

bool Trainer::views_on_device() const {
  switch (config_.train.views) {
    case ViewsPlace::kCpu:
      return false;
    case ViewsPlace::kDevice:
      return true;
    case ViewsPlace::kAuto:
      break;
  }
  return device_.is_cuda();
}

void Trainer::end_window(bool epoch_end) {
  TrainState& s = *state_;
  if (options_.group) s.window.reduce(*options_.group);
  const WindowSummary w = s.window.summary();
  checkpoints_.check_losses(s, w);
  const double secs =
      std::chrono::duration<double>(Clock::now() - window_start_).count();
  const auto& names = s.card.classes;
  io::MetricsLine line;
  line.epoch = config_.train.epoch_of(s.step);
  line.step = s.step;
  line.loss_labeled = w.loss_labeled;
  line.lr = lr_;
  line.images_per_second = w.images / std::max(secs, 1e-9);
  line.input_wait = std::min(1.0, input_seconds_ / std::max(secs, 1e-9));
  if (config_.ssl.enabled) {
    line.loss_unlabeled = w.loss_unlabeled;
    line.mask_rate = w.mask_rate;
    line.mask_rate_per_class = io::per_class(names, w.mask_rate_per_class);
    line.pseudo_label_accuracy_per_class =
        io::per_class(names, w.pseudo_label_accuracy);
    line.tau = io::per_class(names, thresholds(s));
    if (w.mask_rate > 0) epoch_kept_any_ = true;
  }
  if (epoch_end) end_epoch(line);
  folder_.append_metrics(line);
  if (options_.on_metrics) options_.on_metrics(line);
  log_.window(s, line, w);
  s.window.reset();
  input_seconds_ = 0;
  window_start_ = Clock::now();
}

void Trainer::end_epoch(io::MetricsLine& line) {
  TrainState& s = *state_;
  const auto& names = s.card.classes;
  if (parallel_) parallel_->broadcast_buffers(s);
  log_.epoch_work(
      s, line.epoch.value_or(0),
      config_.eval_max > 0
          ? std::min<int64_t>(config_.eval_max, dataset_->validation.size())
          : static_cast<int64_t>(dataset_->validation.size()));
  if (config_.ssl.enabled) {
    const auto tau = thresholds(s);  // the ones this epoch used
    const auto confidence = evaluator_->update_thresholds(s);
    line.tau = io::per_class(names, thresholds(s));
    line.dtm_mean_confidence = io::per_class(names, confidence);
    if (!epoch_kept_any_ && !warned_no_pseudo_) {
      log_.no_pseudo_labels(s, tau, confidence);
      warned_no_pseudo_ = true;
    }
    epoch_kept_any_ = false;
  }
  const auto scores = evaluator_->validate(s);
  if (!scores) return;
  line.validation_a = scores->a;
  line.validation_b = scores->b;
  const double f1_a = scores->a.macro_f1.value_or(-1);
  const double f1_b = scores->b.macro_f1.value_or(-1);
  s.card.validation_step = s.step;
  s.card.validation_f1_a = f1_a;
  s.card.validation_f1_b = f1_b;
  checkpoints_.keep_best(s, f1_a, f1_b);
}

RunSummary run_training(const TrainConfig& config, const RunOptions& options) {
  return Trainer(config, options).run();
}

}  // namespace semifer::train
