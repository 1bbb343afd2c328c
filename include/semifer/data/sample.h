#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "semifer/io/image.h"

namespace semifer::io {
class RecordReader;
}

namespace semifer::data {

/// The dataset formats semifer reads (docs/data.md describes each).
enum class Format {
  kAffWild2,
  kAffectNet,
  kExpW,
  kRafDb,
  kFer2013Csv,
  kFerPlus,
  kFolder,
  kCsv,
  kRecordIO,
};

/// The config spelling of a format: affwild2, affectnet, expw, rafdb,
/// fer2013_csv, ferplus, folder, csv, recordio.
const char* format_name(Format format);

/// The largest frame number of a video (10^6: 9 hours at 30 frames per
/// second): per-video buffers and ABAW files have a line per frame up to
/// the last, so a larger one is refused where it is read.
inline constexpr int32_t kMaxFrame = 1'000'000;

/// One sample: where its pixels are, and what is known about it. Small and
/// free of strings, since a face pool holds millions.
struct Sample {
  int64_t offset = -1;  ///< RecordIO byte offset, or offset into
                        ///< SampleTable::pixels; -1: the image file `path`
  int64_t key = -1;     ///< RecordIO record key
  int32_t path = -1;    ///< index into SampleTable::paths
  int32_t video = -1;   ///< index into SampleTable::videos (Aff-Wild2)
  int32_t frame = -1;   ///< 1-based frame number within the video
  int32_t votes = -1;   ///< row of SampleTable::votes (FER+)
  int8_t label = -1;    ///< canonical class id (see labels.h), -1 if none
  io::Box box;          ///< face box cropped at load time; empty: whole image
};

/// Everything one source read: an immutable table shared with the loader's
/// worker threads (`std::shared_ptr<const SampleTable>`).
struct SampleTable {
  std::string source;  ///< the source's name
  Format format = Format::kFolder;
  std::vector<Sample> samples;
  std::vector<std::string> paths;   ///< image files (or the .rec file)
  std::vector<std::string> videos;  ///< video ids (Aff-Wild2)
  /// Per video (parallel to `videos`): the number of frames its annotation
  /// file lists, frames without a face image included, so that an ABAW
  /// submission can list every frame 1..video_frames[v].
  std::vector<int32_t> video_frames;
  /// FER+ vote counts: neutral, happiness, surprise, sadness, anger, disgust,
  /// fear, contempt, unknown, NF; kept for soft-label training.
  std::vector<std::array<float, 10>> votes;
  std::vector<uint8_t> pixels;  ///< inline gray pixels (FER2013 csv)
  int pixel_width = 0;          ///< size of each inline image
  int pixel_height = 0;
  std::shared_ptr<const io::RecordReader> records;  ///< RecordIO sources

  /// A human-readable name of sample i for messages: its path, or
  /// "train.rec: record 17", or "fer2013.csv: line 5".
  std::string describe(size_t i) const;
};

/// Decodes sample i of `table` to RGB, cropping its face box when it has one.
/// Throws semifer::Error naming the file or record.
io::Image load_image(const SampleTable& table, size_t i);

/// What a reader dropped or skipped, counted by reason ("missing_image",
/// "dropped_contempt", "malformed_line", ...), with the first few examples.
struct Skips {
  std::map<std::string, int64_t> counts;
  std::map<std::string, std::vector<std::string>> examples;
  static constexpr size_t kMaxExamples = 3;

  void add(const std::string& reason, const std::string& example,
           int64_t n = 1);
  void merge(const Skips& other);
  int64_t total() const;
};

}  // namespace semifer::data
