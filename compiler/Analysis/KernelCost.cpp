//===- KernelCost.cpp - What a kernel group's arithmetic and traffic cost -===//
#include "compiler/Analysis/KernelCost.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace dlc {
namespace {

uint64_t elements(Value v) {
  auto t = dyn_cast<ShapedType>(v.getType());
  if (!t || !t.hasStaticShape())
    return 0;
  return uint64_t(t.getNumElements());
}

uint64_t bytes(Value v) {
  auto t = dyn_cast<ShapedType>(v.getType());
  if (!t || !t.hasStaticShape())
    return 0;
  return uint64_t(t.getNumElements()) * ((t.getElementTypeBitWidth() + 7) / 8);
}

int64_t dim(Value v, int64_t i) {
  auto t = cast<ShapedType>(v.getType());
  return t.getDimSize(i < 0 ? t.getRank() + i : i);
}

/// The most elements any operand or result of |op| has: what a per-element
/// op touches.
uint64_t largest(Operation *op) {
  uint64_t n = 0;
  for (Value v : op->getOperands())
    n = std::max(n, elements(v));
  for (Value v : op->getResults())
    n = std::max(n, elements(v));
  return n;
}

/// A product's multiply-adds: each element of |out| sums |depth| products.
uint64_t product(uint64_t outElements, int64_t depth) { return 2 * outElements * uint64_t(depth); }

/// An LSTM's matrix products over the sequence: [N·T, F + units] · [F + units, 4·units].
uint64_t lstmProducts(Value input, Value recurrentKernel) {
  int64_t rows = dim(input, 0) * dim(input, 1), units = dim(recurrentKernel, 0);
  return uint64_t(2 * rows) * uint64_t(dim(input, 2) + units) * uint64_t(4 * units);
}

} // namespace

uint64_t flopsOf(Operation *op) {
  // The per-element costs are rough (a transcendental function counts one):
  // what they decide is whether a kernel is bound by memory, which they
  // are far from changing.
  return llvm::TypeSwitch<Operation *, uint64_t>(op)
      // A convolution's output element sums kh·kw·in products; each
      // gradient does the same products, arranged differently.
      .Case([](dl::Conv2DOp c) {
        return product(elements(c.getOutput()), dim(c.getKernel(), 0) * dim(c.getKernel(), 1) *
                                                    dim(c.getKernel(), 2)) +
               (c.getBias() ? elements(c.getOutput()) : 0);
      })
      .Case([](dl::Conv2DGradInputOp c) {
        return product(elements(c.getDy()),
                       dim(c.getKernel(), 0) * dim(c.getKernel(), 1) * dim(c.getKernel(), 2));
      })
      .Case([](dl::Conv2DGradKernelOp c) {
        return product(elements(c.getDy()), dim(c.getDkernel(), 0) * dim(c.getDkernel(), 1) *
                                                dim(c.getDkernel(), 2));
      })
      .Case([](dl::DenseOp d) {
        return product(elements(d.getOutput()), dim(d.getKernel(), 0)) +
               (d.getBias() ? elements(d.getOutput()) : 0);
      })
      .Case([](dl::DenseGradInputOp d) { return product(elements(d.getDx()), dim(d.getKernel(), 1)); })
      .Case([](dl::DenseGradKernelOp d) {
        return product(elements(d.getDkernel()), int64_t(elements(d.getInput())) / dim(d.getInput(), -1));
      })
      // Gates: 4 activations, 3 products and 2 sums per unit and step.
      .Case([](dl::LSTMOp l) {
        return lstmProducts(l.getInput(), l.getRecurrentKernel()) +
               10 * uint64_t(dim(l.getInput(), 0) * dim(l.getInput(), 1) * dim(l.getRecurrentKernel(), 0));
      })
      // The forward's gate products again (from its states when they are
      // given: at once over every step, not one step after another), then
      // the gates' gradients by the input and state (dx, dh) and by the
      // weights: three times the forward's products.
      .Case([](dl::LSTMGradOp l) {
        return 3 * lstmProducts(l.getInput(), l.getRecurrentKernel()) +
               20 * uint64_t(dim(l.getInput(), 0) * dim(l.getInput(), 1) * dim(l.getRecurrentKernel(), 0));
      })
      .Case<dl::MaxPool2DOp, dl::AvgPool2DOp>([](auto p) {
        ArrayRef<int64_t> window = p.getPoolSize();
        return elements(p.getOutput()) * uint64_t(window[0] * window[1]);
      })
      .Case<dl::MaxPool2DGradOp, dl::AvgPool2DGradOp>([](auto p) {
        ArrayRef<int64_t> window = p.getPoolSize();
        return elements(p.getDy()) * uint64_t(window[0] * window[1]);
      })
      .Case<dl::FlattenOp, dl::ReshapeOp, dl::ConcatOp, dl::SliceOp, dl::EmbeddingOp, dl::ZerosOp,
            dl::CastOp, dl::AssignOp>([](Operation *) { return uint64_t(0); })
      .Case<dl::SigmoidOp, dl::TanhOp, dl::SoftmaxGradOp, dl::SigmoidGradOp, dl::TanhGradOp>(
          [](Operation *o) { return 3 * largest(o); })
      .Case<dl::GeluOp, dl::GeluGradOp, dl::SoftmaxOp, dl::LossOp, dl::LossGradOp,
            dl::ExampleLossOp, dl::BatchNormOp, dl::AugmentOp>(
          [](Operation *o) { return 6 * largest(o); })
      .Case<dl::BatchNormGradOp, dl::BatchNormInferenceGradOp, dl::OptimizerUpdateOp>(
          [](Operation *o) { return 10 * largest(o); })
      .Default([](Operation *o) { return largest(o); });
}

KernelCost costOf(dl::FusedOp group) {
  KernelCost cost;
  group.getBody().walk([&](Operation *op) {
    if (!isa<dl::YieldOp>(op))
      cost.flops += flopsOf(op);
  });
  llvm::SmallPtrSet<Value, 8> read;
  for (Value v : group->getOperands())
    if (read.insert(v).second)
      cost.bytes += bytes(v);
  for (Value v : group->getResults())
    cost.bytes += bytes(v);
  return cost;
}

} // namespace dlc
