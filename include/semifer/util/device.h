#pragma once

#include <string>

namespace semifer::util {

/// Resolves a device name as configs and flags spell it: "auto" (the first
/// CUDA device when LibTorch has one, else the CPU), "cpu", "cuda" or
/// "cuda:N". Returns "cpu" or "cuda:N" (for torch::Device). Throws
/// semifer::Error when CUDA is asked for and this LibTorch has no CUDA
/// device, or the name is unknown.
std::string resolve_device(const std::string& name);

/// True when this LibTorch was built with CUDA and sees a device.
bool cuda_available();

}  // namespace semifer::util
