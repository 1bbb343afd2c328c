#include "semifer/models/weights.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backends/inspect.h"
#include "semifer/models/registry.h"
#include "support/support.h"

namespace semifer::models {

using test::expect_error;

class Weights : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_F(Weights, RoundTripThroughAFile) {
  test::TempDir tmp;
  Classifier a = create_model("smallnet", models::ModelOptions{4});
  export_weights(*a, tmp.file("a.pth"));
  Classifier b = create_model("smallnet", models::ModelOptions{4});
  const LoadReport r = import_weights(*b, tmp.file("a.pth"));
  EXPECT_TRUE(r.replaced.empty());
  EXPECT_TRUE(r.missing.empty());
  EXPECT_EQ(r.loaded.size(), state_dict(*a).size());
  a->eval();
  b->eval();
  const auto x = torch::randn({2, 3, 32, 32});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

TEST_F(Weights, ClassifierIsReplacedWhenTheClassCountDiffers) {
  Classifier imagenet = create_model("resnet18", models::ModelOptions{1000});
  Classifier ours = create_model("resnet18", models::ModelOptions{8});
  const auto fc_before = ours->named_parameters()["fc.weight"].clone();
  const LoadReport r =
      load_weights(*ours, state_dict(*imagenet), "imagenet.pth");
  EXPECT_EQ(r.replaced, (std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT_TRUE(torch::equal(ours->named_parameters()["fc.weight"], fc_before));
  EXPECT_TRUE(torch::equal(ours->named_parameters()["conv1.weight"],
                           imagenet->named_parameters()["conv1.weight"]));
  EXPECT_NE(r.summary().find("replaced 2 (fc.weight, fc.bias)"),
            std::string::npos);
}

TEST_F(Weights, ShapeMismatchOutsideTheClassifierNamesTheTensor) {
  io::StateDict sd = state_dict(*create_model("smallnet"));
  for (size_t i = 0; i < sd.size(); ++i) {
    if (sd.keys[i] == "features.0.0.weight")
      sd.tensors[i] = torch::zeros({5, 3, 3, 3});
  }
  Classifier model = create_model("smallnet");
  expect_error(
      [&] { load_weights(*model, sd, "bad.pth"); },
      {"bad.pth", "features.0.0.weight", "[5, 3, 3, 3]", "[24, 3, 3, 3]"});
}

TEST_F(Weights, StrictModeRejectsAnotherArchitecture) {
  Classifier model = create_model("smallnet");
  const io::StateDict other = state_dict(*create_model("resnet18"));
  expect_error([&] { load_weights(*model, other, "r18.pth"); },
               {"r18.pth", "not in the file", "another architecture"});
  LoadOptions lenient;
  lenient.strict = false;
  const LoadReport r = load_weights(*model, other, "r18.pth", lenient);
  EXPECT_FALSE(r.missing.empty());
  EXPECT_FALSE(r.unexpected.empty());
}

TEST_F(Weights, DataParallelPrefixIsStripped) {
  const io::StateDict sd = state_dict(*create_model("smallnet"));
  io::StateDict prefixed;
  for (size_t i = 0; i < sd.size(); ++i)
    prefixed.insert("module." + sd.keys[i], sd.tensors[i]);
  Classifier model = create_model("smallnet");
  EXPECT_EQ(load_weights(*model, prefixed, "dp.pth").loaded.size(), sd.size());
}

TEST_F(Weights, InspectRecognisesTheArchitecture) {
  const WeightsInfo info = inspect_weights(
      state_dict(*create_model("resnet18", models::ModelOptions{1000})));
  ASSERT_EQ(info.matches.size(), 1u);
  EXPECT_EQ(info.matches[0], "resnet18 (1000 classes)");
  EXPECT_GT(info.parameters, 11000000);
}

}  // namespace semifer::models
