//===- EmitGemm.cpp - Matrix-product kernel groups ------------------------===//
//
// dense, conv2d and their gradients are all C[M,N] = A[M,K] · B[K,N] with
// operands read through an index map (convolutions as implicit GEMM: no
// im2col buffer) and an epilogue per output (bias, activation, softmax over
// a row that fits one tile). Output tiles of 64x64, 128x64 or 128x128 by
// shape, K in steps of 16 through shared memory, 256 threads each holding a
// block of adjacent accumulators (4x4, 8x4 or 8x8): the tiles and main
// loops are GemmTiles.cpp's; this file reads the operands and writes the
// epilogue, split K, pools, bias gradients and softmax.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"
#include "compiler/Codegen/CUDA/GemmTiles.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cstdlib>
#include <optional>

using namespace mlir;
using namespace dlc::cuda::gemm;

namespace dlc::cuda {
namespace {

constexpr int64_t kStep = 16, kThreads = 256;
/// Split K when fewer output tiles than this (about the SMs of a GPU), in
/// chunks of at least kSplitChunk (8 k-steps): a 128x128 product with
/// K = 1000 (the text LSTM's dense_grad_input) runs on 28 blocks, not 4.
constexpr int64_t kSplitBelowTiles = 96, kSplitChunk = 128;

/// The convolution's geometry with TF padding, as every backend computes it.
struct Conv {
  int64_t n, h, w, c, kh, kw, f, oh, ow, sh, sw, dh, dw, pt, pl;
};

Conv convOf(Operation *op, ArrayRef<int64_t> x, ArrayRef<int64_t> kernel) {
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  auto dilation = op->getAttrOfType<DenseI64ArrayAttr>("dilation").asArrayRef();
  bool same = cast<dl::PaddingAttr>(op->getAttr("padding")).getValue() == dl::Padding::same;
  WindowAxis ay = windowAxis(x[1], kernel[0], strides[0], dilation[0], same);
  WindowAxis ax = windowAxis(x[2], kernel[1], strides[1], dilation[1], same);
  return Conv{x[0], x[1], x[2], x[3], kernel[0], kernel[1], kernel[3], ay.out, ax.out,
              strides[0], strides[1], dilation[0], dilation[1], ay.padBefore, ax.padBefore};
}

/// Whether the implicit-im2col index math of |c| fits 32 bits: the input,
/// the output positions and the taps each below 2^31 elements. Then it runs
/// in int, whose division costs a fraction of a 64-bit one.
bool narrow(const Conv &c) {
  const int64_t limit = int64_t(1) << 31;
  return c.n * c.h * c.w * c.c < limit && c.n * c.oh * c.ow < limit && c.kh * c.kw * c.c < limit;
}
/// An integer literal of |c|'s index math: int when narrow, else "12ll".
std::string lit(const Conv &c, int64_t v) { return narrow(c) ? std::to_string(v) : ll(v); }
/// The C type of |c|'s index math.
std::string indexType(const Conv &c) { return narrow(c) ? "int" : "long long"; }

/// Reads input pixel (b, iy, ix, ci) of the convolution or 0 outside it.
std::string pixel(const ComputeType &t, const std::string &buffer, const Conv &c, const std::string &b,
                  const std::string &iy, const std::string &ix, const std::string &ci) {
  return "((" + iy + ") >= 0 && (" + iy + ") < " + lit(c, c.h) + " && (" + ix + ") >= 0 && (" + ix +
         ") < " + lit(c, c.w) + " ? " + buffer + "[(((" + b + ") * " + lit(c, c.h) + " + (" + iy +
         ")) * " + lit(c, c.w) + " + (" + ix + ")) * " + lit(c, c.c) + " + (" + ci + ")] : " + t.lit("0.0") + ")";
}

/// A device function |name|(x, m, k) reading the input pixel that the output
/// position encoded in |position| ("m" or "k": (b, oy, ox)) sees through the
/// tap encoded in |tap| ((ky, kx, ci)): the convolution's A operand, and with
/// the roles swapped that of its kernel gradient.
/// Code defining b, oy, ox from |position| in (b, oy, ox) row-major order.
std::string plainPosition(const Conv &c, const std::string &position) {
  const std::string I = indexType(c), p = "(" + I + ")" + position;
  return "  const " + I + " ox = " + p + " % " + lit(c, c.ow) + ", oy = " + p + " / " + lit(c, c.ow) + " % " +
         lit(c, c.oh) + ", b = " + p + " / " + lit(c, c.ow * c.oh) + ";\n";
}

/// A device function |name|(x, m, k) reading the input pixel that the output
/// position encoded in |position| ("m" or "k", decoded by |decode|) sees
/// through the tap encoded in |tap| ((ky, kx, ci)): the convolution's A
/// operand, and with the roles swapped that of its kernel gradient.
std::string tapReader(const ComputeType &t, const std::string &name, const Conv &c,
                      const std::string &decode, const std::string &tap) {
  const std::string I = indexType(c), q = "(" + I + ")" + tap;
  return "template <typename X>\n__device__ __forceinline__ " + t.name() + " " + name +
         "(X x, long long m, long long k) {\n" + decode +
         "  const " + I + " ci = " + q + " % " + lit(c, c.c) + ", kx = " + q + " / " + lit(c, c.c) + " % " +
         lit(c, c.kw) + ", ky = " + q + " / " + lit(c, c.c * c.kw) + ";\n" +
         "  return " + pixel(t, "x", c, "b", "oy * " + lit(c, c.sh) + " - " + lit(c, c.pt) + " + ky * " + lit(c, c.dh),
                             "ox * " + lit(c, c.sw) + " - " + lit(c, c.pl) + " + kx * " + lit(c, c.dw), "ci") +
         ";\n}\n";
}

/// A pooling window over the convolution's output, for conv + pool groups.
struct PoolWindow {
  int64_t ph, pw, sh, sw, pt, pl, poh, pow;
  int64_t taps() const { return ph * pw; }
};

/// Row order of a conv + pool group: first every (window, tap) of the pool,
/// windows in the pooled output's (b, py, px) order, so that a tile holds
/// whole windows; then, when the pre-pool value is a result too, the "tail"
/// of output positions no window covers (the right and bottom edges of valid
/// pooling). dlc_row(m, b, oy, ox) decodes a row; false for a tap in padding.
std::string rowDecoder(const Conv &c, const PoolWindow &p, int64_t coveredH, int64_t coveredW) {
  int64_t windowRows = c.n * p.poh * p.pow * p.taps();
  int64_t tailRight = coveredH * (c.ow - coveredW), tail = c.oh * c.ow - coveredH * coveredW;
  std::string s = "__device__ __forceinline__ bool dlc_row(long long m, long long &b, long long &oy, "
                  "long long &ox) {\n  if (m < " + ll(windowRows) + ") {\n"
                  "    const long long w = m / " + ll(p.taps()) + ", t = m % " + ll(p.taps()) + ";\n"
                  "    b = w / " + ll(p.poh * p.pow) + ";\n"
                  "    oy = (w / " + ll(p.pow) + ") % " + ll(p.poh) + " * " + ll(p.sh) + " - " + ll(p.pt) +
                  " + t / " + ll(p.pw) + ";\n"
                  "    ox = w % " + ll(p.pow) + " * " + ll(p.sw) + " - " + ll(p.pl) + " + t % " + ll(p.pw) + ";\n"
                  "    return oy >= 0 && oy < " + ll(c.oh) + " && ox >= 0 && ox < " + ll(c.ow) + ";\n  }\n";
  if (tail == 0)
    return s + "  b = oy = ox = 0;\n  return false;\n}\n";
  s += "  long long u = m - " + ll(windowRows) + ";\n  b = u / " + ll(tail) + ";\n  u %= " + ll(tail) + ";\n";
  if (tailRight > 0)
    s += "  if (u < " + ll(tailRight) + ") {\n    oy = u / " + ll(c.ow - coveredW) + ";\n    ox = " +
         ll(coveredW) + " + u % " + ll(c.ow - coveredW) + ";\n    return true;\n  }\n  u -= " +
         ll(tailRight) + ";\n";
  return s + "  oy = " + ll(coveredH) + " + u / " + ll(c.ow) + ";\n  ox = u % " + ll(c.ow) +
         ";\n  return true;\n}\n";
}

/// The product behind |op| with its operands at block arguments |a| and |b|.
FailureOr<Gemm> gemmOf(const ComputeType &t, Operation *op, const std::string &a, const std::string &b) {
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  Gemm g;
  if (isa<dl::DenseOp, dl::DenseGradInputOp, dl::DenseGradKernelOp>(op)) {
    auto x = shape(op->getOperand(0)), w = shape(op->getOperand(1));
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < x.size(); ++i)
      rows *= x[i];
    // plainA/plainB get their pointer once emitGemm knows that the
    // operand's buffer holds it as stored.
    if (isa<dl::DenseOp>(op)) { // y[M,N] = x[M,K] w[K,N]
      g = {rows, w[1], w[0], a + "[m * " + ll(w[0]) + " + k]", b + "[k * " + ll(w[1]) + " + n]", ""};
      g.plainA = PlainOperand{"", w[0]};
      g.plainB = PlainOperand{"", w[1]};
    } else if (isa<dl::DenseGradInputOp>(op)) { // dx[M,Kin] = dy[M,N] w[Kin,N]^T
      g = {rows, w[0], w[1], a + "[m * " + ll(w[1]) + " + k]", b + "[n * " + ll(w[1]) + " + k]", ""};
      g.plainA = PlainOperand{"", w[1]};
    } else { // dw[Kin,N] = x[B,Kin]^T dy[B,N]
      auto dy = shape(op->getOperand(1));
      g = {x.back(), dy.back(), rows, a + "[k * " + ll(x.back()) + " + m]",
           b + "[k * " + ll(dy.back()) + " + n]", ""};
      g.plainB = PlainOperand{"", dy.back()};
    }
    return g;
  }
  if (isa<dl::Conv2DOp>(op)) { // m = (b, oy, ox), k = (ky, kx, ci), n = co
    Conv c = convOf(op, shape(op->getOperand(0)), shape(op->getOperand(1)));
    g.m = c.n * c.oh * c.ow, g.n = c.f, g.k = c.kh * c.kw * c.c;
    g.loadA = "dlc_conv_a(" + a + ", m, k)";
    g.loadB = b + "[k * " + ll(c.f) + " + n]";
    g.plainB = PlainOperand{"", c.f};
    g.prologue = tapReader(t, "dlc_conv_a", c, plainPosition(c, "m"), "k");
    return g;
  }
  if (isa<dl::Conv2DGradKernelOp>(op)) { // m = (ky, kx, ci), k = (b, oy, ox), n = co
    Conv c = convOf(op, shape(op->getOperand(0)), shape(op->getResult(0)));
    g.m = c.kh * c.kw * c.c, g.n = c.f, g.k = c.n * c.oh * c.ow;
    g.loadA = "dlc_conv_dk_a(" + a + ", m, k)";
    g.loadB = b + "[k * " + ll(c.f) + " + n]";
    g.plainB = PlainOperand{"", c.f};
    g.prologue = tapReader(t, "dlc_conv_dk_a", c, plainPosition(c, "k"), "m");
    return g;
  }
  if (isa<dl::Conv2DGradInputOp>(op)) { // m = (b, iy, ix), k = (ky, kx, co), n = ci
    auto dx = shape(op->getResult(0)), w = shape(op->getOperand(1));
    Conv c = convOf(op, dx, w);
    g.m = c.n * c.h * c.w, g.n = c.c, g.k = c.kh * c.kw * c.f;
    g.loadA = "dlc_conv_dx_a(" + a + ", m, k)";
    g.loadB = b + "[((k / " + ll(c.f) + ") * " + ll(c.c) + " + n) * " + ll(c.f) + " + k % " + ll(c.f) + "]";
    // dy(b, oy, ox, co) where iy = oy * sh - pt + ky * dh, when oy is whole and in range.
    g.prologue = "template <typename D>\n__device__ __forceinline__ " + t.name() +
                 " dlc_conv_dx_a(D dy, long long m, long long k) {\n"
                 "  const long long ix = m % " + ll(c.w) + ", iy = (m / " + ll(c.w) + ") % " + ll(c.h) +
                 ", b = m / " + ll(c.w * c.h) + ";\n" +
                 "  const long long co = k % " + ll(c.f) + ", kx = (k / " + ll(c.f) + ") % " + ll(c.kw) +
                 ", ky = k / " + ll(c.f * c.kw) + ";\n" +
                 "  const long long ty = iy + " + ll(c.pt) + " - ky * " + ll(c.dh) + ", tx = ix + " + ll(c.pl) +
                 " - kx * " + ll(c.dw) + ";\n" +
                 "  if (ty < 0 || tx < 0 || ty % " + ll(c.sh) + " || tx % " + ll(c.sw) + ") return " +
                 t.lit("0.0") + ";\n" +
                 "  const long long oy = ty / " + ll(c.sh) + ", ox = tx / " + ll(c.sw) + ";\n" +
                 "  if (oy >= " + ll(c.oh) + " || ox >= " + ll(c.ow) + ") return " + t.lit("0.0") + ";\n" +
                 "  return dy[((b * " + ll(c.oh) + " + oy) * " + ll(c.ow) + " + ox) * " + ll(c.f) + " + co];\n}\n";
    return g;
  }
  return failure();
}

/// Whether |op| (after the product in a group) can run in the GEMM's
/// epilogue: elementwise over the product's shape, every operand either an
/// earlier value of the epilogue or a group input of that shape.
bool isEpilogueOp(const ComputeType &t, Operation *op, ArrayRef<int64_t> shape) {
  std::vector<std::string> names(op->getNumOperands(), "x");
  bool step = false;
  if (elementwiseExpression(t, op, names, &step).empty())
    return false;
  SmallVector<Value> values(op->getOperands());
  values.append(op->getResults().begin(), op->getResults().end());
  for (Value v : values) {
    auto type = cast<ShapedType>(v.getType());
    Type e = type.getElementType();
    if (type.getShape() != shape || !(e.isF32() || isSixteenBit(e)))
      return false;
  }
  return true;
}

/// The max or avg pool ending a conv2d group, when the emitter can pool it.
Operation *trailingPool(ArrayRef<Operation *> ops) {
  Operation *last = ops.back();
  if (ops.size() < 2 || !isa<dl::Conv2DOp>(ops.front()) || !poolJoinsConvolution(last))
    return nullptr;
  return last;
}

} // namespace

bool softmaxJoinsDense(Operation *softmax) {
  auto op = dyn_cast<dl::SoftmaxOp>(softmax);
  if (!op)
    return false;
  int64_t rank = cast<ShapedType>(op.getInput().getType()).getRank();
  return op.getAxis() == -1 || op.getAxis() == rank - 1;
}

bool poolJoinsConvolution(Operation *pool) {
  if (!isa<dl::MaxPool2DOp, dl::AvgPool2DOp>(pool))
    return false;
  auto size = pool->getAttrOfType<DenseI64ArrayAttr>("pool_size").asArrayRef();
  auto strides = pool->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  return size[0] * size[1] <= kTile && strides[0] <= size[0] && strides[1] <= size[1];
}

bool isGemmGroup(dl::FusedOp group) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBody().front().without_terminator())
    ops.push_back(&op);
  const ComputeType t = computeType(group);
  if (ops.empty() || failed(gemmOf(t, ops[0], "a", "b")))
    return false;
  auto shape = cast<ShapedType>(ops[0]->getResult(0).getType()).getShape();
  if (isa<dl::SoftmaxOp>(ops.back()) && ops.size() >= 2) {
    // dense, the casts between its result and the softmax, the softmax:
    // only the softmax leaves the group.
    for (size_t i = 1; i < ops.size(); ++i)
      if (ops[i]->getOperand(0) != ops[i - 1]->getResult(0) ||
          (i + 1 < ops.size() && (!isa<dl::CastOp>(ops[i]) || !isEpilogueOp(t, ops[i], shape))))
        return false;
    for (size_t i = 0; i + 1 < ops.size(); ++i)
      if (resultIndex(group, ops[i]->getResult(0)) >= 0)
        return false;
    return isa<dl::DenseOp>(ops[0]) && softmaxJoinsDense(ops.back()) &&
           cast<ShapedType>(ops.back()->getResult(0).getType()).getElementType().isF32();
  }
  Operation *pool = trailingPool(ops);
  for (size_t i = 1; i < ops.size(); ++i) {
    if (ops[i] == pool)
      continue;
    if (isa<dl::BiasGradOp>(ops[i])) {
      // Summed with float atomics: into an f32 result.
      if (i + 1 != ops.size() || !isPlainF32(group, ops[i]->getResult(0)))
        return false;
      continue;
    }
    if (!isEpilogueOp(t, ops[i], shape))
      return false;
  }
  return true;
}

LogicalResult emitGemm(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  auto argName = [](Value v) { return inputName(v); };
  Operation *anchor = ops[0];
  const ComputeType t = computeType(group);
  const std::string T = t.name(), zero = t.lit("0.0");
  FailureOr<Gemm> g = gemmOf(t, anchor, argName(anchor->getOperand(0)), argName(anchor->getOperand(1)));
  if (failed(g))
    return group.emitError("not a matrix-product group");
  // An operand read straight from an input buffer that holds its own 16-bit
  // type may be copied as stored (the tensor cores' cp.async).
  auto asStored = [&](std::optional<PlainOperand> &plain, Value v) {
    if (!plain)
      return;
    auto arg = dyn_cast<BlockArgument>(v);
    Type value = getElementTypeOrSelf(v.getType());
    if (!arg || !isSixteenBit(value) || getElementTypeOrSelf(inputStorage(group, arg.getArgNumber())) != value)
      plain.reset();
    else
      plain->pointer = inputName(v) + "_raw";
  };
  asStored(g->plainA, anchor->getOperand(0));
  asStored(g->plainB, anchor->getOperand(1));
  bool hasBias = (isa<dl::DenseOp, dl::Conv2DOp>(anchor)) && anchor->getNumOperands() == 3;
  auto resultIndex = [&](Value v) { return cuda::resultIndex(group, v); };
  auto outOf = [&](Value v) { return resultName(group, v); };
  bool softmax = ops.size() >= 2 && isa<dl::SoftmaxOp>(ops.back());
  Operation *pool = softmax ? nullptr : trailingPool(ops);
  Type productType = anchor->getResult(0).getType();
  std::string N = ll(g->n);

  // The epilogue: v is the product at (m, n), element pos * N + n of every
  // tensor of the product's shape; each later op is a register.
  std::string epilogue;
  if (hasBias)
    epilogue += "          v += " + argName(anchor->getOperand(2)) + "[n];\n";
  const std::optional<TensorCoreOperands> tensorCores = tensorCoreOperands(t, anchor);
  const bool biasGrad = llvm::any_of(ops, [](Operation *op) { return isa<dl::BiasGradOp>(op); });
  const bool ordered = orderedSums(group);
  // A product with few output tiles and a long K (kernel gradients: K runs
  // over the batch and every output position; the VGG16 head's 25,088
  // inputs) splits K over grid.z. A lone f32 product adds each split's
  // partial sums to its zeroed result with atomics. Any other (a bias, an
  // epilogue, a pool, a 16-bit result, --deterministic) splits serially:
  // each split stores its partial tile in scratch, and the last split of a
  // tile to finish (a ticket per tile) adds the parts in split order, then
  // runs the epilogue once, so its sums are ordered too.
  bool f32Result = resultIndex(anchor->getResult(0)) == 0 && isPlainF32(group, anchor->getResult(0));
  const bool atomicSplit = ops.size() == 1 && !hasBias && f32Result && !ordered;
  auto splitsOf = [&](int64_t tiles) -> int64_t {
    if (!softmax && tiles < kSplitBelowTiles && g->k >= 2 * kSplitChunk)
      return std::min(g->k / kSplitChunk, (kSplitBelowTiles * 2 + tiles - 1) / tiles);
    return 1;
  };
  // A pool and a softmax take 64x64 tiles only, and so does the tensor-core
  // loop with an ordered bias gradient or a split K (summed or stored per
  // thread; its larger tiles' epilogue runs per warp; only a forced tiling
  // meets a split, a chosen one has too many tiles to split).
  FailureOr<Tiling> tiling = chooseTiling(group, g->m, g->n, [&](const Tiling &larger) {
    return !softmax && !pool &&
           !(tensorCores && ((biasGrad && ordered) || splitsOf(larger.tiles(g->m, g->n)) > 1));
  });
  if (failed(tiling))
    return failure();
  const Tiling tl = *tiling;
  const bool warpEpilogue = tensorCores && tl.rows != kTile;
  const int64_t tiles = tl.tiles(g->m, g->n), splits = splitsOf(tiles);
  const std::string RM = std::to_string(tl.threadRows()), RN = std::to_string(tl.threadColumns()),
                    TM = std::to_string(tl.rows), TN = std::to_string(tl.columns);
  const bool serialSplit = splits > 1 && !atomicSplit;
  // A 16-bit product is rounded in registers as storing it would round it,
  // before the epilogue reads it.
  if ((splits == 1 || serialSplit) && isSixteenBit(productType))
    epilogue += "          v = " + roundedTo(productType, "v") + ";\n";
  if (softmax) // the casts between the product and the softmax
    for (size_t i = 1; i + 1 < ops.size(); ++i) {
      std::vector<std::string> operands = {"v"};
      bool step = false;
      epilogue += "          v = " +
                  roundedTo(ops[i]->getResult(0).getType(), elementwiseExpression(t, ops[i], operands, &step)) +
                  ";\n";
    }
  int64_t chunk = ((g->k + splits - 1) / splits + kStep - 1) / kStep * kStep;
  if (splits > 1 && atomicSplit)
    kernel.zeroedOutputs.push_back(0);
  if (std::string out = outOf(anchor->getResult(0)); !out.empty() && !softmax)
    epilogue += splits > 1 && atomicSplit ? "          atomicAdd(&" + out + "[pos * " + N + " + n], v);\n"
                           : "          " + out + "[pos * " + N + " + n] = v;\n";
  DenseMap<Value, std::string> names;
  names[anchor->getResult(0)] = "v";
  std::string columnSum, summed; // a bias_grad: its result, and what it sums
  bool storesBeforePool = resultIndex(anchor->getResult(0)) >= 0;
  for (size_t i = 1; i < ops.size() && !softmax; ++i) {
    Operation *op = ops[i];
    if (op == pool)
      continue;
    if (auto bias = dyn_cast<dl::BiasGradOp>(op)) {
      columnSum = outOf(bias.getResult());
      summed = names.lookup(bias.getDy());
      if (!ordered)
        kernel.zeroedOutputs.push_back(resultIndex(bias.getResult()));
      continue;
    }
    std::vector<std::string> operands;
    for (Value v : op->getOperands())
      operands.push_back(isa<BlockArgument>(v) ? argName(v) + "[pos * " + N + " + n]"
                                               : names.lookup(v));
    std::string name = "e" + std::to_string(i);
    epilogue += "          const " + T + " " + name + " = " +
                roundedTo(op->getResult(0).getType(),
                          elementwiseExpression(t, op, operands, &kernel.takesStep, "pos * " + N + " + n")) +
                ";\n";
    names[op->getResult(0)] = name;
    if (std::string out = outOf(op->getResult(0)); !out.empty()) {
      epilogue += "          " + out + "[pos * " + N + " + n] = " + name + ";\n";
      storesBeforePool = true;
    }
  }
  // A bias gradient: each block sums its tile's columns in shared memory;
  // under --deterministic each thread sums its rows in order, the 16 row
  // threads of a column add in order, and each row tile's sums are a row of
  // an OrderedSumTable.
  if (!columnSum.empty())
    epilogue += ordered ? "          columnParts[j] += " + summed + ";\n"
                        : "          atomicAdd(&columnSum[n - colBase], " + summed + ");\n";

  // Rows: plain, or pooled (see rowDecoder) with R whole windows per tile.
  int64_t rows = g->m, tileRows = tl.rows, windowBlocks = 0, taps = 1, windows = 0, rowBlocks = 0;
  std::string prologue = g->prologue;
  if (pool) {
    auto x = cast<ShapedType>(anchor->getOperand(0).getType()).getShape();
    auto w = cast<ShapedType>(anchor->getOperand(1).getType()).getShape();
    Conv c = convOf(anchor, x, w);
    auto size = pool->getAttrOfType<DenseI64ArrayAttr>("pool_size").asArrayRef();
    auto strides = pool->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
    bool same = cast<dl::PaddingAttr>(pool->getAttr("padding")).getValue() == dl::Padding::same;
    WindowAxis ay = windowAxis(c.oh, size[0], strides[0], 1, same);
    WindowAxis ax = windowAxis(c.ow, size[1], strides[1], 1, same);
    PoolWindow p{size[0], size[1], strides[0], strides[1], ay.padBefore, ax.padBefore, ay.out, ax.out};
    int64_t coveredH = std::min(c.oh, (p.poh - 1) * p.sh - p.pt + p.ph);
    int64_t coveredW = std::min(c.ow, (p.pow - 1) * p.sw - p.pl + p.pw);
    taps = p.taps();
    windows = c.n * p.poh * p.pow;
    tileRows = kTile / taps * taps;
    windowBlocks = (windows + kTile / taps - 1) / (kTile / taps);
    rows = windows * taps;
    int64_t tailBlocks = 0;
    if (storesBeforePool) {
      int64_t tail = c.n * (c.oh * c.ow - coveredH * coveredW);
      rows += tail;
      tailBlocks = (tail + kTile - 1) / kTile;
    }
    prologue = rowDecoder(c, p, coveredH, coveredW) +
               tapReader(t, "dlc_conv_a", c,
                         "  long long b, oy, ox;\n  if (!dlc_row(m, b, oy, ox)) return " + zero + ";\n", "k");
    rowBlocks = windowBlocks + tailBlocks;
  } else {
    rowBlocks = (g->m + tl.rows - 1) / tl.rows;
  }
  // Row and column tiles share grid.x (row-major over tiles): grid.y and
  // grid.z stop at 65,535 blocks, which a large batch's rows pass.
  int64_t columnBlocks = (g->n + tl.columns - 1) / tl.columns;
  kernel.grid = {columnBlocks * rowBlocks, 1, splits};
  kernel.globalAtomics = (splits > 1 && atomicSplit ? g->m * g->n * splits : 0) +
                         (columnSum.empty() || ordered ? 0 : kernel.grid[0] * tl.columns);
  std::optional<OrderedSumTable> table;
  if (!columnSum.empty() && ordered) {
    table = OrderedSumTable{0, rowBlocks, {{columnSum, g->n}}};
    kernel.scratchBytes = table->scratchElements() * t.bytes();
    kernel.zeroedScratch = true;
  }
  // Serial split-K's scratch, after the table: a tile-sized part per tile and
  // split (value-major over the 256 threads: coalesced), then a ticket per
  // tile.
  const int64_t splitParts = table ? table->scratchElements() : 0;
  const int64_t tileOutputs = tl.rows * tl.columns;
  const int64_t splitTickets = splitParts + kernel.grid[0] * splits * tileOutputs;
  if (serialSplit) {
    kernel.scratchBytes = (splitTickets + kernel.grid[0]) * t.bytes();
    kernel.zeroedScratch = true;
  }
  if (softmax) { // each row's (max, sum) per column tile, then a ticket per row tile
    kernel.scratchBytes = (rowBlocks * columnBlocks * kTile * 2 + rowBlocks) * t.bytes();
    kernel.zeroedScratch = true;
  }
  kernel.block = {kThreads, 1, 1};
  kernel.tensorCores = tensorCores ? tensorCores->unit : TensorCores::kNone;
  if (tl.efficiency > 0 && !tensorCores)
    kernel.efficiency = tl.efficiency;
  // 16x16 WMMA fragments per warp and k-step from double-buffered tiles
  // (cp.async where operands are read as stored): still far from the rate
  // of Hopper's asynchronous warpgroup products (wgmma). Unchanged by the
  // double buffering until a GPU measures it.
  if (tensorCores)
    kernel.efficiency = warpEpilogue ? tl.tensorCoreEfficiency : 0.1;
  else if (readsTf32(anchor)) // only the tensor-core loop rounds to TF32
    return group.emitError("a TF32 product in a kernel computing in ") << T << " (not f32)";
  kernel.sharedBytes = ((columnSum.empty() ? 0 : table ? 16 * (tl.columns + 1) + 1 : tl.columns) +
                        (pool ? kTile * (kTile + 1) : 0) + (softmax ? 2 * kTile + 1 : 0)) * t.bytes() +
                       (!tensorCores ? 2 * kStep * (tl.rows + 4 + tl.columns + 4) * t.bytes() // two buffers of As, Bs
                                     : tensorCoreSharedBytes(*tensorCores, tl, warpEpilogue));
  auto loop = [&] {
    return !tensorCores ? mainLoop(t, *g, tl) : tensorCoreLoop(t, *g, *tensorCores, tl) + tensorCoreSums(tl);
  };

  std::string s = header(group, kernel);
  // NVRTC's; the emulation brings its own (runtime/cuda_sim/cuda_sim_wmma.h,
  // the pipeline primitives in cuda_sim.h).
  if (tensorCores)
    s += "#if defined(__CUDACC__)\n#include <mma.h>\n#include <cuda_pipeline_primitives.h>\n#endif\n";
  s += prologue;
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, kernel.takesStep, true, kernel.scratchBytes ? T : "") + ") {\n";
  s += "  const long long M = " + ll(rows) + ", N = " + N + ", K = " + ll(g->k) + ";\n";
  if (splits > 1)
    s += "  const long long kBegin = (long long)blockIdx.z * " + ll(chunk) +
         ", kEnd = kBegin + " + ll(chunk) + " < K ? kBegin + " + ll(chunk) + " : K;\n";
  else
    s += "  const long long kBegin = 0, kEnd = K;\n";
  s += "  const long long rowBlock = (long long)blockIdx.x / " + ll(columnBlocks) +
       ", columnBlock = (long long)blockIdx.x % " + ll(columnBlocks) + ";\n";
  if (!tensorCores)
    s += "  __shared__ __align__(16) " + T + " As[2][16][" + TM + " + 4];\n  __shared__ __align__(16) " + T +
         " Bs[2][16][" + TN + " + 4];\n";
  else
    s += tensorCoreShared(*tensorCores, tl, warpEpilogue);
  if (!warpEpilogue)
    s += "  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;\n  " + T + " acc[" + RM + "][" + RN + "];\n";
  if (table)
    s += "  __shared__ " + T + " rowThreadSums[16][" + TN + " + 1];\n  " + T + " columnParts[" + RN + "];\n"
         "  for (int j = 0; j < " + RN + "; ++j)\n    columnParts[j] = " + zero + ";\n";
  else if (!columnSum.empty())
    s += "  __shared__ " + T + " columnSum[" + TN + "];\n  if (threadIdx.x < " + TN + ")\n    columnSum[threadIdx.x] = " +
         zero + ";\n";
  if (pool) {
    s += "  __shared__ " + T + " pooled[64][64 + 1];\n"
         "  const bool windowBlock = rowBlock < " + ll(windowBlocks) + ";\n"
         "  const long long rowBase = windowBlock ? rowBlock * " + ll(tileRows) +
         " : " + ll(windows * taps) + " + (rowBlock - " + ll(windowBlocks) + ") * 64;\n"
         "  const long long rowEnd = windowBlock ? (rowBase + " + ll(tileRows) + " < " +
         ll(windows * taps) + " ? rowBase + " + ll(tileRows) + " : " + ll(windows * taps) +
         ") : (rowBase + 64 < M ? rowBase + 64 : M);\n";
  } else {
    s += "  const long long rowBase = rowBlock * " + TM + ";\n"
         "  const long long rowEnd = rowBase + " + TM + " < M ? rowBase + " + TM + " : M;\n";
  }

  if (softmax) {
    // A block per 64x64 tile, as without the softmax: it stores its logits
    // and each of its rows' max and sum of exponentials over its 64 columns
    // (the 16 threads of a row are 16 consecutive lanes: shuffles reduce
    // them) in scratch. The last block of a row tile to finish (a ticket
    // per row tile) combines the column tiles' max and sum in column order
    // and normalises the 64 rows.
    std::string out = outOf(ops.back()->getResult(0));
    const std::string fmax = t.fn("fmax"), exp = t.fn("exp");
    const int64_t stats = rowBlocks * columnBlocks * kTile * 2; // (max, sum) per row and tile
    s += "  {\n    const long long colBase = columnBlock * 64;\n" + loop() +
         "    for (int i = 0; i < 4; ++i) {\n      const long long m = rowBase + ty * 4 + i;\n"
         "      " + T + " tileMax = " + t.negInfinity() + ";\n"
         "      for (int j = 0; j < 4; ++j) {\n        const long long n = colBase + tx * 4 + j;\n"
         "        if (n < N) {\n          " + T + " v = acc[i][j];\n" + epilogue +
         "          acc[i][j] = v;\n          tileMax = " + fmax + "(tileMax, v);\n"
         "          if (m < rowEnd)\n            " + out + "[m * N + n] = v;\n        }\n      }\n"
         "      for (int o = 8; o > 0; o /= 2)\n"
         "        tileMax = " + fmax + "(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, o));\n"
         "      " + T + " tileSum = " + zero + ";\n"
         "      for (int j = 0; j < 4; ++j)\n        if (colBase + tx * 4 + j < N)\n"
         "          tileSum += " + exp + "(acc[i][j] - tileMax);\n"
         "      for (int o = 8; o > 0; o /= 2)\n"
         "        tileSum += __shfl_xor_sync(0xffffffffu, tileSum, o);\n"
         "      if (tx == 0) {\n"
         "        " + T + " *const stat = scratch + ((rowBlock * " + ll(columnBlocks) +
         " + columnBlock) * 64 + ty * 4 + i) * 2;\n"
         "        stat[0] = tileMax;\n        stat[1] = tileSum;\n      }\n    }\n  }\n" +
         takeTicket("(unsigned *)(scratch + " + ll(stats) + ") + rowBlock", columnBlocks) +
         "  if (!lastBlock)\n    return;\n  __threadfence();\n"
         "  __shared__ " + T + " rowMax[64], rowSum[64];\n"
         "  if (threadIdx.x < 64) {\n"
         "    const volatile " + T + " *stat = scratch + rowBlock * " + ll(columnBlocks * kTile * 2) +
         " + threadIdx.x * 2;\n"
         "    " + T + " top = " + t.negInfinity() + ", sum = " + zero + ";\n"
         "    for (long long c = 0; c < " + ll(columnBlocks) + "; ++c)\n"
         "      top = " + fmax + "(top, stat[c * 128]);\n"
         "    for (long long c = 0; c < " + ll(columnBlocks) + "; ++c)\n"
         "      sum += stat[c * 128 + 1] * " + exp + "(stat[c * 128] - top);\n"
         "    rowMax[threadIdx.x] = top;\n    rowSum[threadIdx.x] = sum;\n  }\n  __syncthreads();\n"
         "  for (long long e = threadIdx.x; e < 64 * N; e += 256) {\n"
         "    const long long r = e / N, m = rowBase + r, n = e % N;\n"
         "    if (m < rowEnd)\n"
         "      " + out + "[m * N + n] = " + exp + "(" + out + "[m * N + n] - rowMax[r]) / rowSum[r];\n"
         "  }\n}\n";
    kernel.source = std::move(s);
    return success();
  }

  // The block's column sums of a bias gradient into its result.
  auto addColumnSums = [&] {
    return "    __syncthreads();\n    if (threadIdx.x < " + TN + " && colBase + threadIdx.x < N)\n"
           "      atomicAdd(&" + columnSum + "[colBase + threadIdx.x], columnSum[threadIdx.x]);\n";
  };
  if (warpEpilogue) {
    s += "  {\n    const long long colBase = columnBlock * " + TN + ";\n" +
         tensorCoreLoop(t, *g, *tensorCores, tl) + tensorCoreWarpEpilogue(t, tl, epilogue) +
         (columnSum.empty() ? "" : addColumnSums()) +
         "  }\n}\n";
    kernel.source = std::move(s);
    return success();
  }
  s += "  {\n    const long long colBase = columnBlock * " + TN + ";\n" + loop();
  if (serialSplit)
    s += "    // This split's part of the tile, then the last split's sum of the\n"
         "    // parts in split order.\n"
         "    " + T + " *const part = scratch + " + ll(splitParts) + " + ((long long)blockIdx.x * " + ll(splits) +
         " + blockIdx.z) * " + std::to_string(tileOutputs) + " + threadIdx.x;\n"
         "    for (int i = 0; i < " + RM + "; ++i)\n      for (int j = 0; j < " + RN + "; ++j)\n"
         "        part[(i * " + RN + " + j) * 256] = acc[i][j];\n" +
         takeTicket("(unsigned *)(scratch + " + ll(splitTickets) + ") + blockIdx.x", splits) +
         "    if (!lastBlock)\n      return;\n    __threadfence();\n"
         "    const volatile " + T + " *const parts = scratch + " + ll(splitParts) +
         " + (long long)blockIdx.x * " + ll(splits * tileOutputs) + " + threadIdx.x;\n"
         "    for (int i = 0; i < " + RM + "; ++i)\n      for (int j = 0; j < " + RN + "; ++j) {\n"
         "        " + T + " sum = " + zero + ";\n"
         "        for (long long z = 0; z < " + ll(splits) + "; ++z)\n"
         "          sum += parts[z * " + std::to_string(tileOutputs) + " + (i * " + RN + " + j) * 256];\n"
         "        acc[i][j] = sum;\n      }\n";
  std::string poolIn = pool ? names.lookup(pool->getOperand(0)) : "";
  s += "    for (int i = 0; i < " + RM + "; ++i)\n      for (int j = 0; j < " + RN + "; ++j) {\n"
       "        const long long m = rowBase + ty * " + RM + " + i, n = colBase + tx * " + RN + " + j;\n";
  if (pool)
    s += "        " + T + " poolIn = " + t.negInfinity() + ";\n"
         "        long long b, oy, ox;\n"
         "        const bool inside = m < rowEnd && dlc_row(m, b, oy, ox);\n"
         "        if (inside && n < N) {\n"
         "          const long long pos = (b * " + ll(cast<ShapedType>(anchor->getResult(0).getType()).getDimSize(1)) +
         " + oy) * " + ll(cast<ShapedType>(anchor->getResult(0).getType()).getDimSize(2)) + " + ox;\n"
         "          " + T + " v = acc[i][j];\n" + epilogue + "          poolIn = " + poolIn + ";\n        }\n"
         "        pooled[ty * 4 + i][tx * 4 + j] = poolIn;\n      }\n";
  else
    s += "        if (m < rowEnd && n < N) {\n          const long long pos = m;\n"
         "          " + T + " v = acc[i][j];\n" + epilogue + "        }\n      }\n";
  if (table)
    s += "    for (int j = 0; j < " + RN + "; ++j)\n      rowThreadSums[ty][tx * " + RN + " + j] = columnParts[j];\n"
         "    __syncthreads();\n    if (threadIdx.x < " + TN + " && colBase + threadIdx.x < N) {\n"
         "      " + T + " sum = " + zero + ";\n      for (int r = 0; r < 16; ++r)\n"
         "        sum += rowThreadSums[r][threadIdx.x];\n"
         "      scratch[rowBlock * N + colBase + threadIdx.x] = sum;\n    }\n";
  else if (!columnSum.empty())
    s += addColumnSums();
  if (pool) {
    // Whole windows are in this tile: reduce each over its taps in shared
    // memory (taps in padding excluded, as the reference does).
    bool isMax = isa<dl::MaxPool2DOp>(pool);
    std::string out = outOf(pool->getResult(0));
    s += "    if (windowBlock) {\n      __syncthreads();\n"
         "      for (int e = threadIdx.x; e < " + std::to_string(kTile / taps * kTile) + "; e += 256) {\n"
         "        const int w = e / 64, c = e % 64;\n"
         "        const long long window = rowBlock * " + ll(kTile / taps) + " + w, n = colBase + c;\n"
         "        if (window >= " + ll(windows) + " || n >= N)\n          continue;\n"
         "        " + T + " r = " + (isMax ? t.negInfinity() : zero) + ";\n        int count = 0;\n"
         "        for (int t = 0; t < " + std::to_string(taps) + "; ++t) {\n"
         "          long long b, oy, ox;\n"
         "          if (!dlc_row(window * " + ll(taps) + " + t, b, oy, ox))\n            continue;\n"
         "          const " + T + " v = pooled[w * " + std::to_string(taps) + " + t][c];\n"
         "          r = " + (isMax ? t.fn("fmax") + "(r, v)" : "r + v") + ";\n          ++count;\n        }\n"
         "        " + out + "[window * N + n] = " +
         (isMax ? "r" : "count ? r / " + t.cast("count") + " : " + zero) + ";\n"
         "      }\n    }\n";
  }
  s += "  }\n";
  if (table)
    s += table->finish(t, kernel.grid[0]);
  s += "}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
