#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "backends/video_job.h"
#include "commands.h"
#include "semifer/eval/inputs.h"
#include "semifer/io/image.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/video/face_crop.h"
#include "stop_signals.h"

namespace semifer::app {

namespace {

struct FaceTemplateFlags {
  std::string folder;
  std::string model;
  int max_images = 500;
};

struct VideoFlags {
  std::vector<std::string> inputs;
  int camera = -1;
  std::string checkpoint;
  std::string network = "auto";
  std::string device = "cpu";
  std::string out;
  std::string abaw;
  bool annotate = false;
  bool save_crops = false;
  float margin = 0.1f;
  bool no_align = false;
  std::string align_template;
  int max_missed = 10;
  float min_iou = 0.3f;
  bool largest_face = false;
  int smooth = 350;
  std::string smooth_mode = "centered";
  double smooth_ms = 0;
  float ema_alpha = 0.25f;
  double fps = 30;
  int batch = 32;
  int64_t max_frames = 0;
  bool quiet = false;
  video::VideoOptions options;  ///< the detection flags
};

}  // namespace

void add_detection_flags(CLI::App* v, video::VideoOptions& o) {
  v->add_option("--detector", o.detector.kind,
                "lbp or haar (OpenCV cascades from opencv-data), or yunet "
                "(needs --detector-model); docs/video.md compares them")
      ->check(CLI::IsMember({"haar", "lbp", "yunet"}));
  v->add_option("--detector-model", o.detector.model,
                "The detector's model file: a cascade XML, or YuNet's ONNX "
                "(face_detection_yunet_2022mar.onnx)");
  v->add_option("--detect-width", o.detector.detect_width,
                "Frames wider than this are scaled down for detection (0: "
                "never)");
  v->add_option("--min-face", o.detector.min_face,
                "Smallest face looked for, as a fraction of the frame's "
                "shorter side");
  v->add_option("--min-score", o.detector.min_score,
                "yunet: lowest score kept (0: 0.6); cascades: lowest number "
                "of agreeing windows (0: 3)");
  v->add_option("--scale-step", o.detector.scale_step,
                "Cascades: ratio between the window sizes tried (smaller: "
                "more faces found, slower)");
  v->add_option("--detect-every", o.detect_every,
                "Search the whole frame every N frames (and after a tracked "
                "face is lost); between them only around the tracked faces. "
                "1: every frame whole")
      ->check(CLI::Range(1, 100000));
  v->add_option("--detect-threads", o.detect_threads,
                "OpenCV's threads for detection (0: every core)")
      ->check(CLI::Range(0, util::kMaxThreads));
  v->add_option("--classify-threads", o.classify_threads,
                "LibTorch's threads for the classifier (0: every core). It "
                "runs beside detection on a frame's few faces: one thread is "
                "as fast and leaves the other cores to detection "
                "(docs/video.md)")
      ->check(CLI::Range(0, util::kMaxThreads));
}

void add_video_commands(CLI::App& app) {
  auto f = std::make_shared<VideoFlags>();
  CLI::App* v = app.add_subcommand(
      "video",
      "Expressions of every face in videos, frame folders, photo folders or "
      "a camera: detect, track, classify, smooth; a CSV per input "
      "(docs/video.md)");
  v->add_option("inputs", f->inputs,
                "Video files (any container OpenCV's FFmpeg backend reads), "
                "folders of frames (00001.jpg, ...) or of photos");
  v->add_option("--camera", f->camera,
                "Read capture device N (/dev/videoN) until Ctrl-C or "
                "--max-frames, instead of inputs")
      ->check(CLI::Range(0, 1024));
  v->add_option("--checkpoint", f->checkpoint,
                "A checkpoint written by semifer train, or an exported .pth "
                "with its model card")
      ->required();
  v->add_option("--network", f->network, "A, B or auto (as in predict)")
      ->check(CLI::IsMember({"auto", "A", "B"}));
  v->add_option("--device", f->device, "cpu, cuda, cuda:N or auto");
  v->add_option("--out", f->out,
                "Folder for <name>.csv (one row per frame and face track)")
      ->required();
  v->add_option("--abaw", f->abaw,
                "Folder for ABAW expression files, <name>.txt: one label per "
                "frame, of the largest face (single-person videos)");
  v->add_flag("--annotate", f->annotate,
              "Also write <out>/<name>.annotated.avi with boxes, track ids "
              "and labels");
  v->add_flag("--save-crops", f->save_crops,
              "Also write every face crop the model saw to "
              "<out>/<name>_crops/<frame>_<track>.png");
  add_detection_flags(v, f->options);
  v->add_option("--margin", f->margin,
                "Added around the face box on each side, as a fraction of "
                "its side, before cropping");
  v->add_flag("--no-align", f->no_align,
              "Do not align faces by their landmarks (yunet); crop the box");
  v->add_option("--align-template", f->align_template,
                "Where the landmarks go in an aligned crop: 10 numbers "
                "x1,y1,...,x5,y5 in fractions of its side, as `semifer data "
                "face-template` prints them for the training images "
                "(default: FER2013's crops, docs/video.md)");
  v->add_option("--max-missed", f->max_missed,
                "Frames a track survives without its face being found");
  v->add_option("--min-iou", f->min_iou,
                "Overlap that links a face to a track in the next frame");
  v->add_flag("--largest-face", f->largest_face,
              "Keep only the largest face of each frame");
  v->add_option("--smooth", f->smooth,
                "Smoothing window in frames (the paper: 350); 0: no "
                "smoothed columns")
      ->check(CLI::Range(0, 1000000));
  v->add_option("--smooth-mode", f->smooth_mode,
                "centered, block or mean (as in eval, offline: a frame's "
                "rows are written once its window has passed), or ema "
                "(online, for cameras)")
      ->check(CLI::IsMember({"centered", "block", "mean", "ema"}));
  v->add_option("--smooth-ms", f->smooth_ms,
                "Window in milliseconds instead of frames (centered, mean; "
                "variable frame rates)");
  v->add_option("--ema-alpha", f->ema_alpha,
                "ema: weight of the newest frame, in (0, 1]");
  v->add_option("--fps", f->fps,
                "Frame rate of frame folders (their timestamps)");
  v->add_option("--batch", f->batch, "Face crops per forward pass")
      ->check(positive());
  v->add_option("--max-frames", f->max_frames,
                "Stop each input after this many frames (0: all)");
  v->add_flag("--quiet", f->quiet, "Only errors");
  v->footer(
      "Examples:\n"
      "  semifer video clip.mp4 --checkpoint runs/fer/checkpoint_best.pt "
      "--out results/\n"
      "  semifer video photos/ --checkpoint model.pth --out results/ "
      "--detector yunet \\\n"
      "      --detector-model face_detection_yunet_2022mar.onnx\n"
      "  semifer video --camera 0 --checkpoint model.pth --out live/ "
      "--smooth-mode ema --annotate\n"
      "An input that cannot be read is reported and the others still run "
      "(exit status 1); a video whose frames fail midway keeps every frame "
      "before the failure in its CSV.");
  v->callback([f] {
    video::VideoJob job;
    job.inputs = f->inputs;
    job.camera = f->camera;
    job.checkpoint = f->checkpoint;
    job.recognizer.network = f->network;
    job.recognizer.device = f->device;
    job.recognizer.batch = f->batch;
    job.out = f->out;
    job.abaw = f->abaw;
    job.annotate = f->annotate;
    job.save_crops = f->save_crops;
    job.fps = f->fps;
    job.options = f->options;
    video::VideoOptions& o = job.options;
    o.crop.margin = f->margin;
    o.crop.align = !f->no_align;
    if (!f->align_template.empty())
      o.crop.face_template = video::parse_face_template(f->align_template);
    o.tracker.max_missed = f->max_missed;
    o.tracker.min_iou = f->min_iou;
    o.largest_face = f->largest_face;
    o.smoothing.mode = f->smooth == 0 ? "none" : f->smooth_mode;
    o.smoothing.window = std::max(1, f->smooth);
    o.smoothing.window_ms = f->smooth_ms;
    o.smoothing.ema_alpha = f->ema_alpha;
    o.batch = f->batch;
    o.max_frames = f->max_frames;
    o.stop_requested = [] { return stop_signal() != 0; };
    StopSignals signals;
    const bool quiet = f->quiet;
    int failed = 0;
    const auto warn = [quiet](const std::string& w) {
      if (!quiet) std::cerr << "semifer: warning: " << w << std::endl;
    };
    video::run_video_job(
        job,
        [&](const video::VideoInputResult& r) {
          if (!r.csv.empty() && !quiet) {
            const video::VideoSummary& s = r.summary;
            char rate[32];
            std::snprintf(rate, sizeof rate, "%.1f",
                          s.seconds > 0 ? s.frames / s.seconds : 0.0);
            // Photos are not tracked: their faces are counted instead.
            std::cout << r.input << ": " << s.frames
                      << (r.photos ? " photos, " : " frames, ")
                      << s.frames - s.frames_without_face << " with a face, ";
            if (r.photos)
              std::cout << s.faces << " faces, ";
            else
              std::cout << s.tracks << " tracks, ";
            std::cout << rate << (r.photos ? " photos/s" : " frames/s")
                      << "; wrote " << r.csv;
            if (!r.abaw.empty()) std::cout << ", " << r.abaw;
            if (!r.annotated.empty()) std::cout << ", " << r.annotated;
            std::cout << std::endl;
          }
          if (!r.error.empty()) {
            ++failed;
            std::cerr << "semifer: error: " << r.error;
            if (!r.csv.empty())
              std::cerr << " (" << r.csv << " holds the frames before it)";
            std::cerr << std::endl;
          }
        },
        warn);
    if (stop_signal() != 0)
      exit_status() = 128 + stop_signal();
    else if (failed > 0)
      exit_status() = 1;
  });
}

void add_face_template_command(CLI::App* data) {
  auto f = std::make_shared<FaceTemplateFlags>();
  CLI::App* cmd = data->add_subcommand(
      "face-template",
      "Where the five face landmarks lie in a folder of training crops, "
      "found by YuNet: the template `semifer video --align-template` aligns "
      "faces to, so that they are cut as the model's training faces were "
      "(docs/video.md)");
  cmd->add_option("folder", f->folder,
                  "Training images (JPEG, PNG), searched recursively")
      ->required();
  cmd->add_option("--detector-model", f->model,
                  "YuNet's ONNX file (face_detection_yunet_2022mar.onnx)")
      ->required();
  cmd->add_option("--max-images", f->max_images,
                  "Images looked at, spread evenly over the sorted list")
      ->check(positive());
  cmd->footer(
      "Example:\n  semifer data face-template data/fer2013/train "
      "--detector-model yunet.onnx\n  semifer video clip.mp4 --checkpoint "
      "model.pt --out out/ --detector yunet \\\n      --detector-model "
      "yunet.onnx --align-template <the printed numbers>");
  cmd->callback([f] {
    std::error_code ec;
    SEMIFER_CHECK(std::filesystem::is_directory(f->folder, ec), f->folder,
                  " is not a folder");
    // The images below it as `semifer predict` lists a folder: recursive,
    // sorted, each real folder once.
    const std::vector<std::string> files =
        eval::find_images({f->folder}).dataset.tables.front()->paths;
    const size_t n = std::min(files.size(), static_cast<size_t>(f->max_images));
    std::vector<io::Image> images;
    for (size_t i = 0; i < n; ++i)
      images.push_back(io::read_image(files[i * files.size() / n]));
    video::DetectorOptions options;
    options.kind = "yunet";
    options.model = f->model;
    const auto detector = video::create_detector(options);
    const video::TemplateFit fit = video::fit_face_template(*detector, images);
    static const char* const names[] = {"right eye", "left eye", "nose tip",
                                        "right mouth corner",
                                        "left mouth corner"};
    std::cout << "landmarks found in " << fit.found << " of " << fit.images
              << " images; mean position (fraction of width, height):\n";
    for (int i = 0; i < 5; ++i)
      std::cout << "  " << names[i] << ": " << fit.face_template.points[i].x
                << ", " << fit.face_template.points[i].y << "\n";
    std::cout << "--align-template "
              << video::format_face_template(fit.face_template) << std::endl;
  });
}

}  // namespace semifer::app
