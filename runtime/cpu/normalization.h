//===- normalization.h - Batch normalization forward, backward, statistics ===//
//
// float32 kernels of dl.batch_norm (inference and training mode),
// dl.batch_norm_grad, dl.batch_norm_inference_grad and
// dl.batch_norm_statistics_update, equal to ref::batchNormInference /
// batchNormTraining / batchNormGrad / batchNormInferenceGrad and the
// evaluator's moving-average rule. The tensor is seen as [outer, channels,
// inner] around the normalized axis (AxisDims; channels-last has inner 1);
// statistics are over everything but the channel.
//
// Batch statistics are accumulated in double, two-pass (mean, then squared
// deviations) like the reference, over a fixed split of the rows: the result
// does not depend on the number of threads. Every kernel takes a scratch of
// batchNormScratchBytes(channels) bytes, 8-byte aligned. gamma and beta may
// be null (scale 1, offset 0).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cpu/elementwise.h"

#include <cstddef>
#include <cstdint>

namespace dlc::rt::cpu {

size_t batchNormScratchBytes(int64_t channels);

/// y = (x - mean) * gamma / sqrt(variance + epsilon) + beta with the moving
/// statistics.
void batchNormInference(const float *x, const float *gamma, const float *beta, const float *mean,
                        const float *variance, AxisDims dims, double epsilon, float *y,
                        void *scratch);

/// Normalizes with the batch's mean and biased variance, which also go to
/// |batchMean| / |batchVariance| ([channels]) when they are non-null.
void batchNormTraining(const float *x, const float *gamma, const float *beta, AxisDims dims,
                       double epsilon, float *y, float *batchMean, float *batchVariance,
                       void *scratch);

/// Training-mode gradients (statistics recomputed from x): dbeta = sum(dy),
/// dgamma = sum(dy * xhat), dx = gamma / sqrt(var + eps) * (dy - mean(dy) -
/// xhat * mean(dy * xhat)). dgamma and dbeta are written even when gamma is
/// null; either may be null to skip it.
void batchNormGrad(const float *x, const float *gamma, const float *dy, AxisDims dims,
                   double epsilon, float *dx, float *dgamma, float *dbeta, void *scratch);

/// Inference mode (a frozen layer): dx = dy * gamma / sqrt(variance + eps).
void batchNormInferenceGrad(const float *dy, const float *gamma, const float *variance,
                            AxisDims dims, double epsilon, float *dx, void *scratch);

/// Keras' moving statistics: new = moving * momentum + batch * (1 - momentum)
/// for the batch mean and biased variance of x. The outputs may alias the
/// moving inputs (an in-place update).
void batchNormStatisticsUpdate(const float *x, AxisDims dims, double momentum,
                               const float *movingMean, const float *movingVariance,
                               float *newMean, float *newVariance, void *scratch);

} // namespace dlc::rt::cpu
