//===- settings.cc - Optimizer, loss and metric settings, decoded once ----===//
#include "runtime/settings.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt {
namespace {

Status invalid(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, message);
}

/// The kinds of one setting category and the options each has.
template <typename Kind> struct KindTable {
  const char *category; // "optimizer", "loss", "metric"
  struct Entry {
    const char *name;
    Kind kind;
    std::vector<const char *> options;
  };
  std::vector<Entry> entries;

  /// Options that may be missing, be lists, or be settings of their own.
  struct Allowed {
    std::vector<std::string> optional, lists, settings;
  };

  /// The entry of |setting|'s kind, with every option it has present (but
  /// optional ones) and no other, every number finite, and lists and nested
  /// settings only where |allowed| says.
  Status find(const Setting &setting, const Entry **out, const Allowed &allowed = {}) const {
    auto in = [](const std::vector<std::string> &names, const std::string &name) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    for (const Entry &e : entries)
      if (setting.kind == e.name) {
        auto has = [&](const std::string &name) {
          return setting.options.count(name) || setting.lists.count(name) ||
                 setting.settings.count(name);
        };
        for (const char *option : e.options)
          if (!has(option) && !in(allowed.optional, option))
            return invalid(std::string(category) + " '" + e.name + "' is missing option '" +
                           option + "' (the compiler writes every option)");
        for (const auto &[name, values] : setting.lists)
          if (!in(allowed.lists, name))
            return invalid(std::string(category) + " '" + e.name + "' option '" + name +
                           "' must be one number, not a list");
        for (const auto &[name, nested] : setting.settings)
          if (!in(allowed.settings, name))
            return invalid(std::string(category) + " '" + e.name + "' option '" + name +
                           "' must be a number, not a setting");
        auto check = [&](const std::string &name, const std::vector<double> &values) -> Status {
          bool known = false;
          for (const char *option : e.options)
            known |= name == option;
          if (!known)
            return invalid(std::string(category) + " '" + e.name + "' has no option '" + name + "'");
          for (double value : values)
            if (!std::isfinite(value))
              return invalid(std::string(category) + " '" + e.name + "' option '" + name +
                             "' is not a finite number");
          return okStatus();
        };
        for (const auto &[name, value] : setting.options)
          DLC_RETURN_IF_ERROR(check(name, {value}), "");
        for (const auto &[name, values] : setting.lists)
          DLC_RETURN_IF_ERROR(check(name, values), "");
        for (const auto &[name, nested] : setting.settings)
          DLC_RETURN_IF_ERROR(check(name, {}), "");
        *out = &e;
        return okStatus();
      }
    std::string kinds;
    for (const Entry &e : entries)
      kinds += (kinds.empty() ? "" : ", ") + std::string(e.name);
    return invalid("unknown " + std::string(category) + " '" + setting.kind + "' (" + kinds + ")");
  }
};

} // namespace

Status decodeSchedule(const Setting &setting, LearningRateSchedule *out) {
  using K = ScheduleKind;
  static const KindTable<K> table{
      "learning-rate schedule",
      {{"exponential_decay", K::kExponentialDecay,
        {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"}},
       {"piecewise_constant", K::kPiecewiseConstant, {"boundaries", "values"}},
       {"cosine_decay", K::kCosineDecay,
        {"initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps"}}}};
  const KindTable<K>::Entry *entry;
  DLC_RETURN_IF_ERROR(table.find(setting, &entry, {{"warmup_target"}, {"boundaries", "values"}, {}}), "");
  auto get = [&](const char *name) {
    auto it = setting.options.find(name);
    return it == setting.options.end() ? 0.0 : it->second;
  };
  // A list of one is written as a number.
  auto list = [&](const char *name) {
    auto it = setting.lists.find(name);
    if (it != setting.lists.end())
      return it->second;
    auto number = setting.options.find(name);
    return number == setting.options.end() ? std::vector<double>{}
                                           : std::vector<double>{number->second};
  };
  LearningRateSchedule s;
  s.kind = entry->kind;
  s.initial = get("initial_learning_rate");
  s.decaySteps = get("decay_steps");
  s.decayRate = get("decay_rate");
  s.staircase = get("staircase") != 0;
  s.alpha = get("alpha");
  s.warmup = setting.options.count("warmup_target") != 0;
  s.warmupTarget = get("warmup_target");
  s.warmupSteps = get("warmup_steps");
  s.boundaries = list("boundaries");
  s.values = list("values");
  const std::string what = "learning-rate schedule '" + setting.kind + "'";
  if (s.kind != K::kPiecewiseConstant && !(s.decaySteps > 0))
    return invalid(what + ": decay_steps must be positive");
  if (s.kind == K::kPiecewiseConstant) {
    if (s.boundaries.empty() || s.values.size() != s.boundaries.size() + 1)
      return invalid(what + ": needs one more value than boundaries, got " +
                     std::to_string(s.values.size()) + " values and " +
                     std::to_string(s.boundaries.size()) + " boundaries");
    for (size_t i = 1; i < s.boundaries.size(); ++i)
      if (!(s.boundaries[i] > s.boundaries[i - 1]))
        return invalid(what + ": boundaries must increase");
  }
  *out = s;
  return okStatus();
}

double learningRateAt(const LearningRateSchedule &s, int64_t step) {
  const double t = double(step);
  switch (s.kind) {
  case ScheduleKind::kConstant:
    return s.initial;
  case ScheduleKind::kExponentialDecay: {
    double p = t / s.decaySteps;
    return s.initial * std::pow(s.decayRate, s.staircase ? std::floor(p) : p);
  }
  case ScheduleKind::kPiecewiseConstant: {
    size_t i = 0;
    while (i < s.boundaries.size() && t > s.boundaries[i])
      ++i;
    return s.values[i];
  }
  case ScheduleKind::kCosineDecay: {
    const double warmupSteps = s.warmup ? s.warmupSteps : 0;
    const double from = s.warmup ? s.warmupTarget : s.initial;
    const double clamped = std::min(t, s.decaySteps + warmupSteps);
    if (clamped < warmupSteps)
      return s.initial + (s.warmupTarget - s.initial) * (clamped / warmupSteps);
    const double cosine = 0.5 * (1.0 + std::cos(M_PI * (clamped - warmupSteps) / s.decaySteps));
    return from * ((1.0 - s.alpha) * cosine + s.alpha);
  }
  }
  return s.initial;
}

Status decodeOptimizer(const Setting &setting, OptimizerSettings *out) {
  using K = OptimizerKind;
  static const KindTable<K> table{
      "optimizer",
      {{"sgd", K::kSgd, {"learning_rate", "momentum", "nesterov", "clipvalue", "clipnorm", "global_clipnorm"}},
       {"adam", K::kAdam,
        {"learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "clipvalue", "clipnorm", "global_clipnorm"}},
       {"adamw", K::kAdamW,
        {"learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad", "clipvalue", "clipnorm",
         "global_clipnorm"}},
       {"rmsprop", K::kRmsprop,
        {"learning_rate", "rho", "momentum", "epsilon", "centered", "clipvalue", "clipnorm", "global_clipnorm"}}}};
  const KindTable<K>::Entry *entry;
  DLC_RETURN_IF_ERROR(
      table.find(setting, &entry, {{"clipvalue", "clipnorm", "global_clipnorm"}, {}, {"learning_rate"}}), "");
  auto get = [&](const char *name) {
    auto it = setting.options.find(name);
    return it == setting.options.end() ? 0.0 : it->second;
  };
  OptimizerSettings s;
  s.kind = entry->kind;
  if (auto schedule = setting.settings.find("learning_rate"); schedule != setting.settings.end())
    DLC_RETURN_IF_ERROR(decodeSchedule(schedule->second, &s.learningRate), "");
  else
    s.learningRate.initial = get("learning_rate");
  s.momentum = get("momentum");
  s.nesterov = get("nesterov") != 0;
  s.beta1 = get("beta_1");
  s.beta2 = get("beta_2");
  s.epsilon = get("epsilon");
  s.amsgrad = get("amsgrad") != 0;
  s.weightDecay = get("weight_decay");
  s.rho = get("rho");
  s.centered = get("centered") != 0;
  s.clipValue = get("clipvalue");
  s.clipNorm = get("clipnorm");
  s.globalClipNorm = get("global_clipnorm");
  int clips = 0;
  for (auto [name, value] : {std::pair{"clipvalue", s.clipValue}, {"clipnorm", s.clipNorm},
                             {"global_clipnorm", s.globalClipNorm}}) {
    if (!(value >= 0))
      return invalid("optimizer '" + setting.kind + "': " + name + " must be positive");
    clips += value > 0;
  }
  if (clips > 1) // as Keras' optimizers refuse it
    return invalid("optimizer '" + setting.kind +
                   "': set at most one of clipvalue, clipnorm and global_clipnorm");
  *out = s;
  return okStatus();
}

std::vector<std::string> optimizerSlots(const OptimizerSettings &s) {
  std::vector<std::string> slots;
  switch (s.kind) {
  case OptimizerKind::kSgd:
    if (s.momentum > 0)
      slots.push_back("momentum");
    break;
  case OptimizerKind::kAdam:
  case OptimizerKind::kAdamW:
    slots = {"m", "v"};
    if (s.amsgrad)
      slots.push_back("v_hat");
    break;
  case OptimizerKind::kRmsprop:
    slots.push_back("velocity");
    if (s.centered)
      slots.push_back("average_gradient");
    if (s.momentum > 0)
      slots.push_back("momentum");
    break;
  }
  return slots;
}

Status decodeLoss(const Setting &setting, LossSettings *out) {
  using K = LossKind;
  static const KindTable<K> table{
      "loss",
      {{"categorical_crossentropy", K::kCategoricalCrossentropy, {"from_logits", "label_smoothing"}},
       {"sparse_categorical_crossentropy", K::kSparseCategoricalCrossentropy, {"from_logits"}},
       {"binary_crossentropy", K::kBinaryCrossentropy, {"from_logits", "label_smoothing"}},
       {"mse", K::kMeanSquaredError, {}}}};
  const KindTable<K>::Entry *entry;
  DLC_RETURN_IF_ERROR(table.find(setting, &entry), "");
  LossSettings s;
  s.kind = entry->kind;
  auto it = setting.options.find("from_logits");
  s.fromLogits = it != setting.options.end() && it->second != 0;
  it = setting.options.find("label_smoothing");
  s.labelSmoothing = it != setting.options.end() ? it->second : 0.0;
  *out = s;
  return okStatus();
}

Status decodeMetric(const Setting &setting, MetricSettings *out) {
  using K = MetricKind;
  static const KindTable<K> table{
      "metric", {{"accuracy", K::kAccuracy, {}}, {"top_k_accuracy", K::kTopKAccuracy, {"k"}}}};
  const KindTable<K>::Entry *entry;
  DLC_RETURN_IF_ERROR(table.find(setting, &entry), "");
  MetricSettings s;
  s.kind = entry->kind;
  s.name = entry->name;
  if (s.kind == K::kTopKAccuracy) {
    double k = setting.options.at("k");
    if (k < 1 || k != std::floor(k) || k > 1e9)
      return invalid("metric 'top_k_accuracy' needs a whole k >= 1, got " + std::to_string(k));
    s.k = int64_t(k);
  }
  *out = s;
  return okStatus();
}

Status decodeLossScale(const Setting &setting, LossScaleSettings *out) {
  static const KindTable<bool> table{
      "loss scale", {{"dynamic", true, {"initial_scale", "growth_steps"}}, {"none", false, {}}}};
  const KindTable<bool>::Entry *entry;
  DLC_RETURN_IF_ERROR(table.find(setting, &entry), "");
  LossScaleSettings s;
  s.dynamic = entry->kind;
  if (s.dynamic) {
    s.initialScale = setting.options.at("initial_scale");
    double growth = setting.options.at("growth_steps");
    // A scale a float32 cannot hold would be inf before the first step.
    if (!(s.initialScale > 0) || s.initialScale > 1e38)
      return invalid("loss scale 'dynamic' needs an initial_scale in (0, 1e38], got " +
                     std::to_string(s.initialScale));
    if (growth < 1 || growth != std::floor(growth) || growth > 1e9)
      return invalid("loss scale 'dynamic' needs a whole growth_steps >= 1, got " +
                     std::to_string(growth));
    s.growthSteps = int64_t(growth);
  }
  *out = s;
  return okStatus();
}

} // namespace dlc::rt
