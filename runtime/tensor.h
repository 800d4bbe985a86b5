//===- tensor.h - Typed views of runtime buffers --------------------------===//
//
// Kernels see tensors as a pointer, an element type and a shape: the memory
// plan owns the storage, so a view never allocates or frees.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dlc::rt {

enum class DType : uint8_t { kF32 = 0, kI32 = 1, kI64 = 2 };

inline size_t dtypeSize(DType t) { return t == DType::kI64 ? 8 : 4; }
inline const char *dtypeName(DType t) {
  switch (t) {
  case DType::kF32: return "f32";
  case DType::kI32: return "i32";
  case DType::kI64: return "i64";
  }
  return "?";
}

inline int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

struct TensorView {
  void *data = nullptr;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;

  int64_t numel() const { return numElements(shape); }
  size_t bytes() const { return size_t(numel()) * dtypeSize(dtype); }
  int64_t dim(int i) const { return shape[i < 0 ? shape.size() + i : i]; }
  float *f32() const { return static_cast<float *>(data); }
  int32_t *i32() const { return static_cast<int32_t *>(data); }
  int64_t *i64() const { return static_cast<int64_t *>(data); }
};

} // namespace dlc::rt
