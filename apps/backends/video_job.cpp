#include "backends/video_job.h"

#include <filesystem>
#include <map>
#include <memory>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/video/outputs.h"

namespace fs = std::filesystem;

namespace semifer::video {

void VideoJob::validate() const {
  SEMIFER_CHECK(!inputs.empty() || camera >= 0,
                "no input: give video files or folders, or --camera N");
  SEMIFER_CHECK(inputs.empty() || camera < 0,
                "give either inputs or --camera, not both");
  SEMIFER_CHECK(!checkpoint.empty(), "no model (--checkpoint)");
  SEMIFER_CHECK(!out.empty(), "no output folder (--out)");
  options.validate();
}

namespace {

std::unique_ptr<io::FrameSource> open(const VideoJob& job,
                                      const std::string& input) {
  if (job.camera >= 0) return io::open_camera(job.camera);
  return io::open_frames(input, job.fps);
}

}  // namespace

std::vector<VideoInputResult> run_video_job(
    const VideoJob& job,
    const std::function<void(const VideoInputResult&)>& done,
    const std::function<void(const std::string&)>& warn) {
  job.validate();
  const Recognizer recognizer(job.checkpoint, job.recognizer);
  if (const std::string w = recognizer.model_warning(); !w.empty() && warn)
    warn(w);
  std::error_code ec;
  fs::create_directories(job.out, ec);
  SEMIFER_CHECK(!ec, "cannot create ", job.out, ": ", ec.message());
  if (!job.abaw.empty()) {
    fs::create_directories(job.abaw, ec);
    SEMIFER_CHECK(!ec, "cannot create ", job.abaw, ": ", ec.message());
  }
  std::vector<std::string> inputs = job.inputs;
  if (job.camera >= 0) inputs = {str("camera ", job.camera)};
  std::vector<VideoInputResult> results;
  std::map<std::string, std::string> names;  // output name -> input
  for (const std::string& input : inputs) {
    VideoInputResult r;
    r.input = input;
    try {
      std::unique_ptr<io::FrameSource> source = open(job, input);
      const io::SourceInfo& info = source->info();
      // Two inputs of one name would write one file.
      const auto [it, fresh] = names.emplace(info.name, input);
      SEMIFER_CHECK(fresh, input, " and ", it->second, " are both named '",
                    info.name, "': their outputs would overwrite each other");
      const bool photos = info.kind == io::SourceKind::kPhotoFolder;
      r.photos = photos;
      CsvLayout layout;
      layout.file = info.kind == io::SourceKind::kFrameFolder || photos;
      layout.landmarks = job.options.detector.kind == "yunet";
      layout.smoothed = job.options.smoothing.enabled() && !photos;
      CsvSink csv(util::join_path(job.out, info.name + ".csv"), layout);
      std::vector<VideoSink*> sinks = {&csv};
      std::unique_ptr<AbawSink> abaw;
      if (!job.abaw.empty()) {
        abaw = std::make_unique<AbawSink>(job.abaw);
        sinks.push_back(abaw.get());
      }
      std::unique_ptr<AnnotateSink> annotate;
      if (job.annotate) {
        r.annotated = util::join_path(job.out, info.name + ".annotated.avi");
        annotate = std::make_unique<AnnotateSink>(
            r.annotated, info.fps > 0 ? info.fps : job.fps);
        sinks.push_back(annotate.get());
      }
      std::unique_ptr<CropSink> crops;
      if (job.save_crops) {
        r.crops = util::join_path(job.out, info.name + "_crops");
        crops = std::make_unique<CropSink>(r.crops);
        sinks.push_back(crops.get());
      }
      r.summary = run_video(*source, recognizer, job.options, sinks);
      r.csv = util::join_path(job.out, info.name + ".csv");
      if (abaw) r.abaw = abaw->path();
      r.error = r.summary.error;
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    results.push_back(r);
    if (done) done(results.back());
  }
  return results;
}

}  // namespace semifer::video
