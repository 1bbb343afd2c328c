// Private to src/augment: the tensor kernels of render_views (batched.h),
// each equal to a CPU kernel of functional.h applied per sample. Images are
// [M, 3, H, W] uint8 on any device; per-sample parameters are [M] tensors on
// the same device.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

namespace semifer::augment::detail {

/// [M] -> [M, 1, 1, 1], to broadcast per-sample values against images.
at::Tensor per_sample(const at::Tensor& v);

/// F.adjust_brightness (kind 0), F.adjust_contrast (1) or
/// F.adjust_saturation (2) per sample: `kind` [M] int64, `factor` [M] float32.
at::Tensor blend(const at::Tensor& x, const at::Tensor& kind,
                 const at::Tensor& factor);

/// F.adjust_sharpness with `factor` [M] float32.
at::Tensor sharpness(const at::Tensor& x, const at::Tensor& factor);

/// F.posterize to int(magnitude) bits, `magnitude` [M] float32.
at::Tensor posterize(const at::Tensor& x, const at::Tensor& magnitude);

/// F.solarize at `threshold` [M] float32.
at::Tensor solarize(const at::Tensor& x, const at::Tensor& threshold);

/// F.autocontrast per sample and channel.
at::Tensor autocontrast(const at::Tensor& x);

/// F.equalize per sample and channel (PIL's algorithm).
at::Tensor equalize(const at::Tensor& x);

/// warp_nearest (functional.h) per sample through `matrix` [M, 6] float32,
/// with every pixel's source coordinates in closed form (see batched.h).
at::Tensor warp(const at::Tensor& x, const at::Tensor& matrix, uint8_t fill);

/// pad_reflect_crop (functional.h) per sample, one gather for the batch:
/// sample n of `images` [M, S, S, 3] uint8 is image `image[n]` ([N] int64;
/// undefined: image n), `flip` [N] bool, `top`, `left` [N] int64 ->
/// [N, 3, S, S] uint8.
at::Tensor pad_crop(const at::Tensor& images, const at::Tensor& image,
                    const at::Tensor& flip, const at::Tensor& top,
                    const at::Tensor& left, int pad);

/// normalize_into (functional.h) of the batch: [M, 3, H, W] float32.
at::Tensor normalize(const at::Tensor& x, const std::array<float, 3>& mean,
                     const std::array<float, 3>& std);

}  // namespace semifer::augment::detail
