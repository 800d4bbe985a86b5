//===- safetensors.h - Reading and atomically writing .safetensors -------===//
//
// The safetensors format (https://github.com/huggingface/safetensors):
//
//   [u64 little-endian N][N bytes of UTF-8 JSON header][data section]
//
// The header maps tensor name -> {"dtype", "shape", "data_offsets": [b, e]}
// plus an optional "__metadata__" string->string object. Offsets are relative
// to the first byte of the data section, which the tensors must cover exactly
// (no gaps, no overlaps). Tensor bytes are row-major little-endian.
//
// Weight files come from outside the trust boundary, so the reader validates
// every field with checked arithmetic and reports a Status rather than
// crashing: any defect in the file is kDataLoss, naming the file and, where
// there is one, the tensor. Misuse by the caller is kInvalidArgument.
// Deliberately stricter than the reference reader (safetensors 0.8), which
// accepts these: duplicate tensor names, keys other than dtype/shape/
// data_offsets, a null __metadata__, leading whitespace, rank above 64.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::rt {

/// The safetensors spelling of |dtype|, e.g. "BF16" (the reference
/// implementation's names; F8 variants are not supported).
const char *safetensorsDTypeName(DType dtype);
/// Parses a safetensors dtype spelling; false if unknown or unsupported.
bool parseSafetensorsDType(std::string_view name, DType *out);

/// A tensor inside a SafetensorsFile. |data| points into the file's buffer
/// and need not be aligned for the element type (the reference writer aligns
/// every tensor, but the format does not require it), so read it with memcpy
/// or the read* helpers below.
struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape; // [] for a scalar
  const uint8_t *data = nullptr;
  size_t nbytes = 0;

  /// Number of elements (1 for a scalar); -1 if the shape is negative or
  /// overflows, which parse() never lets through.
  int64_t numElements() const;
};

/// A whole safetensors file held in memory. Views point into the owned
/// buffer, so the object is move-only (moving a std::vector keeps its storage
/// and therefore the views valid; a copy would leave them dangling).
class SafetensorsFile {
public:
  SafetensorsFile() = default;
  SafetensorsFile(SafetensorsFile &&) = default;
  SafetensorsFile &operator=(SafetensorsFile &&) = default;
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  /// Reads |path| entirely and parses it. kNotFound if it does not exist,
  /// kUnavailable on other I/O errors, kDataLoss if malformed. |*out| is only
  /// assigned on success.
  static Status open(const std::string &path, SafetensorsFile *out);
  /// Parses an in-memory file; |sourceName| prefixes error messages.
  static Status parse(std::vector<uint8_t> bytes, std::string sourceName,
                      SafetensorsFile *out);

  /// All tensors, sorted by name (byte-wise), independent of header order.
  const std::vector<SafetensorsTensor> &tensors() const { return tensors_; }
  /// The tensor called |name|, or nullptr.
  const SafetensorsTensor *find(std::string_view name) const;
  /// The "__metadata__" entries (empty if the header has none).
  const std::map<std::string, std::string> &metadata() const { return metadata_; }
  const std::string &sourceName() const { return sourceName_; }

private:
  std::vector<uint8_t> bytes_;
  std::string sourceName_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// Converts F16/BF16/F32 exactly to float. F64 rounds to the nearest float; a
/// finite F64 outside float's range is an error rather than a silent inf.
/// Other dtypes are kInvalidArgument.
Status readFloat32(const SafetensorsTensor &tensor, std::vector<float> *out);
/// Converts any integer dtype exactly to int64 (U64 values above INT64_MAX
/// are an error). Floating-point and BOOL tensors are kInvalidArgument.
Status readInt64(const SafetensorsTensor &tensor, std::vector<int64_t> *out);

/// One tensor for writeSafetensors; |data| holds |nbytes| bytes, row-major
/// little-endian, and nbytes must equal product(shape) * dtypeSize(dtype).
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  size_t nbytes = 0;
};

/// Writes a safetensors file atomically: the bytes go to a uniquely named
/// temporary file next to |path|, which is fsynced and renamed over |path|,
/// then the directory is fsynced. Readers therefore see either the old file
/// or the complete new one, and on any failure the temporary file is removed
/// and an error returned. The layout is the reference writer's, byte for
/// byte: tensors ordered by dtype (widest first, so each is naturally
/// aligned) then by name, and the header space-padded so the data section
/// starts 8-byte aligned. POSIX only.
Status writeSafetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                        const std::map<std::string, std::string> &metadata = {});

} // namespace dlc::rt
