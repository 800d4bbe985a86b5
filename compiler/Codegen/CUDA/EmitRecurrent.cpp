//===- EmitRecurrent.cpp - The LSTM over time and its gradient ------------===//
//
// The whole recurrence is one launch: a block owns a few batch rows and
// walks the time steps itself, with the state (h, c) and the step's gates in
// shared memory, so no step needs the host or another launch. Gate columns
// are spread over the threads (each reads a kernel column coalesced and
// reuses it for every row of the block).
//
// The gradient is three launches of one source. First a block per batch
// row recomputes the row's forward pass once, keeping every step's states
// (h, c) and activated gates in its part of the scratch (global memory),
// then runs backpropagation through time, turning each step's gates into
// their gradients in place; only dh's product with the recurrent kernel
// stays inside the time loop. Then, with every row done, two products over
// all rows and steps: the weight gradients (the kept inputs, states and
// ones against the gate gradients) and dx (the gate gradients against the
// kernel). Each output is one thread's sum in a fixed order: no atomics, so
// runs are bit-exact with or without --deterministic. A layer too wide for
// shared memory (about 1,900 units for the gradient, 1,960 for the forward
// pass) keeps one step's arrays in its block's part of the scratch
// instead: slower, but every width runs.
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
/// Shared bytes of the gradient's recurrence (one row per block): one step's
/// gate gradients, dh, dc and input.
int64_t gradShared(const ComputeType &t, const Lstm &l) {
  return (l.gates + 2 * l.units + l.features) * t.bytes();
}
/// Scratch elements of one row of the gradient: its recomputed states (h
/// and c before each step and after the last), which for a long sequence do
/// not fit shared memory (200 steps of 128 units need 206 KB), then every
/// step's gates (their gradients once the step is gone back through).
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

/// A product C[m][c] = sum over k of A(m, k) B(k, c), as a later stage of
/// the gradient: expressions of long long m, k and c (a and b, read only
/// where in bounds) and a statement storing float v at (m, c).
struct TileProduct {
  int64_t m, n, k;
  bool aAlongK, bAlongK; // whether consecutive k (else m, c) are adjacent in memory
  std::string a, b, store;
};

/// Appends |p|'s kernel, called |entry|, to |source|: output tiles of 64x64
/// (32x32 when those would leave SMs idle), 4x4 adjacent outputs a thread,
/// k in steps of 16 through shared memory, each loaded along its adjacent
/// index. One thread sums each output in k order: no atomics.
CudaStage tileProductStage(const ComputeType &t, const TileProduct &p, const std::string &entry,
                           const std::string &params, std::string *source) {
  auto tiles = [&](int64_t tile) { return ((p.m + tile - 1) / tile) * ((p.n + tile - 1) / tile); };
  const int64_t tile = tiles(64) >= kSpreadBlocks ? 64 : 32, side = tile / 4, threads = side * side;
  CudaStage stage;
  stage.entry = entry;
  stage.grid = {(p.n + tile - 1) / tile, (p.m + tile - 1) / tile, 1};
  stage.block = {threads, 1, 1};
  stage.sharedBytes = 2 * 16 * (tile + 1) * t.bytes();
  stage.flops = 2 * p.m * p.n * p.k;
  stage.bytes = (p.m * p.k + p.k * p.n + p.m * p.n) * t.bytes();
  // Scalar shared loads (8 for 16 FMAs a k), no double buffering: below
  // the gemm family's estimate.
  stage.efficiency = 0.2;
  const std::string T = t.name(), TL = str(tile), TH = str(threads), zero = t.lit("0.0");
  auto index = [&](bool alongK, const std::string &k, const std::string &other) {
    return alongK ? "const int " + k + " = e % 16, " + other + " = e / 16;"
                  : "const int " + k + " = e / " + TL + ", " + other + " = e % " + TL + ";";
  };
  std::string &s = *source;
  s += "\n// then: grid (" + str(stage.grid[0]) + ", " + str(stage.grid[1]) + ", 1), block (" + TH +
       ", 1, 1): " + str(p.m) + "x" + str(p.n) + " outputs, sums over " + str(p.k) + "\n";
  s += "extern \"C\" __global__ void __launch_bounds__(" + TH + ") " + entry + "(" + params + ") {\n"
       "  __shared__ " + T + " As[16][" + str(tile + 1) + "], Bs[16][" + str(tile + 1) + "];\n"
       "  const int tx = threadIdx.x % " + str(side) + ", ty = threadIdx.x / " + str(side) + ";\n"
       "  const long long m0 = (long long)blockIdx.y * " + TL + ", c0 = (long long)blockIdx.x * " + TL + ";\n"
       "  " + T + " acc[4][4];\n"
       "  for (int i = 0; i < 4; ++i)\n    for (int j = 0; j < 4; ++j)\n      acc[i][j] = " + zero + ";\n"
       "  for (long long k0 = 0; k0 < " + ll(p.k) + "; k0 += 16) {\n"
       "    for (int e = threadIdx.x; e < " + str(16 * tile) + "; e += " + TH + ") {\n"
       "      {\n        " + index(p.aAlongK, "kk", "mm") + "\n"
       "        const long long m = m0 + mm, k = k0 + kk;\n"
       "        As[kk][mm] = m < " + ll(p.m) + " && k < " + ll(p.k) + " ? (" + T + ")(" + p.a + ") : " + zero + ";\n"
       "      }\n      {\n        " + index(p.bAlongK, "kk", "cc") + "\n"
       "        const long long c = c0 + cc, k = k0 + kk;\n"
       "        Bs[kk][cc] = c < " + ll(p.n) + " && k < " + ll(p.k) + " ? (" + T + ")(" + p.b + ") : " + zero + ";\n"
       "      }\n    }\n    __syncthreads();\n"
       "    for (int kk = 0; kk < 16; ++kk) {\n"
       "      " + T + " a[4], bv[4];\n"
       "      for (int i = 0; i < 4; ++i) {\n        a[i] = As[kk][ty * 4 + i];\n        bv[i] = Bs[kk][tx * 4 + i];\n      }\n"
       "      for (int i = 0; i < 4; ++i)\n        for (int j = 0; j < 4; ++j)\n          acc[i][j] += a[i] * bv[j];\n"
       "    }\n    __syncthreads();\n  }\n"
       "  for (int i = 0; i < 4; ++i)\n    for (int j = 0; j < 4; ++j) {\n"
       "      const long long m = m0 + ty * 4 + i, c = c0 + tx * 4 + j;\n"
       "      if (m < " + ll(p.m) + " && c < " + ll(p.n) + ") {\n        const " + T + " v = acc[i][j];\n"
       "        " + p.store + "\n      }\n    }\n}\n";
  return stage;
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
  // Every sum is in an order fixed here (no atomics), so --deterministic
  // changes nothing.
  bool shared = gradShared(t, l) <= kSharedLimit;
  const int64_t rowElements = gradStateElements(l) + (shared ? 0 : gradShared(t, l) / t.bytes());
  const std::string RE = ll(rowElements), ZOFF = ll(2 * (l.steps + 1) * l.units);
  kernel.grid = {l.n, 1, 1};
  kernel.sharedBytes = shared ? gradShared(t, l) : 0;
  kernel.scratchBytes = l.n * rowElements * t.bytes();
  kernel.globalAtomics = 0;
  const std::string params = parameterList(group, false) + ", " + T + " *__restrict__ scratch";
  s = header(group, kernel);
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" + params + ") {\n";
  // H[t], C[t]: the state before step t (t = 0 is zero); Z[t]: step t's
  // activated gates, then (going back) their gradients; this row's part of
  // the scratch, which the later stages read.
  s += "  const long long b = blockIdx.x;\n";
  s += "  " + T + " *const H = scratch + b * " + RE + ", *const C = H + " + ll((l.steps + 1) * l.units) +
       ", *const Z = H + " + ZOFF + ";\n";
  s += workingArrays(t, {{"dz", l.gates}, {"dh", l.units}, {"dc", l.units}, {"xs", l.features}}, shared,
                     "H + " + ll(gradStateElements(l)));
  s += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    H[u] = C[u] = " + t.lit("0.0") + ";\n";
  // The forward pass once, keeping every step's gates.
  s += "  for (long long t = 0; t < " + S + "; ++t) {\n"
       "    for (long long i = threadIdx.x; i < " + F + "; i += 256)\n      xs[i] = " + x +
       "[(b * " + S + " + t) * " + F + " + i];\n    __syncthreads();\n" +
       gateLoop(t, l, "1", "xs", "(H + t * " + U + ")", "(Z + t * " + G + ")", k, rk, bias) +
       "    __syncthreads();\n"
       "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
       "      const " + T + " *a = Z + t * " + G + ";\n"
       "      const " + T + " c = a[" + U + " + u] * C[t * " + U + " + u] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
       "      C[(t + 1) * " + U + " + u] = c;\n"
       "      H[(t + 1) * " + U + " + u] = a[" + ll(3 * l.units) + " + u] * " + tanhOf(t, "c") + ";\n"
       "    }\n    __syncthreads();\n  }\n";
  // Back through time: each thread turns its units' four gates into their
  // gradients in place (no other thread reads them), then dh for the step
  // before.
  s += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    dh[u] = dc[u] = " + t.lit("0.0") + ";\n";
  std::string dyAt = l.sequences ? dy + "[(b * " + S + " + t) * " + U + " + u]"
                                 : "(t == " + ll(l.steps - 1) + " ? " + dy + "[b * " + U + " + u] : " + t.lit("0.0") + ")";
  s += "  for (long long t = " + ll(l.steps - 1) + "; t >= 0; --t) {\n"
       "    " + T + " *const a = Z + t * " + G + ";\n"
       "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
       "      const " + T + " in = a[u], forget = a[" + U + " + u], cand = a[" + ll(2 * l.units) +
       " + u], out = a[" + ll(3 * l.units) + " + u];\n"
       "      const " + T + " h = dh[u] + " + dyAt + ";\n"
       "      const " + T + " tc = " + tanhOf(t, "C[(t + 1) * " + U + " + u]") + ";\n"
       "      const " + T + " dcell = dc[u] + h * out * (" + t.lit("1.0") + " - tc * tc);\n"
       "      dz[u] = a[u] = dcell * cand * in * (" + t.lit("1.0") + " - in);\n"
       "      dz[" + U + " + u] = a[" + U + " + u] = dcell * C[t * " + U + " + u] * forget * (" + t.lit("1.0") + " - forget);\n"
       "      dz[" + ll(2 * l.units) + " + u] = a[" + ll(2 * l.units) + " + u] = dcell * in * (" + t.lit("1.0") + " - cand * cand);\n"
       "      dz[" + ll(3 * l.units) + " + u] = a[" + ll(3 * l.units) + " + u] = h * tc * out * (" + t.lit("1.0") + " - out);\n"
       "      dc[u] = dcell * forget;\n    }\n    __syncthreads();\n"
       "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n      " + T + " sum = " + t.lit("0.0") + ";\n"
       "      for (long long g = 0; g < " + G + "; ++g)\n        sum += " + rk + "[u * " + G +
       " + g] * dz[g];\n      dh[u] = sum;\n    }\n    __syncthreads();\n  }\n}\n";
  // The products over every row and step, once all rows are done: the
  // weight gradients (the rows of the kernel, recurrent kernel and bias
  // gradients, each the kept inputs, states before each step or ones times
  // the gate gradients) and dx (the gate gradients times the kernel).
  const int64_t products = l.n * l.steps;
  const int64_t rowsK = dk.empty() ? 0 : l.features, rowsR = drk.empty() ? 0 : l.units,
                rowsB = db.empty() ? 0 : 1, weightRows = rowsK + rowsR + rowsB;
  const std::string stepRow = "(k / " + S + ") * " + RE, stepOf = "(k % " + S + ")";
  if (weightRows > 0) {
    TileProduct p{weightRows, l.gates, products, /*aAlongK=*/false, /*bAlongK=*/false, "", "", ""};
    p.a = "m < " + ll(rowsK) + " ? " + x + "[k * " + F + " + m] : m < " + ll(rowsK + rowsR) + " ? scratch[" +
          stepRow + " + " + stepOf + " * " + U + " + m - " + ll(rowsK) + "] : " + t.lit("1.0");
    p.b = "scratch[" + stepRow + " + " + ZOFF + " + " + stepOf + " * " + G + " + c]";
    std::string store;
    if (rowsK)
      store += "if (m < " + ll(rowsK) + ") " + dk + "[m * " + G + " + c] = v; else ";
    if (rowsR)
      store += "if (m < " + ll(rowsK + rowsR) + ") " + drk + "[(m - " + ll(rowsK) + ") * " + G + " + c] = v; else ";
    store += rowsB ? db + "[c] = v;" : ";";
    p.store = store;
    kernel.then.push_back(tileProductStage(t, p, kernel.name + "_weights", params, &s));
  }
  if (!dx.empty()) {
    TileProduct p{products, l.features, l.gates, /*aAlongK=*/true, /*bAlongK=*/true, "", "", ""};
    p.a = "scratch[(m / " + S + ") * " + RE + " + " + ZOFF + " + (m % " + S + ") * " + G + " + k]";
    p.b = k + "[c * " + G + " + k]";
    p.store = dx + "[m * " + F + " + c] = v;";
    kernel.then.push_back(tileProductStage(t, p, kernel.name + "_dx", params, &s));
  }
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
