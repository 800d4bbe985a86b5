//===- EmitRecurrent.cpp - The LSTM over time and its gradient ------------===//
//
// Both directions first compute every step's input product (x times the
// kernel, plus the bias) at once, as a tiled product over all rows and steps
// into the scratch: only the recurrent kernel's products are left to the
// time loop, which no launch can spread over more than the batch's rows.
//
// The forward recurrence is one launch: a block owns a few batch rows and
// walks the time steps itself, with the state (h, c) and the step's gates in
// shared memory, so no step needs the host or another launch. Gate columns
// are spread over the threads (each reads a recurrent-kernel column
// coalesced and reuses it for every row of the block).
//
// The gradient is four launches of one source: the input product; then a
// block per batch row runs the recurrence forward once, adding h times the
// recurrent kernel and keeping every step's states (h, c) and activated
// gates in its part of the scratch (global memory), and back through time,
// turning each step's gates into their gradients in place; then, with every
// row done, two more products over all rows and steps: the weight gradients
// (the kept inputs, states and ones against the gate gradients) and dx (the
// gate gradients against the kernel). Each output is one thread's sum in a
// fixed order: no atomics, so runs are bit-exact with or without
// --deterministic. Given the forward's states (dlc-keep-lstm-states), the
// first product adds each step's state before it times the recurrent kernel
// too, so the forward part of the recurrence only activates the gates and
// walks the cells through time (a thread per unit, no products).
//
// A layer too wide for shared memory (about 1,960 units) keeps one step's
// arrays in its block's part of the scratch instead: slower, but every
// width runs.
// Gates are Keras' [i | f | c | o] with sigmoid and tanh, as the reference.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <functional>

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
// Blocks of a thread-block cluster: the most every sm_90 GPU launches.
constexpr int64_t kClusterBlocks = 8;
// With its kernel slice in shared memory a cluster block's step reads
// shared memory only (two loads an FMA, h's a broadcast) where a block per
// row reads the whole recurrent kernel from L2 every step: the roofline's
// factor on the family's efficiency, an estimate until a GPU measures it.
constexpr double kSharedSliceGain = 1.5;
// Opens the cluster version of a recurrence; the emulation takes it unless
// DLC_SIM_ARCH says an older GPU.
constexpr const char *kIfClusters =
    "#if (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900) || (!defined(__CUDA_ARCH__) && DLC_SIM_ARCH >= 900)\n";

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

/// Shared bytes of the forward recurrence for |rows| batch rows per block:
/// their states and one step's gates.
int64_t forwardShared(const ComputeType &t, const Lstm &l, int64_t rows) {
  return rows * (2 * l.units + l.gates) * t.bytes();
}
/// Shared bytes of the gradient's recurrence (one row per block): one step's
/// gate gradients, dh and dc.
int64_t gradShared(const ComputeType &t, const Lstm &l) { return (l.gates + 2 * l.units) * t.bytes(); }
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

/// A product C[m][c] = sum over k of A(m, k) B(k, c), as a later stage of
/// the gradient: expressions of long long m, k and c (a and b, read only
/// where in bounds) and a statement storing float v at (m, c).
struct TileProduct {
  int64_t m, n, k;
  bool aAlongK, bAlongK; // whether consecutive k (else m, c) are adjacent in memory
  std::string a, b, store;
};

/// The side of |p|'s output tiles: 64, or 32 when 64 would leave SMs idle.
int64_t tileOf(const TileProduct &p) {
  auto tiles = [&](int64_t tile) { return ((p.m + tile - 1) / tile) * ((p.n + tile - 1) / tile); };
  return tiles(64) >= kSpreadBlocks ? 64 : 32;
}

/// The launch of |p| as a function called |entry|: a block per output tile
/// (tileOf), 4x4 adjacent outputs a thread.
CudaStage tileProductLaunch(const ComputeType &t, const TileProduct &p, const std::string &entry) {
  const int64_t tile = tileOf(p), side = tile / 4;
  CudaStage stage;
  stage.entry = entry;
  stage.grid = {(p.n + tile - 1) / tile, (p.m + tile - 1) / tile, 1};
  stage.block = {side * side, 1, 1};
  stage.sharedBytes = 2 * 16 * (tile + 1) * t.bytes();
  stage.flops = 2 * p.m * p.n * p.k;
  stage.bytes = (p.m * p.k + p.k * p.n + p.m * p.n) * t.bytes();
  // Scalar shared loads (8 for 16 FMAs a k), no double buffering: below
  // the gemm family's estimate.
  stage.efficiency = 0.2;
  return stage;
}

/// The function of |launch| (tileProductLaunch's): k in steps of 16
/// through shared memory, A and B each loaded along their adjacent index;
/// one thread sums each output in k order (no atomics).
std::string tileProductSource(const ComputeType &t, const TileProduct &p, const CudaStage &launch,
                              const std::string &params) {
  const int64_t threads = launch.block[0], tile = tileOf(p);
  const std::string T = t.name(), TL = str(tile), TH = str(threads), zero = t.lit("0.0");
  auto index = [&](bool alongK, const std::string &k, const std::string &other) {
    return alongK ? "const int " + k + " = e % 16, " + other + " = e / 16;"
                  : "const int " + k + " = e / " + TL + ", " + other + " = e % " + TL + ";";
  };
  return "extern \"C\" __global__ void __launch_bounds__(" + TH + ") " + launch.entry + "(" + params + ") {\n"
       "  __shared__ " + T + " As[16][" + str(tile + 1) + "], Bs[16][" + str(tile + 1) + "];\n"
       "  const int tx = threadIdx.x % " + str(tile / 4) + ", ty = threadIdx.x / " + str(tile / 4) + ";\n"
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
}

/// The comment opening a later launch's function.
std::string laterLaunchComment(const CudaStage &launch, const std::string &what) {
  return "\n// then: grid (" + str(launch.grid[0]) + ", " + str(launch.grid[1]) + ", " + str(launch.grid[2]) +
         "), block (" + str(launch.block[0]) + ", 1, 1): " + what + "\n";
}

/// One unit's walk through time given every step's gates whole (the
/// forward's states were kept): activates its four gates in place and
/// stores its cell and hidden state after each step, into Z, |cells| and H
/// at unit |unit|, indented by |indent|.
std::string cellWalk(const ComputeType &t, const Lstm &l, const std::string &unit, const std::string &cells,
                     const std::string &indent) {
  const std::string T = t.name(), U = ll(l.units), G = ll(l.gates), I = indent;
  auto gate = [&](int k) { return k == 0 ? "a[" + unit + "]" : "a[" + ll(k * l.units) + " + " + unit + "]"; };
  return I + "for (long long t = 0; t < " + ll(l.steps) + "; ++t) {\n" +
         I + "  " + T + " *const a = Z + t * " + G + ";\n" +
         I + "  const " + T + " in = " + sigmoidOf(t, gate(0)) + ", forget = " + sigmoidOf(t, gate(1)) +
         ", cand = " + tanhOf(t, gate(2)) + ", out = " + sigmoidOf(t, gate(3)) + ";\n" +
         I + "  " + gate(0) + " = in;\n" + I + "  " + gate(1) + " = forget;\n" + I + "  " + gate(2) + " = cand;\n" +
         I + "  " + gate(3) + " = out;\n" +
         I + "  const " + T + " c = forget * " + cells + "[t * " + U + " + " + unit + "] + in * cand;\n" +
         I + "  " + cells + "[(t + 1) * " + U + " + " + unit + "] = c;\n" +
         I + "  H[(t + 1) * " + U + " + " + unit + "] = out * " + tanhOf(t, "c") + ";\n" + I + "}\n";
}

/// One unit's step back through time (a = Z + t * G, its activated gates):
/// its four gates' gradients, into a (in place) and |dz|(k) for gate k,
/// from |dh| (the hidden state's gradient from the step after, plus |dy|'s)
/// and |dc| (the cell's, which it updates), indented by |indent|.
std::string gateGradients(const ComputeType &t, const Lstm &l, const std::string &unit, const std::string &cells,
                          const std::function<std::string(int)> &dz, const std::string &dh, const std::string &dc,
                          const std::string &dy, const std::string &indent) {
  const std::string T = t.name(), U = ll(l.units), one = t.lit("1.0"), I = indent;
  auto gate = [&](int k) { return k == 0 ? "a[" + unit + "]" : "a[" + ll(k * l.units) + " + " + unit + "]"; };
  return I + "const " + T + " in = " + gate(0) + ", forget = " + gate(1) + ", cand = " + gate(2) + ", out = " +
         gate(3) + ";\n" +
         I + "const " + T + " h = " + dh + " + " + dy + ";\n" +
         I + "const " + T + " tc = " + tanhOf(t, cells + "[(t + 1) * " + U + " + " + unit + "]") + ";\n" +
         I + "const " + T + " dcell = " + dc + " + h * out * (" + one + " - tc * tc);\n" +
         I + dz(0) + " = " + gate(0) + " = dcell * cand * in * (" + one + " - in);\n" +
         I + dz(1) + " = " + gate(1) + " = dcell * " + cells + "[t * " + U + " + " + unit + "] * forget * (" + one +
         " - forget);\n" +
         I + dz(2) + " = " + gate(2) + " = dcell * in * (" + one + " - cand * cand);\n" +
         I + dz(3) + " = " + gate(3) + " = h * tc * out * (" + one + " - out);\n" +
         I + dc + " = dcell * forget;\n";
}

/// The forward recurrence spread over thread-block clusters (sm_90): a
/// cluster of |blocks| blocks owns |rows| batch rows, each block a slice of
/// the units (their four gates' columns, and those columns of the recurrent
/// kernel in shared memory when they fit). Every step each block computes
/// its gates for the cluster's rows, walks its units' cells and stores each
/// new h into every block's shared memory (distributed shared memory); one
/// cluster barrier a step, the h arrays double-buffered.
struct ClusterPlan {
  int64_t blocks, rows, unitsPerBlock;
  bool kernelInShared;
  int64_t clusters(const Lstm &l) const { return (l.n + rows - 1) / rows; }
};

/// Shared elements of a cluster block: h of the cluster's rows (twice), its
/// units' cells and gates, and (|kernelInShared|) its recurrent-kernel slice.
int64_t clusterSharedElements(const Lstm &l, int64_t rows, int64_t unitsPerBlock, bool kernelInShared) {
  return 2 * rows * l.units + rows * unitsPerBlock + rows * 4 * unitsPerBlock +
         (kernelInShared ? l.units * 4 * unitsPerBlock : 0);
}

/// A plan for |l| whose blocks need |elements|(rows, unitsPerBlock,
/// kernelInShared) of shared memory: as many rows per cluster as still
/// leave kSpreadBlocks blocks, or none when one row does not fit.
std::optional<ClusterPlan> planClusters(const ComputeType &t, const Lstm &l,
                                        const std::function<int64_t(int64_t, int64_t, bool)> &elements) {
  const int64_t blocks = std::min<int64_t>(kClusterBlocks, l.units),
                unitsPerBlock = (l.units + blocks - 1) / blocks;
  auto fits = [&](int64_t rows, bool kernelInShared) {
    return elements(rows, unitsPerBlock, kernelInShared) * t.bytes() <= kSharedLimit;
  };
  if (!fits(1, false))
    return std::nullopt;
  int64_t rows = 1;
  while (rows < kMaxRowsPerBlock && rows < l.n && ((l.n + 2 * rows - 1) / (2 * rows)) * blocks >= kSpreadBlocks &&
         fits(2 * rows, false))
    rows *= 2;
  return ClusterPlan{blocks, rows, unitsPerBlock, fits(rows, true)};
}

/// The forward's plan, or none when even one row's h does not fit shared
/// memory (or the fallback's arrays do not: see clusterRecurrence).
std::optional<ClusterPlan> clusterPlanOf(const ComputeType &t, const Lstm &l) {
  if (forwardShared(t, l, 1) > kSharedLimit)
    return std::nullopt;
  return planClusters(t, l, [&](int64_t rows, int64_t unitsPerBlock, bool kernelInShared) {
    return clusterSharedElements(l, rows, unitsPerBlock, kernelInShared);
  });
}

/// Shared elements of a gradient's cluster block: its kernel slice (when
/// |kernelInShared|), the step's gate gradients of its columns, the partial
/// dh sums each block sends it (two buffers), its units' dh and dc, and
/// without the forward's states the cluster rows' h (two buffers).
int64_t gradClusterSharedElements(const Lstm &l, int64_t rows, int64_t unitsPerBlock, bool kernelInShared,
                                  bool withStates) {
  // The slice's rows are padded by one: going back, a warp's lanes read
  // one element from each of 32 consecutive rows.
  return (kernelInShared ? l.units * (4 * unitsPerBlock + 1) : 0) + rows * 4 * unitsPerBlock +
         2 * kClusterBlocks * rows * unitsPerBlock + 2 * rows * unitsPerBlock + (withStates ? 0 : 2 * rows * l.units);
}

std::optional<ClusterPlan> gradClusterPlanOf(const ComputeType &t, const Lstm &l, bool withStates) {
  return planClusters(t, l, [&](int64_t rows, int64_t unitsPerBlock, bool kernelInShared) {
    return gradClusterSharedElements(l, rows, unitsPerBlock, kernelInShared, withStates);
  });
}

/// The #else of a cluster recurrence: below sm_90 the same grid runs
/// |rowBody| (one batch row b = group + r by the whole block, as the kernel
/// without clusters does) for rows q, q + blocks, ... of the cluster's
/// group.
std::string rowPerBlockFallback(const Lstm &l, const ClusterPlan &p, const std::string &entry,
                                const std::string &params, const std::string &rowBody) {
  return "#else\nextern \"C\" __global__ void __launch_bounds__(256) " + entry + "(" + params + ") {\n"
         "  const long long q = blockIdx.x % " + str(p.blocks) + ", group = (long long)(blockIdx.x / " +
         str(p.blocks) + ") * " + str(p.rows) + ";\n"
         "  for (long long r = q; r < " + str(p.rows) + " && group + r < " + ll(l.n) + "; r += " + str(p.blocks) +
         ") {\n    const long long b = group + r;\n" + indented(rowBody) + "    __syncthreads();\n  }\n}\n#endif\n";
}

/// Appends the recurrence's function to |s| and returns its launch; below
/// sm_90 it runs |rowBody| (rowPerBlockFallback).
CudaStage clusterRecurrence(const ComputeType &t, const Lstm &l, const ClusterPlan &p, const std::string &entry,
                            double efficiency, const std::string &rk, const std::string &y,
                            const std::string &params, const std::string &rowBody, std::string *s) {
  const std::string T = t.name(), S = ll(l.steps), U = ll(l.units), G = ll(l.gates), R = str(p.rows),
                    US = ll(p.unitsPerBlock), W = ll(4 * p.unitsPerBlock), C = str(p.blocks), zero = t.lit("0.0");
  const int64_t products = l.n * l.steps;
  CudaStage stage;
  stage.entry = entry;
  stage.grid = {p.clusters(l) * p.blocks, 1, 1};
  stage.block = {kThreads, 1, 1};
  stage.clusterBlocks = p.blocks;
  stage.sharedBytes = clusterSharedElements(l, p.rows, p.unitsPerBlock, p.kernelInShared) * t.bytes();
  stage.flops = 2 * products * l.units * l.gates + 10 * products * l.units;
  // Each block reads its kernel slice once (from shared memory after), or
  // every step; the input products and h are read and written once.
  stage.bytes = ((p.kernelInShared ? p.clusters(l) : p.clusters(l) * l.steps) * l.units * l.gates +
                 products * (l.gates + l.units)) * t.bytes();
  stage.efficiency = p.kernelInShared ? kSharedSliceGain * efficiency : efficiency;
  // The gate column of local column j (gate j / US of unit q * US + j % US).
  const std::string unitOf = "q * " + US + " + j % " + US, columnOf = "(j / " + US + ") * " + U + " + unit";
  const std::string activated = "j / " + US + " == 2 ? " + tanhOf(t, "acc") + " : " + sigmoidOf(t, "acc");
  std::string &o = *s;
  o += laterLaunchComment(stage, "the recurrence in clusters of " + C + " blocks; batch rows per cluster: " +
                                     R + ", units per block: " + str(p.unitsPerBlock));
  o += kIfClusters;
  o += "extern \"C\" __global__ void __cluster_dims__(" + C + ", 1, 1) __launch_bounds__(256) " + entry + "(" +
       params + ") {\n";
  o += "  __shared__ " + T + " hs[2][" + ll(p.rows * l.units) + "], cs[" + ll(p.rows * p.unitsPerBlock) + "], z[" +
       ll(p.rows * 4 * p.unitsPerBlock) + "];\n";
  if (p.kernelInShared)
    o += "  __shared__ " + T + " ks[" + ll(l.units * 4 * p.unitsPerBlock) + "];\n";
  o += "  const long long q = __clusterRelativeBlockRank(), row0 = (long long)(blockIdx.x / " + C + ") * " + R +
       ";\n";
  if (p.kernelInShared)
    o += "  for (long long e = threadIdx.x; e < " + ll(l.units * 4 * p.unitsPerBlock) + "; e += 256) {\n"
         "    const long long u = e / " + W + ", j = e % " + W + ", unit = " + unitOf + ";\n"
         "    ks[e] = unit < " + U + " ? (" + T + ")" + rk + "[u * " + G + " + " + columnOf + "] : " + zero + ";\n  }\n";
  o += "  for (long long e = threadIdx.x; e < " + ll(p.rows * l.units) + "; e += 256)\n    hs[0][e] = " + zero + ";\n";
  o += "  for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256)\n    cs[e] = " + zero +
       ";\n";
  o += "  // Every block of the cluster has started (and zeroed its h) before any\n"
       "  // stores into another's shared memory.\n"
       "  __cluster_barrier_arrive();\n  __cluster_barrier_wait();\n";
  const std::string weight = p.kernelInShared ? "ks[u * " + W + " + j]"
                                              : "(unit < " + U + " ? (" + T + ")" + rk + "[u * " + G + " + " + columnOf + "] : " + zero + ")";
  o += "  for (long long t = 0; t < " + S + "; ++t) {\n"
       "    const " + T + " *const h = hs[t % 2];\n"
       "    for (long long e = threadIdx.x; e < " + ll(p.rows * 4 * p.unitsPerBlock) + "; e += 256) {\n"
       "      const long long r = e / " + W + ", j = e % " + W + ", unit = " + unitOf + ";\n"
       "      " + T + " acc = row0 + r < " + ll(l.n) + " && unit < " + U + " ? scratch[((row0 + r) * " + S + " + t) * " +
       G + " + " + columnOf + "] : " + zero + ";\n"
       "      for (long long u = 0; u < " + U + "; ++u)\n        acc += h[r * " + U + " + u] * " + weight + ";\n"
       "      z[e] = " + activated + ";\n    }\n    __syncthreads();\n";
  o += "    for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
       "      const long long r = e / " + US + ", j = e % " + US + ", unit = " + unitOf + ";\n"
       "      if (unit >= " + U + ")\n        continue;\n"
       "      const " + T + " *a = z + r * " + W + ";\n"
       "      const " + T + " c = a[" + US + " + j] * cs[e] + a[j] * a[" + ll(2 * p.unitsPerBlock) + " + j];\n"
       "      cs[e] = c;\n"
       "      const " + T + " hv = a[" + ll(3 * p.unitsPerBlock) + " + j] * " + tanhOf(t, "c") + ";\n"
       "      for (unsigned b = 0; b < " + C + "; ++b)\n"
       "        static_cast<" + T + " *>(__cluster_map_shared_rank(&hs[(t + 1) % 2][0], b))[r * " + U +
       " + unit] = hv;\n";
  if (l.sequences)
    o += "      if (row0 + r < " + ll(l.n) + ")\n        " + y + "[((row0 + r) * " + S + " + t) * " + U +
         " + unit] = hv;\n";
  o += "    }\n    // Every block's new h has arrived (and no block still reads the old).\n"
       "    __cluster_barrier_arrive();\n    __cluster_barrier_wait();\n  }\n";
  if (!l.sequences)
    o += "  for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
         "    const long long r = e / " + US + ", unit = q * " + US + " + e % " + US + ";\n"
         "    if (row0 + r < " + ll(l.n) + " && unit < " + U + ")\n"
         "      " + y + "[(row0 + r) * " + U + " + unit] = hs[" + S + " % 2][r * " + U + " + unit];\n  }\n";
  o += "}\n" + rowPerBlockFallback(l, p, entry, params, rowBody);
  return stage;
}

/// The gradient's recurrence in thread-block clusters (sm_90), appended to
/// |s| after its comment and an #if on the architecture (the caller adds
/// the fallback, rowPerBlockFallback): the forward walk of each block's units
/// (with the forward's states no products: no exchange; without them each
/// step's h goes to every block's shared memory, as the forward's), then
/// back through time: each block turns its units' gates into their
/// gradients, sums the recurrent kernel's slice against them into a part of
/// dh for every unit and stores each part into the block owning the unit;
/// after one cluster barrier a step, each block adds the parts of its
/// units in rank order (no atomics: bit-exact). Returns |base| launched so.
CudaStage gradClusterRecurrence(const ComputeType &t, const Lstm &l, const ClusterPlan &p, CudaStage base,
                                const std::string &rk, const std::string &dy, const std::string &states,
                                const std::string &params, const std::string &RE, std::string *s) {
  const bool withStates = !states.empty();
  const std::string T = t.name(), S = ll(l.steps), U = ll(l.units), G = ll(l.gates), R = str(p.rows),
                    US = ll(p.unitsPerBlock), W = ll(4 * p.unitsPerBlock), C = str(p.blocks), zero = t.lit("0.0"),
                    one = t.lit("1.0"), N = ll(l.n), COFF = ll((l.steps + 1) * l.units),
                    ZOFF = ll(2 * (l.steps + 1) * l.units);
  const int64_t products = l.n * l.steps;
  base.grid = {p.clusters(l) * p.blocks, 1, 1};
  base.clusterBlocks = p.blocks;
  base.sharedBytes =
      gradClusterSharedElements(l, p.rows, p.unitsPerBlock, p.kernelInShared, withStates) * t.bytes();
  base.bytes = ((p.kernelInShared ? p.clusters(l) : p.clusters(l) * l.steps * (withStates ? 1 : 2)) * l.units *
                    l.gates +
                products * (l.units + l.gates)) * t.bytes();
  if (p.kernelInShared)
    base.efficiency *= kSharedSliceGain;
  const std::string unitOf = "q * " + US + " + j % " + US, columnOf = "(j / " + US + ") * " + U + " + unit";
  const std::string KS = ll(4 * p.unitsPerBlock + 1); // the slice's padded rows
  const std::string weight = p.kernelInShared ? "ks[u * " + KS + " + j]"
                                              : "(unit < " + U + " ? (" + T + ")" + rk + "[u * " + G + " + " + columnOf +
                                                    "] : " + zero + ")";
  // Row row0 + r's states and gates in the scratch, at |indent|.
  auto rowPointers = [&](const std::string &indent) {
    return indent + "const long long row = row0 + r;\n" + indent + T + " *const H = scratch + row * " + RE +
           ", *const Cc = H + " + COFF + ", *const Z = H + " + ZOFF + ";\n";
  };
  auto barrier = [](const std::string &indent) {
    return indent + "__cluster_barrier_arrive();\n" + indent + "__cluster_barrier_wait();\n";
  };
  std::string &o = *s;
  o += laterLaunchComment(base, "the recurrence in clusters of " + C + " blocks; batch rows per cluster: " + R +
                                    ", units per block: " + str(p.unitsPerBlock));
  o += kIfClusters;
  o += "extern \"C\" __global__ void __cluster_dims__(" + C + ", 1, 1) __launch_bounds__(256) " + base.entry + "(" +
       params + ") {\n";
  if (p.kernelInShared)
    o += "  __shared__ " + T + " ks[" + ll(l.units * (4 * p.unitsPerBlock + 1)) + "];\n";
  o += "  __shared__ " + T + " dzs[" + ll(p.rows * 4 * p.unitsPerBlock) + "], parts[2][" + C + "][" +
       ll(p.rows * p.unitsPerBlock) + "], dhs[" + ll(p.rows * p.unitsPerBlock) + "], dcs[" +
       ll(p.rows * p.unitsPerBlock) + "];\n";
  if (!withStates)
    o += "  __shared__ " + T + " hs[2][" + ll(p.rows * l.units) + "];\n";
  o += "  const long long q = __clusterRelativeBlockRank(), row0 = (long long)(blockIdx.x / " + C + ") * " + R + ";\n";
  if (p.kernelInShared)
    o += "  for (long long e = threadIdx.x; e < " + ll(l.units * 4 * p.unitsPerBlock) + "; e += 256) {\n"
         "    const long long u = e / " + W + ", j = e % " + W + ", unit = " + unitOf + ";\n"
         "    ks[u * " + KS + " + j] = unit < " + U + " ? (" + T + ")" + rk + "[u * " + G + " + " + columnOf + "] : " +
         zero + ";\n  }\n";
  // The states before the first step, of this block's units.
  o += "  for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
       "    const long long r = e / " + US + ", unit = q * " + US + " + e % " + US + ";\n"
       "    dhs[e] = dcs[e] = " + zero + ";\n"
       "    if (row0 + r < " + N + " && unit < " + U + ") {\n"
       "      " + T + " *const H = scratch + (row0 + r) * " + RE + ";\n"
       "      H[unit] = H[" + COFF + " + unit] = " + zero + ";\n    }\n  }\n";
  if (!withStates)
    o += "  for (long long e = threadIdx.x; e < " + ll(p.rows * l.units) + "; e += 256)\n    hs[0][e] = " + zero + ";\n";
  o += "  // Every block of the cluster has started before any stores into\n"
       "  // another's shared memory.\n" + barrier("  ");
  if (withStates) // Whole gates: each thread walks its units through time alone.
    o += "  for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
         "    const long long r = e / " + US + ", unit = q * " + US + " + e % " + US + ";\n"
         "    if (row0 + r >= " + N + " || unit >= " + U + ")\n      continue;\n" +
         rowPointers("    ") + cellWalk(t, l, "unit", "Cc", "    ") +
         "  }\n  __syncthreads();\n";
  else
    o += "  for (long long t = 0; t < " + S + "; ++t) {\n"
         "    const " + T + " *const h = hs[t % 2];\n"
         "    for (long long e = threadIdx.x; e < " + ll(p.rows * 4 * p.unitsPerBlock) + "; e += 256) {\n"
         "      const long long r = e / " + W + ", j = e % " + W + ", unit = " + unitOf + ";\n"
         "      if (row0 + r >= " + N + " || unit >= " + U + ")\n        continue;\n" +
         rowPointers("      ") +
         "      const long long g = " + columnOf + ";\n"
         "      " + T + " acc = Z[t * " + G + " + g];\n"
         "      for (long long u = 0; u < " + U + "; ++u)\n        acc += h[r * " + U + " + u] * " + weight + ";\n"
         "      Z[t * " + G + " + g] = j / " + US + " == 2 ? " + tanhOf(t, "acc") + " : " + sigmoidOf(t, "acc") + ";\n"
         "    }\n    __syncthreads();\n"
         "    for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
         "      const long long r = e / " + US + ", unit = q * " + US + " + e % " + US + ";\n"
         "      if (row0 + r >= " + N + " || unit >= " + U + ")\n        continue;\n" +
         rowPointers("      ") +
         "      const " + T + " *const a = Z + t * " + G + ";\n"
         "      const " + T + " c = a[" + U + " + unit] * Cc[t * " + U + " + unit] + a[unit] * a[" + ll(2 * l.units) +
         " + unit];\n"
         "      Cc[(t + 1) * " + U + " + unit] = c;\n"
         "      const " + T + " hv = a[" + ll(3 * l.units) + " + unit] * " + tanhOf(t, "c") + ";\n"
         "      H[(t + 1) * " + U + " + unit] = hv;\n"
         "      for (unsigned b = 0; b < " + C + "; ++b)\n"
         "        static_cast<" + T + " *>(__cluster_map_shared_rank(&hs[(t + 1) % 2][0], b))[r * " + U +
         " + unit] = hv;\n"
         "    }\n" + barrier("    ") + "  }\n";
  // Back through time.
  const std::string dyAt = l.sequences ? dy + "[(row * " + S + " + t) * " + U + " + unit]"
                                       : "(t == " + ll(l.steps - 1) + " ? " + dy + "[row * " + U + " + unit] : " + zero +
                                             ")";
  o += "  int buf = 0;\n"
       "  for (long long t = " + ll(l.steps - 1) + "; t >= 0; --t, buf ^= 1) {\n"
       "    for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
       "      const long long r = e / " + US + ", uu = e % " + US + ", unit = q * " + US + " + uu;\n"
       "      " + T + " *const dz = dzs + r * " + W + ";\n"
       "      if (row0 + r >= " + N + " || unit >= " + U + ") {\n"
       "        dz[uu] = dz[" + US + " + uu] = dz[" + ll(2 * p.unitsPerBlock) + " + uu] = dz[" +
       ll(3 * p.unitsPerBlock) + " + uu] = " + zero + ";\n        continue;\n      }\n" +
       rowPointers("      ") +
       "      " + T + " *const a = Z + t * " + G + ";\n" +
       gateGradients(
           t, l, "unit", "Cc",
           [&](int k) { return k == 0 ? std::string("dz[uu]") : "dz[" + ll(k * p.unitsPerBlock) + " + uu]"; }, "dhs[e]", "dcs[e]",
           dyAt, "      ") +
       "    }\n    __syncthreads();\n"
       "    // This block's part of dh for every unit, into the unit's block.\n"
       "    for (long long e = threadIdx.x; e < " + ll(p.rows * l.units) + "; e += 256) {\n"
       "      const long long r = e / " + U + ", u = e % " + U + ";\n"
       "      " + T + " sum = " + zero + ";\n"
       "      for (long long j = 0; j < " + W + "; ++j) {\n" +
       (p.kernelInShared ? "" : "        const long long unit = " + unitOf + ";\n") +
       "        sum += " + weight + " * dzs[r * " + W + " + j];\n      }\n"
       "      static_cast<" + T + " *>(__cluster_map_shared_rank(&parts[buf][q][0], (unsigned)(u / " + US +
       ")))[r * " + US + " + u % " + US + "] = sum;\n"
       "    }\n" + barrier("    ") +
       "    for (long long e = threadIdx.x; e < " + ll(p.rows * p.unitsPerBlock) + "; e += 256) {\n"
       "      " + T + " sum = " + zero + ";\n"
       "      for (int from = 0; from < " + C + "; ++from)\n        sum += parts[buf][from][e];\n"
       "      dhs[e] = sum;\n    }\n  }\n}\n";
  return base;
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
  std::string s;
  const std::string params = parameterList(group, false) + ", " + T + " *__restrict__ scratch";
  const int64_t products = l.n * l.steps;
  const double recurrenceEfficiency = kernel.efficiency; // the family's
  // Launch 1 (both directions): every step's input product (x times the
  // kernel, plus the bias) at once, a tiled product over all rows and steps
  // (a row (b, t) is m = b * S + t) stored by |store|.
  // With |states| (the forward's hidden state after every step, [N, T,
  // units]) the product also adds the state before each step times the
  // recurrent kernel: k runs over the features, then the units.
  auto inputProduct = [&](const std::string &store, const std::string &states) {
    TileProduct input{products, l.gates, l.features + (states.empty() ? 0 : l.units), /*aAlongK=*/true,
                      /*bAlongK=*/false, "", "", ""};
    input.a = x + "[m * " + F + " + k]";
    input.b = k + "[k * " + G + " + c]";
    if (!states.empty()) {
      input.a = "k < " + F + " ? " + input.a + " : m % " + S + " == 0 ? " + t.lit("0.0") + " : " + states +
                "[(m - 1) * " + U + " + k - " + F + "]";
      input.b = "k < " + F + " ? " + input.b + " : " + rk + "[(k - " + F + ") * " + G + " + c]";
    }
    input.store = store + " = v" + (l.bias ? " + " + bias + "[c]" : std::string()) + ";";
    CudaStage first = tileProductLaunch(t, input, kernel.name);
    kernel.grid = first.grid;
    kernel.block = first.block;
    kernel.sharedBytes = first.sharedBytes;
    kernel.efficiency = first.efficiency;
    return header(group, kernel) + tileProductSource(t, input, first, params);
  };

  if (auto forward = dyn_cast<dl::LSTMOp>(op)) {
    std::string y = outOf(forward.getResult());
    const std::string activated = "g >= " + ll(2 * l.units) + " && g < " + ll(3 * l.units) + " ? " +
                                  tanhOf(t, "acc[r]") + " : " + sigmoidOf(t, "acc[r]");
    // |rows| batch rows from row0 by the whole block, its arrays declared
    // by |arrays|: the gate columns spread over the threads (each reads a
    // recurrent-kernel column coalesced and reuses it for every row).
    auto rowsRecurrence = [&](int64_t rows, const std::string &arrays, const std::string &row0) {
      const std::string R = str(rows);
      std::string body = arrays + "  const long long row0 = " + row0 + ";\n";
      body += "  for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256)\n"
              "    hs[e] = cs[e] = " + t.lit("0.0") + ";\n  __syncthreads();\n";
      body += "  for (long long t = 0; t < " + S + "; ++t) {\n"
              "    for (long long g = threadIdx.x; g < " + G + "; g += 256) {\n"
              "      " + T + " acc[" + R + "];\n"
              "      for (int r = 0; r < " + R + "; ++r)\n"
              "        acc[r] = row0 + r < " + ll(l.n) + " ? scratch[((row0 + r) * " + S + " + t) * " + G + " + g] : " +
              t.lit("0.0") + ";\n"
              "      for (long long u = 0; u < " + U + "; ++u) {\n"
              "        const " + T + " w = " + rk + "[u * " + G + " + g];\n"
              "        for (int r = 0; r < " + R + "; ++r)\n          acc[r] += hs[r * " + U + " + u] * w;\n      }\n"
              "      for (int r = 0; r < " + R + "; ++r)\n        z[r * " + G + " + g] = " + activated + ";\n"
              "    }\n    __syncthreads();\n";
      body += "    for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256) {\n"
              "      const long long r = e / " + U + ", u = e % " + U + ";\n"
              "      const " + T + " *a = z + r * " + G + ";\n"
              "      const " + T + " c = a[" + U + " + u] * cs[e] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
              "      cs[e] = c;\n      hs[e] = a[" + ll(3 * l.units) + " + u] * " + tanhOf(t, "c") + ";\n";
      if (l.sequences)
        body += "      if (row0 + r < " + ll(l.n) + ")\n        " + y + "[((row0 + r) * " + S + " + t) * " + U +
                " + u] = hs[e];\n";
      body += "    }\n    __syncthreads();\n  }\n";
      if (!l.sequences)
        body += "  for (long long e = threadIdx.x; e < " + ll(rows * l.units) + "; e += 256)\n"
                "    if (row0 + e / " + U + " < " + ll(l.n) + ")\n      " + y + "[row0 * " + U + " + e] = hs[e];\n";
      return body;
    };
    if (std::optional<ClusterPlan> plan = clusterPlanOf(t, l)) {
      kernel.scratchBytes = products * l.gates * t.bytes();
      s = inputProduct("scratch[m * " + G + " + c]", "");
      const std::string rowBody =
          rowsRecurrence(1, workingArrays(t, {{"hs", l.units}, {"cs", l.units}, {"z", l.gates}}, true, ""), "b");
      kernel.then.push_back(clusterRecurrence(t, l, *plan, kernel.name + "_recurrence", recurrenceEfficiency, rk, y,
                                              params, rowBody, &s));
      kernel.source = std::move(s);
      return success();
    }
    bool shared = forwardShared(t, l, 1) <= kSharedLimit;
    int64_t rows = 1;
    while (shared && rows < kMaxRowsPerBlock && rows < l.n &&
           (l.n + 2 * rows - 1) / (2 * rows) >= kSpreadBlocks &&
           forwardShared(t, l, rows * 2) <= kSharedLimit)
      rows *= 2;
    const int64_t blocks = (l.n + rows - 1) / rows, blockElements = forwardShared(t, l, rows) / t.bytes();
    // The scratch: the input products [N, T, 4 * units], then (too wide
    // for shared memory) each block's arrays.
    kernel.scratchBytes = (products * l.gates + (shared ? 0 : blocks * blockElements)) * t.bytes();
    s = inputProduct("scratch[m * " + G + " + c]", "");
    // Launch 2: the recurrence, a block per |rows| batch rows.
    CudaStage recurrence;
    recurrence.entry = kernel.name + "_recurrence";
    recurrence.grid = {blocks, 1, 1};
    recurrence.block = {kThreads, 1, 1};
    recurrence.sharedBytes = shared ? blockElements * t.bytes() : 0;
    recurrence.flops = 2 * products * l.units * l.gates + 10 * products * l.units;
    recurrence.bytes = (blocks * l.units * l.gates + products * (l.gates + l.units)) * t.bytes();
    recurrence.efficiency = recurrenceEfficiency;
    s += laterLaunchComment(recurrence, "the recurrence, batch rows per block: " + str(rows));
    s += "extern \"C\" __global__ void __launch_bounds__(256) " + recurrence.entry + "(" + params + ") {\n";
    s += rowsRecurrence(rows,
                        workingArrays(t, {{"hs", rows * l.units}, {"cs", rows * l.units}, {"z", rows * l.gates}},
                                      shared,
                                      "scratch + " + ll(products * l.gates) + " + (long long)blockIdx.x * " +
                                          ll(blockElements)),
                        "(long long)blockIdx.x * " + str(rows));
    s += "}\n";
    kernel.then.push_back(recurrence);
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
  kernel.scratchBytes = l.n * rowElements * t.bytes();
  kernel.globalAtomics = 0;
  // Z[b][t]: row b's gates at step t, in its part of the scratch after the
  // states (H, C); a row (b, t) of the products below is m = b * S + t.
  auto zAt = [&](const std::string &m, const std::string &column) {
    return "scratch[(" + m + " / " + S + ") * " + RE + " + " + ZOFF + " + (" + m + " % " + S + ") * " + G +
           " + " + column + "]";
  };

  const std::string states = grad.getStates() ? argName(grad.getStates()) : "";
  s = inputProduct(zAt("m", "c"), states);

  // Launch 2: a block per batch row: the recurrence forward (adding h times
  // the recurrent kernel to Z, unless the product above did, and activating
  // it, keeping every step's states), then back through time.
  CudaStage recurrence;
  recurrence.entry = kernel.name + "_recurrence";
  recurrence.grid = {l.n, 1, 1};
  recurrence.block = {kThreads, 1, 1};
  recurrence.sharedBytes = shared ? gradShared(t, l) : 0;
  recurrence.flops = (states.empty() ? 4 : 2) * products * l.units * l.gates + 20 * products * l.units;
  recurrence.bytes = (l.units * l.gates + products * (l.units + l.gates)) * t.bytes();
  recurrence.efficiency = recurrenceEfficiency;

  // One batch row b's recurrence, by the whole block.
  std::string rowRecurrence;
  rowRecurrence += "  " + T + " *const H = scratch + b * " + RE + ", *const C = H + " + ll((l.steps + 1) * l.units) +
       ", *const Z = H + " + ZOFF + ";\n";
  rowRecurrence += workingArrays(t, {{"dz", l.gates}, {"dh", l.units}, {"dc", l.units}}, shared,
                     "H + " + ll(gradStateElements(l)));
  rowRecurrence += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    H[u] = C[u] = " + t.lit("0.0") + ";\n";
  rowRecurrence += "  __syncthreads();\n";
  if (states.empty())
    rowRecurrence += "  for (long long t = 0; t < " + S + "; ++t) {\n"
         "    " + T + " *const a = Z + t * " + G + ";\n"
         "    const " + T + " *const h = H + t * " + U + ";\n"
         "    for (long long g = threadIdx.x; g < " + G + "; g += 256) {\n"
         "      " + T + " acc = a[g];\n"
         "      for (long long u = 0; u < " + U + "; ++u)\n        acc += h[u] * " + rk + "[u * " + G + " + g];\n"
         "      a[g] = g >= " + ll(2 * l.units) + " && g < " + ll(3 * l.units) + " ? " + tanhOf(t, "acc") + " : " +
         sigmoidOf(t, "acc") + ";\n    }\n    __syncthreads();\n"
         "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n"
         "      const " + T + " c = a[" + U + " + u] * C[t * " + U + " + u] + a[u] * a[" + ll(2 * l.units) + " + u];\n"
         "      C[(t + 1) * " + U + " + u] = c;\n"
         "      H[(t + 1) * " + U + " + u] = a[" + ll(3 * l.units) + " + u] * " + tanhOf(t, "c") + ";\n"
         "    }\n    __syncthreads();\n  }\n";
  else // The gates are whole: each thread walks its units through time alone.
    rowRecurrence += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n" + cellWalk(t, l, "u", "C", "    ") +
                     "  __syncthreads();\n";
  // Back through time: each thread turns its units' four gates into their
  // gradients in place (no other thread reads them); then dh for the step
  // before, a warp per unit reading the recurrent kernel's row coalesced.
  rowRecurrence += "  for (long long u = threadIdx.x; u < " + U + "; u += 256)\n    dh[u] = dc[u] = " + t.lit("0.0") + ";\n";
  rowRecurrence += "  __syncthreads();\n";
  std::string dyAt = l.sequences ? dy + "[(b * " + S + " + t) * " + U + " + u]"
                                 : "(t == " + ll(l.steps - 1) + " ? " + dy + "[b * " + U + " + u] : " + t.lit("0.0") + ")";
  rowRecurrence += "  for (long long t = " + ll(l.steps - 1) + "; t >= 0; --t) {\n"
       "    " + T + " *const a = Z + t * " + G + ";\n"
       "    for (long long u = threadIdx.x; u < " + U + "; u += 256) {\n" +
       gateGradients(
           t, l, "u", "C", [&](int k) { return k == 0 ? std::string("dz[u]") : "dz[" + ll(k * l.units) + " + u]"; },
           "dh[u]", "dc[u]", dyAt, "      ") +
       "    }\n    __syncthreads();\n"
       "    for (long long u = threadIdx.x / 32; u < " + U + "; u += " + str(kThreads / 32) + ") {\n      " + T + " sum = " + t.lit("0.0") + ";\n"
       "      for (long long g = threadIdx.x % 32; g < " + G + "; g += 32)\n        sum += " + rk + "[u * " + G +
       " + g] * dz[g];\n"
       "      for (int o = 16; o > 0; o /= 2)\n        sum += __shfl_xor_sync(0xffffffffu, sum, o);\n"
       "      if (threadIdx.x % 32 == 0)\n        dh[u] = sum;\n    }\n    __syncthreads();\n  }\n";
  std::optional<ClusterPlan> plan = shared ? gradClusterPlanOf(t, l, !states.empty()) : std::nullopt;
  if (!plan) {
    s += laterLaunchComment(recurrence, "the recurrence of each batch row");
    s += "extern \"C\" __global__ void __launch_bounds__(256) " + recurrence.entry + "(" + params + ") {\n";
    s += "  const long long b = blockIdx.x;\n" + rowRecurrence + "}\n";
  } else {
    recurrence = gradClusterRecurrence(t, l, *plan, recurrence, rk, dy, states, params, RE, &s);
    s += rowPerBlockFallback(l, *plan, recurrence.entry, params, rowRecurrence);
  }
  kernel.then.push_back(recurrence);

  // Launches 3 and 4, once every row is done: the weight gradients (the
  // rows of the kernel, recurrent kernel and bias gradients, each the kept
  // inputs, states before each step or ones times the gate gradients) and
  // dx (the gate gradients times the kernel), products over all rows and steps.
  const int64_t rowsK = dk.empty() ? 0 : l.features, rowsR = drk.empty() ? 0 : l.units,
                rowsB = db.empty() ? 0 : 1, weightRows = rowsK + rowsR + rowsB;
  if (weightRows > 0) {
    TileProduct p{weightRows, l.gates, products, /*aAlongK=*/false, /*bAlongK=*/false, "", "", ""};
    p.a = "m < " + ll(rowsK) + " ? " + x + "[k * " + F + " + m] : m < " + ll(rowsK + rowsR) + " ? scratch[(k / " +
          S + ") * " + RE + " + (k % " + S + ") * " + U + " + m - " + ll(rowsK) + "] : " + t.lit("1.0");
    p.b = zAt("k", "c");
    std::string store;
    if (rowsK)
      store += "if (m < " + ll(rowsK) + ") " + dk + "[m * " + G + " + c] = v; else ";
    if (rowsR)
      store += "if (m < " + ll(rowsK + rowsR) + ") " + drk + "[(m - " + ll(rowsK) + ") * " + G + " + c] = v; else ";
    store += rowsB ? db + "[c] = v;" : ";";
    p.store = store;
    CudaStage weights = tileProductLaunch(t, p, kernel.name + "_weights");
    s += laterLaunchComment(weights, str(p.m) + "x" + str(p.n) + " weight gradients, sums over " + str(p.k));
    s += tileProductSource(t, p, weights, params);
    kernel.then.push_back(weights);
  }
  if (!dx.empty()) {
    TileProduct p{products, l.features, l.gates, /*aAlongK=*/true, /*bAlongK=*/true, "", "", ""};
    p.a = zAt("m", "k");
    p.b = k + "[c * " + G + " + k]";
    p.store = dx + "[m * " + F + " + c] = v;";
    CudaStage inputGradient = tileProductLaunch(t, p, kernel.name + "_dx");
    s += laterLaunchComment(inputGradient, str(p.m) + "x" + str(p.n) + " dx, sums over " + str(p.k));
    s += tileProductSource(t, p, inputGradient, params);
    kernel.then.push_back(inputGradient);
  }
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
