//===- MemoryFit.h - Does the model fit the machine that will run it? -----===//
//
// A model whose parameters (with the optimizer's slots) and activations need
// more memory than the target has would fail late and badly (std::bad_alloc
// writing the bundle, the OOM killer while training). It is refused here,
// at the layer that dominates, before anything that size is allocated.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>

namespace dlc {

/// Fails with an error at the largest parameter's layer (its .dl location)
/// when the parameters of |module| and, once dlc-plan-memory has run, its
/// largest program's arena need more than |limitBytes| (the target's
/// memory: rt::hostMemoryBytes() for the CPU and for the host copy of every
/// target's parameters).
mlir::LogicalResult checkModelFitsMemory(mlir::ModuleOp module, uint64_t limitBytes);

} // namespace dlc
