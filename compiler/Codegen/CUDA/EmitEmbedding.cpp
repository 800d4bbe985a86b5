//===- EmitEmbedding.cpp - Table lookups and their scatter-add gradient ---===//
//
// embedding: one thread per output element (a row of the table per id,
// coalesced along the width). Its gradient adds each dy row into the table
// row of its id with atomics, since ids repeat; the runtime zeroes the table
// gradient before the launch. An id outside the table reads zeros and adds
// nothing (the CPU backend reports it as an error before the step).
//
// Under --deterministic the gradient has no atomics: the first occurrence
// of each id owns its table row and adds the dy rows of every occurrence in
// position order (a block per position, a thread per column). Each position
// scans the ids before it for its own, and an owner the ids after it: work
// that grows with the square of the batch's positions.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

using namespace mlir;

namespace dlc::cuda {

bool isEmbeddingGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  // embedding_grad scatters with float atomics.
  return llvm::hasSingleElement(body.without_terminator()) &&
         isa<dl::EmbeddingOp, dl::EmbeddingGradOp>(body.front()) &&
         (isa<dl::EmbeddingOp>(body.front()) || isPlainF32(group, body.front().getResult(0)));
}

LogicalResult emitEmbedding(dl::FusedOp group, CudaKernel &kernel) {
  Operation &op = group.getBody().front().front();
  bool grad = isa<dl::EmbeddingGradOp>(op);
  std::string ids = inputName(op.getOperand(0)), other = inputName(op.getOperand(1));
  auto table = cast<ShapedType>((grad ? op.getResult(0) : op.getOperand(1)).getType()).getShape();
  int64_t rows = table[0], width = table[1];
  int64_t count = cast<ShapedType>(op.getOperand(0).getType()).getNumElements();
  int64_t n = count * width;
  kernel.block = {256, 1, 1};
  kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (n + 255) / 256)), 1, 1};
  const ComputeType t = computeType(group);
  std::string w = std::to_string(width) + "ll";
  if (grad && orderedSums(group)) {
    kernel.zeroedOutputs.push_back(0); // rows no id names stay zero
    kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(65535, count)), 1, 1};
    const std::string T = t.name(), positions = ll(count);
    std::string s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " +
                    kernel.name + "(" + parameterList(group, false) + ") {\n"
                    "  for (long long p = blockIdx.x; p < " + positions + "; p += gridDim.x) {\n"
                    "    const long long id = (long long)" + ids + "[p];\n"
                    "    if (id < 0 || id >= " + ll(rows) + ")\n      continue;\n"
                    "    int seen = 0;\n"
                    "    for (long long q = threadIdx.x; q < p && !seen; q += blockDim.x)\n"
                    "      seen = (long long)" + ids + "[q] == id;\n"
                    "    if (__syncthreads_or(seen))\n      continue;\n"
                    "    for (long long col = threadIdx.x; col < " + w + "; col += blockDim.x) {\n"
                    "      " + T + " sum = " + t.lit("0.0") + ";\n"
                    "      for (long long q = p; q < " + positions + "; ++q)\n"
                    "        if ((long long)" + ids + "[q] == id)\n"
                    "          sum += " + other + "[q * " + w + " + col];\n"
                    "      out0[id * " + w + " + col] = sum;\n    }\n  }\n}\n";
    kernel.source = std::move(s);
    return success();
  }
  if (grad) {
    kernel.zeroedOutputs.push_back(0);
    kernel.globalAtomics = n;
  }
  std::string s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " +
                  kernel.name + "(" + parameterList(group, false) + ") {\n";
  s += "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < " +
       std::to_string(n) + "ll;\n       i += (long long)gridDim.x * blockDim.x) {\n";
  s += "    const long long id = (long long)" + ids + "[i / " + w + "], col = i % " + w + ";\n";
  s += "    const bool inside = id >= 0 && id < " + std::to_string(rows) + "ll;\n";
  if (grad)
    s += "    if (inside)\n      atomicAdd(&out0[id * " + w + " + col], " + other + "[i]);\n";
  else
    s += "    out0[i] = inside ? " + other + "[id * " + w + " + col] : " + t.lit("0.0") + ";\n";
  s += "  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
