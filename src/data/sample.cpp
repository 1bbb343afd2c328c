#include "semifer/data/sample.h"

#include "semifer/data/source.h"
#include "semifer/io/recordio.h"
#include "semifer/util/error.h"

namespace semifer::data {

const char* format_name(Format format) {
  switch (format) {
    case Format::kAffWild2:
      return "affwild2";
    case Format::kAffectNet:
      return "affectnet";
    case Format::kExpW:
      return "expw";
    case Format::kRafDb:
      return "rafdb";
    case Format::kFer2013Csv:
      return "fer2013_csv";
    case Format::kFerPlus:
      return "ferplus";
    case Format::kFolder:
      return "folder";
    case Format::kCsv:
      return "csv";
    case Format::kRecordIO:
      return "recordio";
  }
  return "?";
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kLabeled:
      return "labeled";
    case Role::kUnlabeled:
      return "unlabeled";
    case Role::kValidation:
      return "validation";
  }
  return "?";
}

std::string SampleTable::describe(size_t i) const {
  const Sample& s = samples.at(i);
  if (records) return str(records->rec_path(), ": record ", s.key);
  if (s.offset >= 0) {
    // Inline pixels: `frame` holds the CSV line the row came from.
    return str(paths.empty() ? source : paths[0], ":", s.frame);
  }
  return paths.at(static_cast<size_t>(s.path));
}

io::Image load_image(const SampleTable& table, size_t i) {
  const Sample& s = table.samples.at(i);
  io::Image image;
  if (table.records) {
    io::ImageRecord rec = table.records->read_at(
        static_cast<uint64_t>(s.offset), static_cast<uint64_t>(s.key));
    image =
        io::decode_image(rec.image.data(), rec.image.size(), table.describe(i));
  } else if (s.offset >= 0) {
    const size_t n =
        static_cast<size_t>(table.pixel_width) * table.pixel_height;
    SEMIFER_CHECK(static_cast<size_t>(s.offset) + n <= table.pixels.size(),
                  table.describe(i), ": inline pixels out of range");
    image = io::gray_to_rgb(table.pixels.data() + s.offset, table.pixel_width,
                            table.pixel_height);
  } else {
    image = io::read_image(table.paths.at(static_cast<size_t>(s.path)));
  }
  if (!s.box.empty()) image = io::crop(image, s.box, table.describe(i));
  return image;
}

void Skips::add(const std::string& reason, const std::string& example,
                int64_t n) {
  counts[reason] += n;
  auto& list = examples[reason];
  if (list.size() < kMaxExamples && !example.empty()) list.push_back(example);
}

void Skips::merge(const Skips& other) {
  for (const auto& [reason, n] : other.counts) {
    counts[reason] += n;
    auto& list = examples[reason];
    auto it = other.examples.find(reason);
    if (it == other.examples.end()) continue;
    for (const auto& e : it->second) {
      if (list.size() < kMaxExamples) list.push_back(e);
    }
  }
}

int64_t Skips::total() const {
  int64_t n = 0;
  for (const auto& [reason, c] : counts) n += c;
  return n;
}

}  // namespace semifer::data
