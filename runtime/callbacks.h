//===- callbacks.h - What model.fit does at each epoch's end -------------===//
//
// The training setup's `callbacks`, with keras.callbacks' semantics:
//
//   early_stopping(monitor=val_loss, mode=auto, patience=0, min_delta=0,
//                  restore_best_weights=false, start_from_epoch=0)
//       stops when |monitor| has not improved by more than min_delta for
//       `patience` epochs in a row (never in the first epoch, nor before
//       start_from_epoch); restore_best_weights puts back the weights of the
//       best epoch when training ends
//   model_checkpoint(monitor=val_loss, mode=auto, save_best_only=true)
//       keeps the best epoch's weights in <checkpoint dir>/best.safetensors,
//       and with save_best_only=false every epoch's in epoch-<N>.safetensors
//   tensorboard(log_dir="logs", update_freq=epoch)
//       TensorBoard event files (runtime/tensorboard.h) in log_dir/train
//       (epoch_loss, epoch_<metric>, epoch_learning_rate at each epoch) and
//       log_dir/validation (epoch_loss, epoch_<metric>); with
//       update_freq=batch also batch_loss, batch_<metric> (the epoch's
//       running values) and batch_learning_rate after every step
//
// mode `auto` maximizes quantities named like accuracy and minimizes the
// others. The monitors' state (best value and epoch, epochs waited) is a
// small JSON object the trainer keeps in its checkpoint, so --resume
// continues the same decisions.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <map>
#include <string>
#include <vector>

namespace dlc::rt {

struct Monitor {
  std::string quantity = "val_loss";
  bool maximize = false;
  double minDelta = 0;
  // State.
  bool seen = false;
  double best = 0;
  int64_t bestEpoch = 0; // 1-based
  int64_t wait = 0;

  /// Records |value| of epoch |epoch| (1-based); true when it improves on
  /// the best by more than minDelta (the first value always does).
  bool update(double value, int64_t epoch);
};

struct CallbackSettings {
  bool earlyStopping = false;
  Monitor stopping;
  int64_t patience = 0, startFromEpoch = 0;
  bool restoreBestWeights = false;
  bool checkpointBest = false;
  Monitor checkpoint;
  bool saveBestOnly = true;
  std::string tensorboardDir; // empty: no tensorboard callback
  bool tensorboardBatches = false;
};

/// Decodes the setup's `callbacks` (JSON list of {kind, options}).
Status decodeCallbacks(const std::string &setupJson, CallbackSettings *out);
/// Whether mode `auto` maximizes |quantity| (accuracy-like names).
bool maximizes(const std::string &quantity);

/// The monitors' state as JSON, and back.
std::string callbackState(const CallbackSettings &settings);
Status restoreCallbackState(const std::string &json, CallbackSettings *settings);

} // namespace dlc::rt
