#pragma once
// scripts/check-libtorch --cuda: a stand-in, declarations only (README.md).
typedef struct cublasContext* cublasHandle_t;
typedef enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1 } cublasStatus_t;
extern "C" const char* cublasGetStatusString(cublasStatus_t status);
