//===- cuda_sim.h - CUDA C++ kernels compiled by g++, run on the CPU -----===//
//
// Included first (g++ -include runtime/cuda_sim/cuda_sim.h, with -I<repo root>
// and -I/usr/local/cuda/include) so that kernel source written for NVRTC
// compiles unchanged on the host and runs under the fiber scheduler of
// cuda_sim.cc with CUDA block and warp semantics.
//
// Model: one block at a time (one thread-block cluster at a time, its blocks
// co-resident, when the launch has clusters); each CUDA thread is a fiber that runs until it
// reaches a synchronisation point (__syncthreads, a warp op, exit). Nothing is
// preempted, so atomics are plain read-modify-writes and races show up only as
// schedule-dependent results (see LaunchOptions::schedule).
//
// __shared__ is a function-local `static` placed in the section
// "dlc_sim_shared": while blocks run one at a time a static IS per-block
// storage, and the section lets the launcher poison all of it before each
// block (and swap it when the blocks of a cluster take turns). GCC ignores the section on statics of templates and rejects mixing
// inline/template and plain functions that both declare __shared__ in one
// file ("section type conflict"): declare __shared__ in plain kernels (all
// generated `extern "C" __global__` kernels are), or define
// DLC_SIM_NO_SHARED_SECTION to get plain, unpoisoned statics.
// Dynamic shared memory: DLC_DYNAMIC_SHARED, see dynamic_shared.h.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_H
#define DLC_CUDA_SIM_H

#if defined(__CUDACC__)
#error "cuda_sim.h is the host emulation; device compilers must not include it"
#endif

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <type_traits>

#include <vector_types.h>     // dim3, uint3, float2, float4 ... (host-usable)
#include <vector_functions.h> // make_float2, make_uint3 ...
#include <cuda_fp16.h>
#include <cuda_bf16.h>

//===----------------------------------------------------------------------===//
// Keywords (crt/host_defines.h already maps __global__/__device__/__host__/
// __forceinline__/__align__/__constant__ to host meanings; complete the rest).
//===----------------------------------------------------------------------===//
#undef __shared__
#if defined(DLC_SIM_NO_SHARED_SECTION)
#define __shared__ static __attribute__((aligned(16)))
#else
#define __shared__ static __attribute__((section("dlc_sim_shared"), aligned(16)))
#endif
// The architecture generated code may test for what the emulation offers
// (it emulates sm_90's clusters); DLC_SIM_ARCH=sm_80 in the environment
// makes the cuda-sim backend compile kernels as for an older GPU.
#ifndef DLC_SIM_ARCH
#define DLC_SIM_ARCH 900
#endif
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#undef __maxnreg__
#define __maxnreg__(n)
// __noinline__ stays undefined: as a macro it would break libstdc++'s own
// __attribute__((__noinline__)) in headers included after this one.

namespace dlc::sim::detail {

/// The CUDA built-in variables of the running fiber; the scheduler rewrites
/// threadIdx before every switch into a fiber.
struct Ctx {
  uint3 tid, bid, bdim, gdim; // threadIdx, blockIdx, blockDim, gridDim
};
extern Ctx g_ctx;
inline const Ctx &ctx() { return g_ctx; } // const: kernels cannot assign them

/// Where a synchronisation call is written, for error messages and for
/// telling divergent __syncthreads apart.
struct Site {
  const char *file;
  int line;
  const char *what;
};

enum class WarpOp : uint8_t {
  kSync, kShflIdx, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll,
  kReduceAdd, kReduceMinU, kReduceMaxU, kReduceMinS, kReduceMaxS,
  kReduceAnd, kReduceOr, kReduceXor, kMatchAny, kMatchAll,
};

unsigned char *dynamicShared();
void syncthreads(Site site);
/// kind: 0 count, 1 and, 2 or.
int syncthreadsReduce(Site site, int kind, int predicate);
/// Every lane of |mask| deposits |value|; returns its result once all have.
/// |b| and |c| are the operands of PTX shfl.sync (lane/offset, clamp|segmask).
uint64_t warpOp(Site site, WarpOp op, unsigned mask, uint64_t value, int b, int c);
unsigned activeMask();
/// Ends the launch with an error Status (a no-op outside kernels).
void trap(Site site);
unsigned long long clockTicks();
// Thread-block clusters (sm_90): the blocks of a cluster run co-resident.
// An arrival and its wait act as one barrier at the wait (kernels that do
// work between the two still run, with less overlap than a GPU's).
void clusterArrive(Site site);
void clusterWait(Site site);
unsigned clusterRank();
/// The address of |pointer| (in this block's shared memory) in block
/// |rank|'s, as distributed shared memory maps it.
void *mapSharedRank(Site site, const void *pointer, unsigned rank);
// cp.async (cuda_pipeline_primitives.h): a copy reads global memory when
// issued and writes shared memory only when a wait retires its batch, so a
// read of the tile before its wait sees the old (or poisoned) contents.
void pipelineCopy(Site site, void *shared, const void *global, size_t bytes, size_t zeroFill);
void pipelineCommit();
void pipelineWaitPrior(Site site, size_t prior);

inline void syncwarp(Site site, unsigned mask = 0xffffffffu) {
  warpOp(site, WarpOp::kSync, mask, 0, 0, 0);
}
struct PipelineCopyAt {
  Site site;
  void operator()(void *shared, const void *global, size_t bytes, size_t zeroFill = 0) const {
    pipelineCopy(site, shared, global, bytes, zeroFill);
  }
};
struct SyncwarpAt {
  Site site;
  void operator()(unsigned mask = 0xffffffffu) const { syncwarp(site, mask); }
};

template <class T> inline T shfl(Site site, WarpOp op, unsigned mask, T var, int b,
                                 int width = 32) {
  static_assert(sizeof(T) <= 8, "shuffles move at most 64 bits");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  // CUDA's __shfl_*_sync encode width as PTX's clamp/segment-mask operand.
  int c = ((32 - width) << 8) | (op == WarpOp::kShflUp ? 0 : 0x1f);
  if (width <= 0 || width > 32 || (width & (width - 1)))
    c = -1; // rejected (as an error Status) by warpOp
  bits = warpOp(site, op, mask, bits, b, c);
  T out = var;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

template <class T> inline T reduceSync(Site site, WarpOp op, unsigned mask, T value) {
  static_assert(sizeof(T) == 4, "__reduce_*_sync takes int or unsigned");
  if (std::is_signed<T>::value && op == WarpOp::kReduceMinU) op = WarpOp::kReduceMinS;
  if (std::is_signed<T>::value && op == WarpOp::kReduceMaxU) op = WarpOp::kReduceMaxS;
  return static_cast<T>(warpOp(site, op, mask, static_cast<uint32_t>(value), 0, 0));
}

template <class T> inline uint64_t matchBits(T value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T) < 8 ? sizeof(T) : 8);
  return bits;
}

} // namespace dlc::sim::detail

//===----------------------------------------------------------------------===//
// Built-in variables and synchronisation.
//===----------------------------------------------------------------------===//
#define threadIdx (::dlc::sim::detail::ctx().tid)
#define blockIdx (::dlc::sim::detail::ctx().bid)
#define blockDim (::dlc::sim::detail::ctx().bdim)
#define gridDim (::dlc::sim::detail::ctx().gdim)
static constexpr int warpSize = 32;

#define DLC_SIM_SITE(what) (::dlc::sim::detail::Site{__FILE__, __LINE__, what})
#define __syncthreads() ::dlc::sim::detail::syncthreads(DLC_SIM_SITE("__syncthreads"))
// The cluster's shape comes with the launch (LaunchOptions::clusterBlocks).
#define __cluster_dims__(...)
#define __cluster_barrier_arrive()                                             \
  ::dlc::sim::detail::clusterArrive(DLC_SIM_SITE("__cluster_barrier_arrive"))
#define __cluster_barrier_wait()                                               \
  ::dlc::sim::detail::clusterWait(DLC_SIM_SITE("__cluster_barrier_wait"))
#define __clusterRelativeBlockRank() (::dlc::sim::detail::clusterRank())
#define __pipeline_memcpy_async(...)                                           \
  ::dlc::sim::detail::PipelineCopyAt{DLC_SIM_SITE("__pipeline_memcpy_async")}(__VA_ARGS__)
#define __pipeline_commit() ::dlc::sim::detail::pipelineCommit()
#define __pipeline_wait_prior(prior)                                           \
  ::dlc::sim::detail::pipelineWaitPrior(DLC_SIM_SITE("__pipeline_wait_prior"), (prior))
#define __cluster_map_shared_rank(pointer, rank)                               \
  ::dlc::sim::detail::mapSharedRank(DLC_SIM_SITE("__cluster_map_shared_rank"), (pointer), (rank))
#define __syncthreads_count(p)                                                 \
  ::dlc::sim::detail::syncthreadsReduce(DLC_SIM_SITE("__syncthreads_count"), 0, (p) ? 1 : 0)
#define __syncthreads_and(p)                                                   \
  ::dlc::sim::detail::syncthreadsReduce(DLC_SIM_SITE("__syncthreads_and"), 1, (p) ? 1 : 0)
#define __syncthreads_or(p)                                                    \
  ::dlc::sim::detail::syncthreadsReduce(DLC_SIM_SITE("__syncthreads_or"), 2, (p) ? 1 : 0)
// A call object, so that __syncwarp() with no mask compiles in ISO C++17
// too (where "##__VA_ARGS__" keeps the comma).
#define __syncwarp(...) ::dlc::sim::detail::SyncwarpAt{DLC_SIM_SITE("__syncwarp")}(__VA_ARGS__)
#define DLC_SIM_SHFL(name, op, ...)                                            \
  ::dlc::sim::detail::shfl(DLC_SIM_SITE(name), ::dlc::sim::detail::WarpOp::op, __VA_ARGS__)
#define __shfl_sync(...) DLC_SIM_SHFL("__shfl_sync", kShflIdx, __VA_ARGS__)
#define __shfl_up_sync(...) DLC_SIM_SHFL("__shfl_up_sync", kShflUp, __VA_ARGS__)
#define __shfl_down_sync(...) DLC_SIM_SHFL("__shfl_down_sync", kShflDown, __VA_ARGS__)
#define __shfl_xor_sync(...) DLC_SIM_SHFL("__shfl_xor_sync", kShflXor, __VA_ARGS__)
#define DLC_SIM_VOTE(name, op, mask, pred)                                     \
  ::dlc::sim::detail::warpOp(DLC_SIM_SITE(name), ::dlc::sim::detail::WarpOp::op, (mask), \
                             (pred) ? 1 : 0, 0, 0)
#define __ballot_sync(m, p) static_cast<unsigned>(DLC_SIM_VOTE("__ballot_sync", kBallot, m, p))
#define __any_sync(m, p) static_cast<int>(DLC_SIM_VOTE("__any_sync", kAny, m, p))
#define __all_sync(m, p) static_cast<int>(DLC_SIM_VOTE("__all_sync", kAll, m, p))
#define __activemask() ::dlc::sim::detail::activeMask()
#define DLC_SIM_REDUCE(name, op, m, v)                                         \
  ::dlc::sim::detail::reduceSync(DLC_SIM_SITE(name), ::dlc::sim::detail::WarpOp::op, (m), (v))
#define __reduce_add_sync(m, v) DLC_SIM_REDUCE("__reduce_add_sync", kReduceAdd, m, v)
#define __reduce_min_sync(m, v) DLC_SIM_REDUCE("__reduce_min_sync", kReduceMinU, m, v)
#define __reduce_max_sync(m, v) DLC_SIM_REDUCE("__reduce_max_sync", kReduceMaxU, m, v)
#define __reduce_and_sync(m, v) DLC_SIM_REDUCE("__reduce_and_sync", kReduceAnd, m, v)
#define __reduce_or_sync(m, v) DLC_SIM_REDUCE("__reduce_or_sync", kReduceOr, m, v)
#define __reduce_xor_sync(m, v) DLC_SIM_REDUCE("__reduce_xor_sync", kReduceXor, m, v)
#define __match_any_sync(m, v)                                                 \
  static_cast<unsigned>(::dlc::sim::detail::warpOp(DLC_SIM_SITE("__match_any_sync"),       \
      ::dlc::sim::detail::WarpOp::kMatchAny, (m), ::dlc::sim::detail::matchBits(v), 0, 0))
#define __trap() ::dlc::sim::detail::trap(DLC_SIM_SITE("__trap"))
#define __brkpt() ::dlc::sim::detail::trap(DLC_SIM_SITE("__brkpt"))

// Fences order nothing here: fibers never run concurrently.
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}
inline void __nanosleep(unsigned) {}
inline long long clock64() { return static_cast<long long>(::dlc::sim::detail::clockTicks()); }

//===----------------------------------------------------------------------===//
// Atomics. Plain read-modify-writes are atomic here: fibers switch only at
// synchronisation calls and launches are serialised.
//===----------------------------------------------------------------------===//
#define DLC_SIM_ATOMIC(name, T, expr)                                          \
  inline T name(T *address, T val) {                                           \
    T old = *address;                                                          \
    *address = (expr);                                                         \
    return old;                                                                \
  }
#define DLC_SIM_ATOMIC_INTS(name, expr)                                        \
  DLC_SIM_ATOMIC(name, int, expr)                                              \
  DLC_SIM_ATOMIC(name, unsigned, expr)                                         \
  DLC_SIM_ATOMIC(name, unsigned long long, expr)
DLC_SIM_ATOMIC_INTS(atomicAdd, old + val)
DLC_SIM_ATOMIC(atomicAdd, float, old + val)
DLC_SIM_ATOMIC(atomicAdd, double, old + val)
DLC_SIM_ATOMIC(atomicAdd, __half, __float2half_rn(__half2float(old) + __half2float(val)))
DLC_SIM_ATOMIC(atomicAdd, __nv_bfloat16,
               __float2bfloat16_rn(__bfloat162float(old) + __bfloat162float(val)))
DLC_SIM_ATOMIC(atomicAdd, __half2, __hadd2(old, val))
DLC_SIM_ATOMIC(atomicAdd, __nv_bfloat162, __hadd2(old, val))
DLC_SIM_ATOMIC(atomicSub, int, old - val)
DLC_SIM_ATOMIC(atomicSub, unsigned, old - val)
DLC_SIM_ATOMIC_INTS(atomicExch, val)
DLC_SIM_ATOMIC(atomicExch, float, val)
DLC_SIM_ATOMIC_INTS(atomicMax, old > val ? old : val)
DLC_SIM_ATOMIC_INTS(atomicMin, old < val ? old : val)
DLC_SIM_ATOMIC(atomicMax, long long, old > val ? old : val)
DLC_SIM_ATOMIC(atomicMin, long long, old < val ? old : val)
DLC_SIM_ATOMIC_INTS(atomicAnd, old & val)
DLC_SIM_ATOMIC_INTS(atomicOr, old | val)
DLC_SIM_ATOMIC_INTS(atomicXor, old ^ val)
DLC_SIM_ATOMIC(atomicInc, unsigned, old >= val ? 0u : old + 1)
DLC_SIM_ATOMIC(atomicDec, unsigned, (old == 0 || old > val) ? val : old - 1)
#undef DLC_SIM_ATOMIC_INTS
#undef DLC_SIM_ATOMIC
template <class T> inline T atomicCAS(T *address, T compare, T val) {
  static_assert(std::is_integral<T>::value, "atomicCAS takes integer words");
  T old = *address;
  if (old == compare) *address = val;
  return old;
}
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin
#define atomicExch_block atomicExch
#define atomicCAS_block atomicCAS

//===----------------------------------------------------------------------===//
// Loads with cache hints are plain loads.
//===----------------------------------------------------------------------===//
template <class T> inline T __ldg(const T *p) { return *p; }
template <class T> inline T __ldca(const T *p) { return *p; }
template <class T> inline T __ldcg(const T *p) { return *p; }
template <class T> inline T __ldcs(const T *p) { return *p; }
template <class T> inline T __ldlu(const T *p) { return *p; }
template <class T> inline T __ldcv(const T *p) { return *p; }
template <class T> inline void __stwb(T *p, T v) { *p = v; }
template <class T> inline void __stcg(T *p, T v) { *p = v; }
template <class T> inline void __stcs(T *p, T v) { *p = v; }
template <class T> inline void __stwt(T *p, T v) { *p = v; }

#include "runtime/cuda_sim/cuda_sim_math.h"
#include "runtime/cuda_sim/cuda_sim_fp16.h"
#include "runtime/cuda_sim/cuda_sim_wmma.h"
#include "runtime/cuda_sim/dynamic_shared.h"
#include "runtime/cuda_sim/cuda_sim_host.h"

#endif // DLC_CUDA_SIM_H
