//===- conv.h - 2-D convolution on the CPU through oneDNN -----------------===//
//
// Keras' Conv2D: NHWC activations, HWIO kernels [kh, kw, in, filters], TF
// `same` padding (the odd padding element goes at the bottom/right) and
// dilation. A Conv2D object is prepared once per geometry: oneDNN primitive
// creation (JIT code generation) and the weight reorders are built then and
// reused by every run, which matters at small batch where a run is ~100 us.
// Forward and input gradient run oneDNN; the kernel gradient is im2col +
// sgemm, which beat oneDNN 2.6's own on every layer measured.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/cpu/dense.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <memory>

namespace dlc::rt::cpu {

/// Output size and padding of one spatial axis of a window op.
struct WindowPlacement {
  int64_t out = 0, padBefore = 0, padAfter = 0;
};

/// TF's rule (the reference evaluator's windowAxis): `valid` keeps windows
/// inside the input (padAfter 0, a ragged tail is dropped); `same` gives
/// ceil(in / stride) outputs and puts the odd padding element after.
/// Fails when no window fits or an argument is not positive.
Status placeWindow(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same,
                   WindowPlacement *placement);

struct ConvGeometry {
  int64_t batch = 0, inH = 0, inW = 0, inC = 0;
  int64_t kernelH = 0, kernelW = 0, outC = 0;
  int64_t outH = 0, outW = 0;
  int64_t strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
  int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
};

/// Fills |geometry| for an NHWC input [batch, inH, inW, inC] and an HWIO
/// kernel [kernelH, kernelW, inC, outC] with Keras' padding rules.
Status makeConvGeometry(int64_t batch, int64_t inH, int64_t inW, int64_t inC, int64_t kernelH,
                        int64_t kernelW, int64_t outC, int64_t strideH, int64_t strideW,
                        int64_t dilationH, int64_t dilationW, bool same,
                        ConvGeometry *geometry);

/// One convolution geometry's oneDNN primitives. Not safe for concurrent
/// calls on one object (it owns its stream and reorder buffers); distinct
/// objects may run concurrently. Every method returns a Status and never
/// throws. A different batch size is a different geometry.
class Conv2D {
public:
  Conv2D();
  ~Conv2D();
  Conv2D(Conv2D &&) noexcept;
  Conv2D &operator=(Conv2D &&) noexcept;
  Conv2D(const Conv2D &) = delete;
  Conv2D &operator=(const Conv2D &) = delete;

  /// Builds the forward primitive with |epilogue| fused after the bias, and
  /// its weight reorder. With |backward| the input-gradient primitive is
  /// built now too; otherwise the first backwardData call builds it.
  Status prepare(const ConvGeometry &geometry, Epilogue epilogue = {}, bool backward = false);
  bool prepared() const;
  const ConvGeometry &geometry() const;

  /// y[N, outH, outW, outC] = act(conv(x, kernel) + bias). |bias| ([outC])
  /// may be null.
  Status forward(const TensorView &x, const TensorView &kernel, const TensorView *bias,
                 const TensorView &y);
  /// dx[N, inH, inW, inC] from dy[N, outH, outW, outC], the gradient of the
  /// convolution's output before the epilogue's activation.
  Status backwardData(const TensorView &dy, const TensorView &kernel, const TensorView &dx);
  /// dkernel[kh, kw, inC, outC] and, unless null, dbias[outC] (one pass
  /// computes both). Needs no backward primitive.
  Status backwardKernel(const TensorView &x, const TensorView &dy, const TensorView &dkernel,
                        const TensorView *dbias);

  /// Which oneDNN implementations were chosen ("fwd=jit:avx2 ..."), for
  /// benchmarks and bug reports.
  const char *implementation() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace dlc::rt::cpu
