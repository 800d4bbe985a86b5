//===- Parser.h - Recursive-descent parser for .dl files -----------------===//
#pragma once

#include "frontend/AST.h"

#include "llvm/Support/SourceMgr.h"
#include "mlir/IR/MLIRContext.h"

#include <optional>

namespace dlc {

/// Parses buffer |bufferId| of |sourceMgr| (already added by the caller, with
/// its file name as buffer identifier). Errors are reported through
/// mlir::emitError at FileLineColLoc(file, line, col) with 1-based columns, so
/// the caller's SourceMgrDiagnosticHandler prints them with the source line and
/// a caret. Returns std::nullopt after the first error.
std::optional<ast::File> parseFile(llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                   mlir::MLIRContext *context);

} // namespace dlc
