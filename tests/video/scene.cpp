#include "scene.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "semifer/data/synthetic.h"
#include "semifer/io/video.h"
#include "semifer/models/registry.h"
#include "semifer/train/state.h"
#include "semifer/util/random.h"
#include "support/support.h"

namespace fs = std::filesystem;

namespace semifer::test {

namespace {

// A background with structure at several scales (not flat, not noise): a
// smooth pattern, stripes and blocks.
const cv::Mat& background(int w, int h) {
  static cv::Mat bg;
  if (bg.cols != w || bg.rows != h) {
    const io::Image p = pattern_image(w, h, 5);
    cv::Mat rgb(h, w, CV_8UC3, const_cast<uint8_t*>(p.data.data()));
    bg = rgb.clone();
    for (int x = 0; x < w; x += 80)
      cv::rectangle(bg, cv::Rect(x, 0, 20, h), cv::Scalar(40, 60, 90),
                    cv::FILLED);
    for (int y = 0; y < h; y += 120)
      cv::rectangle(bg, cv::Rect(0, y, w, 10), cv::Scalar(180, 170, 150),
                    cv::FILLED);
  }
  return bg;
}

}  // namespace

io::Image Scene::render(size_t i) const {
  cv::Mat canvas = background(width, height).clone();
  for (const Placement& p : frames.at(i)) {
    const io::Image& face = faces.at(static_cast<size_t>(p.face));
    const cv::Mat src(face.height, face.width, CV_8UC3,
                      const_cast<uint8_t*>(face.data.data()));
    const int side = static_cast<int>(std::lround(p.side));
    cv::Mat scaled;
    cv::resize(src, scaled, cv::Size(side, side), 0, 0, cv::INTER_AREA);
    const cv::Rect to(static_cast<int>(std::lround(p.x)),
                      static_cast<int>(std::lround(p.y)), side, side);
    const cv::Rect inside = to & cv::Rect(0, 0, width, height);
    scaled(
        cv::Rect(inside.x - to.x, inside.y - to.y, inside.width, inside.height))
        .copyTo(canvas(inside));
  }
  io::Image out(width, height);
  std::copy(canvas.data, canvas.data + out.data.size(), out.data.begin());
  return out;
}

void Scene::write(const std::string& path, double fps) const {
  io::VideoWriter w(path, width, height, fps);
  for (size_t i = 0; i < frames.size(); ++i) w.write(render(i));
  w.close();
}

video::Detection Scene::truth(const Placement& p, const float inner[4]) const {
  video::Detection d;
  d.x = p.x + inner[0] * p.side;
  d.y = p.y + inner[1] * p.side;
  d.w = (inner[2] - inner[0]) * p.side;
  d.h = (inner[3] - inner[1]) * p.side;
  d.score = 1;
  return d;
}

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

std::vector<video::Detection> SceneDetector::detect(const io::Image&) {
  static const float whole[4] = {0, 0, 1, 1};
  std::vector<video::Detection> out;
  if (next_ < scene_.frames.size())
    for (const Placement& p : scene_.frames[next_])
      out.push_back(scene_.truth(p, whole));
  ++next_;
  return out;
}

std::string write_fer_checkpoint(const std::string& dir) {
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
  const std::string path = (fs::path(dir) / "checkpoint_best.pt").string();
  fs::create_directories(dir);
  s.save(path);
  return path;
}

}  // namespace semifer::test
