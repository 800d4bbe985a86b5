//===- float16.h - The 16-bit float formats on the host -------------------===//
//
// IEEE binary16 (f16: 5 exponent bits, 10 fraction bits) and bfloat16 (8
// and 7) as bit patterns, converted from and to f32/f64 on the host: the CPU
// backend's cast and the tools that feed 16-bit inputs use these, the CUDA
// emitters have their own in device code (compiler/Codegen/CUDA), and the
// float64 reference rounds independently (compiler/Reference).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <cstring>

namespace dlc::rt {

namespace float16_detail {
/// |x| rounded to nearest, ties to even, in a format with |fractionBits| and
/// |exponentBits|; overflow gives infinity, NaN stays NaN (quiet).
inline uint16_t narrow(double x, int fractionBits, int exponentBits) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  const uint32_t sign = uint32_t(b >> 63) << 15;
  const int64_t field = int64_t((b >> 52) & 0x7ff);
  const uint64_t fraction = b & ((uint64_t(1) << 52) - 1);
  const uint32_t maxField = (1u << exponentBits) - 1;
  const int64_t bias = (int64_t(1) << (exponentBits - 1)) - 1;
  if (field == 0x7ff)
    return uint16_t(sign | (maxField << fractionBits) | (fraction ? 1u << (fractionBits - 1) : 0));
  if (field == 0) // zero, or a double subnormal: far below every 16-bit format
    return uint16_t(sign);
  int64_t exponent = field - 1023 + bias; // the target's exponent field
  const uint64_t significand = fraction | (uint64_t(1) << 52);
  int64_t shift = 52 - fractionBits;
  if (exponent <= 0) { // a subnormal result drops more bits
    shift += 1 - exponent;
    exponent = 0;
  }
  if (shift > 53) // below half the smallest subnormal
    return uint16_t(sign);
  uint64_t kept = significand >> shift;
  const uint64_t rest = significand & ((uint64_t(1) << shift) - 1), half = uint64_t(1) << (shift - 1);
  if (rest > half || (rest == half && (kept & 1)))
    ++kept; // a carry moves into the exponent field, as it should
  uint64_t bits = exponent == 0 ? kept : (uint64_t(exponent) << fractionBits) + kept - (uint64_t(1) << fractionBits);
  if (bits >= uint64_t(maxField) << fractionBits)
    bits = uint64_t(maxField) << fractionBits;
  return uint16_t(sign | bits);
}

inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
} // namespace float16_detail

inline uint16_t toF16Bits(double x) { return float16_detail::narrow(x, 10, 5); }
inline uint16_t toBF16Bits(double x) { return float16_detail::narrow(x, 7, 8); }

/// Exact: every f16 and bf16 value is a float (a NaN keeps its payload).
inline float fromF16Bits(uint16_t h) {
  using float16_detail::bitsToFloat;
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu, fraction = h & 0x3FFu;
  if (exponent == 0x1F)
    return bitsToFloat(sign | 0x7F800000u | (fraction << 13));
  if (exponent != 0) // rebias the exponent from 15 to 127
    return bitsToFloat(sign | ((exponent + 112) << 23) | (fraction << 13));
  // Zero or subnormal, fraction * 2^-24: a normal float, so exact.
  const float magnitude = float(fraction) * 5.9604644775390625e-08f;
  return sign ? -magnitude : magnitude;
}
inline float fromBF16Bits(uint16_t h) { return float16_detail::bitsToFloat(uint32_t(h) << 16); }

/// |x| rounded to bf16 (nearest, ties to even), as toBF16Bits(x) but from a
/// float, by integer arithmetic: the CPU's conversion at kernel boundaries.
inline uint16_t floatToBF16Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) // NaN: the quiet NaN of its sign, as narrow() makes
    return uint16_t(((b >> 16) & 0x8000u) | 0x7FC0u);
  b += 0x7FFFu + ((b >> 16) & 1u); // a carry moves into the exponent, up to infinity
  return uint16_t(b >> 16);
}

/// |x| rounded to f16 (nearest, ties to even), as toF16Bits(x) but from a float.
inline uint16_t floatToF16Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  const uint16_t sign = uint16_t((b >> 16) & 0x8000u);
  const uint32_t magnitude = b & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u)
    return sign | 0x7E00u;
  if (magnitude >= 0x477FF000u) // 65520 and up round to infinity
    return sign | 0x7C00u;
  if (magnitude >= 0x38800000u) { // an f16 normal: rebias by 112, round off 13 bits
    uint32_t m = magnitude - 0x38000000u;
    m += 0xFFFu + ((m >> 13) & 1u);
    return uint16_t(sign | (m >> 13));
  }
  // A subnormal: a multiple of 2^-24, rounded to even on the integer.
  float scaled;
  std::memcpy(&scaled, &magnitude, sizeof scaled);
  scaled *= 16777216.0f; // exact: a power of two
  uint32_t units = uint32_t(scaled);
  const float rest = scaled - float(units);
  if (rest > 0.5f || (rest == 0.5f && (units & 1u)))
    ++units;
  return uint16_t(sign | units);
}

/// Element |i| of |data|, a tensor of |dtype| (a float or integer type).
inline double loadElement(DType dtype, const void *data, int64_t i) {
  switch (dtype) {
  case DType::kF32: return static_cast<const float *>(data)[i];
  case DType::kF64: return static_cast<const double *>(data)[i];
  case DType::kF16: return fromF16Bits(static_cast<const uint16_t *>(data)[i]);
  case DType::kBF16: return fromBF16Bits(static_cast<const uint16_t *>(data)[i]);
  case DType::kI32: return static_cast<const int32_t *>(data)[i];
  case DType::kI64: return double(static_cast<const int64_t *>(data)[i]);
  default: return 0;
  }
}

/// Stores |x| as element |i| of |data|, a tensor of |dtype|: floats round to
/// nearest, ties to even; integers take the value (the caller has checked
/// that it is one and fits).
inline void storeElement(DType dtype, void *data, int64_t i, double x) {
  switch (dtype) {
  case DType::kF32: static_cast<float *>(data)[i] = float(x); return;
  case DType::kF64: static_cast<double *>(data)[i] = x; return;
  case DType::kF16: static_cast<uint16_t *>(data)[i] = toF16Bits(x); return;
  case DType::kBF16: static_cast<uint16_t *>(data)[i] = toBF16Bits(x); return;
  case DType::kI32: static_cast<int32_t *>(data)[i] = int32_t(x); return;
  case DType::kI64: static_cast<int64_t *>(data)[i] = int64_t(x); return;
  default: return;
  }
}

/// The element types dl computes with or stores (dl.cast converts among
/// them; the others are file formats only).
inline bool isComputeDType(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16 ||
         t == DType::kI32 || t == DType::kI64;
}
inline bool isFloatDType(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}

} // namespace dlc::rt
