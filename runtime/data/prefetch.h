//===- prefetch.h - Batches made ahead on a worker thread -----------------===//
//
// A Prefetcher owns a copy of a BatchLoader and a worker thread that makes
// the next batches (reading, decoding, augmenting) while the caller trains
// on the current one: a bounded queue of |depth| batches requested in the
// order the caller will ask for them (after batch i of epoch e, i + 1, or
// the next epoch's first). batch(e, i) hands over the queue's head and
// requests one more at its tail, so up to |depth| batches are made ahead and
// a slow batch (a large JPEG) is absorbed by the ones made before it. Every
// batch is a pure function of (seed, epoch, index) (batch.h), so
// prefetching changes when work is done, never what a batch holds: runs and
// --resume stay exact. A request out of order (a resumed run, a validation
// pass) empties the queue and starts it again there. The time the caller
// spent waiting is reported, so a table can say whether the step ever
// waits for data.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/batch.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace dlc::rt::data {

class Prefetcher {
public:
  /// Batches made ahead by default: enough to absorb one slow batch while
  /// the next is made, at the memory of three batches.
  static constexpr int kDefaultDepth = 3;

  Prefetcher() = default;
  Prefetcher(const Prefetcher &) = delete;
  Prefetcher &operator=(const Prefetcher &) = delete;
  ~Prefetcher();

  /// Takes |loader| (its batches' shapes size the buffers of |depth| >= 1
  /// batches) and starts the worker.
  void start(BatchLoader loader, int depth = kDefaultDepth);
  bool started() const { return worker_.joinable(); }
  const BatchLoader &loader() const { return loader_; }

  /// Batch |index| of epoch |epoch| into |inputs| and |labels| (one view
  /// per target; the loader's shapes and types), and, when given, each
  /// example's index into |exampleIds| (BatchLoader::batch); |*waited| is
  /// the time this call blocked.
  Status batch(uint64_t epoch, int64_t index, const std::vector<TensorView> &inputs,
               const std::vector<TensorView> &labels, int64_t *count, double *waited,
               int64_t *exampleIds = nullptr);

private:
  // One batch of the queue: requested, being made by the worker, or made.
  struct Slot {
    enum class State { kRequested, kMaking, kReady } state = State::kRequested;
    uint64_t epoch = 0;
    int64_t index = 0, count = 0;
    Status status;
    std::vector<std::vector<uint8_t>> inputs, labels; // labels: per target
    std::vector<int64_t> exampleIds;
  };

  void work();
  /// The slot |k| places after the queue's head.
  Slot &at(size_t k) { return slots_[(head_ + k) % slots_.size()]; }
  /// Appends (epoch, index) to the queue; the mutex is held.
  void request(uint64_t epoch, int64_t index);
  /// Requests what follows the queue's tail until it holds |depth| batches.
  void fill();

  BatchLoader loader_;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  // The queue: slots_[head_] and the |queued_ - 1| after it, in order.
  std::vector<Slot> slots_;
  size_t head_ = 0, queued_ = 0;
  bool stop_ = false;
};

} // namespace dlc::rt::data
