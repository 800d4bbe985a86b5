//===- batch.cc - Epoch orders and batch assembly -------------------------===//
#include "runtime/data/batch.h"

#include "runtime/counter_rng.h"

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

Status BatchLoader::create(std::shared_ptr<const Dataset> dataset, Pipeline pipeline,
                           const LoaderConfig &config, BatchLoader *out) {
  if (!dataset)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "batch loader: no dataset");
  if (config.batchSize < 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, dataset->name() +
                                                             ": batch size must be positive, got " +
                                                             std::to_string(config.batchSize));
  if (pipeline.inputShape() != dataset->exampleShape())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           dataset->name() + ": the data transforms were built for inputs " +
                               shapeString(pipeline.inputShape()) + " but examples are " +
                               shapeString(dataset->exampleShape()));
  if (config.training && dataset->size() < config.batchSize)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           dataset->name() + ": " + std::to_string(dataset->size()) +
                               " examples make no full batch of " +
                               std::to_string(config.batchSize) + " (lower batch_size)");
  BatchLoader loader;
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

std::vector<int64_t> BatchLoader::inputShape() const {
  std::vector<int64_t> shape = {config_.batchSize};
  const std::vector<int64_t> &example = pipeline_.outputShape();
  shape.insert(shape.end(), example.begin(), example.end());
  return shape;
}

std::vector<int64_t> BatchLoader::labelShape() const {
  if (config_.labels == LabelFormat::kSparse)
    return {config_.batchSize};
  return {config_.batchSize, dataset_->numClasses()};
}

DType BatchLoader::labelDType() const {
  return config_.labels == LabelFormat::kSparse ? DType::kI32 : DType::kF32;
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

Status BatchLoader::batch(int64_t index, const TensorView &inputs, const TensorView &labels,
                          int64_t *count) {
  const std::string &name = dataset_->name();
  if (index < 0 || index >= numBatches())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": batch " + std::to_string(index) +
                                                             " out of range [0, " +
                                                             std::to_string(numBatches()) + ")");
  if (inputs.dtype != inputDType() || inputs.shape != inputShape() || !inputs.data)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": input buffer is " + dtypeName(inputs.dtype) + " " +
                               shapeString(inputs.shape) + ", batches are " +
                               dtypeName(inputDType()) + " " + shapeString(inputShape()));
  if (labels.dtype != labelDType() || labels.shape != labelShape() || !labels.data)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": label buffer is " + dtypeName(labels.dtype) + " " +
                               shapeString(labels.shape) + ", labels are " +
                               dtypeName(labelDType()) + " " + shapeString(labelShape()) +
                               " (sparse ids or one-hot rows, as the loss needs)");
  const int64_t B = config_.batchSize;
  const int64_t begin = index * B, n = std::min(B, dataset_->size() - begin);
  const int64_t *indices = order_.data() + begin;
  ids_.resize(size_t(B));

  const int64_t outElements = numElements(pipeline_.outputShape());
  const size_t rowBytes = size_t(outElements) * dtypeSize(inputDType());
  if (pipeline_.empty()) {
    DLC_RETURN_IF_ERROR(dataset_->gather(indices, n, inputs, ids_.data()), "");
  } else {
    const int64_t inElements = numElements(pipeline_.inputShape());
    const int64_t scratch = pipeline_.scratchElements();
    raw_.resize(size_t(n * inElements));
    scratch_.resize(size_t(n * scratch));
    std::vector<int64_t> rawShape = {n};
    rawShape.insert(rawShape.end(), pipeline_.inputShape().begin(), pipeline_.inputShape().end());
    TensorView rawView{raw_.data(), DType::kF32, rawShape};
    DLC_RETURN_IF_ERROR(dataset_->gather(indices, n, rawView, ids_.data()), "");
    const bool training = config_.training;
    // Examples are independent and their draws keyed by index, so threads
    // change nothing but the time. Only big images repay waking them: a
    // rescale of 128 Fashion-MNIST images is ~20 us serially, while an
    // OpenMP fork/join on a busy machine costs milliseconds.
#pragma omp parallel for schedule(static) if (n * (inElements + outElements) > (1 << 22))
    for (int64_t r = 0; r < n; ++r)
      pipeline_.apply(raw_.data() + r * inElements, inputs.f32() + r * outElements, training,
                      AugmentKey{config_.seed, epoch_, uint64_t(indices[r])},
                      scratch_.data() + r * scratch);
  }
  if (n < B)
    std::memset(static_cast<char *>(inputs.data) + size_t(n) * rowBytes, 0,
                size_t(B - n) * rowBytes);

  if (config_.labels == LabelFormat::kSparse) {
    std::fill(labels.i32(), labels.i32() + B, 0);
    std::copy(ids_.begin(), ids_.begin() + n, labels.i32());
  } else {
    const int64_t classes = dataset_->numClasses();
    std::fill(labels.f32(), labels.f32() + B * classes, 0.0f);
    for (int64_t r = 0; r < n; ++r)
      labels.f32()[r * classes + ids_[size_t(r)]] = 1.0f;
  }
  *count = n;
  return okStatus();
}

} // namespace dlc::rt::data
