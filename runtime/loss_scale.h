//===- loss_scale.h - Dynamic loss scaling's state and its step rule ------===//
//
// Keras' LossScaleOptimizer on the device: the loss gradient is multiplied by
// the scale, the optimizer divides each gradient by it again, and a step
// whose gradients are not all finite is skipped. The whole decision lives in
// one small f32 parameter (`optimizer/loss_scale`, saved with the other
// optimizer state), so a training step needs no host round trip and a
// resumed run continues exactly. dl.loss_scale_update computes the new state
// from the old one and the gradients; the ops after it in the step (the
// optimizer updates) read this step's verdict from the new state.
//
// The float64 reference, the CPU backend and the CUDA emitter follow
// nextLossScaleState; the CUDA emitter writes the same rule as kernel text.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace dlc::rt::loss_scale {

/// The parameter that holds the state (optimizer state: `slot of` kOwner).
constexpr const char *kStateName = "optimizer/loss_scale";
constexpr const char *kOwner = "optimizer";

/// The state's elements, in order.
enum Field : int {
  kScale = 0,        // the scale the next step multiplies the loss gradient by
  kGoodSteps = 1,    // finite steps since the scale last changed
  kSkippedSteps = 2, // steps skipped so far (the optimizer's own step count leaves them out)
  kStepFinite = 3,   // 1 when the last step's gradients were all finite (it was applied), else 0
  kStepScale = 4,    // the scale the last step's gradients carry (they are divided by it)
  kFields = 5,
};

/// Keras' defaults (LossScaleOptimizer(initial_scale=2**15, dynamic_growth_steps=2000)).
constexpr double kInitialScale = 32768.0;
constexpr int64_t kGrowthSteps = 2000;

/// The state before the first step.
inline void initialState(float initialScale, float *state) {
  state[kScale] = initialScale;
  state[kGoodSteps] = 0;
  state[kSkippedSteps] = 0;
  state[kStepFinite] = 1;
  state[kStepScale] = initialScale;
}

/// Keras' rule: a finite step counts, and the |growthSteps|-th in a row
/// doubles the scale; a step with an inf or NaN gradient is skipped and
/// halves the scale. |out| may be |state|.
inline void nextLossScaleState(const float *state, bool finite, int64_t growthSteps, float *out) {
  const float scale = state[kScale], good = state[kGoodSteps], skipped = state[kSkippedSteps];
  out[kStepScale] = scale;
  out[kStepFinite] = finite ? 1.0f : 0.0f;
  if (finite) {
    const bool grow = good + 1.0f >= float(growthSteps);
    out[kScale] = grow ? scale * 2.0f : scale;
    out[kGoodSteps] = grow ? 0.0f : good + 1.0f;
    out[kSkippedSteps] = skipped;
  } else {
    out[kScale] = scale * 0.5f;
    out[kGoodSteps] = 0.0f;
    out[kSkippedSteps] = skipped + 1.0f;
  }
}

} // namespace dlc::rt::loss_scale
