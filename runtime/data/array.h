//===- array.h - Arrays of examples, in memory or mapped from a file ------===//
//
// Every array-backed source (IDX, NumPy .npy/.npz, CSV, safetensors) hands
// its data to ArrayDataset as HostArrays: an element type, dimensions (the
// first one counts examples) and bytes that are either owned or a view into
// a file mapped read-only (a 10 GB .npy costs no memory until read). The
// bytes are row-major, little-endian, of any DType.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt::data {

struct HostArray {
  DType dtype = DType::kF32;
  std::vector<int64_t> dims;
  const uint8_t *data = nullptr;
  size_t bytes = 0;
  /// Keeps |data| alive: an owned vector or a file mapping.
  std::shared_ptr<const void> owner;

  int64_t numElements() const { return numElements(dims); }
  static int64_t numElements(const std::vector<int64_t> &dims) { return rt::numElements(dims); }
  /// Elements of one example (the product of dims[1:]).
  int64_t exampleElements() const;
  /// Element |i| as a double (exact for every type but 64-bit integers
  /// beyond 2^53); bool as 0 or 1.
  double at(int64_t i) const;

  /// An array owning |bytes|, which must hold exactly dims' elements.
  static HostArray owning(DType dtype, std::vector<int64_t> dims, std::vector<uint8_t> bytes);
};

/// Whether |dtype| holds integers (u8 ... u64, bool): such targets can be
/// class ids.
bool isIntegerDType(DType dtype);

/// Maps |path| read-only; |*data| and |*size| describe the whole file, and
/// |*owner| unmaps it when the last reference goes. An empty file maps to
/// no bytes.
Status mapFile(const std::string &path, const std::string &what, const uint8_t **data,
               size_t *size, std::shared_ptr<const void> *owner);

/// Converts |count| elements of |array| from element |first| on into |out|,
/// which holds |to| elements (f32, i32, or the other float types by way of
/// f32). Integer destinations take integer sources only.
void convertElements(const HostArray &array, int64_t first, int64_t count, DType to, void *out);

/// Whether convertElements can write |to| from |from| without losing what
/// the values mean: any number to a float type, integers to an integer type.
bool convertible(DType from, DType to);

} // namespace dlc::rt::data
