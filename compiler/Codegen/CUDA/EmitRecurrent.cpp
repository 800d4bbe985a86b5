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
int64_t forwardShared(const Lstm &l, int64_t rows) {
  return rows * (l.features + 2 * l.units + l.gates) * 4;
}
/// Shared bytes of the gradient kernel (one row per block).
int64_t gradShared(const Lstm &l) { return (2 * l.gates + 2 * l.units + l.features) * 4; }
/// Scratch floats of one row of the gradient kernel: its recomputed states
/// (h and c before each step and after the last), which for a long sequence
/// do not fit shared memory (200 steps of 128 units need 206 KB).
int64_t gradStateFloats(const Lstm &l) { return 2 * (l.steps + 1) * l.units; }

/// Declares a block's working arrays (name, floats): in shared memory when
/// |shared|, else one after another from |base| (the block's scratch).
std::string workingArrays(const std::vector<std::pair<std::string, int64_t>> &arrays, bool shared,
                          const std::string &base) {
  std::string s;
  int64_t offset = 0;
  for (const auto &[name, floats] : arrays) {
    s += shared ? "  __shared__ float " + name + "[" + str(floats) + "];\n"
                : "  float *const " + name + " = " + base + " + " + ll(offset) + ";\n";
    offset += floats;
  }
  return s;
}

/// The gate pre-activations of row r at one step, into z[r][g] (activated):
/// bias + x_t · kernel + h · recurrent for every gate column of the thread.
std::string gateLoop(const Lstm &l, const std::string &rows, const std::string &xs,
                     const std::string &hs, const std::string &z, const std::string &kernel,
                     const std::string &recurrent, const std::string &bias) {
  std::string G = ll(l.gates), U = ll(l.units), F = ll(l.features);
  return "    for (long long g = threadIdx.x; g < " + G + "; g += " + str(kThreads) + ") {\n"
         "      float acc[" + rows + "];\n"
         "      for (int r = 0; r < " + rows + "; ++r)\n        acc[r] = " +
         (l.bias ? bias + "[g]" : std::string("0.0f")) + ";\n"
         "      for (long long i = 0; i < " + F + "; ++i) {\n        const float w = " + kernel +
         "[i * " + G + " + g];\n        for (int r = 0; r < " + rows + "; ++r)\n          acc[r] += " +
         xs + "[r * " + F + " + i] * w;\n      }\n"
         "      for (long long u = 0; u < " + U + "; ++u) {\n        const float w = " + recurrent +
         "[u * " + G + " + g];\n        for (int r = 0; r < " + rows + "; ++r)\n          acc[r] += " +
         hs + "[r * " + U + " + u] * w;\n      }\n"
         "      const bool candidate = g >= " + ll(2 * l.units) + " && g < " + ll(3 * l.units) + ";\n"
         "      for (int r = 0; r < " + rows + "; ++r)\n        " + z + "[r * " + G +
         " + g] = candidate ? " + tanhOf("acc[r]") + " : " + sigmoidOf("acc[r]") + ";\n    }\n";
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
  std::string T = ll(l.steps), F = ll(l.features), U = ll(l.units), G = ll(l.gates);
  kernel.block = {kThreads, 1, 1};
  std::string s;

  if (auto forward = dyn_cast<dl::LSTMOp>(op)) {
    bool shared = forwardShared(l, 1) <= kSharedLimit;
    int64_t rows = 1;
    while (shared && rows < kMaxRowsPerBlock && rows < l.n &&
           forwardShared(l, rows * 2) <= kSharedLimit)
      rows *= 2;
    kernel.grid = {(l.n + rows - 1) / rows, 1, 1};
    int64_t blockFloats = forwardShared(l, rows) / 4;
    kernel.sharedBytes = shared ? blockFloats * 4 : 0;
    kernel.scratchBytes = shared ? 0 : kernel.grid[0] * blockFloats * 4;
    std::string y = outOf(forward.getResult()), R = str(rows);
    s = header(group, kernel);
    s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
         parameterList(group, false) + (shared ? "" : ", float *__restrict__ scratch") + ") {\n";
    s += workingArrays({{"xs", rows * l.features}, {"hs", rows * l.units}, {"cs", rows * l.units},
                        {"z", rows * l.gates}},
                       shared, "scratch + (long long)blockIdx.x * " + ll(blockFloats));
    s += "  const long long row0 = (long long)blockIdx.x * " + R + ";\n";
    s += "  for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256)\n"
         "    hs[e] = cs[e] = 0.0f;\n";
    s += "  for (long long t = 0; t < " + T + "; ++t) {\n";
    s += "    for (long long e = threadIdx.x; e < " + ll(rows * l.features) + "; e += 256) {\n"
         "      const long long r = e / " + F + ", b = row0 + r;\n"
         "      xs[e] = b < " + ll(l.n) + " ? " + x + "[(b * " + T + " + t) * " + F + " + e % " + F +
         "] : 0.0f;\n    }\n    __syncthreads();\n";
    s += gateLoop(l, R, "xs", "hs", "z", k, rk, bias) + "    __syncthreads();\n";
    s += "    for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256) {\n"
         "      const long long r = e / " + U + ", u = e % " + U + ";\n"
         "      const float *a = z + r * " + G + ";\n"
         "      const float c = a[" + U + " + u] * cs[e] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
         "      cs[e] = c;\n      hs[e] = a[" + ll(3 * l.units) + " + u] * " + tanhOf("c") + ";\n";
    if (l.sequences)
      s += "      if (row0 + r < " + ll(l.n) + ")\n        " + y + "[((row0 + r) * " + T + " + t) * " + U +
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
  // The weight gradients accumulate with atomics.
  for (Value v : {grad.getDkernel(), grad.getDrecurrentKernel(), grad.getDbias()})
    if (int i = resultIndex(group, v); i >= 0)
      kernel.zeroedOutputs.push_back(i);
  bool shared = gradShared(l) <= kSharedLimit;
  int64_t rowFloats = gradStateFloats(l) + (shared ? 0 : gradShared(l) / 4);
  kernel.grid = {l.n, 1, 1};
  kernel.sharedBytes = shared ? gradShared(l) : 0;
  kernel.scratchBytes = l.n * rowFloats * 4;
  s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false) + ", float *__restrict__ scratch) {\n";
  // H[t], C[t]: the state before step t (t = 0 is zero), this row's part of
  // the scratch; a: one step's gates.
  s += "  const long long b = blockIdx.x;\n";
  s += "  float *const H = scratch + b * " + ll(rowFloats) + ", *const C = H + " +
       ll((l.steps + 1) * l.units) + ";\n";
  s += workingArrays({{"a", l.gates}, {"dz", l.gates}, {"dh", l.units}, {"dc", l.units},
                      {"xs", l.features}},
                     shared, "H + " + ll(gradStateFloats(l)));
  s += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    H[u] = C[u] = 0.0f;\n";
  std::string loadX = "    for (long long i = threadIdx.x; i < " + F + "; i += 256)\n      xs[i] = " + x +
                      "[(b * " + T + " + t) * " + F + " + i];\n    __syncthreads();\n";
  std::string gates = gateLoop(l, "1", "xs", "(H + t * " + U + ")", "a", k, rk, bias) +
                      "    __syncthreads();\n";
  s += "  for (long long t = 0; t < " + T + "; ++t) {\n" + loadX + gates +
       "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
       "      const float c = a[" + U + " + u] * C[t * " + U + " + u] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
       "      C[(t + 1) * " + U + " + u] = c;\n"
       "      H[(t + 1) * " + U + " + u] = a[" + ll(3 * l.units) + " + u] * " + tanhOf("c") + ";\n"
       "    }\n    __syncthreads();\n  }\n";
  s += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    dh[u] = dc[u] = 0.0f;\n";
  s += "  for (long long t = " + ll(l.steps - 1) + "; t >= 0; --t) {\n" + loadX + gates;
  std::string dyAt = l.sequences ? dy + "[(b * " + T + " + t) * " + U + " + u]"
                                 : "(t == " + ll(l.steps - 1) + " ? " + dy + "[b * " + U + " + u] : 0.0f)";
  s += "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
       "      const float in = a[u], forget = a[" + U + " + u], cand = a[" + ll(2 * l.units) +
       " + u], out = a[" + ll(3 * l.units) + " + u];\n"
       "      const float h = dh[u] + " + dyAt + ";\n"
       "      const float tc = " + tanhOf("C[(t + 1) * " + U + " + u]") + ";\n"
       "      const float dcell = dc[u] + h * out * (1.0f - tc * tc);\n"
       "      dz[u] = dcell * cand * in * (1.0f - in);\n"
       "      dz[" + U + " + u] = dcell * C[t * " + U + " + u] * forget * (1.0f - forget);\n"
       "      dz[" + ll(2 * l.units) + " + u] = dcell * in * (1.0f - cand * cand);\n"
       "      dz[" + ll(3 * l.units) + " + u] = h * tc * out * (1.0f - out);\n"
       "      dc[u] = dcell * forget;\n    }\n    __syncthreads();\n";
  // Weight gradients: this row's and step's outer products, summed with
  // atomics (the results are zeroed before the launch).
  s += "    for (long long g = threadIdx.x; g < " + G + "; g += 256) {\n      const float d = dz[g];\n";
  if (!db.empty())
    s += "      atomicAdd(&" + db + "[g], d);\n";
  if (!dk.empty())
    s += "      for (long long i = 0; i < " + F + "; ++i)\n        atomicAdd(&" + dk + "[i * " + G +
         " + g], xs[i] * d);\n";
  if (!drk.empty())
    s += "      for (long long u = 0; u < " + U + "; ++u)\n        atomicAdd(&" + drk + "[u * " + G +
         " + g], H[t * " + U + " + u] * d);\n";
  s += "    }\n";
  if (!dx.empty())
    s += "    for (long long i = threadIdx.x; i < " + F + "; i += 256) {\n      float sum = 0.0f;\n"
         "      for (long long g = 0; g < " + G + "; ++g)\n        sum += " + k + "[i * " + G +
         " + g] * dz[g];\n      " + dx + "[(b * " + T + " + t) * " + F + " + i] = sum;\n    }\n";
  s += "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n      float sum = 0.0f;\n"
       "      for (long long g = 0; g < " + G + "; ++g)\n        sum += " + rk + "[u * " + G +
       " + g] * dz[g];\n      dh[u] = sum;\n    }\n    __syncthreads();\n  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
