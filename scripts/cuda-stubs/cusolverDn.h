#pragma once
// scripts/check-libtorch --cuda: a stand-in, declarations only (README.md).
#include "cusolver_common.h"
typedef struct cusolverDnContext* cusolverDnHandle_t;
