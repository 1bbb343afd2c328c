#include "semifer/augment/config.h"

#include <cmath>
#include <tuple>

#include "semifer/util/error.h"
#include "semifer/util/yaml_fields.h"

namespace semifer::augment {

namespace {

using util::Field;

// mean and std: three floats per channel.
Field<AugmentConfig> channels(const char* key,
                              std::array<float, 3> AugmentConfig::*member,
                              std::string doc, bool positive) {
  Field<AugmentConfig> f = util::custom<AugmentConfig>(
      key, std::move(doc),
      [member](AugmentConfig& c, const YAML::Node& node,
               const util::FieldContext& ctx) {
        SEMIFER_CHECK(node.IsSequence() && node.size() == 3,
                      util::yaml_where(node, ctx.src.file), ": '", ctx.name,
                      "' must be a list of 3 numbers");
        for (size_t i = 0; i < 3; ++i) {
          (c.*member)[i] =
              util::yaml_as<float>(node[i], ctx.src.file, ctx.name);
        }
      },
      [member](const AugmentConfig& c) -> std::optional<YAML::Node> {
        YAML::Node list(YAML::NodeType::Sequence);
        list.SetStyle(YAML::EmitterStyle::Flow);
        for (float v : c.*member) list.push_back(util::shortest(v));
        return list;
      });
  if (positive) {
    f.check = [member](const AugmentConfig& c, const std::string& name) {
      for (float v : c.*member) {
        if (!(v > 0)) return str(name, " must be positive, got ", v);
      }
      return std::string();
    };
  }
  return f;
}

const util::Section<AugmentConfig>& section() {
  using C = AugmentConfig;
  using util::at_least;
  using util::value;
  using util::within;
  static const util::Section<C> s =
      util::Section<C>(
          "augment", "augment",
          {
              value("size", &C::size,
                    "Side of every view in pixels (48, 112, ... for small "
                    "models).",
                    within(8, 4096)),
              value("flip_p", &C::flip_p,
                    "Probability of a horizontal flip (both views).",
                    within(0.f, 1.f)),
              value("translate", &C::translate,
                    "Reflect padding as a fraction of `size`; the view is "
                    "cropped back at a random offset. `0`: off.",
                    at_least(0.f)),
              value("brightness", &C::brightness,
                    "Weak-view brightness jitter: a factor from [1 - a, 1 + "
                    "a]. `0`: off.",
                    at_least(0.f)),
              value("contrast", &C::contrast,
                    "Weak-view contrast jitter, likewise.", at_least(0.f)),
              value("saturation", &C::saturation,
                    "Weak-view saturation jitter, likewise.", at_least(0.f)),
              value("randaugment_n", &C::randaugment_n,
                    "RandAugment operations per strong view. `0`: off.",
                    at_least(0)),
              value("randaugment_magnitude", &C::randaugment_magnitude,
                    "Magnitude bin, `0` .. `randaugment_bins - 1`.",
                    at_least(0)),
              value("randaugment_bins", &C::randaugment_bins,
                    "torchvision's `num_magnitude_bins`.", at_least(2)),
              value("affine_fill", &C::affine_fill,
                    "Fill of pixels uncovered by rotate, shear and "
                    "translate."),
              value("cutout", &C::cutout,
                    "Cutout square side, up to this fraction of `size`. `0`: "
                    "off.",
                    within(0.f, 1.f)),
              value("cutout_fill", &C::cutout_fill, "Cutout gray level."),
              channels("mean", &C::mean, "Normalisation mean per channel.",
                       false),
              channels("std", &C::std, "Normalisation std per channel.", true),
          })
          .invariant([](const C& c) {
            return c.pad() < c.size
                       ? std::string()
                       : str("augment.translate pads ", c.pad(),
                             " pixels, which must be less than augment.size ",
                             c.size);
          })
          .invariant([](const C& c) {
            return c.randaugment_magnitude < c.randaugment_bins
                       ? std::string()
                       : str("augment.randaugment_magnitude must lie in 0..",
                             c.randaugment_bins - 1, ", got ",
                             c.randaugment_magnitude);
          });
  return s;
}

}  // namespace

void AugmentConfig::validate() const { section().check(*this); }

int AugmentConfig::pad() const {
  return static_cast<int>(std::lround(translate * size));
}

bool operator==(const AugmentConfig& a, const AugmentConfig& b) {
  auto tie = [](const AugmentConfig& c) {
    return std::tie(c.size, c.flip_p, c.translate, c.brightness, c.contrast,
                    c.saturation, c.randaugment_n, c.randaugment_magnitude,
                    c.randaugment_bins, c.affine_fill, c.cutout, c.cutout_fill,
                    c.mean, c.std);
  };
  return tie(a) == tie(b);
}

AugmentConfig parse_augment_config(const YAML::Node& node,
                                   const std::string& file) {
  AugmentConfig c;
  section().read(node, c, {file, ""});
  return c;
}

YAML::Node to_yaml_node(const AugmentConfig& config) {
  return section().emit(config);
}

std::vector<util::KeyDoc> augment_config_keys() { return section().docs(""); }

}  // namespace semifer::augment
