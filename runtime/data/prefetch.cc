//===- prefetch.cc - Batches made ahead on a worker thread ----------------===//
#include "runtime/data/prefetch.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace dlc::rt::data {

Prefetcher::~Prefetcher() {
  if (!worker_.joinable())
    return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void Prefetcher::start(BatchLoader loader) {
  loader_ = std::move(loader);
  inputs_.resize(loader_.numInputs());
  for (size_t i = 0; i < inputs_.size(); ++i)
    inputs_[i].resize(size_t(numElements(loader_.inputShape(i))) * dtypeSize(loader_.inputDType(i)));
  labels_.resize(size_t(numElements(loader_.labelShape())) * dtypeSize(loader_.labelDType()));
  exampleIds_.resize(size_t(loader_.inputShape(0).front()));
  worker_ = std::thread([this] { work(); });
}

void Prefetcher::request(uint64_t epoch, int64_t index) {
  epoch_ = epoch;
  index_ = index;
  pending_ = true;
  ready_ = false;
  changed_.notify_all();
}

void Prefetcher::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t loaderEpoch = UINT64_MAX;
  while (true) {
    changed_.wait(lock, [&] { return stop_ || (pending_ && !ready_); });
    if (stop_)
      return;
    const uint64_t epoch = epoch_;
    const int64_t index = index_;
    lock.unlock();
    // The buffers are the worker's until it says ready: the caller only
    // reads them after, and only requests again after reading.
    if (epoch != loaderEpoch) {
      loader_.startEpoch(epoch);
      loaderEpoch = epoch;
    }
    std::vector<TensorView> views;
    for (size_t i = 0; i < inputs_.size(); ++i)
      views.push_back({inputs_[i].data(), loader_.inputDType(i), loader_.inputShape(i)});
    int64_t count = 0;
    Status status =
        loader_.batch(index, views, {labels_.data(), loader_.labelDType(), loader_.labelShape()}, &count,
                      exampleIds_.data());
    lock.lock();
    status_ = status;
    count_ = count;
    ready_ = true;
    changed_.notify_all();
  }
}

Status Prefetcher::batch(uint64_t epoch, int64_t index, const std::vector<TensorView> &inputs,
                         const TensorView &labels, int64_t *count, double *waited,
                         int64_t *exampleIds) {
  if (!started())
    return DLC_MAKE_STATUS(StatusCode::kInternal, "the prefetcher was not started");
  if (inputs.size() != inputs_.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: wrong number of inputs");
  const auto begin = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  // Let a batch in flight finish (the buffers are the worker's meanwhile).
  changed_.wait(lock, [&] { return !pending_ || ready_; });
  if (!(pending_ && ready_ && epoch_ == epoch && index_ == index)) {
    request(epoch, index);
    changed_.wait(lock, [&] { return ready_; });
  }
  *waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  DLC_RETURN_IF_ERROR(status_, "");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].bytes() != inputs_[i].size())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: input buffer of the wrong size");
    std::memcpy(inputs[i].data, inputs_[i].data(), inputs_[i].size());
  }
  if (labels.bytes() != labels_.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: label buffer of the wrong size");
  std::memcpy(labels.data, labels_.data(), labels_.size());
  if (exampleIds)
    std::copy(exampleIds_.begin(), exampleIds_.end(), exampleIds);
  *count = count_;
  // The next one: the following batch, or the next epoch's first.
  if (index + 1 < loader_.numBatches())
    request(epoch, index + 1);
  else
    request(loader_.training() ? epoch + 1 : epoch, 0); // evaluation repeats one order
  return okStatus();
}

} // namespace dlc::rt::data
