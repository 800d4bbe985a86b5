//===- convolution.h - The library routine "convolution": its contract ----===//
//
// A LibraryCall (runtime/schemas/bundle.fbs) of library cudnn and routine
// "convolution" computes one of dl.conv2d, dl.conv2d_grad_input and
// dl.conv2d_grad_kernel over buffers as the compiler lays them out: the
// input x [n, h, w, c] and the output y [n, p, q, k] in NHWC, the filter
// [r, s, c, k] (HWIO), in one type (f32, f16 or bf16). With stride,
// dilation and a padding of pad_h rows above and below and pad_w columns
// left and right (cuDNN's padding is symmetric), output row i reads input
// rows i * stride_h - pad_h + j * dilation_h, j < r, where they exist.
//
//   direction forward:     y  = epilogue(conv(x, w) + bias)   args x, w, [bias], y, scratch
//   direction grad_input:  dx = d conv / d x, given dy          args dy, w, dx, scratch
//   direction grad_kernel: dw = d conv / d w, given x and dy    args x, dy, dw, scratch
//
// The bias is [k] (forward only, when bias is 1); the epilogue is none or
// relu (forward only). Products and sums run in f32 (with tf32 1, the two
// operands the direction reads are f32 rounded to TF32 first:
// runtime/tf32.h), and each result is rounded once to the type. The scratch is the call's own: at
// least the filter's bytes, which the GPU fills with the filter in cuDNN's
// [k, r, s, c] layout; its contents before and after are undefined. With
// deterministic 1, every algorithm sums in an order fixed for its shape.
// The descriptor's ints: n, h, w, c, k, r, s, p, q, stride_h, stride_w,
// pad_h, pad_w, dilation_h, dilation_w, bias, deterministic, tf32; texts:
// direction, epilogue.
//
// The GPU runs it with cuDNN (cudnn.h), the emulation with
// referenceConvolution below: the same contract, summed in another order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>

namespace dlc::rt::cuda {

enum class ConvolutionDirection { kForward, kGradInput, kGradKernel };
enum class ConvolutionEpilogue { kNone, kRelu };

struct ConvolutionCall {
  ConvolutionDirection direction = ConvolutionDirection::kForward;
  int64_t n = 0, h = 0, w = 0, c = 0; // the input
  int64_t k = 0, r = 0, s = 0;        // output channels; the filter's height and width
  int64_t p = 0, q = 0;               // the output's height and width
  int64_t strideH = 1, strideW = 1, padH = 0, padW = 0, dilationH = 1, dilationW = 1;
  bool bias = false, deterministic = false;
  bool tf32 = false; // f32 operands read rounded to TF32 (runtime/tf32.h)
  ConvolutionEpilogue epilogue = ConvolutionEpilogue::kNone;
  DType type = DType::kF32;
  /// The program's buffers by role, whichever the direction computes: the
  /// input (x or dx), the filter (w or dw), the output (y or dy), the bias
  /// (forward with a bias), the scratch.
  uint32_t input = 0, filter = 0, output = 0, biasBuffer = 0, scratch = 0;

  int64_t inputElements() const { return n * h * w * c; }
  int64_t filterElements() const { return r * s * c * k; }
  int64_t outputElements() const { return n * p * q * k; }
};

/// The routine names and texts of the contract, stated once.
inline constexpr const char *kConvolutionRoutine = "convolution";
const char *convolutionDirectionName(ConvolutionDirection d);
const char *convolutionEpilogueName(ConvolutionEpilogue e);

/// |call| (of |program|) as a ConvolutionCall: kInvalidArgument saying what
/// is wrong when it is not one the contract allows.
Status parseConvolution(const fb::LibraryCall &call, const fb::Program &program, ConvolutionCall *out);

/// Device addresses (or the emulation's host pointers) of a call's buffers
/// by role; |bias| is null without one.
template <typename Pointer> struct ConvolutionBuffers {
  Pointer input{}, filter{}, output{}, bias{}, scratch{};
};

/// The contract computed on the host, over host memory (the emulation's
/// device memory): writes the direction's result, sums in f32.
void referenceConvolution(const ConvolutionCall &call, const ConvolutionBuffers<void *> &buffers);

} // namespace dlc::rt::cuda
