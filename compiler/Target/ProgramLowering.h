//===- ProgramLowering.h - One function to one runtime program -----------===//
#pragma once

#include "runtime/schemas/bundle_generated.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <array>
#include <string>
#include <vector>

namespace dlc {

/// What a code-generating target attached to one dl.fused group: CUDA source
/// in the payload, its compiled images, and how to launch it.
struct KernelCode {
  std::string entry;
  std::string family;
  std::array<int64_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  bool takesStep = false;
  std::vector<int> zeroedResults; // indices into the group's results
  int64_t scratchBytes = 0;        // a Temp buffer passed after the results
  uint64_t sourceOffset = 0, sourceBytes = 0;
  struct Image {
    std::string arch;
    uint64_t ptxOffset = 0, ptxBytes = 0, cubinOffset = 0, cubinBytes = 0;
    int registers = 0, spillBytes = 0, sharedBytes = 0, stackBytes = 0;
  };
  std::vector<Image> images;
};
using KernelCodeMap = llvm::DenseMap<mlir::Operation *, KernelCode>;

/// Lowers |func| (its compute ops already in dl.fused groups) to a program
/// called |name|: buffers for arguments, parameters, views and every value a
/// kernel writes; kernels in program order; parameter writes (dl.assign) done
/// in place where no later kernel reads the old value; and a memory plan that
/// reuses arena bytes between values whose lifetimes do not overlap. Groups
/// found in |code| get their CUDA source, images and launch table; with
/// |cudaTarget|, the copies the lowering adds get device copies.
mlir::FailureOr<flatbuffers::Offset<rt::fb::Program>>
lowerProgram(mlir::func::FuncOp func, llvm::StringRef name,
             const llvm::StringMap<int> &parameterIndex, const KernelCodeMap &code,
             bool cudaTarget, flatbuffers::FlatBufferBuilder &fbb);

} // namespace dlc
