// TensorBoard event files: the writer against the test's own reader.
#include "semifer/io/tfevents.h"

#include <gtest/gtest.h>

#include <fstream>

#include "semifer/util/error.h"
#include "support/support.h"
#include "support/tfevents_reader.h"

namespace semifer::test {

TEST(TfEvents, Crc32cMatchesTheCheckValue) {
  // The CRC catalogue's check value of CRC-32C for "123456789".
  EXPECT_EQ(io::crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(bitwise_crc32c("123456789"), 0xE3069283u);
  const std::string long_text(1000, 'x');
  EXPECT_EQ(io::crc32c(long_text.data(), long_text.size()),
            bitwise_crc32c(long_text));
}

TEST(TfEvents, WrittenEventsReadBackWithTheirStepsAndScalars) {
  TempDir t;
  const std::string path = t.file(io::event_file_name(1.7e9));
  EXPECT_NE(path.find("events.out.tfevents.1700000000."), std::string::npos);
  io::EventWriter w(path, 1.7e9);
  w.write(5, 1.7e9 + 1, {{"loss/labeled", 1.25}, {"tau/Anger", 0.95}});
  w.write(10, 1.7e9 + 2,
          {{"loss/labeled", 0.5}, {"validation/B/macro_f1", 0.6}});
  w.write(1LL << 40, 1.7e9 + 3, {});
  const auto events = read_events(path);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_DOUBLE_EQ(events[0].wall_time, 1.7e9);
  EXPECT_EQ(events[1].step, 5);
  EXPECT_DOUBLE_EQ(events[1].wall_time, 1.7e9 + 1);
  EXPECT_FLOAT_EQ(events[1].scalars.at("loss/labeled"), 1.25f);
  EXPECT_FLOAT_EQ(events[1].scalars.at("tau/Anger"), 0.95f);
  EXPECT_EQ(events[2].step, 10);
  EXPECT_FLOAT_EQ(events[2].scalars.at("validation/B/macro_f1"), 0.6f);
  EXPECT_EQ(events[3].step, 1LL << 40);
  EXPECT_TRUE(events[3].scalars.empty());
}

TEST(TfEvents, AFlippedByteFailsTheReadersCrc) {
  TempDir t;
  const std::string path = t.file("events.out.tfevents.1.x");
  io::EventWriter w(path, 1);
  w.write(1, 2, {{"a", 1}});
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-6, std::ios::end);
  f.put('\x7f');
  f.close();
  EXPECT_THROW(read_events(path), std::runtime_error);
}

TEST(TfEvents, AnUnwritableFileIsAnErrorNamingIt) {
  TempDir t;
  // A path below a regular file cannot be created.
  const std::string file = write_text_file(t.file("plain"), "x");
  try {
    io::EventWriter w(file + "/events.out.tfevents.1.x", 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("plain/events.out.tfevents.1.x"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace semifer::test
