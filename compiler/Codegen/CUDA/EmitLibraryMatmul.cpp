//===- EmitLibraryMatmul.cpp - Matrix products as cuBLASLt calls ----------===//
//
// The family cublaslt_matmul runs a dense (its bias, then a relu or a GELU
// in tanh form, as cuBLASLt's epilogue), a dense_grad_input or a
// dense_grad_kernel as one call of the library routine "matmul", whose
// contract runtime/cuda/matmul.h states: the GPU calls cuBLASLt, the
// emulation a reference with the same contract. Its operands must be stored
// as the product reads them (no cast folded into a load): cuBLASLt reads
// its operands in one type.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

/// The product of the group and its activation (relu or tanh-form GELU,
/// after a dense), or nothing when the group is not one call.
std::optional<LibraryOps> productOf(dl::FusedOp group) {
  return libraryOps(
      group, [](Operation *op) { return isa<dl::DenseOp, dl::DenseGradInputOp, dl::DenseGradKernelOp>(op); },
      [](Operation *op, Operation *next) {
        return isa<dl::DenseOp>(op) &&
               (isa<dl::ReluOp>(next) || (isa<dl::GeluOp>(next) && cast<dl::GeluOp>(next).getApproximate()));
      });
}

/// Whether |t| is one of the types the routine reads as stored.
bool libraryType(Type t) {
  Type e = isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t;
  return e.isF32() || e.isF16() || e.isBF16();
}

} // namespace

bool isLibraryMatmulGroup(dl::FusedOp group) {
  std::optional<LibraryOps> p = productOf(group);
  if (!p || foldsCasts(group))
    return false;
  // One element type throughout: cuBLASLt's A and B share one, and f32
  // results are what a 16-bit product would need a cast for.
  Type element = cast<ShapedType>(p->op->getOperand(0).getType()).getElementType();
  auto same = [&](Value v) { return cast<ShapedType>(v.getType()).getElementType() == element; };
  return libraryType(element) && llvm::all_of(p->op->getOperands(), same) &&
         llvm::all_of(group.getBody().front().getTerminator()->getOperands(), same);
}

LogicalResult emitLibraryMatmul(dl::FusedOp group, CudaKernel &kernel) {
  LibraryOps p = *productOf(group);
  Operation *op = p.op;
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  auto inputIndex = [](Value v) { return cast<BlockArgument>(v).getArgNumber(); };
  auto x = shape(op->getOperand(0)), w = shape(op->getOperand(1));
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < x.size(); ++i)
    rows *= x[i];
  LibraryCallCode call;
  call.routine = "matmul";
  int64_t m, n, k, transA = 0, transB = 0, bias = 0;
  if (isa<dl::DenseOp>(op)) { // y[M,N] = x[M,K] w[K,N] (+ b)
    m = rows, n = w[1], k = w[0];
    bias = op->getNumOperands() == 3;
  } else if (isa<dl::DenseGradInputOp>(op)) { // dx[M,Kin] = dy[M,N] w[Kin,N]^T
    m = rows, n = w[0], k = w[1], transB = 1;
  } else { // dw[Kin,N] = x[B,Kin]^T dy[B,N]
    m = x.back(), n = w.back(), k = rows, transA = 1;
  }
  call.ints = {{"m", m}, {"n", n}, {"k", k}, {"trans_a", transA}, {"trans_b", transB}, {"bias", bias},
               {"tf32", readsTf32(op)}};
  call.texts = {{"epilogue", !p.activation                  ? "none"
                             : isa<dl::ReluOp>(p.activation) ? "relu"
                                                             : "gelu_tanh"}};
  using Arg = LibraryCallCode::Arg;
  call.args = {{Arg::From::kInput, inputIndex(op->getOperand(0))}, {Arg::From::kInput, inputIndex(op->getOperand(1))}};
  if (bias)
    call.args.push_back({Arg::From::kInput, inputIndex(op->getOperand(2))});
  Value out = p.activation ? p.activation->getResult(0) : op->getResult(0);
  int result = resultIndex(group, out);
  if (result < 0)
    return group.emitError("the library matmul's result leaves no group result");
  call.args.push_back({Arg::From::kResult, unsigned(result)});
  Type element = cast<ShapedType>(op->getOperand(0).getType()).getElementType();
  kernel.tensorCores = libraryTensorCores(op, element);
  kernel.source = librarySource(group, "cuBLASLt matmul", call, element);
  kernel.library = std::move(call);
  return success();
}

} // namespace dlc::cuda

namespace dlc::cuda {

bool libraryPays(double flops) {
  // The cost model of --kernels auto, until first runs measure (issue 15):
  // the libraries reach more of the peak than the generated 64x64-tile
  // GEMM (0.7 against 0.3), which pays once the product outlasts the ~1 us
  // launch gap at the generated kernel's rate on an H100 (67 TFLOP/s f32):
  // about 2e7 flops. Below that both are launch-bound.
  constexpr double kMinFlops = 2e7;
  return flops >= kMinFlops;
}

bool libraryMatmulWorthCalling(dl::FusedOp group) {
  std::optional<LibraryOps> p = productOf(group);
  if (!p)
    return false;
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  double flops = 2;
  for (int64_t d : shape(p->op->getOperand(0)))
    flops *= double(d);
  auto w = shape(p->op->getOperand(1));
  flops *= double(isa<dl::DenseGradKernelOp>(p->op) ? w.back() : isa<dl::DenseOp>(p->op) ? w[1] : w[0]);
  return libraryPays(flops);
}

} // namespace dlc::cuda
