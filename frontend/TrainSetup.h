//===- TrainSetup.h - `train` sections to dl.train_setup ------------------===//
#pragma once

#include "frontend/AST.h"

#include "mlir/IR/Builders.h"

namespace dlc {

/// Checks |train| against the catalog and the model's |outputs| (their
/// names, in order), fills Keras' defaults and appends a dl.train_setup op
/// at |builder|'s insertion point.
mlir::LogicalResult buildTrainSetup(const ast::Train &train, llvm::ArrayRef<std::string> outputs,
                                    mlir::OpBuilder &builder);

} // namespace dlc
