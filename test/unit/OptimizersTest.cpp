//===- OptimizersTest.cpp - Keras optimizer steps -------------------------===//
//
// Each optimizer is checked against an independent formulation of the same
// update (PyTorch's algebra, where it is equivalent to Keras'), or against a
// closed form of its first steps.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/Optimizers.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace dlc::ref;

namespace {
RefTensor scalars(std::vector<double> values) {
  RefTensor t({int64_t(values.size())});
  t.data = std::move(values);
  return t;
}

std::vector<RefTensor> zeroSlots(const OptimizerConfig &config, int64_t size) {
  return std::vector<RefTensor>(optimizerSlots(config).size(), RefTensor({size}));
}

const std::vector<std::vector<double>> kGradients = {{0.5, -1.5, 2.0}, {-0.25, 0.75, 1.0},
                                                     {1.25, 0.5, -3.0}};
} // namespace

TEST(Optimizers, SlotsFollowTheConfiguration) {
  EXPECT_TRUE(optimizerSlots({"sgd"}).empty());
  OptimizerConfig momentum{"sgd"};
  momentum.momentum = 0.9;
  EXPECT_EQ(optimizerSlots(momentum), std::vector<std::string>{"momentum"});
  OptimizerConfig ams{"adam"};
  ams.amsgrad = true;
  EXPECT_EQ(optimizerSlots(ams), (std::vector<std::string>{"m", "v", "v_hat"}));
  OptimizerConfig rms{"rmsprop"};
  rms.centered = true;
  rms.momentum = 0.5;
  EXPECT_EQ(optimizerSlots(rms), (std::vector<std::string>{"velocity", "average_gradient", "momentum"}));
}

TEST(Optimizers, SgdMomentumAndNesterovMatchPyTorchsForm) {
  for (bool nesterov : {false, true}) {
    OptimizerConfig config{"sgd"};
    config.learningRate = 0.1;
    config.momentum = 0.9;
    config.nesterov = nesterov;
    RefTensor param = scalars({1.0, -2.0, 0.5});
    std::vector<RefTensor> slots = zeroSlots(config, 3);
    // PyTorch: buf = momentum * buf + g; p -= lr * (nesterov ? g + momentum * buf : buf).
    std::vector<double> p = param.data, buf(3, 0.0);
    for (size_t step = 0; step < kGradients.size(); ++step) {
      applyOptimizer(config, int64_t(step), param, scalars(kGradients[step]), slots);
      for (int i = 0; i < 3; ++i) {
        double g = kGradients[step][i];
        buf[i] = 0.9 * buf[i] + g;
        p[i] -= 0.1 * (nesterov ? g + 0.9 * buf[i] : buf[i]);
        EXPECT_NEAR(param[i], p[i], 1e-12) << "nesterov " << nesterov << " step " << step;
      }
    }
  }
}

TEST(Optimizers, AdamWithoutEpsilonIsTheBiasCorrectedForm) {
  OptimizerConfig config{"adam"};
  config.learningRate = 0.01;
  config.epsilon = 0.0; // where Keras and PyTorch put epsilon differently
  RefTensor param = scalars({1.0, -2.0, 0.5});
  std::vector<RefTensor> slots = zeroSlots(config, 3);
  std::vector<double> p = param.data, m(3, 0.0), v(3, 0.0);
  for (size_t step = 0; step < kGradients.size(); ++step) {
    applyOptimizer(config, int64_t(step), param, scalars(kGradients[step]), slots);
    double t = double(step + 1);
    for (int i = 0; i < 3; ++i) {
      double g = kGradients[step][i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      double mHat = m[i] / (1 - std::pow(0.9, t)), vHat = v[i] / (1 - std::pow(0.999, t));
      p[i] -= 0.01 * mHat / std::sqrt(vHat);
      EXPECT_NEAR(param[i], p[i], 1e-12) << "step " << step;
    }
  }
}

TEST(Optimizers, AdamsFirstStepIsTheLearningRateTimesTheSign) {
  OptimizerConfig config{"adam"};
  RefTensor param = scalars({1.0, 1.0});
  std::vector<RefTensor> slots = zeroSlots(config, 2);
  applyOptimizer(config, 0, param, scalars({3.0, -0.5}), slots);
  // m = 0.1 g, v = 0.001 g^2: the step is lr * sign(g) / (1 + eps / (sqrt(0.001) |g|)).
  auto step = [](double g) { return 0.001 / (1 + 1e-7 / (std::sqrt(0.001) * std::fabs(g))); };
  EXPECT_NEAR(param[0], 1.0 - step(3.0), 1e-15);
  EXPECT_NEAR(param[1], 1.0 + step(-0.5), 1e-15);
}

TEST(Optimizers, AmsgradNeverLetsTheDenominatorShrink) {
  OptimizerConfig config{"adam"};
  config.amsgrad = true;
  RefTensor param = scalars({0.0});
  std::vector<RefTensor> slots = zeroSlots(config, 1);
  applyOptimizer(config, 0, param, scalars({10.0}), slots);
  double peak = slots[2][0];
  applyOptimizer(config, 1, param, scalars({0.01}), slots);
  EXPECT_GT(peak, 0.0);
  EXPECT_LT(slots[1][0], peak);  // v decays ...
  EXPECT_EQ(slots[2][0], peak);  // ... v_hat keeps its maximum
}

TEST(Optimizers, AdamwDecaysWeightsByLearningRateTimesDecay) {
  OptimizerConfig config{"adamw"};
  config.learningRate = 0.01;
  config.weightDecay = 0.004;
  RefTensor param = scalars({2.0, -4.0});
  std::vector<RefTensor> slots = zeroSlots(config, 2);
  // A zero gradient moves nothing but the decay: p * (1 - lr * wd).
  applyOptimizer(config, 0, param, scalars({0.0, 0.0}), slots);
  EXPECT_DOUBLE_EQ(param[0], 2.0 * (1 - 0.01 * 0.004));
  EXPECT_DOUBLE_EQ(param[1], -4.0 * (1 - 0.01 * 0.004));
}

TEST(Optimizers, RmspropPutsEpsilonInsideTheSquareRoot) {
  for (bool centered : {false, true})
    for (double momentum : {0.0, 0.5}) {
      OptimizerConfig config{"rmsprop"};
      config.learningRate = 0.01;
      config.centered = centered;
      config.momentum = momentum;
      RefTensor param = scalars({1.0, -2.0, 0.5});
      std::vector<RefTensor> slots = zeroSlots(config, 3);
      std::vector<double> p = param.data, velocity(3, 0.0), average(3, 0.0), buffer(3, 0.0);
      for (size_t step = 0; step < kGradients.size(); ++step) {
        applyOptimizer(config, int64_t(step), param, scalars(kGradients[step]), slots);
        for (int i = 0; i < 3; ++i) {
          double g = kGradients[step][i];
          velocity[i] = 0.9 * velocity[i] + 0.1 * g * g;
          average[i] = 0.9 * average[i] + 0.1 * g;
          double denominator = velocity[i] - (centered ? average[i] * average[i] : 0.0) + 1e-7;
          double increment = 0.01 * g / std::sqrt(denominator);
          buffer[i] = momentum * buffer[i] + increment;
          p[i] -= momentum > 0 ? buffer[i] : increment;
          EXPECT_NEAR(param[i], p[i], 1e-12)
              << "centered " << centered << " momentum " << momentum << " step " << step;
        }
      }
    }
}
