//===- KernelCost.h - What a kernel group's arithmetic and traffic cost ---===//
//
// The counts the roofline model (runtime/roofline.h) turns into time on a
// given GPU: the arithmetic a group's ops need and the device memory it
// must at least read and write. Counted from ops and shapes alone, the same
// for every target; how well a kernel family reaches the peaks is the
// family's own estimate (CudaFamily::efficiency).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLOps.h"

#include <cstdint>

namespace dlc {

/// Arithmetic operations of |op| (a multiply-add counts two; a
/// transcendental function, a comparison or a division counts one): the
/// matrix products exactly, the rest per element. Ops that only move data
/// (reshape, slice, concat, a gather) count 0.
uint64_t flopsOf(mlir::Operation *op);

struct KernelCost {
  uint64_t flops = 0;
  /// Each buffer the group reads (its operands, each once) and writes (its
  /// results): what a kernel that keeps every intermediate on chip moves.
  uint64_t bytes = 0;
};
KernelCost costOf(dl::FusedOp group);

} // namespace dlc
