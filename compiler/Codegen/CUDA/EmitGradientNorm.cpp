//===- EmitGradientNorm.cpp - dl.gradient_norm as one block ---------------===//
//
// Clipping by norm scales a gradient by one number for the whole step, so
// the norm is one block's work: each thread sums the squares of a strided
// share of every gradient in f64, then a tree over shared memory adds the
// 256 partial sums in a fixed order. The result is the same on every run (no
// atomics), which --resume's exactness needs.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

using namespace mlir;

namespace dlc::cuda {

bool isGradientNormGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return llvm::hasSingleElement(body.without_terminator()) &&
         isa<dl::GradientNormOp>(body.front());
}

LogicalResult emitGradientNorm(dl::FusedOp group, CudaKernel &kernel) {
  constexpr int kThreads = 256;
  auto norm = cast<dl::GradientNormOp>(group.getBody().front().front());
  kernel.block = {kThreads, 1, 1};
  kernel.grid = {1, 1, 1};
  std::string s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false) + ") {\n";
  s += "  __shared__ double partial[" + std::to_string(kThreads) + "];\n"
       "  double sum = 0.0;\n";
  for (Value g : norm.getGrads()) {
    int64_t n = cast<ShapedType>(g.getType()).getNumElements();
    s += "  for (long long i = threadIdx.x; i < " + std::to_string(n) + "ll; i += blockDim.x) {\n"
         "    const double v = (double)(float)" + inputName(g) + "[i];\n"
         "    sum += v * v;\n  }\n";
  }
  s += "  partial[threadIdx.x] = sum;\n"
       "  __syncthreads();\n"
       "  for (int half = blockDim.x / 2; half > 0; half /= 2) {\n"
       "    if (threadIdx.x < half)\n"
       "      partial[threadIdx.x] += partial[threadIdx.x + half];\n"
       "    __syncthreads();\n"
       "  }\n"
       "  if (threadIdx.x == 0)\n"
       "    " + resultName(group, norm.getNorm()) + "[0] = (float)sqrt(partial[0]);\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
