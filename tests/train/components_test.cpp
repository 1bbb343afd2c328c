// The trainer's parts that carry the paper's equations: EMA teacher,
// Dynamic Threshold Module, pseudo-label loss.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "semifer/models/registry.h"
#include "semifer/train/ema.h"
#include "semifer/train/losses.h"
#include "semifer/train/step.h"
#include "semifer/train/thresholds.h"
#include "support/support.h"

namespace semifer::train {

TEST(Ema, MovesTheTeacherTowardsTheStudent) {
  torch::manual_seed(0);
  auto student = models::create_model("smallnet", models::ModelOptions{3});
  auto teacher = student->clone_classifier();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : student->parameters()) p.add_(1.0);
    for (auto& b : student->named_buffers()) {
      if (b.key().find("running_mean") != std::string::npos)
        b.value().add_(2.0);
      if (b.key().find("num_batches_tracked") != std::string::npos)
        b.value().fill_(5);
    }
  }
  const auto before =
      teacher->named_parameters()["features.0.0.weight"].clone();
  ema_update(*teacher, *student, 0.9);
  const auto after = teacher->named_parameters()["features.0.0.weight"];
  EXPECT_TRUE(torch::allclose(after, before + 0.1, 1e-5, 1e-6));
  const auto mean = teacher->named_buffers()["features.0.1.running_mean"];
  EXPECT_TRUE(torch::allclose(mean, torch::full_like(mean, 0.2), 1e-5, 1e-6));
  EXPECT_EQ(teacher->named_buffers()["features.0.1.num_batches_tracked"]
                .item<int64_t>(),
            5);
  // decay 1 keeps the teacher; decay 0 copies the student.
  ema_update(*teacher, *student, 0.0);
  EXPECT_TRUE(torch::equal(teacher->named_parameters()["classifier.1.weight"],
                           student->named_parameters()["classifier.1.weight"]));
  test::expect_error([&] { ema_update(*teacher, *student, 1.5); }, {"decay"});
}

TEST(DynamicThresholds, FollowsEquationsSevenAndEight) {
  DynamicThresholds dtm(3, 0.95, 0.9);
  // Class 0: two correct (0.8, 0.6) and one wrong; class 1: one correct
  // (0.9); class 2: none correct.
  const auto probs = torch::tensor({{0.8, 0.1, 0.1},
                                    {0.6, 0.3, 0.1},
                                    {0.2, 0.7, 0.1},
                                    {0.05, 0.9, 0.05},
                                    {0.5, 0.4, 0.1}},
                                   torch::kFloat64);
  const auto labels = torch::tensor({0, 0, 0, 1, 2}, torch::kInt64);
  const auto u = dtm.update(probs, labels);
  EXPECT_EQ(u.correct, (std::vector<int64_t>{2, 1, 0}));
  EXPECT_NEAR(u.mean_confidence[0], 0.7, 1e-12);
  EXPECT_NEAR(u.mean_confidence[1], 0.9, 1e-12);
  EXPECT_EQ(u.mean_confidence[2], -1.0);
  EXPECT_NEAR(dtm.tau()[0], 0.9 * 0.95 + 0.1 * 0.7, 1e-12);
  EXPECT_NEAR(dtm.tau()[1], 0.9 * 0.95 + 0.1 * 0.9, 1e-12);
  EXPECT_DOUBLE_EQ(dtm.tau()[2], 0.95);  // no correct prediction: unchanged

  DynamicThresholds fixed(3, 0.95, 0.9, /*dynamic=*/false);
  fixed.update(probs, labels);
  EXPECT_EQ(fixed.tau(), (std::vector<double>{0.95, 0.95, 0.95}));
  test::expect_error([&] { fixed.set_tau({0.5}); }, {"1 thresholds"});
}

// A step's inputs on the device: parts that already form one batch are
// used as they are, unless asked to copy (a captured CUDA graph reads its
// buffers' fixed addresses); the copies land in the buffers, which are
// kept from step to step while the shapes stay.
TEST(StageStep, CopiesIntoTheReusedBuffersWhenAsked) {
  const c10::Device cpu(c10::kCPU);
  data::Step step;
  const at::Tensor whole = torch::rand({2 + 2 * 3, 3, 4, 4});
  step.labeled.x_weak = whole.narrow(0, 0, 2);
  step.labeled.y = torch::tensor({1, 0}, torch::kInt64);
  step.unlabeled.x_weak = whole.narrow(0, 2, 3);
  step.unlabeled.x_strong = whole.narrow(0, 5, 3);
  step.unlabeled.index = torch::tensor({7, 8, 9}, torch::kInt64);
  step.unlabeled.hidden_label = torch::tensor({-1, 2, 3}, torch::kInt64);

  StepBuffers buffers;
  const StepInputs as_is = stage_step(step, true, cpu, &buffers);
  EXPECT_EQ(as_is.images.data_ptr(), whole.data_ptr());
  EXPECT_EQ(as_is.labels.data_ptr(), step.labeled.y.data_ptr());
  EXPECT_FALSE(buffers.images.defined());

  const StepInputs copied = stage_step(step, true, cpu, &buffers, true);
  EXPECT_EQ(copied.labeled, 2);
  EXPECT_EQ(copied.unlabeled, 3);
  EXPECT_TRUE(torch::equal(copied.images, whole));
  EXPECT_TRUE(torch::equal(copied.labels, step.labeled.y));
  EXPECT_TRUE(torch::equal(copied.index, step.unlabeled.index));
  EXPECT_TRUE(torch::equal(copied.hidden, step.unlabeled.hidden_label));
  EXPECT_EQ(copied.images.data_ptr(), buffers.images.data_ptr());
  EXPECT_EQ(copied.index.data_ptr(), buffers.index.data_ptr());
  EXPECT_EQ(copied.hidden.data_ptr(), buffers.hidden.data_ptr());
  EXPECT_NE(copied.images.data_ptr(), whole.data_ptr());

  // The next step's values go into the same buffers.
  void* images_at = buffers.images.data_ptr();
  void* labels_at = buffers.labels.data_ptr();
  step.labeled.y = torch::tensor({3, 4}, torch::kInt64);
  const StepInputs again = stage_step(step, true, cpu, &buffers, true);
  EXPECT_EQ(again.images.data_ptr(), images_at);
  EXPECT_EQ(again.labels.data_ptr(), labels_at);
  EXPECT_TRUE(torch::equal(again.labels, step.labeled.y));

  // The supervised stage stages the labeled half only.
  const StepInputs supervised = stage_step(step, false, cpu, &buffers, true);
  EXPECT_EQ(supervised.images.size(0), 2);
  EXPECT_EQ(supervised.unlabeled, 0);
  EXPECT_FALSE(supervised.index.defined());
}

TEST(UnlabeledWeight, RampsUpLinearlyThenStaysAtLambda) {
  EXPECT_EQ(unlabeled_weight(0.8, 0, 0), 0.8);  // off: the paper's weight
  EXPECT_EQ(unlabeled_weight(0.8, 0, 5000), 0.8);
  EXPECT_DOUBLE_EQ(unlabeled_weight(0.8, 100, 0), 0.008);
  EXPECT_DOUBLE_EQ(unlabeled_weight(0.8, 100, 49), 0.4);
  EXPECT_EQ(unlabeled_weight(0.8, 100, 99), 0.8);
  EXPECT_EQ(unlabeled_weight(0.8, 100, 10000), 0.8);
}

TEST(PseudoLabelLoss, MasksByPerClassThresholdOfTheMeanPrediction) {
  // Sample 0: both views confident in class 1 -> mean ~0.99 > tau[1].
  // Sample 1: weak says class 0, strong says class 2 -> mean max ~0.5 < tau.
  const auto weak = torch::tensor({{0.0f, 8.0f, 0.0f}, {8.0f, 0.0f, 0.0f}});
  const auto strong = torch::tensor({{0.0f, 6.0f, 0.0f}, {0.0f, 0.0f, 8.0f}});
  const auto tau = torch::tensor({0.95f, 0.95f, 0.95f});
  auto strong_param = strong.clone().requires_grad_(true);
  const UnlabeledLoss l = pseudo_label_loss(weak, strong_param, tau);
  EXPECT_EQ(l.pseudo[0].item<int64_t>(), 1);
  EXPECT_EQ(l.mask[0].item<float>(), 1.0f);
  EXPECT_EQ(l.mask[1].item<float>(), 0.0f);
  const auto ce0 = -torch::log_softmax(strong[0], 0)[1];
  EXPECT_NEAR(l.loss.item<float>(), ce0.item<float>() / 2,
              1e-6);  // mean over U = 2
  l.loss.backward();
  ASSERT_TRUE(strong_param.grad().defined());
  EXPECT_EQ(strong_param.grad()[1].abs().sum().item<float>(),
            0.0f);  // masked out
  // Lower threshold for class 0 lets sample 1 (pseudo-label 0 or 2) in.
  const UnlabeledLoss low =
      pseudo_label_loss(weak, strong, torch::tensor({0.4f, 0.95f, 0.4f}));
  EXPECT_EQ(low.mask[1].item<float>(), 1.0f);
  // The weak-view option applies CE to the weak logits.
  const UnlabeledLoss w =
      pseudo_label_loss(weak, strong, tau, PseudoTarget::kWeak);
  EXPECT_NEAR(w.loss.item<float>(),
              (-torch::log_softmax(weak[0], 0)[1]).item<float>() / 2, 1e-6);
}

}  // namespace semifer::train
