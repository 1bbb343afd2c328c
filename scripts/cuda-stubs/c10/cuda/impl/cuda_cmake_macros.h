#pragma once
// scripts/check-libtorch --cuda: a stand-in, declarations only (README.md).
#define C10_CUDA_BUILD_SHARED_LIBS
