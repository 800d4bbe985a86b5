//===- EmitMetric.cpp - Each example's metric score -----------------------===//
//
// dl.metric: one thread per example (a row of [N, classes] predictions, or
// the rows of its positions in [N, positions..., classes], whose mean is
// its score), as compiler/Reference/GradKernels.cpp scores it: `top_k`
// counts the predictions strictly greater than the label class's own (k = 1
// also those equal before it, argmax's first maximum); `binary` the
// fraction of outputs where (prediction > threshold) equals the label.
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
  kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (examples + 255) / 256)), 1, 1};
  std::string s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " +
                  kernel.name + "(" + parameterList(group, false) + ") {\n";
  s += "  for (long long example = blockIdx.x * (long long)blockDim.x + threadIdx.x; example < " +
       ll(examples) + ";\n       example += (long long)gridDim.x * blockDim.x) {\n";
  s += "    long long right = 0;\n";
  s += "    for (long long row = example * " + ll(positions) + "; row < (example + 1) * " + ll(positions) +
       "; ++row) {\n";
  s += "      const auto p = " + p + " + row * " + c + ";\n"; // a pointer or a view
  // What the example's score divides |right| by: its outputs (binary) or
  // its positions (top_k).
  std::string scored = ll(positions);
  if (metric.getRule() == "binary") {
    s += "      for (long long j = 0; j < " + c + "; ++j)\n"
         "        right += (p[j] > " + threshold + " ? " + t.lit("1.0") + " : " + t.lit("0.0") + ") == (" + T + ")" + y + "[row * " +
         c + " + j];\n";
    scored = ll(positions * classes);
  } else {
    if (sparse) {
      s += "      const long long label = (long long)" + y + "[row];\n";
    } else {
      s += "      long long label = 0;\n      for (long long j = 1; j < " + c + "; ++j)\n"
           "        if (" + y + "[row * " + c + " + j] > " + y + "[row * " + c + " + label])\n          label = j;\n";
    }
    s += "      if (label < 0 || label >= " + c + " || !isfinite(p[label]))\n        continue;\n";
    s += "      long long greater = 0;\n      for (long long j = 0; j < " + c + "; ++j)\n"
         "        greater += p[j] > p[label] || (" + ll(metric.getK()) +
         " == 1ll && j < label && p[j] == p[label]);\n";
    s += "      right += greater < " + ll(metric.getK()) + ";\n";
  }
  s += "    }\n    " + out + "[example] = (" + T + ")((double)right / (double)" + scored + ");\n  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
