//===- optimizer.h - Keras optimizer steps on one parameter ---------------===//
//
// dl.optimizer_update in float32: one fused, in-place pass over a parameter
// and its slots with Keras 3's formulas, exactly as ref::applyOptimizer
// (compiler/Reference/Optimizers.cpp) writes them, including where epsilon
// sits (outside the square root for Adam, inside for RMSprop) and the step
// counting (step 0 is the first; Adam's bias correction uses step + 1).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/settings.h"
#include "runtime/status.h"

#include <cstdint>

namespace dlc::rt::cpu {

using rt::OptimizerKind;
/// The decoded optimizer (runtime/settings.h), shared with the trainer and
/// the CUDA emitter.
using OptimizerConfig = rt::OptimizerSettings;

/// Applies step |step| to |param| (|n| elements) given |gradient| divided by
/// |lossScale| (1 without loss scaling) and multiplied by |clipFactor|
/// (rt::gradientClipFactor; 1 without clipping by norm), updating the
/// |slotCount| slots in place (zero before the first step), in
/// rt::optimizerSlots' order. Another slot count is kInvalidArgument. Splits
/// over threads when |n| is large.
Status applyOptimizer(const OptimizerConfig &config, int64_t step, float *param,
                      const float *gradient, float lossScale, float clipFactor, float *const *slots,
                      int slotCount, int64_t n);

} // namespace dlc::rt::cpu
