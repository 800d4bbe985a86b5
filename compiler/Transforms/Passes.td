//===- Passes.td - dlc compiler passes ------------------------*- tablegen -*-===//
#ifndef DLC_TRANSFORMS_PASSES
#define DLC_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

def InferShapesPass : Pass<"dlc-infer-shapes", "mlir::ModuleOp"> {
  let summary = "Fill every result type of the dl ops from the input shapes";
  let description = [{
    Walks each function in order and replaces every dl op's result types by
    what its shape function computes from the (possibly refined) operand
    types, keeping any dimension the IR already knew. Function result types
    follow. With `batch-size`, a dynamic batch dimension of every function
    argument is first fixed to that size, so the whole model becomes static
    (what code generation wants).
  }];
  let options = [
    Option<"batchSize", "batch-size", "int64_t", /*default=*/"0",
           "Fix dynamic batch dimensions of function arguments to this size (0 keeps them)">,
  ];
}

#endif // DLC_TRANSFORMS_PASSES
