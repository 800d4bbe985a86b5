//===- Pipelines.h - The compiler's pass pipelines -----------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace dlc {

/// The batch size a model compiles for: |requested| if positive, else the
/// training setup's batch_size, else Keras' default of 32.
int64_t compileBatchSize(mlir::ModuleOp module, int64_t requested);

/// Choices that change how kernels compute, not what.
struct KernelChoices {
  /// --deterministic: every kernel sums in an order fixed at compile time.
  bool deterministic = false;
  /// --kernels: generated, library or auto (kernels::KernelSource).
  std::string kernels = "generated";
};

/// dlc-autodiff and dlc-augment-on-device (when |differentiate|; the data
/// transforms in @train_step when |augmentInStep|), dlc-select-precision
/// under |precision| (fp32, mixed_fp16, mixed_bf16; "": the training setup's
/// policy) and dlc-scale-loss: the programs as every backend and the
/// reference evaluator run them, from a module whose shapes are inferred.
void addTrainingPasses(mlir::OpPassManager &pm, llvm::StringRef precision, bool differentiate,
                       bool augmentInStep = true);

/// dlc-infer-shapes at |batchSize|, then addTrainingPasses (differentiating
/// when the module has a training setup).
mlir::LogicalResult runPrecisionPipeline(mlir::ModuleOp module, int64_t batchSize,
                                         llvm::StringRef precision = "");

/// Everything between the dl dialect and a bundle: runPrecisionPipeline,
/// dlc-fuse, then dlc-select-kernels for |targets| and dlc-plan-memory (no
/// targets: stop after fusion). The training step applies the data
/// transforms itself when |augmentInStep|; unset, when it may run on a GPU
/// (|targets| name cuda, or none are named): a CPU-only bundle leaves them to
/// the loader's threads, which overlap them with the step.
mlir::LogicalResult runKernelPipeline(mlir::ModuleOp module, int64_t batchSize,
                                      llvm::ArrayRef<std::string> targets,
                                      llvm::StringRef precision = "",
                                      std::optional<bool> augmentInStep = std::nullopt,
                                      const KernelChoices &choices = {});

} // namespace dlc
