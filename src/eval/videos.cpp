#include "semifer/eval/videos.h"

#include <algorithm>
#include <map>

#include "semifer/util/error.h"

namespace semifer::eval {

std::vector<VideoItems> group_videos(const data::Dataset& dataset,
                                     const std::vector<data::PoolItem>& items) {
  std::map<std::pair<uint32_t, int32_t>, std::vector<size_t>> by_video;
  for (size_t i = 0; i < items.size(); ++i) {
    const data::Sample& s =
        dataset.tables.at(items[i].source)->samples.at(items[i].index);
    if (s.video >= 0) by_video[{items[i].source, s.video}].push_back(i);
  }
  std::vector<VideoItems> out;
  out.reserve(by_video.size());
  for (auto& [key, rows] : by_video) {
    const data::SampleTable& table = *dataset.tables.at(key.first);
    auto frame_of = [&](size_t row) {
      return table.samples.at(items[row].index).frame;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](size_t a, size_t b) {
      return frame_of(a) < frame_of(b);
    });
    VideoItems v;
    v.source = key.first;
    v.video = key.second;
    v.name = table.videos.at(static_cast<size_t>(key.second));
    for (size_t k = 0; k < rows.size(); ++k) {
      const int32_t f = frame_of(rows[k]);
      SEMIFER_CHECK(f >= 1, dataset.describe(items[rows[k]]),
                    ": a video frame needs a frame number >= 1");
      SEMIFER_CHECK(k == 0 || f != v.frames.back(), "video ", v.name,
                    ": frame ", f, " appears twice (",
                    dataset.describe(items[rows[k - 1]]), " and ",
                    dataset.describe(items[rows[k]]), ")");
      v.frames.push_back(f);
    }
    v.rows = std::move(rows);
    v.length = v.frames.empty() ? 0 : v.frames.back();
    if (static_cast<size_t>(key.second) < table.video_frames.size()) {
      v.length = std::max(v.length, table.video_frames[key.second]);
    }
    out.push_back(std::move(v));
  }
  return out;
}

SmoothedLabels smooth_items(const std::vector<VideoItems>& videos,
                            const std::vector<float>& probs, int num_classes,
                            const SmoothOptions& options) {
  SEMIFER_CHECK(num_classes > 0 && probs.size() % num_classes == 0,
                "smoothing: ", probs.size(), " probabilities for ", num_classes,
                " classes");
  const size_t c_count = static_cast<size_t>(num_classes);
  const size_t n = probs.size() / c_count;
  SmoothedLabels out;
  out.items.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float* row = probs.data() + i * c_count;
    out.items[i] = static_cast<int>(std::max_element(row, row + c_count) - row);
  }
  for (const VideoItems& v : videos) {
    std::vector<float> rows;
    rows.reserve(v.rows.size() * c_count);
    for (size_t r : v.rows) {
      SEMIFER_CHECK(r < n, "smoothing: item ", r, " has no prediction");
      rows.insert(rows.end(), probs.begin() + r * c_count,
                  probs.begin() + (r + 1) * c_count);
    }
    std::vector<int> labels =
        smooth_video(v.frames, rows, num_classes, v.length, options);
    if (options.window > 0) {
      for (size_t k = 0; k < v.rows.size(); ++k)
        out.items[v.rows[k]] = labels[v.frames[k] - 1];
    }
    out.videos.push_back(std::move(labels));
  }
  return out;
}

}  // namespace semifer::eval
