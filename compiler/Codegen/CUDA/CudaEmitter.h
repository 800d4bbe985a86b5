//===- CudaEmitter.h - dl.fused groups to CUDA C++ ------------------------===//
//
// Each dl.fused group becomes one `extern "C" __global__` function whose
// parameters are the group's inputs then its results (device pointers in
// that order), then its scratch buffer if it has one, then the training step
// if it takes it, plus the launch configuration. The same source compiles with
// NVRTC for the GPU and with the host compiler against the CUDA emulation
// (runtime/cuda_sim) for tests without a GPU.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLOps.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::cuda {

struct CudaKernel {
  std::string name;   // a C identifier; equal names mean equal code
  std::string family; // the emitter that wrote it: one of kernelFamilies()
  std::string source; // one translation unit
  std::array<int64_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  int64_t sharedBytes = 0;
  /// Whether the kernel takes the training step (dropout) as its last
  /// parameter, after the buffers.
  bool takesStep = false;
  /// Results the runtime must zero before the launch (reductions that
  /// accumulate with atomics), as indices into the group's results.
  std::vector<int> zeroedOutputs;
  /// Global memory private to one launch (state that does not fit shared
  /// memory), passed after the results as `float *scratch`; its contents
  /// are undefined at the start.
  int64_t scratchBytes = 0;
};

/// What every architecture dlc compiles for (sm_75 and later) allows a
/// launch; an emitter must pick a launch shape within them.
struct LaunchLimits {
  static constexpr int64_t kGridX = (int64_t(1) << 31) - 1, kGridYZ = 65535;
  static constexpr int64_t kBlockXY = 1024, kBlockZ = 64, kThreadsPerBlock = 1024;
  /// Static shared memory; dynamic shared memory beyond it needs an opt-in.
  static constexpr int64_t kStaticSharedBytes = 48 * 1024;
};
/// "" when |kernel|'s launch is within LaunchLimits, else what exceeds them.
std::string launchLimitError(const CudaKernel &kernel);

/// Whether a conv2d kernel can end in |pool|, pooling inside its output
/// tile: windows no larger than a tile and no gaps between them. dlc-fuse
/// forms conv + pool groups only then.
bool poolJoinsConvolution(mlir::Operation *pool);

/// Whether a dense kernel can end in |softmax| as a row epilogue: it
/// normalizes along the last axis, the rows of the product.
bool softmaxJoinsDense(mlir::Operation *softmax);

/// The emitter families, in the order emitKernel tries them.
std::vector<std::string> kernelFamilies();

/// Emits |group|; fails with an error at its location when no emitter covers
/// the group. The name is the group's plus a hash of the code: groups with
/// equal code get equal kernels of one name.
mlir::FailureOr<CudaKernel> emitKernel(dl::FusedOp group);

} // namespace dlc::cuda
