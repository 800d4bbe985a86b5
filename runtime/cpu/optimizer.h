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

#include "runtime/status.h"

#include <cstdint>

namespace dlc::rt::cpu {

enum class OptimizerKind { kSgd, kAdam, kAdamW, kRmsprop };

/// ref::OptimizerConfig with an enum kind and float hyper-parameters (the
/// parameters are float32; Keras keeps its hyper-parameters in float32 too).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  float learningRate = 0.001f;
  float momentum = 0.0f;              // sgd, rmsprop
  bool nesterov = false;              // sgd
  float beta1 = 0.9f, beta2 = 0.999f; // adam, adamw
  float epsilon = 1e-7f;              // adam, adamw, rmsprop
  bool amsgrad = false;               // adam, adamw
  float weightDecay = 0.0f;           // adamw
  float rho = 0.9f;                   // rmsprop
  bool centered = false;              // rmsprop
};

/// How many state slots |config| keeps per parameter, in ref::optimizerSlots'
/// order: sgd [momentum] (none without momentum); adam / adamw [m, v] (+
/// v_hat with amsgrad); rmsprop [velocity] (+ average_gradient if centered)
/// (+ momentum if momentum > 0).
int optimizerSlotCount(const OptimizerConfig &config);

/// Applies step |step| to |param| (|n| elements) given |grad|, updating the
/// |slotCount| slots in place (zero before the first step). A slot count
/// other than optimizerSlotCount(config) is kInvalidArgument. Splits over
/// threads when |n| is large.
Status applyOptimizer(const OptimizerConfig &config, int64_t step, float *param,
                      const float *grad, float *const *slots, int slotCount, int64_t n);

} // namespace dlc::rt::cpu
