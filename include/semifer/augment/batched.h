#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "semifer/augment/config.h"
#include "semifer/augment/views.h"

/// The views of a whole batch as tensor operations, on any device: the same
/// ViewPlans that render_view (views.h) applies one image at a time on CPU
/// threads, applied to a batch of resized 8-bit images with ATen operations
/// only, so that on a GPU they run as device kernels (docs/augment.md, "On
/// the device"). Plans are still drawn on the host, from the same generators;
/// pack_plans turns them into tensors.
///
/// No host synchronisation: which samples an operation applies to is known
/// on the host when the plans are packed, so pack_plans groups them there
/// (PlanBatch::groups, with host-side offsets and counts) and render_views
/// only selects, transforms and writes back those precomputed index ranges.
/// No operation of render_views reads a tensor's values on the host (no
/// item(), no copy to the host, no blocking copy from it) or has an output
/// whose shape depends on tensor values (no nonzero, masked_select, boolean
/// indexing, unique): every shape follows from the input shapes and from
/// the host-side group counts. tests/augment/batched_sync_test.cpp proves it
/// by running render_views on the meta device, where any of those throws,
/// while checking that no operation receives a host tensor.
///
/// Kernel launches: a batch costs a fixed number of ATen operations that
/// depends on the number of RandAugment slots K and on which op families
/// occur in each slot, never on the batch size N or the image side S (the
/// same test counts them on the meta device and checks that N = 14, S = 48
/// and N = 70, S = 224 cost the same). Counting the calls that launch a
/// kernel (views, reshapes and allocations left out, dtype conversions in):
/// about 131 for the plan-wide steps (gather for flip, padding, crop and
/// image choice; colour jitter; Cutout; normalisation; 129 when every sample
/// or none is jittered), plus at most 143 per slot when all seven families
/// occur in it (about 20 per family, of which an index_select and an
/// index_put_, none when a family holds the whole batch; a geometric family
/// is one closed-form computation of every pixel's source coordinates and
/// one gather). So at most 131 + 143 K: 417 for K = 2 (644 ATen calls with
/// the views), 129 for weak plans (202 calls).
namespace semifer::augment {

/// The samples of one RandAugment slot whose op there belongs to one family,
/// as a range of PlanBatch's member tensors. Families: kShearX stands for
/// the five geometric ops, kBrightness for Brightness, Color and Contrast;
/// every other op but Identity is its own family.
struct OpGroup {
  int64_t slot = 0;           ///< RandAugment position, 0 .. K - 1
  Op family = Op::kIdentity;  ///< the family's first op (see above)
  int64_t begin = 0;          ///< first member of the range
  int64_t count = 0;          ///< members in the range, > 0
};

/// The parameters of N ViewPlans as tensors (on the CPU from pack_plans;
/// moved with to()), and on the host how they group. K is the largest
/// number of RandAugment operations of a plan; shorter plans are padded
/// with Identity.
struct PlanBatch {
  at::Tensor flip;    ///< [N] bool, horizontal flip
  at::Tensor top;     ///< [N] int64, crop offset (rows) into the padding
  at::Tensor left;    ///< [N] int64, crop offset (columns)
  at::Tensor cutout;  ///< [N, 4] int64, box x0, y0, x1, y1 (empty: none)
  /// [J] int64, the samples with colour jitter, ascending.
  at::Tensor jitter_sample;
  at::Tensor jitter_order;   ///< [J, 3] int64, 0 brightness, 1 contrast, 2 sat.
  at::Tensor jitter_factor;  ///< [J, 3] float32, factor at each position
  at::Tensor ops;            ///< [N, K] int64, Op codes, Identity as padding
  at::Tensor magnitudes;     ///< [N, K] float32, signed, as in ViewPlan

  /// Non-empty groups, by slot, then family in the order of the Op enum.
  /// render_views reads only these and the member tensors below for the
  /// RandAugment ops (`ops` and `magnitudes` are for inspection).
  std::vector<OpGroup> groups;
  /// [T] int64: the sample of each member; ascending within a group.
  at::Tensor member_sample;
  /// [T] int64: for Brightness / Contrast / Color members the blend target,
  /// 0 black, 1 the gray mean, 2 the gray image; 0 for the others.
  at::Tensor member_kind;
  at::Tensor member_magnitude;  ///< [T] float32, signed magnitude
  /// [T, 6] float32: for geometric members, the inverse matrix apply_op
  /// samples with (op_affine_matrix, computed on the host in float as the
  /// CPU kernel does); zeros for the others.
  at::Tensor member_affine;
  int size = 0;  ///< the image side the matrices were computed for

  /// Number of plans, N (0 when empty).
  int64_t count() const;
  /// A copy with every tensor on `device` (non-blocking copies: from pinned
  /// memory they overlap with the host); the groups stay on the host.
  PlanBatch to(const c10::Device& device) const;
  /// A copy with every tensor in page-locked memory (LibTorch with CUDA
  /// only), so that to() a CUDA device copies without waiting for the
  /// device: a copy from pageable memory synchronises the stream first.
  PlanBatch pinned() const;
};

/// Packs plans drawn by plan_weak / plan_strong (or draw_plans) for
/// config.size x config.size images into CPU tensors, grouping the samples
/// of each slot by op family and the jittered ones.
PlanBatch pack_plans(const std::vector<ViewPlan>& plans,
                     const AugmentConfig& config);

/// The plans of `parts` one after the other (sample n of part p becomes
/// sample n + the sizes of the parts before it), regrouped so that each
/// (slot, family) is one group; K is the largest of the parts'. Parts live
/// on one device; on any device this is a few cat and add operations, no
/// synchronisation. Throws semifer::Error on an empty list or parts packed
/// for different sizes.
PlanBatch cat(const std::vector<PlanBatch>& parts);

/// Renders the views of a batch: sample n is image `image_index[n]` of
/// `images` [M, S, S, 3] uint8 (S = config.size, already resized as
/// make_views resizes, on any device) under plan n of `plans` (N plans on
/// the same device) -> [N, 3, S, S] float32 normalised with config.mean and
/// config.std, on that device. `image_index` is [N] int64 on that device;
/// undefined: sample n is image n (M = N). An image may appear several
/// times (a step's unlabeled images, under weak and strong plans).
///
/// Sample n equals what render_view(image, plan n, config) writes, bit for
/// bit on the CPU for everything but the geometric ops (flip, padding, crop,
/// jitter, the photometric RandAugment ops, Cutout, normalisation): integer
/// arithmetic or the same float operations in the same order. The geometric
/// ops compute each pixel's source coordinates in closed form, where the CPU
/// kernel steps them along the row: a pixel differs only where a source
/// coordinate lies within float rounding of a pixel boundary (bounds measured
/// in tests/augment/batched_geometry_test.cpp). Throws semifer::Error on
/// mismatched shapes, dtypes or devices.
at::Tensor render_views(const at::Tensor& images, const PlanBatch& plans,
                        const AugmentConfig& config,
                        const at::Tensor& image_index = {});

/// Stacks io::Images of config.size x config.size into [N, S, S, 3] uint8
/// (CPU), the input render_views takes. Throws on a size mismatch.
at::Tensor stack_images(const std::vector<io::Image>& images);

}  // namespace semifer::augment
