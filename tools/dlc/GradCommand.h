//===- GradCommand.h - `dlc grad`: loss and gradients of one batch -------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace dlc {

struct GradOptions {
  std::string weights; // safetensors: every parameter by name
  std::string batch;   // safetensors: each input by name (or `input`), and `labels`
  std::string out;     // safetensors: `loss` and one gradient per trainable parameter
  std::string backend = "ref";
};

/// Derives @grad for |module| (which must hold a training setup), runs it on
/// the batch and writes the results. Errors are returned as text for the
/// driver to print; they name the file and tensor involved.
std::string runGrad(mlir::ModuleOp module, const GradOptions &options);

} // namespace dlc
