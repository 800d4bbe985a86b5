//===- GemmTiles.h - The gemm family's tiles and main loops ----*- C++ -*-===//
//
// How EmitGemm.cpp's kernels cover their product: the output tile a shape
// gets (Tiling), and the main loops that leave a tile's sums in registers
// (CUDA cores) or run the epilogue per warp (tensor cores). EmitGemm.cpp
// decides what the product reads and what its epilogue does.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <optional>
#include <string>

namespace dlc::cuda::gemm {

constexpr int64_t kTile = 64;

/// An operand read as stored: element (row, column) of its tile ((m, k)
/// for A, (k, n) for B) at pointer[row * stride + column].
struct PlainOperand {
  std::string pointer; // a kernel parameter, the operand's type as stored
  int64_t stride;
};

/// A product as the loops read it.
struct Gemm {
  int64_t m = 0, n = 0, k = 0;
  std::string loadA, loadB; // expressions of (m, k) and (k, n); may read in<i>
  std::string prologue;     // index helpers
  /// Set where loadA (loadB) reads an input buffer as stored, rows along the
  /// tile's contiguous axis: the tensor cores may copy it to shared memory
  /// without a conversion (cp.async).
  std::optional<PlainOperand> plainA, plainB;
};

/// A kernel's output tile: |rows| x |columns| outputs over the 256 threads
/// as 16 x 16, each holding rows/16 x columns/16 adjacent outputs.
struct Tiling {
  int64_t rows, columns;
  /// The fraction of the f32 peak the CUDA-core loop is assumed to reach,
  /// or 0 for the family's (64x64). Per k-step a thread does
  /// threadRows x threadColumns FMAs against (threadRows + threadColumns)/4
  /// float4 shared loads: 8 FMAs a load at 4x4, whose shared-memory
  /// bandwidth then bounds the loop near half the FMA rate; 10.7 at 8x4;
  /// 16 at 8x8, where the two rates meet. Estimates until a GPU measures.
  double efficiency;
  /// The same for the tensor-core loop, of the tensor cores' peak (0.1 at
  /// 64x64): per fragment depth a warp loads 3 fragments for 2 products at
  /// 64x64, 4 for 4 at 128x64 and 6 for 8 at 128x128.
  double tensorCoreEfficiency;
  /// The 8 warps' arrangement over the tile on the tensor cores, and so
  /// each warp's part: warpRows x (8 / warpRows) parts of
  /// rows/warpRows x columns/(8 / warpRows).
  int64_t warpRows;
  int64_t threadRows() const { return rows / 16; }
  int64_t threadColumns() const { return columns / 16; }
  int64_t tiles(int64_t m, int64_t n) const {
    return ((m + rows - 1) / rows) * ((n + columns - 1) / columns);
  }
  std::string name() const { return std::to_string(rows) + "x" + std::to_string(columns); }
};
/// Every tiling, largest first; the last is the one every path takes.
constexpr Tiling kTilings[] = {{128, 128, 0.5, 0.2, 2}, {128, 64, 0.4, 0.15, 4}, {kTile, kTile, 0, 0, 4}};

/// The tiling of an m x n product, a larger one only where |takes| says the
/// kernel's path can take it (GemmTiles.cpp).
mlir::FailureOr<Tiling> chooseTiling(mlir::Operation *where, int64_t m, int64_t n,
                                     llvm::function_ref<bool(const Tiling &)> takes);

/// How the product's operands go through WMMA: staged in shared memory as
/// |storage|, converted by |convert|, multiplied |k| deep per fragment.
struct TensorCoreOperands {
  TensorCores unit;     // what the kernel reports it runs on
  std::string storage;  // the shared tiles' element type
  int storageBytes;     // its size
  std::string fragment; // the matrix_a/matrix_b fragments' element type
  std::string convert;  // f32 to what the fragments hold
  int k = 16;           // the fragments' depth
  int pad = 8;          // the tiles' row padding in elements (256-bit rows at 16 wide)
};

/// The tensor-core operands of |anchor|'s product in a kernel computing in
/// |t|, or none (GemmTiles.cpp).
std::optional<TensorCoreOperands> tensorCoreOperands(const ComputeType &t, mlir::Operation *anchor);

/// The CUDA-core main loop of |tl|: acc[i][j] holds the tile's sums.
std::string mainLoop(const ComputeType &t, const Gemm &g, const Tiling &tl);

/// The tensor cores' shared arrays for |tl| (two buffers of the operands'
/// tiles As [rows][16 + pad] and Bs [16][columns + pad], then Cs [64][64 +
/// 4] for tensorCoreSums or Cw [8][16][16 + 4] for tensorCoreWarpEpilogue),
/// and their bytes.
std::string tensorCoreShared(const TensorCoreOperands &o, const Tiling &tl, bool warpEpilogue);
int64_t tensorCoreSharedBytes(const TensorCoreOperands &o, const Tiling &tl, bool warpEpilogue);
/// The tensor-core main loop of |tl|: the 8 warps arranged |tl|.warpRows x
/// (8 / warpRows) over the tile, each holding its part's sums as 16x16 f32
/// fragments cf[i][j] at (partRow + 16 i, partColumn + 16 j), each A
/// fragment it loads serving all its columns. The tiles are
/// double-buffered with one barrier a k-step: the next tile's operands read
/// as stored are copied by cp.async, the others loaded into registers
/// before the step's products and stored after them.
std::string tensorCoreLoop(const ComputeType &t, const Gemm &g, const TensorCoreOperands &o, const Tiling &tl);
/// The loop's ending for a 64x64 tile: acc[4][4] holds its sums, as the
/// CUDA-core loop leaves them.
std::string tensorCoreSums(const Tiling &tl);
/// The loop's ending for a larger tile: each warp stores one fragment at a
/// time to its own 16x16 of Cw and its lanes run |epilogue| on those
/// elements (v at (m, n), pos = m): no tile-sized staging.
std::string tensorCoreWarpEpilogue(const ComputeType &t, const Tiling &tl, const std::string &epilogue);

} // namespace dlc::cuda::gemm
