//===- embedding.cc - Embedding lookup and its gradient -------------------===//
//
// The gradient parallelises over table rows, not ids: each thread owns a
// range of rows and scans every id, so repeated ids never race and the sum
// for a row is always taken in id order (deterministic).
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/embedding.h"

#include "runtime/cpu/elementwise.h"

#include <cstring>
#include <string>

namespace dlc::rt::cpu {

namespace {
Status checkIdType(DType idType) {
  if (idType == DType::kI32 || idType == DType::kI64)
    return okStatus();
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         std::string("embedding ids must be i32 or i64, got ") + dtypeName(idType));
}

template <typename Id>
Status gather(const Id *ids, int64_t count, const float *table, int64_t rows, int64_t width,
              float *out) {
  // Validated up front so that the copy loop below can run in parallel.
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || int64_t(ids[i]) >= rows)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "embedding id " + std::to_string(int64_t(ids[i])) + " at position " +
                                 std::to_string(i) + " is outside [0, " + std::to_string(rows) +
                                 ")");
  int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, width));
  parallelBlocks(count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      std::memcpy(out + i * width, table + int64_t(ids[i]) * width, size_t(width) * sizeof(float));
  });
  return okStatus();
}

template <typename Id>
void scatterAdd(const Id *ids, int64_t count, const float *dy, int64_t rows, int64_t width,
                float *dtable) {
  zeros(dtable, size_t(rows * width) * sizeof(float));
  // Each thread scans all ids, so split only when the adds outweigh that.
  int64_t grain = count * width >= 2 * kElementwiseGrain ? 1 : rows;
  parallelBlocks(rows, grain, [&](int64_t first, int64_t last) {
    for (int64_t i = 0; i < count; ++i) {
      int64_t id = int64_t(ids[i]);
      if (id < first || id >= last)
        continue;
      float *row = dtable + id * width;
      const float *src = dy + i * width;
      for (int64_t k = 0; k < width; ++k)
        row[k] += src[k];
    }
  });
}
} // namespace

Status embedding(const void *ids, DType idType, int64_t count, const float *table, int64_t rows,
                 int64_t width, float *out) {
  if (Status s = checkIdType(idType); !s.ok())
    return s;
  if (idType == DType::kI32)
    return gather(static_cast<const int32_t *>(ids), count, table, rows, width, out);
  return gather(static_cast<const int64_t *>(ids), count, table, rows, width, out);
}

Status embeddingGrad(const void *ids, DType idType, int64_t count, const float *dy, int64_t rows,
                     int64_t width, float *dtable) {
  if (Status s = checkIdType(idType); !s.ok())
    return s;
  if (idType == DType::kI32)
    scatterAdd(static_cast<const int32_t *>(ids), count, dy, rows, width, dtable);
  else
    scatterAdd(static_cast<const int64_t *>(ids), count, dy, rows, width, dtable);
  return okStatus();
}

} // namespace dlc::rt::cpu
