// io::decode_image over arbitrary bytes: the JPEG/PNG sniffing and the
// libjpeg/libpng wrappers. A decoded image must hold width * height * 3
// bytes.
#include "fuzz_support.h"
#include "semifer/io/image.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    const io::Image image = io::decode_image(data, size, "fuzz input");
    fuzz::require(image.width > 0 && image.height > 0 &&
                      image.data.size() ==
                          static_cast<size_t>(image.width) * image.height * 3,
                  "decoded image of inconsistent size");
  });
}
