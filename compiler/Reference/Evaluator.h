//===- Evaluator.h - Runs dl functions in float64 on the CPU -------------===//
//
// The oracle of dlc: a direct interpreter of the dl dialect that every
// backend (CPU, CUDA, the CUDA emulation) is compared with.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/RefTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace dlc::ref {

struct EvalOptions {
  /// Mixed into dropout seeds so that each training step draws new masks.
  /// (Whether dropout drops and batch_norm uses batch statistics is the ops'
  /// own `training` attribute.)
  uint64_t step = 0;
  /// When nonzero, the seed of a RoundingProbe (RoundingProbe.h) over the
  /// evaluation: how far the results move from the unprobed ones is how much
  /// the function amplifies float32 rounding, which no float32 backend avoids.
  uint64_t roundingProbe = 0;
};

using ParamMap = llvm::StringMap<RefTensor>;

/// Runs |function| on |arguments| (one per function argument, checked against
/// its type), reading dl.weight values from |params|. dl.assign stores into
/// |updates| (required when the function assigns): reads see |params|
/// throughout, as in a training step that updates after computing. Errors (a
/// missing parameter, a mis-shaped argument, an embedding id out of range)
/// are reported at the op's location.
mlir::FailureOr<std::vector<RefTensor>> evaluate(mlir::func::FuncOp function,
                                                 llvm::ArrayRef<RefTensor> arguments,
                                                 const ParamMap &params,
                                                 const EvalOptions &options = {},
                                                 ParamMap *updates = nullptr);

/// |x| as a value of float element type |to| (f16, bf16, f32: rounded to
/// nearest, ties to even, overflow to infinity; f64: itself).
double roundTo(mlir::Type to, double x);

/// |x| rounded to TF32 (10 fraction bits, f32's exponents) to nearest with
/// ties away from zero, as PTX's cvt.rna.tf32.f32: what an op marked
/// dl.tf32 reads its matrix operands as (PrecisionPolicy.h).
double roundToTf32(double x);

} // namespace dlc::ref
