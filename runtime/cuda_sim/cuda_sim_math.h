//===- cuda_sim_math.h - CUDA device math intrinsics on the host ---------===//
//
// Part of cuda_sim.h. Most CUDA math (expf, tanhf, erff, fmaxf ...) is <cmath>
// already; these are the intrinsics and bit tricks that are device-only. The
// fast intrinsics (__expf, __logf, __fdividef) compute the accurate result, so
// emulated results can be closer to float64 than the GPU's: compare with a
// tolerance that admits the device's approximations.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_MATH_H
#define DLC_CUDA_SIM_MATH_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace dlc::sim::detail {
template <class To, class From> inline To bitCast(From from) {
  static_assert(sizeof(To) == sizeof(From), "bit casts keep the size");
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}
// CUDA's float->int conversions saturate and map NaN to 0 (C++ would be UB).
template <class I> inline I saturatingCast(double x) {
  if (std::isnan(x)) return 0;
  if (x <= static_cast<double>(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
  if (x >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(x);
}
} // namespace dlc::sim::detail

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return exp10f(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float *s, float *c) { *s = sinf(x), *c = cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); } // NaN -> 0
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fsub_rn(float x, float y) { return x - y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fdiv_rn(float x, float y) { return x / y; }
inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
inline double __dadd_rn(double x, double y) { return x + y; }
inline double __dmul_rn(double x, double y) { return x * y; }
inline double __fma_rn(double x, double y, double z) { return fma(x, y, z); }

inline int __float_as_int(float x) { return dlc::sim::detail::bitCast<int>(x); }
inline unsigned __float_as_uint(float x) { return dlc::sim::detail::bitCast<unsigned>(x); }
inline float __int_as_float(int x) { return dlc::sim::detail::bitCast<float>(x); }
inline float __uint_as_float(unsigned x) { return dlc::sim::detail::bitCast<float>(x); }
inline long long __double_as_longlong(double x) { return dlc::sim::detail::bitCast<long long>(x); }
inline double __longlong_as_double(long long x) { return dlc::sim::detail::bitCast<double>(x); }
inline int __double2hiint(double x) { return static_cast<int>(__double_as_longlong(x) >> 32); }
inline int __double2loint(double x) { return static_cast<int>(__double_as_longlong(x)); }
inline double __hiloint2double(int hi, int lo) {
  return __longlong_as_double(static_cast<long long>((static_cast<unsigned long long>(hi) << 32) |
                                                     static_cast<unsigned>(lo)));
}

// Rounding conversions: rn = nearest even (the default FP mode), rz/rd/ru.
#define DLC_SIM_CVT(name, From, To, round)                                     \
  inline To name(From x) { return dlc::sim::detail::saturatingCast<To>(round(static_cast<double>(x))); }
#define DLC_SIM_CVT4(prefix, From, To)                                         \
  DLC_SIM_CVT(prefix##_rn, From, To, std::nearbyint)                           \
  DLC_SIM_CVT(prefix##_rz, From, To, std::trunc)                               \
  DLC_SIM_CVT(prefix##_rd, From, To, std::floor)                               \
  DLC_SIM_CVT(prefix##_ru, From, To, std::ceil)
DLC_SIM_CVT4(__float2int, float, int)
DLC_SIM_CVT4(__float2uint, float, unsigned)
DLC_SIM_CVT4(__float2ll, float, long long)
DLC_SIM_CVT4(__float2ull, float, unsigned long long)
DLC_SIM_CVT4(__double2int, double, int)
DLC_SIM_CVT4(__double2ll, double, long long)
#undef DLC_SIM_CVT4
#undef DLC_SIM_CVT
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }
inline double __int2double_rn(int x) { return x; }

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) {
  return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x));
}
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  uint64_t v = (static_cast<uint64_t>(y) << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<unsigned>((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
inline int __mulhi(int x, int y) { return static_cast<int>((static_cast<long long>(x) * y) >> 32); }
inline unsigned __umulhi(unsigned x, unsigned y) {
  return static_cast<unsigned>((static_cast<unsigned long long>(x) * y) >> 32);
}
inline long long __mul64hi(long long x, long long y) {
  return static_cast<long long>((static_cast<__int128>(x) * y) >> 64);
}
inline unsigned long long __umul64hi(unsigned long long x, unsigned long long y) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(x) * y) >> 64);
}
inline int __mul24(int x, int y) { return ((x << 8) >> 8) * ((y << 8) >> 8); }
inline unsigned __umul24(unsigned x, unsigned y) { return (x & 0xffffffu) * (y & 0xffffffu); }
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned s) {
  return static_cast<unsigned>((((static_cast<uint64_t>(hi) << 32) | lo) << (s & 31)) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {
  return static_cast<unsigned>((((static_cast<uint64_t>(hi) << 32) | lo) >> (s & 31)));
}

// CUDA's global min/max overloads (device code calls them unqualified).
#define DLC_SIM_MINMAX(A, B, R)                                                \
  inline R min(A a, B b) { return static_cast<R>(a) < static_cast<R>(b) ? a : b; } \
  inline R max(A a, B b) { return static_cast<R>(a) > static_cast<R>(b) ? a : b; }
DLC_SIM_MINMAX(int, int, int)
DLC_SIM_MINMAX(unsigned, unsigned, unsigned)
DLC_SIM_MINMAX(int, unsigned, unsigned)
DLC_SIM_MINMAX(unsigned, int, unsigned)
DLC_SIM_MINMAX(long long, long long, long long)
DLC_SIM_MINMAX(unsigned long long, unsigned long long, unsigned long long)
DLC_SIM_MINMAX(long, long, long)
DLC_SIM_MINMAX(unsigned long, unsigned long, unsigned long)
#undef DLC_SIM_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline double min(float a, double b) { return fmin(a, b); }
inline double max(float a, double b) { return fmax(a, b); }
inline double min(double a, float b) { return fmin(a, b); }
inline double max(double a, float b) { return fmax(a, b); }

#endif // DLC_CUDA_SIM_MATH_H
