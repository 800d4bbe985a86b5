//===- cudnn_api.h - The few cuDNN declarations we use --------------------===//
//
// Internal to runtime/cuda. As cublaslt_api.h does for cuBLASLt: the
// runtime builds without cuDNN, so it declares the types and constants of
// cuDNN 9 (cudnn.h) it needs, spelled as in the real headers, and resolves
// the functions of cudnn_symbols.inc with dlopen/dlsym; abi_cudnn_test.cc
// checks both against cudnn.h where it exists.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda/cublaslt_api.h" // cudaStream_t

#include <cstddef>
#include <cstdint>

namespace dlc::rt::cuda::api {

using cudnnStatus_t = int; // enums in the real headers: int-sized
using cudnnDataType_t = int;
using cudnnTensorFormat_t = int;
using cudnnConvolutionMode_t = int;
using cudnnMathType_t = int;
using cudnnDeterminism_t = int;
using cudnnActivationMode_t = int;
using cudnnNanPropagation_t = int;
using cudnnConvolutionFwdAlgo_t = int;
using cudnnConvolutionBwdDataAlgo_t = int;
using cudnnConvolutionBwdFilterAlgo_t = int;
using cudnnHandle_t = struct cudnnContext *;
using cudnnTensorDescriptor_t = struct cudnnTensorStruct *;
using cudnnFilterDescriptor_t = struct cudnnFilterStruct *;
using cudnnConvolutionDescriptor_t = struct cudnnConvolutionStruct *;
using cudnnActivationDescriptor_t = struct cudnnActivationStruct *;
using cudnnDropoutDescriptor_t = struct cudnnDropoutStruct *;
using cudnnRNNDescriptor_t = struct cudnnRNNStruct *;
using cudnnRNNDataDescriptor_t = struct cudnnRNNDataStruct *;
using cudnnRNNAlgo_t = int;
using cudnnRNNMode_t = int;
using cudnnRNNBiasMode_t = int;
using cudnnDirectionMode_t = int;
using cudnnRNNInputMode_t = int;
using cudnnRNNDataLayout_t = int;
using cudnnForwardMode_t = int;
using cudnnWgradMode_t = int;

/// cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t: one layout for the
/// three, whose algo enums are int-sized.
struct cudnnConvolutionAlgoPerf_t {
  int algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};
using cudnnConvolutionFwdAlgoPerf_t = cudnnConvolutionAlgoPerf_t;
using cudnnConvolutionBwdDataAlgoPerf_t = cudnnConvolutionAlgoPerf_t;
using cudnnConvolutionBwdFilterAlgoPerf_t = cudnnConvolutionAlgoPerf_t;

constexpr cudnnStatus_t CUDNN_STATUS_SUCCESS = 0;
constexpr cudnnDataType_t CUDNN_DATA_FLOAT = 0;
constexpr cudnnDataType_t CUDNN_DATA_HALF = 2;
constexpr cudnnDataType_t CUDNN_DATA_BFLOAT16 = 9;
constexpr cudnnTensorFormat_t CUDNN_TENSOR_NHWC = 1;
constexpr cudnnConvolutionMode_t CUDNN_CROSS_CORRELATION = 1;
constexpr cudnnMathType_t CUDNN_DEFAULT_MATH = 0;
constexpr cudnnMathType_t CUDNN_TENSOR_OP_MATH = 1;
constexpr cudnnMathType_t CUDNN_FMA_MATH = 3;
constexpr cudnnDeterminism_t CUDNN_DETERMINISTIC = 1;
constexpr cudnnActivationMode_t CUDNN_ACTIVATION_RELU = 1;
constexpr cudnnNanPropagation_t CUDNN_PROPAGATE_NAN = 1;
constexpr cudnnDataType_t CUDNN_DATA_INT32 = 4;
constexpr cudnnRNNAlgo_t CUDNN_RNN_ALGO_STANDARD = 0;
constexpr cudnnRNNMode_t CUDNN_LSTM = 2;
constexpr cudnnRNNBiasMode_t CUDNN_RNN_NO_BIAS = 0;
constexpr cudnnRNNBiasMode_t CUDNN_RNN_SINGLE_INP_BIAS = 1;
constexpr cudnnDirectionMode_t CUDNN_UNIDIRECTIONAL = 0;
constexpr cudnnRNNInputMode_t CUDNN_LINEAR_INPUT = 0;
constexpr cudnnRNNDataLayout_t CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED = 2;
// A macro in cudnn.h, hence not its name here.
constexpr unsigned kRnnPaddedIoDisabled = 0;
constexpr cudnnForwardMode_t CUDNN_FWD_MODE_INFERENCE = 0;
constexpr cudnnForwardMode_t CUDNN_FWD_MODE_TRAINING = 1;
constexpr cudnnWgradMode_t CUDNN_WGRAD_MODE_ADD = 0;

} // namespace dlc::rt::cuda::api
