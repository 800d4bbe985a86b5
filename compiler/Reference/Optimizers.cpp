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

namespace {
void sgd(const OptimizerConfig &c, RefTensor &p, const RefTensor &g, std::vector<RefTensor> &s) {
  for (int64_t i = 0; i < p.size(); ++i) {
    if (c.momentum <= 0) {
      p[i] -= c.learningRate * g[i];
      continue;
    }
    double &m = s[0][i];
    m = c.momentum * m - c.learningRate * g[i];
    p[i] += c.nesterov ? c.momentum * m - c.learningRate * g[i] : m;
  }
}

void adam(const OptimizerConfig &c, int64_t step, RefTensor &p, const RefTensor &g,
          std::vector<RefTensor> &s) {
  if (c.kind == "adamw") // decoupled weight decay, before the gradient step
    for (int64_t i = 0; i < p.size(); ++i)
      p[i] -= p[i] * c.weightDecay * c.learningRate;
  double t = double(step + 1);
  double lr = c.learningRate * std::sqrt(1 - std::pow(c.beta2, t)) / (1 - std::pow(c.beta1, t));
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

void rmsprop(const OptimizerConfig &c, RefTensor &p, const RefTensor &g, std::vector<RefTensor> &s) {
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
    double increment = c.learningRate * g[i] / std::sqrt(denominator + c.epsilon);
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
                    const RefTensor &grad, std::vector<RefTensor> &slots) {
  if (config.kind == "sgd")
    sgd(config, param, grad, slots);
  else if (config.kind == "adam" || config.kind == "adamw")
    adam(config, step, param, grad, slots);
  else
    rmsprop(config, param, grad, slots);
}

} // namespace dlc::ref
