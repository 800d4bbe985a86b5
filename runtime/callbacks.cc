//===- callbacks.cc - What model.fit does at each epoch's end ------------===//
#include "runtime/callbacks.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace dlc::rt {

using json = nlohmann::json;

bool Monitor::update(double value, int64_t epoch) {
  const bool better = !seen || (maximize ? value - minDelta > best : value + minDelta < best);
  if (better) {
    seen = true;
    best = value;
    bestEpoch = epoch;
    wait = 0;
  } else {
    ++wait;
  }
  return better;
}

bool maximizes(const std::string &quantity) {
  return quantity.find("acc") != std::string::npos;
}

Status decodeCallbacks(const std::string &setupJson, CallbackSettings *out) {
  *out = CallbackSettings();
  json setup = json::parse(setupJson, nullptr, false);
  if (setup.is_discarded() || !setup.is_object())
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, "unreadable training setup");
  try {
    for (const json &c : setup.value("callbacks", json::array())) {
      const std::string kind = c.at("kind").get<std::string>();
      const json &o = c.at("options");
      Monitor monitor;
      monitor.quantity = o.value("monitor", std::string("val_loss"));
      const std::string mode = o.value("mode", std::string("auto"));
      monitor.maximize = mode == "max" || (mode == "auto" && maximizes(monitor.quantity));
      if (kind == "early_stopping") {
        out->earlyStopping = true;
        monitor.minDelta = o.value("min_delta", 0.0);
        out->stopping = monitor;
        out->patience = o.value("patience", int64_t(0));
        out->startFromEpoch = o.value("start_from_epoch", int64_t(0));
        out->restoreBestWeights = o.value("restore_best_weights", false);
      } else if (kind == "model_checkpoint") {
        out->checkpointBest = true;
        out->checkpoint = monitor;
        out->saveBestOnly = o.value("save_best_only", true);
      } else if (kind == "tensorboard") {
        out->tensorboardDir = o.value("log_dir", std::string("logs"));
        out->tensorboardBatches = o.value("update_freq", std::string("epoch")) == "batch";
        if (out->tensorboardDir.empty())
          return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "tensorboard needs a log_dir");
      } else {
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "unknown callback '" + kind + "'");
      }
    }
  } catch (const std::exception &e) {
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, std::string("unreadable callbacks: ") + e.what());
  }
  return okStatus();
}

namespace {
json stateOf(const Monitor &m) {
  return {{"seen", m.seen}, {"best", m.best}, {"best_epoch", m.bestEpoch}, {"wait", m.wait}};
}
void readState(const json &j, Monitor *m) {
  m->seen = j.at("seen").get<bool>();
  m->best = j.at("best").get<double>();
  m->bestEpoch = j.at("best_epoch").get<int64_t>();
  m->wait = j.at("wait").get<int64_t>();
}
} // namespace

std::string callbackState(const CallbackSettings &settings) {
  return json{{"stopping", stateOf(settings.stopping)}, {"checkpoint", stateOf(settings.checkpoint)}}
      .dump();
}

Status restoreCallbackState(const std::string &text, CallbackSettings *settings) {
  json j = json::parse(text, nullptr, false);
  try {
    readState(j.at("stopping"), &settings->stopping);
    readState(j.at("checkpoint"), &settings->checkpoint);
  } catch (const std::exception &) {
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, "the callbacks' state is missing or damaged");
  }
  if (!std::isfinite(settings->stopping.best) || !std::isfinite(settings->checkpoint.best))
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, "the callbacks' state is damaged");
  return okStatus();
}

} // namespace dlc::rt
