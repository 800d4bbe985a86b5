//===- batch.h - Epoch orders and batch assembly --------------------------===//
//
// An epoch visits the examples in an order that is a pure function of
// (seed, epoch), and augmentations are a pure function of (seed, epoch,
// example index), so training resumed at (epoch, batch index) replays
// exactly what an uninterrupted run would have seen: the checkpoint needs no
// RNG state.
//
// Training batches are always full: the last batch_size-less remainder of
// an epoch's order is dropped (a different remainder each epoch when
// shuffling, so every example is still seen), which keeps one compiled batch
// shape and unbiased batch statistics. Evaluation covers every example: its
// last batch may be partial and reports its true count, with the unused
// rows zeroed.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/dataset.h"
#include "runtime/data/transforms.h"

namespace dlc::rt::data {

/// A permutation of [0, n): Fisher-Yates driven by counter_rng under a seed
/// derived from |seed| (so it does not replay the dropout masks drawn from
/// the same seed), stream |epoch|.
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, uint64_t epoch);

/// How the model's loss takes a target.
enum class LabelFormat {
  kSparse, // class ids, i32 (sparse_categorical_crossentropy)
  kOneHot, // f32 tensors of the model output's shape: targets of that shape
           // as they are (one-hot or multi-label rows, regression values),
           // class ids one-hot encoded over the last axis
};

struct LoaderConfig {
  int64_t batchSize = 32;
  uint64_t seed = 0;
  bool training = true; // full batches, random steps active
  bool shuffle = true;  // only in training; evaluation keeps dataset order
  // The per-target settings hold one entry per target of the dataset (per
  // model output, in its order), or none.
  /// How the loss takes each target. Empty: class ids sparse, other
  /// targets as they are (kOneHot).
  std::vector<LabelFormat> labels;
  /// What the model takes: each input's element type and example shape
  /// (after the transforms), and per target one example's labels. Empty (a
  /// target's entry empty): as the data gives them (f32 after transforms;
  /// class count from the data).
  std::vector<Field> modelInputs;
  std::vector<std::vector<int64_t>> modelLabelShapes;
  /// Per target, the model's class count, which bounds sparse class ids
  /// (empty or 0: the data's).
  std::vector<int64_t> classes;
};

/// Whether two example shapes hold the same elements in the same order, up
/// to axes of size 1 ([28, 28] and [28, 28, 1]; [] and [1]).
bool sameUpToUnitAxes(const std::vector<int64_t> &a, const std::vector<int64_t> &b);

/// Draws batches of a dataset for a model. The data transforms apply to the
/// first input (an image).
class BatchLoader {
public:
  /// |pipeline| must take the dataset's first input (a grey [H, W] image
  /// is given its channel axis when the model's input has one). Checks that
  /// every input and target fits the model (names the field and both
  /// shapes otherwise, and the target's output where there are several). A
  /// training loader over fewer than batchSize examples is an error (it
  /// would have no batch).
  static Status create(std::shared_ptr<const Dataset> dataset, Pipeline pipeline,
                       const LoaderConfig &config, BatchLoader *out);

  /// Training: floor(size / batchSize); evaluation: ceil(size / batchSize).
  int64_t numBatches() const;
  size_t numInputs() const { return inputs_.size(); }
  /// [batchSize, input |i|'s example shape...] of inputDType(i).
  std::vector<int64_t> inputShape(size_t i = 0) const;
  DType inputDType(size_t i = 0) const { return inputs_[i].dtype; }
  size_t numTargets() const { return targets_.size(); }
  /// Target |t|'s labels: [batchSize] (+ positions) of kI32, or
  /// [batchSize, ...] of kF32.
  std::vector<int64_t> labelShape(size_t t = 0) const;
  DType labelDType(size_t t = 0) const;
  const Dataset &dataset() const { return *dataset_; }
  bool training() const { return config_.training; }

  /// Selects the epoch whose order batch() follows (epoch 0 until called).
  void startEpoch(uint64_t epoch);
  /// Fills |inputs| (one view per input) and |labels| (one view per target;
  /// shapes and dtypes as above) with batch |index| of the current epoch; |*count| is the number
  /// of real examples. Reuses internal buffers, so one loader serves one
  /// thread; it spreads a batch of large images over OpenMP threads itself.
  /// |exampleIds|, when given, receives each example's index in the dataset
  /// (batchSize entries, 0 for padding): what keys its augmentation draws.
  Status batch(int64_t index, const std::vector<TensorView> &inputs,
               const std::vector<TensorView> &labels, int64_t *count, int64_t *exampleIds = nullptr);

private:
  // What batches hold of one target.
  struct Target {
    LabelFormat format = LabelFormat::kSparse;
    std::vector<int64_t> example; // one example's labels
    int64_t classes = 0;          // one-hot width; the id bound for sparse labels
    bool ids = false;             // the data's targets are class ids
  };

  std::shared_ptr<const Dataset> dataset_;
  Pipeline pipeline_;
  LoaderConfig config_;
  std::vector<Field> inputs_; // what batches hold, per input
  std::vector<Target> targets_;
  uint64_t epoch_ = 0;
  std::vector<int64_t> order_;
  // Reused across batches: the first input before the steps, step scratch,
  // after the steps (when the model's input is not f32), class ids per
  // target.
  std::vector<float> raw_, scratch_, transformed_;
  std::vector<std::vector<int32_t>> ids_;
};

} // namespace dlc::rt::data
