//===- gemm.h - Single-precision matrix products for the CPU backend ------===//
//
// Every dense layer, LSTM gate product and im2col-free gradient goes through
// this one entry point, so the BLAS library behind it is a one-file choice.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace dlc::rt::cpu {

/// Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, where op(X)
/// is X or its transpose as |transA| / |transB| say. Multi-threaded.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
           const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
           float *c, int64_t ldc);

} // namespace dlc::rt::cpu
