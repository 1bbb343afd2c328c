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
namespace semifer::augment {

/// The parameters of N ViewPlans as tensors (on the CPU from pack_plans;
/// moved with to()). K is the largest number of RandAugment operations of a
/// plan; shorter plans are padded with Identity.
struct PlanBatch {
  at::Tensor flip;           ///< [N] bool, horizontal flip
  at::Tensor top;            ///< [N] int64, crop offset (rows) into the padding
  at::Tensor left;           ///< [N] int64, crop offset (columns)
  at::Tensor jitter;         ///< [N] bool, colour jitter drawn
  at::Tensor jitter_order;   ///< [N, 3] int64, 0 brightness, 1 contrast, 2 sat.
  at::Tensor jitter_factor;  ///< [N, 3] float32, by op; 1 where not jittered
  at::Tensor ops;            ///< [N, K] int64, Op codes, Identity as padding
  at::Tensor magnitudes;     ///< [N, K] float32, signed, as in ViewPlan
  /// [N, K, 6] float32: for geometric ops, the inverse matrix apply_op
  /// samples with (op_affine_matrix, computed on the host in float as the
  /// CPU kernel does); zeros for the other ops.
  at::Tensor affine;
  at::Tensor cutout;  ///< [N, 4] int64, box x0, y0, x1, y1 (empty: none)
  int size = 0;       ///< the image side the matrices were computed for

  /// Number of plans, N (0 when empty).
  int64_t count() const;
  /// A copy with every tensor on `device` (non-blocking copies: from pinned
  /// memory they overlap with the host).
  PlanBatch to(const c10::Device& device) const;
};

/// Packs plans drawn by plan_weak / plan_strong (or draw_plans) for
/// config.size x config.size images into CPU tensors.
PlanBatch pack_plans(const std::vector<ViewPlan>& plans,
                     const AugmentConfig& config);

/// Renders the views of a batch: `images` [N, S, S, 3] uint8 (S =
/// config.size, already resized as make_views resizes, on any device) under
/// `plans` (N plans on the same device) -> [N, 3, S, S] float32 normalised
/// with config.mean and config.std, on that device. Sample n equals what
/// render_view(image n, plan n, config) writes: bit for bit on the CPU
/// (tests/augment/batched_test.cpp); every step is integer arithmetic or
/// the same float operations in the same order. Throws semifer::Error on
/// mismatched shapes, dtypes or devices.
at::Tensor render_views(const at::Tensor& images, const PlanBatch& plans,
                        const AugmentConfig& config);

/// Stacks io::Images of config.size x config.size into [N, S, S, 3] uint8
/// (CPU), the input render_views takes. Throws on a size mismatch.
at::Tensor stack_images(const std::vector<io::Image>& images);

}  // namespace semifer::augment
