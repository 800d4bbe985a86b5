//===- array.cc - Arrays of examples, in memory or mapped from a file -----===//
#include "runtime/data/array.h"

#include "runtime/file_io.h"
#include "runtime/float16.h"

#include <cerrno>
#include <cstring>

#include <sys/mman.h>
#include <unistd.h>

namespace dlc::rt::data {
namespace {

template <typename T> T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Element |i| of raw bytes of |dtype|, as a double.
double elementAt(DType dtype, const uint8_t *base, int64_t i) {
  const uint8_t *p = base + size_t(i) * dtypeSize(dtype);
  switch (dtype) {
  case DType::kF32: return load<float>(p);
  case DType::kF64: return load<double>(p);
  case DType::kF16: return fromF16Bits(load<uint16_t>(p));
  case DType::kBF16: return fromBF16Bits(load<uint16_t>(p));
  case DType::kI8: return load<int8_t>(p);
  case DType::kU8: return *p;
  case DType::kBool: return *p != 0;
  case DType::kI16: return load<int16_t>(p);
  case DType::kU16: return load<uint16_t>(p);
  case DType::kI32: return load<int32_t>(p);
  case DType::kU32: return load<uint32_t>(p);
  case DType::kI64: return double(load<int64_t>(p));
  case DType::kU64: return double(load<uint64_t>(p));
  }
  return 0;
}

/// The common conversions without a double per element: the ones that run
/// on every training batch (u8 images and f32 arrays to f32).
template <typename From> void toFloat(const uint8_t *src, int64_t count, float *dst) {
  for (int64_t i = 0; i < count; ++i)
    dst[i] = float(load<From>(src + size_t(i) * sizeof(From)));
}

} // namespace

int64_t HostArray::exampleElements() const {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i)
    n *= dims[i];
  return n;
}

double HostArray::at(int64_t i) const { return elementAt(dtype, data, i); }

HostArray HostArray::owning(DType dtype, std::vector<int64_t> dims, std::vector<uint8_t> bytes) {
  auto storage = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  HostArray array;
  array.dtype = dtype;
  array.dims = std::move(dims);
  array.data = storage->data();
  array.bytes = storage->size();
  array.owner = std::move(storage);
  return array;
}

bool isIntegerDType(DType dtype) { return !isFloatDType(dtype); }

bool convertible(DType from, DType to) {
  if (from == to || isFloatDType(to))
    return true;
  return (to == DType::kI32 || to == DType::kI64) && isIntegerDType(from);
}

Status mapFile(const std::string &path, const std::string &what, const uint8_t **data,
               size_t *size, std::shared_ptr<const void> *owner) {
  int fd = -1;
  uint64_t bytes = 0;
  // Mapping costs no memory up front, so the only bound is the address space.
  DLC_RETURN_IF_ERROR(openRegularFile(path, what, uint64_t(1) << 46, &fd, &bytes), "");
  *size = size_t(bytes);
  if (bytes == 0) {
    ::close(fd);
    *data = nullptr;
    owner->reset();
    return okStatus();
  }
  void *mapped = ::mmap(nullptr, size_t(bytes), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           path + ": cannot map " + what + " into memory: " + std::strerror(errno));
  *data = static_cast<const uint8_t *>(mapped);
  *owner = std::shared_ptr<const void>(mapped, [bytes](const void *p) {
    ::munmap(const_cast<void *>(p), size_t(bytes));
  });
  return okStatus();
}

void convertElements(const HostArray &array, int64_t first, int64_t count, DType to, void *out) {
  const uint8_t *src = array.data + size_t(first) * dtypeSize(array.dtype);
  if (array.dtype == to) {
    std::memcpy(out, src, size_t(count) * dtypeSize(to));
    return;
  }
  if (to == DType::kF32) {
    float *dst = static_cast<float *>(out);
    switch (array.dtype) {
    case DType::kU8: return toFloat<uint8_t>(src, count, dst);
    case DType::kF64: return toFloat<double>(src, count, dst);
    case DType::kI32: return toFloat<int32_t>(src, count, dst);
    case DType::kI64: return toFloat<int64_t>(src, count, dst);
    default: break;
    }
  }
  for (int64_t i = 0; i < count; ++i)
    storeElement(to, out, i, elementAt(array.dtype, src, i));
}

} // namespace dlc::rt::data
