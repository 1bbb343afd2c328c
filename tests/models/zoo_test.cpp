#include <gtest/gtest.h>
#include <torch/torch.h>

#include "semifer/models/registry.h"
#include "support/support.h"

namespace semifer::models {

class Zoo : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_F(Zoo, EveryModelRunsForwardAndBackward) {
  for (const std::string& name : model_names()) {
    // The big EfficientNets only run forward, at a small size, to keep the
    // suite fast on 2 cores.
    const bool big = name == "efficientnet_b5" || name == "efficientnet_b6" ||
                     name == "efficientnet_b7" || name == "resnet50";
    Classifier model = create_model(name, models::ModelOptions{5});
    EXPECT_EQ(model->arch(), name);
    EXPECT_EQ(model->num_classes(), 5);
    const auto x = torch::randn({2, 3, 48, 48});
    model->train();
    if (big) {
      torch::NoGradGuard no_grad;
      EXPECT_EQ(model->forward(x).sizes(), (std::vector<int64_t>{2, 5}))
          << name;
      continue;
    }
    const auto y = model->forward(x);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 5})) << name;
    EXPECT_EQ(model->forward_features(x).sizes(),
              (std::vector<int64_t>{2, model->num_features()}));
    y.sum().backward();
    for (const auto& p : model->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << name << " " << p.key();
    }
  }
}

TEST_F(Zoo, KeyNamesFollowTorchvision) {
  auto keys = [](const Classifier& m) {
    std::set<std::string> k;
    for (const auto& p : m->named_parameters()) k.insert(p.key());
    for (const auto& b : m->named_buffers()) k.insert(b.key());
    return k;
  };
  const auto eff = keys(create_model("efficientnet_b0"));
  for (const char* k :
       {"features.0.0.weight", "features.0.1.running_var",
        "features.1.0.block.0.0.weight", "features.1.0.block.1.fc1.bias",
        "features.2.0.block.0.1.num_batches_tracked", "features.8.0.weight",
        "classifier.1.weight"}) {
    EXPECT_TRUE(eff.count(k)) << k;
  }
  const auto res = keys(create_model("resnet50"));
  for (const char* k :
       {"conv1.weight", "bn1.running_mean", "layer1.0.conv3.weight",
        "layer1.0.downsample.0.weight", "layer4.2.bn3.bias", "fc.weight"}) {
    EXPECT_TRUE(res.count(k)) << k;
  }
}

TEST_F(Zoo, SmallNetIsSmall) {
  const int64_t n = count_parameters(*create_model("smallnet"));
  EXPECT_GT(n, 100000);
  EXPECT_LT(n, 1000000);
}

TEST_F(Zoo, CloneIsADeepCopy) {
  Classifier model = create_model("smallnet");
  model->eval();
  Classifier copy = model->clone_classifier();
  const auto x = torch::randn({1, 3, 32, 32});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(model->forward(x), copy->forward(x)));
  for (auto& p : model->parameters()) p.add_(1.0);
  EXPECT_FALSE(torch::allclose(model->forward(x), copy->forward(x)));
  EXPECT_EQ(copy->arch(), "smallnet");
  EXPECT_EQ(count_parameters(*copy), count_parameters(*model));
}

TEST_F(Zoo, UnknownNameListsTheKnownOnes) {
  test::expect_error(
      [] { create_model("vgg16"); },
      {"unknown model 'vgg16'", "efficientnet_b7", "resnet50", "smallnet"});
  test::expect_error([] { create_model("resnet18", models::ModelOptions{0}); },
                     {"num_classes"});
}

}  // namespace semifer::models
