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

/// ref::OptimizerConfig with an enum kind. The hyper-parameters stay in
/// double until the coefficients derived from them are (1 - beta_2 from a
/// float32 beta_2 of 0.999 is 1.3e-5 off, and so would be every Adam v).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  double learningRate = 0.001;
  double momentum = 0.0;             // sgd, rmsprop
  bool nesterov = false;             // sgd
  double beta1 = 0.9, beta2 = 0.999; // adam, adamw
  double epsilon = 1e-7;             // adam, adamw, rmsprop
  bool amsgrad = false;              // adam, adamw
  double weightDecay = 0.0;          // adamw
  double rho = 0.9;                  // rmsprop
  bool centered = false;             // rmsprop
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
