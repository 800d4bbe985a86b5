//===- sha256.h - SHA-256 for kernel cache keys and checksums -------------===//
//
// Cache keys must not collide (a collision would run the wrong kernel) and
// cache entries must reveal corruption, so both use SHA-256 (FIPS 180-4)
// rather than a fast non-cryptographic hash; the inputs are a few KiB of
// source and CUBIN, where its cost is invisible next to a compile.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace dlc::rt::cuda {

class Sha256 {
public:
  Sha256();
  void update(const void *data, size_t size);
  /// Feeds the length, then the bytes, so that ("ab","c") and ("a","bc")
  /// hash differently when several fields are concatenated.
  void updateField(const std::string &field);
  std::array<uint8_t, 32> finish();

private:
  void block(const uint8_t *p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

/// Lower-case hex of |digest|.
std::string toHex(const std::array<uint8_t, 32> &digest);

} // namespace dlc::rt::cuda
