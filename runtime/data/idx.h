//===- idx.h - Reading and writing IDX files (MNIST's format) -------------===//
//
// The IDX format (http://yann.lecun.com/exdb/mnist/):
//
//   [0x00 0x00][type code][rank R][R big-endian u32 dims][big-endian elements]
//
// Type codes: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. Files
// may be gzip-compressed (as distributed) or raw; readIdx detects which.
//
// Data files come from outside the trust boundary: every size is checked
// with overflow-safe arithmetic against what the file actually holds before
// anything is allocated, and truncation, trailing bytes, a bad magic or a
// corrupt gzip stream is kDataLoss naming the file. A missing file is
// kNotFound, other I/O failures kUnavailable.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt::data {

enum class IdxType : uint8_t {
  kU8 = 0x08,
  kI8 = 0x09,
  kI16 = 0x0B,
  kI32 = 0x0C,
  kF32 = 0x0D,
  kF64 = 0x0E,
};

/// Bytes per element; 0 for a value that is not a valid type code.
size_t idxTypeSize(IdxType type);
/// "u8", "i8", "i16", "i32", "f32", "f64".
const char *idxTypeName(IdxType type);
/// Whether the type holds integers (labels must).
inline bool idxTypeIsIntegral(IdxType type) {
  return type != IdxType::kF32 && type != IdxType::kF64;
}

/// A whole IDX file in memory. |data| holds the elements row-major in host
/// byte order (the reader swaps them from the file's big-endian order).
struct IdxArray {
  IdxType type = IdxType::kU8;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// Element |i| converted to double (exact for every type but f64 itself).
  double at(int64_t i) const;
};

/// Reads |path|, gzip-compressed or raw. |*out| is only assigned on success.
Status readIdx(const std::string &path, IdxArray *out);
/// readIdx on the bytes of a file (raw or gzip); |path| names it in errors.
Status parseIdx(std::vector<uint8_t> fileBytes, const std::string &path, IdxArray *out);

/// Writes |array| to |path| (gzip-compressed when |gzip|), e.g. to export a
/// data set or build test fixtures. data.size() must match dims and type.
Status writeIdx(const std::string &path, const IdxArray &array, bool gzip);

} // namespace dlc::rt::data
