#include "semifer/video/pipeline.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <thread>

#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/threads.h"

namespace semifer::video {

void VideoOptions::validate() const {
  detector.validate();
  tracker.validate();
  crop.validate();
  smoothing.validate();
  SEMIFER_CHECK(queue >= 1 && queue <= 1024,
                "the frame queue must hold 1..1024 frames, got ", queue);
  SEMIFER_CHECK(batch >= 1 && batch <= 4096,
                "the face batch must be 1..4096 crops, got ", batch);
  SEMIFER_CHECK(max_frames >= 0, "max frames must be >= 0, got ", max_frames);
  SEMIFER_CHECK(detect_every >= 1 && detect_every <= 100000,
                "whole-frame detection must come every 1..100000 frames, got ",
                detect_every);
  SEMIFER_CHECK(detect_threads >= 0 && detect_threads <= util::kMaxThreads,
                "detection threads must be 0..", util::kMaxThreads, ", got ",
                detect_threads);
  SEMIFER_CHECK(classify_threads >= 0 && classify_threads <= util::kMaxThreads,
                "classifier threads must be 0..", util::kMaxThreads, ", got ",
                classify_threads);
}

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One frame, decoded, detected and tracked by the producer thread.
struct Work {
  io::Frame frame;
  std::vector<Detection> detections;
  std::vector<int64_t> ids;      // per detection
  std::vector<int64_t> missed;   // live tracks not found in this frame
  std::vector<int64_t> ended;    // tracks that ended with this frame
  std::vector<io::Image> crops;  // per detection
};

// A bounded queue of frames between the two threads.
class WorkQueue {
 public:
  explicit WorkQueue(size_t capacity) : capacity_(capacity) {}
  // False when the consumer stopped (the frame is dropped).
  bool push(Work&& w) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || stopped_; });
    if (stopped_) return false;
    items_.push_back(std::move(w));
    not_empty_.notify_one();
    return true;
  }
  // Blocks for the next frame; nullopt once the producer closed the queue
  // and every frame was taken.
  std::optional<Work> pop(bool wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (wait) not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    Work w = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return w;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    not_full_.notify_all();
  }

 private:
  size_t capacity_;
  std::deque<Work> items_;
  bool closed_ = false;
  bool stopped_ = false;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
};

// A frame's rows waiting for their smoothed results.
struct PendingFrame {
  std::vector<FaceRow> rows;
  int waiting = 0;
};

// The classifying side: smoothing per track and rows in frame order.
class RowAssembler {
 public:
  RowAssembler(int num_classes, const SmoothingOptions& smoothing, bool smooth,
               const std::vector<VideoSink*>& sinks, VideoSummary& summary)
      : num_classes_(num_classes),
        smoothing_(smoothing),
        smooth_(smooth),
        sinks_(sinks),
        summary_(summary) {}

  void add(const Work& w, const std::vector<FaceResult>& faces) {
    PendingFrame& p = pending_[w.frame.number];
    for (const FaceResult& f : faces) {
      FaceRow r;
      r.frame = w.frame.number;
      r.timestamp_ms = w.frame.timestamp_ms;
      r.file = w.frame.file;
      r.track_id = f.track_id;
      r.success = true;
      r.detection = f.detection;
      r.label = f.label;
      r.probabilities = f.probabilities;
      p.rows.push_back(std::move(r));
    }
    for (int64_t id : w.missed) {
      FaceRow r;
      r.frame = w.frame.number;
      r.timestamp_ms = w.frame.timestamp_ms;
      r.file = w.frame.file;
      r.track_id = id;
      p.rows.push_back(std::move(r));
    }
    if (p.rows.empty()) {
      FaceRow r;
      r.frame = w.frame.number;
      r.timestamp_ms = w.frame.timestamp_ms;
      r.file = w.frame.file;
      p.rows.push_back(std::move(r));
    }
    if (smooth_) {
      for (const FaceResult& f : faces) {
        auto it = smoothers_.find(f.track_id);
        if (it == smoothers_.end())
          it = smoothers_
                   .emplace(f.track_id, TrackSmoother(num_classes_, smoothing_))
                   .first;
        it->second.add(w.frame.number, w.frame.timestamp_ms,
                       f.probabilities.data());
        ++p.waiting;
      }
      std::vector<Smoothed> out;
      for (auto& [id, smoother] : smoothers_) {
        out.clear();
        smoother.ready(w.frame.number, w.frame.timestamp_ms, out);
        fill(id, out);
      }
      for (int64_t id : w.ended) finish_track(id);
    }
    emit_ready();
  }

  void finish() {
    std::vector<int64_t> ids;
    for (const auto& [id, s] : smoothers_) ids.push_back(id);
    for (int64_t id : ids) finish_track(id);
    emit_ready();
    SEMIFER_CHECK(pending_.empty(), "video: rows left without a result");
  }

 private:
  void finish_track(int64_t id) {
    auto it = smoothers_.find(id);
    if (it == smoothers_.end()) return;
    std::vector<Smoothed> out;
    it->second.finish(out);
    fill(id, out);
    smoothers_.erase(it);
  }

  void fill(int64_t id, std::vector<Smoothed>& out) {
    for (Smoothed& s : out) {
      auto p = pending_.find(s.frame);
      if (p == pending_.end()) continue;
      for (FaceRow& r : p->second.rows)
        if (r.track_id == id && r.success && r.smoothed_label < 0) {
          r.smoothed_label = s.label;
          r.smoothed = std::move(s.probabilities);
          --p->second.waiting;
          break;
        }
    }
  }

  void emit_ready() {
    while (!pending_.empty() && pending_.begin()->second.waiting == 0) {
      const std::vector<FaceRow>& rows = pending_.begin()->second.rows;
      for (VideoSink* sink : sinks_) sink->on_rows(rows);
      summary_.rows += static_cast<int64_t>(rows.size());
      pending_.erase(pending_.begin());
    }
  }

  int num_classes_;
  SmoothingOptions smoothing_;
  bool smooth_;
  const std::vector<VideoSink*>& sinks_;
  VideoSummary& summary_;
  std::map<int64_t, PendingFrame> pending_;  // by frame number
  std::map<int64_t, TrackSmoother> smoothers_;
};

}  // namespace

VideoSummary run_video(io::FrameSource& source, const Recognizer& recognizer,
                       const VideoOptions& options,
                       const std::vector<VideoSink*>& sinks) {
  options.validate();
  std::unique_ptr<FaceDetector> detector = create_detector(options.detector);
  return run_video(source, *detector, recognizer, options, sinks);
}

VideoSummary run_video(io::FrameSource& source, FaceDetector& detector,
                       const Recognizer& recognizer,
                       const VideoOptions& options,
                       const std::vector<VideoSink*>& sinks) {
  options.validate();
  // cv::setNumThreads(1) runs OpenCV's parallel loops on the calling thread.
  if (options.detect_threads > 0) cv::setNumThreads(options.detect_threads);
  if (options.classify_threads > 0)
    util::set_intra_op_threads(options.classify_threads);
  const Clock::time_point started = Clock::now();
  VideoSummary summary;
  const io::SourceInfo& info = source.info();
  const bool photos = info.kind == io::SourceKind::kPhotoFolder;
  const int min_side = recognizer.input_size();
  const int num_classes = static_cast<int>(recognizer.classes().size());
  for (VideoSink* sink : sinks) sink->begin(info, recognizer.classes());

  WorkQueue queue(static_cast<size_t>(options.queue));
  std::string input_error;
  StageTimes producer_times;
  int64_t tracks_given = 0;
  int64_t whole = 0;
  auto produce = [&] {
    IouTracker tracker(options.tracker);
    int64_t frames = 0;
    bool none_found = true;  // in the last frame
    try {
      while (options.max_frames == 0 || frames < options.max_frames) {
        if (options.stop_requested && options.stop_requested()) break;
        Work w;
        Clock::time_point t = Clock::now();
        if (!source.next(w.frame)) break;
        ++frames;
        producer_times.decode += since(t);
        t = Clock::now();
        if (photos || none_found || (frames - 1) % options.detect_every == 0) {
          w.detections = detector.detect(w.frame.image);
          ++whole;
        } else {
          // Around each live track; wider for one whose face was missed.
          const std::vector<Detection> predicted = tracker.predictions();
          std::vector<SearchRegion> regions;
          for (size_t i = 0; i < predicted.size(); ++i)
            regions.push_back(search_region(
                predicted[i], tracker.tracks()[i].missed > 0 ? 3.0f : 2.0f));
          w.detections = detector.detect_in(w.frame.image, regions);
        }
        producer_times.detect += since(t);
        none_found = w.detections.empty();
        t = Clock::now();
        if (options.largest_face && w.detections.size() > 1) {
          const auto largest =
              std::max_element(w.detections.begin(), w.detections.end(),
                               [](const Detection& a, const Detection& b) {
                                 return a.w * a.h < b.w * b.h;
                               });
          w.detections = {*largest};
        }
        if (photos) {
          // Photos are not a sequence: faces are numbered per photo.
          for (size_t i = 0; i < w.detections.size(); ++i)
            w.ids.push_back(static_cast<int64_t>(i));
          tracks_given = std::max<int64_t>(tracks_given, w.ids.size());
        } else {
          w.ids = tracker.update(w.detections);
          for (const TrackState& s : tracker.tracks())
            if (s.missed > 0) w.missed.push_back(s.id);
          w.ended = tracker.ended();
          for (int64_t id : w.ids)
            tracks_given = std::max(tracks_given, id + 1);
        }
        for (const Detection& d : w.detections)
          w.crops.push_back(crop_face(w.frame.image, d, options.crop,
                                      crop_side(d, options.crop, min_side)));
        producer_times.track_crop += since(t);
        if (!queue.push(std::move(w))) break;
      }
    } catch (const std::exception& e) {
      input_error = e.what();
    }
    queue.close();
  };
  std::vector<std::thread> threads;
  util::start_threads(threads, 1, produce, "the video decode thread",
                      [&] { queue.stop(); });

  try {
    RowAssembler rows(num_classes, options.smoothing,
                      options.smoothing.enabled() && !photos, sinks, summary);
    std::vector<Work> batch;
    while (true) {
      batch.clear();
      size_t crops = 0;
      std::optional<Work> w = queue.pop(true);
      if (!w) break;
      crops += w->crops.size();
      batch.push_back(std::move(*w));
      while (crops < static_cast<size_t>(options.batch)) {
        std::optional<Work> more = queue.pop(false);
        if (!more) break;
        crops += more->crops.size();
        batch.push_back(std::move(*more));
      }
      Clock::time_point t = Clock::now();
      std::vector<ImageView> views;
      views.reserve(crops);
      for (const Work& b : batch)
        for (const io::Image& c : b.crops)
          views.push_back(
              {c.data.data(), c.height, c.width, PixelFormat::kRGB, 0});
      std::vector<Prediction> predictions;
      if (!views.empty()) predictions = recognizer.predict(views);
      summary.stages.classify += since(t);
      t = Clock::now();
      size_t next = 0;
      for (Work& b : batch) {
        std::vector<FaceResult> faces;
        for (size_t i = 0; i < b.detections.size(); ++i) {
          FaceResult f;
          f.track_id = b.ids[i];
          f.detection = b.detections[i];
          f.crop = std::move(b.crops[i]);
          f.label = predictions[next].label;
          f.probabilities = std::move(predictions[next].probabilities);
          ++next;
          faces.push_back(std::move(f));
        }
        ++summary.frames;
        summary.faces += static_cast<int64_t>(faces.size());
        if (faces.empty()) ++summary.frames_without_face;
        for (VideoSink* sink : sinks) sink->on_frame(b.frame, faces);
        rows.add(b, faces);
      }
      summary.stages.write += since(t);
    }
    rows.finish();
    for (VideoSink* sink : sinks) sink->end();
  } catch (...) {
    queue.stop();
    for (auto& th : threads) th.join();
    throw;
  }
  for (auto& th : threads) th.join();
  summary.tracks = tracks_given;
  summary.whole_frame_detections = whole;
  summary.stages.decode = producer_times.decode;
  summary.stages.detect = producer_times.detect;
  summary.stages.track_crop = producer_times.track_crop;
  summary.error = input_error;
  summary.seconds = since(started);
  return summary;
}

}  // namespace semifer::video
