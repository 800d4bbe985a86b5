//===- Optimizers.h - Keras optimizer updates in float64 -----------------===//
//
// One step of each Keras 3 optimizer on one parameter, with its state slots
// (the values dlc keeps beside each trainable parameter). The oracle for the
// optimizer-update kernels of every backend.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Reference/RefTensor.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc::ref {

/// keras.optimizers.schedules.{ExponentialDecay, PiecewiseConstantDecay,
/// CosineDecay}; an empty kind is a constant rate.
struct ScheduleConfig {
  std::string kind;
  double initialLearningRate = 0, decaySteps = 0, decayRate = 0, alpha = 0;
  bool staircase = false;
  std::optional<double> warmupTarget; // Keras' None: no warmup
  double warmupSteps = 0;
  std::vector<double> boundaries, values;
};

struct OptimizerConfig {
  std::string kind; // sgd, adam, adamw, rmsprop
  double learningRate = 0.001; // without a schedule
  ScheduleConfig schedule;
  double momentum = 0.0;            // sgd, rmsprop
  bool nesterov = false;            // sgd
  double beta1 = 0.9, beta2 = 0.999; // adam, adamw
  double epsilon = 1e-7;            // adam, adamw, rmsprop
  bool amsgrad = false;             // adam, adamw
  double weightDecay = 0.0;         // adamw
  double rho = 0.9;                 // rmsprop
  bool centered = false;            // rmsprop
  std::optional<double> clipValue;  // Keras' None: no clipping
  std::optional<double> clipNorm;
  std::optional<double> globalClipNorm;
};

/// The state slots |config| keeps per parameter, in order, e.g. {"m", "v"}
/// for adam; sgd without momentum keeps none.
std::vector<std::string> optimizerSlots(const OptimizerConfig &config);

/// The learning rate of |config| at optimizer step |step| (Keras'
/// optimizer.iterations: 0 for the first).
double learningRate(const OptimizerConfig &config, int64_t step);

/// Applies step |step| (0 for the first; Adam's bias correction uses step+1)
/// to |param| given its gradient |grad|, updating |slots| (one tensor per
/// optimizerSlots entry, zero-initialised before the first step). With
/// clipnorm or global_clipnorm, |gradNorm| is the L2 norm of |grad| or of all
/// gradients of the step.
void applyOptimizer(const OptimizerConfig &config, int64_t step, RefTensor &param,
                    const RefTensor &grad, std::vector<RefTensor> &slots,
                    std::optional<double> gradNorm = std::nullopt);

} // namespace dlc::ref
