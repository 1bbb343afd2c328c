// The only file that talks to libjpeg-turbo and libpng.
#include <atomic>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <png.h>

#include "semifer/io/image.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::io {

namespace {

// ---- JPEG -----------------------------------------------------------------

std::atomic<int64_t> g_max_pixels{kDefaultMaxPixels};

// Before the pixels are allocated: a 1 kB file may claim 65000 x 65000.
void check_size(int64_t w, int64_t h, const std::string& name) {
  SEMIFER_CHECK(w > 0 && h > 0, "cannot decode ", name, ": its header says ", w,
                "x", h, " pixels");
  const int64_t limit = g_max_pixels.load();
  SEMIFER_CHECK(w * h <= limit, "cannot decode ", name, ": ", w, "x", h,
                " pixels is more than the limit of ", limit, " (--max-pixels)");
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  char warning[JMSG_LENGTH_MAX];
  bool warned = false;
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void jpeg_on_message(j_common_ptr cinfo, int level) {
  // Level -1 is a warning about corrupt data: a scan that ends early, a
  // header that claims more rows than the data holds. libjpeg goes on and
  // fills what is missing with gray, which would train on a half-gray face,
  // so the first warning rejects the image once decoding ends. (Levels >= 0
  // are trace messages.)
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  if (level < 0 && !err->warned) {
    err->warned = true;
    (*cinfo->err->format_message)(cinfo, err->warning);
  }
}

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.emit_message = jpeg_on_message;
  // Everything with a destructor lives before setjmp: longjmp must not skip
  // a constructor's matching destructor.
  Image image;
  std::vector<uint8_t> row;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    fail("cannot decode ", name, ": corrupt JPEG (", err.message, ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, const_cast<unsigned char*>(data),
               static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  try {
    check_size(cinfo.image_width, cinfo.image_height, name);
  } catch (const Error&) {
    jpeg_destroy_decompress(&cinfo);
    throw;
  }
  const bool cmyk =
      cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  // Match PIL's decoder (and so torchvision's reference pipeline): the
  // accurate integer IDCT and fancy upsampling, which are libjpeg's defaults.
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);
  const int w = static_cast<int>(cinfo.output_width);
  const int h = static_cast<int>(cinfo.output_height);
  const int channels = cinfo.output_components;
  image = Image(w, h);
  row.resize(static_cast<size_t>(w) * channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y = static_cast<int>(cinfo.output_scanline);
    JSAMPROW rows[1] = {cmyk ? row.data() : image.pixel(0, y)};
    jpeg_read_scanlines(&cinfo, rows, 1);
    if (cmyk) {
      // Adobe writes inverted CMYK; this is the conversion PIL applies.
      for (int x = 0; x < w; ++x) {
        const uint8_t* p = row.data() + x * 4;
        uint8_t* q = image.pixel(x, y);
        for (int c = 0; c < 3; ++c)
          q[c] = static_cast<uint8_t>(p[c] * p[3] / 255);
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  SEMIFER_CHECK(!err.warned, "cannot decode ", name, ": corrupt JPEG (",
                err.warning, ")");
  return image;
}

// ---- PNG ------------------------------------------------------------------

Image decode_png(const uint8_t* data, size_t size, const std::string& name) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, data, size)) {
    fail("cannot decode ", name, ": corrupt PNG (", png.message, ")");
  }
  png.format = PNG_FORMAT_RGB;
  try {
    check_size(png.width, png.height, name);
  } catch (const Error&) {
    png_image_free(&png);
    throw;
  }
  Image image(static_cast<int>(png.width), static_cast<int>(png.height));
  if (!png_image_finish_read(&png, nullptr, image.data.data(), 0, nullptr)) {
    std::string why = png.message;
    png_image_free(&png);
    fail("cannot decode ", name, ": corrupt PNG (", why, ")");
  }
  // libpng's warnings (a bad CRC in an ancillary chunk, data after the
  // image, a truncated stream it padded) are errors here, as libjpeg's are;
  // but a colour profile it ignores ("iCCP: known incorrect sRGB profile",
  // common on the web) leaves the pixels as they are.
  if ((png.warning_or_error & PNG_IMAGE_WARNING) != 0) {
    const std::string why = png.message;
    SEMIFER_CHECK(why.rfind("iCCP:", 0) == 0 || why.rfind("sRGB:", 0) == 0,
                  "cannot decode ", name, ": corrupt PNG (", why, ")");
  }
  return image;
}

void jpeg_write_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

}  // namespace

void set_max_image_pixels(int64_t pixels) {
  SEMIFER_CHECK(pixels > 0, "the image pixel limit must be positive, got ",
                pixels);
  g_max_pixels.store(pixels);
}

int64_t max_image_pixels() { return g_max_pixels.load(); }

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  SEMIFER_CHECK(size > 0, "cannot decode ", name, ": empty file");
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
    return decode_jpeg(data, size, name);
  }
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) {
    return decode_png(data, size, name);
  }
  fail("cannot decode ", name, ": not a JPEG or PNG image");
}

Image read_image(const std::string& path) {
  std::vector<uint8_t> bytes = util::read_file(path);
  return decode_image(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  SEMIFER_CHECK(!image.empty(), "cannot encode an empty image as JPEG");
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_write_error;
  unsigned char* buffer = nullptr;
  unsigned long buffer_size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    fail("cannot encode JPEG: ", err.message);
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &buffer_size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row[1] = {const_cast<uint8_t*>(
        image.pixel(0, static_cast<int>(cinfo.next_scanline)))};
    jpeg_write_scanlines(&cinfo, row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + buffer_size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return out;
}

std::vector<uint8_t> encode_png(const Image& image) {
  SEMIFER_CHECK(!image.empty(), "cannot encode an empty image as PNG");
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  SEMIFER_CHECK(png_image_write_to_memory(&png, nullptr, &size, 0,
                                          image.data.data(), 0, nullptr),
                "cannot encode PNG: ", png.message);
  std::vector<uint8_t> out(size);
  SEMIFER_CHECK(png_image_write_to_memory(&png, out.data(), &size, 0,
                                          image.data.data(), 0, nullptr),
                "cannot encode PNG: ", png.message);
  out.resize(size);
  return out;
}

}  // namespace semifer::io
