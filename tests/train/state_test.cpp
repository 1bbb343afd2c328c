// The train state's save/load pair and the device-side metric window.
#include "semifer/train/state.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "semifer/infer/checkpoint.h"
#include "semifer/models/registry.h"
#include "semifer/train/losses.h"
#include "semifer/train/metric_window.h"
#include "semifer/train/pseudo_labels.h"
#include "semifer/train/step.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace {

train::TrainState make_state(int classes) {
  train::TrainState s;
  s.student = models::create_model("smallnet", models::ModelOptions{classes});
  s.teacher = s.student->clone_classifier();
  s.optimizer = std::make_unique<torch::optim::Adam>(
      s.student->parameters(), torch::optim::AdamOptions(1e-3));
  s.thresholds = train::DynamicThresholds(classes, 0.9);
  s.thresholds_changed();
  s.window = train::MetricWindow(classes, torch::kCPU);
  s.card.model = "smallnet";
  s.card.classes.assign(static_cast<size_t>(classes), "Neutral");
  return s;
}

train::StepStats stats(float loss, std::vector<int64_t> pseudo,
                       std::vector<float> mask, std::vector<int64_t> hidden) {
  train::StepStats s;
  s.loss = torch::tensor(loss);
  s.loss_labeled = torch::tensor(loss / 2);
  s.loss_unlabeled = torch::tensor(loss / 4);
  s.pseudo = torch::tensor(pseudo, torch::kInt64);
  s.mask = torch::tensor(mask);
  s.hidden = torch::tensor(hidden, torch::kInt64);
  return s;
}

at::Tensor flat(const models::ClassifierImpl& m) {
  std::vector<at::Tensor> parts;
  for (const auto& p : m.parameters()) parts.push_back(p.detach().flatten());
  return torch::cat(parts);
}

}  // namespace

TEST(MetricWindow, SumsStepsOnTheDeviceAndReadsThemOnce) {
  train::MetricWindow w(3, torch::kCPU);
  w.add(stats(2.0f, {0, 1, 1, 2}, {1, 0, 1, 1}, {0, -1, 2, 2}), 8, 1);
  w.add(stats(4.0f, {1}, {1}, {1}), 4, 2);
  const train::WindowSummary s = w.summary();
  EXPECT_EQ(s.steps, 2);
  EXPECT_EQ(s.images, 12);
  EXPECT_DOUBLE_EQ(s.loss_labeled, 1.5);
  EXPECT_DOUBLE_EQ(s.loss_unlabeled, 0.75);
  EXPECT_DOUBLE_EQ(s.max_loss, 4.0);
  EXPECT_EQ(s.first_unsound_step, -1);
  EXPECT_DOUBLE_EQ(s.mask_rate, 4.0 / 5);
  // class 0: 1 of 1 kept; class 1: 2 of 3; class 2: 1 of 1.
  EXPECT_DOUBLE_EQ(s.mask_rate_per_class[0], 1.0);
  EXPECT_DOUBLE_EQ(s.mask_rate_per_class[1], 2.0 / 3);
  // kept with a known hidden label: class 0 right, class 1 one wrong (2 vs
  // 1) and one right, class 2 right.
  EXPECT_DOUBLE_EQ(s.pseudo_label_accuracy[0], 1.0);
  EXPECT_DOUBLE_EQ(s.pseudo_label_accuracy[1], 0.5);
  EXPECT_DOUBLE_EQ(s.pseudo_label_accuracy[2], 1.0);

  train::MetricWindow copy(3, torch::kCPU);
  copy.from_tensor(w.to_tensor());
  const auto c = copy.summary();
  EXPECT_EQ(c.steps, 2);
  EXPECT_EQ(c.mask_rate_per_class, s.mask_rate_per_class);
  EXPECT_DOUBLE_EQ(c.max_loss, 4.0);
  // A NaN loss stays visible; an empty class reads -1.
  w.reset();
  w.add(stats(NAN, {0}, {0}, {-1}), 1, 7);
  EXPECT_TRUE(std::isnan(w.summary().max_loss));
  EXPECT_EQ(w.summary().mask_rate_per_class[1], -1.0);
  EXPECT_EQ(w.summary().first_unsound_step, 7);
  w.add(stats(INFINITY, {0}, {0}, {-1}), 1, 8);  // a later one: still 7
  EXPECT_EQ(w.summary().first_unsound_step, 7);
  w.reset();
  EXPECT_EQ(w.summary().first_unsound_step, -1);
  expect_error([&] { copy.from_tensor(torch::zeros({3})); }, {"metric window"});
}

TEST(MetricWindow, NamesTheFirstStepAboveTheLossCeiling) {
  train::MetricWindow w(3, torch::kCPU, /*loss_ceiling=*/10.0);
  w.add(stats(9.0f, {0}, {1}, {0}), 1, 4);
  w.add(stats(12.0f, {0}, {1}, {0}), 1, 5);
  w.add(stats(11.0f, {0}, {1}, {0}), 1, 6);
  const auto s = w.summary();
  EXPECT_DOUBLE_EQ(s.max_loss, 12.0);
  EXPECT_EQ(s.first_unsound_step, 5);
  // Without a ceiling only NaN and infinity are unsound.
  train::MetricWindow open(3, torch::kCPU);
  open.add(stats(1e6f, {0}, {1}, {0}), 1, 1);
  EXPECT_EQ(open.summary().first_unsound_step, -1);
}

// The unlabeled loss weight read from a device tensor (what a captured CUDA
// graph replays with, graph.h) gives the steps the host's value gives, bit
// for bit, while ssl.unlabeled_warmup ramps it.
TEST(RunStep, TakesTheUnlabeledWeightFromATensorAsFromTheHost) {
  const int classes = 3;
  train::SslConfig ssl;
  ssl.unlabeled_warmup = 10;
  ssl.lambda_unlabeled = 0.7;
  auto build = [&] {
    torch::manual_seed(5);
    train::TrainState s = make_state(classes);
    s.thresholds = train::DynamicThresholds(classes, 0.0);  // keep every label
    s.thresholds_changed();
    s.labeler = train::PseudoLabeler(ssl, classes, 16, {}, torch::kCPU);
    return s;
  };
  train::TrainState host = build(), device = build();
  torch::manual_seed(6);
  data::Step batch;
  batch.labeled.x_weak = torch::randn({4, 3, 48, 48});
  batch.labeled.y = torch::tensor({0, 1, 2, 0}, torch::kInt64);
  batch.unlabeled.x_weak = torch::randn({5, 3, 48, 48});
  batch.unlabeled.x_strong = torch::randn({5, 3, 48, 48});
  batch.unlabeled.index = torch::arange(5, torch::kInt64);
  batch.unlabeled.hidden_label = torch::full({5}, -1, torch::kInt64);
  train::StepOptions by_host;
  by_host.ssl = ssl;
  train::StepOptions by_tensor = by_host;
  by_tensor.lambda_unlabeled = torch::zeros({});
  for (int64_t step = 0; step < 3; ++step) {
    host.step = device.step = step;
    by_tensor.lambda_unlabeled.fill_(train::unlabeled_weight(
        ssl.lambda_unlabeled, ssl.unlabeled_warmup, step));
    torch::manual_seed(100 + step);  // the same dropout masks
    const auto x = train::semi_supervised_step(host, batch, by_host);
    torch::manual_seed(100 + step);
    const auto y = train::semi_supervised_step(device, batch, by_tensor);
    EXPECT_GT(x.loss_unlabeled.item<float>(), 0) << "step " << step;
    EXPECT_TRUE(torch::equal(x.loss, y.loss)) << "step " << step;
  }
  EXPECT_TRUE(torch::equal(flat(*host.student), flat(*device.student)));
}

TEST(TrainState, SaveAndLoadAreSymmetric) {
  torch::manual_seed(1);
  train::TrainState a = make_state(3);
  {
    // Move the optimizer, the thresholds, the generator and the window.
    auto loss = a.student->forward(torch::randn({2, 3, 32, 32})).sum();
    loss.backward();
    a.optimizer->step();
  }
  a.thresholds.set_tau({0.5, 0.6, 0.7});
  a.step = 42;
  a.best_f1 = 0.25;
  a.window.add(stats(1.0f, {2}, {1}, {2}), 2, 1);
  a.config_yaml = "train: {lr: 0.001}\n";
  TempDir t;
  const std::string path = t.file("s.pt");
  a.save(path);
  const at::Tensor draw_after_save = torch::rand({4});

  torch::manual_seed(99);
  train::TrainState b = make_state(3);
  b.load(path);
  EXPECT_TRUE(torch::equal(flat(*a.student), flat(*b.student)));
  EXPECT_TRUE(torch::equal(flat(*a.teacher), flat(*b.teacher)));
  EXPECT_EQ(b.thresholds.tau(), a.thresholds.tau());
  EXPECT_TRUE(torch::equal(b.tau(), a.thresholds.tau_tensor(torch::kCPU)));
  EXPECT_EQ(b.step, 42);
  EXPECT_EQ(b.best_f1, 0.25);
  EXPECT_EQ(b.window.summary().steps, 1);
  EXPECT_EQ(b.config_yaml, a.config_yaml);
  EXPECT_EQ(b.card.model, "smallnet");
  EXPECT_EQ(b.card.step, 42);
  // The generator continues where the saved run's did.
  EXPECT_TRUE(torch::equal(torch::rand({4}), draw_after_save));
  // The optimizer's moments came back: the next steps agree.
  for (auto* s : {&a, &b}) {
    torch::manual_seed(5);
    auto loss = s->student->forward(torch::randn({2, 3, 32, 32})).sum();
    s->optimizer->zero_grad();
    loss.backward();
    s->optimizer->step();
  }
  EXPECT_TRUE(torch::equal(flat(*a.student), flat(*b.student)));
  // What infer reads of it.
  EXPECT_EQ(infer::read_checkpoint_card(path).step, 42);
  EXPECT_EQ(train::TrainState::read_config(path), a.config_yaml);
}

TEST(TrainState, KnowsWhenItsWeightsAreNotFinite) {
  train::TrainState s = make_state(2);
  EXPECT_TRUE(s.weights_finite());
  {
    torch::NoGradGuard no_grad;
    s.teacher->parameters().back()[0].fill_(INFINITY);
  }
  EXPECT_FALSE(s.weights_finite());
}

TEST(TrainState, ADamagedFileIsRefused) {
  train::TrainState s = make_state(2);
  TempDir t;
  const std::string path = t.file("s.pt");
  s.save(path);
  auto bytes = util::read_file(path);
  // Flip bytes in the middle of the file, inside tensor data.
  for (size_t i = 0; i < 8; ++i) bytes[bytes.size() / 2 + i] ^= 0xff;
  write_text_file(path, std::string(bytes.begin(), bytes.end()));
  train::TrainState r = make_state(2);
  expect_error([&] { r.load(path); }, {path, "corrupt"});
  expect_error([&] { infer::load_checkpoint(path, infer::Network::kTeacher); },
               {path, "corrupt"});
}

}  // namespace semifer::test
