//===- test_kernels.cuh - CUDA kernels for the emulator's tests ----------===//
//
// Written as plain CUDA: the same text is compiled by g++ against cuda_sim.h
// (cuda_sim_test.cc) and by NVRTC for sm_90 (the NvrtcCompilesTestKernels
// test). Some kernels carry planted bugs (names ending in _bug) that the
// emulator must catch.
//
//===----------------------------------------------------------------------===//
#pragma once
#include <cuda_fp16.h>
#if defined(__CUDACC__)
#include <mma.h> // the emulation brings its own nvcuda::wmma (cuda_sim_wmma.h)
#include <cuda_pipeline_primitives.h> // and its own cp.async (cuda_sim.h)
#endif
#include "runtime/cuda_sim/dynamic_shared.h"

// (a) Fused elementwise with a grid-stride loop: out = gelu(x) * y + bias.
extern "C" __global__ void __launch_bounds__(256)
    ew_gelu_mul(const float *__restrict__ x, const float *__restrict__ y, float bias,
                float *__restrict__ out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    float v = __ldg(&x[i]);
    float g = 0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
    out[i] = fmaf(g, y[i], bias);
  }
}

// (h) The same with an off-by-one bound: writes out[n].
extern "C" __global__ void ew_scale_oob_bug(const float *x, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = 2.0f * x[i < n ? i : 0];
}

// (j) Forgets the last element.
extern "C" __global__ void ew_scale_skip_bug(const float *x, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n - 1) out[i] = 2.0f * x[i];
}

// (b) 32x32 shared-memory tiled SGEMM, C[M,N] = A[M,K] * B[K,N], row-major.
#define TILE 32
extern "C" __global__ void sgemm_tiled(const float *A, const float *B, float *C, int M, int N,
                                       int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE + 1];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += TILE) {
    As[ty][tx] = (row < M && k0 + tx < K) ? A[row * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = acc;
}

// (g) The same without the second barrier: a fast thread overwrites a tile
// that others still read. Only visible when the K loop runs >= 2 times.
extern "C" __global__ void sgemm_tiled_nosync_bug(const float *A, const float *B, float *C, int M,
                                                  int N, int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE + 1];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += TILE) {
    As[ty][tx] = (row < M && k0 + tx < K) ? A[row * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
  }
  if (row < M && col < N) C[row * N + col] = acc;
}

// (c) Sum: grid-stride partials, warp shuffles, shared memory across warps,
// one atomicAdd per block.
__device__ __forceinline__ float warpSum(float v) {
  for (int offset = warpSize / 2; offset > 0; offset /= 2)
    v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}
extern "C" __global__ void reduce_sum(const float *__restrict__ x, float *out, int n) {
  __shared__ float partial[32];
  float v = 0.0f;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    v += x[i];
  v = warpSum(v);
  int lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int nwarps = (blockDim.x + warpSize - 1) / warpSize;
    v = lane < nwarps ? partial[lane] : 0.0f;
    v = warpSum(v);
    if (lane == 0) atomicAdd(out, v);
  }
}

// (d) Row softmax, one block per row: the row lives in dynamic shared memory,
// the cross-warp scratch after it (DLC_DYNAMIC_SHARED_AT).
__device__ float blockMax(float v, float *scratch) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  v = scratch[0];
  for (int w = 1; w < (int)(blockDim.x / 32); ++w) v = fmaxf(v, scratch[w]);
  __syncthreads();
  return v;
}
__device__ float blockSum(float v, float *scratch) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  v = 0.0f;
  for (int w = 0; w < (int)(blockDim.x / 32); ++w) v += scratch[w];
  __syncthreads();
  return v;
}
extern "C" __global__ void softmax_rows(const float *x, float *y, int cols) {
  DLC_DYNAMIC_SHARED(float, row);
  DLC_DYNAMIC_SHARED_AT(float, scratch, ((cols + 3) / 4) * 16);
  const float *src = x + (size_t)blockIdx.x * cols;
  float m = __int_as_float(0xff800000); // -inf
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    row[c] = src[c];
    m = fmaxf(m, row[c]);
  }
  m = blockMax(m, scratch);
  float s = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    row[c] = __expf(row[c] - m);
    s += row[c];
  }
  s = blockSum(s, scratch);
  for (int c = threadIdx.x; c < cols; c += blockDim.x)
    y[(size_t)blockIdx.x * cols + c] = __fdividef(row[c], s);
}

// (e) Votes and a warp scan: per warp, the ballot of x > 0, any and all;
// per element, the inclusive prefix sum within its warp (__shfl_up_sync).
extern "C" __global__ void warp_votes(const float *x, unsigned *ballots, int *anyAll, int *scan,
                                      int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  bool pred = i < n && x[i] > 0.0f;
  unsigned b = __ballot_sync(0xffffffffu, pred);
  int any = __any_sync(0xffffffffu, pred), all = __all_sync(0xffffffffu, pred);
  int lane = threadIdx.x & 31, v = pred ? 1 : 0;
  for (int d = 1; d < 32; d *= 2) {
    int up = __shfl_up_sync(0xffffffffu, v, d);
    if (lane >= d) v += up;
  }
  __syncwarp(); // both forms compile and wait for the warp
  __syncwarp(0xffffffffu);
  int leader = __shfl_sync(0xffffffffu, i, 0);
  int warpId = leader / 32;
  if (lane == 0) {
    ballots[warpId] = b;
    anyAll[2 * warpId] = any;
    anyAll[2 * warpId + 1] = all;
  }
  if (i < n) scan[i] = v;
}

// (f) fp16: y = half(hexp(__hfma(a, s, b))) and the half2 path side by side.
extern "C" __global__ void half_ops(const float *a, const float *b, float s, float *y,
                                    __half *yh, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  __half ha = __float2half(a[i]), hb = __float2half_rn(b[i]), hs = __float2half(s);
  __half r = hexp(__hfma(ha, hs, hb));
  __half2 p = __hfma2(__halves2half2(ha, hb), __half2half2(hs), __floats2half2_rn(0.5f, -0.5f));
  yh[i] = r;
  y[i] = __half2float(r) + __low2float(p) * __high2float(p);
}

// (i) Planted barrier bugs: threads past |n| return before the barrier, and
// odd/even threads wait at different __syncthreads.
extern "C" __global__ void early_exit_barrier_bug(float *x, int n) {
  __shared__ float t[64];
  int i = threadIdx.x;
  if (i >= n) return;
  t[i] = x[i];
  __syncthreads();
  x[i] = t[(i + 1) % n];
}
extern "C" __global__ void divergent_barrier_bug(float *x) {
  if (threadIdx.x % 2) {
    x[threadIdx.x] += 1.0f;
    __syncthreads();
  } else {
    __syncthreads();
    x[threadIdx.x] -= 1.0f;
  }
}
extern "C" __global__ void shuffle_exited_lane_bug(float *x, int n) {
  int i = threadIdx.x;
  if (i >= n) return;
  x[i] = __shfl_xor_sync(0xffffffffu, x[i], 1);
}

// Reads shared memory before anything wrote it: the poison must show.
extern "C" __global__ void read_uninit_shared_bug(float *out) {
  __shared__ float s[32];
  if (threadIdx.x > 0) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = s[(threadIdx.x + 31) % 32];
}

// __syncthreads_count, __reduce_add_sync and __match_any_sync.
extern "C" __global__ void block_counts(const int *x, int *out) {
  int v = x[blockIdx.x * blockDim.x + threadIdx.x];
  int count = __syncthreads_count(v > 0);
  int orr = __syncthreads_or(v > 5), andd = __syncthreads_and(v >= 0);
  unsigned sum = __reduce_add_sync(0xffffffffu, (unsigned)v);
  unsigned same = __match_any_sync(0xffffffffu, v & 3);
  if (threadIdx.x == 0) {
    out[4 * blockIdx.x] = count;
    out[4 * blockIdx.x + 1] = orr * 2 + andd;
    out[4 * blockIdx.x + 2] = (int)sum;
    out[4 * blockIdx.x + 3] = __popc(same);
  }
}

// (w) Tensor-core GEMM through the warp matrix API: one warp per 16x16 tile
// of C[M,N] = A[M,K] B[K,N], A row-major [M, K], B stored as [N, K] (a
// col_major matrix_b), fp16 in, f32 accumulators. M, N, K multiples of 16.
// |LayoutB| other than col_major is a planted bug (a transposed load).
template <typename LayoutB>
__device__ void wmma_tile(const __half *A, const __half *B, int K,
                          nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> &acc) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, LayoutB> b;
  wmma::fill_fragment(acc, 0.0f);
  for (int k = 0; k < K; k += 16) {
    wmma::load_matrix_sync(a, A + (long long)blockIdx.y * 16 * K + k, K);
    wmma::load_matrix_sync(b, B + (long long)blockIdx.x * 16 * K + k, K);
    wmma::mma_sync(acc, a, b, acc);
  }
}

extern "C" __global__ void wmma_gemm(const __half *A, const __half *B, float *C, int M, int N,
                                     int K) {
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc;
  wmma_tile<nvcuda::wmma::col_major>(A, B, K, acc);
  nvcuda::wmma::store_matrix_sync(C + (long long)blockIdx.y * 16 * N + blockIdx.x * 16, acc, N,
                                  nvcuda::wmma::mem_row_major);
}

// (w') The same with B's fragment declared row_major: a transposed load.
extern "C" __global__ void wmma_gemm_transposed_b_bug(const __half *A, const __half *B, float *C,
                                                      int M, int N, int K) {
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc;
  wmma_tile<nvcuda::wmma::row_major>(A, B, K, acc);
  nvcuda::wmma::store_matrix_sync(C + (long long)blockIdx.y * 16 * N + blockIdx.x * 16, acc, N,
                                  nvcuda::wmma::mem_row_major);
}

// (w'') Adds a per-column bias to the accumulator fragment assuming element
// i of every lane is column i: fragment layouts are opaque, so it is wrong.
extern "C" __global__ void wmma_bias_layout_bug(const __half *A, const __half *B,
                                                const float *bias, float *C, int M, int N, int K) {
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc;
  wmma_tile<nvcuda::wmma::col_major>(A, B, K, acc);
  for (int i = 0; i < acc.num_elements; ++i)
    acc.x[i] += bias[blockIdx.x * 16 + i];
  nvcuda::wmma::store_matrix_sync(C + (long long)blockIdx.y * 16 * N + blockIdx.x * 16, acc, N,
                                  nvcuda::wmma::mem_row_major);
}

// (w''') TF32: one warp per 16x16 tile of C = A B from f32 A [M, K]
// row-major and B stored as [N, K] (col_major), 16x16x8 fragments. With
// |convert| the fragments' elements are rounded by __float_to_tf32 as the
// API asks; without, the tensor core reads the operands' TF32 bits alone.
extern "C" __global__ void wmma_gemm_tf32(const float *A, const float *B, float *C, int M, int N, int K,
                                          int convert) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  for (int k = 0; k < K; k += 8) {
    wmma::load_matrix_sync(a, A + (long long)blockIdx.y * 16 * K + k, K);
    wmma::load_matrix_sync(b, B + (long long)blockIdx.x * 16 * K + k, K);
    if (convert) {
      for (int i = 0; i < a.num_elements; ++i)
        a.x[i] = wmma::__float_to_tf32(a.x[i]);
      for (int i = 0; i < b.num_elements; ++i)
        b.x[i] = wmma::__float_to_tf32(b.x[i]);
    }
    wmma::mma_sync(acc, a, b, acc);
  }
  wmma::store_matrix_sync(C + (long long)blockIdx.y * 16 * N + blockIdx.x * 16, acc, N, wmma::mem_row_major);
}

// (k) Thread-block clusters (sm_90): each block passes its row to the next
// rank of its cluster through distributed shared memory, |steps| times,
// double-buffered, in static and in dynamic shared memory (2 x 64 floats).
extern "C" __global__ void __cluster_dims__(4, 1, 1) cluster_ring(float *out, int steps) {
  __shared__ float ring[2][64];
  DLC_DYNAMIC_SHARED(float, twin);
  const unsigned rank = __clusterRelativeBlockRank(), next = (rank + 1) % 4;
  ring[0][threadIdx.x] = twin[threadIdx.x] = blockIdx.x * 100.0f + threadIdx.x;
  __cluster_barrier_arrive();
  __cluster_barrier_wait();
  for (int s = 0; s < steps; ++s) {
    const int now = s % 2, then = 1 - now;
    float *ringNext = static_cast<float *>(__cluster_map_shared_rank(&ring[then][0], next));
    float *twinNext = static_cast<float *>(__cluster_map_shared_rank(twin + then * 64, next));
    ringNext[threadIdx.x] = ring[now][threadIdx.x] + 1.0f;
    twinNext[threadIdx.x] = twin[now * 64 + threadIdx.x] * 2.0f;
    __cluster_barrier_arrive();
    __cluster_barrier_wait();
  }
  out[blockIdx.x * 128 + threadIdx.x] = ring[steps % 2][threadIdx.x];
  out[blockIdx.x * 128 + 64 + threadIdx.x] = twin[(steps % 2) * 64 + threadIdx.x];
}

// (k') One thread of rank 2 leaves before the cluster barrier.
extern "C" __global__ void __cluster_dims__(4, 1, 1) cluster_exit_bug(float *out) {
  if (__clusterRelativeBlockRank() == 2 && threadIdx.x == 0) return;
  __cluster_barrier_arrive();
  __cluster_barrier_wait();
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f;
}

// (k'') Maps a rank the cluster does not have.
extern "C" __global__ void __cluster_dims__(4, 1, 1) cluster_rank_bug(float *out) {
  __shared__ float cell[32];
  float *other = static_cast<float *>(__cluster_map_shared_rank(cell, 4));
  other[threadIdx.x] = 1.0f;
  out[threadIdx.x] = 0.0f;
}

// (l) cp.async: two batches of 16-byte copies of 64 halfs each, the first
// zero-filled from element |n| on; the first read after waiting for all but
// the latest batch, the second after waiting for all. With |early| the first
// tile is read before any wait (a bug: it still holds poison).
extern "C" __global__ void pipeline_tiles(const __half *in, float *out, int n, int early) {
  __shared__ __align__(16) __half tile[2][64];
  if (threadIdx.x < 8) {
    const bool inside = threadIdx.x * 8 < n;
    __pipeline_memcpy_async(&tile[0][threadIdx.x * 8], in + (inside ? threadIdx.x * 8 : 0), 16, inside ? 0 : 16);
  }
  __pipeline_commit();
  if (threadIdx.x < 8)
    __pipeline_memcpy_async(&tile[1][threadIdx.x * 8], in + 64 + threadIdx.x * 8, 16);
  __pipeline_commit();
  if (!early)
    __pipeline_wait_prior(1);
  __syncthreads();
  out[threadIdx.x] = __half2float(tile[0][threadIdx.x]);
  __pipeline_wait_prior(0);
  __syncthreads();
  out[64 + threadIdx.x] = __half2float(tile[1][threadIdx.x]);
}

// (l') A copy into global memory instead of shared.
extern "C" __global__ void pipeline_to_global_bug(const __half *in, __half *out) {
  __pipeline_memcpy_async(out + threadIdx.x * 8, in + threadIdx.x * 8, 16);
  __pipeline_commit();
  __pipeline_wait_prior(0);
}
