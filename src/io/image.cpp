#include "semifer/io/image.h"

#include <algorithm>
#include <filesystem>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::io {

bool has_image_extension(const std::string& path) {
  const std::string ext =
      util::to_lower(std::filesystem::path(path).extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

void write_image(const std::string& path, const Image& image, int jpeg_quality,
                 util::Durability durability) {
  const std::string lower = util::to_lower(path);
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return lower.size() >= s.size() &&
           lower.compare(lower.size() - s.size(), s.size(), s) == 0;
  };
  std::vector<uint8_t> bytes;
  if (ends_with(".png")) {
    bytes = encode_png(image);
  } else if (ends_with(".jpg") || ends_with(".jpeg")) {
    bytes = encode_jpeg(image, jpeg_quality);
  } else {
    fail("cannot write ", path, ": extension must be .png, .jpg or .jpeg");
  }
  util::write_file(path, bytes.data(), bytes.size(), durability);
}

Image gray_to_rgb(const uint8_t* gray, int width, int height) {
  Image image(width, height);
  const size_t n = static_cast<size_t>(width) * height;
  for (size_t i = 0; i < n; ++i) {
    image.data[i * 3] = image.data[i * 3 + 1] = image.data[i * 3 + 2] = gray[i];
  }
  return image;
}

Image crop(const Image& image, const Box& box, const std::string& name) {
  const int x0 = std::max(0, box.x);
  const int y0 = std::max(0, box.y);
  const int x1 = std::min(image.width, box.x + box.w);
  const int y1 = std::min(image.height, box.y + box.h);
  SEMIFER_CHECK(x1 > x0 && y1 > y0, "cannot crop ", name, ": box (", box.x,
                ", ", box.y, ", ", box.w, ", ", box.h, ") lies outside the ",
                image.width, "x", image.height, " image");
  Image out(x1 - x0, y1 - y0);
  for (int y = y0; y < y1; ++y) {
    std::copy(image.pixel(x0, y), image.pixel(x1 - 1, y) + 3,
              out.pixel(0, y - y0));
  }
  return out;
}

}  // namespace semifer::io
