//===- trainer.cc - model.fit() for a bundle ------------------------------===//
#include "runtime/trainer.h"
#include "runtime/callbacks.h"
#include "runtime/tensorboard.h"
#include "runtime/loss_scale.h"
#include "runtime/class_ids.h"
#include "runtime/data_setup.h"

#include "runtime/safetensors.h"
#include "runtime/settings.h"
#include "runtime/train_setup.h"
#include "runtime/data/batch.h"
#include "runtime/data/prefetch.h"
#include "runtime/data/source.h"
#include "runtime/float16.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sys/resource.h>
#include <unistd.h>

namespace dlc::rt {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

Status bad(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, message);
}

} // namespace

struct Trainer::State {
  Session *session = nullptr;
  TrainOptions options;
  json setup;
  int64_t epochs = 1, batchSize = 0;
  LearningRateSchedule learningRate;
  int64_t skippedSteps = 0; // by dynamic loss scaling, as last read
  /// The rate of the optimizer's next step.
  double nextLearningRate() const { return learningRateAt(learningRate, step - skippedSteps); }
  std::string dataSummary, model;
  // Batches are made one ahead on a worker thread each (prefetch.h).
  data::Prefetcher train, validation;
  double dataWait = 0; // seconds the steps waited for data this epoch
  bool hasValidation = false;
  // Batch storage, one per model input and one per output's labels (floats
  // for alignment; the bytes are of each tensor's dtype).
  std::vector<std::vector<float>> inputs, labels;
  std::vector<TensorSpec> stepInputs; // the model's inputs..., each output's labels..., step
  size_t numInputs = 0, numTargets = 0;
  // Whether train_step augments the batch itself (dl.augment): it then also
  // takes each example's index and (seed, epoch), after the step.
  bool augmentsOnDevice = false;
  std::vector<int64_t> exampleIds;
  // The names of what train_step logs after the loss, read once: each
  // output's loss (a batch mean) for a model with several, and each
  // metric's per-example scores.
  std::vector<std::string> stepScoreNames;

  // keras.callbacks (callbacks.h), and the best epoch's weights when
  // early_stopping restores them (model weights, not optimizer state).
  CallbackSettings callbacks;
  std::vector<std::vector<uint8_t>> bestWeights;
  bool stopped = false; // by early_stopping; checkpoints say so
  // The tensorboard callback's event files (log_dir/train, log_dir/validation).
  std::unique_ptr<EventWriter> trainEvents, validationEvents;

  // Where training stands; all of it goes into checkpoints.
  int64_t step = 0, epoch = 0, batch = 0;
  // The loss of this run's first step (-1 before it), for the growth warning.
  double firstLoss = -1;
  bool warnedGrowth = false;
  MetricValues running;

  Status openData();
  Status trainBatch(double *seconds);
  // The batch staged for train_step's next run: the current one, or while
  // a step runs, the one after it (its upload then overlaps the step).
  struct StagedBatch {
    int64_t epoch = -1, batch = -1, count = 0;
  } staged;
  /// Reads batch |index| of |epoch| and stages it as the inputs of the
  /// train_step run that will be step |stepValue|.
  Status stageBatch(int64_t epochIndex, int64_t index, int64_t stepValue);
  /// Views of the batch storage as |specs| (the model's inputs, then each
  /// output's labels) describe them: |in| the inputs, |targets| the labels.
  void batchViews(const std::vector<TensorSpec> &specs, std::vector<TensorView> *in,
                  std::vector<TensorView> *targets);
  Status saveCheckpoint();
  Status loadCheckpoint(bool *resumed);
  /// The error that stops a run whose loss or weights stopped being finite.
  Status diverged(const std::string &what) const;
  /// The validation split's loss and metrics, by the bundle's @evaluate
  /// program on the device that trains: each example's loss and metric
  /// scores, summed here.
  Status evaluate(MetricValues *out);
  /// The loss scale and the skipped steps into |log|, when the step scales.
  Status readLossScale(EpochLog *log);
  /// The callbacks at the end of |log|'s epoch: best checkpoints, early
  /// stopping (sets |stopped|).
  Status endOfEpoch(EpochLog *log);
  /// The tensorboard callback's scalars: after each step (update_freq=batch)
  /// and at each epoch's end, named as keras.callbacks.TensorBoard names them.
  Status writeStepSummary(const Progress &progress);
  Status writeEpochSummary(const EpochLog &log);
  /// Puts back the best epoch's weights when early_stopping asks to.
  Status restoreBestWeights();
  /// A file beside the checkpoint ("best.safetensors").
  std::string besideCheckpoint(const std::string &name) const;
};

std::string Trainer::State::besideCheckpoint(const std::string &name) const {
  size_t slash = options.checkpointPath.rfind('/');
  return (slash == std::string::npos ? std::string() : options.checkpointPath.substr(0, slash + 1)) +
         name;
}

/// The value of a logged quantity (loss, accuracy, val_loss, ...) in |log|;
/// false when the epoch did not log it.
static bool loggedValue(const EpochLog &log, const std::string &quantity, double *out) {
  const bool validation = quantity.rfind("val_", 0) == 0;
  if (validation && !log.validated)
    return false;
  const MetricValues &values = validation ? log.validation : log.train;
  const std::string name = validation ? quantity.substr(4) : quantity;
  if (name == "loss") {
    *out = values.loss;
    return true;
  }
  auto it = values.metrics.find(name);
  if (it == values.metrics.end())
    return false;
  *out = it->second;
  return true;
}

static std::vector<std::pair<std::string, double>> scalars(const std::string &prefix,
                                                          const MetricValues &values) {
  std::vector<std::pair<std::string, double>> out = {{prefix + "loss", values.loss}};
  for (const auto &[name, value] : values.metrics)
    out.push_back({prefix + name, value});
  return out;
}

Status Trainer::State::writeStepSummary(const Progress &progress) {
  if (!trainEvents || !callbacks.tensorboardBatches)
    return okStatus();
  auto values = scalars("batch_", progress.running);
  values.push_back({"batch_learning_rate", progress.learningRate});
  return trainEvents->write(progress.step, values);
}

Status Trainer::State::writeEpochSummary(const EpochLog &log) {
  if (!trainEvents)
    return okStatus();
  // Keras counts epochs from 0 here.
  auto values = scalars("epoch_", log.train);
  values.push_back({"epoch_learning_rate", log.learningRate});
  DLC_RETURN_IF_ERROR(trainEvents->write(log.epoch - 1, values), "");
  if (log.validated)
    DLC_RETURN_IF_ERROR(validationEvents->write(log.epoch - 1, scalars("epoch_", log.validation)), "");
  return okStatus();
}

Status Trainer::State::endOfEpoch(EpochLog *log) {
  auto format = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", v);
    return std::string(text);
  };
  std::map<std::string, std::string> metadata = {{"dlc.model", model},
                                                 {"dlc.epoch", std::to_string(log->epoch)}};
  if (callbacks.checkpointBest) {
    Monitor &m = callbacks.checkpoint;
    double value = 0;
    if (!loggedValue(*log, m.quantity, &value))
      return bad("model_checkpoint monitors '" + m.quantity + "', which epoch " +
                 std::to_string(log->epoch) + " did not log");
    const double before = m.best;
    const bool hadBest = m.seen;
    if (m.update(value, log->epoch)) {
      metadata["dlc." + m.quantity] = std::to_string(value);
      DLC_RETURN_IF_ERROR(session->saveCheckpoint(besideCheckpoint("best.safetensors"), metadata),
                          "model_checkpoint");
      log->callbackNote += " - " + m.quantity + " " +
                           (hadBest ? "improved from " + format(before) + " to " : "is ") +
                           format(value) + ", saved best.safetensors";
    }
    if (!callbacks.saveBestOnly)
      DLC_RETURN_IF_ERROR(
          session->saveCheckpoint(besideCheckpoint("epoch-" + std::to_string(log->epoch) + ".safetensors"),
                                  metadata),
          "model_checkpoint");
  }
  if (callbacks.earlyStopping && log->epoch > callbacks.startFromEpoch) {
    Monitor &m = callbacks.stopping;
    double value = 0;
    if (!loggedValue(*log, m.quantity, &value))
      return bad("early_stopping monitors '" + m.quantity + "', which epoch " +
                 std::to_string(log->epoch) + " did not log");
    if (m.update(value, log->epoch)) {
      if (callbacks.restoreBestWeights) {
        DLC_RETURN_IF_ERROR(session->syncParametersToHost(), "early_stopping");
        bestWeights.clear();
        for (const Parameter &p : session->parameters())
          if (p.slotOf.empty())
            bestWeights.push_back(p.bytes);
        if (!options.checkpointPath.empty())
          DLC_RETURN_IF_ERROR(
              session->saveCheckpoint(besideCheckpoint("restore_best.safetensors"), metadata),
              "early_stopping");
      }
    } else if (m.wait >= callbacks.patience && log->epoch > 1) {
      stopped = true;
      log->callbackNote += " - early stopping: " + m.quantity + " has not improved on " +
                           format(m.best) + " (epoch " + std::to_string(m.bestEpoch) + ") for " +
                           std::to_string(m.wait) + " epoch" + (m.wait == 1 ? "" : "s");
    }
  }
  return okStatus();
}

Status Trainer::State::restoreBestWeights() {
  if (!callbacks.restoreBestWeights || bestWeights.empty())
    return okStatus();
  DLC_RETURN_IF_ERROR(session->syncParametersToHost(), "restoring the best weights");
  size_t i = 0;
  for (Parameter &p : session->parameters())
    if (p.slotOf.empty() && i < bestWeights.size())
      p.bytes = bestWeights[i++];
  return session->parametersChanged();
}

Status Trainer::State::readLossScale(EpochLog *log) {
  Parameter *state = session->parameter(loss_scale::kStateName);
  if (!state)
    return okStatus();
  if (state->dtype != DType::kF32 || state->bytes.size() != loss_scale::kFields * sizeof(float))
    return bad("'" + std::string(loss_scale::kStateName) + "' is not the loss-scaling state f32[" +
               std::to_string(int(loss_scale::kFields)) + "]");
  DLC_RETURN_IF_ERROR(session->syncParametersToHost(), "");
  float fields[loss_scale::kFields];
  std::memcpy(fields, state->bytes.data(), sizeof fields);
  log->lossScaled = true;
  log->lossScale = fields[loss_scale::kScale];
  log->skippedSteps = int64_t(fields[loss_scale::kSkippedSteps]);
  skippedSteps = log->skippedSteps;
  return okStatus();
}

Trainer::Trainer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Trainer::~Trainer() = default;

Status Trainer::State::openData() {
  std::string kind;
  data::Options sourceOptions;
  if (!options.data.empty()) {
    DLC_RETURN_IF_ERROR(parseDataSpec(options.data, &kind, &sourceOptions), "");
  } else {
    if (!setup.contains("data_source"))
      return bad("the training setup names no data source; pass --data KIND:options");
    kind = setup["data_source"]["kind"].get<std::string>();
    DLC_RETURN_IF_ERROR(toOptions(setup["data_source"]["options"], &sourceOptions), "");
  }
  // What the model takes (evaluate's inputs), and what a training batch
  // holds: the same, but for a step that crops its batch itself (its first
  // input is then the uncropped images).
  data::ModelSignature model;
  std::vector<data::Field> trainingInputs;
  const std::vector<TensorSpec> evaluateInputs = session->inputs("evaluate");
  for (size_t i = 0; i < numInputs; ++i) {
    const TensorSpec &spec = i < evaluateInputs.size() ? evaluateInputs[i] : stepInputs[i];
    model.inputs.push_back({spec.name, spec.dtype, std::vector<int64_t>(spec.shape.begin() + 1, spec.shape.end())});
    const TensorSpec &step = stepInputs[i];
    trainingInputs.push_back({spec.name, step.dtype, std::vector<int64_t>(step.shape.begin() + 1, step.shape.end())});
  }
  // A model with several outputs takes each one's targets as
  // `<output>/labels`; its data names them after the output.
  if (numTargets > 1)
    for (size_t t = 0; t < numTargets; ++t) {
      const std::string &name = stepInputs[numInputs + t].name;
      model.outputs.push_back(name.substr(0, name.rfind("/labels")));
    }
  data::Source source;
  DLC_RETURN_IF_ERROR(data::openSource(kind, sourceOptions, model, &source), "opening the data");
  data::Validation validation;
  json v = setup.value("validation", json("test"));
  data::OptionValue value = v.is_number() ? data::OptionValue(v.get<double>())
                                          : data::OptionValue(v.get<std::string>());
  DLC_RETURN_IF_ERROR(data::parseValidation(value, &validation), "validation");
  data::Splits splits;
  DLC_RETURN_IF_ERROR(data::splitSource(source, validation, &splits), "");
  std::vector<data::TransformSpec> steps;
  DLC_RETURN_IF_ERROR(dataTransformsOf(setup, &steps), "");
  // Training batches leave the transforms from device_transforms_from on to
  // the training step; evaluation applies them all here (its random ones are
  // the identity).
  const size_t deviceFrom =
      augmentsOnDevice ? std::min<size_t>(setup.value("device_transforms_from", steps.size()), steps.size())
                       : steps.size();
  // Each output's labels: class ids (i32, a sparse loss) or tensors of the
  // output's shape. Sparse labels carry no class count in their shape: the
  // program's class-id inputs do.
  std::vector<data::LabelFormat> labelFormats;
  std::vector<std::vector<int64_t>> labelShapes;
  std::vector<int64_t> classes(numTargets, 0);
  for (size_t t = 0; t < numTargets; ++t) {
    const TensorSpec &lab = stepInputs[numInputs + t];
    labelFormats.push_back(lab.dtype == DType::kI32 ? data::LabelFormat::kSparse : data::LabelFormat::kOneHot);
    labelShapes.emplace_back(lab.shape.begin() + 1, lab.shape.end());
  }
  if (const fb::Program *step = session->bundle().program("train_step"))
    for (const ClassIdInput &c : classIdInputs(*step))
      if (c.input >= int(numInputs) && c.input < int(numInputs + numTargets))
        classes[size_t(c.input) - numInputs] = c.classes;
  auto makeLoader = [&](std::shared_ptr<const data::Dataset> dataset, bool training,
                        data::Prefetcher *out) -> Status {
    data::Pipeline pipeline;
    const std::vector<data::TransformSpec> here(steps.begin(),
                                                steps.begin() + std::ptrdiff_t(training ? deviceFrom : steps.size()));
    // A grey image stored [H, W] takes the channel axis the model has.
    std::vector<int64_t> example = dataset->inputs()[0].shape;
    if (!steps.empty() && example.size() == 2 && model.inputs[0].shape.size() == 3)
      example.push_back(1);
    const DType transformed = data::convertible(dataset->inputs()[0].dtype, DType::kF32)
                                  ? DType::kF32
                                  : dataset->inputs()[0].dtype;
    DLC_RETURN_IF_ERROR(data::Pipeline::create(here, example, transformed, &pipeline),
                        "data transforms");
    data::LoaderConfig config;
    config.batchSize = batchSize;
    config.seed = options.seed;
    config.training = training;
    config.shuffle = setup.value("shuffle", true);
    config.labels = labelFormats;
    config.modelInputs = training ? trainingInputs : model.inputs;
    config.modelLabelShapes = labelShapes;
    config.classes = classes;
    data::BatchLoader loader;
    DLC_RETURN_IF_ERROR(data::BatchLoader::create(dataset, std::move(pipeline), config, &loader), "");
    out->start(std::move(loader));
    return okStatus();
  };
  DLC_RETURN_IF_ERROR(makeLoader(splits.train, true, &train), "");
  hasValidation = splits.validation != nullptr;
  if (hasValidation)
    DLC_RETURN_IF_ERROR(makeLoader(splits.validation, false, &this->validation), "");
  dataSummary = source.summary;
  if (train.loader().numBatches() == 0)
    return bad("the training split has fewer examples than one batch of " +
               std::to_string(batchSize));
  inputs.resize(numInputs);
  for (size_t i = 0; i < numInputs; ++i) {
    // Room for a training batch and an evaluation batch (a step that crops
    // takes larger images than the model).
    const TensorSpec &other = i < evaluateInputs.size() ? evaluateInputs[i] : stepInputs[i];
    inputs[i].resize(std::max(size_t(numElements(stepInputs[i].shape)) * dtypeSize(stepInputs[i].dtype),
                              size_t(numElements(other.shape)) * dtypeSize(other.dtype)) /
                         4 + 1);
  }
  labels.resize(numTargets);
  for (size_t t = 0; t < numTargets; ++t) {
    const TensorSpec &lab = stepInputs[numInputs + t];
    labels[t].resize(size_t(numElements(lab.shape)) * dtypeSize(lab.dtype) / 4 + 1);
  }
  return okStatus();
}

void Trainer::State::batchViews(const std::vector<TensorSpec> &specs, std::vector<TensorView> *in,
                                std::vector<TensorView> *targets) {
  in->clear();
  targets->clear();
  for (size_t i = 0; i < numInputs; ++i)
    in->push_back({inputs[i].data(), specs[i].dtype, specs[i].shape});
  for (size_t t = 0; t < numTargets; ++t)
    targets->push_back({labels[t].data(), specs[numInputs + t].dtype, specs[numInputs + t].shape});
}

/// The sum of a per-example output over a batch's |count| real examples
/// (the rest of a last batch is padding).
static double sumOfExamples(const TensorView &perExample, int64_t count) {
  double sum = 0;
  for (int64_t i = 0; i < count && i < perExample.numel(); ++i)
    sum += double(perExample.f32()[i]);
  return sum;
}

Status Trainer::State::evaluate(MetricValues *out) {
  *out = MetricValues();
  if (!hasValidation)
    return bad("no validation split");
  std::vector<TensorSpec> specs = session->inputs("evaluate");
  std::vector<TensorSpec> names = session->outputs("evaluate");
  std::vector<double> sums(names.size(), 0.0);
  std::vector<TensorView> in, targets;
  batchViews(specs, &in, &targets);
  std::vector<TensorView> views = in;
  views.insert(views.end(), targets.begin(), targets.end());
  for (int64_t b = 0; b < validation.loader().numBatches(); ++b) {
    int64_t count = 0;
    double waited = 0;
    DLC_RETURN_IF_ERROR(validation.batch(0, b, in, targets, &count, &waited),
                        "validation batch");
    std::vector<TensorView> outs;
    RunOptions run;
    run.checkNumerics = options.checkNumerics;
    DLC_RETURN_IF_ERROR(session->run("evaluate", views, &outs, run), "evaluating");
    for (size_t o = 0; o < outs.size(); ++o)
      sums[o] += sumOfExamples(outs[o], count);
    out->examples += count;
  }
  double n = out->examples ? double(out->examples) : 1.0;
  out->loss = sums[0] / n;
  for (size_t o = 1; o < names.size(); ++o)
    out->metrics[names[o].name] = sums[o] / n;
  return okStatus();
}

Status Trainer::State::stageBatch(int64_t epochIndex, int64_t index, int64_t stepValue) {
  std::vector<TensorView> in, targets;
  batchViews(stepInputs, &in, &targets);
  int64_t count = 0;
  double waited = 0;
  exampleIds.resize(size_t(batchSize));
  DLC_RETURN_IF_ERROR(
      train.batch(uint64_t(epochIndex), index, in, targets, &count, &waited, exampleIds.data()),
      "training batch");
  std::vector<TensorView> views = in;
  views.insert(views.end(), targets.begin(), targets.end());
  dataWait += waited;
  views.push_back(TensorView{&stepValue, DType::kI64, {}});
  int64_t augmentSeed[2] = {int64_t(options.seed), epochIndex};
  if (augmentsOnDevice) {
    views.push_back(TensorView{exampleIds.data(), DType::kI64, {batchSize}});
    views.push_back(TensorView{augmentSeed, DType::kI64, {2}});
  }
  DLC_RETURN_IF_ERROR(session->stage("train_step", views), "");
  staged = {epochIndex, index, count};
  return okStatus();
}

Status Trainer::State::trainBatch(double *seconds) {
  if (staged.epoch != epoch || staged.batch != batch)
    DLC_RETURN_IF_ERROR(stageBatch(epoch, batch, step), "");
  int64_t count = staged.count;
  staged = {};
  auto start = Clock::now();
  std::vector<TensorView> outs;
  RunOptions run;
  run.step = uint64_t(step);
  run.checkNumerics = options.checkNumerics;
  DLC_RETURN_IF_ERROR(session->start("train_step", run), "training step " + std::to_string(step));
  // The next batch of the epoch goes up while this step computes.
  double before = dataWait;
  if (batch + 1 < train.loader().numBatches() &&
      (options.maxSteps <= 0 || step + 1 < options.maxSteps))
    DLC_RETURN_IF_ERROR(stageBatch(epoch, batch + 1, step + 1), "");
  DLC_RETURN_IF_ERROR(session->finish("train_step", &outs), "training step " + std::to_string(step));
  *seconds = std::chrono::duration<double>(Clock::now() - start).count() - (dataWait - before);
  double lossValue = outs[0].f32()[0];
  if (!std::isfinite(lossValue))
    return diverged("the loss is " + std::string(std::isnan(lossValue) ? "nan" : "inf"));
  if (firstLoss < 0)
    firstLoss = lossValue;
  else if (!warnedGrowth && lossValue > 100 * firstLoss && lossValue > 10) {
    warnedGrowth = true;
    if (options.onWarning)
      options.onWarning("the loss grew from " + std::to_string(firstLoss) + " to " +
                        std::to_string(lossValue) + " at step " + std::to_string(step) +
                        " (epoch " + std::to_string(epoch + 1) +
                        "): the run may be diverging (lower the learning rate?)");
  }
  double total = running.loss * double(running.examples) + lossValue * double(count);
  std::map<std::string, double> counts;
  for (const auto &[name, value] : running.metrics)
    counts[name] = value * double(running.examples);
  // What train_step logs after the loss: each output's loss of the batch
  // (a mean, as the loss) and each example's metric scores.
  for (size_t o = 0; o < stepScoreNames.size() && o + 1 < outs.size(); ++o)
    counts[stepScoreNames[o]] += outs[o + 1].shape.empty() ? double(outs[o + 1].f32()[0]) * double(count)
                                                           : sumOfExamples(outs[o + 1], count);
  running.examples += count;
  for (const std::string &name : stepScoreNames)
    running.metrics[name] = counts[name] / double(running.examples);
  running.loss = total / double(running.examples);
  ++step;
  ++batch;
  return okStatus();
}

Status Trainer::State::diverged(const std::string &what) const {
  return DLC_MAKE_STATUS(
      StatusCode::kDataLoss,
      "training diverged at step " + std::to_string(step) + " (epoch " + std::to_string(epoch + 1) +
          ", batch " + std::to_string(batch + 1) + "): " + what +
          (options.checkpointPath.empty()
               ? std::string("; lower the learning rate")
               : "; the last good checkpoint " + options.checkpointPath +
                     " is kept (lower the learning rate, then --resume)"));
}

Status Trainer::State::saveCheckpoint() {
  if (options.checkpointPath.empty())
    return okStatus();
  // Never replace good weights by non-finite ones (the loss can still be
  // finite one step after a parameter overflowed).
  DLC_RETURN_IF_ERROR(session->syncParametersToHost(), "saving a checkpoint");
  for (const Parameter &p : session->parameters())
    if (p.dtype == DType::kF32)
      for (size_t i = 0; i < p.bytes.size() / 4; ++i) {
        float v;
        std::memcpy(&v, p.bytes.data() + 4 * i, 4);
        if (!std::isfinite(v))
          return diverged("parameter '" + p.name + "' holds " + (std::isnan(v) ? "nan" : "inf") +
                          " at element " + std::to_string(i));
      }
  json runningJson = {{"loss", running.loss}, {"examples", running.examples},
                      {"metrics", running.metrics}};
  std::map<std::string, std::string> metadata = {
      {"dlc.model", model},
      {"dlc.step", std::to_string(step)},
      {"dlc.epoch", std::to_string(epoch)},
      {"dlc.batch", std::to_string(batch)},
      {"dlc.seed", std::to_string(options.seed)},
      {"dlc.running", runningJson.dump()},
      {"dlc.callbacks", callbackState(callbacks)},
      {"dlc.stopped", stopped ? "1" : "0"}};
  return session->saveCheckpoint(options.checkpointPath, metadata);
}

Status Trainer::State::loadCheckpoint(bool *resumed) {
  *resumed = false;
  if (options.checkpointPath.empty())
    return bad("resuming needs a checkpoint directory");
  if (::access(options.checkpointPath.c_str(), F_OK) != 0)
    return DLC_MAKE_STATUS(StatusCode::kNotFound,
                           "cannot resume: there is no checkpoint " + options.checkpointPath +
                               " (drop --resume to start from scratch)");
  std::map<std::string, std::string> metadata;
  DLC_RETURN_IF_ERROR(session->loadCheckpoint(options.checkpointPath, &metadata), "resuming");
  if (metadata["dlc.model"] != model)
    return bad(options.checkpointPath + " was written for model '" + metadata["dlc.model"] +
               "', not '" + model + "'");
  try {
    step = std::stoll(metadata.at("dlc.step"));
    epoch = std::stoll(metadata.at("dlc.epoch"));
    batch = std::stoll(metadata.at("dlc.batch"));
    if (std::stoull(metadata.at("dlc.seed")) != options.seed)
      return bad(options.checkpointPath + " was written with --seed " + metadata["dlc.seed"] +
                 "; resume with the same seed to continue exactly");
    json r = json::parse(metadata.at("dlc.running"));
    running.loss = r["loss"].get<double>();
    running.examples = r["examples"].get<int64_t>();
    running.metrics = r["metrics"].get<std::map<std::string, double>>();
    if (metadata.count("dlc.callbacks"))
      DLC_RETURN_IF_ERROR(restoreCallbackState(metadata["dlc.callbacks"], &callbacks),
                          options.checkpointPath);
    stopped = metadata["dlc.stopped"] == "1";
  } catch (const std::exception &) {
    return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                           options.checkpointPath + ": the training position is missing or damaged");
  }
  // A position outside this run would skip or repeat data silently.
  int64_t batches = train.loader().numBatches();
  if (step < 0 || epoch < 0 || epoch > epochs || batch < 0 || batch > batches ||
      (epoch == epochs && batch != 0) || running.examples < 0 || !std::isfinite(running.loss))
    return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                           options.checkpointPath + ": the training position (epoch " +
                               std::to_string(epoch) + ", batch " + std::to_string(batch) +
                               ", step " + std::to_string(step) + ") does not fit this run of " +
                               std::to_string(epochs) + " epochs of " + std::to_string(batches) +
                               " batches");
  // The best epoch's weights early_stopping may restore at the end.
  if (callbacks.restoreBestWeights && callbacks.stopping.seen) {
    SafetensorsFile best;
    DLC_RETURN_IF_ERROR(SafetensorsFile::open(besideCheckpoint("restore_best.safetensors"), &best),
                        "resuming early_stopping's best weights");
    bestWeights.clear();
    for (const Parameter &p : session->parameters()) {
      if (!p.slotOf.empty())
        continue;
      const SafetensorsTensor *t = best.find(p.name);
      if (!t || t->nbytes != p.bytes.size() || t->dtype != p.dtype)
        return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                               besideCheckpoint("restore_best.safetensors") + ": no '" + p.name + "'");
      bestWeights.emplace_back(t->data, t->data + t->nbytes);
    }
  }
  *resumed = true;
  return okStatus();
}

bool isLabelsInput(const std::string &name) {
  static const std::string suffix = "/labels";
  return name == "labels" ||
         (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0);
}

Status Trainer::create(Session &session, const TrainOptions &options,
                       std::unique_ptr<Trainer> *out) {
  auto state = std::make_unique<State>();
  state->session = &session;
  state->options = options;
  const fb::Bundle &root = session.bundle().root();
  state->model = root.model() ? root.model()->str() : "";
  if (root.train_setup())
    DLC_RETURN_IF_ERROR(parseTrainSetup(root.train_setup()->str(), &state->setup),
                        session.bundle().origin());
  if (state->setup.empty() || !session.hasProgram("train_step"))
    return bad(session.bundle().origin() + " has no training setup (add a `train` block)");
  try {
    state->epochs = options.epochs > 0 ? options.epochs : state->setup.value("epochs", 1);
    std::string where = "the training setup of " + session.bundle().origin();
    // One loss for every output, or one per output; the programs' labels
    // say what each takes, their outputs what training logs.
    const json &losses = state->setup.at("loss");
    for (const json &l : losses.is_array() ? losses : json::array({losses})) {
      LossSettings loss;
      DLC_RETURN_IF_ERROR(decodeLoss(settingOf(l), &loss), where);
    }
    OptimizerSettings optimizer;
    DLC_RETURN_IF_ERROR(decodeOptimizer(settingOf(state->setup.at("optimizer")), &optimizer), where);
    state->learningRate = optimizer.learningRate;
    for (const json &m : state->setup.value("metrics", json::array())) {
      MetricSettings metric;
      DLC_RETURN_IF_ERROR(decodeMetric(settingOf(m), &metric), where);
    }
  } catch (const std::exception &e) {
    return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                           session.bundle().origin() + ": unreadable training setup: " + e.what());
  }
  state->stepInputs = session.inputs("train_step");
  const size_t given = state->stepInputs.size();
  state->augmentsOnDevice = given >= 5 && state->stepInputs[given - 2].name == "example_ids" &&
                            state->stepInputs[given - 1].name == "augment_seed";
  if (state->augmentsOnDevice)
    state->stepInputs.resize(given - 2);
  // The labels are `labels`, or `<output>/labels` for each of several
  // outputs, after the model's inputs.
  for (size_t i = 0; i + 1 < state->stepInputs.size(); ++i)
    if (isLabelsInput(state->stepInputs[i].name))
      ++state->numTargets;
  if (state->stepInputs.size() < 3 || state->stepInputs.back().dtype != DType::kI64 ||
      state->numTargets == 0 || state->stepInputs.size() < state->numTargets + 2 ||
      !isLabelsInput(state->stepInputs[state->stepInputs.size() - 1 - state->numTargets].name))
    return bad(session.bundle().origin() + ": train_step takes " +
               std::to_string(state->stepInputs.size()) +
               " tensors, not the model's inputs, each output's labels and the step");
  state->numInputs = state->stepInputs.size() - 1 - state->numTargets;
  state->batchSize = state->stepInputs[0].shape.at(0);
  std::vector<TensorSpec> stepOutputs = session.outputs("train_step");
  for (size_t o = 1; o < stepOutputs.size(); ++o)
    state->stepScoreNames.push_back(stepOutputs[o].name);
  // Both are built for every model whose outputs have a class axis after the
  // batch, and log the same; the host scores nothing itself.
  std::vector<std::string> evaluated;
  for (const TensorSpec &o : session.hasProgram("evaluate") ? session.outputs("evaluate")
                                                             : std::vector<TensorSpec>())
    evaluated.push_back(o.name);
  if (evaluated.empty() ||
      std::vector<std::string>(evaluated.begin() + 1, evaluated.end()) != state->stepScoreNames)
    return bad(session.bundle().origin() + " scores no metrics on the device: training needs a model "
               "output with a class axis after the batch ([batch, classes] or [batch, positions..., "
               "classes]), compiled by this dlc");
  DLC_RETURN_IF_ERROR(state->openData(), "");
  DLC_RETURN_IF_ERROR(decodeCallbacks(root.train_setup()->str(), &state->callbacks),
                      session.bundle().origin());
  // A monitor must name something training logs; say so before the first step.
  std::vector<std::string> logged = {"loss"};
  logged.insert(logged.end(), state->stepScoreNames.begin(), state->stepScoreNames.end());
  if (state->hasValidation)
    for (size_t i = 0, n = logged.size(); i < n; ++i)
      logged.push_back("val_" + logged[i]);
  auto checkMonitor = [&](bool on, const Monitor &m, const char *kind) -> Status {
    if (!on || std::find(logged.begin(), logged.end(), m.quantity) != logged.end())
      return okStatus();
    std::string list;
    for (const std::string &l : logged)
      list += (list.empty() ? "" : ", ") + l;
    return bad(std::string(kind) + " monitors '" + m.quantity + "', which training does not log (it logs " +
               list + ")");
  };
  DLC_RETURN_IF_ERROR(checkMonitor(state->callbacks.earlyStopping, state->callbacks.stopping, "early_stopping"), "");
  DLC_RETURN_IF_ERROR(checkMonitor(state->callbacks.checkpointBest, state->callbacks.checkpoint, "model_checkpoint"), "");
  if (state->callbacks.checkpointBest && options.checkpointPath.empty())
    return bad("model_checkpoint writes beside the checkpoint: pass --checkpoint DIR");
  if (!state->callbacks.tensorboardDir.empty()) {
    DLC_RETURN_IF_ERROR(EventWriter::open(state->callbacks.tensorboardDir + "/train", &state->trainEvents), "");
    if (state->hasValidation)
      DLC_RETURN_IF_ERROR(
          EventWriter::open(state->callbacks.tensorboardDir + "/validation", &state->validationEvents), "");
  }
  *out = std::unique_ptr<Trainer>(new Trainer(std::move(state)));
  return okStatus();
}

std::string Trainer::dataSummary() const { return state_->dataSummary; }

Status Trainer::evaluate(MetricValues *out) { return state_->evaluate(out); }

Status Trainer::readData(int64_t batches, int64_t *examples, double *seconds) {
  State &s = *state_;
  std::vector<TensorView> in, targets;
  s.batchViews(s.stepInputs, &in, &targets);
  const int64_t perEpoch = s.train.loader().numBatches();
  *examples = 0;
  auto start = Clock::now();
  for (int64_t b = 0; b < batches; ++b) {
    int64_t count = 0;
    double waited = 0;
    DLC_RETURN_IF_ERROR(s.train.batch(uint64_t(b / perEpoch), b % perEpoch, in, targets, &count, &waited),
                        "training batch");
    *examples += count;
  }
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return okStatus();
}

Status Trainer::fit() {
  State &s = *state_;
  bool resumed = false;
  if (s.options.resume)
    DLC_RETURN_IF_ERROR(s.loadCheckpoint(&resumed), "");
  if (s.stopped)
    return okStatus(); // early_stopping ended this run; its checkpoint says so
  int64_t batches = s.train.loader().numBatches();
  int64_t sinceCheckpoint = 0;
  for (; s.epoch < s.epochs; ++s.epoch, s.batch = 0, s.running = MetricValues()) {
    s.dataWait = 0;
    double trainSeconds = 0;
    int64_t examples = 0;
    auto epochStart = Clock::now();
    bool cutShort = false;
    // A resumed epoch reports where it stands before its first step (a
    // checkpoint can fall after the last batch but before the epoch's end).
    if (s.batch > 0 && s.options.onProgress)
      s.options.onProgress(
          Progress{s.epoch, s.epochs, s.batch, batches, s.running, 0, 0, s.step, s.nextLearningRate()});
    while (s.batch < batches) {
      if (s.options.maxSteps > 0 && s.step >= s.options.maxSteps) {
        cutShort = true;
        break;
      }
      double seconds = 0;
      DLC_RETURN_IF_ERROR(s.trainBatch(&seconds), "");
      trainSeconds += seconds;
      examples += s.batchSize;
      const Progress progress{s.epoch, s.epochs, s.batch, batches, s.running,
                              trainSeconds > 0 ? double(examples) / trainSeconds : 0,
                              std::chrono::duration<double>(Clock::now() - epochStart).count(), s.step,
                              s.nextLearningRate()};
      if (s.options.onProgress)
        s.options.onProgress(progress);
      DLC_RETURN_IF_ERROR(s.writeStepSummary(progress), "");
      if (++sinceCheckpoint >= s.options.checkpointEverySteps) {
        DLC_RETURN_IF_ERROR(s.saveCheckpoint(), "");
        sinceCheckpoint = 0;
      }
    }
    if (cutShort && s.batch == 0 && !resumed)
      break; // nothing was trained in this epoch
    EpochLog log;
    log.epoch = s.epoch + 1;
    log.train = s.running;
    log.cutShort = cutShort;
    log.step = s.step;
    log.samplesPerSecond = trainSeconds > 0 ? double(examples) / trainSeconds : 0;
    if (s.hasValidation) {
      DLC_RETURN_IF_ERROR(s.evaluate(&log.validation), "");
      log.validated = true;
    }
    log.seconds = std::chrono::duration<double>(Clock::now() - epochStart).count();
    log.dataWaitSeconds = s.dataWait;
    DLC_RETURN_IF_ERROR(s.readLossScale(&log), "");
    log.learningRate = s.nextLearningRate();
    DLC_RETURN_IF_ERROR(s.writeEpochSummary(log), "");
    if (!cutShort)
      DLC_RETURN_IF_ERROR(s.endOfEpoch(&log), "");
    if (cutShort) {
      DLC_RETURN_IF_ERROR(s.saveCheckpoint(), "");
      if (s.options.onEpoch)
        s.options.onEpoch(log);
      return okStatus();
    }
    // The checkpoint names the next epoch's start, so it is written first.
    ++s.epoch;
    s.batch = 0;
    MetricValues finished = s.running;
    s.running = MetricValues();
    // Restored before the last checkpoint, so that it holds what training
    // leaves: the best epoch's weights.
    const bool last = s.stopped || s.epoch == s.epochs;
    if (last)
      DLC_RETURN_IF_ERROR(s.restoreBestWeights(), "");
    if (last && s.callbacks.restoreBestWeights && !s.bestWeights.empty())
      log.callbackNote += " - restored the weights of epoch " + std::to_string(s.callbacks.stopping.bestEpoch);
    DLC_RETURN_IF_ERROR(s.saveCheckpoint(), "");
    --s.epoch;
    s.running = finished;
    if (s.options.onEpoch)
      s.options.onEpoch(log);
    resumed = false;
    if (s.stopped)
      return okStatus();
  }
  return okStatus();
}

uint64_t peakResidentBytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return uint64_t(usage.ru_maxrss) * 1024;
}

} // namespace dlc::rt
