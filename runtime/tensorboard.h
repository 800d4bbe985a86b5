//===- tensorboard.h - Scalars in TensorBoard event files ----------------===//
//
// What keras.callbacks.TensorBoard writes for scalars: one event file per run
// in a directory, each record a TFRecord (length, masked CRC-32C of it, the
// serialized Event, masked CRC-32C of that) holding an Event protobuf
// (runtime/schemas/tensorboard_event.proto) with Summary values. The file
// is appended and flushed record by record, so `tensorboard --logdir`
// follows a run as it trains.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dlc::rt {

class EventWriter {
public:
  /// Creates |directory| (and its parents) and a new event file in it,
  /// named as TensorBoard expects (events.out.tfevents.<time>.<host>...).
  static Status open(const std::string &directory, std::unique_ptr<EventWriter> *out);
  ~EventWriter();

  /// One event at |step| holding |scalars| (tag, value), then flushed.
  Status write(int64_t step, const std::vector<std::pair<std::string, double>> &scalars);

  const std::string &path() const { return path_; }

private:
  EventWriter(std::FILE *file, std::string path) : file_(file), path_(std::move(path)) {}
  Status record(const std::string &data);

  std::FILE *file_;
  std::string path_;
};

/// CRC-32C (Castagnoli) of |size| bytes, as TFRecord checksums them
/// (before masking).
uint32_t crc32c(const void *data, size_t size);

} // namespace dlc::rt
