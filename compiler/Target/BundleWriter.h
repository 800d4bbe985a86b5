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
  std::vector<std::string> targets = {"cpu"};
  /// Seeds every parameter initializer (per parameter: mixed with its name).
  uint64_t seed = 0;
  /// The .dl file, recorded in the bundle.
  std::string source;
};

/// Lowers |module| into the bytes of a .dlcb file. Errors are emitted on the
/// offending op's location.
mlir::LogicalResult writeBundle(mlir::ModuleOp module, const BundleOptions &options,
                                std::vector<uint8_t> *fileBytes);

} // namespace dlc
