//===- PrecisionReport.h - What each op runs in, and why -------------------===//
//
// `dlc compile --emit=precision`: after dlc-select-precision, one line per
// op of each function with its .dl location, operand and result element
// types and the policy's reason (compiler/Transforms/PrecisionPolicy.cpp),
// then how many ops run in each type and how many casts cross between them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace dlc {

void printPrecisionReport(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace dlc
