#include "backends/preview.h"

#include <algorithm>

#include "semifer/augment/functional.h"
#include "semifer/augment/views.h"
#include "semifer/util/error.h"

namespace semifer::augment {

io::Image preview_grid(const std::vector<io::Image>& images,
                       const AugmentConfig& config, uint64_t seed) {
  SEMIFER_CHECK(!images.empty(), "preview: no images");
  config.validate();
  const int s = config.size, gap = 2;
  const int rows = static_cast<int>(images.size());
  io::Image grid(3 * s + 4 * gap, rows * s + (rows + 1) * gap, 255);
  auto paste = [&](const io::Image& img, int col, int row) {
    const int x0 = gap + col * (s + gap), y0 = gap + row * (s + gap);
    for (int y = 0; y < s; ++y) {
      std::copy(img.pixel(0, y), img.pixel(0, y) + s * 3,
                grid.pixel(x0, y0 + y));
    }
  };
  for (int r = 0; r < rows; ++r) {
    const io::Image resized = resize(images[r], s, s);
    util::Generator gen({seed, 0, static_cast<uint64_t>(r)});
    const ViewPlan weak = plan_weak(config, gen);
    const ViewPlan strong = plan_strong(config, gen);
    paste(resized, 0, r);
    paste(apply_plan(resized, weak, config), 1, r);
    paste(apply_plan(resized, strong, config), 2, r);
  }
  return grid;
}

}  // namespace semifer::augment
