//===- EmitLoss.cpp - Keras losses and their gradients --------------------===//
//
// Cross-entropies (categorical, sparse, binary; from logits or
// probabilities, with label smoothing) and mean squared error, as
// compiler/Reference/GradKernels.cpp computes them. One warp per row (max,
// log-sum-exp and label sums by shuffles). The loss value is reduced by a
// single block so that it is deterministic; the gradient (divided by the
// number of rows: the loss is a mean) may carry a bias_grad epilogue. Each
// example's loss (dl.example_loss, for evaluation) is its warp's mean over
// the example's rows.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"
#include "dialects/DL/DLCatalog.h"
#include "runtime/loss_scale.h"
#include "runtime/settings.h"

#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

enum class LossKind { SoftmaxCrossentropy, CategoricalOnProbabilities, Binary, MeanSquared };

struct LossForm {
  LossKind kind = LossKind::SoftmaxCrossentropy;
  bool sparse = false, fromLogits = false;
  double smoothing = 0;
  int64_t rows = 0, classes = 0;
  int64_t examples = 0; // the leading axis: rows / examples positions each
};

/// Keras' losses as compiler/Reference/GradKernels.cpp computes them: the
/// cross-entropies as a softmax cross-entropy of logits (sparse
/// probabilities through log(clip(p))), categorical cross-entropy of
/// probabilities (normalised by their sum, clipped), binary cross-entropy
/// and mean squared error (each averaged over the last axis).
FailureOr<LossForm> lossForm(Operation *op) {
  rt::LossSettings settings;
  if (!rt::decodeLoss(dl::settingOf(op->getAttrOfType<dl::ConfigAttr>("config")), &settings).ok())
    return failure();
  LossForm f;
  f.fromLogits = settings.fromLogits;
  f.smoothing = settings.labelSmoothing;
  f.sparse = settings.kind == rt::LossKind::kSparseCategoricalCrossentropy;
  switch (settings.kind) {
  case rt::LossKind::kCategoricalCrossentropy:
  case rt::LossKind::kSparseCategoricalCrossentropy:
    f.kind = f.fromLogits || f.sparse ? LossKind::SoftmaxCrossentropy
                                      : LossKind::CategoricalOnProbabilities;
    break;
  case rt::LossKind::kBinaryCrossentropy: f.kind = LossKind::Binary; break;
  case rt::LossKind::kMeanSquaredError: f.kind = LossKind::MeanSquared; break;
  }
  auto shape = cast<ShapedType>(op->getOperand(0).getType()).getShape();
  f.classes = shape.back();
  f.rows = cast<ShapedType>(op->getOperand(0).getType()).getNumElements() / f.classes;
  f.examples = shape.front();
  return f;
}

/// Device code shared by the loss and its gradient, for a warp per row:
/// labelOf(row, j) (smoothed), and rowStats(z, row, &stats) filling what the
/// kind needs: for the softmax kinds the log-sum-exp and the label sum, for
/// categorical probabilities the sum s and dot = sum(dr_j r_j).
std::string rowHelpers(const ComputeType &t, const LossForm &f, const std::string &labels,
                       const std::string &predictions) {
  const std::string T = t.name();
  std::string c = std::to_string(f.classes) + "ll";
  std::string label = f.sparse ? "(" + labels + "[row] == j ? " + t.lit("1.0") + " : " + t.lit("0.0") + ")" : labels + "[row * " + c + " + j]";
  double floor = f.kind == LossKind::MeanSquared ? 0.0
                 : f.kind == LossKind::Binary   ? 0.5 * f.smoothing
                                                : f.smoothing / double(f.classes);
  double keep = f.kind == LossKind::MeanSquared ? 1.0 : 1.0 - f.smoothing;
  std::string s = "  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;\n"
                  "  auto labelOf = [&](long long row, long long j) {\n"
                  "    return " + label + " * " + t.exact(keep) + " + " + t.exact(floor) +
                  ";\n  };\n"
                  "  auto clip = [](" + T + " v) { return " + t.fn("fmin") + "(" + t.fn("fmax") + "(v, " + t.lit("1e-7") + "), " + t.lit("1.0") + " - " + t.lit("1e-7") + "); };\n"
                  "  auto inside = [](" + T + " v) { return v >= " + t.lit("1e-7") + " && v <= " + t.lit("1.0") + " - " + t.lit("1e-7") + "; };\n"
                  "  (void)clip; (void)inside;\n"
                  // z is a pointer or a view (bufferViews): its declared type, since
                  // NVRTC compiles no generic lambdas in device code.
                  "  auto logit = [&](decltype(" + predictions + ") z, long long at) { return " +
                  (f.fromLogits ? std::string("z[at]") : std::string(t.fn("log") + "(clip(z[at]))")) + "; };\n"
                  "  (void)logit;\n"
                  "  struct Stats { " + T + " logSum, ySum, sum, dot; };\n"
                  "  auto rowStats = [&](decltype(" + predictions + ") z, long long row) {\n"
                  "    Stats st{" + t.lit("0.0") + ", " + t.lit("0.0") + ", " + t.lit("0.0") + ", " + t.lit("0.0") + "};\n";
  auto warpSum = [](const std::string &v) {
    return "    for (int o = 16; o > 0; o /= 2)\n      " + v + " += __shfl_xor_sync(0xffffffffu, " + v +
           ", o);\n";
  };
  if (f.kind == LossKind::SoftmaxCrossentropy)
    s += "    " + T + " top = " + t.negInfinity() + ", labels = " + t.lit("0.0") + ";\n"
         "    for (long long j = lane; j < " + c + "; j += 32) {\n"
         "      top = " + t.fn("fmax") + "(top, logit(z, row * " + c + " + j));\n      labels += labelOf(row, j);\n    }\n"
         "    for (int o = 16; o > 0; o /= 2)\n"
         "      top = " + t.fn("fmax") + "(top, __shfl_xor_sync(0xffffffffu, top, o));\n" + warpSum("labels") +
         "    " + T + " s = " + t.lit("0.0") + ";\n"
         "    for (long long j = lane; j < " + c + "; j += 32)\n      s += " + t.fn("exp") + "(logit(z, row * " + c +
         " + j) - top);\n" + warpSum("s") + "    st.logSum = top + " + t.fn("log") + "(s);\n    st.ySum = labels;\n";
  if (f.kind == LossKind::CategoricalOnProbabilities)
    s += "    " + T + " s = " + t.lit("0.0") + ";\n    for (long long j = lane; j < " + c + "; j += 32)\n      s += z[row * " + c +
         " + j];\n" + warpSum("s") + "    " + T + " dot = " + t.lit("0.0") + ";\n"
         "    for (long long j = lane; j < " + c + "; j += 32) {\n      const " + T + " r = z[row * " + c +
         " + j] / s;\n      dot += (inside(r) ? -labelOf(row, j) / clip(r) : " + t.lit("0.0") + ") * r;\n    }\n" +
         warpSum("dot") + "    st.sum = s;\n    st.dot = dot;\n";
  return s + "    return st;\n  };\n";
}

/// The loss of element j of a row (before the mean over rows), as double.
std::string elementLoss(const ComputeType &t, const LossForm &f, const std::string &z, const std::string &c) {
  std::string p = z + "[row * " + c + " + j]", y = "labelOf(row, j)", C = "(double)" + c;
  switch (f.kind) {
  case LossKind::SoftmaxCrossentropy:
    return "-(double)" + y + " * (double)(logit(" + z + ", row * " + c + " + j) - st.logSum)";
  case LossKind::CategoricalOnProbabilities:
    return "-(double)" + y + " * (double)" + t.fn("log") + "(clip(" + p + " / st.sum))";
  case LossKind::Binary:
    if (f.fromLogits)
      return "((double)" + t.fn("fmax") + "(" + p + ", " + t.lit("0.0") + ") - (double)" + p + " * (double)" + y +
             " + (double)" + t.fn("log1p") + "(" + t.fn("exp") + "(-" + t.fn("fabs") + "(" + p + ")))) / " + C;
    return "-((double)" + y + " * (double)" + t.fn("log") + "(clip(" + p + ")) + (1.0 - (double)" + y +
           ") * (double)" + t.fn("log") + "(" + t.lit("1.0") + " - clip(" + p + "))) / " + C;
  case LossKind::MeanSquared:
    return "(double)(" + p + " - " + y + ") * (double)(" + p + " - " + y + ") / " + C;
  }
  return "";
}

/// The gradient of element j of a row (before the division by rows).
std::string elementGrad(const ComputeType &t, const LossForm &f, const std::string &z, const std::string &c) {
  const std::string T = t.name();
  std::string p = z + "[row * " + c + " + j]", y = "labelOf(row, j)", C = "(" + T + ")" + c;
  switch (f.kind) {
  case LossKind::SoftmaxCrossentropy: {
    std::string d = "(" + t.fn("exp") + "(logit(" + z + ", row * " + c + " + j) - st.logSum) * st.ySum - " + y + ")";
    return f.fromLogits ? d : "(inside(" + p + ") ? " + d + " / clip(" + p + ") : " + t.lit("0.0") + ")";
  }
  case LossKind::CategoricalOnProbabilities:
    return "(((inside(" + p + " / st.sum) ? -" + y + " / clip(" + p + " / st.sum) : " + t.lit("0.0") + ") - st.dot) / st.sum)";
  case LossKind::Binary:
    if (f.fromLogits)
      return "((" + sigmoidOf(t, p) + " - " + y + ") / " + C + ")";
    return "(inside(" + p + ") ? (-" + y + " / clip(" + p + ") + (" + t.lit("1.0") + " - " + y + ") / (" + t.lit("1.0") + " - clip(" + p +
           "))) / " + C + " : " + t.lit("0.0") + ")";
  case LossKind::MeanSquared:
    return "(" + t.lit("2.0") + " * (" + p + " - " + y + ") / " + C + ")";
  }
  return "";
}

} // namespace

namespace {
/// The gradient then its bias_grad under --deterministic: block b takes a
/// run of whole rows, each warp adds its rows' gradients into its own row of
/// sums in scratch (a lane owns its columns), the block adds its 8 warps'
/// rows in warp order into its row of an OrderedSumTable, and the last
/// block adds those in block order.
LogicalResult emitOrderedLossBias(dl::FusedOp group, CudaKernel &kernel, const LossForm &f, Operation &op,
                                  const std::string &grad, const std::string &reduced,
                                  const std::string &weightedGrad) {
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  const std::string z = inputName(op.getOperand(0)), labels = inputName(op.getOperand(1));
  const std::string c = ll(f.classes), rows = ll(f.rows);
  const int64_t parts = orderedSumParts(f.classes, std::min<int64_t>(1024, (f.rows + 7) / 8));
  const int64_t rowsPerPart = (f.rows + parts - 1) / parts;
  const int64_t blocks = (f.rows + rowsPerPart - 1) / rowsPerPart;
  const int64_t warpRows = blocks * 8 * f.classes; // the warps' sums, then the table
  OrderedSumTable table{warpRows, blocks, {{reduced, f.classes}}};
  kernel.grid = {blocks, 1, 1};
  kernel.sharedBytes = 4;
  kernel.scratchBytes = table.scratchElements() * t.bytes();
  kernel.zeroedScratch = true;
  std::string s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " +
                  kernel.name + "(" + parameterList(group, false, true, T) + ") {\n" +
                  rowHelpers(t, f, labels, z);
  std::string scaled;
  if (Value state = cast<dl::LossGradOp>(op).getLossScale()) {
    s += "  const " + T + " lossScale = (" + T + ")" + inputName(state) + "[" +
         std::to_string(int(rt::loss_scale::kScale)) + "];\n";
    scaled = " * lossScale";
  }
  s += "  const long long rowBegin = blockIdx.x * " + ll(rowsPerPart) + ", rowEnd = rowBegin + " +
       ll(rowsPerPart) + " < " + rows + " ? rowBegin + " + ll(rowsPerPart) + " : " + rows + ";\n"
       "  " + T + " *const warpSums = scratch + (blockIdx.x * 8ll + warp) * " + c + ";\n"
       "  for (long long row = rowBegin + warp; row < rowEnd; row += 8) {\n"
       "    const Stats st = rowStats(" + z + ", row);\n    (void)st;\n"
       "    for (long long j = lane; j < " + c + "; j += 32) {\n"
       "      const " + T + " g = " + elementGrad(t, f, z, c) + " / (" + T + ")" + rows + weightedGrad + scaled +
       ";\n      " + (grad.empty() ? "" : grad + "[row * " + c + " + j] = g;\n      ") +
       "warpSums[j] += g;\n    }\n  }\n"
       "  __syncthreads();\n"
       "  for (long long j = threadIdx.x; j < " + c + "; j += blockDim.x) {\n"
       "    " + T + " sum = " + t.lit("0.0") + ";\n"
       "    for (int w = 0; w < 8; ++w)\n"
       "      sum += scratch[(blockIdx.x * 8ll + w) * " + c + " + j];\n"
       "    scratch[" + ll(warpRows) + " + blockIdx.x * " + c + " + j] = sum;\n  }\n";
  s += table.finish(t, blocks) + "}\n";
  kernel.source = std::move(s);
  return success();
}
} // namespace

bool isLossGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  auto ops = body.without_terminator();
  Operation &first = *ops.begin();
  if (!isa<dl::LossOp, dl::LossGradOp, dl::ExampleLossOp>(first) || failed(lossForm(&first)))
    return false;
  size_t count = std::distance(ops.begin(), ops.end());
  if (count == 1)
    return true;
  auto bias = dyn_cast<dl::BiasGradOp>(*std::next(ops.begin()));
  return count == 2 && isa<dl::LossGradOp>(first) && bias && bias.getDy() == first.getResult(0) &&
         isPlainF32(group, bias.getResult()); // summed with float atomics
}

LogicalResult emitLoss(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  Operation &op = body.front();
  LossForm f = *lossForm(&op);
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  std::string z = inputName(op.getOperand(0)), labels = inputName(op.getOperand(1));
  std::string c = std::to_string(f.classes) + "ll", rows = std::to_string(f.rows) + "ll";
  auto outOf = [&](Value v) { return resultName(group, v); };
  // One output's share of a model's loss (dl.loss's weight): the value
  // times it in double, the gradient in the compute type.
  std::string weighted, weightedGrad;
  if (auto weight = op.getAttrOfType<FloatAttr>("weight"); weight && weight.getValueAsDouble() != 1.0) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%.17g", weight.getValueAsDouble());
    weighted = std::string(" * ") + digits;
    weightedGrad = " * " + t.exact(weight.getValueAsDouble());
  }
  std::string s;
  if (isa<dl::ExampleLossOp>(op)) {
    // Each example's loss, by one warp: the mean over its positions' rows
    // (one row for [N, classes]), no reduction over examples.
    int64_t positions = f.examples ? f.rows / f.examples : 0;
    std::string p = std::to_string(positions) + "ll";
    kernel.block = {256, 1, 1};
    kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(4096, (f.examples + 7) / 8)), 1, 1};
    s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name +
        "(" + parameterList(group, false) + ") {\n" + rowHelpers(t, f, labels, z) +
        "  for (long long example = blockIdx.x * 8ll + warp; example < " + std::to_string(f.examples) +
        "ll; example += gridDim.x * 8ll) {\n"
        "    double t = 0.0;\n"
        "    for (long long row = example * " + p + "; row < (example + 1) * " + p + "; ++row) {\n"
        "      const Stats st = rowStats(" + z + ", row);\n      (void)st;\n"
        "      for (long long j = lane; j < " + c + "; j += 32)\n"
        "        t += " + elementLoss(t, f, z, c) + ";\n    }\n"
        "    for (int o = 16; o > 0; o /= 2)\n      t += __shfl_xor_sync(0xffffffffu, t, o);\n"
        "    if (lane == 0)\n      " + outOf(op.getResult(0)) + "[example] = (" + T + ")(t / (double)" + p +
        weighted + ");\n  }\n}\n";
  } else if (isa<dl::LossOp>(op)) {
    // The mean over rows: each block's warps take rows, each block adds its
    // warps' f64 totals in warp order into its row of an OrderedSumTable
    // (f64), and the last block adds the blocks' in block order: a fixed
    // order, so the loss is the same in every run.
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(1024, (f.rows + 7) / 8));
    const ComputeType f64(*deviceType(Float64Type::get(group.getContext())));
    OrderedSumTable table{0, blocks, {{outOf(op.getResult(0)), 1}}};
    kernel.block = {256, 1, 1};
    kernel.grid = {blocks, 1, 1};
    kernel.sharedBytes = 8 * 8 + 4;
    kernel.scratchBytes = table.scratchElements() * f64.bytes();
    kernel.zeroedScratch = true;
    s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name +
        "(" + parameterList(group, false, true, "double") + ") {\n" + rowHelpers(t, f, labels, z) +
        "  __shared__ double warpTotals[8];\n  double total = 0.0;\n"
        "  for (long long row = blockIdx.x * 8ll + warp; row < " + rows + "; row += gridDim.x * 8ll) {\n"
        "    const Stats st = rowStats(" + z + ", row);\n    (void)st;\n"
        "    double t = 0.0;\n    for (long long j = lane; j < " + c + "; j += 32)\n"
        "      t += " + elementLoss(t, f, z, c) + ";\n"
        "    for (int o = 16; o > 0; o /= 2)\n      t += __shfl_xor_sync(0xffffffffu, t, o);\n"
        "    total += t;\n  }\n  if (lane == 0)\n    warpTotals[warp] = total;\n  __syncthreads();\n"
        "  if (threadIdx.x == 0) {\n    double sum = 0.0;\n    for (int w = 0; w < 8; ++w)\n"
        "      sum += warpTotals[w];\n    scratch[blockIdx.x] = sum / " + rows + weighted + ";\n  }\n" +
        table.finish(f64, blocks) + "}\n";
  } else {
    Operation *bias = body.without_terminator().begin() != body.without_terminator().end() &&
                              std::next(body.without_terminator().begin()) != body.without_terminator().end()
                          ? &*std::next(body.without_terminator().begin())
                          : nullptr;
    std::string grad = outOf(op.getResult(0)), reduced = bias ? outOf(bias->getResult(0)) : "";
    kernel.block = {256, 1, 1};
    kernel.grid = {std::max<int64_t>(1, std::min<int64_t>(1024, (f.rows + 7) / 8)), 1, 1};
    if (bias && orderedSums(group))
      return emitOrderedLossBias(group, kernel, f, op, grad, reduced, weightedGrad);
    bool sharedSums = bias && f.classes <= kMaxSharedChannelSums;
    kernel.sharedBytes = sharedSums ? f.classes * t.bytes() : 0;
    if (bias) {
      kernel.zeroedOutputs.push_back(resultIndex(group, bias->getResult(0)));
      kernel.globalAtomics = sharedSums ? kernel.grid[0] * f.classes : f.rows * f.classes;
    }
    s = header(group, kernel) + "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name +
        "(" + parameterList(group, false) + ") {\n" + rowHelpers(t, f, labels, z);
    // Dynamic loss scaling: the gradient times the state's scale (exact for
    // a power of two).
    std::string scaled;
    if (Value state = cast<dl::LossGradOp>(op).getLossScale()) {
      s += "  const " + T + " lossScale = (" + T + ")" + inputName(state) + "[" +
           std::to_string(int(rt::loss_scale::kScale)) + "];\n";
      scaled = " * lossScale";
    }
    if (sharedSums)
      s += "  __shared__ " + T + " partial[" + std::to_string(f.classes) + "];\n"
           "  for (int j = threadIdx.x; j < " + std::to_string(f.classes) + "; j += blockDim.x)\n"
           "    partial[j] = " + t.lit("0.0") + ";\n  __syncthreads();\n";
    s += "  for (long long row = blockIdx.x * 8ll + warp; row < " + rows + "; row += gridDim.x * 8ll) {\n"
         "    const Stats st = rowStats(" + z + ", row);\n    (void)st;\n"
         "    for (long long j = lane; j < " + c + "; j += 32) {\n"
         "      const " + T + " g = " + elementGrad(t, f, z, c) + " / (" + T + ")" + rows + weightedGrad + scaled + ";\n      " + (grad.empty() ? "" : grad + "[row * " + c + " + j] = g;\n      ") +
         (bias ? "atomicAdd(&" + (sharedSums ? std::string("partial") : reduced) + "[j], g);\n"
               : std::string("(void)g;\n")) + "    }\n  }\n";
    if (sharedSums)
      s += "  __syncthreads();\n  for (int j = threadIdx.x; j < " + std::to_string(f.classes) +
           "; j += blockDim.x)\n    atomicAdd(&" + reduced + "[j], partial[j]);\n";
    s += "}\n";
  }
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
