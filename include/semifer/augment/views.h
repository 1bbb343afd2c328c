#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "semifer/augment/config.h"
#include "semifer/io/image.h"
#include "semifer/util/random.h"

/// The weak and strong views of a sample. Drawing the random parameters (a
/// ViewPlan) is separate from applying them: plans are drawn on the CPU from
/// a generator seeded by (seed, epoch, sample index), so a sample gets the
/// same views whatever the number of threads, and the same plans can drive a
/// batched implementation on a device (batched.h).
namespace semifer::augment {

/// The 14 RandAugment operations, in torchvision's order.
enum class Op : uint8_t {
  kIdentity,
  kShearX,
  kShearY,
  kTranslateX,
  kTranslateY,
  kRotate,
  kBrightness,
  kColor,
  kContrast,
  kSharpness,
  kPosterize,
  kSolarize,
  kAutoContrast,
  kEqualize,
};
constexpr int kNumOps = 14;

/// Name of an operation ("Rotate", ...).
const char* op_name(Op op);

/// torchvision's RandAugment magnitude of `op` at bin `index` of `bins` for a
/// size x size image, before the random sign; `signed_op` tells whether a
/// sign is drawn.
float op_magnitude(Op op, int index, int bins, int size, bool* signed_op);

/// Applies one operation as torchvision's `_apply_op` does with
/// `magnitude` (already signed), NEAREST interpolation and `fill`.
io::Image apply_op(const io::Image& img, Op op, float magnitude, uint8_t fill);

/// For the geometric operations (ShearX/Y, TranslateX/Y, Rotate), writes
/// the inverse matrix (functional.h, affine_matrix) that apply_op samples a
/// width x height image with at `magnitude`, and returns true; returns false
/// for the others.
bool op_affine_matrix(Op op, float magnitude, int width, int height,
                      std::array<float, 6>* matrix);

/// One view's random parameters.
struct ViewPlan {
  bool flip = false;
  int top = 0, left = 0;  ///< crop offset into the reflect-padded image
  /// Colour jitter: factors (1 = unchanged) and the order of brightness (0),
  /// contrast (1) and saturation (2), as ColorJitter draws them.
  bool jitter = false;
  std::array<int, 3> jitter_order = {0, 1, 2};
  std::array<float, 3> jitter_factor = {1, 1, 1};
  struct AppliedOp {
    Op op;
    float magnitude;
  };
  std::vector<AppliedOp> ops;  ///< RandAugment
  int cut_x0 = 0, cut_y0 = 0, cut_x1 = 0,
      cut_y1 = 0;  ///< Cutout box (empty: none)
};

/// Draws the weak view's plan (flip, translate, jitter).
ViewPlan plan_weak(const AugmentConfig& config, util::Generator& gen);
/// Draws the strong view's plan (flip, translate, RandAugment, Cutout).
ViewPlan plan_strong(const AugmentConfig& config, util::Generator& gen);

/// Applies a plan to an image already resized to size x size; returns the
/// uint8 result before normalisation.
io::Image apply_plan(const io::Image& resized, const ViewPlan& plan,
                     const AugmentConfig& config);

/// Applies a plan to an image already resized to size x size and writes the
/// normalised view, [3, size, size] float32, to `out`. Equal to
/// normalize_into(apply_plan(resized, plan, config), ...) bit for bit, but
/// value-wise operations are fused into one lookup table.
void render_view(const io::Image& resized, const ViewPlan& plan,
                 const AugmentConfig& config, float* out);

/// The plans of one sample's views, as make_views draws them: from
/// Generator({seed, epoch, index}), the weak plan into `weak`, then, when
/// `strong` is not null, the strong plan into `strong`.
void draw_plans(const AugmentConfig& config, uint64_t seed, int64_t epoch,
                int64_t index, ViewPlan* weak, ViewPlan* strong);

/// The views of one sample: resizes `image` to size x size, then writes the
/// normalised weak view ([3, size, size] float32) to `weak` and, when
/// `strong` is not null, the strong view to `strong`. Both come from one
/// call with Generator({seed, epoch, index}), so a sample's views depend on
/// nothing else.
void make_views(const io::Image& image, const AugmentConfig& config,
                uint64_t seed, int64_t epoch, int64_t index, float* weak,
                float* strong);

}  // namespace semifer::augment
