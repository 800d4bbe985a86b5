//===- tensorboard.cc - Scalars in TensorBoard event files ---------------===//
#include "runtime/tensorboard.h"

#include "runtime/schemas/tensorboard_event.pb.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <unistd.h>

namespace dlc::rt {
namespace {

double wallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// TFRecord's masking: a CRC of data that holds CRCs is a poor checksum.
uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

} // namespace

uint32_t crc32c(const void *data, size_t size) {
  static const auto table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1; // the reflected Castagnoli polynomial
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  const auto *bytes = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

Status EventWriter::open(const std::string &directory, std::unique_ptr<EventWriter> *out) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           "cannot create the TensorBoard directory " + directory + ": " + error.message());
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  // Two runs started in the same second get different files.
  static std::atomic<int> counter{0};
  std::string path = directory + "/events.out.tfevents." +
                     std::to_string(int64_t(wallTime())) + "." + host + "." +
                     std::to_string(getpid()) + "." + std::to_string(counter++) + ".v2";
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           "cannot write " + path + ": " + std::strerror(errno));
  std::unique_ptr<EventWriter> writer(new EventWriter(file, path));
  tensorboard::Event first;
  first.set_wall_time(wallTime());
  first.set_file_version("brain.Event:2");
  DLC_RETURN_IF_ERROR(writer->record(first.SerializeAsString()), "");
  *out = std::move(writer);
  return okStatus();
}

EventWriter::~EventWriter() { std::fclose(file_); }

Status EventWriter::record(const std::string &data) {
  const uint64_t length = data.size(); // little-endian on every host dlc runs on
  const uint32_t lengthCrc = masked(crc32c(&length, sizeof length));
  const uint32_t dataCrc = masked(crc32c(data.data(), data.size()));
  bool ok = std::fwrite(&length, sizeof length, 1, file_) == 1 &&
            std::fwrite(&lengthCrc, sizeof lengthCrc, 1, file_) == 1 &&
            (data.empty() || std::fwrite(data.data(), data.size(), 1, file_) == 1) &&
            std::fwrite(&dataCrc, sizeof dataCrc, 1, file_) == 1 && std::fflush(file_) == 0;
  if (!ok)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "cannot write " + path_ + ": " + std::strerror(errno));
  return okStatus();
}

Status EventWriter::write(int64_t step, const std::vector<std::pair<std::string, double>> &scalars) {
  tensorboard::Event event;
  event.set_wall_time(wallTime());
  event.set_step(step);
  for (const auto &[tag, value] : scalars) {
    tensorboard::SummaryValue *v = event.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(float(value));
  }
  return record(event.SerializeAsString());
}

} // namespace dlc::rt
