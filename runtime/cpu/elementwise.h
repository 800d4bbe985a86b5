//===- elementwise.h - Activations, softmax, merges and dropout -----------===//
//
// float32 kernels of the dl ops that touch each element once or along one
// axis: the activations and their gradients, softmax, add, concat / slice,
// dropout. They compute what compiler/Reference/Kernels.h and GradKernels.h
// compute in float64 (the oracle they are tested against).
//
// Every kernel works on raw buffers the caller owns; none allocates. Shapes
// come as an AxisDims view ([outer, channels, inner] around one axis), the
// way the reference's AxisSplit sees them. Sizes are assumed verified by the
// compiler, so kernels that cannot be handed a bad value return void.
//
// The exp/sigmoid/tanh approximations below are shared with the loss and LSTM
// kernels: written as straight-line arithmetic so that the compiler
// vectorises every loop that calls them (libm's expf is a scalar call), with
// about 1e-7 relative error, i.e. float precision.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/tensor.h"

#include "runtime/status.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace dlc::rt::cpu {

//===----------------------------------------------------------------------===//
// Threading
//===----------------------------------------------------------------------===//

/// Elements below which an elementwise loop is not worth waking a thread
/// (an OpenMP fork/join costs a few microseconds), and bytes for copies.
constexpr int64_t kElementwiseGrain = int64_t(1) << 16;
constexpr size_t kCopyGrainBytes = size_t(1) << 20;

/// Calls fn(ctx, begin, end) on disjoint ranges covering [0, n), one per
/// OpenMP thread when n / grain >= 2 and serially otherwise (also when
/// already inside a parallel region).
void parallelRanges(int64_t n, int64_t grain, void (*fn)(void *, int64_t, int64_t), void *ctx);

/// parallelRanges() for a callable body(begin, end).
template <typename Body>
void parallelBlocks(int64_t n, int64_t grain, Body &&body) {
  if (n <= 0)
    return;
  if (n < 2 * grain) {
    body(int64_t(0), n);
    return;
  }
  parallelRanges(
      n, grain,
      [](void *ctx, int64_t begin, int64_t end) {
        (*static_cast<std::remove_reference_t<Body> *>(ctx))(begin, end);
      },
      const_cast<void *>(static_cast<const void *>(&body)));
}

/// A tensor seen as [outer, channels, inner] around one axis.
struct AxisDims {
  int64_t outer = 1, channels = 1, inner = 1;
  int64_t numel() const { return outer * channels * inner; }
};

/// Splits |shape| around |axis| (negative counts from the end); an axis
/// outside the rank is kInvalidArgument.
Status axisDims(const std::vector<int64_t> &shape, int64_t axis, AxisDims *dims);

//===----------------------------------------------------------------------===//
// Vectorisable transcendentals
//===----------------------------------------------------------------------===//

/// exp(x) for x clamped to [-87, 88] (Cephes' expf reduction and polynomial);
/// 2^n is assembled in the exponent bits instead of calling ldexp.
inline float expApprox(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // NaN survives the clamps; converting it to int is undefined, so it takes
  // a select (vectorizes) and comes out as NaN, as exp(NaN) must.
  bool isNan = x != x;
  int32_t bits = ((isNan ? 0 : int32_t(n)) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return isNan ? x : p * scale;
}

inline float sigmoidApprox(float x) { return 1.0f / (1.0f + expApprox(-x)); }

/// tanh via exp loses all relative precision near 0 (1 - 2/(e^2x + 1)), so
/// small arguments take Cephes' odd polynomial; both are computed and one is
/// selected, which keeps the loop branch-free.
inline float tanhApprox(float x) {
  float a = std::fabs(x), z = x * x;
  float small =
      ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
        1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  float large = std::copysign(1.0f - 2.0f / (expApprox(2.0f * a) + 1.0f), x);
  return a < 0.625f ? small : large;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// The CPU's activations (kNone: the identity), and the one definition of
/// each: every op and epilogue that applies one calls activate() or unary(),
/// so `dense(activation=sigmoid)` and `dense` + `sigmoid` give the same
/// bits. Gelu is the exact (erf) form, GeluTanh the tanh approximation;
/// LeakyRelu multiplies negatives by |slope|.
enum class Activation : uint8_t { kNone, kRelu, kSigmoid, kTanh, kGelu, kGeluTanh, kLeakyRelu };

constexpr float kSqrt1_2 = 0.70710678118654752f, kSqrt2OverPi = 0.79788456080286536f;

inline float activate(Activation kind, float v, float slope) {
  switch (kind) {
  case Activation::kNone: return v;
  case Activation::kRelu: return v > 0.0f ? v : 0.0f;
  case Activation::kSigmoid: return sigmoidApprox(v);
  case Activation::kTanh: return tanhApprox(v);
  // erff stays a scalar libm call: gelu is never the hot op
  case Activation::kGelu: return 0.5f * v * (1.0f + std::erf(v * kSqrt1_2));
  case Activation::kGeluTanh:
    return 0.5f * v * (1.0f + tanhApprox(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  case Activation::kLeakyRelu: return v > 0.0f ? v : slope * v;
  }
  return v;
}

/// y = activate(x) for |n| elements; y may alias x.
void unary(Activation kind, const float *x, float *y, int64_t n, float slope = 0.0f);

/// True when unaryGrad's |saved| is the forward output y (sigmoid, tanh);
/// otherwise it is the forward input x (relu, gelu, gelu tanh, leaky_relu),
/// as in ref::unaryGrad and the dl.*_grad ops.
inline bool unaryGradTakesOutput(Activation kind) {
  return kind == Activation::kSigmoid || kind == Activation::kTanh;
}

/// dx = dy * f'(.) from |saved| (see unaryGradTakesOutput). dx may alias dy.
void unaryGrad(Activation kind, const float *saved, const float *dy, float *dx, int64_t n,
               float slope = 0.0f);

/// Softmax along the channels of |dims|, shifted by the maximum so that
/// large logits do not overflow. y may alias x.
void softmax(const float *x, float *y, AxisDims dims);

/// dx = y * (dy - sum(dy * y)) along the channels, from the forward output
/// y. dx may alias dy.
void softmaxGrad(const float *y, const float *dy, float *dx, AxisDims dims);

//===----------------------------------------------------------------------===//
// Merges, copies, dropout
//===----------------------------------------------------------------------===//

/// y = sum of |count| inputs of |n| elements each; y may alias inputs[0].
void add(const float *const *inputs, int64_t count, float *y, int64_t n);

/// Concatenates |count| inputs along one axis: input k is [outer, sizes[k],
/// inner] and y is [outer, sum(sizes), inner]. Works on bytes, so any dtype:
/// |elementBytes| is 4 for f32 / i32, 8 for i64.
void concat(const void *const *inputs, const int64_t *sizes, int64_t count, void *y,
            int64_t outer, int64_t inner, size_t elementBytes = 4);

/// y = x[:, start : start + size, :] of x [outer, whole, inner] (dl.slice,
/// the gradient of concat).
void slice(const void *x, void *y, int64_t outer, int64_t whole, int64_t start, int64_t size,
           int64_t inner, size_t elementBytes = 4);

/// Inverted dropout, mask for mask the reference's: element i is kept when
/// uniform01(seed, stream, i) >= rate (counter_rng.h) and scaled by
/// 1 / (1 - rate). |stream| is the training step. The gradient of dropout is
/// dropout of dy with the same seed and stream. y may alias x.
void dropout(const float *x, float *y, int64_t n, double rate, uint64_t seed, uint64_t stream);

/// dl.zeros, and the bytes of a tensor copied (reshape, flatten, an
/// inference-mode dropout). Split over threads when large.
void zeros(void *data, size_t bytes);
void copy(const void *src, void *dst, size_t bytes);

/// Every element of |from| stored in |to| (equal sizes, float types): f16
/// and bf16 widen exactly, narrowing rounds to nearest even (float16.h).
/// How the CPU reads and writes 16-bit buffers around its f32 routines, and
/// dl.cast between float types.
void convertFloats(const TensorView &from, const TensorView &to);
/// Every element of |from| rounded to |type| (a float type) and stored in
/// |to| (f32, which holds every f16, bf16 and f32 value): a cast and the
/// reading call's widening in one pass, for the CPU's converting loads.
void roundFloats(const TensorView &from, DType type, const TensorView &to);

} // namespace dlc::rt::cpu
