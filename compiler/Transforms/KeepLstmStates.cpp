//===- KeepLstmStates.cpp - The LSTM gradient reads the forward's states --===//
//
// Implements `dlc-keep-lstm-states`. Without the forward's hidden states
// the LSTM gradient must run the recurrence again: a product with the
// recurrent kernel at every step, one after another. Given the state after
// every step, it computes every step's gates at once, as one product over all
// rows and steps, and only the way back through time stays sequential.
//
// A dl.lstm with `return_sequences` already yields them. Otherwise the
// forward of a function that also takes its gradient is made to return
// every state, and its old result becomes the last step:
//
//   %h = dl.lstm %x, %k, %r, %b                     (last state [N, U])
// becomes
//   %s = dl.lstm %x, %k, %r, %b {return_sequences}  (every state [N, T, U])
//   %l = dl.slice %s {axis = 1, start = T - 1}      ([N, 1, U])
//   %h = dl.reshape %l {shape = [U]}
//   ... dl.lstm_grad %x, %k, %r, %b, %dy, %s
//
// Runs after dlc-select-precision, and only where the states are f32: 16-bit
// stored states would give the gradient gates other than the forward's.
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "compiler/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_KEEPLSTMSTATESPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

bool isF32(Value v) { return cast<ShapedType>(v.getType()).getElementType().isF32(); }

/// The forward op whose gradient |grad| is: the dl.lstm of the same
/// function with its operands and return_sequences, or null.
dl::LSTMOp forwardOf(dl::LSTMGradOp grad) {
  dl::LSTMOp found;
  grad->getParentOfType<func::FuncOp>().walk([&](dl::LSTMOp lstm) {
    if (!found && lstm.getInput() == grad.getInput() && lstm.getKernel() == grad.getKernel() &&
        lstm.getRecurrentKernel() == grad.getRecurrentKernel() && lstm.getBias() == grad.getBias() &&
        lstm.getReturnSequences() == grad.getReturnSequences())
      found = lstm;
  });
  return found;
}

/// Gives |op| the precision record dlc-select-precision gives its kind (its
/// values are f32: no TF32 product, no cast).
void recordPrecision(Operation *op) {
  op->setAttr(precision::kPrecisionAttr, StringAttr::get(op->getContext(), precision::ruleFor(op).why));
}

struct KeepLstmStatesPass : dlc::impl::KeepLstmStatesPassBase<KeepLstmStatesPass> {
  void runOnOperation() override {
    SmallVector<dl::LSTMGradOp> grads;
    getOperation().walk([&](dl::LSTMGradOp grad) {
      if (!grad.getStates())
        grads.push_back(grad);
    });
    for (dl::LSTMGradOp grad : grads) {
      dl::LSTMOp forward = forwardOf(grad);
      if (!forward || !isF32(forward.getOutput()) || !isF32(grad.getInput()))
        continue;
      auto input = cast<RankedTensorType>(forward.getInput().getType());
      auto last = cast<RankedTensorType>(forward.getOutput().getType());
      if (!input.hasStaticShape() || !last.hasStaticShape())
        continue;
      Value states = forward.getOutput();
      if (!forward.getReturnSequences()) {
        const int64_t n = input.getDimSize(0), steps = input.getDimSize(1), units = last.getDimSize(1);
        OpBuilder b(forward->getContext());
        b.setInsertionPointAfter(forward);
        Value old = forward.getOutput();
        // Every state, and the last step as the old result for its readers.
        auto sequence = b.create<dl::LSTMOp>(forward.getLoc(),
                                             RankedTensorType::get({n, steps, units}, last.getElementType()),
                                             forward.getInput(), forward.getKernel(), forward.getRecurrentKernel(),
                                             forward.getBias(), b.getUnitAttr());
        sequence->setDiscardableAttrs(forward->getDiscardableAttrDictionary());
        auto step = b.create<dl::SliceOp>(forward.getLoc(),
                                          RankedTensorType::get({n, 1, units}, last.getElementType()),
                                          sequence.getOutput(), b.getI64IntegerAttr(1),
                                          b.getI64IntegerAttr(steps - 1));
        auto reshaped = b.create<dl::ReshapeOp>(forward.getLoc(), last, step.getOutput(),
                                                b.getDenseI64ArrayAttr({units}));
        recordPrecision(step);
        recordPrecision(reshaped);
        old.replaceAllUsesWith(reshaped.getOutput());
        forward->erase();
        states = sequence.getOutput();
      }
      grad.getStatesMutable().assign(states);
    }
  }
};

} // namespace
