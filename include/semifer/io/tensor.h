#pragma once

#include "semifer/io/image.h"

namespace at {
class Tensor;
}

namespace semifer::io {

/// Copies an image into a new tensor, [H, W, 3] uint8 (HWC, as decoded).
at::Tensor to_tensor(const Image& image);

/// Copies a [H, W, 3] uint8 tensor (any device, any strides) into an Image.
/// Throws semifer::Error on another shape or dtype.
Image from_tensor(const at::Tensor& tensor);

}  // namespace semifer::io
