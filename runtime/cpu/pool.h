//===- pool.h - 2-D pooling and its gradients on the CPU ------------------===//
//
// Keras' pooling on NHWC tensors with the reference evaluator's semantics:
// TF `same` padding, padded positions never part of a window (average pools
// divide by the number of real elements), and max-pool gradients routed to
// the first maximum of each window in row-major window order (TensorFlow's
// tie-break), accumulated where windows overlap. Hand-written loops,
// vectorised over channels, OpenMP over batch and rows.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>

namespace dlc::rt::cpu {

struct PoolGeometry {
  int64_t batch = 0, inH = 0, inW = 0, channels = 0;
  int64_t windowH = 0, windowW = 0, strideH = 1, strideW = 1;
  int64_t outH = 0, outW = 0;
  int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
};

/// Fills |geometry| for an NHWC input [batch, inH, inW, channels].
Status makePoolGeometry(int64_t batch, int64_t inH, int64_t inW, int64_t channels,
                        int64_t windowH, int64_t windowW, int64_t strideH, int64_t strideW,
                        bool same, PoolGeometry *geometry);

/// x [N, inH, inW, C] -> y [N, outH, outW, C].
Status maxPool2d(const PoolGeometry &g, const TensorView &x, const TensorView &y);
Status avgPool2d(const PoolGeometry &g, const TensorView &x, const TensorView &y);
/// dx [N, inH, inW, C] from the forward input x and dy [N, outH, outW, C].
Status maxPool2dGrad(const PoolGeometry &g, const TensorView &x, const TensorView &dy,
                     const TensorView &dx);
/// The fused backward of relu -> max_pool2d (-> bias): max_pool2d_grad, then
/// relu_grad on the pool's input x (a relu output), and with |dbias| the
/// sum of the result over every axis but channels, in one pass.
Status maxPool2dGradRelu(const PoolGeometry &g, const TensorView &x, const TensorView &dy,
                         const TensorView &dx, const TensorView *dbias);
Status avgPool2dGrad(const PoolGeometry &g, const TensorView &dy, const TensorView &dx);

/// x [N, H, W, C] -> y [N, C].
Status globalMaxPool2d(const TensorView &x, const TensorView &y);
Status globalAvgPool2d(const TensorView &x, const TensorView &y);
/// dx [N, H, W, C] from dy [N, C] (and the forward input x for max).
Status globalMaxPool2dGrad(const TensorView &x, const TensorView &dy, const TensorView &dx);
Status globalAvgPool2dGrad(const TensorView &dy, const TensorView &dx);

} // namespace dlc::rt::cpu
