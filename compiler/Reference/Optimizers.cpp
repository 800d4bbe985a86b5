//===- Optimizers.cpp - Keras optimizer updates in float64 ---------------===//
//
// Formulas as keras/src/optimizers/{sgd,adam,adamw,rmsprop}.py (Keras 3) write
// them, including where epsilon sits: outside the square root with Adam's
// bias correction folded into the step size, inside it for RMSprop.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/Optimizers.h"

#include <algorithm>
#include <cmath>

namespace dlc::ref {

std::vector<std::string> optimizerSlots(const OptimizerConfig &config) {
  if (config.kind == "sgd")
    return config.momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
  if (config.kind == "adam" || config.kind == "adamw") {
    std::vector<std::string> slots{"m", "v"};
    if (config.amsgrad)
      slots.push_back("v_hat");
    return slots;
  }
  std::vector<std::string> slots{"velocity"};
  if (config.centered)
    slots.push_back("average_gradient");
  if (config.momentum > 0)
    slots.push_back("momentum");
  return slots;
}

// As keras/src/optimizers/schedules/learning_rate_schedule.py writes them.
double learningRate(const OptimizerConfig &config, int64_t step) {
  const ScheduleConfig &s = config.schedule;
  double globalStep = double(step);
  if (s.kind == "exponential_decay") {
    double p = globalStep / s.decaySteps;
    if (s.staircase)
      p = std::floor(p);
    return s.initialLearningRate * std::pow(s.decayRate, p);
  }
  if (s.kind == "piecewise_constant") {
    if (globalStep <= s.boundaries.front())
      return s.values.front();
    if (globalStep > s.boundaries.back())
      return s.values.back();
    for (size_t i = 0; i + 1 < s.boundaries.size(); ++i)
      if (globalStep > s.boundaries[i] && globalStep <= s.boundaries[i + 1])
        return s.values[i + 1];
  }
  if (s.kind == "cosine_decay") {
    auto decay = [&](double recomputed, double from) {
      double completedFraction = recomputed / s.decaySteps;
      double cosineDecayed = 0.5 * (1.0 + std::cos(M_PI * completedFraction));
      return from * ((1 - s.alpha) * cosineDecayed + s.alpha);
    };
    if (!s.warmupTarget)
      return decay(std::min(globalStep, s.decaySteps), s.initialLearningRate);
    double recomputed = std::min(globalStep, s.decaySteps + s.warmupSteps);
    if (recomputed < s.warmupSteps)
      return (*s.warmupTarget - s.initialLearningRate) * (recomputed / s.warmupSteps) +
             s.initialLearningRate;
    return decay(recomputed - s.warmupSteps, *s.warmupTarget);
  }
  return config.learningRate;
}

namespace {
void sgd(const OptimizerConfig &c, double rate, RefTensor &p, const RefTensor &g,
         std::vector<RefTensor> &s) {
  for (int64_t i = 0; i < p.size(); ++i) {
    if (c.momentum <= 0) {
      p[i] -= rate * g[i];
      continue;
    }
    double &m = s[0][i];
    m = c.momentum * m - rate * g[i];
    p[i] += c.nesterov ? c.momentum * m - rate * g[i] : m;
  }
}

void adam(const OptimizerConfig &c, double rate, int64_t step, RefTensor &p, const RefTensor &g,
          std::vector<RefTensor> &s) {
  if (c.kind == "adamw") // decoupled weight decay, before the gradient step
    for (int64_t i = 0; i < p.size(); ++i)
      p[i] -= p[i] * c.weightDecay * rate;
  double t = double(step + 1);
  double lr = rate * std::sqrt(1 - std::pow(c.beta2, t)) / (1 - std::pow(c.beta1, t));
  for (int64_t i = 0; i < p.size(); ++i) {
    double &m = s[0][i], &v = s[1][i];
    m += (g[i] - m) * (1 - c.beta1);
    v += (g[i] * g[i] - v) * (1 - c.beta2);
    double denominator = v;
    if (c.amsgrad) {
      s[2][i] = std::max(s[2][i], v);
      denominator = s[2][i];
    }
    p[i] -= lr * m / (std::sqrt(denominator) + c.epsilon);
  }
}

void rmsprop(const OptimizerConfig &c, double rate, RefTensor &p, const RefTensor &g,
             std::vector<RefTensor> &s) {
  size_t momentumSlot = c.centered ? 2 : 1;
  for (int64_t i = 0; i < p.size(); ++i) {
    double &velocity = s[0][i];
    velocity = c.rho * velocity + (1 - c.rho) * g[i] * g[i];
    double denominator = velocity;
    if (c.centered) {
      double &average = s[1][i];
      average = c.rho * average + (1 - c.rho) * g[i];
      denominator -= average * average;
    }
    double increment = rate * g[i] / std::sqrt(denominator + c.epsilon);
    if (c.momentum > 0) {
      double &buffer = s[momentumSlot][i];
      buffer = c.momentum * buffer + increment;
      p[i] -= buffer;
    } else {
      p[i] -= increment;
    }
  }
}
} // namespace

void applyOptimizer(const OptimizerConfig &config, int64_t step, RefTensor &param,
                    const RefTensor &grad, std::vector<RefTensor> &slots,
                    std::optional<double> gradNorm) {
  const double rate = learningRate(config, step);
  // Keras' optimizer._clip_gradients, written as Keras 3 writes it.
  RefTensor clipped = grad;
  if (config.clipNorm) {
    // _clip_by_norm: values * clipnorm / maximum(l2norm, clipnorm), where
    // l2norm is sqrt(l2sum) only where l2sum > 0 (else l2sum itself).
    const double c = *config.clipNorm, norm = gradNorm.value_or(NAN);
    const double denominator = std::isnan(norm) ? norm : std::max(norm, c);
    for (double &g : clipped.data)
      g = g * c / denominator;
  } else if (config.globalClipNorm) {
    // clip_by_global_norm: scale = clip * minimum(1 / norm, 1 / clip) +
    // (norm - norm), which is NaN for a norm that is not finite.
    const double c = *config.globalClipNorm, norm = gradNorm.value_or(NAN);
    const double scale = c * std::min(1.0 / norm, 1.0 / c) + (norm - norm);
    for (double &g : clipped.data)
      g = g * (std::isnan(norm) ? norm : scale);
  }
  if (config.clipValue)
    for (double &g : clipped.data)
      g = std::isnan(g) ? g : std::min(std::max(g, -*config.clipValue), *config.clipValue);
  if (config.kind == "sgd")
    sgd(config, rate, param, clipped, slots);
  else if (config.kind == "adam" || config.kind == "adamw")
    adam(config, rate, step, param, clipped, slots);
  else
    rmsprop(config, rate, param, clipped, slots);
}

} // namespace dlc::ref
