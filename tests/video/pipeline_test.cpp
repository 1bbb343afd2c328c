#include "semifer/video/pipeline.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "scene.h"
#include "semifer/eval/smoothing.h"
#include "semifer/util/device.h"
#include "semifer/util/strings.h"
#include "semifer/video/face_crop.h"
#include "semifer/video/outputs.h"
#include "support/support.h"

namespace fs = std::filesystem;

namespace semifer::test {

namespace {

// Keeps everything the pipeline hands to its sinks.
class CaptureSink : public video::VideoSink {
 public:
  void on_frame(const io::Frame& frame,
                const std::vector<video::FaceResult>& faces) override {
    frames.push_back(frame.number);
    results.push_back(faces);
  }
  void on_rows(const std::vector<video::FaceRow>& r) override {
    rows.push_back(r);
  }
  std::vector<int64_t> frames;
  std::vector<std::vector<video::FaceResult>> results;
  std::vector<std::vector<video::FaceRow>> rows;  // per frame, in order
};

// A scene of 60 frames: face 0 moves right through frames 0-39 but for a
// 3-frame gap (15-17); face 1 comes in at frame 20 moving left and passes
// face 0; frames 40-59 hold no face.
Scene crossing_scene() {
  Scene s;
  s.faces = synthetic_faces(2, 100, 3);
  s.frames.resize(60);
  for (int i = 0; i < 40; ++i) {
    if (i < 15 || i > 17) s.frames[i].push_back({0, 40.0f + 8 * i, 100, 100});
    if (i >= 20) s.frames[i].push_back({1, 560.0f - 12 * (i - 20), 160, 100});
  }
  return s;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::map<std::string, size_t> columns(const std::string& header) {
  std::map<std::string, size_t> c;
  size_t i = 0;
  for (auto f : util::split(header, ',')) c[std::string(f)] = i++;
  return c;
}

// Records which search the pipeline asked for in each frame.
class CountingDetector : public video::FaceDetector {
 public:
  explicit CountingDetector(video::FaceDetector& inner) : inner_(inner) {}
  std::vector<video::Detection> detect(const io::Image& frame) override {
    searches.push_back(-1);
    return inner_.detect(frame);
  }
  std::vector<video::Detection> detect_in(
      const io::Image& frame,
      const std::vector<video::SearchRegion>& regions) override {
    searches.push_back(static_cast<int>(regions.size()));
    return inner_.detect_in(frame, regions);
  }
  std::string name() const override { return "counting"; }
  std::vector<int> searches;  // per frame: -1 the whole frame, else regions

 private:
  video::FaceDetector& inner_;
};

video::VideoOptions scripted_options(int window) {
  video::VideoOptions o;
  o.smoothing.window = window;
  o.queue = 4;
  o.batch = 8;
  return o;
}

}  // namespace

TEST(VideoPipeline, TracksFacesThroughGapsAndCrossingsRowByRow) {
  TempDir t;
  const Scene scene = crossing_scene();
  scene.write(t.file("clip.avi"));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  auto source = io::open_frames(t.file("clip.avi"));
  SceneDetector detector(scene);
  CaptureSink capture;
  video::CsvLayout layout;
  layout.smoothed = true;
  video::CsvSink csv(t.file("out/clip.csv"), layout);
  const video::VideoSummary s = video::run_video(
      *source, detector, rec, scripted_options(5), {&capture, &csv});
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.frames, 60);
  EXPECT_EQ(s.tracks, 2);
  EXPECT_EQ(s.faces, 37 + 20);
  ASSERT_EQ(capture.rows.size(), 60u);
  static const float whole[4] = {0, 0, 1, 1};
  for (int i = 0; i < 60; ++i) {
    const auto& rows = capture.rows[i];
    ASSERT_FALSE(rows.empty());
    for (const auto& r : rows) EXPECT_EQ(r.frame, i + 1);
    std::map<int64_t, const video::FaceRow*> by_id;
    for (const auto& r : rows) by_id[r.track_id] = &r;
    if (i < 15 || (i >= 18 && i < 20)) {
      ASSERT_EQ(rows.size(), 1u) << i;
      EXPECT_TRUE(rows[0].success);
      EXPECT_EQ(rows[0].track_id, 0) << i;
    } else if (i < 18) {  // the gap: track 0 lives on, its face unseen
      ASSERT_EQ(rows.size(), 1u) << i;
      EXPECT_FALSE(rows[0].success);
      EXPECT_EQ(rows[0].track_id, 0);
      EXPECT_EQ(rows[0].label, -1);
      EXPECT_TRUE(rows[0].probabilities.empty());
    } else if (i < 40) {  // both faces, ids by the face they follow
      ASSERT_EQ(rows.size(), 2u) << i;
      for (const auto& p : scene.frames[i]) {
        const video::Detection truth = scene.truth(p, whole);
        const video::FaceRow* r = by_id.at(p.face);
        EXPECT_TRUE(r->success);
        EXPECT_GT(video::iou(r->detection, truth), 0.99f) << i;
      }
    } else if (i < 50) {  // both tracks missed, kept 10 frames
      ASSERT_EQ(rows.size(), 2u) << i;
      EXPECT_FALSE(rows[0].success);
      EXPECT_FALSE(rows[1].success);
    } else {  // no face and no track: one empty row
      ASSERT_EQ(rows.size(), 1u) << i;
      EXPECT_EQ(rows[0].track_id, -1);
      EXPECT_FALSE(rows[0].success);
    }
    for (const auto& r : rows)
      if (r.success) {
        EXPECT_GE(r.smoothed_label, 0);
        EXPECT_EQ(r.probabilities.size(), 7u);
      }
  }
  // The CSV: a header and the same rows.
  const auto lines = read_lines(t.file("out/clip.csv"));
  size_t n = 0;
  for (const auto& rows : capture.rows) n += rows.size();
  ASSERT_EQ(lines.size(), n + 1);
  EXPECT_EQ(lines[0], video::csv_header(rec.classes(), layout));
  const auto col = columns(lines[0]);
  EXPECT_EQ(col.at("frame"), 0u);
  EXPECT_TRUE(col.count("smoothed_Happiness"));
  const auto gap = util::split(lines[16], ',');  // frame 16, track 0 missed
  EXPECT_EQ(gap[col.at("frame")], "16");
  EXPECT_EQ(gap[col.at("success")], "0");
  EXPECT_EQ(gap[col.at("label")], "");
  EXPECT_EQ(gap.size(), col.size());
}

// Face 0 moves right from frame 0, unseen in frames 30-32; face 1 comes in
// at frame 22. With whole-frame detection every 5 frames the frames between
// are searched around the tracks only: face 1 is found at frame 25, face 0
// after its gap by the wider region of a missed track, with its id.
TEST(VideoPipeline, SearchesTheWholeFrameEveryNFramesAndTracksBetween) {
  TempDir t;
  Scene scene;
  scene.faces = synthetic_faces(2, 100, 4);
  scene.frames.resize(45);
  for (int i = 0; i < 45; ++i) {
    if (i < 30 || i > 32)
      scene.frames[i].push_back({0, 20.0f + 8 * i, 60, 100});
    if (i >= 22) scene.frames[i].push_back({1, 500.0f - 4 * (i - 22), 320, 90});
  }
  scene.write(t.file("clip.avi"));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  for (int every : {5, 1}) {
    auto source = io::open_frames(t.file("clip.avi"));
    SceneDetector scripted(scene);
    CountingDetector detector(scripted);
    CaptureSink capture;
    video::VideoOptions o = scripted_options(5);
    o.detect_every = every;
    const auto s = video::run_video(*source, detector, rec, o, {&capture});
    ASSERT_EQ(detector.searches.size(), 45u);
    EXPECT_EQ(s.whole_frame_detections, every == 5 ? 9 : 45);
    for (int i = 0; i < 45; ++i) {
      if (every == 1 || i % 5 == 0) {
        EXPECT_EQ(detector.searches[i], -1) << i;
      } else {
        // A region per live track: face 1's from frame 26 on.
        EXPECT_EQ(detector.searches[i], i > 25 ? 2 : 1) << every << " " << i;
      }
    }
    const int first = every == 5 ? 25 : 22;
    ASSERT_EQ(capture.rows.size(), 45u);
    for (int i = 0; i < 45; ++i) {
      std::map<int64_t, bool> seen;
      for (const auto& r : capture.rows[i]) seen[r.track_id] = r.success;
      const bool face0 = i < 30 || i > 32;
      EXPECT_EQ(seen.count(0) && seen[0], face0) << every << " " << i;
      EXPECT_EQ(seen.count(1) && seen[1], i >= first) << every << " " << i;
    }
    EXPECT_EQ(s.tracks, 2) << every;
  }
}

TEST(VideoPipeline, SetsEachStagesThreadsAndRefusesBadCounts) {
  TempDir t;
  Scene scene = crossing_scene();
  scene.frames.resize(6);
  scene.write(t.file("clip.avi"));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  const int before_torch = at::get_num_threads();
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  for (int n : {std::max(1, std::min(2, cores)), 1}) {
    auto source = io::open_frames(t.file("clip.avi"));
    SceneDetector detector(scene);
    video::VideoOptions o = scripted_options(3);
    o.detect_threads = n;
    o.classify_threads = n;
    const auto s = video::run_video(*source, detector, rec, o, {});
    EXPECT_EQ(s.frames, 6);
    EXPECT_EQ(video::detection_threads(), n);
    EXPECT_EQ(at::get_num_threads(), n);
  }
  // 0 leaves both libraries as they are.
  {
    auto source = io::open_frames(t.file("clip.avi"));
    SceneDetector detector(scene);
    video::VideoOptions o = scripted_options(3);
    o.detect_threads = 0;
    o.classify_threads = 0;
    video::run_video(*source, detector, rec, o, {});
    EXPECT_EQ(video::detection_threads(), 1);
    EXPECT_EQ(at::get_num_threads(), 1);
  }
  util::set_intra_op_threads(before_torch);  // OpenCV's stay at 1
  video::VideoOptions o;
  o.detect_threads = -1;
  expect_error([&] { o.validate(); },
               {"detection threads must be 0..256, got -1"});
  o.detect_threads = 0;
  o.classify_threads = 257;
  expect_error([&] { o.validate(); },
               {"classifier threads must be 0..256, got 257"});
}

TEST(VideoPipeline, SmoothedLabelsAreEvalsOverEachTrack) {
  TempDir t;
  const Scene scene = crossing_scene();
  scene.write(t.file("clip.avi"));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  for (const std::string mode : {"centered", "mean", "block"}) {
    auto source = io::open_frames(t.file("clip.avi"));
    SceneDetector detector(scene);
    CaptureSink capture;
    video::VideoOptions o = scripted_options(7);
    o.smoothing.mode = mode;
    video::run_video(*source, detector, rec, o, {&capture});
    std::map<int64_t, std::vector<int32_t>> frames;
    std::map<int64_t, std::vector<float>> probs;
    std::map<int64_t, std::vector<int>> got;
    std::set<int> raw;
    for (const auto& rows : capture.rows)
      for (const auto& r : rows) {
        if (!r.success) continue;
        frames[r.track_id].push_back(static_cast<int32_t>(r.frame));
        probs[r.track_id].insert(probs[r.track_id].end(),
                                 r.probabilities.begin(),
                                 r.probabilities.end());
        got[r.track_id].push_back(r.smoothed_label);
        raw.insert(r.label);
      }
    // The model's labels vary, or the comparison would prove little.
    EXPECT_GE(raw.size(), 2u);
    ASSERT_EQ(frames.size(), 2u);
    for (const auto& [id, f] : frames) {
      eval::SmoothOptions e;
      e.window = 7;
      e.mode = eval::parse_smooth_mode(mode);
      const auto want = eval::smooth_video(f, probs[id], 7, f.back(), e);
      for (size_t i = 0; i < f.size(); ++i)
        EXPECT_EQ(got[id][i], want[f[i] - 1])
            << mode << " track " << id << " frame " << f[i];
    }
  }
}

TEST(VideoPipeline, PhotosNumberTheirFacesAndAreNotSmoothed) {
  TempDir t;
  Scene scene;
  scene.faces = synthetic_faces(3, 90, 9);
  scene.frames = {{{0, 20, 30, 90}, {1, 200, 40, 110}, {2, 420, 200, 80}},
                  {{2, 50, 50, 120}},
                  {}};
  io::write_image(t.file("photos/a.png"), scene.render(0));
  io::write_image(t.file("photos/b.png"), scene.render(1));
  io::write_image(t.file("photos/c.png"), scene.render(2));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  auto source = io::open_frames(t.file("photos"));
  SceneDetector detector(scene);
  CaptureSink capture;
  const auto s =
      video::run_video(*source, detector, rec, scripted_options(5), {&capture});
  EXPECT_EQ(s.frames, 3);
  ASSERT_EQ(capture.rows.size(), 3u);
  ASSERT_EQ(capture.rows[0].size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(capture.rows[0][k].track_id, k);
    EXPECT_EQ(capture.rows[0][k].smoothed_label, -1);
    EXPECT_EQ(fs::path(capture.rows[0][k].file).filename(), "a.png");
  }
  ASSERT_EQ(capture.rows[1].size(), 1u);
  EXPECT_EQ(capture.rows[1][0].track_id, 0);
  ASSERT_EQ(capture.rows[2].size(), 1u);
  EXPECT_FALSE(capture.rows[2][0].success);
}

TEST(VideoPipeline, AbawFilesHoldALabelForEveryFrame) {
  TempDir t;
  const Scene scene = crossing_scene();
  scene.write(t.file("clip.avi"));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  auto source = io::open_frames(t.file("clip.avi"));
  SceneDetector detector(scene);
  CaptureSink capture;
  video::AbawSink abaw(t.file("abaw"));
  video::AnnotateSink annotate(t.file("out/clip.annotated.avi"), 25);
  video::VideoOptions o = scripted_options(5);
  o.largest_face = true;
  video::run_video(*source, detector, rec, o, {&capture, &abaw, &annotate});
  const auto lines = read_lines(abaw.path());
  ASSERT_EQ(lines.size(), 61u);
  EXPECT_EQ(lines[1].substr(0, 15), "clip/00001.jpg,");
  // Frames 41-60 have no face: the label of frame 40, the nearest.
  EXPECT_EQ(lines[60].substr(lines[60].find(',')),
            lines[40].substr(lines[40].find(',')));
  // One face per frame with --largest-face.
  for (const auto& faces : capture.results) EXPECT_LE(faces.size(), 1u);
  auto annotated = io::open_frames(t.file("out/clip.annotated.avi"));
  EXPECT_EQ(annotated->info().frame_count, 60);
  EXPECT_EQ(annotated->info().width, 640);
}

// `semifer bench video` runs the job on its own synthetic video, both
// ways: the counts of whole-frame searches say which is which.
TEST(BenchCli, VideoRunsTheJobWithAndWithoutRegionSearches) {
  const RunResult r = run_cli({"bench", "video", "--frames", "20", "--detector",
                               "haar", "--detect-every", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = util::split(r.out, '\n');
  ASSERT_GE(lines.size(), 3u) << r.out;
  EXPECT_NE(lines[0].find("frames/s, haar, whole frame every 4 (20 frames "
                          "of 640x480"),
            std::string::npos)
      << r.out;
  EXPECT_NE(lines[1].find("whole frame every 1 (20 frames"), std::string::npos)
      << r.out;
  EXPECT_NE(lines[1].find(", 20 whole-frame detections"), std::string::npos)
      << r.out;
  EXPECT_EQ(lines[2].rfind("ratio ", 0), 0u) << r.out;
  const RunResult bad =
      run_cli({"bench", "video", "--input", "/nonexistent/clip.avi"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("/nonexistent/clip.avi"), std::string::npos)
      << bad.err;
  EXPECT_NE(run_cli({"bench", "video", "--help"}).out.find("Example"),
            std::string::npos);
}

TEST(VideoCli, AMissingCameraIsAOneLineError) {
  if (fs::exists("/dev/video7")) GTEST_SKIP() << "/dev/video7 exists here";
  TempDir t;
  const std::string ckpt = write_fer_checkpoint(t.file("model"));
#ifdef __SANITIZE_ADDRESS__
  // OpenCV's camera probe leaks inside a plugin it unloads again (libusb's
  // device list; LeakSanitizer cannot name the module): not ours to check.
  setenv("ASAN_OPTIONS",
         (std::string(getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "") +
          ":detect_leaks=0")
             .c_str(),
         1);
#endif
  const RunResult r = run_cli({"video", "--camera", "7", "--checkpoint", ckpt,
                               "--out", t.file("out"), "--smooth-mode", "ema"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot open camera 7 (/dev/video7)"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const RunResult both =
      run_cli({"video", t.file("a.avi"), "--camera", "0", "--checkpoint", ckpt,
               "--out", t.file("out")});
  EXPECT_NE(both.err.find("give either inputs or --camera, not both"),
            std::string::npos)
      << both.err;
}

// A model whose recorded validation F1 is near chance is named before the
// inputs run, as predict and eval name it; --quiet leaves only errors.
TEST(VideoCli, WarnsOfAModelNearChanceBeforeTheInputs) {
  TempDir t;
  Scene scene;
  scene.faces = synthetic_faces(1, 120, 4);
  for (int i = 0; i < 3; ++i) scene.frames.push_back({{0, 100, 120, 140}});
  scene.write(t.file("clip.avi"));
  const auto video = [&](const std::string& ckpt, bool quiet) {
    std::vector<std::string> args = {
        "video", t.file("clip.avi"), "--checkpoint", ckpt,
        "--out", t.file("out"),      "--detector",   "haar"};
    if (quiet) args.push_back("--quiet");
    return run_cli(args);
  };
  const RunResult weak =
      video(write_fer_checkpoint(t.file("weak"), 0.05), false);
  ASSERT_EQ(weak.exit_code, 0) << weak.err;
  EXPECT_NE(weak.err.find("semifer: warning: network "), std::string::npos)
      << weak.err;
  EXPECT_NE(weak.err.find("recorded validation macro F1 is 0.050 (step 1), "
                          "near chance for 7 classes"),
            std::string::npos)
      << weak.err;
  EXPECT_EQ(std::count(weak.err.begin(), weak.err.end(), '\n'), 1) << weak.err;
  const RunResult quiet =
      video(write_fer_checkpoint(t.file("weak"), 0.05), true);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  for (double f1 : {0.6, -1.0}) {  // a sound model, and one never validated
    const RunResult r = video(
        write_fer_checkpoint(t.file(f1 > 0 ? "sound" : "never"), f1), false);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << f1 << r.err;
  }
  // The same warning for programs that embed the Recognizer.
  EXPECT_NE(Recognizer(write_fer_checkpoint(t.file("weak"), 0.05))
                .model_warning()
                .find("near chance"),
            std::string::npos);
  EXPECT_EQ(
      Recognizer(write_fer_checkpoint(t.file("good"), 0.6)).model_warning(),
      "");
}

TEST(VideoCli, FaceTemplatePrintsWhatAlignTemplateReads) {
  TempDir t;
  const RunResult missing = run_cli({"data", "face-template", t.file("none"),
                                     "--detector-model", t.file("y.onnx")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("none is not a folder"), std::string::npos)
      << missing.err;
  write_text_file(t.file("empty/notes.txt"), "x");
  const RunResult empty = run_cli({"data", "face-template", t.file("empty"),
                                   "--detector-model", t.file("y.onnx")});
  EXPECT_NE(empty.err.find("holds no images"), std::string::npos) << empty.err;
  // A bad template is refused before any input is read.
  const RunResult bad = run_cli({"video", t.file("clip.avi"), "--checkpoint",
                                 write_fer_checkpoint(t.file("model")), "--out",
                                 t.file("out"), "--align-template", "0.3,0.4"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("face template '0.3,0.4' has 2 numbers"),
            std::string::npos)
      << bad.err;

  const std::string yunet =
      std::string(SEMIFER_SOURCE_DIR) + "/../shared/models/yunet_2022.onnx";
  const std::vector<io::Image> faces = utkface_faces(4);
  if (faces.empty() || !fs::exists(yunet))
    GTEST_SKIP() << "needs ../shared/data/utkface and ../shared/models";
  for (size_t i = 0; i < faces.size(); ++i)
    io::write_image(t.file("crops/" + std::to_string(i) + ".png"), faces[i]);
  const RunResult r = run_cli(
      {"data", "face-template", t.file("crops"), "--detector-model", yunet});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("landmarks found in 4 of 4 images"), std::string::npos)
      << r.out;
  const size_t at = r.out.find("--align-template ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string numbers(
      util::trim(r.out.substr(at + 17, r.out.find('\n', at) - at - 17)));
  const video::FaceTemplate fitted = video::parse_face_template(numbers);
  // UTKFace's crops hold the eyes above FER2013's (about 0.30 of the side).
  EXPECT_LT(fitted.points[0].y, 0.35f);
  EXPECT_LT(fitted.points[0].x, fitted.points[1].x);
  EXPECT_LT(fitted.points[2].y, fitted.points[3].y);
}

TEST(VideoPipeline, LabelsEqualPredictOnTheSameCrops) {
  TempDir t;
  Scene scene;
  scene.faces = synthetic_faces(1, 120, 4);
  for (int i = 0; i < 30; ++i)
    scene.frames.push_back({{0, 100.0f + 6 * i, 120, 140}});
  scene.write(t.file("clip.avi"));
  const std::string ckpt = write_fer_checkpoint(t.file("model"));
  const RunResult r = run_cli({"video", t.file("clip.avi"), "--checkpoint",
                               ckpt, "--out", t.file("out"), "--save-crops",
                               "--detector", "haar", "--smooth", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("30 frames"), std::string::npos) << r.out;
  const auto lines = read_lines(t.file("out/clip.csv"));
  ASSERT_GT(lines.size(), 1u);
  const auto col = columns(lines[0]);
  std::map<std::string, std::string> video_labels;  // crop file -> label
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = util::split(lines[i], ',');
    if (f[col.at("success")] != "1") continue;
    char name[64];
    std::snprintf(name, sizeof name, "%06d_%s.png",
                  std::stoi(std::string(f[col.at("frame")])),
                  std::string(f[col.at("track_id")]).c_str());
    video_labels[name] = std::string(f[col.at("label")]);
  }
  // The synthetic face is found in most frames.
  ASSERT_GE(video_labels.size(), 15u);
  const RunResult p =
      run_cli({"predict", t.file("out/clip_crops"), "--checkpoint", ckpt,
               "--out", t.file("predict.csv"), "--quiet"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto predicted = read_lines(t.file("predict.csv"));
  ASSERT_EQ(predicted.size(), video_labels.size() + 1);
  for (size_t i = 1; i < predicted.size(); ++i) {
    const auto f = util::split(predicted[i], ',');
    const std::string file = fs::path(std::string(f[0])).filename().string();
    ASSERT_TRUE(video_labels.count(file)) << file;
    EXPECT_EQ(video_labels[file], std::string(f[1])) << file;
  }
  // The crops' folder is a photo folder (names are not frame numbers): its
  // faces are counted, not tracked across unrelated photos.
  const RunResult photos =
      run_cli({"video", t.file("out/clip_crops"), "--checkpoint", ckpt, "--out",
               t.file("photos"), "--detector", "haar"});
  ASSERT_EQ(photos.exit_code, 0) << photos.err;
  EXPECT_NE(photos.out.find(std::to_string(video_labels.size()) + " photos, "),
            std::string::npos)
      << photos.out;
  EXPECT_NE(photos.out.find(" faces, "), std::string::npos) << photos.out;
  EXPECT_EQ(photos.out.find("tracks"), std::string::npos) << photos.out;
}

TEST(VideoPipeline, ABrokenTailKeepsTheFramesBeforeItAndOtherInputsRun) {
  TempDir t;
  Scene scene;
  scene.faces = synthetic_faces(1, 120, 4);
  for (int i = 0; i < 40; ++i)
    scene.frames.push_back({{0, 100.0f + 4 * i, 120, 140}});
  scene.write(t.file("cut.avi"));
  fs::resize_file(t.file("cut.avi"), fs::file_size(t.file("cut.avi")) / 2);
  scene.frames.resize(10);
  scene.write(t.file("good.avi"));
  const std::string ckpt = write_fer_checkpoint(t.file("model"));
  const RunResult r = run_cli(
      {"video", t.file("cut.avi"), t.file("missing.avi"), t.file("good.avi"),
       "--checkpoint", ckpt, "--out", t.file("out"), "--smooth", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the video ends after frame"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("missing.avi does not exist"), std::string::npos)
      << r.err;
  // The cut video's CSV holds a row per frame decoded before the cut.
  const auto cut = read_lines(t.file("out/cut.csv"));
  EXPECT_GT(cut.size(), 5u);
  EXPECT_LT(cut.size(), 41u);
  std::set<std::string> frames;
  for (size_t i = 1; i < cut.size(); ++i)
    frames.insert(std::string(util::split(cut[i], ',')[0]));
  EXPECT_EQ(frames.size(), cut.size() - 1);  // one face at most per frame
  EXPECT_EQ(read_lines(t.file("out/good.csv")).size() >= 11, true);
  // Every error is one line.
  for (const auto& line : util::split(r.err, '\n'))
    if (!line.empty()) EXPECT_EQ(line.rfind("semifer: error: ", 0), 0u) << line;
}

TEST(VideoPipeline, RefusesFramesAboveThePixelLimitAndEmptyVideos) {
  TempDir t;
  Scene scene;
  scene.faces = synthetic_faces(1, 120, 4);
  scene.frames.resize(3);
  scene.write(t.file("a.avi"));
  {
    io::VideoWriter empty(t.file("empty.avi"), 64, 48, 25);
    empty.close();
  }
  const std::string ckpt = write_fer_checkpoint(t.file("model"));
  const RunResult r =
      run_cli({"video", t.file("a.avi"), t.file("empty.avi"), "--checkpoint",
               ckpt, "--out", t.file("out"), "--max-pixels", "10000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("a.avi: frames of 640x480 are above the pixel limit"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("empty.avi"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(t.file("out/a.csv")));
}

// Real faces (UTKFace crops), one at a time, moving and growing across the
// frame for 25 frames each, with a 3-frame gap between faces. The true box
// is the face's extent in UTKFace's aligned crops: 10% in from the sides,
// 5% from the top and the bottom.
TEST(VideoPipeline, FindsAndTracksRealFacesWithEveryDetector) {
  const std::vector<io::Image> faces = utkface_faces(8);
  if (faces.empty()) GTEST_SKIP() << "../shared/data/utkface is absent";
  TempDir t;
  Scene scene;
  scene.faces = faces;
  struct Segment {
    int face;
    size_t first, last;  // frame indices
  };
  std::vector<Segment> segments;
  for (int k = 0; k < 8; ++k) {
    const size_t first = scene.frames.size();
    for (int i = 0; i < 25; ++i)
      scene.frames.push_back(
          {{k, (k % 2 ? 380.0f : 40.0f) + 6 * i,
            ((k / 2) % 2 ? 260.0f : 30.0f) + 2 * i, 110.0f + 2 * i}});
    segments.push_back({k, first, scene.frames.size() - 1});
    for (int g = 0; g < 3; ++g) scene.frames.push_back({});
  }
  scene.write(t.file("faces.avi"));
  const Recognizer rec(write_fer_checkpoint(t.file("model")));
  for (const auto& d : real_face_detectors()) {
    auto source = io::open_frames(t.file("faces.avi"));
    CaptureSink capture;
    video::VideoOptions o;
    o.detector = d;
    o.smoothing.mode = "none";
    video::run_video(*source, rec, o, {&capture});
    ASSERT_EQ(capture.results.size(), scene.frames.size());
    int found = 0, truths = 0;
    std::vector<std::set<int64_t>> ids(segments.size());
    for (size_t s = 0; s < segments.size(); ++s)
      for (size_t i = segments[s].first; i <= segments[s].last; ++i) {
        ++truths;
        const video::Detection truth =
            scene.truth(scene.frames[i][0], kUtkFaceInner);
        for (const auto& f : capture.results[i])
          if (video::iou(f.detection, truth) >= 0.5f) {
            ++found;
            ids[s].insert(f.track_id);
            break;
          }
      }
    const double recall = static_cast<double>(found) / truths;
    EXPECT_GE(recall, 0.95) << d.kind << ": " << found << " of " << truths;
    // One id per face while it stays in view (the gap of 3 frames ends a
    // face's visit here; the next face, elsewhere, gets a new id).
    std::set<int64_t> all;
    for (size_t s = 0; s < segments.size(); ++s) {
      EXPECT_EQ(ids[s].size(), 1u) << d.kind << " face " << s;
      all.insert(ids[s].begin(), ids[s].end());
    }
    EXPECT_EQ(all.size(), segments.size()) << d.kind;
  }
}

}  // namespace semifer::test
