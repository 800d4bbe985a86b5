//===- Kernels.h - Forward computations of the dl ops in float64 ---------===//
//
// Plain loops that say what each op computes, with Keras' semantics (NHWC,
// TF-style `same` padding, average pooling over real elements only, LSTM gates
// i, f, c, o). They are the oracle every backend is compared with, so they
// favour obviousness over speed. Inputs are assumed verified by the dialect.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/RefTensor.h"

#include <array>
#include <optional>
#include <string>

namespace dlc::ref {

using Pair = std::array<int64_t, 2>;

/// Leading padding and output size of one spatial axis (TF's rule for `same`).
struct WindowAxis {
  int64_t out, padBefore;
};
WindowAxis windowAxis(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same);

RefTensor conv2d(const RefTensor &x, const RefTensor &kernel, const RefTensor *bias, Pair strides,
                 bool same, Pair dilation);
RefTensor maxPool2d(const RefTensor &x, Pair window, Pair strides, bool same);
RefTensor avgPool2d(const RefTensor &x, Pair window, Pair strides, bool same);
RefTensor globalMaxPool2d(const RefTensor &x);
RefTensor globalAvgPool2d(const RefTensor &x);
RefTensor dense(const RefTensor &x, const RefTensor &kernel, const RefTensor *bias);
RefTensor reshape(const RefTensor &x, std::vector<int64_t> shape);

/// Inverted dropout: keeps an element when uniform01(seed, stream, i) >= rate
/// and scales it by 1 / (1 - rate).
RefTensor dropout(const RefTensor &x, double rate, uint64_t seed, uint64_t stream);

/// Normalizes along every axis but |axis|; |gamma| and |beta| may be null.
RefTensor batchNormInference(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                             const RefTensor &mean, const RefTensor &variance, int64_t axis,
                             double epsilon);
/// Training mode: batch statistics (biased variance); |batchMean| and
/// |batchVariance| receive them for the moving-average update.
RefTensor batchNormTraining(const RefTensor &x, const RefTensor *gamma, const RefTensor *beta,
                            int64_t axis, double epsilon, RefTensor *batchMean,
                            RefTensor *batchVariance);

/// Rows of |table| by id; an id outside [0, rows) is reported in |error|.
RefTensor embedding(const RefTensor &ids, const RefTensor &table, std::string *error);
RefTensor lstm(const RefTensor &x, const RefTensor &kernel, const RefTensor &recurrent,
               const RefTensor *bias, bool returnSequences);

enum class Unary { Relu, Sigmoid, Tanh, Gelu, GeluTanh, LeakyRelu };
RefTensor unary(const RefTensor &x, Unary kind, double slope = 0.0);
RefTensor softmax(const RefTensor &x, int64_t axis);
RefTensor logSoftmax(const RefTensor &x, int64_t axis);
RefTensor add(const std::vector<const RefTensor *> &inputs);
RefTensor concat(const std::vector<const RefTensor *> &inputs, int64_t axis);

} // namespace dlc::ref
