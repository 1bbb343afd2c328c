// TensorBoard event files: the writer against the test's own reader, and
// against Google's protocol-buffer parser (tests/support/tfevents_protobuf.py).
#include "semifer/io/tfevents.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

namespace {

struct Parsed {
  int status = -1;  // the script's exit status (77: a package is missing)
  std::vector<nlohmann::json> events;
  std::string err;
};

// The events of `path` as Debian's python3-protobuf parses them.
Parsed parse_with_protobuf(const std::string& path) {
  const RunResult r = run_program(
      "/usr/bin/python3",
      {std::string(SEMIFER_SOURCE_DIR) + "/tests/support/tfevents_protobuf.py",
       path});
  Parsed p;
  p.status = r.exit_code;
  p.err = r.err;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    p.events.push_back(nlohmann::json::parse(line));
  return p;
}

}  // namespace

// What TensorBoard does with the file (its event_accumulator parses each
// TFRecord's Event with the protobuf library), done with Google's parser on
// Debian; TensorBoard itself is not packaged for Debian 12.
TEST(TfEvents, GooglesProtobufParserReadsTheEventsAsWritten) {
  if (::access("/usr/bin/python3", X_OK) != 0)
    GTEST_SKIP() << "no /usr/bin/python3";
  TempDir t;
  const std::string path = t.file(io::event_file_name(1.7e9));
  {
    io::EventWriter w(path, 1.7e9);
    w.write(5, 1.7e9 + 1.5, {{"loss/labeled", 1.25}, {"tau/Anger", 0.95}});
    w.write(1LL << 40, 1.7e9 + 3,
            {{"validation/B/macro_f1", 0.6}, {"lr", -2e-4}});
  }
  const Parsed p = parse_with_protobuf(path);
  if (p.status == 77)
    GTEST_SKIP() << "Debian's python3-protobuf or python3-crcmod is absent: "
                 << p.err;
  ASSERT_EQ(p.status, 0) << p.err;
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0]["file_version"], "brain.Event:2");
  EXPECT_DOUBLE_EQ(p.events[0]["wall_time"].get<double>(), 1.7e9);
  EXPECT_EQ(p.events[1]["step"], 5);
  EXPECT_DOUBLE_EQ(p.events[1]["wall_time"].get<double>(), 1.7e9 + 1.5);
  EXPECT_TRUE(p.events[1]["file_version"].is_null());
  EXPECT_FLOAT_EQ(p.events[1]["scalars"]["loss/labeled"].get<float>(), 1.25f);
  EXPECT_FLOAT_EQ(p.events[1]["scalars"]["tau/Anger"].get<float>(), 0.95f);
  EXPECT_EQ(p.events[2]["step"].get<int64_t>(), 1LL << 40);
  EXPECT_FLOAT_EQ(p.events[2]["scalars"]["validation/B/macro_f1"].get<float>(),
                  0.6f);
  EXPECT_FLOAT_EQ(p.events[2]["scalars"]["lr"].get<float>(), -2e-4f);

  // A damaged byte in the last record's data is caught by its CRC.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-40, std::ios::end);
    f.put('\x7f');
  }
  const Parsed bad = parse_with_protobuf(path);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("record 3"), std::string::npos) << bad.err;
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
