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

void Prefetcher::start(BatchLoader loader, int depth) {
  loader_ = std::move(loader);
  slots_.resize(size_t(std::max(depth, 1)));
  for (Slot &slot : slots_) {
    slot.inputs.resize(loader_.numInputs());
    for (size_t i = 0; i < slot.inputs.size(); ++i)
      slot.inputs[i].resize(size_t(numElements(loader_.inputShape(i))) * dtypeSize(loader_.inputDType(i)));
    slot.labels.resize(loader_.numTargets());
    for (size_t t = 0; t < slot.labels.size(); ++t)
      slot.labels[t].resize(size_t(numElements(loader_.labelShape(t))) * dtypeSize(loader_.labelDType(t)));
    slot.exampleIds.resize(size_t(loader_.inputShape(0).front()));
  }
  worker_ = std::thread([this] { work(); });
}

void Prefetcher::request(uint64_t epoch, int64_t index) {
  Slot &slot = at(queued_++);
  slot.state = Slot::State::kRequested;
  slot.epoch = epoch;
  slot.index = index;
  changed_.notify_all();
}

void Prefetcher::fill() {
  while (queued_ > 0 && queued_ < slots_.size()) {
    const Slot &last = at(queued_ - 1);
    if (last.index + 1 < loader_.numBatches())
      request(last.epoch, last.index + 1);
    else // the next epoch's first; evaluation repeats one order
      request(loader_.training() ? last.epoch + 1 : last.epoch, 0);
  }
}

void Prefetcher::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t loaderEpoch = UINT64_MAX;
  while (true) {
    // The first requested batch of the queue (the ones before it are made).
    Slot *next = nullptr;
    changed_.wait(lock, [&] {
      next = nullptr;
      for (size_t k = 0; k < queued_ && !next; ++k)
        if (at(k).state == Slot::State::kRequested)
          next = &at(k);
      return stop_ || next;
    });
    if (stop_)
      return;
    next->state = Slot::State::kMaking;
    const uint64_t epoch = next->epoch;
    const int64_t index = next->index;
    lock.unlock();
    // The slot's buffers are the worker's while it is being made: the
    // caller reads only made slots and empties the queue only when none is
    // being made.
    if (epoch != loaderEpoch) {
      loader_.startEpoch(epoch);
      loaderEpoch = epoch;
    }
    std::vector<TensorView> views, labels;
    for (size_t i = 0; i < next->inputs.size(); ++i)
      views.push_back({next->inputs[i].data(), loader_.inputDType(i), loader_.inputShape(i)});
    for (size_t t = 0; t < next->labels.size(); ++t)
      labels.push_back({next->labels[t].data(), loader_.labelDType(t), loader_.labelShape(t)});
    int64_t count = 0;
    Status status = loader_.batch(index, views, labels, &count, next->exampleIds.data());
    lock.lock();
    next->status = status;
    next->count = count;
    next->state = Slot::State::kReady;
    changed_.notify_all();
  }
}

Status Prefetcher::batch(uint64_t epoch, int64_t index, const std::vector<TensorView> &inputs,
                         const std::vector<TensorView> &labels, int64_t *count, double *waited,
                         int64_t *exampleIds) {
  if (!started())
    return DLC_MAKE_STATUS(StatusCode::kInternal, "the prefetcher was not started");
  if (inputs.size() != slots_.front().inputs.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: wrong number of inputs");
  if (labels.size() != slots_.front().labels.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: wrong number of label buffers");
  const auto begin = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  if (!(queued_ > 0 && at(0).epoch == epoch && at(0).index == index)) {
    // Out of order: let a batch being made finish (its buffers are the
    // worker's meanwhile), drop the queue, start it again here.
    changed_.wait(lock, [&] {
      for (size_t k = 0; k < queued_; ++k)
        if (at(k).state == Slot::State::kMaking)
          return false;
      return true;
    });
    queued_ = 0;
    request(epoch, index);
  }
  fill();
  Slot &slot = at(0);
  changed_.wait(lock, [&] { return slot.state == Slot::State::kReady; });
  *waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  Status status = slot.status;
  if (status.ok()) {
    for (size_t i = 0; i < inputs.size() && status.ok(); ++i) {
      if (inputs[i].bytes() != slot.inputs[i].size())
        status = DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: input buffer of the wrong size");
      else
        std::memcpy(inputs[i].data, slot.inputs[i].data(), slot.inputs[i].size());
    }
    for (size_t t = 0; t < labels.size() && status.ok(); ++t)
      if (labels[t].bytes() != slot.labels[t].size())
        status = DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "prefetch: label buffer of the wrong size");
  }
  if (status.ok()) {
    for (size_t t = 0; t < labels.size(); ++t)
      std::memcpy(labels[t].data, slot.labels[t].data(), slot.labels[t].size());
    if (exampleIds)
      std::copy(slot.exampleIds.begin(), slot.exampleIds.end(), exampleIds);
    *count = slot.count;
  }
  // Handed over (or failed): the queue moves on, and one more is requested.
  head_ = (head_ + 1) % slots_.size();
  --queued_;
  if (queued_ == 0)
    request(slot.index + 1 < loader_.numBatches() ? slot.epoch : loader_.training() ? slot.epoch + 1 : slot.epoch,
            slot.index + 1 < loader_.numBatches() ? slot.index + 1 : 0);
  fill();
  return status;
}

} // namespace dlc::rt::data
