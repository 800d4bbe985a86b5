//===- abi_cudnn_test.cc - cudnn_api.h and its symbols against cudnn.h ----===//
//
// Built only where <cudnn.h> exists (runtime/CMakeLists.txt), as
// abi_test.cc is for the driver, NVRTC and cuBLASLt: every entry of
// cudnn_symbols.inc is expanded at global scope, where its type names
// resolve to cudnn.h's, and its function pointer type is compared with the
// declared function's; the constants and the perf struct's layout are
// compared with the real ones. The legacy convolution API we call is
// deprecated in cuDNN 9, so this file silences that warning.
//
//===----------------------------------------------------------------------===//
#include <cudnn.h>

#include "runtime/cuda/cudnn_api.h"

#include <cstddef>

#include <gtest/gtest.h>

#include <type_traits>

#define DLC_CUDNN_SYMBOL(ret, name, params)                                                        \
  static_assert(std::is_same_v<decltype(&::name), ret(*) params>,                                  \
                #name " in cudnn_symbols.inc does not match cudnn.h");
#include "runtime/cuda/cudnn_symbols.inc"

namespace api = dlc::rt::cuda::api;

// One stand-in serves the three perf structs: each has its layout.
#define DLC_SAME_PERF_LAYOUT(real)                                                                 \
  static_assert(sizeof(api::cudnnConvolutionAlgoPerf_t) == sizeof(::real), #real);                 \
  static_assert(offsetof(api::cudnnConvolutionAlgoPerf_t, status) == offsetof(::real, status), #real); \
  static_assert(offsetof(api::cudnnConvolutionAlgoPerf_t, memory) == offsetof(::real, memory), #real); \
  static_assert(offsetof(api::cudnnConvolutionAlgoPerf_t, determinism) == offsetof(::real, determinism), #real); \
  static_assert(offsetof(api::cudnnConvolutionAlgoPerf_t, mathType) == offsetof(::real, mathType), #real); \
  static_assert(sizeof(::real::algo) == sizeof(int), #real);
DLC_SAME_PERF_LAYOUT(cudnnConvolutionFwdAlgoPerf_t)
DLC_SAME_PERF_LAYOUT(cudnnConvolutionBwdDataAlgoPerf_t)
DLC_SAME_PERF_LAYOUT(cudnnConvolutionBwdFilterAlgoPerf_t)
#undef DLC_SAME_PERF_LAYOUT
static_assert(sizeof(api::cudnnStatus_t) == sizeof(::cudnnStatus_t));
static_assert(sizeof(api::cudnnDataType_t) == sizeof(::cudnnDataType_t));

#define DLC_SAME_CONSTANT(name) static_assert(api::name == static_cast<int>(::name), #name);
DLC_SAME_CONSTANT(CUDNN_STATUS_SUCCESS)
DLC_SAME_CONSTANT(CUDNN_DATA_FLOAT)
DLC_SAME_CONSTANT(CUDNN_DATA_HALF)
DLC_SAME_CONSTANT(CUDNN_DATA_BFLOAT16)
DLC_SAME_CONSTANT(CUDNN_TENSOR_NHWC)
DLC_SAME_CONSTANT(CUDNN_CROSS_CORRELATION)
DLC_SAME_CONSTANT(CUDNN_DEFAULT_MATH)
DLC_SAME_CONSTANT(CUDNN_TENSOR_OP_MATH)
DLC_SAME_CONSTANT(CUDNN_FMA_MATH)
DLC_SAME_CONSTANT(CUDNN_DETERMINISTIC)
DLC_SAME_CONSTANT(CUDNN_ACTIVATION_RELU)
DLC_SAME_CONSTANT(CUDNN_PROPAGATE_NAN)
DLC_SAME_CONSTANT(CUDNN_DATA_INT32)
DLC_SAME_CONSTANT(CUDNN_RNN_ALGO_STANDARD)
DLC_SAME_CONSTANT(CUDNN_LSTM)
DLC_SAME_CONSTANT(CUDNN_RNN_NO_BIAS)
DLC_SAME_CONSTANT(CUDNN_RNN_SINGLE_INP_BIAS)
DLC_SAME_CONSTANT(CUDNN_UNIDIRECTIONAL)
DLC_SAME_CONSTANT(CUDNN_LINEAR_INPUT)
DLC_SAME_CONSTANT(CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED)
static_assert(api::kRnnPaddedIoDisabled == CUDNN_RNN_PADDED_IO_DISABLED);
DLC_SAME_CONSTANT(CUDNN_FWD_MODE_INFERENCE)
DLC_SAME_CONSTANT(CUDNN_FWD_MODE_TRAINING)
DLC_SAME_CONSTANT(CUDNN_WGRAD_MODE_ADD)
#undef DLC_SAME_CONSTANT

// The checks are all compile-time; this records in the test log that they ran.
TEST(CudnnAbi, DeclarationsMatchCudnnH) { SUCCEED(); }
