//===- Passes.td - Passes of the bundle target ----------------*- tablegen -*-===//
#ifndef DLC_TARGET_PASSES
#define DLC_TARGET_PASSES

include "mlir/Pass/PassBase.td"

def PlanMemoryPass : Pass<"dlc-plan-memory", "mlir::ModuleOp"> {
  let summary = "Place every buffer of each program: in-place parameter writes, arena offsets";
  let description = [{
    Runs after dlc-select-kernels over each function in program order:
    liveness in kernels, which parameter writes (dl.assign) the producing
    kernel does in place (no later kernel reads the old value), and arena
    offsets that reuse bytes between values whose lifetimes do not overlap
    (greedy best fit, largest first, 64-byte aligned; a view shares its
    base's bytes; a CUDA kernel's scratch lives during its kernel only).
    Records `dl.memory` on each op result and function argument (an offset,
    "unstored" for a value made and read inside one CPU call, or the
    parameter written in place), `dl.scratch = [bytes, offset]` on groups
    whose CUDA kernel needs scratch, and `dl.arena_bytes` on the function.
    The bundle writer places buffers as recorded and checks the plan.
  }];
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

#endif // DLC_TARGET_PASSES
