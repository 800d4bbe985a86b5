//===- cudnn.h - cuDNN, loaded at run time, for "convolution" calls -------===//
//
// The GPU runs the library routine "convolution" (convolution.h) with
// cuDNN 9's convolution API, loaded with dlopen like the driver: the
// runtime starts without it, and a bundle that calls it fails to prepare,
// saying what was tried: $DLC_CUDNN_LIBRARY, libcudnn.so.9, where the
// toolkit may be (toolkit_library.h).
//
// The activations are NHWC, which cuDNN takes as they are. Our filters are
// HWIO ([r, s, c, k]) and cuDNN's NHWC filters are [k, r, s, c]: a call
// first transposes the filter into its scratch with cudnnTransformTensor
// (the source described by HWIO's strides), and grad_kernel computes into
// the scratch, then transposes into the result. The bias and the relu of a
// forward call run as cudnnAddTensor and cudnnActivationForward in place.
// f32 convolutions run in FMA math, or in cuDNN's default math (TF32
// tensor cores) when the call says tf32; f16 and bf16 on tensor cores,
// summing in f32. How cuDNN reads f32 as TF32 is its own (rounded or
// truncated): within one TF32 unit per operand of the contract's rounding. The algorithm is cuDNN's heuristic's first that fits the
// workspace (and sums in a fixed order, for deterministic calls).
//
// The routine "lstm" (lstm.h) runs as cuDNN's RNN (v8 API: one layer,
// unidirectional, one input bias, batch-major unpadded data, the state
// starting at zero). cuDNN keeps the weights in its own weight space, a
// [u, f] or [u, u] row-major matrix and a [u] bias per gate in Keras' gate
// order: each call transposes our kernel columns into it, and the gradient
// transposes the weight space's gradient back. The gradient runs the
// forward pass again in training mode (its reserve space the plan's own),
// then the data and weight gradients. The plan owns that device memory.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cuda/convolution.h"
#include "runtime/cuda/cuda_driver.h"
#include "runtime/cuda/lstm.h"

#include <functional>
#include <memory>
#include <string>

namespace dlc::rt::cuda {

class Cudnn {
public:
  /// The process's cuDNN, loaded once; kUnavailable naming every file tried
  /// when there is none.
  static Status instance(const Cudnn **out);
  /// "cuDNN 91900 (/usr/local/cuda/lib64/libcudnn.so.9)".
  std::string describe() const;

  /// One prepared call: its descriptors and the algorithm chosen.
  struct Plan;
  struct PlanDeleter {
    void operator()(Plan *plan) const; // its descriptors; cuDNN stays loaded
  };
  using PlanPtr = std::unique_ptr<Plan, PlanDeleter>;
  /// Prepares |call| on the current context (cuDNN's handle is made the
  /// first time), choosing an algorithm that needs at most |workspaceBytes|.
  Status plan(const ConvolutionCall &call, size_t workspaceBytes, PlanPtr *out) const;
  /// Queues |plan| on |stream| (a CUstream), its buffers at these device
  /// addresses, with |workspace| of the size it was planned for.
  Status run(const Plan &plan, const ConvolutionBuffers<DevicePtr> &buffers, DevicePtr workspace,
             void *stream) const;

  /// One prepared "lstm" call: its descriptors, where each gate's weights
  /// lie in cuDNN's weight space, and the device memory it uses.
  struct LstmPlan;
  struct LstmPlanDeleter {
    void operator()(LstmPlan *plan) const;
  };
  using LstmPlanPtr = std::unique_ptr<LstmPlan, LstmPlanDeleter>;
  /// Device memory for a plan, kept by the caller as long as the plan.
  using Allocate = std::function<Status(size_t bytes, DevicePtr *out)>;
  Status planLstm(const LstmCall &call, const Allocate &allocate, LstmPlanPtr *out) const;
  Status runLstm(const LstmPlan &plan, const LstmBuffers<DevicePtr> &buffers, void *stream) const;

  struct Symbols; // the dlsym'd function table (cudnn.cc)

private:
  Cudnn() = default;
  const Symbols *symbols_ = nullptr;
  std::string path_;
};

} // namespace dlc::rt::cuda
