//===- abi_test.cc - cuda_api.h and the symbol tables against real headers -===//
//
// Built only where <cuda.h> and <nvrtc.h> exist (runtime/CMakeLists.txt).
// The runtime declares the CUDA types and functions it uses itself so that it
// builds without CUDA; this file proves those declarations match the real
// headers: every X-macro entry is expanded at global scope, where its type
// names resolve to cuda.h's, and its function pointer type is compared with
// the declared function's. A wrong parameter type fails to compile here.
//
//===----------------------------------------------------------------------===//
#include <cublasLt.h>
#include <cuda.h>
#include <nvrtc.h>

#include "runtime/cuda/cublaslt_api.h"
#include "runtime/cuda/cuda_api.h"

#include <cstddef>

#include <gtest/gtest.h>

#include <type_traits>

#define DLC_CU_SYMBOL(name, params)                                                                \
  static_assert(std::is_same_v<decltype(&::name), CUresult(*) params>,                             \
                #name " in cuda_symbols.inc does not match cuda.h");
#include "runtime/cuda/cuda_symbols.inc"

#define DLC_NVRTC_SYMBOL(ret, name, params)                                                        \
  static_assert(std::is_same_v<decltype(&::name), ret(*) params>,                                  \
                #name " in nvrtc_symbols.inc does not match nvrtc.h");
#include "runtime/cuda/nvrtc_symbols.inc"

#define DLC_CUBLASLT_SYMBOL(ret, name, params)                                                     \
  static_assert(std::is_same_v<decltype(&::name), ret(*) params>,                                  \
                #name " in cublaslt_symbols.inc does not match cublasLt.h");
#include "runtime/cuda/cublaslt_symbols.inc"

namespace api = dlc::rt::cuda::api;

// cuBLASLt's semi-opaque structs: our stand-ins have their size and layout.
static_assert(sizeof(api::cublasLtMatmulDescOpaque_t) == sizeof(::cublasLtMatmulDescOpaque_t));
static_assert(sizeof(api::cublasLtMatrixLayoutOpaque_t) == sizeof(::cublasLtMatrixLayoutOpaque_t));
static_assert(sizeof(api::cublasLtMatmulPreferenceOpaque_t) == sizeof(::cublasLtMatmulPreferenceOpaque_t));
static_assert(sizeof(api::cublasLtMatmulAlgo_t) == sizeof(::cublasLtMatmulAlgo_t));
static_assert(sizeof(api::cublasLtMatmulHeuristicResult_t) == sizeof(::cublasLtMatmulHeuristicResult_t));
static_assert(offsetof(api::cublasLtMatmulHeuristicResult_t, workspaceSize) ==
              offsetof(::cublasLtMatmulHeuristicResult_t, workspaceSize));
static_assert(offsetof(api::cublasLtMatmulHeuristicResult_t, state) ==
              offsetof(::cublasLtMatmulHeuristicResult_t, state));
static_assert(sizeof(api::cublasStatus_t) == sizeof(::cublasStatus_t));
static_assert(sizeof(api::cublasLtEpilogue_t) == sizeof(::cublasLtEpilogue_t));
static_assert(sizeof(api::cudaDataType) == sizeof(::cudaDataType));

// Our stand-ins have the real types' size (an enum is an int here).
static_assert(sizeof(api::CUresult) == sizeof(::CUresult));
static_assert(sizeof(api::CUdevice) == sizeof(::CUdevice));
static_assert(std::is_same_v<api::CUdeviceptr, ::CUdeviceptr>);
static_assert(sizeof(api::CUdevice_attribute) == sizeof(::CUdevice_attribute));
static_assert(sizeof(api::CUfunction_attribute) == sizeof(::CUfunction_attribute));
static_assert(sizeof(api::CUjit_option) == sizeof(::CUjit_option));
static_assert(sizeof(api::CUstreamCaptureMode) == sizeof(::CUstreamCaptureMode));
static_assert(sizeof(api::nvrtcResult) == sizeof(::nvrtcResult));

#define DLC_SAME_CONSTANT(name) static_assert(api::name == static_cast<int>(::name), #name);
DLC_SAME_CONSTANT(CUDA_SUCCESS)
DLC_SAME_CONSTANT(CUDA_ERROR_INVALID_VALUE)
DLC_SAME_CONSTANT(CUDA_ERROR_OUT_OF_MEMORY)
DLC_SAME_CONSTANT(CUDA_ERROR_NOT_INITIALIZED)
DLC_SAME_CONSTANT(CUDA_ERROR_DEINITIALIZED)
DLC_SAME_CONSTANT(CUDA_ERROR_STUB_LIBRARY)
DLC_SAME_CONSTANT(CUDA_ERROR_NO_DEVICE)
DLC_SAME_CONSTANT(CUDA_ERROR_INVALID_DEVICE)
DLC_SAME_CONSTANT(CUDA_ERROR_INVALID_IMAGE)
DLC_SAME_CONSTANT(CUDA_ERROR_NO_BINARY_FOR_GPU)
DLC_SAME_CONSTANT(CUDA_ERROR_INVALID_PTX)
DLC_SAME_CONSTANT(CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
DLC_SAME_CONSTANT(CUDA_ERROR_INVALID_HANDLE)
DLC_SAME_CONSTANT(CUDA_ERROR_NOT_FOUND)
DLC_SAME_CONSTANT(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)
DLC_SAME_CONSTANT(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
DLC_SAME_CONSTANT(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK)
DLC_SAME_CONSTANT(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
DLC_SAME_CONSTANT(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
DLC_SAME_CONSTANT(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
DLC_SAME_CONSTANT(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_NUM_REGS)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_PTX_VERSION)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_BINARY_VERSION)
DLC_SAME_CONSTANT(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
DLC_SAME_CONSTANT(CU_JIT_INFO_LOG_BUFFER)
DLC_SAME_CONSTANT(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES)
DLC_SAME_CONSTANT(CU_JIT_ERROR_LOG_BUFFER)
DLC_SAME_CONSTANT(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
DLC_SAME_CONSTANT(CU_STREAM_NON_BLOCKING)
DLC_SAME_CONSTANT(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
DLC_SAME_CONSTANT(CU_EVENT_DISABLE_TIMING)
DLC_SAME_CONSTANT(NVRTC_SUCCESS)
DLC_SAME_CONSTANT(NVRTC_ERROR_OUT_OF_MEMORY)
DLC_SAME_CONSTANT(NVRTC_ERROR_INVALID_OPTION)
DLC_SAME_CONSTANT(NVRTC_ERROR_COMPILATION)
DLC_SAME_CONSTANT(CUBLAS_STATUS_SUCCESS)
DLC_SAME_CONSTANT(CUBLAS_COMPUTE_32F)
DLC_SAME_CONSTANT(CUBLAS_COMPUTE_32F_FAST_TF32)
DLC_SAME_CONSTANT(CUDA_R_32F)
DLC_SAME_CONSTANT(CUDA_R_16F)
DLC_SAME_CONSTANT(CUDA_R_16BF)
DLC_SAME_CONSTANT(CUBLAS_OP_N)
DLC_SAME_CONSTANT(CUBLAS_OP_T)
DLC_SAME_CONSTANT(CUBLASLT_MATMUL_DESC_TRANSA)
DLC_SAME_CONSTANT(CUBLASLT_MATMUL_DESC_TRANSB)
DLC_SAME_CONSTANT(CUBLASLT_MATMUL_DESC_EPILOGUE)
DLC_SAME_CONSTANT(CUBLASLT_MATMUL_DESC_BIAS_POINTER)
DLC_SAME_CONSTANT(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE)
DLC_SAME_CONSTANT(CUBLASLT_EPILOGUE_DEFAULT)
DLC_SAME_CONSTANT(CUBLASLT_EPILOGUE_RELU)
DLC_SAME_CONSTANT(CUBLASLT_EPILOGUE_BIAS)
DLC_SAME_CONSTANT(CUBLASLT_EPILOGUE_GELU)
DLC_SAME_CONSTANT(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES)
static_assert((api::CUBLASLT_EPILOGUE_RELU | api::CUBLASLT_EPILOGUE_BIAS) == ::CUBLASLT_EPILOGUE_RELU_BIAS);
static_assert((api::CUBLASLT_EPILOGUE_GELU | api::CUBLASLT_EPILOGUE_BIAS) == ::CUBLASLT_EPILOGUE_GELU_BIAS);
#undef DLC_SAME_CONSTANT

// The checks are all compile-time; this records in the test log that they ran.
TEST(CudaAbi, DeclarationsMatchTheCudaHeaders) { SUCCEED(); }
