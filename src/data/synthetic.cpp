#include "semifer/data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "semifer/data/labels.h"
#include "semifer/io/recordio.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::data {

namespace {

// A float RGB canvas with the few primitives a cartoon face needs.
struct Canvas {
  int n;
  std::vector<float> px;  // [n, n, 3] in 0..255
  explicit Canvas(int size)
      : n(size), px(static_cast<size_t>(size) * size * 3) {}

  void blend(int x, int y, const float rgb[3], float alpha) {
    if (x < 0 || y < 0 || x >= n || y >= n || alpha <= 0) return;
    float* p = &px[(static_cast<size_t>(y) * n + x) * 3];
    for (int c = 0; c < 3; ++c) p[c] += (rgb[c] - p[c]) * std::min(alpha, 1.0f);
  }
  // Fills the set where f(x, y) < 0 with a one-pixel soft edge.
  template <typename F>
  void fill(const float rgb[3], F f) {
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) {
        const float d = f(x + 0.5f, y + 0.5f);
        if (d < 0.5f) blend(x, y, rgb, std::clamp(0.5f - d, 0.0f, 1.0f));
      }
    }
  }
  void ellipse(float cx, float cy, float rx, float ry, float angle,
               const float rgb[3]) {
    const float c = std::cos(angle), s = std::sin(angle);
    fill(rgb, [&](float x, float y) {
      const float dx = x - cx, dy = y - cy;
      const float u = (c * dx + s * dy) / rx, v = (-s * dx + c * dy) / ry;
      return (std::sqrt(u * u + v * v) - 1.0f) * std::min(rx, ry);
    });
  }
  // A thick polyline through `pts` (x0, y0, x1, y1, ...).
  void stroke(const std::vector<float>& pts, float width, const float rgb[3]) {
    fill(rgb, [&](float x, float y) {
      float best = 1e9f;
      for (size_t i = 0; i + 3 < pts.size(); i += 2) {
        const float ax = pts[i], ay = pts[i + 1], bx = pts[i + 2],
                    by = pts[i + 3];
        const float vx = bx - ax, vy = by - ay;
        const float t = std::clamp(((x - ax) * vx + (y - ay) * vy) /
                                       std::max(vx * vx + vy * vy, 1e-6f),
                                   0.0f, 1.0f);
        const float dx = x - (ax + t * vx), dy = y - (ay + t * vy);
        best = std::min(best, std::sqrt(dx * dx + dy * dy));
      }
      return best - width / 2;
    });
  }
};

// Points of the parabola y = y0 + bend * (1 - (2t - 1)^2) across a mouth.
std::vector<float> curve(float cx, float cy, float half_width, float bend) {
  std::vector<float> pts;
  for (int k = 0; k <= 12; ++k) {
    const float t = k / 12.0f;
    const float u = 2 * t - 1;
    pts.push_back(cx + u * half_width);
    pts.push_back(cy + bend * (1 - u * u));
  }
  return pts;
}

struct Shape {
  float brow_tilt;   // + raises the inner ends (sad, fear), - lowers (anger)
  float brow_lift;   // + raises both brows (surprise)
  float eye_open;    // eye height factor
  float mouth_bend;  // + smile corners up (drawn as curve dipping down)
  float mouth_open;  // open-mouth height factor
  float mouth_width;
};

Shape expression_shape(int e, util::Generator& gen) {
  switch (e) {
    case kNeutral:
      return {0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f};
    case kAnger:
      return {-0.9f, -0.2f, 0.8f, -0.35f, 0.0f, 0.8f};
    case kDisgust:
      return {-0.4f, -0.1f, 0.55f, -0.5f, 0.15f, 0.9f};
    case kFear:
      return {0.8f, 0.5f, 1.5f, -0.2f, 0.45f, 1.1f};
    case kHappiness:
      return {0.1f, 0.1f, 0.7f, 0.9f, 0.1f, 1.25f};
    case kSadness:
      return {0.9f, -0.1f, 0.8f, -0.7f, 0.0f, 0.9f};
    case kSurprise:
      return {0.2f, 1.0f, 1.6f, 0.0f, 1.0f, 0.6f};
    default: {
      // Other: an asymmetric smirk or a pout, unlike the basic shapes.
      const bool smirk = gen.bernoulli(0.5);
      return {smirk ? 0.5f : -0.2f,
              0.3f,
              1.0f,
              smirk ? 0.5f : -0.1f,
              smirk ? 0.0f : 0.3f,
              smirk ? 0.9f : 0.45f};
    }
  }
}

}  // namespace

FaceIdentity random_identity(util::Generator& gen) {
  FaceIdentity id;
  id.tone = static_cast<float>(gen.uniform(0.35, 1.0));
  id.width = static_cast<float>(gen.uniform(0.30, 0.37));
  id.height = static_cast<float>(gen.uniform(0.38, 0.45));
  id.hair[0] = static_cast<float>(gen.uniform(10, 90));
  id.hair[1] = static_cast<float>(gen.uniform(10, 60));
  id.hair[2] = static_cast<float>(gen.uniform(5, 40));
  return id;
}

io::Image render_face(int expression, int size, util::Generator& gen,
                      const FaceIdentity* identity, float wildness,
                      float intensity) {
  const double w = std::max(0.0f, wildness);
  SEMIFER_CHECK(expression >= 0 && expression < kNumExpressions,
                "render_face: no expression ", expression);
  const FaceIdentity who = identity ? *identity : random_identity(gen);
  Canvas cv(size);
  const float s = static_cast<float>(size);
  // Background: a random colour with a vertical gradient.
  const float bg[3] = {static_cast<float>(gen.uniform(30, 220)),
                       static_cast<float>(gen.uniform(30, 220)),
                       static_cast<float>(gen.uniform(30, 220))};
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      for (int c = 0; c < 3; ++c) {
        cv.px[(static_cast<size_t>(y) * size + x) * 3 + c] =
            bg[c] * (0.8f + 0.4f * y / s);
      }
    }
  }
  // Identity and pose.
  const float tone = who.tone;
  const float skin[3] = {70 + 175 * tone, 45 + 150 * tone, 30 + 125 * tone};
  const float cx = s * static_cast<float>(0.5 + w * gen.uniform(-0.05, 0.05));
  const float cy = s * static_cast<float>(0.52 + w * gen.uniform(-0.04, 0.04));
  const float rx = s * who.width * static_cast<float>(gen.uniform(0.97, 1.03));
  const float ry = s * who.height * static_cast<float>(gen.uniform(0.97, 1.03));
  const float roll = static_cast<float>(w * gen.uniform(-0.15, 0.15));
  cv.ellipse(cx, cy, rx, ry, roll, skin);
  const float cr = std::cos(roll), sr = std::sin(roll);
  auto at = [&](float fx, float fy, float& x, float& y) {  // face coords -> px
    const float dx = fx * rx, dy = fy * ry;
    x = cx + cr * dx - sr * dy;
    y = cy + sr * dx + cr * dy;
  };

  Shape sh = expression_shape(expression, gen);
  if (intensity != 1.0f) {  // move towards the neutral face
    const Shape n = expression_shape(kNeutral, gen);
    const float k = std::clamp(intensity, 0.0f, 1.0f);
    auto toward = [&](float& v, float neutral) {
      v = neutral + k * (v - neutral);
    };
    toward(sh.brow_tilt, n.brow_tilt);
    toward(sh.brow_lift, n.brow_lift);
    toward(sh.eye_open, n.eye_open);
    toward(sh.mouth_bend, n.mouth_bend);
    toward(sh.mouth_open, n.mouth_open);
    toward(sh.mouth_width, n.mouth_width);
  }
  auto jitter = [&](float v, float amount) {
    return v + static_cast<float>(gen.uniform(-amount, amount));
  };
  sh.brow_tilt = jitter(sh.brow_tilt, 0.2f);
  sh.eye_open = std::max(0.3f, jitter(sh.eye_open, 0.15f));
  sh.mouth_bend = jitter(sh.mouth_bend, 0.15f);
  sh.mouth_open = std::max(0.0f, jitter(sh.mouth_open, 0.1f));

  const float dark[3] = {25, 20, 20};
  const float white[3] = {235, 235, 230};
  const float lip[3] = {150, 50, 55};
  const float* hair = who.hair;
  for (int side : {-1, 1}) {
    float ex, ey;
    at(0.38f * side, -0.18f, ex, ey);
    const float erx = rx * 0.17f, ery = ry * 0.07f * sh.eye_open;
    cv.ellipse(ex, ey, erx, ery, roll, white);
    cv.ellipse(ex, ey, erx * 0.45f, std::min(ery, erx * 0.45f), roll, dark);
    // Brow: inner end at |x| = 0.15, outer at 0.6 (face units).
    float ix, iy, ox, oy;
    const float base = -0.38f - 0.12f * sh.brow_lift;
    at(0.15f * side, base - 0.10f * sh.brow_tilt, ix, iy);
    at(0.60f * side, base + 0.04f * sh.brow_tilt, ox, oy);
    cv.stroke({ix, iy, ox, oy}, std::max(1.5f, s * 0.035f), hair);
  }
  // Mouth.
  float mx, my;
  at(expression == kOther ? 0.08f : 0.0f, 0.48f, mx, my);
  const float half = rx * 0.42f * sh.mouth_width;
  if (sh.mouth_open > 0.2f) {
    cv.ellipse(mx, my + ry * 0.03f, half * 0.9f, ry * 0.16f * sh.mouth_open,
               roll, dark);
  }
  std::vector<float> pts = curve(mx, my, half, ry * 0.16f * sh.mouth_bend);
  if (expression == kOther && sh.mouth_bend > 0.2f) {
    for (size_t i = 1; i < pts.size(); i += 2)
      pts[i] -= (pts[i - 1] - mx) * 0.25f;
  }
  cv.stroke(pts, std::max(1.5f, s * 0.03f), lip);

  // Defocus: half of the faces get a 3x3 blur of random strength.
  if (gen.bernoulli(std::min(1.0, 0.5 * w))) {
    const float amount = static_cast<float>(gen.uniform(0.3, 1.0));
    const std::vector<float> sharp = cv.px;
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        for (int c = 0; c < 3; ++c) {
          float sum = 0;
          for (int dy = -1; dy <= 1; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
              const int yy = std::clamp(y + dy, 0, size - 1);
              const int xx = std::clamp(x + dx, 0, size - 1);
              sum += sharp[(static_cast<size_t>(yy) * size + xx) * 3 + c];
            }
          }
          float& p = cv.px[(static_cast<size_t>(y) * size + x) * 3 + c];
          p += (sum / 9 - p) * amount;
        }
      }
    }
  }
  // Lighting from one side, then sensor noise.
  const float light = static_cast<float>(w * gen.uniform(-0.25, 0.25));
  io::Image image(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const float gain = 1.0f + light * (2.0f * x / s - 1.0f);
      for (int c = 0; c < 3; ++c) {
        float v = cv.px[(static_cast<size_t>(y) * size + x) * 3 + c] * gain +
                  static_cast<float>(w * gen.uniform(-8, 8));
        image.pixel(x, y)[c] =
            static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
      }
    }
  }
  return image;
}

SyntheticSummary write_synthetic_dataset(const SyntheticConfig& config) {
  SEMIFER_CHECK(!config.out_dir.empty(), "synthetic data: no output folder");
  SEMIFER_CHECK(config.size >= 16, "synthetic data: size must be >= 16");
  SEMIFER_CHECK(config.min_intensity >= 0 && config.min_intensity <= 1,
                "synthetic data: min_intensity must lie in 0..1");
  SEMIFER_CHECK(config.label_noise >= 0 && config.label_noise <= 1,
                "synthetic data: label_noise must lie in 0..1");
  double mix_sum = 0;
  for (double m : config.unlabeled_mix) {
    SEMIFER_CHECK(m >= 0, "synthetic data: negative unlabeled_mix entry");
    mix_sum += m;
  }
  SEMIFER_CHECK(mix_sum > 0, "synthetic data: unlabeled_mix sums to 0");
  const fs::path out(config.out_dir);
  fs::create_directories(out);
  auto count = [&](int n) {  // a count asked for keeps at least one image
    if (n <= 0) return 0;
    return std::max(1, static_cast<int>(std::lround(n * config.scale)));
  };
  SyntheticSummary summary;
  uint64_t stream = 0;
  // Image k (in writing order) draws from stream k alone, so what one image
  // shows (its expression, redrawn by label_noise) changes no other image.
  // `shown` is the expression drawn; a labeled image's label may differ.
  auto face = [&](int shown, const FaceIdentity* who = nullptr,
                  float wildness = 1.0f) {
    util::Generator gen({config.seed, ++stream});
    ++summary.images;
    float intensity = 1.0f;
    if (config.min_intensity < 1.0f)
      intensity = static_cast<float>(gen.uniform(config.min_intensity, 1.0));
    return render_face(shown, config.size, gen, who, wildness, intensity);
  };
  std::vector<FaceIdentity> people;
  util::Generator noise_gen({config.seed, 0x4015eULL});
  {
    util::Generator gen({config.seed, 0x1d5ULL});
    for (int i = 0; i < config.labeled_identities; ++i)
      people.push_back(random_identity(gen));
  }

  // Labeled: an image folder with lower-case synonym folder names.
  static const char* kFolder[8] = {"neutral", "angry", "disgust",  "fear",
                                   "happy",   "sad",   "surprise", "other"};
  for (int c = 0; c < kNumExpressions; ++c) {
    const fs::path dir = out / "labeled" / kFolder[c];
    fs::create_directories(dir);
    for (int i = 0; i < count(config.labeled[c]); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "%05d.jpg", i);
      const FaceIdentity* who =
          people.empty() ? nullptr : &people[(i + c) % people.size()];
      int shown = c;
      if (config.label_noise > 0 && noise_gen.bernoulli(config.label_noise)) {
        shown = static_cast<int>(
            (c + 1 + noise_gen.below(kNumExpressions - 1)) % kNumExpressions);
      }
      io::write_image((dir / name).string(),
                      face(shown, who, config.labeled_wildness), 90,
                      util::Durability::kFast);
    }
  }

  // Aff-Wild2: videos whose expression changes every 15-40 frames; some
  // frames unannotated (-1), some without an image (no face detected).
  fs::create_directories(out / "affwild2" / "annotations");
  util::Generator video_gen({config.seed, 0xa77ULL});
  for (int v = 0; v < config.videos; ++v) {
    const std::string video = v == config.videos - 1 && v > 0
                                  ? str("video", v - 1, "_right")
                                  : str("video", v);
    const fs::path frames = out / "affwild2" / "cropped_aligned" / video;
    fs::create_directories(frames);
    std::ofstream ann(out / "affwild2" / "annotations" / (video + ".txt"));
    ann << "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n";
    int expression = 0, left = 0;
    const int n = count(config.frames);
    for (int f = 1; f <= n; ++f) {
      if (left-- <= 0) {
        expression = static_cast<int>(video_gen.below(kNumExpressions));
        left = static_cast<int>(video_gen.uniform_int(15, 40));
      }
      const bool unannotated = video_gen.bernoulli(0.05);
      const bool no_face = video_gen.bernoulli(0.03);
      ann << (unannotated ? -1 : expression) << "\n";
      if (no_face) continue;
      char name[32];
      std::snprintf(name, sizeof(name), "%05d.jpg", f);
      io::write_image((frames / name).string(),
                      face(expression, nullptr, config.wildness), 90,
                      util::Durability::kFast);
    }
  }

  // Unlabeled: an InsightFace-style RecordIO pool (header record 0, image
  // records 1..n, then identity records), drawn from a different class mix.
  {
    fs::create_directories(out / "pool");
    io::RecordWriter writer((out / "pool" / "train.rec").string(),
                            (out / "pool" / "train.idx").string());
    const int n = count(config.unlabeled);
    const int identities = std::max(1, n / 10);
    writer.write(0,
                 io::pack_image_record({static_cast<float>(n + 1),
                                        static_cast<float>(n + 1 + identities)},
                                       0, {}));
    util::Generator mix({config.seed, 0x9001ULL});
    auto pool_wildness = [&] {
      if (config.unlabeled_min_wildness < 0) return config.wildness;
      return static_cast<float>(
          mix.uniform(config.unlabeled_min_wildness, config.wildness));
    };
    for (int i = 1; i <= n; ++i) {
      double r = mix.uniform() * mix_sum;
      int e = 0;
      while (e < kNumExpressions - 1 && r >= config.unlabeled_mix[e])
        r -= config.unlabeled_mix[e++];
      writer.write(static_cast<uint64_t>(i),
                   io::pack_image_record(
                       {static_cast<float>((i - 1) % identities)}, 0,
                       io::encode_jpeg(face(e, nullptr, pool_wildness()))));
    }
    for (int k = 0; k < identities; ++k) {
      writer.write(static_cast<uint64_t>(n + 1 + k),
                   io::pack_image_record({1.0f, 2.0f}, 0, {}));
    }
    writer.close();
  }

  // Validation: a CSV list with class names.
  {
    const fs::path dir = out / "validation";
    fs::create_directories(dir / "images");
    std::ofstream csv(dir / "list.csv");
    csv << "path,label\n";
    for (int c = 0; c < kNumExpressions; ++c) {
      for (int i = 0; i < count(config.validation); ++i) {
        const std::string rel = str("images/", kFolder[c], "_", i, ".png");
        io::write_image((dir / rel).string(), face(c, nullptr, config.wildness),
                        90, util::Durability::kFast);
        csv << rel << "," << expression_name(c) << "\n";
      }
    }
  }

  const fs::path yaml = out / "data.yaml";
  util::write_text(
      yaml.string(),
      "# Synthetic faces written by `semifer data synth`.\n"
      "classes: [Neutral, Anger, Disgust, Fear, Happiness, Sadness, "
      "Surprise, Other]\n"
      "sampling: {per_class: 60, leftovers_to_unlabeled: true, seed: 0}\n"
      "labeled:\n"
      "  - {format: folder, root: labeled}\n"
      "  - {format: affwild2, annotations: affwild2/annotations, "
      "images: affwild2/cropped_aligned}\n"
      "unlabeled:\n"
      "  - {format: recordio, rec: pool/train.rec, idx: pool/train.idx}\n"
      "validation:\n"
      "  - {format: csv, csv: validation/list.csv, root: validation}\n");
  summary.config_path = yaml.string();
  return summary;
}

}  // namespace semifer::data
