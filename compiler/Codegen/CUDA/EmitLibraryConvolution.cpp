//===- EmitLibraryConvolution.cpp - Convolutions as cuDNN calls -----------===//
//
// The family cudnn_conv runs a conv2d (its bias, then a relu), a
// conv2d_grad_input or a conv2d_grad_kernel as one call of the library
// routine "convolution", whose contract runtime/cuda/convolution.h states:
// the GPU calls cuDNN, the emulation a reference with the same contract.
// cuDNN pads symmetrically, so "same" padding qualifies only where its
// total is even (every stride-1 odd window, VGG's 3x3 among them), and it
// reads its tensors in one type: no cast folded into a load. The call's
// scratch holds the filter in cuDNN's layout.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

using namespace mlir;

namespace dlc::cuda {
namespace {

/// The convolution of the group and its relu (after a conv2d), or nothing
/// when the group is not one call.
std::optional<LibraryOps> convolutionOf(dl::FusedOp group) {
  return libraryOps(
      group, [](Operation *op) { return isa<dl::Conv2DOp, dl::Conv2DGradInputOp, dl::Conv2DGradKernelOp>(op); },
      [](Operation *op, Operation *next) { return isa<dl::Conv2DOp>(op) && isa<dl::ReluOp>(next); });
}

/// The call's geometry: the contract's descriptor ints.
struct Geometry {
  int64_t n, h, w, c, k, r, s, p, q, strideH, strideW, padH, padW, dilationH, dilationW;
};

/// |conv|'s geometry, or nothing when cuDNN's symmetric padding cannot
/// express it.
std::optional<Geometry> geometryOf(Operation *conv) {
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()); };
  auto dynamic = [](Type t) { return !cast<ShapedType>(t).hasStaticShape(); };
  if (llvm::any_of(conv->getOperandTypes(), dynamic) || llvm::any_of(conv->getResultTypes(), dynamic))
    return std::nullopt;
  // The input [n, h, w, c], the filter [r, s, c, k], the output [n, p, q, k],
  // whichever of them the op reads or writes.
  ArrayRef<int64_t> x, f, y;
  if (isa<dl::Conv2DOp>(conv))
    x = shape(conv->getOperand(0)).getShape(), f = shape(conv->getOperand(1)).getShape(),
    y = shape(conv->getResult(0)).getShape();
  else if (isa<dl::Conv2DGradInputOp>(conv))
    y = shape(conv->getOperand(0)).getShape(), f = shape(conv->getOperand(1)).getShape(),
    x = shape(conv->getResult(0)).getShape();
  else
    x = shape(conv->getOperand(0)).getShape(), y = shape(conv->getOperand(1)).getShape(),
    f = shape(conv->getResult(0)).getShape();
  if (x.size() != 4 || f.size() != 4 || y.size() != 4)
    return std::nullopt;
  auto strides = conv->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  auto dilation = conv->getAttrOfType<DenseI64ArrayAttr>("dilation").asArrayRef();
  bool same = cast<dl::PaddingAttr>(conv->getAttr("padding")).getValue() == dl::Padding::same;
  Geometry g{x[0], x[1], x[2], x[3], f[3], f[0], f[1], y[1], y[2],
             strides[0], strides[1], 0, 0, dilation[0], dilation[1]};
  // The padding on each side, when both sides get the same.
  auto symmetric = [&](int64_t in, int64_t window, int64_t stride, int64_t dil, int64_t out,
                       int64_t *pad) {
    WindowAxis a = windowAxis(in, window, stride, dil, same);
    int64_t span = dil * (window - 1) + 1;
    int64_t total = same ? std::max<int64_t>((a.out - 1) * stride + span - in, 0) : 0;
    *pad = total / 2;
    return a.out == out && total % 2 == 0 && (in + 2 * *pad - span) / stride + 1 == out;
  };
  if (!symmetric(g.h, g.r, g.strideH, g.dilationH, g.p, &g.padH) ||
      !symmetric(g.w, g.s, g.strideW, g.dilationW, g.q, &g.padW))
    return std::nullopt;
  // cuDNN's sizes are ints (convolution.h).
  const int64_t limit = int64_t(1) << 31;
  if (double(g.n) * g.h * g.w * g.c >= limit || double(g.r) * g.s * g.c * g.k >= limit ||
      double(g.n) * g.p * g.q * g.k >= limit)
    return std::nullopt;
  return g;
}

Type elementOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

} // namespace

bool isLibraryConvolutionGroup(dl::FusedOp group) {
  std::optional<LibraryOps> c = convolutionOf(group);
  if (!c || foldsCasts(group) || !geometryOf(c->op))
    return false;
  Type element = elementOf(c->op->getResult(0));
  auto same = [&](Value v) { return elementOf(v) == element; };
  return (element.isF32() || element.isF16() || element.isBF16()) &&
         llvm::all_of(c->op->getOperands(), same) &&
         llvm::all_of(group.getBody().front().getTerminator()->getOperands(), same);
}

LogicalResult emitLibraryConvolution(dl::FusedOp group, CudaKernel &kernel) {
  LibraryOps lc = *convolutionOf(group);
  Operation *op = lc.op;
  Geometry g = *geometryOf(op);
  auto inputIndex = [](Value v) { return cast<BlockArgument>(v).getArgNumber(); };
  LibraryCallCode call;
  call.library = LibraryCallCode::Library::kCudnn;
  call.routine = "convolution";
  const bool forward = isa<dl::Conv2DOp>(op);
  const bool bias = forward && op->getNumOperands() == 3;
  call.ints = {{"n", g.n},
               {"h", g.h},
               {"w", g.w},
               {"c", g.c},
               {"k", g.k},
               {"r", g.r},
               {"s", g.s},
               {"p", g.p},
               {"q", g.q},
               {"stride_h", g.strideH},
               {"stride_w", g.strideW},
               {"pad_h", g.padH},
               {"pad_w", g.padW},
               {"dilation_h", g.dilationH},
               {"dilation_w", g.dilationW},
               {"bias", bias},
               {"deterministic", orderedSums(group)},
               {"tf32", readsTf32(op)}};
  call.texts = {{"direction", forward ? "forward" : isa<dl::Conv2DGradInputOp>(op) ? "grad_input" : "grad_kernel"},
                {"epilogue", lc.activation ? "relu" : "none"}};
  using Arg = LibraryCallCode::Arg;
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    call.args.push_back({Arg::From::kInput, inputIndex(op->getOperand(i))});
  Value out = lc.activation ? lc.activation->getResult(0) : op->getResult(0);
  int result = resultIndex(group, out);
  if (result < 0)
    return group.emitError("the library convolution's result leaves no group result");
  call.args.push_back({Arg::From::kResult, unsigned(result)});
  call.args.push_back({Arg::From::kScratch, 0});
  Type element = elementOf(op->getResult(0));
  // The filter in cuDNN's layout ([k, r, s, c]), rewritten by every call.
  // (Whole words: the memory plan places scratch in 4-byte elements.)
  kernel.scratchBytes = (g.r * g.s * g.c * g.k * int64_t(element.getIntOrFloatBitWidth() / 8) + 3) / 4 * 4;
  kernel.tensorCores = libraryTensorCores(op, element);
  kernel.source = librarySource(group, "cuDNN convolution", call, element);
  kernel.library = std::move(call);
  return success();
}

bool libraryConvolutionWorthCalling(dl::FusedOp group) {
  std::optional<LibraryOps> c = convolutionOf(group);
  if (!c)
    return false;
  std::optional<Geometry> g = geometryOf(c->op);
  // Every direction does the forward's multiply-adds.
  return g && libraryPays(2.0 * double(g->n) * g->p * g->q * g->k * g->r * g->s * g->c);
}

} // namespace dlc::cuda
