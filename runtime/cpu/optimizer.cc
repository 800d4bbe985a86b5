//===- optimizer.cc - Keras optimizer steps on one parameter --------------===//
//
// Per-step scalars (Adam's bias-corrected step size) are computed once in
// double; the per-element arithmetic is float32 in ref::applyOptimizer's
// order of operations.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/optimizer.h"

#include "runtime/cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

namespace dlc::rt::cpu {

namespace {
/// The gradient as the update reads it: divided by the step's loss scale
/// (1 without loss scaling: x / 1 is x), multiplied by the clip-by-norm
/// factor (1 without) and clipped to [-clip, clip] (infinite without
/// clipvalue; NaN stays NaN), element by element inside the update's own
/// pass.
struct Gradient {
  const float *g;
  float divisor;
  float factor;
  float clip;
  float operator[](int64_t i) const {
    float v = g[i] / divisor * factor;
    return v > clip ? clip : (v < -clip ? -clip : v);
  }
};

template <typename Body>
void elements(int64_t n, Body body) {
  parallelBlocks(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      body(i);
  });
}

void sgd(const OptimizerConfig &c, double rate, float *p, Gradient g, float *const *s, int64_t n) {
  const float lr = float(rate), mu = float(c.momentum);
  if (mu <= 0) {
    elements(n, [=](int64_t i) { p[i] -= lr * g[i]; });
    return;
  }
  float *m = s[0];
  if (c.nesterov)
    elements(n, [=](int64_t i) {
      m[i] = mu * m[i] - lr * g[i];
      p[i] += mu * m[i] - lr * g[i];
    });
  else
    elements(n, [=](int64_t i) {
      m[i] = mu * m[i] - lr * g[i];
      p[i] += m[i];
    });
}

void adam(const OptimizerConfig &c, double rate, int64_t step, float *p, Gradient g,
          float *const *s, int64_t n) {
  if (c.kind == OptimizerKind::kAdamW) { // decoupled weight decay, before the gradient step
    const float decay = float(c.weightDecay * rate);
    elements(n, [=](int64_t i) { p[i] -= p[i] * decay; });
  }
  const double t = double(step + 1);
  const float lr = float(rate * std::sqrt(1.0 - std::pow(c.beta2, t)) /
                         (1.0 - std::pow(c.beta1, t)));
  const float oneMinusBeta1 = float(1.0 - c.beta1), oneMinusBeta2 = float(1.0 - c.beta2),
              eps = float(c.epsilon);
  float *m = s[0], *v = s[1];
  if (c.amsgrad) {
    float *vHat = s[2];
    elements(n, [=](int64_t i) {
      m[i] += (g[i] - m[i]) * oneMinusBeta1;
      v[i] += (g[i] * g[i] - v[i]) * oneMinusBeta2;
      vHat[i] = std::max(vHat[i], v[i]);
      p[i] -= lr * m[i] / (std::sqrt(vHat[i]) + eps);
    });
  } else {
    elements(n, [=](int64_t i) {
      m[i] += (g[i] - m[i]) * oneMinusBeta1;
      v[i] += (g[i] * g[i] - v[i]) * oneMinusBeta2;
      p[i] -= lr * m[i] / (std::sqrt(v[i]) + eps);
    });
  }
}

void rmsprop(const OptimizerConfig &c, double rate, float *p, Gradient g, float *const *s,
             int64_t n) {
  const float rho = float(c.rho), oneMinusRho = float(1.0 - c.rho), lr = float(rate),
              eps = float(c.epsilon), mu = float(c.momentum);
  float *velocity = s[0];
  float *average = c.centered ? s[1] : nullptr;
  float *buffer = mu > 0 ? s[c.centered ? 2 : 1] : nullptr;
  // Four variants, so that no loop tests a flag per element.
  auto run = [&](auto centered, auto withMomentum) {
    elements(n, [=](int64_t i) {
      velocity[i] = rho * velocity[i] + oneMinusRho * g[i] * g[i];
      float denominator = velocity[i];
      if constexpr (decltype(centered)::value) {
        average[i] = rho * average[i] + oneMinusRho * g[i];
        denominator -= average[i] * average[i];
      }
      float increment = lr * g[i] / std::sqrt(denominator + eps);
      if constexpr (decltype(withMomentum)::value) {
        buffer[i] = mu * buffer[i] + increment;
        p[i] -= buffer[i];
      } else {
        p[i] -= increment;
      }
    });
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (average && buffer)
    run(Yes{}, Yes{});
  else if (average)
    run(Yes{}, No{});
  else if (buffer)
    run(No{}, Yes{});
  else
    run(No{}, No{});
}
} // namespace

Status applyOptimizer(const OptimizerConfig &config, int64_t step, float *param,
                      const float *gradient, float lossScale, float clipFactor, float *const *slots,
                      int slotCount, int64_t n) {
  const Gradient grad{gradient, lossScale, clipFactor,
                      config.clipValue > 0 ? float(config.clipValue) : std::numeric_limits<float>::infinity()};
  int expected = int(optimizerSlots(config).size());
  if (slotCount != expected)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "optimizer expects " + std::to_string(expected) + " slots, got " +
                               std::to_string(slotCount));
  const double rate = learningRateAt(config.learningRate, step);
  switch (config.kind) {
  case OptimizerKind::kSgd:
    sgd(config, rate, param, grad, slots, n);
    break;
  case OptimizerKind::kAdam:
  case OptimizerKind::kAdamW:
    adam(config, rate, step, param, grad, slots, n);
    break;
  case OptimizerKind::kRmsprop:
    rmsprop(config, rate, param, grad, slots, n);
    break;
  }
  return okStatus();
}

} // namespace dlc::rt::cpu
