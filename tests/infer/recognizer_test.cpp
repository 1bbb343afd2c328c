#include "semifer/infer/recognizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <limits>
#include <thread>

#include "semifer/infer/checkpoint.h"
#include "semifer/infer/classify.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/train/state.h"
#include "support/support.h"

namespace semifer::test {

namespace {

const std::vector<std::string> kClasses = {"Neutral", "Happiness", "Sadness"};

// A checkpoint of an untrained smallnet with three classes at 32 px; its
// student and teacher differ, so A and B give different outputs.
// `edit` changes the state before it is saved.
std::string write_checkpoint(
    const TempDir& t,
    const std::function<void(train::TrainState&)>& edit = nullptr) {
  torch::manual_seed(3);
  train::TrainState s;
  s.student = models::create_model("smallnet", models::ModelOptions{3});
  s.teacher = models::create_model("smallnet", models::ModelOptions{3});
  if (edit) edit(s);
  s.optimizer = std::make_unique<torch::optim::Adam>(s.student->parameters());
  s.thresholds = train::DynamicThresholds(3);
  s.window = train::MetricWindow(3, torch::kCPU);
  s.card.model = "smallnet";
  s.card.classes = kClasses;
  s.card.input.size = 32;
  s.step = 7;
  const std::string path = t.file("run/checkpoint_best.pt");
  s.save(path);
  return path;
}

}  // namespace

TEST(Recognizer, ClassifiesFilesAndBuffersAlike) {
  TempDir t;
  const std::string ckpt = write_checkpoint(t);
  Recognizer rec(ckpt);
  EXPECT_EQ(rec.classes(), kClasses);
  EXPECT_EQ(rec.input_size(), 32);
  EXPECT_EQ(rec.device(), "cpu");

  const std::string png = write_pattern(t.file("face.png"), 40, 30, 1);
  const io::Image img = pattern_image(40, 30, 1);
  const Prediction from_file = rec.predict(png);
  ASSERT_EQ(from_file.probabilities.size(), 3u);
  float sum = 0;
  for (float p : from_file.probabilities) sum += p;
  EXPECT_NEAR(sum, 1.0f, 1e-5);
  EXPECT_EQ(from_file.name, kClasses[from_file.label]);

  // The same pixels as RGB, as BGR and with a padded stride.
  ImageView rgb{img.data.data(), img.height, img.width, PixelFormat::kRGB, 0};
  std::vector<uint8_t> bgr(img.data);
  for (size_t i = 0; i < bgr.size(); i += 3) std::swap(bgr[i], bgr[i + 2]);
  ImageView bgr_view{bgr.data(), img.height, img.width, PixelFormat::kBGR, 0};
  const size_t stride = img.width * 3 + 5;
  std::vector<uint8_t> padded(stride * img.height, 0);
  for (int y = 0; y < img.height; ++y)
    std::copy_n(img.pixel(0, y), img.width * 3, padded.data() + y * stride);
  ImageView padded_view{padded.data(), img.height, img.width, PixelFormat::kRGB,
                        stride};
  const auto batch =
      rec.predict(std::vector<ImageView>{rgb, bgr_view, padded_view});
  ASSERT_EQ(batch.size(), 3u);
  for (const auto& p : batch) {
    EXPECT_EQ(p.probabilities, from_file.probabilities);
  }
  // Gray buffers are replicated to three channels.
  std::vector<uint8_t> gray(static_cast<size_t>(img.width) * img.height);
  io::Image gray_rgb(img.width, img.height);
  for (size_t i = 0; i < gray.size(); ++i) {
    gray[i] = img.data[i * 3];
    for (int c = 0; c < 3; ++c) gray_rgb.data[i * 3 + c] = gray[i];
  }
  const auto g = rec.predict(
      ImageView{gray.data(), img.height, img.width, PixelFormat::kGray, 0});
  const auto g_rgb = rec.predict(ImageView{gray_rgb.data.data(), img.height,
                                           img.width, PixelFormat::kRGB, 0});
  EXPECT_EQ(g.probabilities, g_rgb.probabilities);
}

TEST(Recognizer, MatchesTheCheckpointsNetworks) {
  TempDir t;
  const std::string ckpt = write_checkpoint(t);
  const std::string png = write_pattern(t.file("face.png"), 32, 32, 2);
  for (const char* net : {"A", "B"}) {
    RecognizerOptions o;
    o.network = net;
    const Prediction p = Recognizer(ckpt, o).predict(png);
    auto loaded = infer::load_checkpoint(ckpt, std::string(net) == "A"
                                                   ? infer::Network::kStudent
                                                   : infer::Network::kTeacher);
    const at::Tensor probs = infer::classify(
        *loaded.model, 1, [&](int64_t) { return io::read_image(png); },
        loaded.card.input);
    for (int c = 0; c < 3; ++c)
      EXPECT_FLOAT_EQ(p.probabilities[c], probs[0][c].item<float>()) << net;
  }
}

// network "auto" (--network auto): the network the card prefers (here A,
// by its recorded validation F1), loaded with the card in one read.
TEST(Recognizer, AutoLoadsTheNetworkTheCardPrefers) {
  TempDir t;
  const std::string ckpt = write_checkpoint(t, [](train::TrainState& s) {
    s.card.validation_step = 7;
    s.card.validation_f1_a = 0.6;
    s.card.validation_f1_b = 0.5;
  });
  EXPECT_EQ(infer::load_model(ckpt, std::nullopt).network,
            infer::Network::kStudent);
  EXPECT_EQ(infer::load_checkpoint(ckpt, std::nullopt).network,
            infer::Network::kStudent);
  EXPECT_EQ(infer::load_model(ckpt).network, infer::Network::kTeacher);
  const std::string png = write_pattern(t.file("face.png"), 32, 32, 2);
  RecognizerOptions by_name;
  by_name.network = "A";
  const Prediction a = Recognizer(ckpt, by_name).predict(png);
  by_name.network = "B";
  const Prediction b = Recognizer(ckpt, by_name).predict(png);
  const Prediction chosen = Recognizer(ckpt).predict(png);  // auto
  bool differ = false;
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(chosen.probabilities[c], a.probabilities[c]);
    differ |= a.probabilities[c] != b.probabilities[c];
  }
  EXPECT_TRUE(differ);
}

TEST(Recognizer, IsSafeToCallFromSeveralThreads) {
  TempDir t;
  const Recognizer rec(write_checkpoint(t));
  std::vector<std::string> files;
  for (int i = 0; i < 6; ++i)
    files.push_back(
        write_pattern(t.file("f" + std::to_string(i) + ".png"), 36, 36, i));
  const auto expected = rec.predict(files);
  std::vector<std::vector<Prediction>> got(4);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < got.size(); ++k)
    threads.emplace_back([&, k] {
      for (int r = 0; r < 5; ++r) got[k] = rec.predict(files);
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got) {
    ASSERT_EQ(g.size(), expected.size());
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_EQ(g[i].probabilities, expected[i].probabilities);
  }
}

TEST(Recognizer, LoadsAnExportedModelWithItsCard) {
  TempDir t;
  const std::string ckpt = write_checkpoint(t);
  auto loaded = infer::load_checkpoint(ckpt, infer::Network::kTeacher);
  const std::string pth = t.file("export/model.pth");
  models::export_weights(*loaded.model, pth);
  const std::string png = write_pattern(t.file("face.png"), 32, 32, 4);
  // Without its card the .pth is refused, naming where the card belongs.
  expect_error([&] { Recognizer r(pth); }, {pth, "model card", "model.json"});
  infer::write_model_card(infer::model_card_path(pth), loaded.card);
  EXPECT_EQ(Recognizer(pth).predict(png).probabilities,
            Recognizer(ckpt).predict(png).probabilities);
}

TEST(Recognizer, BadInputIsAOneLineError) {
  TempDir t;
  expect_error([&] { Recognizer r(t.file("none.pt")); },
               {"none.pt", "does not exist"});
  const std::string junk = write_text_file(t.file("junk.pt"), "not a model");
  expect_error([&] { Recognizer r(junk); }, {"junk.pt"});
  const Recognizer rec(write_checkpoint(t));
  expect_error([&] { rec.predict(t.file("missing.jpg")); }, {"missing.jpg"});
  expect_error([&] { rec.predict(ImageView{}); }, {"empty buffer"});
  RecognizerOptions o;
  o.network = "C";
  expect_error([&] { Recognizer r(t.file("x"), o); }, {"network"});
}

// Issue 16, item 7: a network with non-finite weights (a diverged run)
// wrote "-nan" probabilities with exit status 0; it is refused where read.
TEST(Recognizer, NonFiniteWeightsAreRefusedNamingTheNetwork) {
  TempDir t;
  const std::string path = write_checkpoint(t, [](train::TrainState& s) {
    torch::NoGradGuard no_grad;
    s.teacher->parameters().front().view(-1)[0] =
        std::numeric_limits<float>::quiet_NaN();
  });
  test::expect_error(
      [&] { infer::load_checkpoint(path, infer::Network::kTeacher); },
      {path, "network B has non-finite weights", "use an earlier checkpoint"});
  EXPECT_NO_THROW(infer::load_checkpoint(path, infer::Network::kStudent));
}

}  // namespace semifer::test
