//===- EmitElementwise.cpp - Chains of elementwise ops --------------------===//
//
// A group of elementwise ops over one shape becomes a grid-stride loop in
// which each thread loads its element of every input once, evaluates the
// chain in registers and stores only the group's results. Dropout draws its
// mask from the same counter-based generator as the other backends
// (runtime/counter_rng.h, re-stated as device code), keyed by element index.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

const char *kCounterRng = R"(__device__ __forceinline__ unsigned long long dlc_mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
__device__ __forceinline__ double dlc_uniform01(unsigned long long seed, unsigned long long stream,
                                                unsigned long long index) {
  unsigned long long key = dlc_mix64(seed ^ dlc_mix64(stream + 0x9e3779b97f4a7c15ull));
  return (double)(dlc_mix64(key + index * 0x9e3779b97f4a7c15ull) >> 11) * 0x1.0p-53;
}
)";

/// GELU's constants to the compute type's precision.
struct GeluConstants {
  explicit GeluConstants(const ComputeType &t)
      : sqrt2OverPi(t.rounded(std::sqrt(2.0 / M_PI))), invSqrt2(t.rounded(M_SQRT1_2)),
        invSqrt2Pi(t.rounded(0.5 * M_2_SQRTPI * M_SQRT1_2)) {}
  std::string sqrt2OverPi, invSqrt2, invSqrt2Pi;
};

} // namespace

const char *counterRngSource() { return kCounterRng; }

/// The expression computing |op| from the names of its operands, or "".
std::string sigmoidOf(const ComputeType &t, const std::string &x) {
  return t.lit("1.0") + " / (" + t.lit("1.0") + " + " + t.fn("exp") + "(-" + x + "))";
}
std::string tanhOf(const ComputeType &t, const std::string &x) { return t.fn("tanh") + "(" + x + ")"; }

std::string elementwiseExpression(const ComputeType &t, Operation *op, ArrayRef<std::string> a,
                                  bool *usesStep, const std::string &index) {
  auto slope = [&](Operation *o) {
    auto attr = o->getAttrOfType<FloatAttr>("negative_slope");
    return t.rounded(attr ? attr.getValueAsDouble() : 0.2);
  };
  const std::string zero = t.lit("0.0"), one = t.lit("1.0"), half = t.lit("0.5");
  const GeluConstants k(t);
  auto approximate = [&](Operation *o) { return o->hasAttr("approximate"); };
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](dl::ZerosOp) { return zero; })
      .Case([&](dl::CastOp c) -> std::string {
        // Between floats: a rounding in registers (the compute type holds
        // every f16, bf16 and f32 value).
        Type from = cast<ShapedType>(c.getInput().getType()).getElementType(), to = c.getTo();
        if (!isa<FloatType>(from) || !isa<FloatType>(to))
          return "";
        if (to.isF32() && t.name() == "double")
          return "(double)(float)(" + a[0] + ")";
        return roundedTo(to, a[0]);
      })
      .Case([&](dl::ReluOp) { return t.fn("fmax") + "(" + a[0] + ", " + zero + ")"; })
      .Case([&](dl::SigmoidOp) { return sigmoidOf(t, a[0]); })
      .Case([&](dl::TanhOp) { return tanhOf(t, a[0]); })
      .Case([&](dl::GeluOp o) {
        const std::string &x = a[0];
        if (approximate(o))
          return half + " * " + x + " * (" + one + " + " +
                 tanhOf(t, k.sqrt2OverPi + " * (" + x + " + " + t.lit("0.044715") + " * " + x +
                               " * " + x + " * " + x + ")") +
                 ")";
        return half + " * " + x + " * (" + one + " + " + t.fn("erf") + "(" + x + " * " +
               k.invSqrt2 + "))";
      })
      .Case([&](dl::LeakyReluOp o) {
        return a[0] + " > " + zero + " ? " + a[0] + " : " + slope(o) + " * " + a[0];
      })
      .Case([&](dl::AddOp) {
        std::string sum = a[0];
        for (size_t i = 1; i < a.size(); ++i)
          sum += " + " + a[i];
        return sum;
      })
      .Case([&](dl::DropoutOp o) -> std::string {
        if (!o.getTraining())
          return a[0];
        *usesStep = true;
        double rate = o.getRate().convertToDouble();
        unsigned long long seed = o.getSeed().value_or(0);
        char rateText[40];
        std::snprintf(rateText, sizeof rateText, "%.17g", rate); // the exact double
        return "(dlc_uniform01(" + std::to_string(seed) + "ull, *step, (unsigned long long)(" + index + ")) < " +
               rateText + " ? " + zero + " : " + a[0] + " * " + t.rounded(1.0 / (1.0 - rate)) + ")";
      })
      .Case([&](dl::ReluGradOp) { return a[0] + " > " + zero + " ? " + a[1] + " : " + zero; })
      .Case([&](dl::SigmoidGradOp) { return a[1] + " * " + a[0] + " * (" + one + " - " + a[0] + ")"; })
      .Case([&](dl::TanhGradOp) { return a[1] + " * (" + one + " - " + a[0] + " * " + a[0] + ")"; })
      .Case([&](dl::LeakyReluGradOp o) {
        return a[0] + " > " + zero + " ? " + a[1] + " : " + slope(o) + " * " + a[1];
      })
      .Case([&](dl::GeluGradOp o) {
        const std::string &x = a[0], &dy = a[1];
        if (approximate(o))
          return "dlc_gelu_tanh_grad(" + x + ", " + dy + ")";
        return dy + " * (" + half + " * (" + one + " + " + t.fn("erf") + "(" + x + " * " +
               k.invSqrt2 + ")) + " + x + " * " + k.invSqrt2Pi + " * " + t.fn("exp") +
               "(-" + half + " * " + x + " * " + x + "))";
      })
      .Default([](Operation *) { return std::string(); });
}

namespace {

std::string geluTanhGradFunction(const ComputeType &t) {
  std::string T = t.name(), one = t.lit("1.0"), half = t.lit("0.5");
  const GeluConstants gelu(t);
  return "__device__ __forceinline__ " + T + " dlc_gelu_tanh_grad(" + T + " x, " + T + " dy) {\n"
         "  const " + T + " k = " + gelu.sqrt2OverPi + ", c = " + t.lit("0.044715") + ";\n"
         "  " + T + " inner = k * (x + c * x * x * x);\n"
         "  " + T + " t = " + tanhOf(t, "inner") + ";\n"
         "  return dy * (" + half + " * (" + one + " + t) + " + half + " * x * (" + one + " - t * t) * k * (" +
         one + " + " + t.lit("3.0") + " * c * x * x));\n}\n";
}

} // namespace

std::string elementwiseHelpers(dl::FusedOp group) {
  bool dropout = false, geluTanhGrad = false;
  group.getBody().walk([&](Operation *op) {
    if (auto d = dyn_cast<dl::DropoutOp>(op))
      dropout |= d.getTraining();
    geluTanhGrad |= isa<dl::GeluGradOp>(op) && op->hasAttr("approximate");
  });
  return std::string(dropout ? kCounterRng : "") + (geluTanhGrad ? geluTanhGradFunction(computeType(group)) : "");
}

/// The value whose shape and element type every element of the chain has:
/// its first op's result, or what a lone bias_grad sums.
static Value chainValue(Block &body) {
  Operation &first = body.front();
  return isa<dl::BiasGradOp>(first) ? first.getOperand(0) : first.getResult(0);
}
static ArrayRef<int64_t> chainShape(Block &body) {
  return cast<ShapedType>(chainValue(body).getType()).getShape();
}
static Type chainElementType(Block &body) {
  return cast<ShapedType>(chainValue(body).getType()).getElementType();
}

/// Whether a chain computing in f32 or f64 (|element|'s compute type) can
/// hold |t|: f32 chains take the 16-bit types too (stored, computed in f32).
static bool chainHolds(Type element, Type t) {
  auto f32ish = [](Type e) { return e.isF32() || e.isF16() || e.isBF16(); };
  return element == t || (f32ish(element) && f32ish(t));
}

bool isElementwiseGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  if (group.getNumResults() == 0)
    return false;
  auto shape = chainShape(body);
  // One compute type for the whole chain: f32 (with 16-bit values stored
  // and rounded as their types say) or f64.
  Type element = chainElementType(body);
  auto ofChain = [&](Value v) {
    auto type = cast<ShapedType>(v.getType());
    return type.getShape() == shape && chainHolds(element, type.getElementType());
  };
  if (!chainHolds(Float32Type::get(group.getContext()), element) && !element.isF64())
    return false;
  const ComputeType t = computeType(group);
  std::vector<std::string> names(8, "x");
  for (Operation &op : body.without_terminator()) {
    // A trailing bias_grad of the chain: a per-channel reduction epilogue,
    // accumulated with float atomics into an f32 result.
    if (auto bias = dyn_cast<dl::BiasGradOp>(op)) {
      int sum = resultIndex(group, bias.getResult());
      Type summed = cast<ShapedType>(bias.getResult().getType()).getElementType();
      if (&op != &*std::prev(body.without_terminator().end()) ||
          summed != (element.isF64() ? element : Float32Type::get(group.getContext())) ||
          (sum >= 0 && resultStorage(group, unsigned(sum)) != summed))
        return false;
      continue;
    }
    // A pool reads windows of group inputs, so its operands must be inputs.
    if (isGatherOp(&op)) {
      for (Value v : op.getOperands())
        if (!isa<BlockArgument>(v) || !chainHolds(element, cast<ShapedType>(v.getType()).getElementType()))
          return false;
      if (!ofChain(op.getResult(0)))
        return false;
      continue;
    }
    bool step = false;
    if (elementwiseExpression(t, &op, names, &step).empty())
      return false;
    SmallVector<Value> values(op.getOperands());
    values.append(op.getResults().begin(), op.getResults().end());
    if (!llvm::all_of(values, ofChain))
      return false;
  }
  return true;
}

namespace {
/// The chain with its bias_grad under --deterministic: the elements seen as
/// [rows, channels], each block takes a run of whole rows; a thread keeps
/// one column's sum over the rows it computes (|element|: the loop body for
/// element i, ending in the stores), threads sharing a column add theirs in
/// lane order, and OrderedSumTable adds the blocks' rows in block order.
/// Every element is computed once, as in the atomic form.
LogicalResult emitOrderedBiasSums(dl::FusedOp group, CudaKernel &kernel, int64_t channels, int64_t n,
                                  const std::string &element, const std::string &summed,
                                  const std::string &reduced, const std::string &functions,
                                  bool usesStep) {
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  const int64_t rows = n / channels;
  // Threads per column: a narrow bias spreads each column over lanes.
  const int64_t span = std::min(channels, kThreads), lanes = kThreads / span;
  // Each thread should add a few rows; the table stays small.
  const int64_t parts = orderedSumParts(channels, std::min(kMaxBlocks, std::max<int64_t>(1, rows / (4 * lanes))));
  const int64_t rowsPerPart = (rows + parts - 1) / parts;
  const int64_t blocks = (rows + rowsPerPart - 1) / rowsPerPart;
  OrderedSumTable table{0, blocks, {{reduced, channels}}};
  kernel.takesStep = usesStep;
  kernel.block = {kThreads, 1, 1};
  kernel.grid = {blocks, 1, 1};
  kernel.sharedBytes = (lanes > 1 ? kThreads * t.bytes() : 0) + 4;
  kernel.scratchBytes = table.scratchElements() * t.bytes();
  kernel.zeroedScratch = true;
  std::string indented;
  SmallVector<StringRef> lines;
  StringRef(element).split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (StringRef line : lines)
    indented += "    " + line.str() + "\n";
  std::string s = header(group, kernel) + functions;
  s += "extern \"C\" __global__ void __launch_bounds__(" + std::to_string(kThreads) + ") " + kernel.name +
       "(" + parameterList(group, usesStep, true, T) + ") {\n";
  s += "  const long long rowBegin = blockIdx.x * " + ll(rowsPerPart) + ", rowEnd = rowBegin + " +
       ll(rowsPerPart) + " < " + ll(rows) + " ? rowBegin + " + ll(rowsPerPart) + " : " + ll(rows) + ";\n";
  if (lanes > 1)
    s += "  __shared__ " + T + " laneSums[" + std::to_string(kThreads) + "];\n";
  s += "  if (threadIdx.x < " + std::to_string(span * lanes) + ") {\n"
       "    for (long long c = threadIdx.x % " + ll(span) + "; c < " + ll(channels) + "; c += " + ll(span) +
       ") {\n"
       "      " + T + " columnSum = " + t.lit("0.0") + ";\n"
       "      for (long long r = rowBegin + threadIdx.x / " + ll(span) + "; r < rowEnd; r += " + ll(lanes) +
       ") {\n"
       "        const long long i = r * " + ll(channels) + " + c;\n" + indented +
       "        columnSum += " + summed + ";\n      }\n";
  s += lanes > 1 ? "      laneSums[threadIdx.x] = columnSum;\n"
                 : "      scratch[blockIdx.x * " + ll(channels) + " + c] = columnSum;\n";
  s += "    }\n  }\n";
  if (lanes > 1)
    s += "  __syncthreads();\n"
         "  if (threadIdx.x < " + ll(channels) + ") {\n"
         "    " + T + " columnSum = " + t.lit("0.0") + ";\n"
         "    for (int lane = 0; lane < " + std::to_string(lanes) + "; ++lane)\n"
         "      columnSum += laneSums[lane * " + std::to_string(span) + " + threadIdx.x];\n"
         "    scratch[blockIdx.x * " + ll(channels) + " + threadIdx.x] = columnSum;\n  }\n";
  s += table.finish(t, blocks) + "}\n";
  kernel.source = std::move(s);
  return success();
}
} // namespace

LogicalResult emitElementwise(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  int64_t n = 1;
  for (int64_t d : chainShape(body))
    n *= d;
  DenseMap<Value, std::string> names;
  std::string computes, functions;
  // Inputs read elementwise are loaded once per element, and only those.
  std::vector<unsigned> loaded;
  auto operandName = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v); arg && !names.count(v)) {
      loaded.push_back(arg.getArgNumber());
      names[v] = "a" + std::to_string(arg.getArgNumber());
    }
    return names.lookup(v);
  };
  bool gathers = false;
  bool usesStep = false;
  int counter = 0;
  dl::BiasGradOp bias;
  for (Operation &op : body.without_terminator()) {
    if ((bias = dyn_cast<dl::BiasGradOp>(op)))
      break;
    std::string name = "v" + std::to_string(counter++);
    if (isGatherOp(&op)) {
      gathers = true;
      std::string function = "dlc_pool_" + name;
      functions += gatherFunction(t, &op, function);
      std::string call = function + "(";
      for (Value v : op.getOperands())
        call += "in" + std::to_string(cast<BlockArgument>(v).getArgNumber()) + ", ";
      computes += "    const " + T + " " + name + " = " + roundedTo(op.getResult(0).getType(), call + "i)") + ";\n";
      names[op.getResult(0)] = name;
      continue;
    }
    std::vector<std::string> operands;
    for (Value v : op.getOperands())
      operands.push_back(operandName(v));
    computes += "    const " + T + " " + name + " = " +
                roundedTo(op.getResult(0).getType(), elementwiseExpression(t, &op, operands, &usesStep)) + ";\n";
    names[op.getResult(0)] = name;
  }
  auto yield = cast<dl::YieldOp>(body.getTerminator());
  std::string reduced, summed;
  int64_t channels = 0;
  std::vector<std::pair<unsigned, std::string>> stored; // (result, value)
  const bool ordered = bias && orderedSums(group);
  for (auto [i, v] : llvm::enumerate(yield.getValues())) {
    if (bias && v == bias.getResult()) {
      reduced = "out" + std::to_string(i);
      if (!ordered)
        kernel.zeroedOutputs.push_back(int(i));
      continue;
    }
    stored.push_back({unsigned(i), operandName(v)});
  }
  if (bias) {
    channels = cast<ShapedType>(bias.getResult().getType()).getNumElements();
    summed = operandName(bias.getDy());
  }
  // A vector of elements per thread (float4) where every access is
  // elementwise (arena buffers are 64-byte aligned).
  const int width = t.vectorWidth();
  const std::string w = std::to_string(width);
  bool vectorized = !gathers && !bias && width > 1 && n % width == 0 && !hasBufferViews(group);
  std::string loads, stores;
  for (unsigned a : loaded)
    loads += vectorized ? "      const " + T + " a" + std::to_string(a) + " = (&x" + std::to_string(a) + ".x)[c];\n"
                        : "    const " + T + " a" + std::to_string(a) + " = in" + std::to_string(a) + "[i];\n";
  for (auto [r, value] : stored)
    stores += vectorized ? "      (&y" + std::to_string(r) + ".x)[c] = " + value + ";\n"
                         : "    out" + std::to_string(r) + "[i] = " + value + ";\n";
  if (ordered)
    return emitOrderedBiasSums(group, kernel, channels, n, loads + computes + stores, summed, reduced,
                               functions, usesStep);
  bool sharedSums = channels <= kMaxSharedChannelSums;
  if (bias)
    stores += "    atomicAdd(&" + (sharedSums ? std::string("partial") : reduced) + "[i % " +
              std::to_string(channels) + "], " + summed + ");\n";

  kernel.takesStep = usesStep;
  kernel.sharedBytes = sharedSums ? channels * t.bytes() : 0;
  kernel.block = {kThreads, 1, 1};
  int64_t perThread = vectorized ? width : 1;
  kernel.grid = {std::max<int64_t>(1, std::min(kMaxBlocks, (n / perThread + kThreads - 1) / kThreads)), 1, 1};
  if (bias)
    kernel.globalAtomics = sharedSums ? kernel.grid[0] * channels : n;
  std::string source = header(group, kernel) + functions;
  source += "extern \"C\" __global__ void __launch_bounds__(" + std::to_string(kThreads) + ") " +
            kernel.name + "(" + parameterList(group, usesStep) + ") {\n";
  source += "  const long long n = " + std::to_string(n) + "ll;\n";
  if (bias && sharedSums) {
    // Shared per-block sums, then one global atomic per channel and block
    // (the runtime zeroes the bias gradient before the launch).
    std::string c = std::to_string(channels);
    source += "  __shared__ " + T + " partial[" + c + "];\n  for (int c = threadIdx.x; c < " + c +
              "; c += blockDim.x)\n    partial[c] = " + t.lit("0.0") + ";\n  __syncthreads();\n";
  }
  if (vectorized) {
    std::string in4, out4, declare4;
    const std::string V = t.vector();
    for (unsigned a : loaded)
      in4 += "    const " + V + " x" + std::to_string(a) + " = reinterpret_cast<const " + V + " *>(in" +
             std::to_string(a) + ")[q];\n";
    for (auto [r, value] : stored) {
      declare4 += "    " + V + " y" + std::to_string(r) + ";\n";
      out4 += "    reinterpret_cast<" + V + " *>(out" + std::to_string(r) + ")[q] = y" + std::to_string(r) + ";\n";
    }
    SmallVector<StringRef> lines;
    StringRef(computes).split(lines, '\n', -1, /*KeepEmpty=*/false);
    std::string indented;
    for (StringRef line : lines)
      indented += "  " + line.str() + "\n";
    source += "  for (long long q = blockIdx.x * (long long)blockDim.x + threadIdx.x; q < n / " + w + ";\n"
              "       q += (long long)gridDim.x * blockDim.x) {\n" + in4 + declare4 +
              "#pragma unroll\n    for (int c = 0; c < " + w + "; ++c) {\n      const long long i = q * " + w +
              " + c;\n"
              "      (void)i;\n" + loads + indented + stores + "    }\n" + out4 + "  }\n";
  } else {
    source += "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;\n"
              "       i += (long long)gridDim.x * blockDim.x) {\n";
    source += loads + computes + stores + "  }\n";
  }
  if (bias && sharedSums)
    source += "  __syncthreads();\n  for (int c = threadIdx.x; c < " + std::to_string(channels) +
              "; c += blockDim.x)\n    atomicAdd(&" + reduced + "[c], partial[c]);\n";
  source += "}\n";
  kernel.source = std::move(source);
  return success();
}

} // namespace dlc::cuda
