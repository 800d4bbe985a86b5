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

std::string literal(double v) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  std::string s = buffer;
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s + "f";
}

AxisSplit splitOf(Value v, int64_t axis) {
  return splitAt(cast<ShapedType>(v.getType()).getShape(), axis);
}

const char *kBlockSum = R"(__device__ __forceinline__ float dlc_block_sum(float v, float *scratch) {
  for (int o = 16; o > 0; o /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0)
    scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < (int)(blockDim.x / 32); ++w)
    total += scratch[w];
  __syncthreads();
  return total;
}
)";

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
    auto warpReduce = [](const std::string &v, bool max) {
      return "  for (int k = 16; k > 0; k /= 2)\n    " + v + " = " +
             (max ? "fmaxf(" + v + ", __shfl_xor_sync(0xffffffffu, " + v + ", k))"
                  : v + " + __shfl_xor_sync(0xffffffffu, " + v + ", k)") + ";\n";
    };
    if (auto softmax = dyn_cast<dl::SoftmaxOp>(op)) {
      std::string x = arg(softmax.getInput()), y = outOf(softmax.getOutput());
      s += "  float best = -__int_as_float(0x7f800000);\n"
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    best = fmaxf(best, " + x + "[" + at + "]);\n" + warpReduce("best", true) +
           "  float sum = 0.0f;\n"
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    sum += expf(" + x + "[" + at + "] - best);\n" + warpReduce("sum", false) +
           "  for (long long c = lane; c < " + ll(sp.size) + "; c += 32)\n"
           "    " + y + "[" + at + "] = expf(" + x + "[" + at + "] - best) / sum;\n}\n";
    } else {
      auto grad = cast<dl::SoftmaxGradOp>(op);
      std::string y = arg(grad.getOutput()), dy = arg(grad.getDy()), dx = outOf(grad.getDx());
      s += "  float dot = 0.0f;\n"
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
  kernel.sharedBytes = kLinesPerBlock * 4;
  std::string at = sp.at("j / " + ll(sp.inner), "c", "j % " + ll(sp.inner));
  std::string each = "  for (long long j = threadIdx.x; j < " + ll(count) + "; j += 256) {\n";
  auto meanAndVariance = [&](const std::string &x) {
    return "  float sum = 0.0f;\n" + each + "    sum += " + x + "[" + at + "];\n  }\n"
           "  const float mean = dlc_block_sum(sum, scratch) / " + literal(double(count)) + ";\n"
           "  float squares = 0.0f;\n" + each + "    const float d = " + x + "[" + at +
           "] - mean;\n    squares += d * d;\n  }\n"
           "  const float variance = dlc_block_sum(squares, scratch) / " + literal(double(count)) + ";\n";
  };
  s = header(group, kernel) + kBlockSum;
  // The statistics update writes the moving statistics in place.
  bool inPlace = isa<dl::BatchNormStatisticsUpdateOp>(op);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false, !inPlace) + ") {\n";
  s += "  __shared__ float scratch[" + std::to_string(kLinesPerBlock) + "];\n"
       "  const long long c = blockIdx.x;\n";
  std::string body2 = llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](dl::BatchNormOp bn) {
        std::string x = arg(bn.getInput()), y = outOf(bn.getOutput());
        std::string eps = literal(bn.getEpsilon().convertToDouble());
        std::string stats = bn.getTraining()
                                ? meanAndVariance(x)
                                : "  const float mean = " + arg(bn.getMovingMean()) + "[c], variance = " +
                                      arg(bn.getMovingVariance()) + "[c];\n";
        std::string gamma = bn.getGamma() ? arg(bn.getGamma()) + "[c]" : "1.0f";
        std::string beta = bn.getBeta() ? " + " + arg(bn.getBeta()) + "[c]" : "";
        return stats + "  const float scale = " + gamma + " / sqrtf(variance + " + eps + ");\n" + each +
               "    " + y + "[" + at + "] = (" + x + "[" + at + "] - mean) * scale" + beta + ";\n  }\n";
      })
      .Case([&](dl::BatchNormGradOp g) {
        std::string x = arg(g.getInput()), dy = arg(g.getDy());
        std::string eps = literal(g.getEpsilon().convertToDouble());
        std::string dx = outOf(g.getDx()), dgamma = outOf(g.getDgamma()), dbeta = outOf(g.getDbeta());
        std::string gamma = g.getGamma() ? arg(g.getGamma()) + "[c]" : "1.0f";
        std::string s2 = meanAndVariance(x) + "  const float invStd = 1.0f / sqrtf(variance + " + eps + ");\n"
                         "  float sumDy = 0.0f, sumDyXhat = 0.0f;\n" + each +
                         "    const float d = " + dy + "[" + at + "];\n    sumDy += d;\n"
                         "    sumDyXhat += d * (" + x + "[" + at + "] - mean) * invStd;\n  }\n"
                         "  sumDy = dlc_block_sum(sumDy, scratch);\n"
                         "  sumDyXhat = dlc_block_sum(sumDyXhat, scratch);\n";
        if (!dbeta.empty() || !dgamma.empty())
          s2 += "  if (threadIdx.x == 0) {\n" + (dbeta.empty() ? "" : "    " + dbeta + "[c] = sumDy;\n") +
                (dgamma.empty() ? "" : "    " + dgamma + "[c] = sumDyXhat;\n") + "  }\n";
        if (!dx.empty())
          s2 += "  const float scale = " + gamma + " * invStd;\n" + each +
                "    const float xhat = (" + x + "[" + at + "] - mean) * invStd;\n"
                "    " + dx + "[" + at + "] = scale * (" + dy + "[" + at + "] - sumDy / " +
                literal(double(count)) + " - xhat * sumDyXhat / " + literal(double(count)) + ");\n  }\n";
        return s2;
      })
      .Case([&](dl::BatchNormInferenceGradOp g) {
        std::string dy = arg(g.getDy()), dx = outOf(g.getDx());
        std::string gamma = g.getGamma() ? arg(g.getGamma()) + "[c]" : "1.0f";
        return "  const float scale = " + gamma + " / sqrtf(" + arg(g.getMovingVariance()) + "[c] + " +
               literal(g.getEpsilon().convertToDouble()) + ");\n" + each + "    " + dx + "[" + at +
               "] = " + dy + "[" + at + "] * scale;\n  }\n";
      })
      .Case([&](dl::BatchNormStatisticsUpdateOp u) {
        std::string m = literal(u.getMomentum().convertToDouble());
        std::string mean = outOf(u.getNewMean()), var = outOf(u.getNewVariance());
        return meanAndVariance(arg(u.getInput())) + "  if (threadIdx.x == 0) {\n" +
               (mean.empty() ? "" : "    " + mean + "[c] = " + arg(u.getMovingMean()) + "[c] * " + m +
                                        " + mean * (1.0f - " + m + ");\n") +
               (var.empty() ? "" : "    " + var + "[c] = " + arg(u.getMovingVariance()) + "[c] * " + m +
                                       " + variance * (1.0f - " + m + ");\n") + "  }\n";
      });
  s += body2 + "}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
