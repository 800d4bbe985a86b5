//===- cuda_sim_fp16.h - Host shims for device-only fp16/bf16 functions --===//
//
// Part of cuda_sim.h. CUDA 13's cuda_fp16.h / cuda_bf16.h already give host
// code the types, conversions, arithmetic operators, __hadd/__hmul/__hmax,
// comparisons and the half2 arithmetic; what they keep device-only (measured
// by compiling each name with g++) is defined here: fused multiply-adds, the
// h* math functions and a few rounding conversions. Each computes in float or
// double and rounds once to the 16-bit type, which matches the device to the
// last bit except where the device uses approximations (hexp, hrcp ...).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_FP16_H
#define DLC_CUDA_SIM_FP16_H

#include <cmath>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace dlc::sim::detail {
// One overload set per 16-bit type so the shims below are written once.
inline float toFloat(__half h) { return __half2float(h); }
inline float toFloat(__nv_bfloat16 h) { return __bfloat162float(h); }
template <class H> H fromDouble(double x);
template <> inline __half fromDouble<__half>(double x) { return __double2half(x); }
template <> inline __nv_bfloat16 fromDouble<__nv_bfloat16>(double x) {
  return __double2bfloat16(x);
}
inline __half lo(__half2 v) { return __low2half(v); }
inline __half hi(__half2 v) { return __high2half(v); }
inline __nv_bfloat16 lo(__nv_bfloat162 v) { return __low2bfloat16(v); }
inline __nv_bfloat16 hi(__nv_bfloat162 v) { return __high2bfloat16(v); }
inline __half2 pair(__half a, __half b) { return __halves2half2(a, b); }
inline __nv_bfloat162 pair(__nv_bfloat16 a, __nv_bfloat16 b) { return __halves2bfloat162(a, b); }
inline double relu(double x) { return std::isnan(x) ? x : (x > 0 ? x : 0.0); }
inline double sat(double x) { return std::isnan(x) ? 0.0 : (x > 1 ? 1.0 : (x > 0 ? x : 0.0)); }
} // namespace dlc::sim::detail

#define DLC_SIM_H16_UNARY(name, name2, expr)                                   \
  inline __half name(__half h) {                                               \
    double x = ::dlc::sim::detail::toFloat(h);                                 \
    return ::dlc::sim::detail::fromDouble<__half>(expr);                       \
  }                                                                            \
  inline __nv_bfloat16 name(__nv_bfloat16 h) {                                 \
    double x = ::dlc::sim::detail::toFloat(h);                                 \
    return ::dlc::sim::detail::fromDouble<__nv_bfloat16>(expr);                \
  }                                                                            \
  inline __half2 name2(__half2 v) {                                            \
    return ::dlc::sim::detail::pair(name(::dlc::sim::detail::lo(v)), name(::dlc::sim::detail::hi(v))); \
  }                                                                            \
  inline __nv_bfloat162 name2(__nv_bfloat162 v) {                              \
    return ::dlc::sim::detail::pair(name(::dlc::sim::detail::lo(v)), name(::dlc::sim::detail::hi(v))); \
  }
DLC_SIM_H16_UNARY(hexp, h2exp, std::exp(x))
DLC_SIM_H16_UNARY(hexp2, h2exp2, std::exp2(x))
DLC_SIM_H16_UNARY(hexp10, h2exp10, std::pow(10.0, x))
DLC_SIM_H16_UNARY(hlog, h2log, std::log(x))
DLC_SIM_H16_UNARY(hlog2, h2log2, std::log2(x))
DLC_SIM_H16_UNARY(hlog10, h2log10, std::log10(x))
DLC_SIM_H16_UNARY(hsqrt, h2sqrt, std::sqrt(x))
DLC_SIM_H16_UNARY(hrsqrt, h2rsqrt, 1.0 / std::sqrt(x))
DLC_SIM_H16_UNARY(hrcp, h2rcp, 1.0 / x)
DLC_SIM_H16_UNARY(hsin, h2sin, std::sin(x))
DLC_SIM_H16_UNARY(hcos, h2cos, std::cos(x))
DLC_SIM_H16_UNARY(htanh, h2tanh, std::tanh(x))
DLC_SIM_H16_UNARY(hceil, h2ceil, std::ceil(x))
DLC_SIM_H16_UNARY(hfloor, h2floor, std::floor(x))
DLC_SIM_H16_UNARY(htrunc, h2trunc, std::trunc(x))
DLC_SIM_H16_UNARY(hrint, h2rint, std::nearbyint(x))
#undef DLC_SIM_H16_UNARY

// The product of two 16-bit values is exact in double, so fma in double and
// one rounding to 16 bits is the device's single-rounding fma (up to the
// rare double-rounding tie).
#define DLC_SIM_H16_FMA(name, name2, post)                                     \
  template <class H, class = decltype(::dlc::sim::detail::toFloat(H()))>      \
  inline H name(H a, H b, H c) {                                               \
    double r = std::fma(double(::dlc::sim::detail::toFloat(a)),                \
                        double(::dlc::sim::detail::toFloat(b)),                \
                        double(::dlc::sim::detail::toFloat(c)));               \
    return ::dlc::sim::detail::fromDouble<H>(post(r));                         \
  }                                                                            \
  template <class H2, class = decltype(::dlc::sim::detail::lo(H2()))>         \
  inline H2 name2(H2 a, H2 b, H2 c) {                                          \
    using ::dlc::sim::detail::lo;                                              \
    using ::dlc::sim::detail::hi;                                              \
    return ::dlc::sim::detail::pair(name(lo(a), lo(b), lo(c)), name(hi(a), hi(b), hi(c))); \
  }
#define DLC_SIM_IDENTITY(x) (x)
DLC_SIM_H16_FMA(__hfma, __hfma2, DLC_SIM_IDENTITY)
DLC_SIM_H16_FMA(__hfma_sat, __hfma2_sat, ::dlc::sim::detail::sat)
DLC_SIM_H16_FMA(__hfma_relu, __hfma2_relu, ::dlc::sim::detail::relu)
#undef DLC_SIM_IDENTITY
#undef DLC_SIM_H16_FMA

// Integer conversions the host header lacks (it has the _rz ones).
#define DLC_SIM_H16_CVT(name, H, To, round)                                    \
  inline To name(H h) {                                                        \
    return ::dlc::sim::detail::saturatingCast<To>(round(double(::dlc::sim::detail::toFloat(h)))); \
  }
#define DLC_SIM_H16_CVT3(prefix, H, To)                                        \
  DLC_SIM_H16_CVT(prefix##_rn, H, To, std::nearbyint)                          \
  DLC_SIM_H16_CVT(prefix##_rd, H, To, std::floor)                              \
  DLC_SIM_H16_CVT(prefix##_ru, H, To, std::ceil)
DLC_SIM_H16_CVT3(__half2int, __half, int)
DLC_SIM_H16_CVT3(__half2uint, __half, unsigned)
DLC_SIM_H16_CVT3(__half2short, __half, short)
DLC_SIM_H16_CVT3(__half2ll, __half, long long)
DLC_SIM_H16_CVT3(__bfloat162int, __nv_bfloat16, int)
DLC_SIM_H16_CVT3(__bfloat162uint, __nv_bfloat16, unsigned)
#undef DLC_SIM_H16_CVT3
#undef DLC_SIM_H16_CVT

#endif // DLC_CUDA_SIM_FP16_H
