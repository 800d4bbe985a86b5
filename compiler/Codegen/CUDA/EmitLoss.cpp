//===- EmitLoss.cpp - Cross-entropy on logits and its gradient ------------===//
//
// The form autodiff leaves after fusing softmax into the loss: categorical or
// sparse cross-entropy from logits with label smoothing, as
// compiler/Reference/GradKernels.cpp computes it. One warp per row (max,
// log-sum-exp and label sums by shuffles). The loss value is reduced by a
// single block so that it is deterministic; the gradient (divided by the
// number of rows: the loss is a mean) may carry a bias_grad epilogue.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

struct LossForm {
  bool sparse = false;
  double smoothing = 0;
  int64_t rows = 0, classes = 0;
};

FailureOr<LossForm> lossForm(Operation *op) {
  auto config = op->getAttrOfType<dl::ConfigAttr>("config");
  StringRef kind = config.getKind().getValue();
  auto fromLogits = config.getOptions().getAs<BoolAttr>("from_logits");
  if ((kind != "categorical_crossentropy" && kind != "sparse_categorical_crossentropy") ||
      !fromLogits || !fromLogits.getValue())
    return failure();
  LossForm f;
  f.sparse = kind == "sparse_categorical_crossentropy";
  if (auto ls = config.getOptions().getAs<FloatAttr>("label_smoothing"))
    f.smoothing = ls.getValueAsDouble();
  auto shape = cast<ShapedType>(op->getOperand(0).getType()).getShape();
  f.classes = shape.back();
  f.rows = cast<ShapedType>(op->getOperand(0).getType()).getNumElements() / f.classes;
  return f;
}

std::string literal(double v) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

/// Device code: the warp's row statistics and label j of a row.
std::string rowHelpers(const LossForm &f, const std::string &labels) {
  std::string c = std::to_string(f.classes) + "ll";
  std::string label = f.sparse ? "(" + labels + "[row] == j ? 1.0f : 0.0f)" : labels + "[row * " + c + " + j]";
  return "  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;\n"
         "  auto labelOf = [&](long long row, long long j) {\n"
         "    return " + label + " * (float)" + literal(1 - f.smoothing) + " + (float)" +
         literal(f.smoothing / double(f.classes)) + ";\n  };\n"
         "  auto rowStats = [&](const float *z, long long row, float *logSum, float *ySum) {\n"
         "    float top = -__int_as_float(0x7f800000), labels = 0.0f;\n"
         "    for (long long j = lane; j < " + c + "; j += 32) {\n"
         "      top = fmaxf(top, z[row * " + c + " + j]);\n      labels += labelOf(row, j);\n    }\n"
         "    for (int o = 16; o > 0; o /= 2) {\n"
         "      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, o));\n"
         "      labels += __shfl_xor_sync(0xffffffffu, labels, o);\n    }\n"
         "    float s = 0.0f;\n"
         "    for (long long j = lane; j < " + c + "; j += 32)\n      s += expf(z[row * " + c + " + j] - top);\n"
         "    for (int o = 16; o > 0; o /= 2)\n      s += __shfl_xor_sync(0xffffffffu, s, o);\n"
         "    *logSum = top + logf(s);\n    *ySum = labels;\n  };\n";
}

} // namespace

bool isLossGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  auto ops = body.without_terminator();
  Operation &first = *ops.begin();
  if (!isa<dl::LossOp, dl::LossGradOp>(first) || failed(lossForm(&first)))
    return false;
  size_t count = std::distance(ops.begin(), ops.end());
  if (count == 1)
    return true;
  auto bias = dyn_cast<dl::BiasGradOp>(*std::next(ops.begin()));
  return count == 2 && isa<dl::LossGradOp>(first) && bias && bias.getDy() == first.getResult(0) &&
         cast<ShapedType>(first.getResult(0).getType()).getShape().back() <= 8192;
}

LogicalResult emitLoss(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  Operation &op = body.front();
  LossForm f = *lossForm(&op);
  auto in = [&](Value v) { return "in" + std::to_string(cast<BlockArgument>(v).getArgNumber()); };
  std::string z = in(op.getOperand(0)), labels = in(op.getOperand(1));
  std::string c = std::to_string(f.classes) + "ll", rows = std::to_string(f.rows) + "ll";
  auto yield = cast<dl::YieldOp>(body.getTerminator());
  auto outOf = [&](Value v) {
    for (auto [i, y] : llvm::enumerate(yield.getValues()))
      if (y == v)
        return "out" + std::to_string(i);
    return std::string();
  };
  std::string s;
  if (isa<dl::LossOp>(op)) {
    kernel.block = {256, 1, 1};
    kernel.grid = {1, 1, 1};
    kernel.sharedBytes = 8 * 8;
    s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name +
        "(" + parameterList(group, false) + ") {\n" + rowHelpers(f, labels) +
        "  __shared__ double warpTotals[8];\n  double total = 0.0;\n"
        "  for (long long row = warp; row < " + rows + "; row += 8) {\n"
        "    float logSum, ySum;\n    rowStats(" + z + ", row, &logSum, &ySum);\n"
        "    double t = 0.0;\n    for (long long j = lane; j < " + c + "; j += 32)\n"
        "      t -= (double)labelOf(row, j) * (double)(" + z + "[row * " + c + " + j] - logSum);\n"
        "    for (int o = 16; o > 0; o /= 2)\n      t += __shfl_xor_sync(0xffffffffu, t, o);\n"
        "    total += t;\n  }\n  if (lane == 0)\n    warpTotals[warp] = total;\n  __syncthreads();\n"
        "  if (threadIdx.x == 0) {\n    double sum = 0.0;\n    for (int w = 0; w < 8; ++w)\n"
        "      sum += warpTotals[w];\n    " + outOf(op.getResult(0)) + "[0] = (float)(sum / " + rows +
        ");\n  }\n}\n";
  } else {
    Operation *bias = body.without_terminator().begin() != body.without_terminator().end() &&
                              std::next(body.without_terminator().begin()) != body.without_terminator().end()
                          ? &*std::next(body.without_terminator().begin())
                          : nullptr;
    std::string grad = outOf(op.getResult(0)), reduced = bias ? outOf(bias->getResult(0)) : "";
    kernel.block = {256, 1, 1};
    kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(1024, (f.rows + 7) / 8)), 1, 1};
    kernel.sharedBytes = bias ? f.classes * 4 : 0;
    if (bias)
      for (auto [i, y] : llvm::enumerate(yield.getValues()))
        if (y == bias->getResult(0))
          kernel.zeroedOutputs.push_back(int(i));
    s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name +
        "(" + parameterList(group, false) + ") {\n" + rowHelpers(f, labels);
    if (bias)
      s += "  __shared__ float partial[" + std::to_string(f.classes) + "];\n"
           "  for (int j = threadIdx.x; j < " + std::to_string(f.classes) + "; j += blockDim.x)\n"
           "    partial[j] = 0.0f;\n  __syncthreads();\n";
    s += "  for (long long row = blockIdx.x * 8ll + warp; row < " + rows + "; row += gridDim.x * 8ll) {\n"
         "    float logSum, ySum;\n    rowStats(" + z + ", row, &logSum, &ySum);\n"
         "    for (long long j = lane; j < " + c + "; j += 32) {\n"
         "      const float g = (expf(" + z + "[row * " + c + " + j] - logSum) * ySum - labelOf(row, j)) / (float)" +
         rows + ";\n      " + (grad.empty() ? "" : grad + "[row * " + c + " + j] = g;\n      ") +
         (bias ? "atomicAdd(&partial[j], g);\n" : "(void)g;\n") + "    }\n  }\n";
    if (bias)
      s += "  __syncthreads();\n  for (int j = threadIdx.x; j < " + std::to_string(f.classes) +
           "; j += blockDim.x)\n    atomicAdd(&" + reduced + "[j], partial[j]);\n";
    s += "}\n";
  }
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
