#include <gtest/gtest.h>

#include "semifer/data/formats.h"
#include "semifer/io/recordio.h"
#include "support/support.h"

namespace semifer::data {

using test::TempDir;

TEST(RecordIOSource, InsightFaceLayoutSkipsHeaderAndIdentityRecords) {
  TempDir tmp;
  const std::string rec = tmp.file("train.rec"), idx = tmp.file("train.idx");
  {
    io::RecordWriter w(rec, idx);
    // 4 images (keys 1..4), then 2 identity records (keys 5, 6).
    w.write(0, io::pack_image_record({5.0f, 7.0f}, 0, {}));
    for (int k = 1; k <= 4; ++k) {
      w.write(k, io::pack_image_record(
                     {static_cast<float>(k % 2)}, 0,
                     io::encode_png(test::pattern_image(12, 12, k))));
    }
    w.write(5, io::pack_image_record({1.0f, 3.0f}, 0, {}));
    w.write(6, io::pack_image_record({3.0f, 5.0f}, 0, {}));
    w.close();
  }
  SourceConfig c;
  c.format = Format::kRecordIO;
  c.role = Role::kUnlabeled;
  c.rec = rec;
  c.idx = idx;
  ReadResult r = read_source(c);
  const auto& t = *r.table;
  ASSERT_EQ(t.samples.size(), 4u);
  EXPECT_EQ(t.samples[2].key, 3);
  EXPECT_EQ(t.samples[2].label, -1);
  EXPECT_EQ(load_image(t, 2).data, test::pattern_image(12, 12, 3).data);
  EXPECT_NE(t.describe(2).find("train.rec: record 3"), std::string::npos);
}

TEST(RecordIOSource, PlainFileWithoutHeaderRecordUsesEveryKey) {
  TempDir tmp;
  const std::string rec = tmp.file("p.rec"), idx = tmp.file("p.idx");
  {
    io::RecordWriter w(rec, idx);
    for (int k = 0; k < 3; ++k) {
      w.write(k, io::pack_image_record(
                     {0.0f}, 0, io::encode_png(test::pattern_image(4, 4, k))));
    }
    w.close();
  }
  SourceConfig c;
  c.format = Format::kRecordIO;
  c.rec = rec;
  c.idx = idx;
  EXPECT_EQ(read_source(c).table->samples.size(), 3u);
}

}  // namespace semifer::data
