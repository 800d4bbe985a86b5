//===- numerics.cc - Finding the first kernel that made a NaN or infinity -===//
#include "runtime/numerics.h"

#include "runtime/bundle.h"
#include "runtime/float16.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt {

std::vector<uint32_t> floatBuffersWritten(const fb::Program &program, const fb::Kernel &kernel) {
  std::vector<uint32_t> out;
  for (const fb::Op *op : *kernel.ops())
    if (op->outputs())
      for (uint32_t i : *op->outputs()) {
        const fb::Buffer *b = program.buffers()->Get(i);
        DType t = fromFbDType(b->dtype());
        bool isFloat = t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
        if (isFloat && b->kind() != fb::BufferKind::Unstored &&
            std::find(out.begin(), out.end(), i) == out.end())
          out.push_back(i);
      }
  return out;
}

Status checkFinite(const fb::Program &program, const fb::Kernel &kernel, uint32_t index,
                   const void *data) {
  const fb::Buffer *b = program.buffers()->Get(index);
  DType t = fromFbDType(b->dtype());
  std::vector<int64_t> shape(b->shape()->begin(), b->shape()->end());
  int64_t n = numElements(shape);
  if (t == DType::kF32) {
    // The common case, vectorized: an exponent of all ones is NaN or inf.
    const auto *bits = static_cast<const uint32_t *>(data);
    uint32_t any = 0;
    for (int64_t i = 0; i < n; ++i)
      any |= uint32_t((bits[i] & 0x7f800000u) == 0x7f800000u);
    if (!any)
      return okStatus();
  }
  for (int64_t i = 0; i < n; ++i) {
    double v = loadElement(t, data, i);
    if (std::isfinite(v))
      continue;
    std::string where = kernelLocations(kernel);
    return DLC_MAKE_STATUS(
        StatusCode::kDataLoss,
        "--check-numerics: kernel '" + kernel.name()->str() + "'" +
            (where.empty() ? "" : " (" + where + ")") + " of program '" + program.name()->str() +
            "' wrote " + (std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf") + " to '" +
            (b->name() ? b->name()->str() : "buffer " + std::to_string(index)) + "' " +
            dtypeName(t) + shapeString(shape) + " at element " + std::to_string(i) +
            ": the first non-finite value of this run");
  }
  return okStatus();
}

} // namespace dlc::rt
