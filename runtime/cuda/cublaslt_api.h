//===- cublaslt_api.h - The few cuBLASLt declarations we use --------------===//
//
// Internal to runtime/cuda. As cuda_api.h does for the driver: the runtime
// builds without CUDA, so it declares the types and constants of cuBLASLt
// (cublasLt.h, CUDA 12 and 13) it needs, spelled as in the real header, and
// resolves the functions of cublaslt_symbols.inc with dlopen/dlsym;
// abi_test.cc checks both against cublasLt.h where it exists.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>

namespace dlc::rt::cuda::api {

using cublasStatus_t = int; // enums in the real headers: int-sized
using cublasComputeType_t = int;
using cudaDataType = int;
using cudaDataType_t = int;
using cublasOperation_t = int;
using cublasLtEpilogue_t = int;
using cublasLtMatmulDescAttributes_t = int;
using cublasLtMatmulPreferenceAttributes_t = int;
using cublasLtHandle_t = struct cublasLtContext *;
using cudaStream_t = struct CUstream_st *;
struct cublasLtMatmulDescOpaque_t {
  uint64_t data[32];
};
using cublasLtMatmulDesc_t = cublasLtMatmulDescOpaque_t *;
struct cublasLtMatrixLayoutOpaque_t {
  uint64_t data[8];
};
using cublasLtMatrixLayout_t = cublasLtMatrixLayoutOpaque_t *;
struct cublasLtMatmulPreferenceOpaque_t {
  uint64_t data[8];
};
using cublasLtMatmulPreference_t = cublasLtMatmulPreferenceOpaque_t *;
struct cublasLtMatmulAlgo_t {
  uint64_t data[8];
};
struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};

constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr cublasComputeType_t CUBLAS_COMPUTE_32F = 68;
constexpr cublasComputeType_t CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
constexpr cudaDataType CUDA_R_32F = 0;
constexpr cudaDataType CUDA_R_16F = 2;
constexpr cudaDataType CUDA_R_16BF = 14;
constexpr cublasOperation_t CUBLAS_OP_N = 0;
constexpr cublasOperation_t CUBLAS_OP_T = 1;
constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_TRANSA = 3;
constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_TRANSB = 4;
constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_EPILOGUE = 7;
constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8;
constexpr cublasLtMatmulDescAttributes_t CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE = 26;
constexpr cublasLtEpilogue_t CUBLASLT_EPILOGUE_DEFAULT = 1;
constexpr cublasLtEpilogue_t CUBLASLT_EPILOGUE_RELU = 2;
constexpr cublasLtEpilogue_t CUBLASLT_EPILOGUE_BIAS = 4;
constexpr cublasLtEpilogue_t CUBLASLT_EPILOGUE_GELU = 32;
constexpr cublasLtMatmulPreferenceAttributes_t CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;

} // namespace dlc::rt::cuda::api
