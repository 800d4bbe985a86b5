//===- prefetch.h - Batches made ahead on a worker thread -----------------===//
//
// A Prefetcher owns a copy of a BatchLoader and a worker thread that makes
// the next batch (reading, decoding, augmenting) while the caller trains on
// the current one: batch(e, i) hands over batch i of epoch e and starts
// batch i + 1 (or the next epoch's first). Every batch is a pure function
// of (seed, epoch, index) (batch.h), so prefetching changes when work is
// done, never what a batch holds: runs and --resume stay exact. A request
// out of order (a resumed run, a validation pass) is simply made on the
// worker and waited for. The time the caller spent waiting is reported, so
// a table can say whether the step ever waits for data.
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
  Prefetcher() = default;
  Prefetcher(const Prefetcher &) = delete;
  Prefetcher &operator=(const Prefetcher &) = delete;
  ~Prefetcher();

  /// Takes |loader| (its batches' shapes size the buffers) and starts the
  /// worker.
  void start(BatchLoader loader);
  bool started() const { return worker_.joinable(); }
  const BatchLoader &loader() const { return loader_; }

  /// Batch |index| of epoch |epoch| into |inputs| and |labels| (the loader's
  /// shapes and types), and, when given, each example's index into
  /// |exampleIds| (BatchLoader::batch); |*waited| is the time this call
  /// blocked.
  Status batch(uint64_t epoch, int64_t index, const std::vector<TensorView> &inputs,
               const TensorView &labels, int64_t *count, double *waited,
               int64_t *exampleIds = nullptr);

private:
  void work();
  /// Asks the worker for (epoch, index); the mutex is held.
  void request(uint64_t epoch, int64_t index);

  BatchLoader loader_;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  // The one batch in flight or made: its key, buffers and outcome.
  bool pending_ = false, ready_ = false, stop_ = false;
  uint64_t epoch_ = 0;
  int64_t index_ = 0, count_ = 0;
  Status status_;
  std::vector<std::vector<uint8_t>> inputs_;
  std::vector<uint8_t> labels_;
  std::vector<int64_t> exampleIds_;
};

} // namespace dlc::rt::data
