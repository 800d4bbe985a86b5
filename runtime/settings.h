//===- settings.h - Optimizer, loss and metric settings, decoded once -----===//
//
// A training setup's optimizer, loss and metrics reach every consumer as a
// kind name plus named options: bundle op attributes (the CPU backend), the
// setup's JSON (the trainer), the compiler's #dl.config (the CUDA emitter).
// Each consumer turns its form into a Setting and decodes it here, into the
// typed structs they all share. The catalog (dialects/DL/DLCatalog.cpp) is
// the one place that knows kinds, option names and defaults, and it writes
// every option, so decoding never defaults: an unknown kind, a missing option
// and an option the kind does not have are errors. (The float64 reference
// evaluator decodes its own on purpose: it judges the backends.)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace dlc::rt {

/// A kind and its options: numbers (booleans as 0 or 1), lists of numbers,
/// and options whose value is itself a kind with options (an optimizer's
/// learning-rate schedule).
struct Setting {
  std::string kind;
  std::map<std::string, double> options;
  std::map<std::string, std::vector<double>> lists;
  std::map<std::string, Setting> settings;
};

enum class ScheduleKind { kConstant, kExponentialDecay, kPiecewiseConstant, kCosineDecay };

/// An optimizer's learning rate: a number, or one of keras.optimizers.
/// schedules evaluated from the optimizer's step. Fields a kind does not
/// have stay zero.
struct LearningRateSchedule {
  ScheduleKind kind = ScheduleKind::kConstant;
  double initial = 0;       // the rate itself when constant
  double decaySteps = 0;    // exponential_decay, cosine_decay
  double decayRate = 0;     // exponential_decay
  bool staircase = false;   // exponential_decay
  double alpha = 0;         // cosine_decay: the final fraction of the rate
  bool warmup = false;      // cosine_decay with a warmup_target
  double warmupTarget = 0, warmupSteps = 0;  // cosine_decay
  std::vector<double> boundaries, values;    // piecewise_constant
};
Status decodeSchedule(const Setting &setting, LearningRateSchedule *out);

/// The rate at optimizer step |step| (0 first; steps dynamic loss scaling
/// skipped do not count), with Keras 3's formulas: exponential_decay
/// initial * decay_rate^(step / decay_steps) (floored when staircase);
/// piecewise_constant values[i] for boundaries[i-1] < step <= boundaries[i];
/// cosine_decay a linear warmup from initial to warmup_target over
/// warmup_steps, then a half cosine from there down to alpha times it over
/// decay_steps, constant after. The CUDA emitter writes the same formulas
/// as device code (compiler/Codegen/CUDA/EmitOptimizer.cpp).
double learningRateAt(const LearningRateSchedule &schedule, int64_t step);

enum class OptimizerKind { kSgd, kAdam, kAdamW, kRmsprop };

/// Keras 3's optimizers. The hyper-parameters stay in double until the
/// coefficients derived from them are (1 - beta_2 from a float32 beta_2 of
/// 0.999 is 1.3e-5 off, and so would be every Adam v). Fields a kind does
/// not have stay zero.
struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::kSgd;
  LearningRateSchedule learningRate;
  double momentum = 0;      // sgd, rmsprop
  bool nesterov = false;    // sgd
  double beta1 = 0, beta2 = 0; // adam, adamw
  double epsilon = 0;       // adam, adamw, rmsprop
  bool amsgrad = false;     // adam, adamw
  double weightDecay = 0;   // adamw
  double rho = 0;           // rmsprop
  bool centered = false;    // rmsprop
  /// Keras' gradient clipping, after loss scaling's division; at most one
  /// is set, 0 is unset. clipValue: each element clipped to [-clipValue,
  /// clipValue]. clipNorm: each parameter's gradient scaled by
  /// gradientClipFactor of its own L2 norm; globalClipNorm: every gradient
  /// by that of their joint norm (dl.gradient_norm computes the norms).
  double clipValue = 0;
  double clipNorm = 0;
  double globalClipNorm = 0;
};
Status decodeOptimizer(const Setting &setting, OptimizerSettings *out);

/// The norm a gradient is clipped to (clipNorm or globalClipNorm), 0 when
/// the optimizer does not clip by norm.
inline double normClip(const OptimizerSettings &s) { return s.clipNorm > 0 ? s.clipNorm : s.globalClipNorm; }

/// What a gradient is multiplied by when its L2 norm |norm| (of itself, or
/// of all gradients for global_clipnorm) is clipped to |clip| (> 0): 1 up to
/// the clip, clip / norm above it, and Keras' answer for a norm that is not
/// finite: NaN for NaN; for infinity 0 with clipnorm (an infinite element
/// still becomes NaN) and NaN with global_clipnorm. Under dynamic loss
/// scaling such a step is skipped anyway.
inline double gradientClipFactor(double norm, double clip, bool global) {
  double factor = norm <= clip ? 1.0 : clip / norm;
  return global ? factor + (norm - norm) : factor;
}

/// The state slots an optimizer keeps per parameter, in order: sgd
/// [momentum] (none without momentum); adam / adamw [m, v] (+ v_hat with
/// amsgrad); rmsprop [velocity] (+ average_gradient if centered) (+
/// momentum if momentum > 0). The compiler names the slot parameters so.
std::vector<std::string> optimizerSlots(const OptimizerSettings &settings);

enum class LossKind {
  kCategoricalCrossentropy,
  kSparseCategoricalCrossentropy,
  kBinaryCrossentropy,
  kMeanSquaredError,
};

struct LossSettings {
  LossKind kind = LossKind::kCategoricalCrossentropy;
  bool fromLogits = false;
  double labelSmoothing = 0.0;
};
Status decodeLoss(const Setting &setting, LossSettings *out);

enum class MetricKind { kAccuracy, kTopKAccuracy };

struct MetricSettings {
  MetricKind kind = MetricKind::kAccuracy;
  std::string name; // the kind's name: the key of logs and checkpoints
  int64_t k = 1;    // top_k_accuracy; accuracy is top-1
};
Status decodeMetric(const Setting &setting, MetricSettings *out);

/// Dynamic loss scaling (runtime/loss_scale.h) or none.
struct LossScaleSettings {
  bool dynamic = false;
  double initialScale = 0;  // dynamic: a positive finite power of two or not
  int64_t growthSteps = 0;  // dynamic: finite steps in a row that double the scale
};
Status decodeLossScale(const Setting &setting, LossScaleSettings *out);

} // namespace dlc::rt
