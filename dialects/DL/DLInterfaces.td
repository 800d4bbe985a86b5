//===- DLInterfaces.td - Interfaces of the dl dialect ---------*- tablegen -*-===//
#ifndef DL_INTERFACES
#define DL_INTERFACES

include "mlir/IR/OpBase.td"

def DL_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::dlc::dl";
  let description = [{
    An op that knows its gradient rule: reverse-mode autodiff asks each op,
    from the loss backwards, for the gradients of its operands. Rules live in
    DLGradients.cpp, next to one another, one per op.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the gradient of each operand
        whose entry in `needed` is true, given the gradients of the results
        (null where a result does not reach the loss). Fills `operandGrads`
        with one value per operand (null where not needed or not
        differentiable).
      }],
      "::llvm::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::ArrayRef<bool>":$needed,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

#endif // DL_INTERFACES
