#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/util/atomic_file.h"

namespace semifer::io {

/// An 8-bit RGB image in row-major HWC order: pixel (y, x) channel c is
/// `data[(y * width + x) * 3 + c]`. Gray sources are replicated to 3 channels.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> data;  ///< [height, width, 3] uint8

  Image() = default;
  Image(int w, int h, uint8_t fill = 0)
      : width(w), height(h), data(static_cast<size_t>(w) * h * 3, fill) {}

  bool empty() const { return width <= 0 || height <= 0; }
  uint8_t* pixel(int x, int y) {
    return data.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
  const uint8_t* pixel(int x, int y) const {
    return data.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
};

/// An axis-aligned box in pixels; `w` or `h` <= 0 means "no box".
struct Box {
  int32_t x = 0;
  int32_t y = 0;
  int32_t w = 0;
  int32_t h = 0;
  bool empty() const { return w <= 0 || h <= 0; }
};

/// The default of max_image_pixels(): 2^26 pixels (8192 x 8192, 192 MiB
/// decoded), above any face photo.
inline constexpr int64_t kDefaultMaxPixels = int64_t{1} << 26;

/// Sets the largest width x height decode_image accepts, process-wide (as
/// torch::set_num_threads is; the CLI's --max-pixels). Throws semifer::Error
/// unless positive.
void set_max_image_pixels(int64_t pixels);
/// The limit set_max_image_pixels set (kDefaultMaxPixels until then).
int64_t max_image_pixels();

/// Decodes a JPEG or PNG held in memory (the format is sniffed from the
/// leading bytes) to RGB. `name` is used in error messages only. Throws
/// semifer::Error on empty, truncated, corrupt or unsupported data, on
/// any libjpeg or libpng warning (corrupt data that the libraries would
/// fill with gray) and on a header whose width x height is above
/// max_image_pixels(), before allocating the pixels.
Image decode_image(const uint8_t* data, size_t size, const std::string& name);

/// True for the names semifer's codecs read and write: .jpg, .jpeg and .png
/// (case-insensitive).
bool has_image_extension(const std::string& path);

/// Reads and decodes an image file. Throws semifer::Error naming the path.
Image read_image(const std::string& path);

/// Encodes to JPEG at the given quality (1..100).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);

/// Encodes to PNG (lossless, 8-bit RGB).
std::vector<uint8_t> encode_png(const Image& image);

/// Writes `image` to `path` as PNG or JPEG, chosen by the extension
/// (.png, .jpg, .jpeg; case-insensitive), crash-safely (util::write_file;
/// kFast for generated data that can be made again).
void write_image(const std::string& path, const Image& image,
                 int jpeg_quality = 90,
                 util::Durability durability = util::Durability::kDurable);

/// Wraps raw 8-bit gray pixels ([height, width]) as an RGB image.
Image gray_to_rgb(const uint8_t* gray, int width, int height);

/// Cuts `box` out of `image`, clipped to the image. Throws semifer::Error
/// (naming `name`) when the clipped box is empty.
Image crop(const Image& image, const Box& box, const std::string& name);

}  // namespace semifer::io
