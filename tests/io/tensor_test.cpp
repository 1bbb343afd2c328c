#include "semifer/io/tensor.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/support.h"

namespace semifer::io {

TEST(Tensor, RoundTripKeepsHwcLayout) {
  const Image img = test::pattern_image(5, 3, 2);
  const at::Tensor t = to_tensor(img);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 5, 3}));
  EXPECT_EQ(t.scalar_type(), torch::kUInt8);
  EXPECT_EQ(t[1][4][0].item<int>(), img.pixel(4, 1)[0]);
  EXPECT_EQ(from_tensor(t).data, img.data);
  // Non-contiguous input is handled.
  EXPECT_EQ(
      from_tensor(t.permute({1, 0, 2}).contiguous().permute({1, 0, 2})).data,
      img.data);
  test::expect_error(
      [] {
        from_tensor(torch::zeros({3, 3}));
      },
      {"[H, W, 3] uint8"});
}

}  // namespace semifer::io
