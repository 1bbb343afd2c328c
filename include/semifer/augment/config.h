#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "semifer/util/key_doc.h"

namespace YAML {
class Node;
}

namespace semifer::augment {

/// Weak and strong augmentation (paper section 3.1; docs/augment.md).
/// Every part can be turned off; defaults follow FixMatch / torchvision.
struct AugmentConfig {
  int size = 224;  ///< model input side: every view is size x size

  // Weak view: flip, translate (reflect-pad + random crop), colour jitter.
  float flip_p = 0.5f;       ///< probability of a horizontal flip
  float translate = 0.125f;  ///< reflect padding as a fraction of size
  float brightness = 0.4f;   ///< factor drawn from [1 - b, 1 + b]; 0 = off
  float contrast = 0.4f;     ///< likewise
  float saturation = 0.4f;   ///< likewise

  // Strong view: the weak geometric part, RandAugment, then Cutout.
  int randaugment_n = 2;           ///< operations per image (0 = off)
  int randaugment_magnitude = 10;  ///< bin index, 0 .. bins - 1
  int randaugment_bins = 31;       ///< torchvision's num_magnitude_bins
  uint8_t affine_fill = 0;  ///< fill of rotate/shear/translate (torchvision: 0)
  float cutout = 0.5f;  ///< square side up to this fraction of size (0 = off)
  uint8_t cutout_fill = 127;  ///< FixMatch's gray

  // Normalisation, at the end, to float.
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
  /// Pixels of reflect padding for the translation: round(translate * size).
  int pad() const;
};

/// Every key equal (the floats exactly).
bool operator==(const AugmentConfig& a, const AugmentConfig& b);

/// Maps a YAML map onto an AugmentConfig: unknown keys and bad values are
/// errors naming the file and line; the result is valid.
AugmentConfig parse_augment_config(const YAML::Node& node,
                                   const std::string& file);

/// Every key as a YAML map that parse_augment_config reads back equal.
YAML::Node to_yaml_node(const AugmentConfig& config);

/// The keys (docs/config.md, "Augmentation"), undotted: "size", "flip_p".
std::vector<util::KeyDoc> augment_config_keys();

}  // namespace semifer::augment
