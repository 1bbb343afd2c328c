#include "semifer/io/tensor.h"

#include <torch/torch.h>

#include <cstring>

#include "semifer/util/error.h"
#include "semifer/util/torch_compat.h"

namespace semifer::io {

at::Tensor to_tensor(const Image& image) {
  SEMIFER_CHECK(!image.empty(), "cannot convert an empty image to a tensor");
  auto t = torch::empty({image.height, image.width, 3}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), image.data.data(), image.data.size());
  return t;
}

Image from_tensor(const at::Tensor& tensor) {
  SEMIFER_CHECK(tensor.dim() == 3 && tensor.size(2) == 3 &&
                    tensor.scalar_type() == torch::kUInt8,
                "expected a [H, W, 3] uint8 tensor, got ", tensor.sizes(), " ",
                tensor.scalar_type());
  auto t = tensor.to(torch::kCPU).contiguous();
  Image image(static_cast<int>(t.size(1)), static_cast<int>(t.size(0)));
  std::memcpy(image.data.data(), t.data_ptr<uint8_t>(), image.data.size());
  return image;
}

}  // namespace semifer::io
