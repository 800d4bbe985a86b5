//===- settings.cc - Optimizer, loss and metric settings, decoded once ----===//
#include "runtime/settings.h"

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

  /// The entry of |setting|'s kind, with every option it has present and no
  /// other; reads them through |value|.
  Status find(const Setting &setting, const Entry **out) const {
    for (const Entry &e : entries)
      if (setting.kind == e.name) {
        for (const char *option : e.options)
          if (!setting.options.count(option))
            return invalid(std::string(category) + " '" + e.name + "' is missing option '" +
                           option + "' (the compiler writes every option)");
        for (const auto &[name, value] : setting.options) {
          bool known = false;
          for (const char *option : e.options)
            known |= name == option;
          if (!known)
            return invalid(std::string(category) + " '" + e.name + "' has no option '" + name + "'");
          if (!std::isfinite(value))
            return invalid(std::string(category) + " '" + e.name + "' option '" + name +
                           "' is not a finite number");
        }
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

Status decodeOptimizer(const Setting &setting, OptimizerSettings *out) {
  using K = OptimizerKind;
  static const KindTable<K> table{
      "optimizer",
      {{"sgd", K::kSgd, {"learning_rate", "momentum", "nesterov"}},
       {"adam", K::kAdam, {"learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"}},
       {"adamw",
        K::kAdamW,
        {"learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"}},
       {"rmsprop", K::kRmsprop, {"learning_rate", "rho", "momentum", "epsilon", "centered"}}}};
  const KindTable<K>::Entry *entry;
  DLC_RETURN_IF_ERROR(table.find(setting, &entry), "");
  auto get = [&](const char *name) {
    auto it = setting.options.find(name);
    return it == setting.options.end() ? 0.0 : it->second;
  };
  OptimizerSettings s;
  s.kind = entry->kind;
  s.learningRate = get("learning_rate");
  s.momentum = get("momentum");
  s.nesterov = get("nesterov") != 0;
  s.beta1 = get("beta_1");
  s.beta2 = get("beta_2");
  s.epsilon = get("epsilon");
  s.amsgrad = get("amsgrad") != 0;
  s.weightDecay = get("weight_decay");
  s.rho = get("rho");
  s.centered = get("centered") != 0;
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
