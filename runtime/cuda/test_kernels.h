//===- test_kernels.h - CUDA C++ sources shared by the runtime/cuda tests --===//
//
// Small kernels of the three kinds the compiler emits: elementwise, a
// shared-memory block reduction and fp16 arithmetic, plus two that exercise
// the resource report (register spills, a called device function).
//
//===----------------------------------------------------------------------===//
#pragma once

namespace dlc::rt::cuda::testing {

inline constexpr const char *kAddSource = R"(
extern "C" __global__ void dlc_add(const float *a, const float *b, float *c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
)";

// 256 floats of static shared memory: 1024 bytes in ptxas -v.
inline constexpr const char *kBlockSumSource = R"(
extern "C" __global__ void dlc_block_sum(const float *x, float *out, int n) {
  __shared__ float partial[256];
  int t = threadIdx.x;
  float v = 0.f;
  for (int i = blockIdx.x * 256 + t; i < n; i += gridDim.x * 256) v += x[i];
  partial[t] = v;
  __syncthreads();
  for (int k = 128; k > 0; k >>= 1) {
    if (t < k) partial[t] += partial[t + k];
    __syncthreads();
  }
  if (t == 0) atomicAdd(out, partial[0]);
}
)";

inline constexpr const char *kHalfScaleSource = R"(
#include <cuda_fp16.h>
extern "C" __global__ void dlc_half_scale(const __half *x, __half *y, float scale, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __hmul(x[i], __float2half(scale));
}
)";

// Forty live values under --maxrregcount=24: ptxas must spill.
inline constexpr const char *kSpillSource = R"(
extern "C" __global__ void dlc_spill(const float *in, float *out, int n) {
  float a[40];
#pragma unroll
  for (int i = 0; i < 40; ++i) a[i] = in[i * n + threadIdx.x];
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 40; ++i)
#pragma unroll
    for (int j = 0; j < 40; ++j) s = fmaf(a[i], a[j], s) * (a[(i + j) % 40] > s ? 1.5f : 0.5f);
  out[threadIdx.x] = s;
}
)";

// A dynamically indexed local array (stack frame, no spills), a
// non-inlined callee (cumulative stack) and launch bounds.
inline constexpr const char *kLocalArraySource = R"(
__device__ __noinline__ float pick(const float *p, int n) {
  float a[16];
  for (int i = 0; i < 16; ++i) a[i] = p[i * n];
  return a[n & 15];
}
extern "C" __global__ void __launch_bounds__(128) dlc_local(const float *p, float *out, int n) {
  float b[32];
  for (int i = 0; i < 32; ++i) b[i] = p[i + n];
  out[threadIdx.x] = b[(threadIdx.x * n) & 31] + pick(p, n);
}
)";

inline constexpr const char *kSyntaxErrorSource = R"(
extern "C" __global__ void dlc_broken(float *x) {
  x[threadIdx.x] = 1.0f
}
)";

} // namespace dlc::rt::cuda::testing
