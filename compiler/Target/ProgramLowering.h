//===- ProgramLowering.h - One function to one runtime program -----------===//
#pragma once

#include "runtime/schemas/bundle_generated.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace dlc {

/// Lowers |func| (its compute ops already in dl.fused groups) to a program
/// called |name|: buffers for arguments, parameters, views and every value a
/// kernel writes; kernels in program order; parameter writes (dl.assign) done
/// in place where no later kernel reads the old value; and a memory plan that
/// reuses arena bytes between values whose lifetimes do not overlap.
mlir::FailureOr<flatbuffers::Offset<rt::fb::Program>>
lowerProgram(mlir::func::FuncOp func, llvm::StringRef name,
             const llvm::StringMap<int> &parameterIndex, flatbuffers::FlatBufferBuilder &fbb);

} // namespace dlc
