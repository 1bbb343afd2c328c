// LibTorch's profiler as `bench train --profile` reads it on CUDA, checked
// on the CPU's operations (the same events, another device type).
#include "backends/device_profile.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "support/support.h"

namespace semifer::test {

TEST(DeviceProfile, SumsTheOperationsItSawByName) {
  if (!train::device_profile_available())
    GTEST_SKIP() << "built without LibTorch's profiler API";
  at::Tensor a = torch::randn({128, 128});
  (void)a.mm(a);  // before: not recorded
  train::DeviceProfile profile(/*cuda=*/false);
  for (int i = 0; i < 3; ++i) a = a.mm(a).tanh();
  const train::DeviceTimes t = profile.stop();
  const auto mm =
      std::find_if(t.by_name.begin(), t.by_name.end(),
                   [](const auto& e) { return e.name == "aten::mm"; });
  ASSERT_NE(mm, t.by_name.end());
  EXPECT_EQ(mm->calls, 3);
  EXPECT_GT(mm->seconds, 0);
  EXPECT_GE(t.busy_seconds, mm->seconds);
  EXPECT_EQ(t.nccl_seconds, 0);
  for (size_t i = 1; i < t.by_name.size(); ++i)
    EXPECT_GE(t.by_name[i - 1].seconds, t.by_name[i].seconds);
  expect_error([&] { profile.stop(); }, {"already stopped"});
}

}  // namespace semifer::test
