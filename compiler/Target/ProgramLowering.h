//===- ProgramLowering.h - One function to one runtime program -----------===//
#pragma once

#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "runtime/schemas/bundle_generated.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <array>
#include <optional>
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
  bool zeroedScratch = false;      // zeroed before each launch
  cuda::TensorCores tensorCores = cuda::TensorCores::kNone; // CudaKernel's: for the kernel's cost
  double efficiency = 0;
  int64_t globalAtomics = 0;
  /// Set when a library routine runs the group: no source, no images.
  std::optional<cuda::LibraryCallCode> library;
  std::vector<cuda::CudaStage> then; // launches after the first
  uint64_t sourceOffset = 0, sourceBytes = 0;
  struct Image {
    std::string arch;
    uint64_t ptxOffset = 0, ptxBytes = 0, cubinOffset = 0, cubinBytes = 0;
    int registers = 0, spillBytes = 0, sharedBytes = 0, stackBytes = 0;
  };
  std::vector<Image> images;
  /// The group's other plan (a library call where this is generated code,
  /// or the reverse), which the device times against this one: at most one.
  std::vector<KernelCode> alternative;
};
using KernelCodeMap = llvm::DenseMap<mlir::Operation *, KernelCode>;

/// The bundle dtype of element type |elem| (the runtime's DType), if a
/// bundle can hold it.
std::optional<rt::fb::DType> bundleDType(mlir::Type elem);

/// Lowers |func| (its compute ops in dl.fused groups whose kernel families
/// dlc-select-kernels chose, its memory planned by dlc-plan-memory) to a
/// program called |name|: buffers for arguments, parameters, views and every
/// value a kernel writes, placed as the recorded plan says (checked: aligned,
/// inside the arena, no two live buffers sharing bytes); kernels in program
/// order, with a copy kernel for each parameter write the plan does not do
/// in place. Groups found in |code| get their CUDA source, images and launch
/// table; with |cudaTarget|, the copies get device copies.
mlir::FailureOr<flatbuffers::Offset<rt::fb::Program>>
lowerProgram(mlir::func::FuncOp func, llvm::StringRef name,
             const llvm::StringMap<int> &parameterIndex, const KernelCodeMap &code,
             bool cudaTarget, flatbuffers::FlatBufferBuilder &fbb);

/// The memory plan of |func| (dlc-plan-memory): decides which parameter
/// writes happen in place (the producing kernel writes the parameter's
/// storage when no later kernel reads the old value) and gives every arena
/// buffer an offset, reusing bytes between values whose lifetimes do not
/// overlap (greedy best fit, largest first, 64-byte aligned); records it as
/// `dl.memory` on each op result and argument (an offset, "unstored", or the
/// parameter written in place), `dl.scratch` = [bytes, offset] on groups
/// whose CUDA kernel needs scratch, and `dl.arena_bytes` on the function.
mlir::LogicalResult planProgramMemory(mlir::func::FuncOp func,
                                      const llvm::StringMap<int> &parameterIndex);

} // namespace dlc
