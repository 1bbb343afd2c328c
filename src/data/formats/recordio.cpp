// MXNet RecordIO face pool (InsightFace MS1MV2): images are read lazily from
// train.rec through train.idx; labels are identities, not expressions, so
// every sample is unlabeled.
#include "semifer/io/recordio.h"

#include <cmath>
#include <memory>

#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/util/error.h"

namespace semifer::data {

ReadResult read_recordio(const SourceConfig& config) {
  detail::require_file(config.rec, "RecordIO .rec file");
  detail::require_file(config.idx, "RecordIO .idx file");
  auto reader = std::make_shared<io::RecordReader>(config.rec, config.idx);
  detail::TableBuilder builder(config);
  auto& table = builder.table();
  table.paths = {config.rec};
  table.records = reader;

  // InsightFace writes a header record 0 without image bytes whose labels
  // are [first identity key, end key]: image records are keys
  // 1 .. first identity key - 1; identity records follow and hold no image.
  uint64_t first_non_image = UINT64_MAX;
  uint64_t first_image = 0;
  bool has_key0 = false;
  for (const auto& e : reader->index()) has_key0 |= e.key == 0;
  if (has_key0) {
    io::ImageRecord head = reader->read(0);
    if (head.image.empty()) {
      // The label is a float: inf, NaN or 1e30 would make the cast below
      // undefined (and drop every image); keys are whole numbers below 2^24
      // in float.
      const float first = head.flag >= 2 ? head.labels[0] : 0.0f;
      SEMIFER_CHECK(head.flag >= 2 && std::isfinite(first) && first >= 1 &&
                        first == std::floor(first) && first <= 16777216.0f,
                    config.rec,
                    ": record 0: header record without image must carry "
                    "labels [first identity key, end key] (whole numbers "
                    "from 1 to 2^24), got ",
                    head.flag >= 2 ? first : 0.0f);
      first_non_image = static_cast<uint64_t>(first);
      first_image = 1;
    }
  }
  table.samples.reserve(reader->index().size());
  for (const auto& e : reader->index()) {
    if (e.key < first_image || e.key >= first_non_image) continue;
    Sample s;
    s.offset = static_cast<int64_t>(e.offset);
    s.key = static_cast<int64_t>(e.key);
    s.path = 0;
    table.samples.push_back(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
