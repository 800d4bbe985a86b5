//===- GradKernels.h - Backward computations of the dl ops in float64 ----===//
//
// The gradient of each forward kernel of Kernels.h with respect to its
// inputs, given the gradient |dy| of its output (same shape as the output).
// Like the forward kernels: plain loops, Keras semantics, no cleverness; they
// are checked against central finite differences of the forward kernels.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/Kernels.h"

namespace dlc::ref {

/// d(conv2d)/d(input): |inputSize| is the forward input's (H, W), which strides
/// alone do not determine. Result [N, H, W, C].
RefTensor conv2dGradInput(const RefTensor &dy, const RefTensor &kernel, Pair inputSize,
                          Pair strides, bool same, Pair dilation);
/// d(conv2d)/d(kernel): result [kh, kw, C, F] for |kernelSize| = (kh, kw).
RefTensor conv2dGradKernel(const RefTensor &x, const RefTensor &dy, Pair kernelSize,
                           Pair strides, bool same, Pair dilation);
/// d(bias) of conv2d and dense: dy summed over every axis but the last.
RefTensor biasGrad(const RefTensor &dy);

/// d(dense)/d(input) = dy · kernelᵀ, any leading shape.
RefTensor denseGradInput(const RefTensor &dy, const RefTensor &kernel);
/// d(dense)/d(kernel) = xᵀ · dy summed over every leading position: [in, units].
RefTensor denseGradKernel(const RefTensor &x, const RefTensor &dy);

/// Routes each window's gradient to the first maximum of the window (in
/// row-major window order), as TensorFlow does; windows may overlap.
RefTensor maxPool2dGrad(const RefTensor &x, const RefTensor &dy, Pair window, Pair strides,
                        bool same);
/// Spreads each window's gradient evenly over its real (unpadded) elements.
RefTensor avgPool2dGrad(const RefTensor &dy, Pair inputSize, Pair window, Pair strides,
                        bool same);
RefTensor globalMaxPool2dGrad(const RefTensor &x, const RefTensor &dy);
RefTensor globalAvgPool2dGrad(const RefTensor &dy, Pair inputSize);

/// Elementwise activations. |saved| is the forward input x for Relu, Gelu,
/// GeluTanh and LeakyRelu, and the forward output y for Sigmoid and Tanh (the
/// cheaper form each backend uses too).
RefTensor unaryGrad(const RefTensor &saved, const RefTensor &dy, Unary kind, double slope = 0.0);
/// From the forward output y: dx = y * (dy - sum(dy * y, axis)).
RefTensor softmaxGrad(const RefTensor &y, const RefTensor &dy, int64_t axis);

/// Training-mode batch normalization: gradients of x, gamma and beta
/// (|gamma| may be null: scale = 1). Batch statistics are recomputed from x.
struct BatchNormGrads {
  RefTensor dx, dgamma, dbeta;
};
BatchNormGrads batchNormGrad(const RefTensor &x, const RefTensor *gamma, const RefTensor &dy,
                             int64_t axis, double epsilon);

/// Inference-mode batch normalization (a frozen layer): dx = dy * gamma /
/// sqrt(variance + epsilon) along |axis| (|gamma| may be null: scale = 1).
RefTensor batchNormInferenceGrad(const RefTensor &dy, const RefTensor *gamma,
                                 const RefTensor &variance, int64_t axis, double epsilon);

/// Scatter-adds the rows of dy into a [rows, width] table gradient.
RefTensor embeddingGrad(const RefTensor &ids, const RefTensor &dy, int64_t rows);

/// Backpropagation through time for lstm() (recomputes the forward states).
struct LstmGrads {
  RefTensor dx, dkernel, drecurrent, dbias;
};
LstmGrads lstmGrad(const RefTensor &x, const RefTensor &kernel, const RefTensor &recurrent,
                   const RefTensor *bias, const RefTensor &dy, bool returnSequences);

/// The inverse of concat(): the part of |dy| at [start, start + size) along |axis|.
RefTensor slice(const RefTensor &dy, int64_t axis, int64_t start, int64_t size);

//===----------------------------------------------------------------------===//
// Losses: the mean over the batch of a per-example loss, as Keras reduces.
//===----------------------------------------------------------------------===//

enum class LossKind { CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError };

struct LossOptions {
  LossKind kind;
  bool fromLogits = false;
  double labelSmoothing = 0.0;
};

/// Keras' losses on predictions [N, ..., C] (probabilities, or logits with
/// fromLogits) and labels (one-hot/probabilities of the same shape, or class
/// ids [N, ...] for the sparse loss). Cross-entropies on probabilities clip
/// them to [1e-7, 1 - 1e-7] as Keras does; on logits they use log-softmax /
/// log-sigmoid and never overflow. mse averages over the last axis too.
double loss(const RefTensor &prediction, const RefTensor &labels, const LossOptions &options);
/// The loss of each example of predictions [N, C] or [N, positions..., C]
/// (the mean over its positions): the terms of loss()'s mean.
RefTensor exampleLosses(const RefTensor &prediction, const RefTensor &labels,
                        const LossOptions &options);
/// dl.metric's score of each example of predictions [N, C] (rule "top_k"
/// or "binary"; labels one-hot [N, C], ids [N] (integer), or binary [N, C]),
/// or of [N, positions..., C] (the mean over its positions; labels likewise).
RefTensor metricScores(const RefTensor &prediction, const RefTensor &labels, const std::string &rule,
                       int64_t k, double threshold);
/// d(loss)/d(prediction), same shape as prediction.
RefTensor lossGrad(const RefTensor &prediction, const RefTensor &labels, const LossOptions &options);
/// "" unless a sparse loss's labels hold an id outside [0, classes) (or not
/// a whole number): then what the first such id is, and its row.
std::string classIdError(const RefTensor &prediction, const RefTensor &labels,
                         const LossOptions &options);

} // namespace dlc::ref
