//===- LearningRateScheduleTest.cpp - keras.optimizers.schedules ----------===//
//
// The runtime's schedules (runtime/settings.h, what the CPU backend uses and
// the CUDA emitter writes out) against the reference's (written as Keras'
// source writes them) over every step of a run, against values computed by
// hand from Keras' formulas, and their errors.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/Optimizers.h"
#include "runtime/settings.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace dlc;

namespace {

struct Case {
  const char *name;
  rt::Setting setting;
};

rt::Setting schedule(const char *kind, std::map<std::string, double> options,
                     std::map<std::string, std::vector<double>> lists = {}) {
  rt::Setting s;
  s.kind = kind;
  s.options = std::move(options);
  s.lists = std::move(lists);
  return s;
}

rt::LearningRateSchedule decoded(const rt::Setting &setting) {
  rt::LearningRateSchedule s;
  rt::Status status = rt::decodeSchedule(setting, &s);
  EXPECT_TRUE(status.ok()) << status.message();
  return s;
}

ref::OptimizerConfig referenceConfig(const rt::Setting &setting) {
  ref::OptimizerConfig config{"sgd"};
  ref::ScheduleConfig &s = config.schedule;
  s.kind = setting.kind;
  auto get = [&](const char *name) {
    auto it = setting.options.find(name);
    return it == setting.options.end() ? 0.0 : it->second;
  };
  s.initialLearningRate = get("initial_learning_rate");
  s.decaySteps = get("decay_steps");
  s.decayRate = get("decay_rate");
  s.staircase = get("staircase") != 0;
  s.alpha = get("alpha");
  s.warmupSteps = get("warmup_steps");
  if (setting.options.count("warmup_target"))
    s.warmupTarget = get("warmup_target");
  if (setting.lists.count("boundaries"))
    s.boundaries = setting.lists.at("boundaries");
  if (setting.lists.count("values"))
    s.values = setting.lists.at("values");
  return config;
}

std::vector<Case> cases() {
  return {
      {"exponential", schedule("exponential_decay", {{"initial_learning_rate", 0.1},
                                                     {"decay_steps", 3},
                                                     {"decay_rate", 0.5},
                                                     {"staircase", 0}})},
      {"exponential_staircase", schedule("exponential_decay", {{"initial_learning_rate", 0.1},
                                                               {"decay_steps", 3},
                                                               {"decay_rate", 0.5},
                                                               {"staircase", 1}})},
      {"piecewise", schedule("piecewise_constant", {},
                             {{"boundaries", {2, 5}}, {"values", {1.0, 0.5, 0.1}}})},
      {"cosine", schedule("cosine_decay", {{"initial_learning_rate", 0.1},
                                           {"decay_steps", 8},
                                           {"alpha", 0.1},
                                           {"warmup_steps", 3}})},
      {"cosine_warmup", schedule("cosine_decay", {{"initial_learning_rate", 0.01},
                                                  {"decay_steps", 8},
                                                  {"alpha", 0},
                                                  {"warmup_target", 0.2},
                                                  {"warmup_steps", 4}})},
  };
}

TEST(LearningRateScheduleTest, RuntimeMatchesTheReferenceAtEveryStep) {
  for (const Case &c : cases()) {
    SCOPED_TRACE(c.name);
    rt::LearningRateSchedule runtime = decoded(c.setting);
    ref::OptimizerConfig reference = referenceConfig(c.setting);
    for (int64_t step = 0; step < 20; ++step) {
      double want = ref::learningRate(reference, step);
      EXPECT_NEAR(rt::learningRateAt(runtime, step), want, 1e-15 * std::abs(want)) << "step " << step;
    }
  }
}

TEST(LearningRateScheduleTest, KerasValues) {
  // Computed by hand from keras/src/optimizers/schedules.
  auto at = [](const rt::Setting &s, int64_t step) { return rt::learningRateAt(decoded(s), step); };
  std::vector<Case> c = cases();
  EXPECT_DOUBLE_EQ(at(c[0].setting, 3), 0.05);
  EXPECT_DOUBLE_EQ(at(c[0].setting, 6), 0.025);
  EXPECT_DOUBLE_EQ(at(c[1].setting, 5), 0.05); // floor(5 / 3) = 1
  EXPECT_DOUBLE_EQ(at(c[2].setting, 2), 1.0);  // step <= 2
  EXPECT_DOUBLE_EQ(at(c[2].setting, 3), 0.5);
  EXPECT_DOUBLE_EQ(at(c[2].setting, 6), 0.1);
  // No warmup_target: warmup_steps is ignored, half way down at step 4.
  EXPECT_DOUBLE_EQ(at(c[3].setting, 4), 0.1 * (0.9 * 0.5 + 0.1));
  EXPECT_DOUBLE_EQ(at(c[3].setting, 100), 0.1 * 0.1);
  // Warmup: linear from 0.01 to 0.2 over 4 steps, then down from 0.2.
  EXPECT_DOUBLE_EQ(at(c[4].setting, 0), 0.01);
  EXPECT_DOUBLE_EQ(at(c[4].setting, 2), 0.01 + 0.19 * 0.5);
  EXPECT_DOUBLE_EQ(at(c[4].setting, 4), 0.2);
  EXPECT_DOUBLE_EQ(at(c[4].setting, 8), 0.1);
  EXPECT_NEAR(at(c[4].setting, 12), 0.0, 1e-17);
}

TEST(LearningRateScheduleTest, ConstantRateIsTheOptimizersOption) {
  rt::Setting sgd{"sgd", {{"learning_rate", 0.25}, {"momentum", 0}, {"nesterov", 0}}};
  rt::OptimizerSettings s;
  ASSERT_TRUE(rt::decodeOptimizer(sgd, &s).ok());
  EXPECT_EQ(s.learningRate.kind, rt::ScheduleKind::kConstant);
  EXPECT_EQ(rt::learningRateAt(s.learningRate, 1000), 0.25);
  sgd.options.erase("learning_rate");
  sgd.settings["learning_rate"] = cases()[0].setting;
  ASSERT_TRUE(rt::decodeOptimizer(sgd, &s).ok());
  EXPECT_DOUBLE_EQ(rt::learningRateAt(s.learningRate, 3), 0.05);
}

TEST(LearningRateScheduleTest, MalformedSchedulesAreErrors) {
  rt::LearningRateSchedule s;
  auto message = [&](const rt::Setting &setting) {
    rt::Status status = rt::decodeSchedule(setting, &s);
    return status.ok() ? std::string() : status.message();
  };
  EXPECT_NE(message(schedule("piecewise_constant", {}, {{"boundaries", {2, 5}}, {"values", {1, 2}}}))
                .find("one more value than boundaries"),
            std::string::npos);
  EXPECT_NE(message(schedule("piecewise_constant", {}, {{"boundaries", {5, 2}}, {"values", {1, 2, 3}}}))
                .find("boundaries must increase"),
            std::string::npos);
  EXPECT_NE(message(schedule("exponential_decay", {{"initial_learning_rate", 0.1},
                                                   {"decay_steps", 0},
                                                   {"decay_rate", 0.5},
                                                   {"staircase", 0}}))
                .find("decay_steps must be positive"),
            std::string::npos);
  EXPECT_NE(message(schedule("cosine_decay", {{"initial_learning_rate", 0.1}})).find("missing option"),
            std::string::npos);
  EXPECT_NE(message(schedule("step_decay", {})).find("unknown learning-rate schedule"), std::string::npos);

  // A hostile bundle's settings: a list or a setting where a number belongs
  // is an error, not a silently ignored option.
  rt::Setting sgd{"sgd", {{"momentum", 0}, {"nesterov", 0}}};
  sgd.lists["learning_rate"] = {0.1, 0.2};
  rt::OptimizerSettings decodedSgd;
  rt::Status status = rt::decodeOptimizer(sgd, &decodedSgd);
  EXPECT_NE(status.message().find("'learning_rate' must be one number, not a list"), std::string::npos)
      << status.message();
  sgd.lists.clear();
  sgd.options["learning_rate"] = 0.1;
  sgd.settings["momentum"] = cases()[0].setting;
  sgd.options.erase("momentum");
  status = rt::decodeOptimizer(sgd, &decodedSgd);
  EXPECT_NE(status.message().find("'momentum' must be a number, not a setting"), std::string::npos)
      << status.message();
}

} // namespace
