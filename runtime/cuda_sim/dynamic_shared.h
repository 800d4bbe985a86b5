//===- dynamic_shared.h - One spelling of dynamic shared memory ---------===//
//
// Generated kernels include this (or paste it) so the same source compiles
// with NVRTC/nvcc and with g++ against the CPU emulation (cuda_sim.h).
// `extern __shared__ T x[];` has no host equivalent a storage-class macro
// could produce, so dynamic shared memory gets its own spelling:
//
//   DLC_DYNAMIC_SHARED(float, smem);                  // float *smem, offset 0
//   DLC_DYNAMIC_SHARED_AT(int, idx, 1024 * 4);         // bytes from the start
//
// Every use aliases the same launch-sized buffer, aligned to 16 bytes, as
// CUDA's extern __shared__ arrays do. Self-contained on purpose: NVRTC has no
// include path unless given one, so the compiler may embed this text.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CUDA_SIM_DYNAMIC_SHARED_H
#define DLC_CUDA_SIM_DYNAMIC_SHARED_H

#if defined(__CUDACC__)
// One byte array per kernel, redeclared identically by every use; typed views
// are pointers into it, so different kernels may use different element types.
#define DLC_DYNAMIC_SHARED_AT(type, name, byteOffset)                          \
  extern __shared__ __align__(16) unsigned char dlc_dynamic_smem_[];           \
  type *name = reinterpret_cast<type *>(dlc_dynamic_smem_ + (byteOffset))
#else
// Host: the emulator's per-block buffer (cuda_sim.h must be included first).
#define DLC_DYNAMIC_SHARED_AT(type, name, byteOffset)                          \
  type *name = reinterpret_cast<type *>(::dlc::sim::detail::dynamicShared() + (byteOffset))
#endif

#define DLC_DYNAMIC_SHARED(type, name) DLC_DYNAMIC_SHARED_AT(type, name, 0)

#endif // DLC_CUDA_SIM_DYNAMIC_SHARED_H
