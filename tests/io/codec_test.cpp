#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "semifer/io/image.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::io {

using test::expect_error;
using test::TempDir;

namespace {
double mean_abs_diff(const Image& a, const Image& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  double s = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    s += std::abs(a.data[i] - b.data[i]);
  return s / static_cast<double>(a.data.size());
}
}  // namespace

TEST(Codec, PngRoundTripIsExact) {
  const Image img = test::pattern_image(37, 21, 3);
  const auto bytes = encode_png(img);
  const Image back = decode_image(bytes.data(), bytes.size(), "mem.png");
  EXPECT_EQ(back.width, 37);
  EXPECT_EQ(back.height, 21);
  EXPECT_EQ(back.data, img.data);
}

TEST(Codec, JpegRoundTripIsClose) {
  const Image img = test::pattern_image(64, 48, 1);
  const auto bytes = encode_jpeg(img, 95);
  const Image back = decode_image(bytes.data(), bytes.size(), "mem.jpg");
  EXPECT_EQ(back.width, 64);
  EXPECT_EQ(back.height, 48);
  EXPECT_LT(mean_abs_diff(img, back), 3.0);
}

TEST(Codec, ReadsFilesByContentNotExtension) {
  TempDir tmp;
  const std::string png = test::write_pattern(tmp.file("a.png"), 8, 8);
  std::filesystem::rename(png, tmp.file("a.jpg"));
  const Image img = read_image(tmp.file("a.jpg"));
  EXPECT_EQ(img.data, test::pattern_image(8, 8).data);
}

TEST(Codec, GrayJpegIsReplicatedToThreeChannels) {
  // A grayscale JPEG written by hand through the RGB path would be colour;
  // take FER2013's real gray faces when present, else synthesise gray RGB.
  Image gray(32, 32);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c)
        gray.pixel(x, y)[c] = static_cast<uint8_t>(x * 8);
  const auto bytes = encode_jpeg(gray, 90);
  const Image back = decode_image(bytes.data(), bytes.size(), "g.jpg");
  for (size_t i = 0; i < back.data.size(); i += 3) {
    EXPECT_NEAR(back.data[i], back.data[i + 1], 2);
    EXPECT_NEAR(back.data[i], back.data[i + 2], 2);
  }
}

TEST(Codec, RealGrayFer2013Face) {
  const std::string dir = test::shared_data_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/data is absent";
  std::string path;
  for (const auto& e :
       std::filesystem::directory_iterator(dir + "/fer2013/train/happy")) {
    path = e.path().string();
    break;
  }
  const Image img = read_image(path);
  EXPECT_EQ(img.width, 48);
  EXPECT_EQ(img.height, 48);
  for (size_t i = 0; i < img.data.size(); i += 3) {
    ASSERT_EQ(img.data[i], img.data[i + 1]);
    ASSERT_EQ(img.data[i], img.data[i + 2]);
  }
}

TEST(Codec, BadInputGivesOneLineErrorNamingTheFile) {
  TempDir tmp;
  const std::string empty = test::write_text_file(tmp.file("empty.jpg"), "");
  expect_error([&] { read_image(empty); }, {empty, "empty file"});

  const std::string text = test::write_text_file(tmp.file("text.jpg"), "hello");
  expect_error([&] { read_image(text); }, {text, "not a JPEG or PNG"});

  expect_error([&] { read_image(tmp.file("missing.jpg")); },
               {"missing.jpg", "cannot open"});

  // Cut inside the entropy-coded scan: libjpeg would pad with gray.
  const auto jpeg = encode_jpeg(test::pattern_image(128, 128), 90);
  const std::string truncated = tmp.file("truncated.jpg");
  util::write_file(truncated, jpeg.data(), jpeg.size() * 4 / 5);
  expect_error([&] { read_image(truncated); },
               {truncated, "corrupt JPEG (Premature end of JPEG file)"});
  // Cut inside the headers.
  const std::string headless = tmp.file("headless.jpg");
  util::write_file(headless, jpeg.data(), 100);
  expect_error([&] { read_image(headless); }, {headless, "JPEG"});

  std::vector<uint8_t> corrupt = jpeg;
  for (size_t i = 2; i < 200 && i < corrupt.size(); ++i) corrupt[i] = 0x00;
  const std::string bad = tmp.file("corrupt.jpg");
  util::write_file(bad, corrupt.data(), corrupt.size());
  expect_error([&] { read_image(bad); }, {bad, "JPEG"});

  auto png = encode_png(test::pattern_image(64, 64));
  const std::string png_trunc = tmp.file("truncated.png");
  util::write_file(png_trunc, png.data(), png.size() / 2);
  expect_error([&] { read_image(png_trunc); }, {png_trunc, "corrupt PNG"});

  std::vector<uint8_t> png_bad = png;
  for (size_t i = 8; i < 40; ++i) png_bad[i] ^= 0x5a;
  const std::string png_corrupt = tmp.file("corrupt.png");
  util::write_file(png_corrupt, png_bad.data(), png_bad.size());
  expect_error([&] { read_image(png_corrupt); }, {png_corrupt, "corrupt PNG"});
}

// Issue 16, items 3 and 5: sizes checked before allocation, libjpeg's and
// libpng's warnings about corrupt data treated as errors.
namespace {
// The offset of the frame header's height field (after FFC0, length and
// precision) in a baseline JPEG.
size_t sof_height_offset(const std::vector<uint8_t>& jpeg) {
  for (size_t i = 2; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xff && (jpeg[i + 1] == 0xc0 || jpeg[i + 1] == 0xc2))
      return i + 5;
  }
  ADD_FAILURE() << "no frame header";
  return 0;
}
void put16(std::vector<uint8_t>& b, size_t at, int v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v & 255);
}
}  // namespace

TEST(Codec, AHeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  const auto jpeg = encode_jpeg(test::pattern_image(48, 48), 90);
  std::vector<uint8_t> big = jpeg;
  const size_t at = sof_height_offset(big);
  put16(big, at, 65000);
  put16(big, at + 2, 65000);
  // 65000 x 65000 asked for 12.7 GB.
  expect_error([&] { decode_image(big.data(), big.size(), "big.jpg"); },
               {"big.jpg",
                "65000x65000 pixels is more than the limit of "
                "67108864 (--max-pixels)"});
  // The PNG header's IHDR width and height (bytes 16..23), with the
  // chunk's CRC (bytes 29..32, over bytes 12..28) made right again.
  auto png = encode_png(test::pattern_image(16, 16));
  for (int k : {16, 20}) {
    png[k] = 0;
    png[k + 1] = 0;
    png[k + 2] = 0x9c;  // 40000
    png[k + 3] = 0x40;
  }
  uint32_t crc = 0xffffffffu;
  for (int k = 12; k < 29; ++k) {
    crc ^= png[k];
    for (int b = 0; b < 8; ++b)
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  for (int k = 0; k < 4; ++k)
    png[29 + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
  expect_error([&] { decode_image(png.data(), png.size(), "big.png"); },
               {"big.png", "40000x40000 pixels is more than the limit"});
  // The limit is configurable.
  set_max_image_pixels(1000);
  expect_error([&] { decode_image(jpeg.data(), jpeg.size(), "face.jpg"); },
               {"face.jpg", "48x48 pixels is more than the limit of 1000"});
  set_max_image_pixels(kDefaultMaxPixels);
  EXPECT_EQ(decode_image(jpeg.data(), jpeg.size(), "face.jpg").width, 48);
  expect_error([] { set_max_image_pixels(0); }, {"must be positive"});
}

TEST(Codec, CorruptDataThatLibjpegWouldPadIsRefused) {
  const auto jpeg = encode_jpeg(test::pattern_image(256, 256), 90);
  // A header that claims more rows than the scan holds.
  std::vector<uint8_t> tall = jpeg;
  put16(tall, sof_height_offset(tall), 512);
  expect_error([&] { decode_image(tall.data(), tall.size(), "tall.jpg"); },
               {"tall.jpg", "corrupt JPEG"});
  // A scan that ends early but carries an end marker.
  std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + jpeg.size() / 2);
  cut.push_back(0xff);
  cut.push_back(0xd9);
  expect_error([&] { decode_image(cut.data(), cut.size(), "cut.jpg"); },
               {"cut.jpg",
                "corrupt JPEG (Corrupt JPEG data: premature end "
                "of data segment)"});
  // A PNG whose image data chunk has a bad CRC.
  auto png = encode_png(test::pattern_image(32, 32));
  for (size_t i = 8; i + 8 < png.size(); ++i) {
    if (png[i + 4] == 'I' && png[i + 5] == 'D' && png[i + 6] == 'A' &&
        png[i + 7] == 'T') {
      const size_t length = (size_t{png[i]} << 24) |
                            (size_t{png[i + 1]} << 16) |
                            (size_t{png[i + 2]} << 8) | png[i + 3];
      png[i + 8 + length] ^= 0xff;  // the CRC's first byte
      break;
    }
  }
  expect_error([&] { decode_image(png.data(), png.size(), "crc.png"); },
               {"crc.png", "corrupt PNG"});
}

TEST(Codec, CropClipsAndRejectsOutsideBoxes) {
  const Image img = test::pattern_image(20, 10);
  const Image c = crop(img, {5, 2, 4, 3}, "x");
  EXPECT_EQ(c.width, 4);
  EXPECT_EQ(c.height, 3);
  EXPECT_EQ(c.pixel(0, 0)[0], img.pixel(5, 2)[0]);
  EXPECT_EQ(c.pixel(3, 2)[1], img.pixel(8, 4)[1]);
  const Image clipped = crop(img, {-5, -5, 10, 10}, "x");
  EXPECT_EQ(clipped.width, 5);
  expect_error(
      [&] {
        crop(img, {30, 30, 5, 5}, "face.jpg");
      },
      {"face.jpg", "outside"});
}

TEST(Codec, WriteImageRejectsUnknownExtension) {
  TempDir tmp;
  expect_error(
      [&] { write_image(tmp.file("x.gif"), test::pattern_image(4, 4)); },
      {"x.gif", ".png"});
}

}  // namespace semifer::io
