//===- FuzzTrainSetup.cpp - libFuzzer target: the training setup's JSON ---===//
//
// What a bundle's train_setup string goes through: the schema, then the
// decoders of the loss, optimizer and metrics the trainer calls.
//
//===----------------------------------------------------------------------===//
#include "runtime/settings.h"
#include "runtime/train_setup.h"

#include <nlohmann/json.hpp>

using namespace dlc::rt;
using json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json setup;
  if (!parseTrainSetup(std::string(reinterpret_cast<const char *>(data), size), &setup).ok() ||
      setup.empty())
    return 0;
  // The schema promises these reads cannot throw.
  LossSettings loss;
  (void)decodeLoss(settingOf(setup["loss"]), &loss);
  OptimizerSettings optimizer;
  if (decodeOptimizer(settingOf(setup["optimizer"]), &optimizer).ok())
    (void)optimizerSlots(optimizer);
  for (const json &m : setup["metrics"]) {
    MetricSettings metric;
    (void)decodeMetric(settingOf(m), &metric);
  }
  (void)setup["batch_size"].get<int64_t>();
  (void)setup["epochs"].get<int64_t>();
  (void)setup["shuffle"].get<bool>();
  return 0;
}
