//===- dataset.h - Labelled examples that training draws batches from -----===//
//
// A Dataset is a fixed, random-access list of (input, label) examples: the
// batch loader asks for arbitrary indices in a shuffled order, so sources
// hold their data in memory (Fashion-MNIST is 47 MB as bytes) and convert
// to the model's element type per batch.
//
// Inputs are float32 images in NHWC layout, one example being [H, W, C]
// (channels last, as in Keras), or int32 token windows [sequence_length].
// Labels are class ids in [0, numClasses).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/idx.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt::data {

class Dataset {
public:
  virtual ~Dataset() = default;

  /// Number of examples.
  virtual int64_t size() const = 0;
  /// Shape of one input, without the batch dimension.
  virtual const std::vector<int64_t> &exampleShape() const = 0;
  /// kF32 for images, kI32 for token windows.
  virtual DType inputDType() const = 0;
  virtual int64_t numClasses() const = 0;
  /// "Fashion-MNIST train", for messages.
  virtual std::string name() const = 0;
  /// How many examples to leave out between the parts of a split so that no
  /// input or label of one part appears in the other: 0 for independent
  /// examples, the window length for overlapping text windows.
  virtual int64_t splitGap() const { return 0; }

  /// Copies examples indices[0..count) into inputs (dtype inputDType(),
  /// shape [B, exampleShape()...] with B >= count; rows from count on are
  /// left untouched) and their labels into labels[0..count).
  Status gather(const int64_t *indices, int64_t count, const TensorView &inputs,
                int32_t *labels) const;

protected:
  friend class SubsetDataset; // forwards gatherChecked to its parent
  /// gather() after its checks: indices are in range and inputs fits.
  virtual void gatherChecked(const int64_t *indices, int64_t count, void *inputs,
                             int32_t *labels) const = 0;
};

/// Examples stored as IDX arrays: images [N, H, W] (grey, given a channel
/// dimension of 1), [N, H, W, C] or [N, D] (feature vectors), of any IDX
/// element type converted to float32 per batch, and labels [N] of an integer
/// type.
class ArrayDataset : public Dataset {
public:
  /// Checks that the arrays agree on N and that every label is in
  /// [0, numClasses); |name| prefixes errors.
  static Status create(std::string name, IdxArray images, IdxArray labels, int64_t numClasses,
                       std::shared_ptr<ArrayDataset> *out);

  int64_t size() const override { return size_; }
  const std::vector<int64_t> &exampleShape() const override { return shape_; }
  DType inputDType() const override { return DType::kF32; }
  int64_t numClasses() const override { return numClasses_; }
  std::string name() const override { return name_; }
  /// The labels, for statistics such as a class histogram.
  const std::vector<int32_t> &labels() const { return labels_; }

  /// One plus the largest label, i.e. the class count the labels imply.
  static Status countClasses(const IdxArray &labels, const std::string &context, int64_t *out);

protected:
  void gatherChecked(const int64_t *indices, int64_t count, void *inputs,
                     int32_t *labels) const override;

private:
  std::string name_;
  IdxArray images_;
  std::vector<int32_t> labels_;
  std::vector<int64_t> shape_;
  int64_t size_ = 0, numClasses_ = 0, exampleElements_ = 0;
};

/// Examples [begin, end) of another dataset, e.g. the train part of a
/// validation split. Shares the parent; copies nothing.
class SubsetDataset : public Dataset {
public:
  SubsetDataset(std::shared_ptr<const Dataset> parent, int64_t begin, int64_t end, std::string name)
      : parent_(std::move(parent)), begin_(begin), end_(end), name_(std::move(name)) {}

  int64_t size() const override { return end_ - begin_; }
  const std::vector<int64_t> &exampleShape() const override { return parent_->exampleShape(); }
  DType inputDType() const override { return parent_->inputDType(); }
  int64_t numClasses() const override { return parent_->numClasses(); }
  std::string name() const override { return name_; }

protected:
  void gatherChecked(const int64_t *indices, int64_t count, void *inputs,
                     int32_t *labels) const override;

private:
  std::shared_ptr<const Dataset> parent_;
  int64_t begin_, end_;
  std::string name_;
};

/// Fails, naming the first value, its example (of |perExample| values) and
/// element, unless each of the |count| values at(i) is a finite number
/// float32 can hold: NaN, infinity or 1e300 pixels would give plausible-
/// looking predictions from garbage.
Status requireFloat32Values(int64_t count, int64_t perExample,
                            const std::function<double(int64_t)> &at, const std::string &what);

} // namespace dlc::rt::data
