//===- batch.cc - Epoch orders and batch assembly -------------------------===//
#include "runtime/data/batch.h"

#include "runtime/counter_rng.h"
#include "runtime/float16.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace dlc::rt::data {
namespace {

constexpr uint64_t kShuffleSalt = 0x5348554646'4c45ull; // "SHUFFLE"

} // namespace

std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, uint64_t epoch) {
  std::vector<int64_t> order(size_t(std::max<int64_t>(n, 0)));
  std::iota(order.begin(), order.end(), 0);
  const uint64_t key = mix64(seed ^ kShuffleSalt);
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = int64_t(uniform01(key, epoch, uint64_t(i)) * double(i + 1));
    std::swap(order[size_t(i)], order[size_t(std::min(j, i))]);
  }
  return order;
}

bool sameUpToUnitAxes(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  auto squeezed = [](const std::vector<int64_t> &shape) {
    std::vector<int64_t> out;
    for (int64_t d : shape)
      if (d != 1)
        out.push_back(d);
    return out;
  };
  return squeezed(a) == squeezed(b);
}

Status BatchLoader::create(std::shared_ptr<const Dataset> dataset, Pipeline pipeline,
                           const LoaderConfig &config, BatchLoader *out) {
  if (!dataset)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "batch loader: no dataset");
  const std::string &name = dataset->name();
  auto bad = [&](const std::string &what) {
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": " + what);
  };
  if (config.batchSize < 1)
    return bad("batch size must be positive, got " + std::to_string(config.batchSize));
  const std::vector<Field> &fields = dataset->inputs();
  if (fields.empty())
    return bad("examples have no inputs");
  BatchLoader loader;
  // The batch tensors: the model's, or the data's as the transforms leave it.
  loader.inputs_ = config.modelInputs;
  if (loader.inputs_.empty()) {
    loader.inputs_ = fields;
    for (Field &f : loader.inputs_)
      if (f.dtype != DType::kI32 && f.dtype != DType::kI64) // token ids stay integers
        f.dtype = DType::kF32;
    loader.inputs_[0].shape = pipeline.outputShape();
  }
  if (loader.inputs_.size() != fields.size())
    return bad("examples have " + std::to_string(fields.size()) + " inputs but the model takes " +
               std::to_string(loader.inputs_.size()));
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field &model = loader.inputs_[i], &data = fields[i];
    const std::string which = "input '" + (model.name.empty() ? std::to_string(i) : model.name) + "'";
    const bool transformed = i == 0 && !pipeline.empty();
    if (transformed) {
      if (!convertible(data.dtype, DType::kF32))
        return bad("the data transforms need numbers, the data holds " +
                   std::string(dtypeName(data.dtype)));
      if (pipeline.outputShape() != model.shape)
        return bad("the data transforms make " + shapeString(pipeline.outputShape()) +
                   " examples but the model's " + which + " is " + shapeString(model.shape));
      if (!sameUpToUnitAxes(pipeline.inputShape(), data.shape))
        return bad("the data transforms were built for " + shapeString(pipeline.inputShape()) +
                   " examples but the data holds " + shapeString(data.shape));
      if (!isFloatDType(model.dtype))
        return bad("the data transforms make floats but the model's " + which + " is " +
                   dtypeName(model.dtype));
      continue;
    }
    if (!sameUpToUnitAxes(data.shape, model.shape))
      return bad("the data's " + which + " is " + shapeString(data.shape) + " per example but the model takes " +
                 shapeString(model.shape));
    if (!convertible(data.dtype, model.dtype))
      return bad("the data's " + which + " holds " + dtypeName(data.dtype) +
                 " values but the model takes " + dtypeName(model.dtype) +
                 " (token ids must be integers)");
  }

  // Targets, one per model output.
  const std::vector<Field> &targets = dataset->targets();
  for (size_t given : {config.labels.size(), config.modelLabelShapes.size(), config.classes.size()})
    if (given != 0 && given != targets.size())
      return bad("examples have " + std::to_string(targets.size()) + " targets but the model has " +
                 std::to_string(given) + " outputs");
  for (size_t t = 0; t < targets.size(); ++t) {
    const Field &target = targets[t];
    const int64_t dataClasses = dataset->numClasses(t);
    const std::string which = targets.size() == 1 ? "the targets" : "the targets of '" + target.name + "'";
    Target out;
    out.ids = isIntegerDType(target.dtype) && dataClasses > 0;
    out.format = !config.labels.empty() ? config.labels[t]
                 : out.ids              ? LabelFormat::kSparse
                                        : LabelFormat::kOneHot;
    if (!config.modelLabelShapes.empty())
      out.example = config.modelLabelShapes[t];
    const bool fromData = out.example.empty();
    switch (out.format) {
    case LabelFormat::kSparse:
      if (!out.ids)
        return bad("the loss takes class ids but " + which + " are " + std::string(dtypeName(target.dtype)) +
                   (isIntegerDType(target.dtype) ? " with negative values"
                                                 : " values (one-hot or float targets need "
                                                   "categorical_crossentropy, binary_crossentropy or mse)"));
      if (fromData)
        out.example = target.shape;
      if (!sameUpToUnitAxes(target.shape, out.example))
        return bad(which + " are " + shapeString(target.shape) + " class ids per example but the loss takes " +
                   shapeString(out.example));
      out.classes = !config.classes.empty() && config.classes[t] > 0 ? config.classes[t] : dataClasses;
      break;
    case LabelFormat::kOneHot: {
      if (fromData) {
        out.example = target.shape;
        if (out.ids)
          out.example.push_back(dataClasses);
      }
      const std::vector<int64_t> &rows = out.example;
      // Targets of the rows' shape are taken as they are (one-hot or
      // multi-label rows, regression values, 0/1 for one sigmoid output) ...
      if (sameUpToUnitAxes(target.shape, rows)) {
        out.ids = false;
        break;
      }
      // ... and class ids are one-hot encoded over the last axis.
      std::vector<int64_t> ids(rows.begin(), rows.end() - (rows.empty() ? 0 : 1));
      if (!out.ids || rows.empty() || !sameUpToUnitAxes(target.shape, ids))
        return bad(which + " are " + std::string(dtypeName(target.dtype)) + " " + shapeString(target.shape) +
                   " per example but the loss takes " + shapeString(rows) +
                   (rows.empty() ? "" : " (or class ids " + shapeString(ids) + ")"));
      out.classes = rows.back();
      break;
    }
    }
    if (out.ids && dataClasses > out.classes)
      return bad(which + " hold class ids up to " + std::to_string(dataClasses - 1) +
                 " but the model's output has " + std::to_string(out.classes) +
                 " classes (does the number of classes match the last layer?)");
    loader.targets_.push_back(std::move(out));
  }
  loader.ids_.resize(targets.size());
  if (config.training && dataset->size() < config.batchSize)
    return bad(std::to_string(dataset->size()) + " examples make no full batch of " +
               std::to_string(config.batchSize) + " (lower batch_size)");
  loader.dataset_ = std::move(dataset);
  loader.pipeline_ = std::move(pipeline);
  loader.config_ = config;
  loader.startEpoch(0);
  *out = std::move(loader);
  return okStatus();
}

int64_t BatchLoader::numBatches() const {
  int64_t n = dataset_->size(), b = config_.batchSize;
  return config_.training ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> BatchLoader::inputShape(size_t i) const {
  std::vector<int64_t> shape = {config_.batchSize};
  shape.insert(shape.end(), inputs_[i].shape.begin(), inputs_[i].shape.end());
  return shape;
}

std::vector<int64_t> BatchLoader::labelShape(size_t t) const {
  std::vector<int64_t> shape = {config_.batchSize};
  shape.insert(shape.end(), targets_[t].example.begin(), targets_[t].example.end());
  return shape;
}

DType BatchLoader::labelDType(size_t t) const {
  return targets_[t].format == LabelFormat::kSparse ? DType::kI32 : DType::kF32;
}

void BatchLoader::startEpoch(uint64_t epoch) {
  epoch_ = epoch;
  if (config_.training && config_.shuffle) {
    order_ = epochOrder(dataset_->size(), config_.seed, epoch);
  } else if (int64_t(order_.size()) != dataset_->size()) {
    order_.resize(size_t(dataset_->size()));
    std::iota(order_.begin(), order_.end(), 0);
  }
}

Status BatchLoader::batch(int64_t index, const std::vector<TensorView> &inputs,
                          const std::vector<TensorView> &labels, int64_t *count, int64_t *exampleIds) {
  const std::string &name = dataset_->name();
  if (index < 0 || index >= numBatches())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": batch " + std::to_string(index) +
                                                             " out of range [0, " +
                                                             std::to_string(numBatches()) + ")");
  if (inputs.size() != inputs_.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": " + std::to_string(inputs.size()) + " input buffers for " +
                               std::to_string(inputs_.size()) + " inputs");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].dtype != inputDType(i) || inputs[i].shape != inputShape(i) || !inputs[i].data)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name + ": input buffer " + std::to_string(i) + " is " +
                                 dtypeName(inputs[i].dtype) + " " + shapeString(inputs[i].shape) +
                                 ", batches are " + dtypeName(inputDType(i)) + " " +
                                 shapeString(inputShape(i)));
  if (labels.size() != targets_.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": " + std::to_string(labels.size()) + " label buffers for " +
                               std::to_string(targets_.size()) + " targets");
  for (size_t t = 0; t < labels.size(); ++t)
    if (labels[t].dtype != labelDType(t) || labels[t].shape != labelShape(t) || !labels[t].data)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name + ": label buffer " + (labels.size() > 1 ? std::to_string(t) + " " : "") +
                                 "is " + dtypeName(labels[t].dtype) + " " + shapeString(labels[t].shape) +
                                 ", labels are " + dtypeName(labelDType(t)) + " " + shapeString(labelShape(t)) +
                                 " (sparse ids or one-hot rows, as the loss needs)");
  const int64_t B = config_.batchSize;
  const int64_t begin = index * B, n = std::min(B, dataset_->size() - begin);
  const int64_t *indices = order_.data() + begin;
  if (exampleIds) {
    std::fill(exampleIds, exampleIds + B, 0);
    std::copy(indices, indices + n, exampleIds);
  }

  // Gather: the transformed input into raw_, the others straight into
  // their buffers, class ids into ids_ (one-hot rows are made from them).
  std::vector<TensorView> destinations = inputs;
  const bool transform = !pipeline_.empty();
  const int64_t inElements = numElements(pipeline_.inputShape());
  const int64_t outElements = numElements(inputs_[0].shape);
  if (transform) {
    raw_.resize(size_t(n * inElements));
    std::vector<int64_t> rawShape = {n};
    rawShape.insert(rawShape.end(), pipeline_.inputShape().begin(), pipeline_.inputShape().end());
    destinations[0] = TensorView{raw_.data(), DType::kF32, rawShape};
  }
  std::vector<TensorView> targets = labels;
  for (size_t t = 0; t < targets_.size(); ++t) {
    const Target &target = targets_[t];
    if (!target.ids)
      continue;
    const int64_t labelElements = numElements(target.example);
    const int64_t idsPerExample = target.format == LabelFormat::kSparse
                                      ? labelElements
                                      : labelElements / std::max<int64_t>(target.classes, 1);
    ids_[t].assign(size_t(std::max<int64_t>(n, 1) * idsPerExample), 0);
    targets[t] = TensorView{ids_[t].data(), DType::kI32, {std::max<int64_t>(n, 1), idsPerExample}};
  }
  DLC_RETURN_IF_ERROR(dataset_->gather(indices, n, destinations, targets), "");

  if (transform) {
    const int64_t scratch = pipeline_.scratchElements();
    scratch_.resize(size_t(n * scratch));
    const bool f32 = inputs[0].dtype == DType::kF32;
    if (!f32)
      transformed_.resize(size_t(n * outElements));
    float *out = f32 ? inputs[0].f32() : transformed_.data();
    const bool training = config_.training;
    // Examples are independent and their draws keyed by index, so threads
    // change nothing but the time. Only big images repay waking them: a
    // rescale of 128 Fashion-MNIST images is ~20 us serially, while an
    // OpenMP fork/join on a busy machine costs milliseconds.
#pragma omp parallel for schedule(static) if (n * (inElements + outElements) > (1 << 22))
    for (int64_t r = 0; r < n; ++r)
      pipeline_.apply(raw_.data() + r * inElements, out + r * outElements, training,
                      AugmentKey{config_.seed, epoch_, uint64_t(indices[r])},
                      scratch_.data() + r * scratch);
    if (!f32)
      for (int64_t i = 0; i < n * outElements; ++i)
        storeElement(inputs[0].dtype, inputs[0].data, i, transformed_[size_t(i)]);
  }
  if (n < B)
    for (size_t i = 0; i < inputs.size(); ++i) {
      const size_t rowBytes = size_t(numElements(inputs_[i].shape)) * dtypeSize(inputs[i].dtype);
      std::memset(static_cast<char *>(inputs[i].data) + size_t(n) * rowBytes, 0,
                  size_t(B - n) * rowBytes);
    }

  for (size_t t = 0; t < targets_.size(); ++t) {
    const Target &target = targets_[t];
    const TensorView &view = labels[t];
    const int64_t labelElements = numElements(target.example);
    if (!target.ids) {
      if (n < B)
        std::fill(view.f32() + n * labelElements, view.f32() + B * labelElements, 0.0f);
      continue;
    }
    const std::vector<int32_t> &ids = ids_[t];
    const int64_t perExample = int64_t(ids.size()) / std::max<int64_t>(n, 1);
    for (int64_t i = 0; i < n * perExample; ++i)
      if (ids[size_t(i)] < 0 || ids[size_t(i)] >= target.classes)
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               name + ": example " + std::to_string(indices[i / perExample]) +
                                   " has the class id " + std::to_string(ids[size_t(i)]) +
                                   (targets_.size() > 1 ? " in the targets of '" +
                                                              dataset_->targets()[t].name + "'"
                                                        : "") +
                                   ", outside the model's " + std::to_string(target.classes) + " classes");
    if (target.format == LabelFormat::kSparse) {
      std::fill(view.i32(), view.i32() + B * labelElements, 0);
      std::copy(ids.begin(), ids.begin() + n * labelElements, view.i32());
    } else {
      std::fill(view.f32(), view.f32() + B * labelElements, 0.0f);
      const int64_t rows = n * (labelElements / target.classes);
      for (int64_t r = 0; r < rows; ++r)
        view.f32()[r * target.classes + ids[size_t(r)]] = 1.0f;
    }
  }
  *count = n;
  return okStatus();
}

} // namespace dlc::rt::data
