//===- PlanMemory.cpp - dlc-plan-memory: place each program's buffers -----===//
#include "compiler/Target/Passes.h"

#include "compiler/Target/ProgramLowering.h"
#include "dialects/DL/DLOps.h"

namespace dlc {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "compiler/Target/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace {

struct PlanMemoryPass : dlc::impl::PlanMemoryPassBase<PlanMemoryPass> {
  void runOnOperation() override {
    // Parameters by declaration order, as the bundle numbers them.
    llvm::StringMap<int> parameterIndex;
    for (auto param : getOperation().getOps<dlc::dl::ParamOp>())
      parameterIndex[param.getSymName()] = int(parameterIndex.size());
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(dlc::planProgramMemory(func, parameterIndex)))
        return signalPassFailure();
  }
};

} // namespace
