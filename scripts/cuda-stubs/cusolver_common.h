#pragma once
// scripts/check-libtorch --cuda: a stand-in, declarations only (README.md).
typedef enum { CUSOLVER_STATUS_SUCCESS = 0 } cusolverStatus_t;
