//===- ModelSummary.h - Keras-style model.summary() of a dl module -------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace dlc {

struct SummaryRow {
  std::string layer;      // Keras layer name
  std::string kerasClass; // e.g. "Conv2D", "InputLayer"
  std::string outputShape; // e.g. "(None, 26, 26, 32)"
  int64_t params = 0;
};

struct ModelSummary {
  std::string model;
  std::vector<SummaryRow> rows; // inputs, then layers in order
  int64_t totalParams = 0, trainableParams = 0;
  int64_t totalBytes = 0, trainableBytes = 0;
};

/// Summarizes the `forward` function of |module|: one row per layer (ops are
/// grouped by the layer name of their NameLoc), parameters counted from the
/// dl.param ops named `<layer>/...`.
ModelSummary summarizeModel(mlir::ModuleOp module);

/// Prints |summary| as Keras' model.summary() does.
void printSummary(const ModelSummary &summary, llvm::raw_ostream &os);

/// Prints the training setup of |module| (if any) in .dl terms.
void printTrainSetup(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace dlc
