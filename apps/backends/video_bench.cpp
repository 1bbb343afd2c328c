#include "backends/video_bench.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "backends/bench_support.h"
#include "backends/video_job.h"
#include "semifer/data/synthetic.h"
#include "semifer/eval/inputs.h"
#include "semifer/infer/model_card.h"
#include "semifer/io/video.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/util/error.h"
#include "semifer/util/random.h"
#include "semifer/util/strings.h"
#include "semifer/video/synthetic.h"

namespace fs = std::filesystem;

namespace semifer::video {

namespace {

io::Image centre_square(const io::Image& image) {
  const int side = std::min(image.width, image.height);
  const int x0 = (image.width - side) / 2, y0 = (image.height - side) / 2;
  io::Image out(side, side);
  for (int y = 0; y < side; ++y)
    std::copy(image.pixel(x0, y0 + y), image.pixel(x0, y0 + y) + 3 * side,
              out.pixel(0, y));
  return out;
}

std::vector<io::Image> face_images(const std::string& folder) {
  std::vector<io::Image> faces;
  if (folder.empty()) {
    for (int i = 0; i < 16; ++i) {
      util::Generator gen({17u, static_cast<uint64_t>(i)});
      faces.push_back(data::render_face(i % 7, 160, gen, nullptr, 0.0f));
    }
    return faces;
  }
  // The images below it as `semifer predict` lists a folder.
  const std::vector<std::string> files =
      eval::find_images({folder}).dataset.tables.front()->paths;
  const size_t stride = std::max<size_t>(1, files.size() / 16);
  for (size_t i = 0; i < files.size() && faces.size() < 16; i += stride)
    faces.push_back(centre_square(io::read_image(files[i])));
  return faces;
}

std::string untrained_model(const fs::path& dir) {
  infer::ModelCard card;
  card.model = "smallnet";
  card.classes = {"Neutral",   "Anger",   "Disgust", "Fear",
                  "Happiness", "Sadness", "Surprise"};
  card.input.size = 48;
  auto model = models::create_model(
      card.model,
      models::ModelOptions{static_cast<int64_t>(card.classes.size())});
  const std::string path = (dir / "untrained_smallnet.pth").string();
  models::export_weights(*model, path);
  infer::write_model_card(infer::model_card_path(path), card);
  return path;
}

}  // namespace

VideoBenchResult bench_video(const VideoBenchConfig& config) {
  SEMIFER_CHECK(config.repeats >= 1 && config.repeats <= 100,
                "bench: repeats must be 1..100, got ", config.repeats);
  SEMIFER_CHECK(config.reference_every >= 0,
                "bench: the reference's detection interval must be >= 0");
  config.options.validate();
  bench::ScratchFolder temp("semifer-bench-video-");
  VideoBenchResult result;
  result.input = config.input;
  if (result.input.empty()) {
    const Scene scene = drifting_faces(face_images(config.faces), config.frames,
                                       config.width, config.height);
    result.input = (temp.path / "drifting_faces.avi").string();
    scene.write(result.input, 25);
  }
  {
    auto source = io::open_frames(result.input);
    result.width = source->info().width;
    result.height = source->info().height;
  }
  VideoJob job;
  job.inputs = {result.input};
  job.checkpoint = config.checkpoint.empty() ? untrained_model(temp.path)
                                             : config.checkpoint;
  job.out = (temp.path / "out").string();
  job.options = config.options;
  result.measured.detect_every = config.options.detect_every;
  result.reference.detect_every = config.reference_every;
  auto run = [&](VideoBenchRuns& runs) {
    job.options.detect_every = runs.detect_every;
    const std::vector<VideoInputResult> r = run_video_job(job);
    SEMIFER_CHECK(r.size() == 1 && r[0].error.empty(),
                  "bench: ", r.empty() ? std::string("no result") : r[0].error);
    runs.summaries.push_back(r[0].summary);
  };
  for (int i = 0; i < config.repeats; ++i) {
    run(result.measured);
    if (config.reference_every > 0) run(result.reference);
  }
  for (VideoBenchRuns* runs : {&result.measured, &result.reference}) {
    std::vector<double> fps;
    for (const VideoSummary& s : runs->summaries)
      fps.push_back(s.seconds > 0 ? s.frames / s.seconds : 0.0);
    runs->fps = bench::median(fps);
  }
  return result;
}

}  // namespace semifer::video
