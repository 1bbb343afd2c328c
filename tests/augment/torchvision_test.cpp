// Our augmentation kernels against torchvision.transforms.functional (Debian
// python3-torchvision) on real faces from ../shared/data. Skips with a reason
// where either is absent.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "semifer/augment/functional.h"
#include "semifer/augment/views.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::augment {

namespace fs = std::filesystem;

namespace {

struct Case {
  std::string name;
  std::string kind;
  std::vector<double> args;
  std::string op;  // for kind "op"
  bool geometric;  // tolerance 2 instead of 1
};

std::vector<Case> make_cases(int size) {
  std::vector<Case> cases = {
      {"resize224", "resize", {224, 224}, "", false},
      {"resize112", "resize", {112, 112}, "", false},
      {"resize48", "resize", {48, 48}, "", false},
      {"resize64x40", "resize", {64, 40}, "", false},
      {"hflip", "hflip", {}, "", false},
      {"padcrop", "pad_crop", {5, 1, 9}, "", false},
      {"brightness06", "brightness", {0.6}, "", false},
      {"brightness14", "brightness", {1.4}, "", false},
      {"contrast06", "contrast", {0.6}, "", false},
      {"contrast14", "contrast", {1.4}, "", false},
      {"saturation06", "saturation", {0.6}, "", false},
      {"saturation14", "saturation", {1.4}, "", false},
  };
  for (int k = 0; k < kNumOps; ++k) {
    const Op op = static_cast<Op>(k);
    bool is_signed = false;
    const float m = op_magnitude(op, 10, 31, size, &is_signed);
    const bool geometric = op == Op::kShearX || op == Op::kShearY ||
                           op == Op::kRotate || op == Op::kTranslateX ||
                           op == Op::kTranslateY;
    cases.push_back({semifer::str("op_", op_name(op), "_pos"),
                     "op",
                     {m},
                     op_name(op),
                     geometric});
    if (is_signed) {
      cases.push_back({semifer::str("op_", op_name(op), "_neg"),
                       "op",
                       {-m},
                       op_name(op),
                       geometric});
    }
  }
  return cases;
}

io::Image ours(const io::Image& img, const Case& c) {
  const auto& a = c.args;
  if (c.kind == "resize")
    return resize(img, static_cast<int>(a[0]), static_cast<int>(a[1]));
  if (c.kind == "hflip") return hflip(img);
  if (c.kind == "pad_crop") {
    return pad_reflect_crop(img, static_cast<int>(a[0]), static_cast<int>(a[1]),
                            static_cast<int>(a[2]));
  }
  if (c.kind == "brightness")
    return adjust_brightness(img, static_cast<float>(a[0]));
  if (c.kind == "contrast")
    return adjust_contrast(img, static_cast<float>(a[0]));
  if (c.kind == "saturation")
    return adjust_saturation(img, static_cast<float>(a[0]));
  for (int k = 0; k < kNumOps; ++k) {
    if (c.op == op_name(static_cast<Op>(k))) {
      return apply_op(img, static_cast<Op>(k), static_cast<float>(a[0]), 0);
    }
  }
  throw std::runtime_error("unknown case " + c.name);
}

}  // namespace

class TorchvisionParity : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test::shared_data_dir();
    python_ = test::python_with_torchvision();
    if (data_.empty()) GTEST_SKIP() << "../shared/data is absent";
    if (python_.empty())
      GTEST_SKIP() << "Debian's python3-torchvision is absent";
  }
  std::string data_, python_;
};

TEST_F(TorchvisionParity, EveryOperationMatchesOnRealFaces) {
  // Two 200x200 colour faces (UTKFace) and two 48x48 gray ones (FER2013).
  std::vector<std::string> images;
  for (const char* dir : {"/utkface/crop_part1", "/fer2013/train/surprise"}) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(data_ + dir))
      files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    images.push_back(files[0]);
    images.push_back(files[files.size() / 2]);
  }
  test::TempDir tmp;
  std::map<std::string, std::vector<Case>> by_size;
  nlohmann::json spec;
  spec["images"] = images;
  // Translate magnitudes depend on the image size; torchvision takes them as
  // given, so one case list per size is run on all images of that size.
  int index = 0;
  for (const auto& path : images) {
    const io::Image img = io::read_image(path);
    nlohmann::json one;
    one["images"] = {path};
    one["cases"] = nlohmann::json::array();
    const auto cases = make_cases(img.width);
    for (const auto& c : cases) {
      nlohmann::json args = nlohmann::json::array();
      if (c.kind == "op") {
        args.push_back(c.op);
        args.push_back(c.args[0]);
      } else {
        for (double v : c.args) args.push_back(v);
      }
      one["cases"].push_back(
          {{"name", c.name}, {"kind", c.kind}, {"args", args}});
    }
    const std::string dir = tmp.file(std::to_string(index) + "/x");
    const std::string json_path =
        tmp.file(std::to_string(index) + "/cases.json");
    std::ofstream(json_path) << one.dump();
    const std::string cmd = python_ + " " + SEMIFER_SOURCE_DIR +
                            "/tests/augment/torchvision_ref.py " + json_path +
                            " " + fs::path(dir).parent_path().string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    for (const auto& c : cases) {
      const io::Image theirs = io::read_image(
          (fs::path(dir).parent_path() / ("0_" + c.name + ".png")).string());
      const io::Image mine = ours(img, c);
      ASSERT_EQ(mine.width, theirs.width) << c.name;
      ASSERT_EQ(mine.height, theirs.height) << c.name;
      double sum = 0;
      int worst = 0;
      for (size_t i = 0; i < mine.data.size(); ++i) {
        const int d = std::abs(mine.data[i] - theirs.data[i]);
        sum += d;
        worst = std::max(worst, d);
      }
      const double mad = sum / static_cast<double>(mine.data.size());
      EXPECT_LE(mad, c.geometric ? 2.0 : 1.0)
          << c.name << " on " << path << ": mean abs diff " << mad << ", max "
          << worst;
      RecordProperty(c.name + "_" + std::to_string(index), std::to_string(mad));
    }
    ++index;
  }
}

}  // namespace semifer::augment
