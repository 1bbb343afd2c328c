// RecordIO's .idx parser: the input is the index of a small valid .rec file
// (three image records, record 0 InsightFace's header). Each listed record
// is read as the MS1MV2 source would, and data::read_recordio reads the
// source.
#include <algorithm>
#include <cstring>

#include "fuzz_support.h"
#include "semifer/data/formats.h"
#include "semifer/io/recordio.h"

using namespace semifer;

namespace {

const std::string& valid_rec() {
  static const std::string path = [] {
    const std::string rec = fuzz::scratch_path("valid.rec");
    fuzz::write_sample_recordio(rec, fuzz::scratch_path("valid.idx"));
    return rec;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& rec = valid_rec();
  const std::string idx = fuzz::write_scratch("input.idx", data, size);
  fuzz::run_one([&] {
    io::RecordReader reader(rec, idx);
    const size_t n = std::min<size_t>(reader.index().size(), 16);
    for (size_t i = 0; i < n; ++i) {
      const io::IndexEntry e = reader.index()[i];
      fuzz::run_one([&] { reader.offset_of(e.key); });
      fuzz::run_one([&] { reader.read(e.key); });
    }
  });
  return fuzz::run_one([&] {
    data::SourceConfig config;
    config.format = data::Format::kRecordIO;
    config.role = data::Role::kUnlabeled;
    config.rec = rec;
    config.idx = idx;
    data::read_source(config);
  });
}
