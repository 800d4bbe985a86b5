//===- EmitMetric.cpp - Each example's metric score -----------------------===//
//
// dl.metric: one warp per example (a row of [N, classes] predictions, or
// the rows of its positions in [N, positions..., classes], whose mean is
// its score), its lanes across the classes, as compiler/Reference/
// GradKernels.cpp scores it: `top_k` counts the predictions strictly
// greater than the label class's own (k = 1 also those equal before it,
// argmax's first maximum); `binary` the fraction of outputs where
// (prediction > threshold) equals the label. Counts add up as integers:
// the same in any order.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"


using namespace mlir;

namespace dlc::cuda {

bool isMetricGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return llvm::hasSingleElement(body.without_terminator()) && isa<dl::MetricOp>(body.front());
}

LogicalResult emitMetric(dl::FusedOp group, CudaKernel &kernel) {
  auto metric = cast<dl::MetricOp>(group.getBody().front().front());
  auto type = cast<ShapedType>(metric.getPrediction().getType());
  int64_t examples = type.getDimSize(0), classes = type.getShape().back();
  int64_t positions = examples && classes ? type.getNumElements() / classes / examples : 0;
  bool sparse = cast<ShapedType>(metric.getLabels().getType()).getRank() + 1 == type.getRank();
  std::string p = inputName(metric.getPrediction()), y = inputName(metric.getLabels());
  std::string out = resultName(group, metric.getScores()), c = ll(classes);
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  // "(float)0.5": a C literal for every value ("%gf" would print "0f" for 0).
  const std::string threshold = t.exact(metric.getThreshold().convertToDouble());
  kernel.block = {256, 1, 1};
  kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (examples + 7) / 8)), 1, 1};
  std::string s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " +
                  kernel.name + "(" + parameterList(group, false) + ") {\n";
  s += "  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;\n";
  s += "  for (long long example = blockIdx.x * 8ll + warp; example < " + ll(examples) +
       "; example += gridDim.x * 8ll) {\n";
  s += "    long long right = 0;\n";
  s += "    for (long long row = example * " + ll(positions) + "; row < (example + 1) * " + ll(positions) +
       "; ++row) {\n";
  s += "      const auto p = " + p + " + row * " + c + ";\n"; // a pointer or a view
  // What the example's score divides |right| by: its outputs (binary) or
  // its positions (top_k).
  std::string scored = ll(positions);
  // The sum of |count| (an int per lane) over the warp, in every lane.
  auto warpSum = [](const std::string &count) {
    return "      for (int o = 16; o > 0; o /= 2)\n        " + count + " += __shfl_xor_sync(0xffffffffu, " + count +
           ", o);\n";
  };
  if (metric.getRule() == "binary") {
    s += "      int hits = 0;\n      for (long long j = lane; j < " + c + "; j += 32)\n"
         "        hits += (p[j] > " + threshold + " ? " + t.lit("1.0") + " : " + t.lit("0.0") + ") == (" + T + ")" +
         y + "[row * " + c + " + j];\n" + warpSum("hits") + "      right += hits;\n";
    scored = ll(positions * classes);
  } else {
    if (sparse) {
      s += "      const long long label = (long long)" + y + "[row];\n";
    } else {
      // The label's class: its first largest entry (argmax), each lane's
      // first over its classes, then the lanes' by value, ties to the lower.
      s += "      long long label = lane < " + c + " ? lane : 0;\n"
           "      for (long long j = lane + 32; j < " + c + "; j += 32)\n"
           "        if (" + y + "[row * " + c + " + j] > " + y + "[row * " + c + " + label])\n          label = j;\n"
           "      for (int o = 16; o > 0; o /= 2) {\n"
           "        const long long other = __shfl_xor_sync(0xffffffffu, label, o);\n"
           "        const " + T + " mine = " + y + "[row * " + c + " + label], theirs = " + y + "[row * " + c +
           " + other];\n"
           "        if (theirs > mine || (theirs == mine && other < label))\n          label = other;\n"
           "      }\n"
           // NaN labels compare false both ways: lane 0's choice for all.
           "      label = __shfl_sync(0xffffffffu, label, 0);\n";
    }
    s += "      if (label < 0 || label >= " + c + " || !isfinite(p[label]))\n        continue;\n";
    s += "      int greater = 0;\n      for (long long j = lane; j < " + c + "; j += 32)\n"
         "        greater += p[j] > p[label] || (" + ll(metric.getK()) +
         " == 1ll && j < label && p[j] == p[label]);\n" + warpSum("greater");
    s += "      right += greater < " + ll(metric.getK()) + ";\n";
  }
  s += "    }\n    if (lane == 0)\n      " + out + "[example] = (" + T + ")((double)right / (double)" + scored +
       ");\n  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
