//===- tensor.h - Typed views of runtime buffers --------------------------===//
//
// Kernels see tensors as a pointer, an element type and a shape: the memory
// plan owns the storage, so a view never allocates or frees.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

/// Element types: of tensors, files (safetensors, IDX) and bundle buffers (the
/// bundle schema's DType has the same values). Kernels compute with f32, i32
/// and i64 today; the others are carried, sized and checked.
enum class DType : uint8_t {
  kF32 = 0, kI32 = 1, kI64 = 2, kF16, kBF16, kF64, kI8, kU8, kI16, kU16, kU32, kU64, kBool
};

inline size_t dtypeSize(DType t) {
  switch (t) {
  case DType::kF64: case DType::kI64: case DType::kU64: return 8;
  case DType::kF32: case DType::kI32: case DType::kU32: return 4;
  case DType::kF16: case DType::kBF16: case DType::kI16: case DType::kU16: return 2;
  case DType::kI8: case DType::kU8: case DType::kBool: return 1;
  }
  return 0;
}

inline const char *dtypeName(DType t) {
  switch (t) {
  case DType::kF32: return "f32";
  case DType::kI32: return "i32";
  case DType::kI64: return "i64";
  case DType::kF16: return "f16";
  case DType::kBF16: return "bf16";
  case DType::kF64: return "f64";
  case DType::kI8: return "i8";
  case DType::kU8: return "u8";
  case DType::kI16: return "i16";
  case DType::kU16: return "u16";
  case DType::kU32: return "u32";
  case DType::kU64: return "u64";
  case DType::kBool: return "bool";
  }
  return "?";
}

inline int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// "[2, 28, 28, 1]": how every runtime message spells a shape.
inline std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
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
