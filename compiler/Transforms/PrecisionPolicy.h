//===- PrecisionPolicy.h - What each op computes in under a policy ---------===//
//
// The one table of dlc's mixed precision, after Keras' mixed policies and
// torch.autocast's op lists: matrix products (conv2d, dense, the LSTM's gate
// products, their gradients) read 16-bit operands and accumulate in f32;
// softmax, the losses, metrics, batch_norm statistics and the optimizer run
// in f32; elementwise ops, pools and views follow their operands; parameter
// gradients are stored in f32. dlc-select-precision applies it, the report
// (`dlc compile --emit=precision`) quotes its reasons, and tests walk it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLOps.h"

#include "llvm/ADT/ArrayRef.h"

#include <optional>

namespace dlc::precision {

/// What an op's float operands are converted to.
enum class Operands {
  kLow,     // the policy's 16-bit type (f32 under fp32)
  kF32,     // f32
  kWidest,  // the widest of their types; the others are cast up to it
  kAsStored // read as they are
};

/// The element type of an op's float results.
enum class Results {
  kLikeOperands,       // the operands' chosen type
  kF32,                // f32: an accumulator stored as it was summed
  kFirstLikeOperands,  // the first like the operands, the others f32 (lstm_grad)
};

struct Rule {
  const char *op; // the dl op's name without the dialect prefix
  Operands operands;
  Results results;
  const char *why;
  /// Under the policy tf32: the op's two matrix operands are rounded to TF32
  /// where it reads them (kTf32Attr).
  bool tf32 = false;
};

/// Every rule, one per op that computes (not dl.weight, dl.cast, dl.zeros,
/// dl.assign: those keep their types).
llvm::ArrayRef<Rule> rules();

/// The rule of |op|; ops the table lacks run in f32 (kUnlistedRule).
const Rule &ruleFor(mlir::Operation *op);
extern const Rule kUnlistedRule;

/// The 16-bit type of |policy| (f32 for fp32).
mlir::Type lowType(mlir::MLIRContext *context, dl::Precision policy);

/// Under the policy tf32, dlc-select-precision marks each rule.tf32 op with
/// this unit attribute. Its contract, which every backend and the reference
/// evaluator keep: the op's operands 0 and 1 (the matrix product's, never a
/// bias) are rounded to TF32 where the op reads them (8-bit exponent, 10-bit
/// mantissa, to nearest with ties away from zero: PTX's cvt.rna.tf32.f32),
/// their products summed in f32. Values stay f32 in memory: the rounding is
/// what lets a GPU run the product on tensor cores (PyTorch's allow_tf32).
constexpr const char *kTf32Attr = "dl.tf32";
constexpr const char *kTf32Product =
    "a matrix product under tf32: f32 operands rounded to TF32 where it reads them (tensor cores "
    "on the GPU), summed and stored in f32 (PyTorch's allow_tf32)";

/// The attribute dlc-select-precision leaves on each op: why it runs in its
/// types (its rule's `why`, or kBoundaryCast on the casts it inserts).
constexpr const char *kPrecisionAttr = "dl.precision";
constexpr const char *kBoundaryCast = "a value crosses between the types of its producer and its reader";

} // namespace dlc::precision
