//===- EmitLibraryRecurrent.cpp - The LSTM as cuDNN calls -----------------===//
//
// The family cudnn_lstm runs a dl.lstm or a dl.lstm_grad (its weight
// gradients used; dx used or not) as one call of the library routine "lstm", whose
// contract runtime/cuda/lstm.h states: the GPU calls cuDNN's RNN, the
// emulation a reference with the same contract. cuDNN reads and writes its
// tensors in one type, so a gradient whose weight gradients are f32 over
// 16-bit activations (mixed precision) stays with the generated kernel.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

using namespace mlir;

namespace dlc::cuda {
namespace {

/// The group's one LSTM op, or null.
Operation *lstmOf(dl::FusedOp group) {
  Block &body = group.getBody().front();
  if (!llvm::hasSingleElement(body.without_terminator()))
    return nullptr;
  Operation *op = &body.front();
  return isa<dl::LSTMOp, dl::LSTMGradOp>(op) ? op : nullptr;
}

Type elementOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

/// [n, t, f] and units.
std::array<int64_t, 4> sizesOf(Operation *op) {
  auto x = cast<ShapedType>(op->getOperand(0).getType()).getShape();
  return {x[0], x[1], x[2], cast<ShapedType>(op->getOperand(2).getType()).getDimSize(0)};
}

} // namespace

bool isLibraryLstmGroup(dl::FusedOp group) {
  Operation *op = lstmOf(group);
  if (!op || foldsCasts(group))
    return false;
  for (Value v : op->getOperands())
    if (!isa<BlockArgument>(v) || !cast<ShapedType>(v.getType()).hasStaticShape())
      return false;
  // The call writes its results into buffers: each must leave the group,
  // but dx (cuDNN writes an unused one into the call's own memory) and the
  // bias gradient of an LSTM without a bias (which it has not).
  if (auto grad = dyn_cast<dl::LSTMGradOp>(op)) {
    const bool bias = grad.getBias() != nullptr;
    if (resultIndex(group, grad.getDkernel()) < 0 || resultIndex(group, grad.getDrecurrentKernel()) < 0 ||
        (resultIndex(group, grad.getDbias()) >= 0) != bias)
      return false;
  } else if (resultIndex(group, op->getResult(0)) < 0) {
    return false;
  }
  Type element = elementOf(op->getOperand(0));
  auto same = [&](Value v) { return elementOf(v) == element; };
  auto [n, t, f, u] = sizesOf(op);
  const double limit = double(int64_t(1) << 31);
  return (element.isF32() || element.isF16() || element.isBF16()) && llvm::all_of(op->getOperands(), same) &&
         llvm::all_of(op->getResults(), same) && double(n) * t * std::max(f, u) < limit &&
         double(std::max(f, u)) * 4 * u < limit;
}

LogicalResult emitLibraryLstm(dl::FusedOp group, CudaKernel &kernel) {
  Operation *op = lstmOf(group);
  auto [n, t, f, u] = sizesOf(op);
  const bool grad = isa<dl::LSTMGradOp>(op);
  const bool bias = grad ? cast<dl::LSTMGradOp>(op).getBias() != nullptr : cast<dl::LSTMOp>(op).getBias() != nullptr;
  LibraryCallCode call;
  call.library = LibraryCallCode::Library::kCudnn;
  call.routine = "lstm";
  call.ints = {{"n", n},       {"t", t},
               {"f", f},       {"u", u},
               {"bias", bias}, {"sequences", op->hasAttr("return_sequences")},
               {"deterministic", orderedSums(group)}};
  const bool dx = grad && resultIndex(group, op->getResult(0)) >= 0;
  if (grad)
    call.ints.push_back({"dx", dx});
  call.texts = {{"direction", grad ? "grad" : "forward"}};
  using Arg = LibraryCallCode::Arg;
  // cuDNN's gradient runs the forward again in training mode (its reserve
  // space): the forward's states, if given, are not its to read.
  Value states = grad ? cast<dl::LSTMGradOp>(op).getStates() : Value();
  for (Value v : op->getOperands())
    if (v != states)
      call.args.push_back({Arg::From::kInput, cast<BlockArgument>(v).getArgNumber()});
  for (Value r : op->getResults())
    if (int i = resultIndex(group, r); i >= 0)
      call.args.push_back({Arg::From::kResult, unsigned(i)});
  Type element = elementOf(op->getOperand(0));
  kernel.tensorCores = element.isF32() ? TensorCores::kNone : TensorCores::k16Bit;
  kernel.source = librarySource(group, "cuDNN LSTM", call, element);
  kernel.library = std::move(call);
  return success();
}

bool libraryLstmWorthCalling(dl::FusedOp group) {
  Operation *op = lstmOf(group);
  if (!op)
    return false;
  auto [n, t, f, u] = sizesOf(op);
  // The gate products of every step (the gradient does about twice more).
  return libraryPays(2.0 * double(n) * double(t) * 4.0 * double(u) * double(f + u));
}

} // namespace dlc::cuda
