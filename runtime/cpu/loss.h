//===- loss.h - Keras losses and the trainer's accuracy counts ------------===//
//
// dl.loss and dl.loss_grad in float32, with ref::loss / ref::lossGrad's
// semantics (compiler/Reference/GradKernels.cpp has the formulas): Keras'
// clipping of probabilities to [1e-7, 1 - 1e-7], log-softmax / log-sigmoid on
// logits, label smoothing, and the mean over every per-example loss. The
// scalar is accumulated in double, so a batch of thousands of rows loses no
// precision to the sum.
//
// Predictions are [rows, classes] (any leading shape flattened into rows).
// Labels are f32 of the same shape, or for the sparse loss class ids [rows]
// as i32, i64 (or f32, truncated like the reference). A sparse id outside
// [0, classes) contributes an all-zero label row, as in the reference.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/settings.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>

namespace dlc::rt::cpu {

/// The decoded loss (runtime/settings.h), shared with the trainer and the
/// CUDA emitter.
using rt::LossKind;
using LossOptions = rt::LossSettings;

/// The mean loss into |value| and/or d(loss)/d(prediction) into |grad|
/// ([rows, classes]); either may be null, and computing both in one call
/// shares the exponentials. kInvalidArgument for labels of a dtype the loss
/// does not take.
Status loss(const float *prediction, const void *labels, DType labelType, int64_t rows,
            int64_t classes, const LossOptions &options, double *value, float *grad = nullptr);

/// loss() for the gradient alone (dl.loss_grad).
inline Status lossGrad(const float *prediction, const void *labels, DType labelType,
                       int64_t rows, int64_t classes, const LossOptions &options, float *grad) {
  return loss(prediction, labels, labelType, rows, classes, options, nullptr, grad);
}

//===----------------------------------------------------------------------===//
// Metrics: counts over a batch, which the trainer sums and divides itself.
//===----------------------------------------------------------------------===//

/// Rows whose first maximal prediction is the label's class (Keras'
/// categorical / sparse_categorical accuracy): with |sparseLabels| the
/// labels are ids [rows] (i32, i64 or f32), else f32 [rows, classes] whose
/// first maximum is the class.
Status countTop1Correct(const float *prediction, const void *labels, DType labelType,
                        int64_t rows, int64_t classes, bool sparseLabels, int64_t *correct);

/// Rows whose label class is among the |k| largest predictions, with
/// tf.math.in_top_k's ties (fewer than k predictions strictly greater than
/// the class's own; a non-finite one never counts). Keras'
/// (sparse_)top_k_categorical_accuracy. Labels as countTop1Correct.
Status countTopKCorrect(const float *prediction, const void *labels, DType labelType,
                        int64_t rows, int64_t classes, bool sparseLabels, int64_t k,
                        int64_t *correct);

/// Elements where float(prediction > threshold) equals the label (Keras'
/// binary_accuracy; labels f32, i32 or i64 of |n| elements).
Status countBinaryCorrect(const float *prediction, const void *labels, DType labelType,
                          int64_t n, int64_t *correct, float threshold = 0.5f);

} // namespace dlc::rt::cpu
