//===- DLOps.h - Operations of the dl dialect -----------------------------===//
#pragma once

#include "dialects/DL/DLDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/DL/DLInterfaces.h.inc"

#include "runtime/limits.h"

#define GET_OP_CLASSES
#include "dialects/DL/DLOps.h.inc"

namespace dlc::dl {

/// True when |actual| result types may stand where |inferred| ones were
/// computed: same element types and compatible shapes (a `?` or an unranked
/// tensor on either side matches anything).
bool areRefinableTypes(mlir::TypeRange inferred, mlir::TypeRange actual);

/// The limit on elements per tensor (the runtime's, so that what compiles
/// loads), so that sizes and parameter counts never overflow 64-bit arithmetic.
using ::dlc::rt::kMaxTensorElements;

} // namespace dlc::dl
