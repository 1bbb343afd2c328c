#include "semifer/augment/config.h"

#include <cmath>

#include "semifer/util/error.h"
#include "semifer/util/yaml.h"

namespace semifer::augment {

void AugmentConfig::validate() const {
  SEMIFER_CHECK(size >= 8 && size <= 4096,
                "augment.size must lie in 8..4096, got ", size);
  SEMIFER_CHECK(flip_p >= 0 && flip_p <= 1,
                "augment.flip_p must lie in [0, 1]");
  SEMIFER_CHECK(translate >= 0 && pad() < size,
                "augment.translate must be >= 0 and ",
                "pad less than the size");
  for (float v : {brightness, contrast, saturation}) {
    SEMIFER_CHECK(v >= 0, "augment colour jitter amounts must be >= 0");
  }
  SEMIFER_CHECK(randaugment_n >= 0, "augment.randaugment_n must be >= 0");
  SEMIFER_CHECK(randaugment_bins >= 2, "augment.randaugment_bins must be >= 2");
  SEMIFER_CHECK(
      randaugment_magnitude >= 0 && randaugment_magnitude < randaugment_bins,
      "augment.randaugment_magnitude must lie in 0..", randaugment_bins - 1);
  SEMIFER_CHECK(cutout >= 0 && cutout <= 1,
                "augment.cutout must lie in [0, 1]");
  for (float s : std) SEMIFER_CHECK(s > 0, "augment.std must be positive");
}

int AugmentConfig::pad() const {
  return static_cast<int>(std::lround(translate * size));
}

AugmentConfig parse_augment_config(const YAML::Node& node,
                                   const std::string& file) {
  util::yaml_check_keys(
      node,
      {"size", "flip_p", "translate", "brightness", "contrast", "saturation",
       "randaugment_n", "randaugment_magnitude", "randaugment_bins",
       "affine_fill", "cutout", "cutout_fill", "mean", "std"},
      file, "augment");
  AugmentConfig c;
  auto get_f = [&](const char* key, float& v) {
    if (node[key]) v = util::yaml_as<float>(node[key], file, key);
  };
  auto get_i = [&](const char* key, int& v) {
    if (node[key]) v = util::yaml_as<int>(node[key], file, key);
  };
  auto get_u8 = [&](const char* key, uint8_t& v) {
    if (!node[key]) return;
    const int x = util::yaml_as<int>(node[key], file, key);
    SEMIFER_CHECK(x >= 0 && x <= 255, util::yaml_where(node[key], file), ": '",
                  key, "' must lie in 0..255");
    v = static_cast<uint8_t>(x);
  };
  auto get_3 = [&](const char* key, std::array<float, 3>& v) {
    if (!node[key]) return;
    SEMIFER_CHECK(node[key].IsSequence() && node[key].size() == 3,
                  util::yaml_where(node[key], file), ": '", key,
                  "' must be a list of 3 numbers");
    for (int i = 0; i < 3; ++i)
      v[i] = util::yaml_as<float>(node[key][i], file, key);
  };
  get_i("size", c.size);
  get_f("flip_p", c.flip_p);
  get_f("translate", c.translate);
  get_f("brightness", c.brightness);
  get_f("contrast", c.contrast);
  get_f("saturation", c.saturation);
  get_i("randaugment_n", c.randaugment_n);
  get_i("randaugment_magnitude", c.randaugment_magnitude);
  get_i("randaugment_bins", c.randaugment_bins);
  get_u8("affine_fill", c.affine_fill);
  get_f("cutout", c.cutout);
  get_u8("cutout_fill", c.cutout_fill);
  get_3("mean", c.mean);
  get_3("std", c.std);
  try {
    c.validate();
  } catch (const Error& e) {
    fail(util::yaml_where(node, file), ": ", e.what());
  }
  return c;
}

}  // namespace semifer::augment
