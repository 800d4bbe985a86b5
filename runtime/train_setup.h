//===- train_setup.h - The training setup's JSON, checked against its schema -===//
//
// A bundle carries its training setup (model.compile + model.fit) as JSON,
// written by the compiler from dl.train_setup. Read from an untrusted file,
// it is checked here against the schema once, when the bundle loads, so the
// trainer and the data pipeline read fields whose presence and types are
// known (no JSON type error can escape at training time).
//
//   {"batch_size": int >= 1, "epochs": int >= 1, "shuffle": bool,
//    "precision": string, "validation": string | number,
//    "loss": setting | [setting] (one per model output),
//    "loss_weights": [number] (optional, one per output),
//    "optimizer": setting, "metrics": [setting],
//    "metric_outputs": [int] (optional: the output each metric scores),
//    "data_transforms": [data setting], "data_source": data setting (optional),
//    "device_transforms_from": int <= the number of data transforms (optional:
//    the transforms from there on run in the training step, dl.augment)}
//   setting:      {"kind": string, "options": {name: number | bool}}
//   data setting: {"kind": string, "options": {name: number | bool | string}}
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/settings.h"
#include "runtime/status.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace dlc::rt {

/// Parses |text| into |out| and checks it against the schema above; errors
/// name the field ("'shuffle' must be a boolean, got a string"). `{}` (a
/// model without a `train` block) is valid and stays empty.
Status parseTrainSetup(const std::string &text, nlohmann::json *out);

/// A setting (loss, optimizer, metric) of a setup that parseTrainSetup
/// accepted, to decode (runtime/settings.h); booleans become 0 or 1.
Setting settingOf(const nlohmann::json &setting);

} // namespace dlc::rt
