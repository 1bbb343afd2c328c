// The recipe options of issue 12: learning-rate schedules and optimizers,
// the pseudo-labeler's policies (FlexMatch, FreeMatch, SoftMatch,
// distribution alignment) and the DTM's hold-out, each against a hand
// calculation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "semifer/data/dataset.h"
#include "semifer/data/labels.h"
#include "semifer/train/losses.h"
#include "semifer/train/optimizer.h"
#include "semifer/train/pseudo_labels.h"
#include "semifer/train/validation.h"

namespace semifer::test {

using train::PseudoLabeler;
using train::SslConfig;

namespace {

at::Tensor probs(std::vector<std::vector<float>> rows) {
  std::vector<at::Tensor> t;
  for (auto& r : rows) t.push_back(torch::tensor(r));
  return torch::stack(t);
}

at::Tensor index(std::vector<int64_t> v) {
  return torch::tensor(v, torch::kInt64);
}

std::vector<float> values(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

}  // namespace

TEST(LearningRate, WarmsUpThenFollowsTheSchedule) {
  train::LoopConfig loop;
  loop.lr = 0.1;
  EXPECT_DOUBLE_EQ(train::learning_rate(loop, 0, 100), 0.1);
  EXPECT_DOUBLE_EQ(train::learning_rate(loop, 99, 100), 0.1);
  loop.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(train::learning_rate(loop, 0, 100), 0.01);
  EXPECT_DOUBLE_EQ(train::learning_rate(loop, 4, 100), 0.05);
  EXPECT_DOUBLE_EQ(train::learning_rate(loop, 10, 100), 0.1);
  loop.lr_schedule = train::LrSchedule::kCosine;
  // After the warm-up: half a cosine over the 90 remaining steps.
  EXPECT_DOUBLE_EQ(train::learning_rate(loop, 10, 100), 0.1);
  EXPECT_NEAR(train::learning_rate(loop, 55, 100), 0.05, 1e-12);
  EXPECT_NEAR(train::learning_rate(loop, 100, 100), 0.0, 1e-12);
  EXPECT_NEAR(train::learning_rate(loop, 25, 100),
              0.1 * (1 + std::cos(M_PI * 15 / 90)) / 2, 1e-12);
}

TEST(Optimizer, BuildsTheKindTheConfigNames) {
  auto w = torch::ones({3}, torch::requires_grad());
  train::LoopConfig loop;
  loop.lr = 0.5;
  loop.weight_decay = 0.1;
  loop.optimizer = train::OptimizerKind::kSgd;
  loop.momentum = 0.9;
  auto sgd = train::make_optimizer(loop, {w});
  auto* as_sgd = dynamic_cast<torch::optim::SGD*>(sgd.get());
  ASSERT_NE(as_sgd, nullptr);
  const auto& o =
      static_cast<const torch::optim::SGDOptions&>(as_sgd->defaults());
  EXPECT_TRUE(o.nesterov());
  EXPECT_DOUBLE_EQ(o.momentum(), 0.9);
  EXPECT_DOUBLE_EQ(o.weight_decay(), 0.1);
  // One step of SGD with weight decay by hand: g = 1 + 0.1 w; the first
  // Nesterov step moves by lr (g + 0.9 g).
  w.sum().backward();
  sgd->step();
  EXPECT_NEAR(w[0].item<double>(), 1 - 0.5 * 1.1 * 1.9, 1e-6);
  train::set_learning_rate(*sgd, 0.25);
  EXPECT_DOUBLE_EQ(sgd->param_groups()[0].options().get_lr(), 0.25);
  loop.optimizer = train::OptimizerKind::kAdamW;
  EXPECT_NE(dynamic_cast<torch::optim::AdamW*>(
                train::make_optimizer(loop, {w}).get()),
            nullptr);
  loop.optimizer = train::OptimizerKind::kAdam;
  EXPECT_NE(
      dynamic_cast<torch::optim::Adam*>(train::make_optimizer(loop, {w}).get()),
      nullptr);
}

TEST(PseudoLabeler, ThePapersRecipeIsTheDtmMask) {
  const auto lw = torch::randn({16, 3}, torch::Generator());
  const auto ls = torch::randn({16, 3});
  const auto tau = torch::tensor({0.5f, 0.6f, 0.4f});
  PseudoLabeler labeler(SslConfig{}, 3, 16, {}, torch::kCPU);
  const auto got =
      labeler.label(train::mean_view_probs(lw, ls), tau, torch::arange(16));
  const auto want = train::pseudo_label_loss(lw, ls, tau);
  EXPECT_TRUE(torch::equal(got.pseudo, want.pseudo));
  EXPECT_TRUE(torch::equal(got.weight, want.mask));
  EXPECT_TRUE(labeler.thresholds().empty());
}

TEST(PseudoLabeler, FlexMatchScalesTauByEachClassLearningEffect) {
  SslConfig ssl;
  ssl.thresholds = train::ThresholdPolicy::kFlexMatch;
  ssl.tau = 0.8;
  PseudoLabeler labeler(ssl, 2, 5, {}, torch::kCPU);
  // Nothing learned yet: beta = 0, every threshold 0, all kept; the two
  // predictions above 0.8 are remembered (sample 1 as class 0, 3 as 1).
  auto out = labeler.label(
      probs({{0.6f, 0.4f}, {0.9f, 0.1f}, {0.3f, 0.7f}, {0.15f, 0.85f}}),
      torch::zeros({2}), index({0, 1, 2, 3}));
  EXPECT_EQ(values(out.weight), std::vector<float>({1, 1, 1, 1}));
  // sigma = (1, 1), never above tau: 3 of 5 -> beta = 1/3 each,
  // tau_c = 0.8 * (1/3) / (2 - 1/3) = 0.16.
  auto th = labeler.thresholds();
  ASSERT_EQ(th.size(), 2u);
  EXPECT_NEAR(th[0], 0.16, 1e-6);
  EXPECT_NEAR(th[1], 0.16, 1e-6);
  // Sample 4 above tau as class 0, sample 1 again as class 0: sigma =
  // (2, 1), unused 2 -> beta = (1, 1/2); tau = (0.8, 0.8 * 0.5 / 1.5).
  labeler.label(probs({{0.95f, 0.05f}, {0.85f, 0.15f}}), torch::zeros({2}),
                index({4, 1}));
  th = labeler.thresholds();
  EXPECT_NEAR(th[0], 0.8, 1e-6);
  EXPECT_NEAR(th[1], 0.8 / 3, 1e-6);
  out = labeler.label(probs({{0.79f, 0.21f}, {0.81f, 0.19f}, {0.3f, 0.7f}}),
                      torch::zeros({2}), index({0, 2, 3}));
  EXPECT_EQ(values(out.weight), std::vector<float>({0, 1, 1}));
}

TEST(PseudoLabeler, FreeMatchThresholdsFollowTheRunningConfidence) {
  SslConfig ssl;
  ssl.thresholds = train::ThresholdPolicy::kFreeMatch;
  ssl.stats_momentum = 0.5;
  PseudoLabeler labeler(ssl, 2, 0, {}, torch::kCPU);
  // Batch mean of max p = 0.8, mean p = (0.6, 0.4): tau_g = 0.5 * 0.5 + 0.5
  // * 0.8 = 0.65; p~ = (0.55, 0.45); tau = 0.65 * (1, 0.45 / 0.55).
  const auto out = labeler.label(probs({{0.9f, 0.1f}, {0.3f, 0.7f}}),
                                 torch::zeros({2}), index({0, 1}));
  const auto th = labeler.thresholds();
  ASSERT_EQ(th.size(), 2u);
  EXPECT_NEAR(th[0], 0.65, 1e-6);
  EXPECT_NEAR(th[1], 0.65 * 0.45 / 0.55, 1e-6);
  EXPECT_EQ(values(out.weight), std::vector<float>({1, 1}));
}

TEST(PseudoLabeler, SoftMatchWeighsByATruncatedGaussian) {
  SslConfig ssl;
  ssl.weighting = train::Weighting::kSoft;
  ssl.stats_momentum = 0;  // the batch's own mean and variance
  PseudoLabeler labeler(ssl, 2, 0, {}, torch::kCPU);
  const auto out = labeler.label(probs({{0.9f, 0.1f}, {0.4f, 0.6f}}),
                                 torch::ones({2}), index({0, 1}));
  // mu = 0.75, var (n - 1) = 0.045; below mu: exp(-(0.15^2) / (2 * var / 4)).
  const auto w = values(out.weight);
  EXPECT_FLOAT_EQ(w[0], 1.0f);
  EXPECT_NEAR(w[1], std::exp(-(0.15 * 0.15) / (2 * 0.045 / 4)), 1e-5);
  EXPECT_TRUE(labeler.thresholds().empty());
}

TEST(PseudoLabeler, AlignmentScalesByPriorOverRunningMean) {
  SslConfig ssl;
  ssl.alignment = train::Alignment::kLabeled;
  ssl.stats_momentum = 0;
  ssl.thresholds = train::ThresholdPolicy::kFixed;
  PseudoLabeler labeler(ssl, 2, 0, {0.5, 0.5}, torch::kCPU);
  // Mean p = (0.8, 0.2): class 0 is over-predicted; p * (0.5/0.8, 0.5/0.2)
  // renormalised: (0.7, 0.3) -> (0.4375, 0.75) / 1.1875.
  const auto out = labeler.label(probs({{0.7f, 0.3f}, {0.9f, 0.1f}}),
                                 torch::full({2}, 0.6), index({0, 1}));
  EXPECT_EQ(out.pseudo[0].item<int64_t>(), 1);
  EXPECT_NEAR(out.confidence[0].item<float>(), 0.75 / 1.1875, 1e-5);
  EXPECT_EQ(out.pseudo[1].item<int64_t>(), 0);
  EXPECT_NEAR(out.confidence[1].item<float>(), 0.5625 / (0.5625 + 0.25), 1e-5);
}

TEST(PseudoLabeler, RunningEstimatesSurviveSaveAndLoad) {
  SslConfig ssl;
  ssl.thresholds = train::ThresholdPolicy::kFlexMatch;
  ssl.alignment = train::Alignment::kUniform;
  PseudoLabeler a(ssl, 2, 3, {}, torch::kCPU);
  a.label(probs({{0.99f, 0.01f}, {0.2f, 0.8f}}), torch::zeros({2}),
          index({2, 0}));
  torch::serialize::OutputArchive out;
  a.save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  PseudoLabeler b(ssl, 2, 3, {}, torch::kCPU);
  EXPECT_NE(a.thresholds(), b.thresholds());
  b.load(in, "test");
  EXPECT_EQ(a.thresholds(), b.thresholds());
  // Another pool size is refused by name.
  PseudoLabeler c(ssl, 2, 4, {}, torch::kCPU);
  torch::serialize::InputArchive again;
  bytes.seekg(0);
  again.load_from(bytes);
  EXPECT_THROW(c.load(again, "test"), std::exception);
}

TEST(DtmHoldOut, MovesAShareOfEachClassOutOfTraining) {
  auto make = [] {
    data::Dataset d;
    d.classes = data::LabelSpace::from_names({"Neutral", "Anger", "Disgust"});
    auto add = [&](int n, int16_t label, uint32_t first) {
      for (int i = 0; i < n; ++i)
        d.labeled.push_back({0, first + static_cast<uint32_t>(i), label});
    };
    add(30, 0, 0);
    add(5, 1, 100);
    add(1, 2, 200);
    return d;
  };
  data::Dataset d = make();
  const auto held = train::hold_out(d, 0.1, 7);
  std::map<int, int> counts;
  std::set<uint32_t> ids;
  for (const auto& item : held) {
    ++counts[item.label];
    ids.insert(item.index);
  }
  EXPECT_EQ(counts[0], 3);
  EXPECT_EQ(counts[1], 1);  // at least one
  EXPECT_EQ(counts[2], 0);  // never a class's only image
  EXPECT_EQ(d.labeled.size(), 36u - 4u);
  for (const auto& item : d.labeled) EXPECT_EQ(ids.count(item.index), 0u);
  // Seeded: the same seed holds out the same images, another seed others.
  data::Dataset same = make(), other = make();
  const auto again = train::hold_out(same, 0.1, 7);
  const auto moved = train::hold_out(other, 0.1, 8);
  ASSERT_EQ(again.size(), held.size());
  bool differs = false;
  for (size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(again[i].index, held[i].index);
    differs |= moved[i].index != held[i].index;
  }
  EXPECT_TRUE(differs);
}

}  // namespace semifer::test

// Every recipe option through the Trainer: a run stopped part-way and
// resumed ends bit for bit where the uninterrupted one does (the running
// estimates and FlexMatch's memory are in the checkpoint), and the metric
// lines carry the schedule's learning rate.
#include "semifer/data/synthetic.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/io/metrics_log.h"
#include "semifer/train/trainer.h"
#include "semifer/util/device.h"
#include "semifer/util/log.h"
#include "support/support.h"

namespace semifer::test {

namespace {

at::Tensor flat_student(const std::string& checkpoint) {
  const auto m = infer::load_checkpoint(checkpoint, infer::Network::kStudent);
  std::vector<at::Tensor> parts;
  for (const auto& p : m.model->parameters()) parts.push_back(p.flatten());
  return torch::cat(parts);
}

class RecipeResume : public ::testing::TestWithParam<std::vector<std::string>> {
};

// A 12-step semi-supervised run on synthetic faces, on the CPU.
train::TrainConfig small_run(TempDir& t,
                             const std::vector<std::string>& overrides) {
  data::SyntheticConfig sc;
  sc.out_dir = t.file("data");
  sc.size = 32;
  sc.scale = 0.3;
  sc.videos = 1;
  sc.frames = 10;
  const auto data = data::write_synthetic_dataset(sc);
  const std::string cfg = write_text_file(
      t.file("train.yaml"),
      "data: " + data.config_path +
          "\naugment: {size: 32}\nmodel: {name: smallnet}\n"
          "train: {epochs: 2, steps_per_epoch: 6, batch_labeled: 8, "
          "batch_unlabeled: 8, log_every: 3, checkpoint_every: 4, threads: "
          "2, device: cpu, deterministic: true}\n"
          "ssl: {dtm_per_class: 10, tau: 0.6}\neval: {max_samples: 30}\n");
  return train::load_train_config(cfg, overrides);
}

}  // namespace

TEST_P(RecipeResume, StoppedAndResumedRunEndsBitIdentical) {
  TempDir t;
  const train::TrainConfig config = small_run(t, GetParam());
  train::RunOptions full;
  full.run_dir = t.file("full");
  full.progress = false;
  train::run_training(config, full);

  train::RunOptions part = full;
  part.run_dir = t.file("part");
  int steps = 0;
  part.stop_requested = [&] { return ++steps == 5; };
  const auto stopped = train::run_training(config, part);
  ASSERT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.steps, 5);
  part.stop_requested = {};
  part.resume = true;
  train::run_training(config, part);
  EXPECT_TRUE(torch::equal(flat_student(t.file("full/checkpoint_last.pt")),
                           flat_student(t.file("part/checkpoint_last.pt"))));
  const auto a = io::read_metrics(t.file("full/metrics.jsonl"));
  const auto b = io::read_metrics(t.file("part/metrics.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].loss_unlabeled, b[i].loss_unlabeled) << "line " << i;
    EXPECT_EQ(a[i].tau, b[i].tau) << "line " << i;
    EXPECT_DOUBLE_EQ(*a[i].lr,
                     train::learning_rate(config.train, *a[i].step - 1, 12));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Recipes, RecipeResume,
    ::testing::Values(
        // The views rendered by the batched renderer (augment/batched.h).
        std::vector<std::string>{"train.views=device"},
        std::vector<std::string>{
            "ssl.thresholds=flexmatch", "ssl.alignment=labeled",
            "ssl.pseudo_labels=teacher", "train.optimizer=sgd", "train.lr=0.01",
            "train.lr_schedule=cosine", "train.warmup_steps=3",
            "train.clip_grad_norm=1", "train.weight_decay=0.0005",
            "ssl.dtm_on=heldout", "ssl.dtm_weak_view=true",
            "ssl.unlabeled_warmup=4"},
        std::vector<std::string>{
            "ssl.thresholds=freematch", "ssl.pseudo_labels=weak",
            "train.optimizer=adamw", "train.weight_decay=0.01"},
        std::vector<std::string>{"ssl.weighting=soft",
                                 "ssl.alignment=uniform"}));

}  // namespace semifer::test

namespace semifer::test {

// train.views=device renders the loader's plans with the batched renderer
// on the training device: without RandAugment's geometric ops (its only
// inexact part, augment/batched.h) a run is bit for bit the run whose
// loader threads render the views.
TEST(TrainViews, OnTheDeviceTrainsAsTheLoaderThreadsDo) {
  // RandAugment draws among all 14 ops, geometric ones included: off here
  // (flip, crop, jitter and Cutout stay; tests/augment cover each op).
  TempDir t;
  train::TrainConfig cpu =
      small_run(t, {"augment.randaugment_n=0", "train.views=cpu"});
  train::TrainConfig device = cpu;
  device.train.views = train::ViewsPlace::kDevice;
  train::RunOptions a;
  a.run_dir = t.file("cpu");
  a.progress = false;
  train::RunOptions b = a;
  b.run_dir = t.file("device");
  train::run_training(cpu, a);
  train::run_training(device, b);
  EXPECT_TRUE(torch::equal(flat_student(t.file("cpu/checkpoint_last.pt")),
                           flat_student(t.file("device/checkpoint_last.pt"))));
  const auto x = io::read_metrics(t.file("cpu/metrics.jsonl"));
  const auto y = io::read_metrics(t.file("device/metrics.jsonl"));
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].loss_labeled, y[i].loss_labeled) << "line " << i;
    EXPECT_EQ(x[i].loss_unlabeled, y[i].loss_unlabeled) << "line " << i;
  }
}

}  // namespace semifer::test

namespace semifer::test {

namespace {

// The library's log lines, kept (installed for one test's lifetime).
class KeptLog {
 public:
  KeptLog() : lines_(std::make_shared<std::vector<std::string>>()) {
    util::set_log_sink(std::make_shared<Sink>(lines_));
  }
  ~KeptLog() { util::set_log_sink(nullptr); }
  // The lines containing `part`.
  std::vector<std::string> with(const std::string& part) const {
    std::vector<std::string> out;
    for (const auto& l : *lines_)
      if (l.find(part) != std::string::npos) out.push_back(l);
    return out;
  }

 private:
  struct Sink : util::LogSink {
    explicit Sink(std::shared_ptr<std::vector<std::string>> l)
        : lines(std::move(l)) {}
    void message(const std::string& line) override { lines->push_back(line); }
    std::shared_ptr<std::vector<std::string>> lines;
  };
  std::shared_ptr<std::vector<std::string>> lines_;
};

// `eager` trained into t/eager, then with train.cuda_graph into t/graph;
// what the second run said of the graph.
struct EagerAndGraph {
  train::TrainConfig eager, graph;
  train::RunOptions eager_run, graph_run;
  train::RunSummary summary;      // the graph run's
  std::vector<std::string> said;  // its log lines on train.cuda_graph
};

EagerAndGraph train_eager_and_graph(TempDir& t,
                                    const train::TrainConfig& eager) {
  EagerAndGraph r;
  r.eager = r.graph = eager;
  r.graph.train.cuda_graph = true;
  r.eager_run.run_dir = t.file("eager");
  r.graph_run.run_dir = t.file("graph");
  train::run_training(r.eager, r.eager_run);
  KeptLog log;
  r.summary = train::run_training(r.graph, r.graph_run);
  r.said = log.with("train.cuda_graph");
  return r;
}

}  // namespace

// train.cuda_graph where no graph can be captured (here: the CPU) says why
// once and trains exactly as without it.
TEST(TrainCudaGraph, WhereItCannotCaptureTheRunSaysWhyAndTrainsEagerly) {
  TempDir t;
  const auto said = train_eager_and_graph(t, small_run(t, {})).said;
  ASSERT_EQ(said.size(), 1u);
  EXPECT_NE(said[0].find("need a CUDA device; the run is on cpu; steps run "
                         "eagerly"),
            std::string::npos)
      << said[0];
  EXPECT_TRUE(torch::equal(flat_student(t.file("eager/checkpoint_last.pt")),
                           flat_student(t.file("graph/checkpoint_last.pt"))));
}

// CUDA only (the GPU machine runs it; docs/training.md, "CUDA graphs"): a
// run whose step is captured after 3 eager steps and replayed agrees with
// the eager run over 20 steps, across a checkpoint (the optimizer's host
// step counts follow the replays) and a DTM update (tau changes in place).
TEST(TrainCudaGraph, CapturedStepsAgreeWithEagerOnesOnCuda) {
  if (!util::cuda_available()) GTEST_SKIP() << "no CUDA device";
  TempDir t;
  // float32 throughout, cuDNN's default algorithms, no dropout (whether a
  // replay draws the eager step's numbers is the generator's business):
  // the two runs launch the same kernels; what differs is the order of
  // atomic additions.
  const EagerAndGraph r = train_eager_and_graph(
      t, small_run(t, {"model.dropout=0", "train.device=cuda",
                       "train.deterministic=false", "train.bf16=false",
                       "train.tf32=false", "train.cudnn_benchmark=false",
                       "train.epochs=2", "train.steps_per_epoch=10",
                       "train.log_every=5", "train.checkpoint_every=7",
                       "train.optimizer_kernels=fused"}));
  EXPECT_EQ(r.summary.steps, 20);
  const auto& said = r.said;
  ASSERT_FALSE(said.empty()) << "no capture message";
  if (said[0].find("needs LibTorch >= 2.2") != std::string::npos)
    GTEST_SKIP() << said[0];
  EXPECT_NE(said[0].find("step 3 captured"), std::string::npos) << said[0];
  EXPECT_EQ(r.summary.cuda_graph, said[0]);
  const at::Tensor x = flat_student(t.file("eager/checkpoint_last.pt"));
  const at::Tensor y = flat_student(t.file("graph/checkpoint_last.pt"));
  const double scale = x.abs().max().item<double>();
  EXPECT_LE((x - y).abs().max().item<double>(), 1e-3 * scale);
  const auto p = io::read_metrics(t.file("eager/metrics.jsonl"));
  const auto q = io::read_metrics(t.file("graph/metrics.jsonl"));
  ASSERT_EQ(p.size(), q.size());
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_NEAR(*p[i].loss_labeled, *q[i].loss_labeled,
                1e-3 * (1 + std::abs(*p[i].loss_labeled)))
        << "line " << i;
    EXPECT_NEAR(*p[i].loss_unlabeled, *q[i].loss_unlabeled,
                1e-3 * (1 + std::abs(*p[i].loss_unlabeled)))
        << "line " << i;
  }
  // The replays' Adam steps are counted in the checkpoint (Adam's bias
  // correction depends on them): both runs resumed for 10 more steps still
  // agree.
  for (const bool captured : {false, true}) {
    train::TrainConfig more = captured ? r.graph : r.eager;
    more.train.epochs = 3;
    train::RunOptions resumed = captured ? r.graph_run : r.eager_run;
    resumed.resume = true;
    EXPECT_EQ(train::run_training(more, resumed).steps, 30);
  }
  const at::Tensor x2 = flat_student(t.file("eager/checkpoint_last.pt"));
  const at::Tensor y2 = flat_student(t.file("graph/checkpoint_last.pt"));
  EXPECT_LE((x2 - y2).abs().max().item<double>(), 1e-3 * scale);
}

}  // namespace semifer::test
