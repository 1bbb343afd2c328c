#include "scene.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "semifer/data/synthetic.h"
#include "semifer/models/registry.h"
#include "semifer/train/state.h"
#include "semifer/util/random.h"
#include "support/support.h"

namespace fs = std::filesystem;

namespace semifer::test {

std::vector<io::Image> synthetic_faces(int count, int side, unsigned seed) {
  std::vector<io::Image> faces;
  for (int i = 0; i < count; ++i) {
    util::Generator gen({seed, static_cast<uint64_t>(i)});
    faces.push_back(data::render_face(i % 7, side, gen, nullptr, 0.0f));
  }
  return faces;
}

std::vector<io::Image> utkface_faces(int count, int stride) {
  const std::string shared = shared_data_dir();
  if (shared.empty()) return {};
  const fs::path dir = fs::path(shared) / "utkface" / "crop_part1";
  if (!fs::is_directory(dir)) return {};
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<io::Image> faces;
  for (size_t i = 0; i < files.size() && static_cast<int>(faces.size()) < count;
       i += static_cast<size_t>(stride))
    faces.push_back(io::read_image(files[i]));
  return faces;
}

std::vector<video::DetectorOptions> real_face_detectors() {
  std::vector<video::DetectorOptions> detectors(1);  // the default
  const fs::path yunet = fs::path(SEMIFER_SOURCE_DIR) / ".." / "shared" /
                         "models" / "yunet_2022.onnx";
  if (fs::exists(yunet)) {
    video::DetectorOptions y;
    y.kind = "yunet";
    y.model = yunet.string();
    detectors.push_back(y);
  }
  return detectors;
}

std::vector<video::Detection> SceneDetector::detect(const io::Image&) {
  static const float whole[4] = {0, 0, 1, 1};
  std::vector<video::Detection> out;
  if (next_ < scene_.frames.size())
    for (const Placement& p : scene_.frames[next_])
      out.push_back(scene_.truth(p, whole));
  ++next_;
  return out;
}

std::string write_fer_checkpoint(const std::string& dir, double validation_f1) {
  torch::manual_seed(5);
  train::TrainState s;
  s.student = models::create_model("smallnet", models::ModelOptions{7});
  s.teacher = models::create_model("smallnet", models::ModelOptions{7});
  s.optimizer = std::make_unique<torch::optim::Adam>(s.student->parameters());
  s.thresholds = train::DynamicThresholds(7);
  s.window = train::MetricWindow(7, torch::kCPU);
  s.card.model = "smallnet";
  s.card.classes = {"Neutral",   "Anger",   "Disgust", "Fear",
                    "Happiness", "Sadness", "Surprise"};
  s.card.input.size = 48;
  s.step = 1;
  if (validation_f1 >= 0) {
    s.card.validation_step = 1;
    s.card.validation_f1_a = s.card.validation_f1_b = validation_f1;
  }
  const std::string path = (fs::path(dir) / "checkpoint_best.pt").string();
  fs::create_directories(dir);
  s.save(path);
  return path;
}

}  // namespace semifer::test
