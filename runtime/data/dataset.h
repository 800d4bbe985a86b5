//===- dataset.h - Labelled examples that training draws batches from -----===//
//
// A Dataset is a fixed, random-access list of examples, each some input
// tensors and one target per model output (Keras' y, or its dict of arrays
// for a model of several outputs): the batch loader asks for arbitrary indices in a
// shuffled order, so sources hold their data in memory or mapped (Fashion-
// MNIST is 47 MB as bytes), or decode it when asked (image folders), and
// convert to the model's element types per batch.
//
// Images are channels last, one example being [H, W, C] (as in Keras).
// Targets are class ids (integers), or float tensors for regression,
// multi-label and one-hot targets.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/array.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt::data {

/// One tensor of every example: a model input or a target. |shape| is one
/// example's, without the batch dimension.
struct Field {
  std::string name; // the model input or output it feeds; "" where the source does not say
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
};

class Dataset {
public:
  virtual ~Dataset() = default;

  /// Number of examples.
  virtual int64_t size() const = 0;
  /// The inputs of one example, in the order the model takes them (a source
  /// with named arrays orders them by the model's input names).
  virtual const std::vector<Field> &inputs() const = 0;
  /// The targets, one per model output in the model's order (one for a
  /// one-output model): integers (class ids when they are all >= 0) or
  /// floats.
  virtual const std::vector<Field> &targets() const = 0;
  /// For class-id targets, one plus the largest id of target |target| (or
  /// the number of classes the source declares, if more); 0 when that
  /// target is not class ids.
  virtual int64_t numClasses(size_t target) const = 0;
  /// "Fashion-MNIST train", for messages.
  virtual std::string name() const = 0;
  /// How many examples to leave out between the parts of a split so that no
  /// input or target of one part appears in the other: 0 for independent
  /// examples, the window length for overlapping text windows.
  virtual int64_t splitGap() const { return 0; }

  /// Copies examples indices[0..count) into |inputs| (one view per input,
  /// shape [B, ...] with B >= count and the field's element count per
  /// example; rows from count on are left untouched) and |targets| (one view
  /// per target, likewise), converting to each view's dtype (convertible()
  /// must allow it).
  Status gather(const int64_t *indices, int64_t count, const std::vector<TensorView> &inputs,
                const std::vector<TensorView> &targets) const;

protected:
  friend class SubsetDataset; // forwards gatherChecked to its parent
  /// gather() after its checks: indices are in range, views fit. Fails only
  /// for data that cannot be read (an image that does not decode).
  virtual Status gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                               const DType *inputTypes, void *const *targets,
                               const DType *targetTypes) const = 0;
};

/// Examples stored as arrays whose first dimension counts them: any number
/// of inputs and of targets, of any element type (converted per batch).
class ArrayDataset : public Dataset {
public:
  struct Input {
    std::string name;
    HostArray array;
  };
  /// Checks that the arrays agree on N, that float arrays hold finite
  /// float32 values, and, for each integer target, finds its class count (at
  /// least |numClasses|, the count a one-target source declares). A target
  /// is named after the model output it feeds ("labels" where |name| is
  /// ""); |name| prefixes errors.
  static Status create(std::string name, std::vector<Input> inputs, std::vector<Input> targets,
                       int64_t numClasses, std::shared_ptr<ArrayDataset> *out);

  int64_t size() const override { return size_; }
  const std::vector<Field> &inputs() const override { return fields_; }
  const std::vector<Field> &targets() const override { return targetFields_; }
  int64_t numClasses(size_t target) const override { return numClasses_[target]; }
  std::string name() const override { return name_; }
  /// Element |i| of target |target| as a number, for statistics such as a
  /// class histogram.
  double targetAt(size_t target, int64_t i) const { return targetArrays_[target].at(i); }

protected:
  Status gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                       const DType *inputTypes, void *const *targets,
                       const DType *targetTypes) const override;

private:
  std::string name_;
  std::vector<HostArray> arrays_, targetArrays_;
  std::vector<Field> fields_, targetFields_;
  std::vector<int64_t> numClasses_; // per target
  int64_t size_ = 0;
};

/// Examples [begin, end) of another dataset, e.g. the train part of a
/// validation split. Shares the parent; copies nothing.
class SubsetDataset : public Dataset {
public:
  SubsetDataset(std::shared_ptr<const Dataset> parent, int64_t begin, int64_t end, std::string name)
      : parent_(std::move(parent)), begin_(begin), end_(end), name_(std::move(name)) {}

  int64_t size() const override { return end_ - begin_; }
  const std::vector<Field> &inputs() const override { return parent_->inputs(); }
  const std::vector<Field> &targets() const override { return parent_->targets(); }
  int64_t numClasses(size_t target) const override { return parent_->numClasses(target); }
  std::string name() const override { return name_; }

protected:
  Status gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                       const DType *inputTypes, void *const *targets,
                       const DType *targetTypes) const override;

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
