//===- op_contracts.h - What each op of a bundle reads and writes ---------===//
//
// The loader's proof that a program is safe to run: every backend's kernel
// of an op kind reads and writes its buffers assuming the shapes, element
// types and attributes that the dl dialect's verifiers guarantee in the
// compiler. A bundle is untrusted, so the loader checks the same rules
// again here, without MLIR, for every op: operand and result counts, ranks,
// every dimension that relates one buffer to another, element types, and
// attribute values (strides, windows, axes, rates). A program whose ops all
// pass cannot make a kernel index outside its buffers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/schemas/bundle_generated.h"

#include <string>

namespace dlc::rt {

/// Empty when |op| of |program| keeps its kind's contract, else what breaks
/// it ("input 1 (kernel) is f32[3, 3, 2, 4] but must have 3 input channels").
std::string checkOpContract(const fb::Program &program, const fb::Op &op);

/// Which optional inputs an lstm_grad of |inputs| inputs has: they are x,
/// kernel, recurrent kernel, [bias], dy, [states], and the fourth is the
/// bias when it has rank 1 (dy has rank 2 or 3).
struct LstmGradInputs {
  bool bias = false, states = false;
  size_t dy() const { return bias ? 4 : 3; }
};
LstmGradInputs lstmGradInputs(size_t inputs, size_t fourthRank);

} // namespace dlc::rt
