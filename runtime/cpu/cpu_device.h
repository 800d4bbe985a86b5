//===- cpu_device.h - Programs on the CPU ---------------------------------===//
//
// Each kernel runs as the CPU calls the compiler recorded for it (its
// `cpu` list: a routine and how many of its ops it runs, chosen by
// dlc-select-kernels). Each call becomes a prepared closure (oneDNN
// primitives created, attributes decoded, buffers resolved to arena or
// parameter pointers) once; running a program is then a loop over them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/device.h"

#include <functional>
#include <map>
#include <memory>

namespace dlc::rt::cpu {

/// One prepared call: a routine bound to its buffers.
using PreparedCall = std::function<Status(const RunOptions &)>;

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

/// Builds the call of |routine| that runs |ops| (ops[0] is ctx.op).
Status buildCall(fb::CpuRoutine routine, OpContext &ctx, const std::vector<const fb::Op *> &ops,
                 PreparedCall *call);
/// How many ops |routine| runs.
size_t cpuRoutineOps(fb::CpuRoutine routine);

} // namespace dlc::rt::cpu
