#include "semifer/video/synthetic.h"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "semifer/io/video.h"
#include "semifer/util/error.h"

namespace semifer::video {

namespace {

cv::Mat background(int w, int h) {
  cv::Mat bg(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = bg.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      row[3 * x] = static_cast<uint8_t>((x * 255) / std::max(1, w - 1));
      row[3 * x + 1] = static_cast<uint8_t>((y * 255) / std::max(1, h - 1));
      row[3 * x + 2] = static_cast<uint8_t>((5 * 37 + x + y) % 256);
    }
  }
  for (int x = 0; x < w; x += 80)
    cv::rectangle(bg, cv::Rect(x, 0, 20, h), cv::Scalar(40, 60, 90),
                  cv::FILLED);
  for (int y = 0; y < h; y += 120)
    cv::rectangle(bg, cv::Rect(0, y, w, 10), cv::Scalar(180, 170, 150),
                  cv::FILLED);
  return bg;
}

}  // namespace

io::Image Scene::render(size_t i) const {
  thread_local cv::Mat bg;
  if (bg.cols != width || bg.rows != height) bg = background(width, height);
  cv::Mat canvas = bg.clone();
  for (const Placement& p : frames.at(i)) {
    const io::Image& face = faces.at(static_cast<size_t>(p.face));
    const cv::Mat src(face.height, face.width, CV_8UC3,
                      const_cast<uint8_t*>(face.data.data()));
    const int side = static_cast<int>(std::lround(p.side));
    if (side < 1) continue;
    cv::Mat scaled;
    cv::resize(src, scaled, cv::Size(side, side), 0, 0, cv::INTER_AREA);
    const cv::Rect to(static_cast<int>(std::lround(p.x)),
                      static_cast<int>(std::lround(p.y)), side, side);
    const cv::Rect inside = to & cv::Rect(0, 0, width, height);
    if (inside.empty()) continue;
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

Detection Scene::truth(const Placement& p, const float inner[4]) const {
  Detection d;
  d.x = p.x + inner[0] * p.side;
  d.y = p.y + inner[1] * p.side;
  d.w = (inner[2] - inner[0]) * p.side;
  d.h = (inner[3] - inner[1]) * p.side;
  d.score = 1;
  return d;
}

Scene drifting_faces(const std::vector<io::Image>& faces, int frames, int width,
                     int height) {
  SEMIFER_CHECK(!faces.empty(), "a scene needs at least one face image");
  SEMIFER_CHECK(frames >= 0 && width >= 64 && height >= 64,
                "a scene needs frames >= 0 and at least 64x64 pixels, got ",
                frames, " frames of ", width, "x", height);
  Scene s;
  s.width = width;
  s.height = height;
  s.faces = faces;
  s.frames.resize(static_cast<size_t>(frames));
  const float unit = static_cast<float>(std::min(width, height)) / 480.0f;
  struct Mover {
    int face;
    float x, y, vx, vy, side;
  };
  // Two faces, one in each half of the frame; the k-th face to enter
  // starts at a place and velocity derived from k.
  auto enter = [&](int k, int slot) {
    const float side = unit * (100.0f + static_cast<float>((k * 17) % 51));
    const float half = static_cast<float>(width) / 2;
    Mover m;
    m.face = k % static_cast<int>(faces.size());
    m.side = side;
    m.x = slot * half + static_cast<float>((k * 53) % 97) * unit;
    m.y = static_cast<float>((k * 89) % std::max(1, height - 10)) *
          (static_cast<float>(height) - side) /
          static_cast<float>(std::max(1, height - 10));
    m.vx = unit * (2.0f + static_cast<float>(k % 3)) * (k % 2 ? -1 : 1);
    m.vy =
        unit * (2.0f + static_cast<float>((k + 1) % 3)) * (k % 4 < 2 ? 1 : -1);
    return m;
  };
  std::vector<Mover> movers = {enter(0, 0), enter(1, 1)};
  int next = 2;
  for (int i = 0; i < frames; ++i) {
    if (i > 0 && i % 75 == 0) {
      const int slot = (i / 75) % 2;
      movers[static_cast<size_t>(slot)] = enter(next++, slot);
    }
    for (Mover& m : movers) {
      s.frames[static_cast<size_t>(i)].push_back({m.face, m.x, m.y, m.side});
      m.x += m.vx;
      m.y += m.vy;
      if (m.x < 0 || m.x + m.side > width) {
        m.vx = -m.vx;
        m.x = std::clamp(m.x, 0.0f, static_cast<float>(width) - m.side);
      }
      if (m.y < 0 || m.y + m.side > height) {
        m.vy = -m.vy;
        m.y = std::clamp(m.y, 0.0f, static_cast<float>(height) - m.side);
      }
    }
  }
  return s;
}

}  // namespace semifer::video
