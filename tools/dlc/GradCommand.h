//===- GradCommand.h - `dlc grad`: loss and gradients of one batch -------===//
#pragma once

#include "compiler/Pipelines/Pipelines.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace dlc {

struct GradOptions {
  std::string weights; // safetensors: every parameter by name
  std::string batch;   // safetensors: each input by name (or `input`), and `labels`
  std::string out;     // safetensors: `loss` and one gradient per trainable parameter
  std::string backend = "ref";
  /// When set: after the gradients, one training step (train_step at |step|)
  /// from the same parameters, and every parameter and optimizer slot after
  /// it written here (the optimizer's part of the contract). The gradients
  /// use |step|'s dropout masks too, so they are the ones the step applies.
  std::string stepOut;
  /// When set: the @evaluate program's outputs on the same batch (each
  /// example's loss and metric scores, by their names) written here.
  std::string evalOut;
  int64_t step = 0;
  /// ref only: the seed of a rounding probe (ref::EvalOptions), 0 for none.
  uint64_t roundingProbe = 0;
  /// The precision policy (fp32, mixed_fp16, mixed_bf16; "": the setup's).
  /// The reference evaluates the program it gives: rounded to 16 bits where
  /// the compiled program rounds.
  std::string precision;
  /// --deterministic and --kernels: how the compiled kernels compute.
  KernelChoices kernels;
};

/// Derives @grad for |module| (which must hold a training setup), runs it on
/// the batch and writes the results. Errors are returned as text for the
/// driver to print; they name the file and tensor involved.
std::string runGrad(mlir::ModuleOp module, const GradOptions &options);

} // namespace dlc
