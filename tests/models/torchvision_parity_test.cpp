// Our models against torchvision 0.14 (Debian python3-torchvision): same
// state_dict keys, same outputs in eval mode from the same weights, and our
// exported weights load back into torchvision with the same outputs. Skips
// with a reason where python3-torchvision is absent.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::models {

namespace {

at::Tensor read_floats(const std::string& path, std::vector<int64_t> shape) {
  const auto bytes = util::read_file(path);
  auto t = torch::empty(shape, torch::kFloat32);
  EXPECT_EQ(bytes.size(), static_cast<size_t>(t.numel()) * 4) << path;
  std::memcpy(t.data_ptr<float>(), bytes.data(), bytes.size());
  return t;
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) EXPECT_EQ(pclose(p), 0) << cmd;
  return out;
}

}  // namespace

class TorchvisionModels : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    python_ = test::python_with_torchvision();
    if (python_.empty())
      GTEST_SKIP() << "Debian's python3-torchvision is absent";
  }
  std::string python_;
};

TEST_P(TorchvisionModels, SameKeysSameOutputsAndExportLoadsBack) {
  const std::string arch = GetParam();
  const int size = 64;
  test::TempDir tmp;
  const std::string dir = tmp.path().string();
  const std::string script =
      std::string(SEMIFER_SOURCE_DIR) + "/tests/models/torchvision_models.py";
  run(python_ + " " + script + " make " + dir + " " + std::to_string(size) +
      " " + arch);

  Classifier model = create_model(arch);
  // Same keys, in the same order.
  const auto theirs = util::read_lines(dir + "/" + arch + ".keys");
  const io::StateDict ours = state_dict(*model);
  ASSERT_EQ(ours.keys.size(), theirs.size());
  for (size_t i = 0; i < theirs.size(); ++i)
    EXPECT_EQ(ours.keys[i], theirs[i]) << i;

  // Same outputs from the same weights.
  const LoadReport report = import_weights(*model, dir + "/" + arch + ".pth");
  EXPECT_EQ(report.loaded.size(), theirs.size()) << report.summary();
  model->eval();
  const auto x = read_floats(dir + "/" + arch + ".x", {2, 3, size, size});
  const auto y = read_floats(dir + "/" + arch + ".y", {2, 8});
  torch::NoGradGuard no_grad;
  const auto mine = model->forward(x);
  const double diff = (mine - y).abs().max().item<double>();
  EXPECT_LE(diff, 1e-4) << arch << " differs from torchvision by " << diff;
  RecordProperty("max_abs_diff", std::to_string(diff));

  // Our export loads back into torchvision and gives our outputs.
  export_weights(*model, dir + "/" + arch + ".semifer.pth");
  {
    std::ofstream f(dir + "/" + arch + ".semifer.y", std::ios::binary);
    f.write(reinterpret_cast<const char*>(mine.contiguous().data_ptr<float>()),
            2 * 8 * 4);
  }
  const std::string back = run(python_ + " " + script + " check " + dir + " " +
                               arch + " " + dir + "/" + arch + ".semifer.pth");
  ASSERT_FALSE(back.empty());
  EXPECT_LE(std::stod(back), 1e-4)
      << arch << ": torchvision on our export differs by " << back;
}

TEST(TorchvisionZoo, EveryExportLoadsStrictlyIntoTorchvision) {
  const std::string python = test::python_with_torchvision();
  if (python.empty()) GTEST_SKIP() << "Debian's python3-torchvision is absent";
  test::TempDir tmp;
  std::string archs;
  for (const std::string& name : model_names()) {
    if (name == "smallnet") continue;  // ours alone
    export_weights(*create_model(name), tmp.file(name + ".pth"));
    archs += " " + name;
  }
  const std::string out = run(python + " " + SEMIFER_SOURCE_DIR +
                              "/tests/models/torchvision_models.py loads " +
                              tmp.path().string() + archs);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 11) << out;
  EXPECT_EQ(out.find("FAILED"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Zoo, TorchvisionModels,
                         ::testing::Values("efficientnet_b0", "efficientnet_b3",
                                           "efficientnet_b7", "resnet18",
                                           "resnet50"));

}  // namespace semifer::models
