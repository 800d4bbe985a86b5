//===- ModelBuilder.h - .dl models to the dl dialect ----------------------===//
#pragma once

#include "frontend/SourceLoader.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace dlc {

/// Builds the module of one model of |program|: its parameters, a `forward`
/// function (inputs with a dynamic batch dimension, one dl op per layer or
/// activation, each located at its .dl call and named after its layer with a
/// NameLoc) and, when the main file has a `train` section for it, its
/// dl.train_setup. |modelName| may be empty when the main file defines exactly
/// one model. Errors go to the context's diagnostics.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildModule(const Program &program, llvm::StringRef modelName, mlir::MLIRContext *context);

/// The name of the function holding a model's inference pass.
inline constexpr const char *kForwardFunction = "forward";

} // namespace dlc
