//===- GemmTiles.cpp - The gemm family's tiles and main loops -------------===//
#include "compiler/Codegen/CUDA/GemmTiles.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

using namespace mlir;

namespace dlc::cuda::gemm {
namespace {

/// Larger tiles only where they still give every SM of the largest GPUs
/// dlc targets (H100/H200: 132) two blocks.
constexpr int64_t kLargeTilesFrom = 2 * 132;

/// Whether |tile|-wide tiles over |extent| pad it to at most an eighth more
/// than 64-wide ones do.
bool fitsTile(int64_t extent, int64_t tile) {
  auto padded = [&](int64_t width) { return (extent + width - 1) / width * width; };
  return padded(tile) * 8 <= padded(kTile) * 9;
}

/// A test hook: DLC_PLANT_CUDA_BUG=tensor_core_b_layout declares the B
/// fragment column-major (a transposed load), which the emulated tests must
/// catch. Nothing else reads it.
bool plantedTransposedB() {
  const char *plant = std::getenv("DLC_PLANT_CUDA_BUG");
  return plant && std::string(plant) == "tensor_core_b_layout";
}

} // namespace

/// The tiling of an m x n product: the largest whose tiles fit its extents
/// and still number kLargeTilesFrom, and that the kernel's path |takes|,
/// else 64x64. The test hook DLC_GEMM_TILES=<rows>x<columns> forces a
/// tiling wherever the path takes it, so that small conformance shapes run
/// the large tilings' ragged edges too.
FailureOr<Tiling> chooseTiling(Operation *where, int64_t m, int64_t n, function_ref<bool(const Tiling &)> takes) {
  const Tiling &fallback = kTilings[std::size(kTilings) - 1];
  if (const char *forced = std::getenv("DLC_GEMM_TILES"); forced && *forced) {
    for (const Tiling &tl : kTilings)
      if (tl.name() == forced)
        return tl.rows == fallback.rows && tl.columns == fallback.columns ? fallback : takes(tl) ? tl : fallback;
    where->emitError("DLC_GEMM_TILES='") << forced << "' is not one of 128x128, 128x64, 64x64";
    return failure();
  }
  for (const Tiling &tl : kTilings)
    if (&tl != &fallback && fitsTile(m, tl.rows) && fitsTile(n, tl.columns) && tl.tiles(m, n) >= kLargeTilesFrom &&
        takes(tl))
      return tl;
  return fallback;
}

/// The tensor-core operands of |anchor|'s product in a kernel computing in
/// |t|: 16-bit when both matrix operands are the same 16-bit float; TF32
/// when both are f32 and the product is marked dl.tf32 (f32 accumulators
/// either way); none otherwise.
std::optional<TensorCoreOperands> tensorCoreOperands(const ComputeType &t, Operation *anchor) {
  Type a = cast<ShapedType>(anchor->getOperand(0).getType()).getElementType();
  Type b = cast<ShapedType>(anchor->getOperand(1).getType()).getElementType();
  if (a != b || t.name() != "float")
    return std::nullopt;
  if (a.isF16())
    return TensorCoreOperands{TensorCores::k16Bit, "__half", 2, "__half", "__float2half_rn"};
  if (a.isBF16())
    return TensorCoreOperands{TensorCores::k16Bit, "__nv_bfloat16", 2, "__nv_bfloat16", "__float2bfloat16_rn"};
  if (readsTf32(anchor))
    return TensorCoreOperands{TensorCores::kTf32, "float", 4, "nvcuda::wmma::precision::tf32",
                              "nvcuda::wmma::__float_to_tf32", /*k=*/8, /*pad=*/4};
  return std::nullopt;
}

namespace {
/// Whether |operand| can be copied as stored by 16-byte cp.async chunks of
/// the 16-bit elements of |o|: whole chunks are in or out of bounds and
/// every chunk is aligned (buffers are 64-byte aligned).
bool copiesAsStored(const std::optional<PlainOperand> &operand, const TensorCoreOperands &o) {
  return operand && o.storageBytes == 2 && operand->stride % 8 == 0;
}
} // namespace

/// Bytes of the operands' two buffers, and of the sums the ending stages.
static int64_t operandBytes(const TensorCoreOperands &o, const Tiling &tl) {
  return 2 * (tl.rows * (16 + o.pad) + 16 * (tl.columns + o.pad)) * o.storageBytes;
}
static int64_t endingBytes(bool warpEpilogue) {
  return (warpEpilogue ? 8 * 16 * (16 + 4) : kTile * (kTile + 4)) * 4;
}

int64_t tensorCoreSharedBytes(const TensorCoreOperands &o, const Tiling &tl, bool warpEpilogue) {
  return std::max(operandBytes(o, tl), endingBytes(warpEpilogue));
}

std::string tensorCoreShared(const TensorCoreOperands &o, const Tiling &tl, bool warpEpilogue) {
  // WMMA wants 256-bit aligned tiles and leading dimensions of 8 (16-bit)
  // or 4 (f32). The ending's staging reuses the operands' storage: the
  // loop ends at a barrier after its last products.
  const std::string S = o.storage, pad = std::to_string(o.pad), TM = std::to_string(tl.rows),
                    TN = std::to_string(tl.columns);
  const std::string as = S + " (*)[2][" + TM + "][16 + " + pad + "]", bs = S + " (*)[2][16][" + TN + " + " + pad + "]";
  const std::string sums = warpEpilogue ? "float (*)[8][16][16 + 4]" : "float (*)[64][64 + 4]";
  const int64_t aBytes = 2 * tl.rows * (16 + o.pad) * o.storageBytes;
  auto reference = [](const std::string &pointerType, const std::string &name) {
    std::string type = pointerType;
    type.replace(type.find("(*)"), 3, "(&" + name + ")");
    return "  " + type + " = *reinterpret_cast<" + pointerType + ">(";
  };
  return "  __shared__ __align__(32) unsigned char tensorCoreTiles[" +
         std::to_string(tensorCoreSharedBytes(o, tl, warpEpilogue)) + "];\n" + reference(as, "As") +
         "tensorCoreTiles);\n" + reference(bs, "Bs") + "tensorCoreTiles + " + std::to_string(aBytes) + ");\n" +
         reference(sums, warpEpilogue ? "Cw" : "Cs") + "tensorCoreTiles);\n";
}

std::string tensorCoreLoop(const ComputeType &t, const Gemm &g, const TensorCoreOperands &o, const Tiling &tl) {
  const std::string zero = t.lit("0.0"), w = "nvcuda::wmma::";
  const std::string bLayout = plantedTransposedB() ? "col_major" : "row_major";
  const int64_t warpColumns = 8 / tl.warpRows, partRows = tl.rows / tl.warpRows, partColumns = tl.columns / warpColumns;
  const std::string FR = std::to_string(partRows / 16), FC = std::to_string(partColumns / 16);
  const std::string TM = std::to_string(tl.rows), TN = std::to_string(tl.columns), k = std::to_string(o.k);
  const std::string ldA = std::to_string(16 + o.pad), ldB = std::to_string(tl.columns + o.pad);
  const bool copyA = copiesAsStored(g.plainA, o), copyB = copiesAsStored(g.plainB, o);
  const std::string RA = std::to_string(tl.rows * 16 / 256), RB = std::to_string(16 * tl.columns / 256);
  // The tile at k0 into buffer |buf|: cp.async for the operands read as
  // stored (zero-filled outside the product), loads into registers for the
  // others (|stage| then stores them).
  auto copies = [&](const std::string &buf, const std::string &k0) {
    std::string c;
    if (copyA)
      c += "      for (int c = threadIdx.x; c < " + TM + " * 2; c += 256) {\n"
           "        const int r = c / 2, kk = c % 2 * 8;\n"
           "        const long long m = rowBase + r, k = " + k0 + " + kk;\n"
           "        const bool inside = m < rowEnd && k < kEnd;\n"
           "        __pipeline_memcpy_async(&As[" + buf + "][r][kk], " + g.plainA->pointer + " + (inside ? m * " +
           ll(g.plainA->stride) + " + k : 0), 16, inside ? 0 : 16);\n      }\n";
    if (copyB)
      c += "      for (int c = threadIdx.x; c < 2 * " + TN + "; c += 256) {\n"
           "        const int kb = c / " + std::to_string(tl.columns / 8) + ", cc = c % " +
           std::to_string(tl.columns / 8) + " * 8;\n"
           "        const long long k = " + k0 + " + kb, n = colBase + cc;\n"
           "        const bool inside = k < kEnd && n < N;\n"
           "        __pipeline_memcpy_async(&Bs[" + buf + "][kb][cc], " + g.plainB->pointer + " + (inside ? k * " +
           ll(g.plainB->stride) + " + n : 0), 16, inside ? 0 : 16);\n      }\n";
    if (copyA || copyB)
      c += "      __pipeline_commit();\n";
    return c;
  };
  auto loads = [&](const std::string &k0) {
    std::string l;
    if (!copyA)
      l += "      for (int i = 0; i < " + RA + "; ++i) {\n"
           "        const int t = threadIdx.x + 256 * i, r = t / 16, kk = t % 16;\n"
           "        const long long m = rowBase + r, k = " + k0 + " + kk;\n"
           "        ra[i] = " + o.convert + "(m < rowEnd && k < kEnd ? " + g.loadA + " : " + zero + ");\n      }\n";
    if (!copyB)
      l += "      for (int i = 0; i < " + RB + "; ++i) {\n"
           "        const int t = threadIdx.x + 256 * i, kb = t / " + TN + ", c = t % " + TN + ";\n"
           "        const long long k = " + k0 + " + kb, n = colBase + c;\n"
           "        rb[i] = " + o.convert + "(k < kEnd && n < N ? " + g.loadB + " : " + zero + ");\n      }\n";
    return l;
  };
  auto stores = [&](const std::string &buf) {
    std::string st;
    if (!copyA)
      st += "      for (int i = 0; i < " + RA + "; ++i)\n"
            "        As[" + buf + "][(threadIdx.x + 256 * i) / 16][(threadIdx.x + 256 * i) % 16] = ra[i];\n";
    if (!copyB)
      st += "      for (int i = 0; i < " + RB + "; ++i)\n"
            "        Bs[" + buf + "][(threadIdx.x + 256 * i) / " + TN + "][(threadIdx.x + 256 * i) % " + TN +
            "] = rb[i];\n";
    if (copyA || copyB)
      st += "      __pipeline_wait_prior(0);\n";
    return st;
  };
  std::string s;
  s += "    " + w + "fragment<" + w + "accumulator, 16, 16, " + k + ", float> cf[" + FR + "][" + FC + "];\n";
  s += "    for (int i = 0; i < " + FR + "; ++i)\n      for (int j = 0; j < " + FC + "; ++j)\n"
       "        " + w + "fill_fragment(cf[i][j], 0.0f);\n";
  s += "    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;\n"
       "    const int partRow = warp / " + std::to_string(warpColumns) + " * " + std::to_string(partRows) +
       ", partColumn = warp % " + std::to_string(warpColumns) + " * " + std::to_string(partColumns) + ";\n";
  if (!copyA)
    s += "    " + o.storage + " ra[" + RA + "];\n";
  if (!copyB)
    s += "    " + o.storage + " rb[" + RB + "];\n";
  s += "    {\n" + copies("0", "kBegin") + loads("kBegin") + stores("0") + "    }\n    __syncthreads();\n";
  s += "    int buf = 0;\n"
       "    for (long long k0 = kBegin; k0 < kEnd; k0 += 16, buf ^= 1) {\n"
       "      const bool more = k0 + 16 < kEnd;\n"
       "      if (more) {\n" + indented(copies("buf ^ 1", "k0 + 16") + loads("k0 + 16")) + "      }\n";
  s += "      for (int kk = 0; kk < 16; kk += " + k + ") {\n";
  s += "        " + w + "fragment<" + w + "matrix_a, 16, 16, " + k + ", " + o.fragment + ", " + w + "row_major> a[" +
       FR + "];\n";
  s += "        " + w + "fragment<" + w + "matrix_b, 16, 16, " + k + ", " + o.fragment + ", " + w + bLayout + "> b[" +
       FC + "];\n";
  s += "        for (int i = 0; i < " + FR + "; ++i)\n"
       "          " + w + "load_matrix_sync(a[i], &As[buf][partRow + 16 * i][kk], " + ldA + ");\n";
  s += "        for (int j = 0; j < " + FC + "; ++j)\n"
       "          " + w + "load_matrix_sync(b[j], &Bs[buf][kk][partColumn + 16 * j], " + ldB + ");\n";
  s += "        for (int i = 0; i < " + FR + "; ++i)\n          for (int j = 0; j < " + FC + "; ++j)\n"
       "            " + w + "mma_sync(cf[i][j], a[i], b[j], cf[i][j]);\n";
  s += "      }\n      if (more) {\n" + indented(stores("buf ^ 1")) + "      }\n      __syncthreads();\n    }\n";
  return s;
}

std::string tensorCoreSums(const Tiling &tl) {
  const std::string w = "nvcuda::wmma::";
  const int64_t warpColumns = 8 / tl.warpRows;
  const std::string FR = std::to_string(tl.rows / tl.warpRows / 16), FC = std::to_string(tl.columns / warpColumns / 16);
  return "    for (int i = 0; i < " + FR + "; ++i)\n      for (int j = 0; j < " + FC + "; ++j)\n"
         "        " + w + "store_matrix_sync(&Cs[partRow + 16 * i][partColumn + 16 * j], cf[i][j], 68, " + w +
         "mem_row_major);\n"
         "    __syncthreads();\n"
         "    for (int i = 0; i < 4; ++i)\n"
         "      for (int j = 0; j < 4; ++j)\n"
         "        acc[i][j] = Cs[ty * 4 + i][tx * 4 + j];\n";
}

std::string tensorCoreWarpEpilogue(const ComputeType &t, const Tiling &tl, const std::string &epilogue) {
  const std::string T = t.name(), w = "nvcuda::wmma::";
  const int64_t warpColumns = 8 / tl.warpRows;
  const std::string FR = std::to_string(tl.rows / tl.warpRows / 16), FC = std::to_string(tl.columns / warpColumns / 16);
  return "    for (int i = 0; i < " + FR + "; ++i)\n      for (int j = 0; j < " + FC + "; ++j) {\n"
         "        " + w + "store_matrix_sync(&Cw[warp][0][0], cf[i][j], 20, " + w + "mem_row_major);\n"
         "        __syncwarp();\n"
         "        for (int e = lane; e < 256; e += 32) {\n"
         "          const long long m = rowBase + partRow + 16 * i + e / 16, n = colBase + partColumn + 16 * j + e % 16;\n"
         "          if (m < rowEnd && n < N) {\n            const long long pos = m;\n"
         "            " + T + " v = Cw[warp][e / 16][e % 16];\n" + epilogue + "          }\n"
         "        }\n        __syncwarp();\n      }\n";
}

/// The tiled main loop: acc[i][j] = the product at rows rowBase + RM ty + i
/// (those below rowEnd) and columns colBase + RN tx + j, RM x RN being a
/// thread's block of |tl|. A thread's rows and columns are adjacent, so each
/// k-step reads them from shared memory as float4s: RM/4 + RN/4 loads for
/// RM x RN FMAs. The tiles are double-buffered through registers: each
/// step's global loads of the next tile are issued before its products and
/// stored to the other buffer after them, so their latency hides behind the
/// products, with one barrier a step. The sums keep their order.
std::string mainLoop(const ComputeType &t, const Gemm &g, const Tiling &tl) {
  const std::string zero = t.lit("0.0"), T = t.name();
  // The GEMM computes in f32 (its family's types), whose vector is 4 wide.
  const std::string V = t.vector();
  const int64_t rm = tl.threadRows(), rn = tl.threadColumns();
  const std::string RM = std::to_string(rm), RN = std::to_string(rn), TN = std::to_string(tl.columns);
  // A thread's RM elements of each rows x 16 tile of A and RN of each
  // 16 x columns tile of B: element l is t = threadIdx.x + 256 l.
  auto load = [&](const std::string &k0) {
    return "      for (int l = 0; l < " + RM + "; ++l) {\n"
           "        const int t = threadIdx.x + 256 * l;\n"
           "        const int r = t / 16, kk = t % 16;\n"
           "        const long long m = rowBase + r, k = " + k0 + " + kk;\n"
           "        nextA[l] = m < rowEnd && k < kEnd ? " + g.loadA + " : " + zero + ";\n"
           "      }\n"
           "      for (int l = 0; l < " + RN + "; ++l) {\n"
           "        const int t = threadIdx.x + 256 * l;\n"
           "        const int kb = t / " + TN + ", c = t % " + TN + ";\n"
           "        const long long k = " + k0 + " + kb, n = colBase + c;\n"
           "        nextB[l] = k < kEnd && n < N ? " + g.loadB + " : " + zero + ";\n"
           "      }\n";
  };
  auto store = [&](const std::string &buffer) {
    return "      for (int l = 0; l < " + RM + "; ++l) {\n"
           "        const int t = threadIdx.x + 256 * l;\n"
           "        As[" + buffer + "][t % 16][t / 16] = nextA[l];\n"
           "      }\n"
           "      for (int l = 0; l < " + RN + "; ++l) {\n"
           "        const int t = threadIdx.x + 256 * l;\n"
           "        Bs[" + buffer + "][t / " + TN + "][t % " + TN + "] = nextB[l];\n"
           "      }\n";
  };
  // The k-step's operands: float4 loads a0.. of A's rows, b0.. of B's columns.
  auto vectors = [&](const std::string &array, const std::string &tile, const std::string &first,
                     int64_t count) {
    std::string s, elements;
    for (int64_t v = 0; v < count / 4; ++v) {
      const std::string name = array + std::to_string(v);
      s += "          const " + V + " " + name + " = *reinterpret_cast<const " + V + " *>(&" + tile +
           "[buffer][kk][" + first + " + " + std::to_string(4 * v) + "]);\n";
      for (const char *lane : {".x", ".y", ".z", ".w"})
        elements += (elements.empty() ? "" : ", ") + name + lane;
    }
    return s + "          const " + T + " " + array + "[" + std::to_string(count) + "] = {" + elements + "};\n";
  };
  return "    for (int i = 0; i < " + RM + "; ++i)\n      for (int j = 0; j < " + RN + "; ++j)\n"
         "        acc[i][j] = " + zero + ";\n"
         "    {\n      " + T + " nextA[" + RM + "], nextB[" + RN + "];\n" + load("kBegin") + store("0") +
         "      __syncthreads();\n"
         "      int buffer = 0;\n"
         "      for (long long k0 = kBegin; k0 < kEnd; k0 += 16, buffer ^= 1) {\n"
         "        const bool more = k0 + 16 < kEnd;\n"
         "        if (more) {\n" + load("(k0 + 16)") + "        }\n"
         "#pragma unroll\n"
         "        for (int kk = 0; kk < 16; ++kk) {\n" +
         vectors("a", "As", "ty * " + RM, rm) + vectors("b", "Bs", "tx * " + RN, rn) +
         "#pragma unroll\n"
         "          for (int i = 0; i < " + RM + "; ++i)\n"
         "#pragma unroll\n"
         "            for (int j = 0; j < " + RN + "; ++j)\n"
         "              acc[i][j] += a[i] * b[j];\n"
         "        }\n"
         "        if (more) {\n" + store("buffer ^ 1") + "        }\n"
         "        __syncthreads();\n"
         "      }\n    }\n";
}

} // namespace dlc::cuda::gemm
