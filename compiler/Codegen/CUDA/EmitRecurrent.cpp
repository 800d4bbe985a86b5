//===- EmitRecurrent.cpp - The LSTM over time and its gradient ------------===//
//
// The whole recurrence is one launch: a block owns a few batch rows and
// walks the time steps itself, with the state (h, c) and the step's gates in
// shared memory, so no step needs the host or another launch. Gate columns
// are spread over the threads (each reads a kernel column coalesced and
// reuses it for every row of the block).
//
// The gradient recomputes the forward states of its row into its scratch
// (h and c of every step, global memory), then runs backpropagation through
// time; weight gradients are summed over rows and steps with atomics into
// zeroed results. A layer too wide for shared memory (about 1,170 units for
// the gradient, 1,960 for the forward pass) keeps those arrays in its
// block's part of the scratch instead: slower, but every width runs.
// Gates are Keras' [i | f | c | o] with sigmoid and tanh, as the reference.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

using namespace mlir;

namespace dlc::cuda {
namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kSharedLimit = 46 * 1024;
constexpr int64_t kMaxRowsPerBlock = 8;
// Rows share a block (and its loads of the weights) only while the blocks
// still cover the SMs of the largest GPUs dlc targets (H100/H200: 132): the
// time loop is serial, so an idle SM is lost for the whole sequence.
constexpr int64_t kSpreadBlocks = 132;

std::string str(int64_t v) { return std::to_string(v); }

struct Lstm {
  int64_t n, steps, features, units, gates;
  bool bias, sequences;
};

Lstm lstmOf(Operation *op) {
  auto x = cast<ShapedType>(op->getOperand(0).getType()).getShape();
  auto r = cast<ShapedType>(op->getOperand(2).getType()).getShape();
  bool bias = isa<dl::LSTMOp>(op) ? cast<dl::LSTMOp>(op).getBias() != nullptr
                                  : cast<dl::LSTMGradOp>(op).getBias() != nullptr;
  return {x[0], x[1], x[2], r[0], 4 * r[0], bias, op->hasAttr("return_sequences")};
}

/// Shared bytes of the forward kernel for |rows| batch rows per block.
int64_t forwardShared(const ComputeType &t, const Lstm &l, int64_t rows) {
  return rows * (l.features + 2 * l.units + l.gates) * t.bytes();
}
/// Shared bytes of the gradient kernel (one row per block).
int64_t gradShared(const ComputeType &t, const Lstm &l) {
  return (2 * l.gates + 2 * l.units + l.features) * t.bytes();
}
/// Scratch elements of one row of the gradient kernel: its recomputed states
/// (h and c before each step and after the last), which for a long sequence
/// do not fit shared memory (200 steps of 128 units need 206 KB), then the
/// gates' gradients of every step.
int64_t gradStateElements(const Lstm &l) { return 2 * (l.steps + 1) * l.units + l.steps * l.gates; }

/// Declares a block's working arrays (name, elements): in shared memory when
/// |shared|, else one after another from |base| (the block's scratch).
std::string workingArrays(const ComputeType &t, const std::vector<std::pair<std::string, int64_t>> &arrays,
                          bool shared, const std::string &base) {
  const std::string T = t.name();
  std::string s;
  int64_t offset = 0;
  for (const auto &[name, elements] : arrays) {
    s += shared ? "  __shared__ " + T + " " + name + "[" + str(elements) + "];\n"
                : "  " + T + " *const " + name + " = " + base + " + " + ll(offset) + ";\n";
    offset += elements;
  }
  return s;
}

/// The gate pre-activations of row r at one step, into z[r][g] (activated):
/// bias + x_t · kernel + h · recurrent for every gate column of the thread.
std::string gateLoop(const ComputeType &t, const Lstm &l, const std::string &rows, const std::string &xs,
                     const std::string &hs, const std::string &z, const std::string &kernel,
                     const std::string &recurrent, const std::string &bias) {
  std::string G = ll(l.gates), U = ll(l.units), F = ll(l.features);
  const std::string T = t.name();
  return "    for (long long g = threadIdx.x; g < " + G + "; g += " + str(kThreads) + ") {\n"
         "      " + T + " acc[" + rows + "];\n"
         "      for (int r = 0; r < " + rows + "; ++r)\n        acc[r] = " +
         (l.bias ? bias + "[g]" : std::string(t.lit("0.0"))) + ";\n"
         "      for (long long i = 0; i < " + F + "; ++i) {\n        const " + T + " w = " + kernel +
         "[i * " + G + " + g];\n        for (int r = 0; r < " + rows + "; ++r)\n          acc[r] += " +
         xs + "[r * " + F + " + i] * w;\n      }\n"
         "      for (long long u = 0; u < " + U + "; ++u) {\n        const " + T + " w = " + recurrent +
         "[u * " + G + " + g];\n        for (int r = 0; r < " + rows + "; ++r)\n          acc[r] += " +
         hs + "[r * " + U + " + u] * w;\n      }\n"
         "      const bool candidate = g >= " + ll(2 * l.units) + " && g < " + ll(3 * l.units) + ";\n"
         "      for (int r = 0; r < " + rows + "; ++r)\n        " + z + "[r * " + G +
         " + g] = candidate ? " + tanhOf(t, "acc[r]") + " : " + sigmoidOf(t, "acc[r]") + ";\n    }\n";
}

} // namespace

bool isRecurrentGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  if (!llvm::hasSingleElement(body.without_terminator()))
    return false;
  Operation &op = body.front();
  if (!isa<dl::LSTMOp, dl::LSTMGradOp>(op))
    return false;
  for (Value v : op.getOperands())
    if (!isa<BlockArgument>(v))
      return false;
  // The parameter gradients are summed with float atomics.
  if (auto grad = dyn_cast<dl::LSTMGradOp>(op))
    for (Value v : {grad.getDkernel(), grad.getDrecurrentKernel(), grad.getDbias()})
      if (!isPlainF32(group, v))
        return false;
  return true;
}

LogicalResult emitRecurrent(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  Operation *op = &body.front();
  Lstm l = lstmOf(op);
  auto argName = [](Value v) { return inputName(v); };
  auto outOf = [&](Value v) { return resultName(group, v); };
  std::string x = argName(op->getOperand(0)), k = argName(op->getOperand(1)),
              rk = argName(op->getOperand(2)), bias = l.bias ? argName(op->getOperand(3)) : "";
  std::string S = ll(l.steps), F = ll(l.features), U = ll(l.units), G = ll(l.gates);
  const ComputeType t = computeType(group);
  const std::string T = t.name();
  kernel.block = {kThreads, 1, 1};
  std::string s;

  if (auto forward = dyn_cast<dl::LSTMOp>(op)) {
    bool shared = forwardShared(t, l, 1) <= kSharedLimit;
    int64_t rows = 1;
    while (shared && rows < kMaxRowsPerBlock && rows < l.n &&
           (l.n + 2 * rows - 1) / (2 * rows) >= kSpreadBlocks &&
           forwardShared(t, l, rows * 2) <= kSharedLimit)
      rows *= 2;
    kernel.grid = {(l.n + rows - 1) / rows, 1, 1};
    int64_t blockElements = forwardShared(t, l, rows) / t.bytes();
    kernel.sharedBytes = shared ? blockElements * t.bytes() : 0;
    kernel.scratchBytes = shared ? 0 : kernel.grid[0] * blockElements * t.bytes();
    std::string y = outOf(forward.getResult()), R = str(rows);
    s = header(group, kernel);
    s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
         parameterList(group, false) + (shared ? "" : ", " + T + " *__restrict__ scratch") + ") {\n";
    s += workingArrays(t, {{"xs", rows * l.features}, {"hs", rows * l.units}, {"cs", rows * l.units},
                        {"z", rows * l.gates}},
                       shared, "scratch + (long long)blockIdx.x * " + ll(blockElements));
    s += "  const long long row0 = (long long)blockIdx.x * " + R + ";\n";
    s += "  for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256)\n"
         "    hs[e] = cs[e] = " + t.lit("0.0") + ";\n";
    s += "  for (long long t = 0; t < " + S + "; ++t) {\n";
    s += "    for (long long e = threadIdx.x; e < " + ll(rows * l.features) + "; e += 256) {\n"
         "      const long long r = e / " + F + ", b = row0 + r;\n"
         "      xs[e] = b < " + ll(l.n) + " ? " + x + "[(b * " + S + " + t) * " + F + " + e % " + F +
         "] : " + t.lit("0.0") + ";\n    }\n    __syncthreads();\n";
    s += gateLoop(t, l, R, "xs", "hs", "z", k, rk, bias) + "    __syncthreads();\n";
    s += "    for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256) {\n"
         "      const long long r = e / " + U + ", u = e % " + U + ";\n"
         "      const " + T + " *a = z + r * " + G + ";\n"
         "      const " + T + " c = a[" + U + " + u] * cs[e] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
         "      cs[e] = c;\n      hs[e] = a[" + ll(3 * l.units) + " + u] * " + tanhOf(t, "c") + ";\n";
    if (l.sequences)
      s += "      if (row0 + r < " + ll(l.n) + ")\n        " + y + "[((row0 + r) * " + S + " + t) * " + U +
           " + u] = hs[e];\n";
    s += "    }\n    __syncthreads();\n  }\n";
    if (!l.sequences)
      s += "  for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256)\n"
           "    if (row0 + e / " + U + " < " + ll(l.n) + ")\n      " + y + "[row0 * " + U +
           " + e] = hs[e];\n";
    s += "}\n";
    kernel.source = std::move(s);
    return success();
  }

  auto grad = cast<dl::LSTMGradOp>(op);
  std::string dy = argName(grad.getDy());
  std::string dx = outOf(grad.getDx()), dk = outOf(grad.getDkernel()),
              drk = outOf(grad.getDrecurrentKernel()), db = outOf(grad.getDbias());
  // The weight gradients accumulate with atomics; under --deterministic
  // each row's sums are a row of an OrderedSumTable after the rows' state.
  const bool ordered = orderedSums(group);
  if (!ordered)
    for (Value v : {grad.getDkernel(), grad.getDrecurrentKernel(), grad.getDbias()})
      if (int i = resultIndex(group, v); i >= 0)
        kernel.zeroedOutputs.push_back(i);
  bool shared = gradShared(t, l) <= kSharedLimit;
  int64_t rowElements = gradStateElements(l) + (shared ? 0 : gradShared(t, l) / t.bytes());
  kernel.grid = {l.n, 1, 1};
  kernel.sharedBytes = shared ? gradShared(t, l) : 0;
  kernel.scratchBytes = l.n * rowElements * t.bytes();
  OrderedSumTable table{l.n * rowElements, l.n, {}};
  if (!db.empty())
    table.outputs.push_back({db, l.gates});
  if (!dk.empty())
    table.outputs.push_back({dk, l.features * l.gates});
  if (!drk.empty())
    table.outputs.push_back({drk, l.units * l.gates});
  if (ordered && !table.outputs.empty()) {
    kernel.scratchBytes = table.scratchElements() * t.bytes();
    kernel.zeroedScratch = true;
    kernel.sharedBytes += 4;
  } else if (!ordered) {
    kernel.globalAtomics = l.n * table.columns();
  }
  s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false) + ", " + T + " *__restrict__ scratch) {\n";
  // H[t], C[t]: the state before step t (t = 0 is zero), DZ[t]: the gates'
  // gradients at step t, this row's part of the scratch; a: one step's gates.
  s += "  const long long b = blockIdx.x;\n";
  s += "  " + T + " *const H = scratch + b * " + ll(rowElements) + ", *const C = H + " +
       ll((l.steps + 1) * l.units) + ", *const DZ = C + " + ll((l.steps + 1) * l.units) + ";\n";
  s += workingArrays(t, {{"a", l.gates}, {"dz", l.gates}, {"dh", l.units}, {"dc", l.units},
                      {"xs", l.features}},
                     shared, "H + " + ll(gradStateElements(l)));
  s += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    H[u] = C[u] = " + t.lit("0.0") + ";\n";
  std::string loadX = "    for (long long i = threadIdx.x; i < " + F + "; i += 256)\n      xs[i] = " + x +
                      "[(b * " + S + " + t) * " + F + " + i];\n    __syncthreads();\n";
  std::string gates = gateLoop(t, l, "1", "xs", "(H + t * " + U + ")", "a", k, rk, bias) +
                      "    __syncthreads();\n";
  s += "  for (long long t = 0; t < " + S + "; ++t) {\n" + loadX + gates +
       "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
       "      const " + T + " c = a[" + U + " + u] * C[t * " + U + " + u] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
       "      C[(t + 1) * " + U + " + u] = c;\n"
       "      H[(t + 1) * " + U + " + u] = a[" + ll(3 * l.units) + " + u] * " + tanhOf(t, "c") + ";\n"
       "    }\n    __syncthreads();\n  }\n";
  s += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    dh[u] = dc[u] = " + t.lit("0.0") + ";\n";
  s += "  for (long long t = " + ll(l.steps - 1) + "; t >= 0; --t) {\n" + loadX + gates;
  std::string dyAt = l.sequences ? dy + "[(b * " + S + " + t) * " + U + " + u]"
                                 : "(t == " + ll(l.steps - 1) + " ? " + dy + "[b * " + U + " + u] : " + t.lit("0.0") + ")";
  s += "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
       "      const " + T + " in = a[u], forget = a[" + U + " + u], cand = a[" + ll(2 * l.units) +
       " + u], out = a[" + ll(3 * l.units) + " + u];\n"
       "      const " + T + " h = dh[u] + " + dyAt + ";\n"
       "      const " + T + " tc = " + tanhOf(t, "C[(t + 1) * " + U + " + u]") + ";\n"
       "      const " + T + " dcell = dc[u] + h * out * (" + t.lit("1.0") + " - tc * tc);\n"
       "      dz[u] = dcell * cand * in * (" + t.lit("1.0") + " - in);\n"
       "      dz[" + U + " + u] = dcell * C[t * " + U + " + u] * forget * (" + t.lit("1.0") + " - forget);\n"
       "      dz[" + ll(2 * l.units) + " + u] = dcell * in * (" + t.lit("1.0") + " - cand * cand);\n"
       "      dz[" + ll(3 * l.units) + " + u] = h * tc * out * (" + t.lit("1.0") + " - out);\n"
       "      dc[u] = dcell * forget;\n    }\n    __syncthreads();\n";
  // The step's gate gradients, kept for the weight gradients below.
  const bool weights = !db.empty() || !dk.empty() || !drk.empty();
  if (weights)
    s += "    for (long long g = threadIdx.x; g < " + G + "; g += 256)\n      DZ[t * " + G + " + g] = dz[g];\n";
  if (!dx.empty())
    s += "    for (long long i = threadIdx.x; i < " + F + "; i += 256) {\n      " + T + " sum = " + t.lit("0.0") + ";\n"
         "      for (long long g = 0; g < " + G + "; ++g)\n        sum += " + k + "[i * " + G +
         " + g] * dz[g];\n      " + dx + "[(b * " + S + " + t) * " + F + " + i] = sum;\n    }\n";
  s += "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n      " + T + " sum = " + t.lit("0.0") + ";\n"
       "      for (long long g = 0; g < " + G + "; ++g)\n        sum += " + rk + "[u * " + G +
       " + g] * dz[g];\n      dh[u] = sum;\n    }\n    __syncthreads();\n  }\n";
  // Weight gradients: this row's outer products summed over its steps, then
  // one atomic add per weight and row (the results are zeroed before the
  // launch), not one per step; under --deterministic, stored as this row's
  // row of the table.
  int64_t tableOffset = 0;
  auto overSteps = [&](const std::string &out, const std::string &count, const std::string &factor) {
    std::string add = ordered ? "scratch[" + ll(table.base) + " + b * " + ll(table.columns()) + " + " +
                                    ll(tableOffset) + " + i * " + G + " + g] = sum;\n"
                              : "atomicAdd(&" + out + "[i * " + G + " + g], sum);\n";
    for (const auto &[name, values] : table.outputs)
      if (name == out)
        tableOffset += values;
    return "    for (long long i = 0; i < " + count + "; ++i) {\n      " + T + " sum = " + t.lit("0.0") +
           ";\n      for (long long t = 0; t < " + S + "; ++t)\n        sum += " + factor + " * DZ[t * " +
           G + " + g];\n      " + add + "    }\n";
  };
  if (weights)
    s += "  for (long long g = threadIdx.x; g < " + G + "; g += 256) {\n";
  if (!db.empty())
    s += overSteps(db, "1", t.lit("1.0"));
  if (!dk.empty())
    s += overSteps(dk, F, x + "[(b * " + S + " + t) * " + F + " + i]");
  if (!drk.empty())
    s += overSteps(drk, U, "H[t * " + U + " + i]");
  if (weights)
    s += "  }\n";
  if (ordered && weights)
    s += table.finish(t, l.n);
  s += "}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
