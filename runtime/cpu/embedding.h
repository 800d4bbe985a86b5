//===- embedding.h - Embedding lookup and its gradient --------------------===//
//
// dl.embedding and dl.embedding_grad in float32, as ref::embedding and
// ref::embeddingGrad: rows of a [rows, width] table gathered by integer ids
// (i32 or i64, any shape), and their gradient scatter-added back.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>

namespace dlc::rt::cpu {

/// out[i, :] = table[ids[i], :] for the |count| ids. Ids come from the data
/// set, outside the compiler's checks: an id outside [0, rows) is
/// kInvalidArgument naming the id, its position and the row count (out is
/// then unspecified); so is an |idType| other than i32 / i64.
Status embedding(const void *ids, DType idType, int64_t count, const float *table, int64_t rows,
                 int64_t width, float *out);

/// dtable = 0, then dtable[ids[i], :] += dy[i, :] (repeated ids accumulate).
/// Ids outside [0, rows) are skipped, as in the reference (the forward
/// kernel has rejected them).
Status embeddingGrad(const void *ids, DType idType, int64_t count, const float *dy, int64_t rows,
                     int64_t width, float *dtable);

} // namespace dlc::rt::cpu
