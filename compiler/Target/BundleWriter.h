//===- BundleWriter.h - dl modules to dlc bundles -------------------------===//
//
// The last compiler stage: a module that went through dlc-infer-shapes,
// dlc-autodiff and dlc-fuse becomes a bundle (runtime/schemas/bundle.fbs):
// one program per function, each an ordered list of kernels over buffers
// with a memory plan, plus the parameters' initial values.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc {

struct BundleOptions {
  /// "cpu" always; "cuda" adds every kernel's CUDA code (source, launch
  /// table, and PTX + CUBIN per architecture, compiled with NVRTC).
  std::vector<std::string> targets = {"cpu"};
  /// Architectures the CUDA kernels are compiled for, in this order.
  /// Architectures to compile PTX and CUBIN for; empty: CUDA source only.
  std::vector<std::string> cudaArchs = {"sm_80", "sm_90"};
  /// Seeds every parameter initializer (per parameter: mixed with its name).
  uint64_t seed = 0;
  /// Leaves out the initial values an initializer draws (not those read
  /// from weights files or given as constants): the runtime draws the same
  /// values when it loads the bundle. For bundles that load a checkpoint
  /// or only measure speed (--initial-values drawn).
  bool drawInitialValues = false;
  /// The .dl file, recorded in the bundle.
  std::string source;
};

/// What the NVRTC step of the cuda target did (`dlc compile --verbose`).
struct CudaCompileStats {
  int kernels = 0;      // distinct kernels (identical groups share one)
  int images = 0;       // kernels x architectures
  int cacheHits = 0;    // images read from the kernel cache, not compiled
  double seconds = 0;   // NVRTC and the cache, wall clock
  std::string compiler; // "NVRTC 13.0"
  std::string cacheDirectory; // "" when caching is off
};

/// "" when the cuda target can compile for |archs| here: NVRTC loads and
/// supports each of them. Otherwise a one-line message saying what is
/// missing or which architecture is unknown.
std::string checkCudaToolchain(const std::vector<std::string> &archs);

/// Lowers |module| into the bytes of a .dlcb file. Errors are emitted on the
/// offending op's location (a kernel NVRTC rejects: on its dl.fused group).
/// |stats|, if given, receives what the cuda target compiled.
mlir::LogicalResult writeBundle(mlir::ModuleOp module, const BundleOptions &options,
                                std::vector<uint8_t> *fileBytes,
                                CudaCompileStats *stats = nullptr);

} // namespace dlc
