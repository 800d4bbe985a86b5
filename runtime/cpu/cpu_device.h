//===- cpu_device.h - Programs on the CPU ---------------------------------===//
//
// Each op of a kernel becomes a prepared step (oneDNN primitives created,
// attributes decoded, buffers resolved to arena or parameter pointers) once;
// running a program is then a loop over steps. Fusion on the CPU: a conv2d or
// dense followed in its kernel by an activation on a value nothing else reads
// runs as one primitive with the activation as epilogue.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/device.h"

#include <functional>
#include <map>
#include <memory>

namespace dlc::rt::cpu {

using Step = std::function<Status(const RunOptions &)>;

/// What an op builder sees: the op, views of every buffer of the program,
/// and how many ops of the program read each buffer.
struct OpContext {
  const fb::Op &op;
  const fb::Program &program;
  std::vector<TensorView> &views;
  const std::vector<int> &readers;
  /// Per-program state shared between ops (an LSTM's forward workspace for
  /// its gradient), keyed by a string the builders agree on.
  std::map<std::string, std::shared_ptr<std::vector<float>>> &shared;

  const TensorView &in(size_t i) const { return views[op.inputs()->Get(uint32_t(i))]; }
  const TensorView &out(size_t i) const { return views[op.outputs()->Get(uint32_t(i))]; }
  size_t numInputs() const { return op.inputs() ? op.inputs()->size() : 0; }
  size_t numOutputs() const { return op.outputs() ? op.outputs()->size() : 0; }
};

/// Builds the step for |ctx.op|. |following| are the kernel's later ops; a
/// step may take some of them over (an activation as a conv2d epilogue, the
/// relu and bias gradients after a pooling gradient) and sets *consumed to
/// how many.
Status buildStep(OpContext &ctx, const std::vector<const fb::Op *> &following, int *consumed,
                 Step *step);

} // namespace dlc::rt::cpu
