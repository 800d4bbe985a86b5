//===- EmitGemm.cpp - Matrix-product kernel groups ------------------------===//
//
// dense, conv2d and their gradients are all C[M,N] = A[M,K] · B[K,N] with
// operands read through an index map (convolutions as implicit GEMM: no
// im2col buffer) and an epilogue per output (bias, activation, softmax over
// a row that fits one tile). One tiling for all: 64x64 output tiles, K in
// steps of 16 through shared memory, 256 threads each holding a 4x4 block of
// accumulators strided by 16 so that loads and stores are coalesced.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"
#include "compiler/Reference/Kernels.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace dlc::cuda {
namespace {

constexpr int64_t kTile = 64, kStep = 16, kThreads = 256;

struct Gemm {
  int64_t m = 0, n = 0, k = 0;
  std::string loadA, loadB; // expressions of (m, k) and (k, n); may read in<i>
  std::string prologue;     // index helpers
};

std::string ll(int64_t v) { return std::to_string(v) + "ll"; }

/// The convolution's geometry with TF padding, as every backend computes it.
struct Conv {
  int64_t n, h, w, c, kh, kw, f, oh, ow, sh, sw, dh, dw, pt, pl;
};

Conv convOf(Operation *op, ArrayRef<int64_t> x, ArrayRef<int64_t> kernel) {
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  auto dilation = op->getAttrOfType<DenseI64ArrayAttr>("dilation").asArrayRef();
  bool same = cast<dl::PaddingAttr>(op->getAttr("padding")).getValue() == dl::Padding::same;
  ref::WindowAxis ay = ref::windowAxis(x[1], kernel[0], strides[0], dilation[0], same);
  ref::WindowAxis ax = ref::windowAxis(x[2], kernel[1], strides[1], dilation[1], same);
  return Conv{x[0], x[1], x[2], x[3], kernel[0], kernel[1], kernel[3], ay.out, ax.out,
              strides[0], strides[1], dilation[0], dilation[1], ay.padBefore, ax.padBefore};
}

/// Reads input pixel (b, iy, ix, ci) of the convolution or 0 outside it.
std::string pixel(const std::string &buffer, const Conv &c, const std::string &b,
                  const std::string &iy, const std::string &ix, const std::string &ci) {
  return "((" + iy + ") >= 0 && (" + iy + ") < " + ll(c.h) + " && (" + ix + ") >= 0 && (" + ix +
         ") < " + ll(c.w) + " ? " + buffer + "[(((" + b + ") * " + ll(c.h) + " + (" + iy +
         ")) * " + ll(c.w) + " + (" + ix + ")) * " + ll(c.c) + " + (" + ci + ")] : 0.0f)";
}

/// A device function |name|(x, m, k) reading the input pixel that the output
/// position encoded in |position| ("m" or "k": (b, oy, ox)) sees through the
/// tap encoded in |tap| ((ky, kx, ci)): the convolution's A operand, and with
/// the roles swapped that of its kernel gradient.
std::string tapReader(const std::string &name, const Conv &c, const std::string &position,
                      const std::string &tap) {
  return "__device__ __forceinline__ float " + name +
         "(const float *x, long long m, long long k) {\n"
         "  const long long ox = " + position + " % " + ll(c.ow) + ", oy = (" + position + " / " +
         ll(c.ow) + ") % " + ll(c.oh) + ", b = " + position + " / " + ll(c.ow * c.oh) + ";\n" +
         "  const long long ci = " + tap + " % " + ll(c.c) + ", kx = (" + tap + " / " + ll(c.c) +
         ") % " + ll(c.kw) + ", ky = " + tap + " / " + ll(c.c * c.kw) + ";\n" +
         "  return " + pixel("x", c, "b", "oy * " + ll(c.sh) + " - " + ll(c.pt) + " + ky * " + ll(c.dh),
                             "ox * " + ll(c.sw) + " - " + ll(c.pl) + " + kx * " + ll(c.dw), "ci") +
         ";\n}\n";
}

/// The product behind |op| with its operands at block arguments |a| and |b|.
FailureOr<Gemm> gemmOf(Operation *op, const std::string &a, const std::string &b) {
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  Gemm g;
  StringRef kind = op->getName().stripDialect();
  if (kind == "dense" || kind == "dense_grad_input" || kind == "dense_grad_kernel") {
    auto x = shape(op->getOperand(0)), w = shape(op->getOperand(1));
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < x.size(); ++i)
      rows *= x[i];
    if (kind == "dense") { // y[M,N] = x[M,K] w[K,N]
      g = {rows, w[1], w[0], a + "[m * " + ll(w[0]) + " + k]", b + "[k * " + ll(w[1]) + " + n]", ""};
    } else if (kind == "dense_grad_input") { // dx[M,Kin] = dy[M,N] w[Kin,N]^T
      g = {rows, w[0], w[1], a + "[m * " + ll(w[1]) + " + k]", b + "[n * " + ll(w[1]) + " + k]", ""};
    } else { // dw[Kin,N] = x[B,Kin]^T dy[B,N]
      auto dy = shape(op->getOperand(1));
      g = {x.back(), dy.back(), rows, a + "[k * " + ll(x.back()) + " + m]",
           b + "[k * " + ll(dy.back()) + " + n]", ""};
    }
    return g;
  }
  if (kind == "conv2d") { // m = (b, oy, ox), k = (ky, kx, ci), n = co
    Conv c = convOf(op, shape(op->getOperand(0)), shape(op->getOperand(1)));
    g.m = c.n * c.oh * c.ow, g.n = c.f, g.k = c.kh * c.kw * c.c;
    g.loadA = "dlc_conv_a(" + a + ", m, k)";
    g.loadB = b + "[k * " + ll(c.f) + " + n]";
    g.prologue = tapReader("dlc_conv_a", c, "m", "k");
    return g;
  }
  if (kind == "conv2d_grad_kernel") { // m = (ky, kx, ci), k = (b, oy, ox), n = co
    Conv c = convOf(op, shape(op->getOperand(0)), shape(op->getResult(0)));
    g.m = c.kh * c.kw * c.c, g.n = c.f, g.k = c.n * c.oh * c.ow;
    g.loadA = "dlc_conv_dk_a(" + a + ", m, k)";
    g.loadB = b + "[k * " + ll(c.f) + " + n]";
    g.prologue = tapReader("dlc_conv_dk_a", c, "k", "m");
    return g;
  }
  if (kind == "conv2d_grad_input") { // m = (b, iy, ix), k = (ky, kx, co), n = ci
    auto dx = shape(op->getResult(0)), w = shape(op->getOperand(1));
    Conv c = convOf(op, dx, w);
    g.m = c.n * c.h * c.w, g.n = c.c, g.k = c.kh * c.kw * c.f;
    g.loadA = "dlc_conv_dx_a(" + a + ", m, k)";
    g.loadB = b + "[((k / " + ll(c.f) + ") * " + ll(c.c) + " + n) * " + ll(c.f) + " + k % " + ll(c.f) + "]";
    // dy(b, oy, ox, co) where iy = oy * sh - pt + ky * dh, when oy is whole and in range.
    g.prologue = "__device__ __forceinline__ float dlc_conv_dx_a(const float *dy, long long m, long long k) {\n"
                 "  const long long ix = m % " + ll(c.w) + ", iy = (m / " + ll(c.w) + ") % " + ll(c.h) +
                 ", b = m / " + ll(c.w * c.h) + ";\n" +
                 "  const long long co = k % " + ll(c.f) + ", kx = (k / " + ll(c.f) + ") % " + ll(c.kw) +
                 ", ky = k / " + ll(c.f * c.kw) + ";\n" +
                 "  const long long ty = iy + " + ll(c.pt) + " - ky * " + ll(c.dh) + ", tx = ix + " + ll(c.pl) +
                 " - kx * " + ll(c.dw) + ";\n" +
                 "  if (ty < 0 || tx < 0 || ty % " + ll(c.sh) + " || tx % " + ll(c.sw) + ") return 0.0f;\n" +
                 "  const long long oy = ty / " + ll(c.sh) + ", ox = tx / " + ll(c.sw) + ";\n" +
                 "  if (oy >= " + ll(c.oh) + " || ox >= " + ll(c.ow) + ") return 0.0f;\n" +
                 "  return dy[((b * " + ll(c.oh) + " + oy) * " + ll(c.ow) + " + ox) * " + ll(c.f) + " + co];\n}\n";
    return g;
  }
  return failure();
}

/// Whether |op| (after the product in a group) can run in the GEMM's
/// epilogue: elementwise over the product's shape, every operand either an
/// earlier value of the epilogue or a group input of that shape.
bool isEpilogueOp(Operation *op, ArrayRef<int64_t> shape) {
  std::vector<std::string> names(op->getNumOperands(), "x");
  bool step = false;
  if (elementwiseExpression(op, names, &step).empty() || step)
    return false;
  SmallVector<Value> values(op->getOperands());
  values.append(op->getResults().begin(), op->getResults().end());
  for (Value v : values) {
    auto t = cast<ShapedType>(v.getType());
    if (t.getShape() != shape || !t.getElementType().isF32())
      return false;
  }
  return true;
}

} // namespace

bool isGemmGroup(dl::FusedOp group) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBody().front().without_terminator())
    ops.push_back(&op);
  if (ops.empty() || failed(gemmOf(ops[0], "a", "b")))
    return false;
  auto shape = cast<ShapedType>(ops[0]->getResult(0).getType()).getShape();
  if (ops.size() == 2 && isa<dl::SoftmaxOp>(ops[1]))
    return isa<dl::DenseOp>(ops[0]) && ops[1]->getOperand(0) == ops[0]->getResult(0) &&
           shape.back() <= kTile;
  for (size_t i = 1; i < ops.size(); ++i) {
    if (isa<dl::BiasGradOp>(ops[i])) {
      if (i + 1 != ops.size())
        return false;
      continue;
    }
    if (!isEpilogueOp(ops[i], shape))
      return false;
  }
  return true;
}

LogicalResult emitGemm(dl::FusedOp group, CudaKernel &kernel) {
  Block &body = group.getBody().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  auto argName = [&](Value v) {
    return "in" + std::to_string(cast<BlockArgument>(v).getArgNumber());
  };
  Operation *anchor = ops[0];
  FailureOr<Gemm> g = gemmOf(anchor, argName(anchor->getOperand(0)), argName(anchor->getOperand(1)));
  if (failed(g))
    return group.emitError("not a matrix-product group");
  bool hasBias = (isa<dl::DenseOp, dl::Conv2DOp>(anchor)) && anchor->getNumOperands() == 3;
  auto yield = cast<dl::YieldOp>(body.getTerminator());
  auto outOf = [&](Value v) -> std::string {
    for (auto [i, y] : llvm::enumerate(yield.getValues()))
      if (y == v)
        return "out" + std::to_string(i);
    return "";
  };
  auto resultIndex = [&](Value v) {
    for (auto [i, y] : llvm::enumerate(yield.getValues()))
      if (y == v)
        return int(i);
    return -1;
  };
  // The epilogue: v is the product at (m, n); each later op a register.
  std::string epilogue;
  if (hasBias)
    epilogue += "        v += " + argName(anchor->getOperand(2)) + "[n];\n";
  if (std::string out = outOf(anchor->getResult(0)); !out.empty())
    epilogue += "        " + out + "[m * " + ll(g->n) + " + n] = v;\n";
  bool softmax = ops.size() == 2 && isa<dl::SoftmaxOp>(ops[1]);
  DenseMap<Value, std::string> names;
  names[anchor->getResult(0)] = "v";
  std::string columnSum; // the bias_grad result, summed over m per n
  std::string summed;
  for (size_t i = 1; i < ops.size() && !softmax; ++i) {
    Operation *op = ops[i];
    if (auto bias = dyn_cast<dl::BiasGradOp>(op)) {
      columnSum = outOf(bias.getResult());
      summed = names.lookup(bias.getDy());
      kernel.zeroedOutputs.push_back(resultIndex(bias.getResult()));
      continue;
    }
    std::vector<std::string> operands;
    for (Value v : op->getOperands())
      operands.push_back(isa<BlockArgument>(v) ? argName(v) + "[m * " + ll(g->n) + " + n]"
                                               : names.lookup(v));
    bool step = false;
    std::string name = "e" + std::to_string(i);
    epilogue += "        const float " + name + " = " + elementwiseExpression(op, operands, &step) + ";\n";
    names[op->getResult(0)] = name;
    if (std::string out = outOf(op->getResult(0)); !out.empty())
      epilogue += "        " + out + "[m * " + ll(g->n) + " + n] = " + name + ";\n";
  }
  if (!columnSum.empty())
    epilogue += "        atomicAdd(&columnSum[tx + 16 * j], " + summed + ");\n";

  kernel.block = {kThreads, 1, 1};
  kernel.grid = {(g->n + kTile - 1) / kTile, (g->m + kTile - 1) / kTile, 1};
  kernel.sharedBytes = 2 * kStep * (kTile + 4) * 4;
  if (!columnSum.empty())
    kernel.sharedBytes += kTile * 4;
  std::string s = header(group, kernel) + g->prologue;
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false) + ") {\n";
  s += "  const long long M = " + ll(g->m) + ", N = " + ll(g->n) + ", K = " + ll(g->k) + ";\n";
  if (!columnSum.empty())
    s += "  __shared__ float columnSum[64];\n  if (threadIdx.x < 64)\n    columnSum[threadIdx.x] = 0.0f;\n";
  s += R"(  __shared__ float As[16][64 + 4];
  __shared__ float Bs[16][64 + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const long long rowBase = (long long)blockIdx.y * 64, colBase = (long long)blockIdx.x * 64;
  float acc[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      acc[i][j] = 0.0f;
  for (long long k0 = 0; k0 < K; k0 += 16) {
    for (int t = threadIdx.x; t < 64 * 16; t += 256) {
      {
        const int r = t / 16, kk = t % 16;
        const long long m = rowBase + r, k = k0 + kk;
        As[kk][r] = m < M && k < K ? )" + g->loadA + R"( : 0.0f;
      }
      {
        const int kb = t / 64, c = t % 64;
        const long long k = k0 + kb, n = colBase + c;
        Bs[kb][c] = k < K && n < N ? )" + g->loadB + R"( : 0.0f;
      }
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        a[i] = As[kk][ty + 16 * i];
        b[i] = Bs[kk][tx + 16 * i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
)";
  if (!softmax) {
    s += R"(  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const long long m = rowBase + ty + 16 * i, n = colBase + tx + 16 * j;
      if (m < M && n < N) {
        float v = acc[i][j];
)" + epilogue + "      }\n    }\n";
    if (!columnSum.empty())
      s += "  __syncthreads();\n  if (threadIdx.x < 64 && colBase + threadIdx.x < N)\n"
           "    atomicAdd(&" + columnSum + "[colBase + threadIdx.x], columnSum[threadIdx.x]);\n";
    s += "}\n";
  } else {
    // The whole row is in this block (N <= 64): the 16 threads sharing ty
    // (16 consecutive lanes) reduce its max and sum with shuffles.
    std::string out = outOf(ops[1]->getResult(0));
    std::string biasLine = hasBias ? "      v += " + argName(anchor->getOperand(2)) + "[n];\n" : "";
    s += "  for (int i = 0; i < 4; ++i) {\n    const long long m = rowBase + ty + 16 * i;\n"
         "    float v4[4];\n    float best = -__int_as_float(0x7f800000);\n"
         "    for (int j = 0; j < 4; ++j) {\n      const long long n = tx + 16 * j;\n"
         "      float v = n < N ? acc[i][j] : -__int_as_float(0x7f800000);\n      if (n < N) {\n" + biasLine +
         "      }\n      v4[j] = v;\n      best = fmaxf(best, v);\n    }\n"
         "    for (int o = 8; o > 0; o /= 2)\n      best = fmaxf(best, __shfl_xor_sync(0xffffffffu, best, o));\n"
         "    float sum = 0.0f;\n    for (int j = 0; j < 4; ++j) {\n"
         "      v4[j] = tx + 16 * j < N ? expf(v4[j] - best) : 0.0f;\n      sum += v4[j];\n    }\n"
         "    for (int o = 8; o > 0; o /= 2)\n      sum += __shfl_xor_sync(0xffffffffu, sum, o);\n"
         "    for (int j = 0; j < 4; ++j) {\n      const long long n = tx + 16 * j;\n"
         "      if (m < M && n < N)\n        " + out + "[m * N + n] = v4[j] / sum;\n    }\n  }\n}\n";
  }
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
