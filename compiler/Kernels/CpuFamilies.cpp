//===- CpuFamilies.cpp - How the CPU backend runs a kernel group ----------===//
//
// The CPU runs a group's ops in order, each by its own routine, except
// where one routine does the work of several: these families are the
// runtime's CpuRoutine values (runtime/schemas/bundle.fbs), by name.
//
//===----------------------------------------------------------------------===//
#include "compiler/Kernels/KernelRegistry.h"

using namespace mlir;

namespace dlc::kernels {
namespace {

Operation *opAt(dl::FusedOp group, unsigned index) {
  unsigned i = 0;
  for (Operation &op : group.getBody().front().without_terminator())
    if (i++ == index)
      return &op;
  return nullptr;
}

const char *routine(rt::fb::CpuRoutine r) { return rt::fb::EnumNameCpuRoutine(r); }

constexpr const char *kCpuTypes =
    "f32 values (f16 and bf16 stored, converted to f32 around the call), i32 and i64 ids";

bool storedFloat(Type e) { return e.isF32() || e.isF16() || e.isBF16(); }

/// Whether the ops from |first| on, |count| of them, have element types the
/// CPU routines take: f32 values (16-bit ones converted to and from f32 at
/// the call's boundary, runtime/cpu/cpu_device.cc) and i32 or i64 ids; only
/// a cast converts between other types.
bool cpuElementTypes(dl::FusedOp group, unsigned first, unsigned count) {
  for (unsigned i = first; i < first + count; ++i) {
    Operation *op = opAt(group, i);
    if (!op || isa<dl::CastOp>(op))
      continue;
    for (Value v : op->getResults())
      if (!storedFloat(cast<ShapedType>(v.getType()).getElementType()))
        return false;
    for (Value v : op->getOperands()) {
      Type e = cast<ShapedType>(v.getType()).getElementType();
      if (!storedFloat(e) && !e.isInteger(32) && !e.isInteger(64))
        return false;
    }
  }
  return true;
}

/// conv2d or dense whose result only the activation right after it reads.
unsigned activationEpilogue(dl::FusedOp group, unsigned first) {
  Operation *producer = opAt(group, first), *user = opAt(group, first + 1);
  if (!producer || !user || !isa<dl::Conv2DOp, dl::DenseOp>(producer) ||
      !producer->getResult(0).hasOneUse() || user->getNumOperands() != 1 ||
      user->getOperand(0) != producer->getResult(0) ||
      !isa<dl::ReluOp, dl::SigmoidOp, dl::TanhOp, dl::GeluOp, dl::LeakyReluOp>(user) ||
      !cpuElementTypes(group, first, 2))
    return 0;
  // The product stays in f32 inside the call: its 16-bit rounding is skipped,
  // which only relu does not see (it commutes with rounding).
  Type product = cast<ShapedType>(producer->getResult(0).getType()).getElementType();
  if (!product.isF32() && !isa<dl::ReluOp>(user))
    return 0;
  return 2;
}

/// max_pool2d_grad(x, dy), relu_grad(x, pooled gradient) read by nothing
/// else, bias_grad of the result.
unsigned maxPoolGradReluBias(dl::FusedOp group, unsigned first) {
  Operation *pool = opAt(group, first), *relu = opAt(group, first + 1),
            *bias = opAt(group, first + 2);
  if (!pool || !relu || !bias || !isa<dl::MaxPool2DGradOp>(pool) ||
      !isa<dl::ReluGradOp>(relu) || !isa<dl::BiasGradOp>(bias))
    return 0;
  Value pooled = pool->getResult(0);
  if (relu->getOperand(0) != pool->getOperand(0) || relu->getOperand(1) != pooled ||
      !pooled.hasOneUse() || bias->getOperand(0) != relu->getResult(0) ||
      !cpuElementTypes(group, first, 3))
    return 0;
  return 3;
}

unsigned singleOp(dl::FusedOp group, unsigned first) {
  Operation *op = opAt(group, first);
  return op && opKindOf(op) && cpuElementTypes(group, first, 1) ? 1 : 0;
}

} // namespace

std::vector<KernelFamily> cpuFamilies() {
  using R = rt::fb::CpuRoutine;
  return {
      {"cpu", routine(R::activation_epilogue),
       "conv2d or dense, then relu, sigmoid, tanh, gelu or leaky_relu of its result (read by nothing else)",
       "one oneDNN convolution or sgemm with the activation as its epilogue", "", kCpuTypes,
       activationEpilogue},
      {"cpu", routine(R::max_pool_grad_relu_bias),
       "max_pool2d_grad, relu_grad of the pooled gradient (read by nothing else), bias_grad of that",
       "one pass over the pooling windows", "", kCpuTypes, maxPoolGradReluBias},
      {"cpu", routine(R::op), "any one op", "the op's routine (OpenMP loops, oneDNN)", "",
       std::string(kCpuTypes) + "; a cast converts between f16, bf16, f32, f64, i32 and i64", singleOp},
  };
}

} // namespace dlc::kernels
