//===- EmitCast.cpp - Element type conversion -----------------------------===//
//
// dl.cast: one thread per element, a grid-stride loop; the source is read
// in its compute type and stored through the result type's conversion
// (compiler/Codegen/CUDA/DeviceTypes.cpp), so floats narrow once, to
// nearest even. dlc-fuse folds most casts into the kernels beside them;
// a group of one cast is what remains.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

using namespace mlir;

namespace dlc::cuda {

bool isCastGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return llvm::hasSingleElement(body.without_terminator()) && isa<dl::CastOp>(body.front()) &&
         deviceType(body.front().getOperand(0).getType()) &&
         deviceType(body.front().getResult(0).getType());
}

LogicalResult emitCast(dl::FusedOp group, CudaKernel &kernel) {
  auto castOp = cast<dl::CastOp>(group.getBody().front().front());
  Type from = castOp.getInput().getType(), to = castOp.getResult().getType();
  int64_t n = cast<ShapedType>(from).getNumElements();
  kernel.block = {256, 1, 1};
  kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (n + 255) / 256)), 1, 1};
  std::string s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " +
                  kernel.name + "(" + parameterList(group, false) + ") {\n";
  s += "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < " + ll(n) +
       ";\n       i += (long long)gridDim.x * blockDim.x)\n";
  // The buffers themselves (not bufferViews' float views): the element is
  // read in its own compute type and rounded once, from any source type.
  auto raw = [](const std::string &name, Type t) { return isSixteenBit(t) ? name + "_raw" : name; };
  s += "    " + storeStatement(to, raw(resultName(group, castOp.getResult()), to) + "[i]",
                               loadAsCompute(from, raw(inputName(castOp.getInput()), from) + "[i]")) +
       "\n";
  s += "}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
