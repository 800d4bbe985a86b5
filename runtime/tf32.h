//===- tf32.h - TF32: how a product under the policy tf32 reads f32 -------===//
//
// Under the precision policy tf32 the compiler marks conv2d, dense and
// their gradients (compiler/Transforms/PrecisionPolicy.h, kTf32Attr); a
// bundle's op carries the mark as the attribute kTf32OpAttr and a library
// call as the descriptor int "tf32". Such a product reads its two matrix
// operands rounded to TF32 (f32's 8-bit exponent, 10 fraction bits), to
// nearest with ties away from zero, as PTX's cvt.rna.tf32.f32 does, and sums
// their products in f32: the rounding is what lets tensor cores run it.
// Every backend keeps the same contract; the CPU rounds a copy.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstring>

namespace dlc::rt {

inline constexpr const char *kTf32OpAttr = "tf32";

/// |x| rounded to TF32 (still an f32): infinities and NaNs as they are, an
/// overflow to infinity.
inline float roundToTf32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7f800000u) == 0x7f800000u)
    return x;
  bits = (bits + 0x1000u) & 0xffffe000u; // half a unit of the 10th fraction bit, then truncate
  float rounded;
  std::memcpy(&rounded, &bits, sizeof rounded);
  return rounded;
}

inline void roundToTf32(const float *in, float *out, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = roundToTf32(in[i]);
}

} // namespace dlc::rt
