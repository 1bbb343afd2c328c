// Shared by the annotation-reader targets: read a source under both error
// policies and check the table it gives.
#pragma once

#include <algorithm>

#include "fuzz_support.h"
#include "semifer/data/formats.h"
#include "semifer/data/sample.h"

namespace semifer::fuzz {

/// Checks that every index of `table` points inside it, and loads the first
/// few samples (decode and face-box crop) as the loader would.
inline void check_table(const data::SampleTable& table) {
  for (size_t i = 0; i < table.samples.size(); ++i) {
    const data::Sample& s = table.samples[i];
    require(s.path >= 0 && static_cast<size_t>(s.path) < table.paths.size(),
            "sample path index out of range");
    require(s.label >= -1 && s.label < 8, "sample label out of range");
    require(s.video < static_cast<int32_t>(table.videos.size()),
            "sample video index out of range");
    require(s.votes < static_cast<int32_t>(table.votes.size()),
            "sample votes index out of range");
    if (!table.pixels.empty()) {
      require(s.offset >= 0 && static_cast<size_t>(s.offset) +
                                       static_cast<size_t>(table.pixel_width) *
                                           table.pixel_height <=
                                   table.pixels.size(),
              "inline pixels out of range");
    }
    table.describe(i);
  }
  require(table.video_frames.size() == table.videos.size(),
          "video_frames and videos differ in length");
  const size_t n = std::min<size_t>(table.samples.size(), 4);
  for (size_t i = 0; i < n; ++i) {
    run_one([&] { data::load_image(table, i); });
  }
}

/// Reads `config` with on_annotation_error skip (every line is parsed),
/// then with fail (the first bad line throws), checking both tables.
inline int read_both_policies(data::SourceConfig config) {
  config.on_annotation_error = data::OnError::kSkip;
  config.on_image_error = data::OnError::kSkip;
  run_one([&] { check_table(*data::read_source(config).table); });
  config.on_annotation_error = data::OnError::kFail;
  config.on_image_error = data::OnError::kFail;
  return run_one([&] { check_table(*data::read_source(config).table); });
}

}  // namespace semifer::fuzz
