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

/// Labels as class ids (sparse_categorical_crossentropy) or one-hot rows
/// (categorical_crossentropy, binary_crossentropy over classes).
enum class LabelFormat { kSparse, kOneHot };

struct LoaderConfig {
  int64_t batchSize = 32;
  uint64_t seed = 0;
  bool training = true; // full batches, random steps active
  bool shuffle = true;  // only in training; evaluation keeps dataset order
  LabelFormat labels = LabelFormat::kSparse;
};

class BatchLoader {
public:
  /// |pipeline| must take the dataset's example shape. A training loader
  /// over fewer than batchSize examples is an error (it would have no batch).
  static Status create(std::shared_ptr<const Dataset> dataset, Pipeline pipeline,
                       const LoaderConfig &config, BatchLoader *out);

  /// Training: floor(size / batchSize); evaluation: ceil(size / batchSize).
  int64_t numBatches() const;
  /// [batchSize, example shape after the steps...].
  std::vector<int64_t> inputShape() const;
  DType inputDType() const { return dataset_->inputDType(); }
  /// [batchSize] of kI32, or [batchSize, numClasses] of kF32.
  std::vector<int64_t> labelShape() const;
  DType labelDType() const;
  const Dataset &dataset() const { return *dataset_; }

  /// Selects the epoch whose order batch() follows (epoch 0 until called).
  void startEpoch(uint64_t epoch);
  /// Fills |inputs| and |labels| (shapes and dtypes as above) with batch
  /// |index| of the current epoch; |*count| is the number of real examples.
  /// Reuses internal buffers, so one loader serves one thread; it spreads a
  /// batch of large images over OpenMP threads itself.
  Status batch(int64_t index, const TensorView &inputs, const TensorView &labels, int64_t *count);

private:
  std::shared_ptr<const Dataset> dataset_;
  Pipeline pipeline_;
  LoaderConfig config_;
  uint64_t epoch_ = 0;
  std::vector<int64_t> order_;
  // Reused across batches: raw examples before the steps, step scratch.
  std::vector<float> raw_, scratch_;
  std::vector<int32_t> ids_;
};

} // namespace dlc::rt::data
