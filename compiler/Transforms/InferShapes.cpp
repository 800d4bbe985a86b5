//===- InferShapes.cpp - Fill result types of dl ops ----------------------===//
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace dlc {
#define GEN_PASS_DEF_INFERSHAPESPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace {
/// The most refined type both |inferred| and |known| allow: a dimension known
/// on either side wins. The caller has checked that they are compatible.
Type refine(Type inferred, Type known) {
  auto inferredTensor = dyn_cast<RankedTensorType>(inferred);
  if (!inferredTensor)
    return known;
  auto knownTensor = dyn_cast<RankedTensorType>(known);
  if (!knownTensor || knownTensor.getRank() != inferredTensor.getRank())
    return inferred;
  SmallVector<int64_t> shape(inferredTensor.getShape());
  for (auto [dim, knownDim] : llvm::zip(shape, knownTensor.getShape()))
    if (ShapedType::isDynamic(dim))
      dim = knownDim;
  return RankedTensorType::get(shape, inferredTensor.getElementType());
}

/// Sets the dynamic batch dimension of |function|'s tensor arguments.
void fixBatchSize(func::FuncOp function, int64_t batchSize) {
  if (function.isExternal())
    return;
  SmallVector<Type> inputs;
  for (BlockArgument argument : function.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (type && type.getRank() > 0 && type.isDynamicDim(0)) {
      SmallVector<int64_t> shape(type.getShape());
      shape[0] = batchSize;
      argument.setType(RankedTensorType::get(shape, type.getElementType()));
    }
    inputs.push_back(argument.getType());
  }
  function.setFunctionType(
      FunctionType::get(function.getContext(), inputs, function.getResultTypes()));
}

struct InferShapesPass : dlc::impl::InferShapesPassBase<InferShapesPass> {
  using InferShapesPassBase::InferShapesPassBase;

  void runOnOperation() override {
    if (batchSize < 0) {
      getOperation().emitError("batch-size must be positive (or 0 to keep the batch dynamic), got ")
          << static_cast<int64_t>(batchSize);
      return signalPassFailure();
    }
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      if (batchSize > 0)
        fixBatchSize(function, batchSize);
      if (failed(inferFunction(function)))
        return signalPassFailure();
    }
  }

  LogicalResult inferFunction(func::FuncOp function) {
    WalkResult walk = function.walk([&](Operation *op) {
      auto inferable = dyn_cast<InferTypeOpInterface>(op);
      if (!inferable || !isa<dlc::dl::DLDialect>(op->getDialect()))
        return WalkResult::advance();
      SmallVector<Type> inferred;
      if (failed(inferable.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                            op->getAttrDictionary(), op->getPropertiesStorage(),
                                            op->getRegions(), inferred)))
        return WalkResult::interrupt();
      // Refined operands can contradict a result type the IR spelled out
      // (e.g. a static batch of 16 once the batch is fixed to 32).
      if (!dlc::dl::areRefinableTypes(inferred, op->getResultTypes())) {
        InFlightDiagnostic diag = op->emitOpError("result types ");
        llvm::interleaveComma(op->getResultTypes(), diag);
        diag << " contradict the inferred ";
        llvm::interleaveComma(inferred, diag);
        return WalkResult::interrupt();
      }
      for (auto [result, type] : llvm::zip(op->getResults(), inferred))
        result.setType(refine(type, result.getType()));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    function.walk([&](func::ReturnOp ret) {
      function.setFunctionType(FunctionType::get(
          function.getContext(), function.getArgumentTypes(), ret.getOperandTypes()));
    });
    return success();
  }
};
} // namespace
