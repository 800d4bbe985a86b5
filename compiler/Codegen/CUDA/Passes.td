//===- Passes.td - CUDA code generation passes ----------------*- tablegen -*-===//
#ifndef DLC_CODEGEN_CUDA_PASSES
#define DLC_CODEGEN_CUDA_PASSES

include "mlir/Pass/PassBase.td"

def PrintCudaPass : Pass<"dlc-print-cuda", "mlir::ModuleOp"> {
  let summary = "Print the CUDA C++ kernel of every dl.fused group (for tests)";
  let description = [{
    Runs the CUDA emitter on each `dl.fused` group in program order and
    prints every kernel's source to stdout; a group no emitter covers is an
    error at its location. The module is left unchanged.
  }];
}

#endif // DLC_CODEGEN_CUDA_PASSES
