#include "semifer/io/recordio.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <iterator>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::io {

using test::expect_error;
using test::TempDir;

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + 4);
}

std::vector<uint8_t> bytes_with_magic_inside() {
  std::vector<uint8_t> b = {1, 2, 3, 4, 5, 6, 7, 8};
  put_u32(b, kRecordMagic);  // aligned at byte 8: forces a split
  for (int i = 0; i < 9; ++i) b.push_back(static_cast<uint8_t>(100 + i));
  put_u32(b, kRecordMagic);  // at byte 21: unaligned, so not a split point
  b.push_back(42);
  return b;
}

}  // namespace

TEST(RecordIO, WriteReadRoundTrip) {
  TempDir tmp;
  const std::string rec = tmp.file("train.rec"), idx = tmp.file("train.idx");
  {
    RecordWriter w(rec, idx);
    w.write(0, pack_image_record({3.0f, 5.0f}, 0, {}));
    w.write(1, pack_image_record({7.0f}, 11, {0xff, 0xd8, 0xff, 1, 2, 3}));
    w.write(2, pack_image_record({7.0f, 1.5f, 2.5f}, 12, {9, 9}));
    w.close();
  }
  RecordReader r(rec, idx);
  ASSERT_EQ(r.index().size(), 3u);
  const ImageRecord head = r.read(0);
  EXPECT_EQ(head.flag, 2u);
  EXPECT_EQ(head.labels, (std::vector<float>{3.0f, 5.0f}));
  EXPECT_TRUE(head.image.empty());
  const ImageRecord one = r.read(1);
  EXPECT_EQ(one.flag, 0u);
  EXPECT_EQ(one.labels, (std::vector<float>{7.0f}));
  EXPECT_EQ(one.id, 11u);
  EXPECT_EQ(one.image, (std::vector<uint8_t>{0xff, 0xd8, 0xff, 1, 2, 3}));
  const ImageRecord two = r.read(2);
  EXPECT_EQ(two.labels.size(), 3u);
  EXPECT_EQ(two.image, (std::vector<uint8_t>{9, 9}));
}

TEST(RecordIO, ReadsAHandWrittenFileInDmlcLayout) {
  // Record key 5: a 6-byte payload, padded to 8; written byte by byte from
  // the format description, not by our writer.
  TempDir tmp;
  std::vector<uint8_t> file;
  put_u32(file, kRecordMagic);
  put_u32(file, 6);  // cflag 0, length 6
  const uint8_t payload[6] = {10, 20, 30, 40, 50, 60};
  file.insert(file.end(), payload, payload + 6);
  file.push_back(0);
  file.push_back(0);
  // Record key 9 split in two parts around a magic number: part 1 (cflag 1)
  // holds {1,2,3,4}, part 2 (cflag 3) holds {5,6}; joined: 1 2 3 4 MAGIC 5 6.
  const size_t second = file.size();
  put_u32(file, kRecordMagic);
  put_u32(file, (1u << 29) | 4);
  for (uint8_t b : {1, 2, 3, 4}) file.push_back(b);
  put_u32(file, kRecordMagic);
  put_u32(file, (3u << 29) | 2);
  file.push_back(5);
  file.push_back(6);
  file.push_back(0);
  file.push_back(0);
  util::write_file(tmp.file("h.rec"), file.data(), file.size());
  test::write_text_file(tmp.file("h.idx"),
                        "5\t0\n9\t" + std::to_string(second) + "\n");
  RecordReader r(tmp.file("h.rec"), tmp.file("h.idx"));
  EXPECT_EQ(r.read_payload(r.offset_of(5), 5),
            std::vector<uint8_t>(payload, payload + 6));
  std::vector<uint8_t> joined = {1, 2, 3, 4};
  put_u32(joined, kRecordMagic);
  joined.push_back(5);
  joined.push_back(6);
  EXPECT_EQ(r.read_payload(r.offset_of(9), 9), joined);
}

TEST(RecordIO, SplitRecordsRoundTripLikeDmlc) {
  TempDir tmp;
  const std::string rec = tmp.file("s.rec"), idx = tmp.file("s.idx");
  const std::vector<uint8_t> data = bytes_with_magic_inside();
  {
    RecordWriter w(rec, idx);
    w.write(3, data);
    w.write(4, {7, 7, 7});
    w.close();
  }
  // The writer must have split record 3: its first header has cflag 1.
  const auto raw = util::read_file(rec);
  uint32_t lrecord;
  std::memcpy(&lrecord, raw.data() + 4, 4);
  EXPECT_EQ(lrecord >> 29, 1u);
  EXPECT_EQ(lrecord & ((1u << 29) - 1), 8u);
  RecordReader r(rec, idx);
  EXPECT_EQ(r.read_payload(r.offset_of(3), 3), data);
  EXPECT_EQ(r.read_payload(r.offset_of(4), 4), (std::vector<uint8_t>{7, 7, 7}));
}

TEST(RecordIO, UnsortedIndexAndDuplicateKeys) {
  TempDir tmp;
  const std::string rec = tmp.file("u.rec"), idx = tmp.file("u.idx");
  {
    RecordWriter w(rec, idx);
    w.write(7, {1, 1, 1, 1});
    w.write(2, {2, 2});
    w.close();
  }
  RecordReader r(rec, idx);
  EXPECT_EQ(r.index()[0].key, 7u);  // file order is kept
  EXPECT_EQ(r.read_payload(r.offset_of(2), 2), (std::vector<uint8_t>{2, 2}));
  EXPECT_EQ(r.read_payload(r.offset_of(7), 7),
            (std::vector<uint8_t>{1, 1, 1, 1}));
  test::write_text_file(tmp.file("dup.idx"), "1\t0\n1\t0\n");
  expect_error([&] { RecordReader(rec, tmp.file("dup.idx")); },
               {"dup.idx", "key 1 appears twice"});
}

// Found by the recordio fuzz targets, which ran out of file descriptors:
// a reader whose constructor refused the index left the .rec open.
TEST(RecordIO, ARefusedIndexLeavesNoFileOpen) {
  TempDir tmp;
  const std::string rec = tmp.file("t.rec"), idx = tmp.file("t.idx");
  {
    RecordWriter w(rec, idx);
    w.write(1, {1, 2, 3, 4});
    w.close();
  }
  test::write_text_file(tmp.file("dup.idx"), "1\t0\n1\t0\n");
  test::write_text_file(tmp.file("beyond.idx"), "1\t0\n2\t1000\n");
  auto open_files = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  const auto before = open_files();
  for (int i = 0; i < 20; ++i) {
    EXPECT_THROW(RecordReader(rec, tmp.file("dup.idx")), semifer::Error);
    EXPECT_THROW(RecordReader(rec, tmp.file("beyond.idx")), semifer::Error);
  }
  EXPECT_EQ(open_files(), before);
}

TEST(RecordIO, BadInputNamesFileAndRecord) {
  TempDir tmp;
  const std::string rec = tmp.file("t.rec"), idx = tmp.file("t.idx");
  {
    RecordWriter w(rec, idx);
    w.write(1, pack_image_record({1.0f}, 0, {1, 2, 3}));
    w.close();
  }
  const auto size = util::read_file(rec).size();

  test::write_text_file(tmp.file("beyond.idx"),
                        "1\t0\n2\t" + std::to_string(size + 100) + "\n");
  expect_error([&] { RecordReader(rec, tmp.file("beyond.idx")); },
               {"beyond.idx", "record 2", "beyond the end"});

  test::write_text_file(tmp.file("malformed.idx"), "1\t0\nnot a line\n");
  expect_error([&] { RecordReader(rec, tmp.file("malformed.idx")); },
               {"malformed.idx:2", "key<TAB>offset"});

  test::write_text_file(tmp.file("odd.idx"), "1\t0\n2\t4\n");
  RecordReader odd(rec, tmp.file("odd.idx"));
  expect_error([&] { odd.read(2); }, {"t.rec", "record 2", "bad magic"});
  expect_error([&] { odd.read(77); }, {"odd.idx", "no record with key 77"});

  expect_error([&] { RecordReader(tmp.file("none.rec"), idx); }, {"none.rec"});
  expect_error([&] { RecordReader(rec, tmp.file("none.idx")); }, {"none.idx"});

  // A record whose length runs past the end of the file (truncated .rec).
  auto raw = util::read_file(rec);
  raw.resize(raw.size() - 8);
  util::write_file(tmp.file("cut.rec"), raw.data(), raw.size());
  RecordReader cut(tmp.file("cut.rec"), idx);
  expect_error([&] { cut.read(1); }, {"cut.rec", "record 1", "past the end"});

  expect_error(
      [&] {
        unpack_image_record({1, 2, 3}, "x.rec: record 4");
      },
      {"x.rec: record 4", "IRHeader"});
}

}  // namespace semifer::io
