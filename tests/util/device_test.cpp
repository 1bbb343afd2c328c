#include "semifer/util/device.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace semifer::util {

TEST(Device, ResolvesNames) {
  EXPECT_EQ(resolve_device("cpu"), "cpu");
  EXPECT_EQ(resolve_device(" CPU "), "cpu");
  EXPECT_EQ(resolve_device("auto"), cuda_available() ? "cuda:0" : "cpu");
  test::expect_error([] { resolve_device("gpu"); },
                     {"unknown device 'gpu'", "cuda:N"});
  test::expect_error([] { resolve_device("cuda:x"); }, {"unknown device"});
  if (cuda_available()) {
    EXPECT_EQ(resolve_device("cuda"), "cuda:0");
    test::expect_error([] { resolve_device("cuda:999"); },
                       {"only", "CUDA device(s)"});
  } else {
    test::expect_error([] { resolve_device("cuda"); },
                       {"'cuda' asked for", "no CUDA device"});
  }
}

}  // namespace semifer::util
