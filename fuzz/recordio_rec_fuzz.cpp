// RecordIO's record reader: the input is a .rec file; its index lists the
// offset 0 and every 4-aligned offset of the magic number in the input (so
// split records, cut-short records and bogus lengths are all reached). Each
// record is read and unpacked, then data::read_recordio reads the source
// (InsightFace's header record 0).
#include <algorithm>
#include <cstring>

#include "fuzz_support.h"
#include "semifer/data/formats.h"
#include "semifer/io/recordio.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string rec = fuzz::write_scratch("input.rec", data, size);
  std::string index = "0\t0\n";
  uint64_t key = 1;
  for (size_t at = 4; at + 4 <= size && key < 64; at += 4) {
    uint32_t word;
    std::memcpy(&word, data + at, 4);
    if (word == io::kRecordMagic) {
      index += std::to_string(key++) + "\t" + std::to_string(at) + "\n";
    }
  }
  const std::string idx = fuzz::write_scratch("input.idx", index);
  fuzz::run_one([&] {
    io::RecordReader reader(rec, idx);
    for (const io::IndexEntry& e : reader.index()) {
      fuzz::run_one([&] {
        const io::ImageRecord r = reader.read_at(e.offset, e.key);
        fuzz::require(
            r.flag == 0 ? r.labels.size() == 1 : r.labels.size() == r.flag,
            "record labels do not match its flag");
      });
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
