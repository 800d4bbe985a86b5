//===- dense.h - Dense layers and their gradients on the CPU --------------===//
//
// Keras' Dense: y = act(x · kernel + bias) with kernel [in, units] and x of
// any rank >= 2 (leading dimensions are rows). The product goes through
// cpu::sgemm; bias and activation are one pass over y afterwards, so a layer
// reads its output once more, not twice.
//
// Epilogues apply the CPU's one definition of each activation
// (elementwise.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"
#include "runtime/tensor.h"
#include "runtime/cpu/elementwise.h"

#include <cstdint>

namespace dlc::rt::cpu {

/// The activation fused after a layer's bias. Its backward is the caller's
/// business: a layer's grad entry points take the gradient of the
/// pre-activation value.
struct Epilogue {
  Activation activation = Activation::kNone;
  float slope = 0.0f; ///< LeakyRelu only.
};

/// Applies |epilogue| in place to |n| floats (no bias).
/// kInvalidArgument unless |t| is f32 of shape |want| with data (a shared
/// check of every kernel's operands; |what| names the operand).
Status checkView(const TensorView &t, const std::vector<int64_t> &want, const char *what);

void applyActivation(float *data, int64_t n, Epilogue epilogue);

/// y[..., units] = act(x[..., in] · kernel[in, units] + bias[units]);
/// |bias| may be null. All f32; y must not alias x.
Status denseForward(const TensorView &x, const TensorView &kernel, const TensorView *bias,
                    Epilogue epilogue, const TensorView &y);

/// dx[..., in] = dy[..., units] · kernelᵀ.
Status denseGradInput(const TensorView &dy, const TensorView &kernel, const TensorView &dx);

/// dkernel[in, units] = xᵀ · dy over every leading position.
Status denseGradKernel(const TensorView &x, const TensorView &dy, const TensorView &dkernel);

/// db[units] = dy summed over every axis but the last (dense and conv bias).
Status biasGrad(const TensorView &dy, const TensorView &db);

} // namespace dlc::rt::cpu
