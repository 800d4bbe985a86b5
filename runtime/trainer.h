//===- trainer.h - model.fit() for a bundle -------------------------------===//
//
// Runs the training setup a bundle carries (data source and steps, loss,
// metrics, epochs) on a Session: shuffled epochs of train_step, validation at
// each epoch end, atomic checkpoints, and an exact resume (the data order is
// a function of (seed, epoch), dropout of the step). Reports through
// callbacks; the runtime never prints.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/session.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace dlc::rt {

/// Loss and metrics over some examples ("accuracy", "top_5_accuracy", ...).
/// Whether a program input holds a model output's labels: `labels`, or
/// `<output>/labels` for each output of a model with several (the
/// compiler's dlc-autodiff names them so).
bool isLabelsInput(const std::string &name);

struct MetricValues {
  double loss = 0;
  std::map<std::string, double> metrics;
  int64_t examples = 0;
};

struct Progress {
  int64_t epoch = 0, epochs = 0;  // 0-based epoch
  int64_t batch = 0, batches = 0; // batches done in this epoch
  MetricValues running;
  double samplesPerSecond = 0, seconds = 0;
  int64_t step = 0; // training steps done so far
  /// The rate the next step uses (Keras' optimizer.learning_rate). Under
  /// dynamic loss scaling, steps skipped in this epoch still count here;
  /// EpochLog's is exact.
  double learningRate = 0;
};

struct EpochLog {
  int64_t epoch = 0; // 1-based, as Keras prints
  MetricValues train, validation;
  bool validated = false;
  bool cutShort = false; // stopped by maxSteps before the epoch ended
  double samplesPerSecond = 0, seconds = 0;
  int64_t step = 0;      // training steps done so far
  double learningRate = 0; // the rate the next step uses
  /// Seconds the steps waited for their batch (made ahead on a worker
  /// thread): 0 when reading and augmenting keep up with training.
  double dataWaitSeconds = 0;
  /// Dynamic loss scaling (runtime/loss_scale.h), read once per epoch.
  bool lossScaled = false;
  double lossScale = 0;      // the scale the next step uses
  int64_t skippedSteps = 0;  // steps skipped for inf/NaN gradients so far
  /// What the callbacks did at this epoch's end (best weights kept, training
  /// stopped early), for the progress line; empty when nothing.
  std::string callbackNote;
};

struct TrainOptions {
  int64_t epochs = 0;   // 0: the setup's
  int64_t maxSteps = 0; // 0: no limit; else stop after this many steps in all
  uint64_t seed = 0;    // data order and augmentation
  /// Overrides the setup's data source: "kind" or "kind:key=value,key=value".
  std::string data;
  std::string checkpointPath; // empty: no checkpoints
  int64_t checkpointEverySteps = 500;
  bool resume = false;
  bool checkNumerics = false; // RunOptions::checkNumerics for every step and evaluation
  std::function<void(const Progress &)> onProgress;
  std::function<void(const EpochLog &)> onEpoch;
  /// Once per run, when the loss of a step exceeds 100 times the first
  /// step's (and 10): the usual sign of a run about to diverge.
  std::function<void(const std::string &)> onWarning;
};

class Trainer {
public:
  static Status create(Session &session, const TrainOptions &options,
                       std::unique_ptr<Trainer> *out);
  ~Trainer();

  /// Trains for the configured epochs (or until maxSteps), resuming from the
  /// checkpoint first when asked and one exists.
  Status fit();
  /// Loss and metrics of the "infer" program on the validation split.
  Status evaluate(MetricValues *out);
  /// Reads |batches| training batches (epoch after epoch, as fit() would)
  /// through the same prefetching loader, without training: the input
  /// pipeline's own throughput (reading, decoding, augmenting). |*examples|
  /// and |*seconds| are what it read and how long that took.
  Status readData(int64_t batches, int64_t *examples, double *seconds);
  /// What the data source says about itself (counts, vocabulary coverage...).
  std::string dataSummary() const;

private:
  struct State;
  explicit Trainer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Peak resident memory of this process in bytes.
uint64_t peakResidentBytes();

} // namespace dlc::rt
