//===- EmitNormalization.cpp - Softmax and batch_norm along an axis -------===//
//
// Both reduce along one axis of a tensor seen as [outer, size, inner]:
// - softmax and softmax_grad reduce each line along the axis: a warp per
//   line, shuffles for its max and sums;
// - the batch_norm family reduces everything but the axis (a channel): a
//   block per channel, two passes (mean, then the biased variance of the
//   deviations, as the reference computes them), then the elementwise map.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kLinesPerBlock = kThreads / 32;

AxisSplit splitOf(Value v, int64_t axis) {
  return splitAt(cast<ShapedType>(v.getType()).getShape(), axis);
}

std::string blockSum(const ComputeType &t) {
  const std::string T = t.name();
  return "__device__ __forceinline__ " + T + " dlc_block_sum(" + T + " v, " + T + " *scratch) {\n"
         "  for (int o = 16; o > 0; o /= 2)\n"
         "    v += __shfl_xor_sync(0xffffffffu, v, o);\n"
         "  if (threadIdx.x % 32 == 0)\n"
         "    scratch[threadIdx.x / 32] = v;\n"
         "  __syncthreads();\n"
         "  " + T + " total = " + t.lit("0.0") + ";\n"
         "  for (int w = 0; w < (int)(blockDim.x / 32); ++w)\n"
         "    total += scratch[w];\n"
         "  __syncthreads();\n"
         "  return total;\n}\n";
}

bool isLineOp(Operation *op) { return isa<dl::SoftmaxOp, dl::SoftmaxGradOp>(op); }
bool isChannelOp(Operation *op) {
  return isa<dl::BatchNormOp, dl::BatchNormGradOp, dl::BatchNormInferenceGradOp,
             dl::BatchNormStatisticsUpdateOp>(op);
}

} // namespace

bool isNormalizationGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  if (!llvm::hasSingleElement(body.without_terminator()))
    return false;
  Operation &op = body.front();
  if (!isLineOp(&op) && !isChannelOp(&op))
    return false;
  return llvm::all_of(op.getOperands(), [](Value v) { return isa<BlockArgument>(v); });
}

LogicalResult emitNormalization(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  Operation *op = &body.front();
  auto arg = [&](Value v) -> std::string { return v ? inputName(v) : ""; };
  auto outOf = [&](Value v) { return resultName(group, v); };
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  kernel.block = {kThreads, 1, 1};
  std::string s;

  if (isLineOp(op)) {
    int64_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
    AxisSplit sp = splitOf(op->getResult(0), axis);
    int64_t lines = sp.outer * sp.inner;
    kernel.grid = {(lines + kLinesPerBlock - 1) / kLinesPerBlock, 1, 1};
    s = header(group, kernel);
    s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
         parameterList(group, false) + ") {\n";
    s += "  const long long line = (long long)blockIdx.x * " + ll(kLinesPerBlock) +
         " + threadIdx.x / 32;\n  const int lane = threadIdx.x % 32;\n"
         "  if (line >= " + ll(lines) + ")\n    return;\n"
         "  const long long o = line / " + ll(sp.inner) + ", i = line % " + ll(sp.inner) + ";\n";
    std::string at = sp.at("o", "c", "i");
    auto warpReduce = [&](const std::string &v, bool max) {
      return "  for (int k = 16; k > 0; k /= 2)\n    " + v + " = " +
             (max ? t.fn("fmax") + "(" + v + ", __shfl_xor_sync(0xffffffffu, " + v + ", k))"
                  : v + " + __shfl_xor_sync(0xffffffffu, " + v + ", k)") + ";\n";
    };
    if (auto softmax = dyn_cast<dl::SoftmaxOp>(op)) {
      std::string x = arg(softmax.getInput()), y = outOf(softmax.getOutput());
      s += "  " + T + " best = " + t.negInfinity() + ";\n"
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    best = " + t.fn("fmax") + "(best, " + x + "[" + at + "]);\n" + warpReduce("best", true) +
           "  " + T + " sum = " + t.lit("0.0") + ";\n"
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    sum += " + t.fn("exp") + "(" + x + "[" + at + "] - best);\n" + warpReduce("sum", false) +
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    " + y + "[" + at + "] = " + t.fn("exp") + "(" + x + "[" + at + "] - best) / sum;\n}\n";
    } else {
      auto grad = cast<dl::SoftmaxGradOp>(op);
      std::string y = arg(grad.getOutput()), dy = arg(grad.getDy()), dx = outOf(grad.getDx());
      s += "  " + T + " dot = " + t.lit("0.0") + ";\n"
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    dot += " + dy + "[" + at + "] * " + y + "[" + at + "];\n" + warpReduce("dot", false) +
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    " + dx + "[" + at + "] = " + y + "[" + at + "] * (" + dy + "[" + at + "] - dot);\n}\n";
    }
    kernel.source = std::move(s);
    return success();
  }

  // A block per channel c; j walks the channel's count elements.
  int64_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
  AxisSplit sp = splitOf(op->getOperand(0), axis);
  int64_t count = sp.outer * sp.inner;
  kernel.grid = {sp.size, 1, 1};
  kernel.sharedBytes = kLinesPerBlock * t.bytes();
  std::string at = sp.at("j / " + ll(sp.inner), "c", "j % " + ll(sp.inner));
  std::string each = "  for (long long j = threadIdx.x; j < " + ll(count) + "; j += 256) {\n";
  auto meanAndVariance = [&](const std::string &x) {
    return "  " + T + " sum = " + t.lit("0.0") + ";\n" + each + "    sum += " + x + "[" + at + "];\n  }\n"
           "  const " + T + " mean = dlc_block_sum(sum, scratch) / " + t.rounded(double(count)) + ";\n"
           "  " + T + " squares = " + t.lit("0.0") + ";\n" + each + "    const " + T + " d = " + x + "[" + at +
           "] - mean;\n    squares += d * d;\n  }\n"
           "  const " + T + " variance = dlc_block_sum(squares, scratch) / " + t.rounded(double(count)) + ";\n";
  };
  s = header(group, kernel) + blockSum(t);
  // The statistics update writes the moving statistics in place.
  bool inPlace = isa<dl::BatchNormStatisticsUpdateOp>(op);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false, !inPlace) + ") {\n";
  s += "  __shared__ " + T + " scratch[" + std::to_string(kLinesPerBlock) + "];\n"
       "  const long long c = blockIdx.x;\n";
  std::string body2 = llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](dl::BatchNormOp bn) {
        std::string x = arg(bn.getInput()), y = outOf(bn.getOutput());
        std::string eps = t.rounded(bn.getEpsilon().convertToDouble());
        std::string stats = bn.getTraining()
                                ? meanAndVariance(x)
                                : "  const " + T + " mean = " + arg(bn.getMovingMean()) + "[c], variance = " +
                                      arg(bn.getMovingVariance()) + "[c];\n";
        std::string gamma = bn.getGamma() ? arg(bn.getGamma()) + "[c]" : t.lit("1.0");
        std::string beta = bn.getBeta() ? " + " + arg(bn.getBeta()) + "[c]" : "";
        return stats + "  const " + T + " scale = " + gamma + " / " + t.fn("sqrt") + "(variance + " + eps + ");\n" + each +
               "    " + y + "[" + at + "] = (" + x + "[" + at + "] - mean) * scale" + beta + ";\n  }\n";
      })
      .Case([&](dl::BatchNormGradOp g) {
        std::string x = arg(g.getInput()), dy = arg(g.getDy());
        std::string eps = t.rounded(g.getEpsilon().convertToDouble());
        std::string dx = outOf(g.getDx()), dgamma = outOf(g.getDgamma()), dbeta = outOf(g.getDbeta());
        std::string gamma = g.getGamma() ? arg(g.getGamma()) + "[c]" : t.lit("1.0");
        std::string s2 = meanAndVariance(x) + "  const " + T + " invStd = " + t.lit("1.0") + " / " + t.fn("sqrt") + "(variance + " + eps + ");\n"
                         "  " + T + " sumDy = " + t.lit("0.0") + ", sumDyXhat = " + t.lit("0.0") + ";\n" + each +
                         "    const " + T + " d = " + dy + "[" + at + "];\n    sumDy += d;\n"
                         "    sumDyXhat += d * (" + x + "[" + at + "] - mean) * invStd;\n  }\n"
                         "  sumDy = dlc_block_sum(sumDy, scratch);\n"
                         "  sumDyXhat = dlc_block_sum(sumDyXhat, scratch);\n";
        if (!dbeta.empty() || !dgamma.empty())
          s2 += "  if (threadIdx.x == 0) {\n" + (dbeta.empty() ? "" : "    " + dbeta + "[c] = sumDy;\n") +
                (dgamma.empty() ? "" : "    " + dgamma + "[c] = sumDyXhat;\n") + "  }\n";
        if (!dx.empty())
          s2 += "  const " + T + " scale = " + gamma + " * invStd;\n" + each +
                "    const " + T + " xhat = (" + x + "[" + at + "] - mean) * invStd;\n"
                "    " + dx + "[" + at + "] = scale * (" + dy + "[" + at + "] - sumDy / " +
                t.rounded(double(count)) + " - xhat * sumDyXhat / " + t.rounded(double(count)) + ");\n  }\n";
        return s2;
      })
      .Case([&](dl::BatchNormInferenceGradOp g) {
        std::string dy = arg(g.getDy()), dx = outOf(g.getDx());
        std::string gamma = g.getGamma() ? arg(g.getGamma()) + "[c]" : t.lit("1.0");
        return "  const " + T + " scale = " + gamma + " / " + t.fn("sqrt") + "(" + arg(g.getMovingVariance()) + "[c] + " +
               t.rounded(g.getEpsilon().convertToDouble()) + ");\n" + each + "    " + dx + "[" + at +
               "] = " + dy + "[" + at + "] * scale;\n  }\n";
      })
      .Case([&](dl::BatchNormStatisticsUpdateOp u) {
        std::string m = t.rounded(u.getMomentum().convertToDouble());
        std::string mean = outOf(u.getNewMean()), var = outOf(u.getNewVariance());
        return meanAndVariance(arg(u.getInput())) + "  if (threadIdx.x == 0) {\n" +
               (mean.empty() ? "" : "    " + mean + "[c] = " + arg(u.getMovingMean()) + "[c] * " + m +
                                        " + mean * (" + t.lit("1.0") + " - " + m + ");\n") +
               (var.empty() ? "" : "    " + var + "[c] = " + arg(u.getMovingVariance()) + "[c] * " + m +
                                       " + variance * (" + t.lit("1.0") + " - " + m + ");\n") + "  }\n";
      });
  s += body2 + "}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
