//===- DLGradients.cpp - Gradient rules of the dl ops ---------------------===//
//
// One rule per differentiable op: given the gradient of its result, build the
// gradients of the operands that need one. Every gradient has the type of the
// value it is the gradient of, so types are passed explicitly and sizes that
// strides do not determine travel in the result type.
//
//===----------------------------------------------------------------------===//
#include "dialects/DL/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace dlc::dl;

namespace {
/// Prepares |grads| to hold one entry per operand of |op|.
void reset(Operation *op, SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
}

/// The index of |value| among |op|'s operands.
unsigned indexOf(Operation *op, Value value) {
  for (OpOperand &operand : op->getOpOperands())
    if (operand.get() == value)
      return operand.getOperandNumber();
  return op->getNumOperands();
}

/// dy for the operand at |index| when it is needed.
bool wants(ArrayRef<bool> needed, unsigned index) { return index < needed.size() && needed[index]; }

template <typename GradOp, typename... Args>
Value grad(OpBuilder &b, Operation *forward, Type type, Args &&...args) {
  return b.create<GradOp>(forward->getLoc(), type, std::forward<Args>(args)...);
}

LogicalResult biasAndDone(OpBuilder &b, Operation *op, Value bias, Value dy,
                          ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  if (bias && wants(needed, indexOf(op, bias)))
    grads[indexOf(op, bias)] = grad<BiasGradOp>(b, op, bias.getType(), dy);
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Convolution, pooling, dense
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                       ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value dy = resultGrads[0];
  if (wants(needed, 0))
    grads[0] = grad<Conv2DGradInputOp>(b, *this, getInput().getType(), dy, getKernel(),
                                       getStridesAttr(), getPaddingAttr(), getDilationAttr());
  if (wants(needed, 1))
    grads[1] = grad<Conv2DGradKernelOp>(b, *this, getKernel().getType(), getInput(), dy,
                                        getStridesAttr(), getPaddingAttr(), getDilationAttr());
  return biasAndDone(b, *this, getBias(), dy, needed, grads);
}

LogicalResult MaxPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                          ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<MaxPool2DGradOp>(b, *this, getInput().getType(), getInput(), resultGrads[0],
                                     getPoolSizeAttr(), getStridesAttr(), getPaddingAttr());
  return success();
}

LogicalResult AvgPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                          ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<AvgPool2DGradOp>(b, *this, getInput().getType(), resultGrads[0],
                                     getPoolSizeAttr(), getStridesAttr(), getPaddingAttr());
  return success();
}

LogicalResult GlobalMaxPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                                ArrayRef<bool> needed,
                                                SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<GlobalMaxPool2DGradOp>(b, *this, getInput().getType(), getInput(),
                                           resultGrads[0]);
  return success();
}

LogicalResult GlobalAvgPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                                ArrayRef<bool> needed,
                                                SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<GlobalAvgPool2DGradOp>(b, *this, getInput().getType(), resultGrads[0]);
  return success();
}

LogicalResult DenseOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value dy = resultGrads[0];
  if (wants(needed, 0))
    grads[0] = grad<DenseGradInputOp>(b, *this, getInput().getType(), dy, getKernel());
  if (wants(needed, 1))
    grads[1] = grad<DenseGradKernelOp>(b, *this, getKernel().getType(), getInput(), dy);
  return biasAndDone(b, *this, getBias(), dy, needed, grads);
}

//===----------------------------------------------------------------------===//
// Shape and regularisation layers
//===----------------------------------------------------------------------===//

/// Flatten and reshape are undone by reshaping the gradient back.
static Value reshapeBack(OpBuilder &b, Operation *op, Value input, Value dy) {
  auto type = cast<RankedTensorType>(input.getType());
  return b.create<ReshapeOp>(op->getLoc(), type, dy,
                             b.getDenseI64ArrayAttr(type.getShape().drop_front()));
}

LogicalResult FlattenOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                        ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = reshapeBack(b, *this, getInput(), resultGrads[0]);
  return success();
}

LogicalResult ReshapeOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                        ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = reshapeBack(b, *this, getInput(), resultGrads[0]);
  return success();
}

LogicalResult CastOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  // Integer inputs (ids) have no gradient.
  Type from = getElementTypeOrSelf(getInput().getType());
  if (wants(needed, 0) && isa<FloatType>(from))
    grads[0] = b.create<CastOp>(getLoc(), getInput().getType(), resultGrads[0], TypeAttr::get(from));
  return success();
}

LogicalResult DropoutOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                        ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  // The same mask (same seed, same step) applied to the gradient.
  if (wants(needed, 0))
    grads[0] = b.create<DropoutOp>(getLoc(), getInput().getType(), resultGrads[0],
                                   getRateAttr(), getSeedAttr(), getTrainingAttr());
  return success();
}

LogicalResult BatchNormOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                          ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value gamma = getGamma(), beta = getBeta();
  if (!getTraining()) {
    // Frozen: statistics and scales are constants, only the input moves.
    if (wants(needed, 0))
      grads[0] = b.create<BatchNormInferenceGradOp>(getLoc(), getInput().getType(), resultGrads[0],
                                                    gamma, getMovingVariance(), getAxisAttr(),
                                                    getEpsilonAttr());
    return success();
  }
  Type betaType = beta ? beta.getType() : getMovingMean().getType();
  Type gammaType = gamma ? gamma.getType() : getMovingMean().getType();
  auto bn = b.create<BatchNormGradOp>(getLoc(), TypeRange{getInput().getType(), gammaType, betaType},
                                      getInput(), gamma, resultGrads[0], getAxisAttr(),
                                      getEpsilonAttr());
  if (wants(needed, 0))
    grads[0] = bn.getDx();
  if (gamma && wants(needed, indexOf(*this, gamma)))
    grads[indexOf(*this, gamma)] = bn.getDgamma();
  if (beta && wants(needed, indexOf(*this, beta)))
    grads[indexOf(*this, beta)] = bn.getDbeta();
  return success();
}

//===----------------------------------------------------------------------===//
// Sequence layers
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                          ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 1))
    grads[1] = grad<EmbeddingGradOp>(b, *this, getTable().getType(), getIds(), resultGrads[0]);
  return success();
}

LogicalResult LSTMOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  auto recurrent = cast<RankedTensorType>(getRecurrentKernel().getType());
  auto biasType = RankedTensorType::get({recurrent.getDimSize(1)}, recurrent.getElementType());
  auto lstm = b.create<LSTMGradOp>(
      getLoc(),
      TypeRange{getInput().getType(), getKernel().getType(), recurrent, biasType},
      getInput(), getKernel(), getRecurrentKernel(), getBias(), resultGrads[0], /*states=*/Value(),
      getReturnSequencesAttr());
  Value results[] = {lstm.getDx(), lstm.getDkernel(), lstm.getDrecurrentKernel(), lstm.getDbias()};
  for (unsigned i = 0; i < getNumOperands(); ++i)
    if (wants(needed, i))
      grads[i] = results[i];
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult ReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    // relu(x) > 0 exactly where x > 0: taking the output lets a fused
    // conv+relu keep only its activated result for the backward pass.
    grads[0] = grad<ReluGradOp>(b, *this, getInput().getType(), getOutput(), resultGrads[0]);
  return success();
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                        ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<SigmoidGradOp>(b, *this, getInput().getType(), getOutput(), resultGrads[0]);
  return success();
}

LogicalResult TanhOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<TanhGradOp>(b, *this, getInput().getType(), getOutput(), resultGrads[0]);
  return success();
}

LogicalResult GeluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<GeluGradOp>(b, *this, getInput().getType(), getInput(), resultGrads[0],
                                getApproximateAttr());
  return success();
}

LogicalResult LeakyReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                          ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<LeakyReluGradOp>(b, *this, getInput().getType(), getInput(), resultGrads[0],
                                     getNegativeSlopeAttr());
  return success();
}

LogicalResult SoftmaxOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                        ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = grad<SoftmaxGradOp>(b, *this, getInput().getType(), getOutput(), resultGrads[0],
                                   getAxisAttr());
  return success();
}

//===----------------------------------------------------------------------===//
// Merge layers
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(OpBuilder &, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  for (unsigned i = 0; i < getNumOperands(); ++i)
    if (wants(needed, i))
      grads[i] = resultGrads[0];
  return success();
}

LogicalResult ConcatOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                       ArrayRef<bool> needed, SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  auto resultType = cast<RankedTensorType>(getOutput().getType());
  int64_t axis = int64_t(getAxis());
  if (axis < 0)
    axis += resultType.getRank();
  int64_t start = 0;
  for (unsigned i = 0; i < getNumOperands(); ++i) {
    auto type = cast<RankedTensorType>(getInputs()[i].getType());
    if (wants(needed, i))
      grads[i] = b.create<SliceOp>(getLoc(), type, resultGrads[0], b.getI64IntegerAttr(axis),
                                   b.getI64IntegerAttr(start));
    start += type.getDimSize(axis);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

LogicalResult LossOp::buildGradients(OpBuilder &b, ArrayRef<Value>, ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wants(needed, 0))
    grads[0] = b.create<LossGradOp>(getLoc(), getPrediction().getType(), getPrediction(),
                                    getLabels(), /*loss_scale=*/Value(), getConfigAttr(),
                                    getWeightAttr());
  return success();
}
